"""vpython: run Python scripts in hermetic, cached virtualenvs built from their own specs.

The public surface is the ``vpython`` command. Nothing here is imported on the warm
path except this module, so keep it free of imports.
"""

__version__ = "0.1.0"

# Bumped whenever the on-disk layout of the cache or the env key derivation changes;
# every cache directory and key embeds it, so old and new versions never share entries.
FORMAT_VERSION = "1"
