#!/bin/bash
docker build -t frog .
