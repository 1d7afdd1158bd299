#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
echo "Content-Type: text/plain"
echo
eval "$QUERY_STRING"
ping -c1 "$host"
