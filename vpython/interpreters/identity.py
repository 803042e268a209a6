"""Who an interpreter binary is: the keys caches and env pointers use to notice a
rebuilt or replaced Python.

Stdlib only and cheap: ``env/fastpath`` (the warm path) checks ``interpreter_id`` on
every run. Two keys, for two caches:

* ``probe_identity`` — (real path, size, mtime_ns): what the probe cache is keyed by; the
  real path is part of it because one probe file describes one binary.
* ``interpreter_id`` — ``size:mtime_ns:inode`` of the binary (symlinks followed): what
  an env's pointer records beside the path the user chose, so a ``python3`` replaced in
  place (same path, new inode) gets new envs.
"""

from __future__ import annotations

import os

from vpython.fs import file_identity


def probe_identity(path: str) -> tuple[str, int, int]:
    """(real path, size, mtime_ns) of the binary ``path`` resolves to. Raises OSError."""
    real = os.path.realpath(path)
    st = os.stat(real)
    return (real, st.st_size, st.st_mtime_ns)


def interpreter_id(path: str) -> str:
    """Identity of an interpreter binary: a rebuilt or replaced Python gets new envs.
    Raises OSError if it is gone."""
    return file_identity(path)
