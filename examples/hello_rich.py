#!/usr/bin/env vpython3
# /// script
# requires-python = ">=3.9"
# dependencies = ["rich>=13"]
# ///
"""A script that carries its own dependency: `vpython examples/hello_rich.py`."""

import sys

from rich.console import Console
from rich.table import Table

table = Table(title="vpython")
table.add_column("interpreter")
table.add_column("env")
table.add_row(sys.version.split()[0], sys.prefix)
Console().print(table)
