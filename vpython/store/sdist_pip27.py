"""The build machinery for Python 2.7: pip 20.3.4 from vpython's tool dir, PEP 517, isolated.

uv cannot drive Python 2.7 (it needs ``-I``). pip 20.3.4, the last pip for 2.7, builds
sdists in an isolated PEP 517 build env when run *from a directory* (from its wheel it
cannot start the hook runner inside the zip): ``python2.7 -E -s <tool>/pip wheel
--no-deps --use-pep517``. ``--use-pep517`` matters: without it pip 20 builds a legacy
``setup.py`` sdist with the interpreter's own setuptools, not isolated. The build env's
requirements are resolved by pip for 2.7 (setuptools 44.1.1 and wheel 0.37.1 for a
``setup.py`` sdist: the last releases for 2.7). Measured on real 2.7 pins (psutil 5.7.2,
crcmod 1.7, MarkupSafe 1.1.1, future 0.18.2): 3.7-7.4 s each.

The child's environment is ``sdist_uv.build_environment``'s (HOME, caches and temp dirs
inside the work dir, no user ``PIP_*``/``PYTHON*`` variables, ``PIP_CONFIG_FILE=/dev/null``);
the run's sources go in ``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL`` / ``PIP_FIND_LINKS`` /
``PIP_NO_INDEX``, never argv. pip has no upload-time filter: an ``exclude-newer`` cutoff
does not apply to the build requirements of a 2.7 build (said in the build log).
"""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vpython.settings.sources import Sources

TOOL = "pip wheel (pip 20.3.4, Python 2.7)"
PIP_TOOL = "pip-py27"  # the vpython.store.tools entry


def source_environment(sources: Sources) -> dict[str, str]:
    """The ``PIP_*`` variables that give pip the run's index, extra indexes and find-links
    (offline: find-links directories only)."""
    env: dict[str, str] = {}
    links = [
        link
        for link in sources.find_links
        if not (sources.offline and "://" in link and not link.startswith("file:"))
    ]
    if sources.index_url and not sources.offline:
        env["PIP_INDEX_URL"] = sources.index_url
        if sources.extra_index_urls:
            env["PIP_EXTRA_INDEX_URL"] = " ".join(sources.extra_index_urls)
    else:
        env["PIP_NO_INDEX"] = "1"
    if links:
        env["PIP_FIND_LINKS"] = " ".join(links)
    return env


def run_build(
    pip_dir: str, sdist_path: str, python: str, sources: Sources, work: str, out_dir: str, log_path: str
) -> int:
    """Build ``sdist_path`` into one wheel in ``out_dir`` with ``python`` (a 2.7) and the
    pip unpacked at ``pip_dir``; output to ``log_path``. Returns the exit status (127: the
    interpreter did not start)."""
    from vpython.store.sdist_uv import build_environment

    env = build_environment(work)
    env.update(source_environment(sources), PIP_NO_INPUT="1", PIP_NO_CACHE_DIR="1")
    cmd = [
        python,
        "-E",
        "-s",
        os.path.join(pip_dir, "pip"),
        "wheel",
        "--no-deps",
        "--use-pep517",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--wheel-dir",
        out_dir,
        sdist_path,
    ]
    with open(log_path, "ab") as log:
        log.write(("$ " + " ".join(cmd) + "\n").encode())  # argv has no credentials (see above)
        if sources.exclude_newer:
            log.write(f"note: pip 20.3.4 cannot apply exclude-newer {sources.exclude_newer}\n".encode())
        log.flush()
        try:
            proc = subprocess.run(cmd, env=env, cwd=work, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        except OSError as e:
            log.write(f"cannot run {python}: {e.strerror or e}\n".encode())
            return 127
    return proc.returncode
