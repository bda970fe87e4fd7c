#!/bin/sh
eval "echo Hello $1"
