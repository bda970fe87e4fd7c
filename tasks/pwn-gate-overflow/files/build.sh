#!/bin/sh
# Builds the gate controller exactly as the dock server does at start-up.
gcc -O0 -fno-stack-protector -no-pie -o gate gate.c
