#!/bin/bash
echo 'answer[1]: Trithemius'
python3 solve.py /home/agent/output.txt
