#!/bin/sh
exec python3 /opt/assay/check/score.py /home/agent/detect.py
