#!/bin/sh
rsync -a ./site/ /var/www/html/
