#!/bin/sh
echo "coverage tools are unavailable in the offline Bazel setup (tools/bazel/offline)" >&2
exit 1
