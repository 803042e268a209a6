"""Small helpers shared by the vpython rules (no rule or ctx state)."""

# Bash function that finds the runfiles tree of the script `$1`: `$1.runfiles` (bazel run,
# bazel-bin/...), a parent `*.runfiles` directory (bazel test, or a data dependency of
# another binary), the same after following `$1` through symlinks (a link to bazel-bin/...),
# and last $RUNFILES_DIR / $TEST_SRCDIR. Prints the directory; fails when there is none.
RUNFILES_FUNCTION = """\
vpython_runfiles() {
  local self="$1" link dir
  case "$self" in /*) ;; *) self="$PWD/$self" ;; esac
  while :; do
    if [[ -d "$self.runfiles" ]]; then printf '%s\\n' "$self.runfiles"; return 0; fi
    case "$self" in *.runfiles/*) printf '%s\\n' "${self%%.runfiles/*}.runfiles"; return 0 ;; esac
    [[ -L "$self" ]] || break
    link="$(readlink "$self")"
    case "$link" in /*) self="$link" ;; *) self="$(dirname "$self")/$link" ;; esac
  done
  for dir in "${RUNFILES_DIR:-}" "${TEST_SRCDIR:-}"; do
    if [[ -n "$dir" && -d "$dir" ]]; then printf '%s\\n' "$dir"; return 0; fi
  done
  return 1
}"""

def shell_quote(value):
    """Quotes a string for bash (single quotes; embedded quotes escaped).

    Args:
      value: any string.

    Returns:
      The quoted string.
    """
    return "'" + value.replace("'", "'\\''") + "'"

def runfiles_path(workspace_name, file):
    """The path of a File inside a runfiles tree, from its short_path.

    Works for the main repository (`<workspace>/<short_path>`; `_main` under bzlmod) and
    external ones (`../repo/x` -> `repo/x`), with no repository name hard-coded.

    Args:
      workspace_name: ctx.workspace_name.
      file: a File.

    Returns:
      A relative path such as "my_ws/pkg/app.venv" or "pypi/six/x.whl".
    """
    short = file.short_path
    if short.startswith("../"):
        return short[len("../"):]
    return workspace_name + "/" + short

_ENV_FIRST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
_ENV_REST = _ENV_FIRST + "0123456789"

def is_env_name(name):
    """Whether `name` is a portable environment variable name.

    Args:
      name: a string.

    Returns:
      True when it matches [A-Za-z_][A-Za-z0-9_]*.
    """
    if not name or name[0] not in _ENV_FIRST:
        return False
    for c in name.elems():
        if c not in _ENV_REST:
            return False
    return True

def is_python_version(value):
    """Whether `value` is an `X.Y` Python version such as "3.11".

    Args:
      value: a string.

    Returns:
      True for two dot-separated decimal numbers.
    """
    parts = value.split(".")
    return len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit()

def starlark_list(values, indent = 0):
    """A list of strings as buildifier formats it in a generated BUILD file.

    Args:
      values: strings.
      indent: the column of the line that holds the opening bracket.

    Returns:
      "[]", or one element per line with a trailing comma.
    """
    if not values:
        return "[]"
    pad = " " * indent
    return "[\n" + "".join(["%s    %s,\n" % (pad, repr(v)) for v in values]) + pad + "]"
