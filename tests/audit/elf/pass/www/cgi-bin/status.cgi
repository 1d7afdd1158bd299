#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
echo "Content-Type: text/plain"
echo
# no eval of request data here
uptime
