#!/bin/sh
echo "Content-Type: text/plain"
echo
# no eval of request data here
uptime
