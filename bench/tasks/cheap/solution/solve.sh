#!/bin/bash
echo flag{bench}
