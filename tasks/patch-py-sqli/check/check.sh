#!/bin/sh
# Hidden check for patch-py-sqli: run the agent's app as nobody and test it.
exec python3 -I /opt/assay/check/check.py /home/agent/notes/app.py
