#!/bin/sh
# Builds the shift-log service exactly as the server does at start-up.
gcc -O1 -fpie -pie -fstack-protector-strong -Wl,-z,relro,-z,now -o notes notes.c
