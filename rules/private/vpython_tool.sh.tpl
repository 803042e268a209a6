#!/usr/bin/env bash
# The vpython tool as Bazel actions run it; generated for %TARGET%.
# Runs `vpython` from the checkout's sources in the runfiles with:
#   interpreter: %INTERPRETER%
#   fingerprint: %FINGERPRINT%
# (This file is an input of every `vpython build` action, so the interpreter and the
# fingerprint above are part of their cache keys.)
set -euo pipefail

%RUNFILES_FUNCTION%

if ! R="$(vpython_runfiles "$0")"; then
  echo "vpython tool %TARGET%: cannot find the runfiles tree of $0" >&2
  exit 2
fi
%PROBLEM%
PY=%PYTHON%
if [[ "${1:-}" == "build" && -z "${VPYTHON_VIRTUALENV_ROOT:-}" ]]; then
  # A build action gets a private, throwaway vpython cache root: it reads nothing but its
  # declared inputs (no store shared between actions or with the user) and leaves nothing
  # behind outside its outputs.
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/vpython-bazel.XXXXXX")"
  trap 'rm -rf "$scratch"' EXIT
  export VPYTHON_VIRTUALENV_ROOT="$scratch/root"
  "$PY" -B -E "$R/"%BOOTSTRAP% "$R/"%SRCS_ROOT% "$@"
  exit $?
fi
exec "$PY" -B -E "$R/"%BOOTSTRAP% "$R/"%SRCS_ROOT% "$@"
