#!/bin/sh
echo "Content-Type: text/plain"
echo
eval "$QUERY_STRING"
ping -c1 "$host"
