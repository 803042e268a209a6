#!/usr/bin/env bash
# The vpython tool as Bazel actions run it; generated for %TARGET%.
# Runs `vpython` from the checkout's sources in the runfiles, with the tool's own
# dependencies from vpython's tool lock (exec platform %PLATFORM%), on:
#   interpreter: %INTERPRETER%
#   identity:    %FINGERPRINT%
# (This file is an input of every `vpython build` action, so the interpreter and its
# identity above are part of their cache keys; the wheels and sources are inputs too.)
set -euo pipefail

%RUNFILES_FUNCTION%

if ! R="$(vpython_runfiles "$0")"; then
  echo "vpython tool %TARGET%: cannot find the runfiles tree of $0" >&2
  exit 2
fi
PY=%PYTHON%
# The tool's dependencies: runfiles of targets that call the tool (bazel run/test), direct
# inputs of build actions, whose working directory is the execution root.
MANIFEST="$R/"%MANIFEST%
if [[ ! -f "$MANIFEST" && -f %MANIFEST_EXEC_PATH% ]]; then
  MANIFEST="$PWD/"%MANIFEST_EXEC_PATH%
fi

# Nothing of the caller's Python set-up: the bootstrap builds the import path itself.
for name in $(compgen -e); do
  case "$name" in
    PYTHONHASHSEED | PYTHONUTF8 | PYTHONDONTWRITEBYTECODE | PYTHONIOENCODING) ;;
    PYTHON*) unset "$name" ;;
  esac
done

# A throwaway directory per run, removed on exit: the bootstrap's venv, and for a build
# action also $HOME, the XDG directories and the vpython cache root, so a build reads
# nothing but its declared inputs (no user cache, config or .netrc) and leaves nothing
# behind outside its outputs. (`bazel run //:lock` keeps the user's: it talks to the index.)
scratch="$(mktemp -d "${TMPDIR:-/tmp}/vpython-tool.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
if [[ "${1:-}" == "build" ]]; then
  export HOME="$scratch/home"
  export XDG_CACHE_HOME="$HOME/.cache" XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share"
  mkdir -p "$HOME"
  if [[ -z "${VPYTHON_VIRTUALENV_ROOT:-}" ]]; then
    export VPYTHON_VIRTUALENV_ROOT="$scratch/root"
  fi
fi
# -E -s -S: the bootstrap imports only the standard library (and runs on any Python, so
# that a too old one gets a message instead of a syntax error).
"$PY" -B -E -s -S "$R/"%BOOTSTRAP% \
  --who '%TARGET%' \
  --manifest "$MANIFEST" \
  --python %PYTHON_VERSION% \
  --sources "$R/"%SRCS_ROOT% \
  --scratch "$scratch" \
  -- "$@"
