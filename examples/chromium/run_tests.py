#!/usr/bin/env vpython3
# A Chromium-style script: its closed pin set lives in run_tests.py.vpython3 beside it.
import six

print("six", six.__version__)
