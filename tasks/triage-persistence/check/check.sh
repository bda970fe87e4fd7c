#!/bin/sh
exec python3 /opt/assay/check/check.py
