#!/bin/sh
# Reached only if the home could be copied (it cannot: it is too large).
exit 0
