#!/bin/bash
echo 'answer[1]: Trithemius'
echo 'answer[2]: ord'
python3 solve.py /home/agent/output.txt
