"""Store entries made by hand, for the unit tests of vpython.store and vpython.env."""

from __future__ import annotations

import os

from vpython.store.manifest import META_DIR, PLACEHOLDER_SHEBANG

ENTRY_FILES = {
    "lib/python3.11/site-packages/pkg/__init__.py": b"x = 1\n",
    "lib/python3.11/site-packages/pkg-1.0.dist-info/RECORD": b"pkg/__init__.py,,\n",
    "bin/tool": PLACEHOLDER_SHEBANG + b"\nimport pkg\n",
    "bin/data.txt": b"not a script\n",
}


def make_entry(root: str | os.PathLike, files: dict[str, bytes] = ENTRY_FILES) -> str:
    """An unpacked entry as vpython.store.packages leaves it before freezing it: a venv
    layout (site-packages, a placeholder-shebang script in bin/) and an empty .vpython/."""
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(root, META_DIR))
    return str(root)
