#!/bin/sh
exec python3 -I /opt/assay/check/check.py /home/agent/fileserver/server.conf
