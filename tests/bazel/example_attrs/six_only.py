# /// script
# requires-python = ">=3.11"
# dependencies = ["six==1.17.0"]
#
# [tool.vpython]
# python-version = "3.12"
# platforms = ["manylinux_2_28_x86_64", "manylinux_2_28_aarch64"]
# ///
"""A target with its own lockfile (`lock =`), one package of @pypi (`deps = ["@pypi//six"]`)
and its own Python (`python_version = "3.12"`)."""

import sys

import six

print("six_only: six", six.__version__, "| python %d.%d" % sys.version_info[:2], "| venv:", sys.prefix != sys.base_prefix)
