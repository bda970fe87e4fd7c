#!/bin/sh
exec python3 /opt/assay/check/check.py /home/agent/kvd/kvd.c
