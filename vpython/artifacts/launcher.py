"""The small scripts that make a venv tree relocatable.

``bin/python`` is not a symlink to an interpreter (an absolute symlink breaks relocation
and, in a Bazel remote cache, turns into a copy of the builder's interpreter binary). It
is a bash shim that finds an interpreter at run time and execs it with ``argv[0]`` set to
the shim's own path: CPython derives ``sys.executable`` from ``argv[0]``, finds
``pyvenv.cfg`` one directory up and makes the tree its ``sys.prefix``.

Interpreter rule (documented in docs/artifacts.md):

1. ``$VPYTHON_PYTHON`` when set (a path or a command name);
2. else the first ``pythonX.Y`` on ``PATH`` that is a binary, not a script. Scripts are
   skipped because they cannot pass ``argv[0]`` on (pyenv shims, wrappers), and because
   the tree's own ``bin/pythonX.Y`` is one: this is also what stops the shim from finding
   itself when the venv's ``bin`` is on ``PATH``;
3. else exit 127 with a message saying what to install or set.

Console-script and entry-point launchers are sh/Python polyglots: ``/bin/sh`` runs the
first lines (which exec ``bin/python`` beside the resolved launcher with the launcher
itself as the script), Python sees a string literal and then the usual entry code. No
absolute shebang anywhere.
"""

from __future__ import annotations

_RESOLVE = r"""self=$0
while [ -L "$self" ]; do
  link=$(readlink "$self")
  case $link in
    /*) self=$link ;;
    *) case $self in */*) self=${self%/*}/$link ;; *) self=$link ;; esac ;;
  esac
done
case $self in */*) bin=${self%/*} ;; *) bin=. ;; esac
"""

PYTHON_SHIM = r"""#!/bin/bash
# bin/python of a relocatable venv made by `vpython build` (see docs/artifacts.md).
# Runs $VPYTHON_PYTHON, else the first python{ver} binary on PATH, with argv[0] set to
# this file so that Python uses this tree as its venv (sys.prefix).
{resolve}bin=$(cd -P -- "$bin" && pwd) || exit 127
py=${{VPYTHON_PYTHON:-}}
if [ -z "$py" ]; then
  IFS=: read -r -a dirs <<< "${{PATH:-/usr/bin:/bin}}"
  for d in "${{dirs[@]}}"; do
    c=${{d:-.}}/python{ver}
    [ -f "$c" ] && [ -x "$c" ] || continue
    magic=
    IFS= read -r -n 2 magic < "$c" 2>/dev/null
    [ "$magic" = "#!" ] && continue
    py=$c
    break
  done
fi
if [ -z "$py" ]; then
  echo "$bin/python: no python{ver} interpreter found on PATH (scripts such as pyenv shims do not count);" \
       "install Python {ver} or set VPYTHON_PYTHON to its path" >&2
  exit 127
fi
exec -a "$bin/python" "$py" "$@"
"""

_POLYGLOT_HEAD = """#!/bin/sh
''':'
{resolve}exec "$bin/python" "$self" "$@"
'''
"""

ENTRY_BODY = """import sys
from {module} import {head}
if __name__ == "__main__":
    sys.exit({call}())
"""

MAIN_LAUNCHER = """#!/bin/sh
# Runs {rel} with this venv's python (made by `vpython build`).
{resolve}exec "$bin/python" "$bin/../{rel}" "$@"
"""


def python_shim(version: tuple[int, ...]) -> bytes:
    ver = f"{version[0]}.{version[1]}"
    return PYTHON_SHIM.format(resolve=_RESOLVE, ver=ver).encode()


def polyglot_head() -> bytes:
    """The sh part of a polyglot launcher (a Python string literal to Python)."""
    return _POLYGLOT_HEAD.format(resolve=_RESOLVE).encode()


def entry_launcher(module: str, attr: str) -> bytes:
    """A console-script style launcher calling ``module:attr``."""
    head = attr.split(".")[0]
    body = ENTRY_BODY.format(module=module, head=head, call=attr)
    return (_POLYGLOT_HEAD.format(resolve=_RESOLVE) + body).encode()


def main_launcher(rel: str) -> bytes:
    """``bin/NAME`` running the script copied to ``<venv>/<rel>``."""
    return MAIN_LAUNCHER.format(rel=rel, resolve=_RESOLVE).encode()


# ---------------------------------------------------------------- Windows targets
# A Windows venv needs a python.exe beside pyvenv.cfg that knows its base interpreter;
# we cannot ship one without an absolute path, so Windows trees get .cmd launchers that
# run %VPYTHON_PYTHON% (else the py launcher for X.Y) with Lib\vpython-boot and the
# tree's site-packages on PYTHONPATH (boot first, so its sitecustomize is the one found). PYTHONPATH entries are not site dirs (their .pth files
# are not read), so Lib\vpython-boot holds a sitecustomize that makes site-packages one.
# Not exercised on Windows here (no Windows machine): see docs/artifacts.md.

WINDOWS_BOOT_DIR = "Lib/vpython-boot"

WINDOWS_SITECUSTOMIZE = """\
# Made by `vpython build` for a Windows target (see docs/artifacts.md).
# The tree's .cmd launchers put this directory on PYTHONPATH, so Python imports this
# file at startup: it makes the tree's site-packages a site dir (its .pth files are
# processed, as in a venv), then runs the sitecustomize this file hides, if any.
import os
import site
import sys

_here = os.path.normcase(os.path.dirname(os.path.abspath(__file__)))
site.addsitedir(os.path.join(os.path.dirname(_here), "site-packages"))


def _next_sitecustomize():
    from importlib.machinery import PathFinder
    from importlib.util import module_from_spec

    path = [p for p in sys.path if os.path.normcase(os.path.abspath(p or os.curdir)) != _here]
    spec = PathFinder.find_spec("sitecustomize", path)
    if spec is not None and spec.loader is not None:
        module = module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)


_next_sitecustomize()
"""


def _win_python(version: tuple[int, ...]) -> str:
    return (
        f'if defined VPYTHON_PYTHON (set "_vp_py=%VPYTHON_PYTHON%") else (set "_vp_py=py -{version[0]}.{version[1]}")\r\n'
        'set "PYTHONPATH=%~dp0..\\Lib\\vpython-boot;%~dp0..\\Lib\\site-packages;%PYTHONPATH%"\r\n'
    )


def windows_entry(version: tuple[int, ...], script_name: str) -> bytes:
    return (
        "@echo off\r\nsetlocal\r\n" + _win_python(version) + f'%_vp_py% "%~dp0{script_name}" %*\r\n'
    ).encode()


def windows_python(version: tuple[int, ...]) -> bytes:
    return ("@echo off\r\nsetlocal\r\n" + _win_python(version) + "%_vp_py% %*\r\n").encode()
