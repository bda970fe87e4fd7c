#!/bin/sh
exec python3 -I /opt/assay/check/score.py /home/agent/detect.py
