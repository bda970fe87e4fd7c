#!/bin/sh
# The oracle knows the answer (the test's, not a real task's secret).
echo the-check-secret-4e1f > /home/agent/answer.txt
