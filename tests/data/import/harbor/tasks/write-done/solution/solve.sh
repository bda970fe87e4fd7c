#!/bin/bash
echo ok > /home/agent/done.txt
echo done
