"""`vpython_locked_wheels`: a repository of the wheels a checked-in pylock.toml pins.

Every wheel is fetched with `repository_ctx.download(url, sha256 = ...)`, so Bazel verifies
it, keeps it in the repository cache (`--repository_cache`; survives `bazel clean --expunge`)
and finds it in `--distdir` directories; nothing is downloaded twice and nothing is
installed here (no pip): installing happens in `vpython build` actions.

TOML: Bazel 4.2.3 has no TOML parser in Starlark. The lockfile is converted to JSON by
the host Python's `tomllib` (`pylock_to_json.py`, run without site-packages) and read with
`json.decode`; a Python older than 3.11 gets the `tomli` wheel pinned by the vpython tool's
own lock, fetched like any wheel, so a bare interpreter is enough.
A Starlark TOML parser would avoid needing a host Python at fetch time, but it would either
accept only the subset vpython writes (pylock.toml files from pip, uv or PDM use other
TOML spellings: inline tables, literal strings, multi-line arrays, dates) or be a few hundred
lines of hand-written parser to maintain; the rules need a host Python anyway (the vpython
tool runs on it), and `tomllib` is the reference implementation of TOML 1.0.
"""

load("//toolchains:platforms.bzl", "PLATFORM_KEYS")
load(":pylock.bzl", "lock_model", "render_build_files")

def _rule_name(rctx):
    return "vpython_locked_wheels(name = %r)" % rctx.attr.name

PYTHON_ENV = "VPYTHON_BAZEL_PYTHON"

def find_python(rctx, explicit, who):
    """The host Python that runs the helper scripts (and, for the toolchains, the vpython tool).

    Order: the rule's `python_interpreter` attribute, then $VPYTHON_BAZEL_PYTHON, then
    python3 (or python) on PATH.

    Args:
      rctx: repository_ctx.
      explicit: the `python_interpreter` attribute, or "".
      who: the rule call, for messages.

    Returns:
      A path object.
    """
    for value, origin in ((explicit, "python_interpreter"), (rctx.os.environ.get(PYTHON_ENV, ""), "$" + PYTHON_ENV)):
        if not value:
            continue
        path = rctx.which(value) if "/" not in value and "\\" not in value else rctx.path(value)
        if not path or not path.exists:
            fail("%s: %s %r does not exist.\nFix: point it at a Python 3 executable, or unset it to use python3 from PATH." % (who, origin, value))
        return path
    for name in ("python3", "python"):
        path = rctx.which(name)
        if path:
            return path
    fail("%s: no python3 or python on PATH.\nFix: install Python 3, set python_interpreter = \"/path/to/python3\", or export %s." % (who, PYTHON_ENV))

def _wheel_url(lock_path, wheel):
    if wheel["url"]:
        return wheel["url"]

    # PEP 751 `path` is relative to the lockfile; file:// still goes through Bazel's
    # downloader, so the sha256 is checked and the repository cache is filled.
    path = wheel["path"]
    if not (path.startswith("/") or (len(path) > 1 and path[1] == ":")):
        path = str(lock_path.dirname) + "/" + path
    path = path.replace("\\", "/")
    return "file://" + ("" if path.startswith("/") else "/") + path

def wheel_stem(filename):
    """The directory a wheel is extracted into: its file name without `.whl`."""
    return filename[:-len(".whl")]

def fetch_wheels(rctx, model, filenames, lock_path, extract_to = None):
    """Fetches wheels of a lock_model() through Bazel's downloader, each by its sha256.

    The one fetcher of the vpython repository rules (the wheels of your lockfile, and the
    vpython tool's own dependencies): `--repository_cache` (keyed by sha256, survives
    `bazel clean --expunge`) and `--distdir` (file name + sha256) serve them offline, and
    a mirror only has to serve the same files.

    Args:
      rctx: repository_ctx.
      model: the first result of lock_model().
      filenames: which of model["wheels"] to fetch, in order.
      lock_path: path of the lockfile (PEP 751 `path` entries are relative to it).
      extract_to: None to keep each wheel as `wheels/<file>`; else a directory under which
        each wheel is unpacked as `<extract_to>/<file without .whl>` (download_and_extract;
        `rctx.extract()` refuses the .whl suffix on Bazel 4.2.3).
    """
    for index, filename in enumerate(filenames):
        wheel = model["wheels"][filename]
        rctx.report_progress("Fetching wheel %d/%d: %s" % (index + 1, len(filenames), filename))
        if extract_to == None:
            rctx.download(
                url = [_wheel_url(lock_path, wheel)],
                output = "wheels/" + filename,
                sha256 = wheel["sha256"],
            )
        else:
            rctx.download_and_extract(
                url = [_wheel_url(lock_path, wheel)],
                output = extract_to + "/" + wheel_stem(filename),
                sha256 = wheel["sha256"],
                type = "zip",
            )

TOOL_LOCK = Label("//toolchains:tool/pylock.vpython.json")

def tool_lock_model(rctx, who):
    """The vpython tool's own lock (toolchains/tool/pylock.vpython.json) and its model.

    Args:
      rctx: repository_ctx.
      who: the rule call, for messages.

    Returns:
      (decoded JSON document, lock_model() model, path of the JSON file).
    """
    path = rctx.path(TOOL_LOCK)
    doc = json.decode(rctx.read(path))
    model, errors = lock_model(doc["lock"], str(TOOL_LOCK))
    if errors:
        fail("%s: the vpython tool lock %s is not usable:\n  %s\nFix: re-create it with `python3 tools/bazel/lock_tool.py` in the vpython checkout." % (
            who,
            TOOL_LOCK,
            "\n  ".join(errors),
        ))
    return doc, model, path

def _read_lock(rctx, python, helper, lock_path):
    """Runs pylock_to_json.py, with the tool lock's tomli on a Python without tomllib.

    On Python 3.9/3.10 it fetches the tomli wheel that the vpython tool lock pins (pure
    Python, sha256-checked like every wheel) and tries again with it, so a bare
    interpreter is enough.
    """
    result = rctx.execute([python, "-B", "-E", "-s", "-S", helper, lock_path], quiet = True)
    if result.return_code != 3:
        return result
    _, model, tool_lock = tool_lock_model(rctx, _rule_name(rctx))
    tomli = [f for f in sorted(model["wheels"].keys()) if model["wheels"][f]["package"] == "tomli"]
    if not tomli:
        return result
    fetch_wheels(rctx, model, tomli[-1:], tool_lock, extract_to = "_toml_reader")
    return rctx.execute([python, "-B", "-E", "-s", "-S", helper, lock_path, rctx.path("_toml_reader/" + wheel_stem(tomli[-1]))], quiet = True)

def _vpython_locked_wheels_impl(rctx):
    who = _rule_name(rctx)
    lock_path = rctx.path(rctx.attr.lock)
    python = find_python(rctx, rctx.attr.python_interpreter, who)
    helper = rctx.path(Label("//rules/private:pylock_to_json.py"))
    result = _read_lock(rctx, python, helper, lock_path)
    if result.return_code != 0:
        fail("%s: cannot read the lockfile %s: %s\nFix: %s" % (
            who,
            rctx.attr.lock,
            result.stderr.strip(),
            "re-create it with `vpython lock`" if result.return_code == 4 else "set python_interpreter to a Python 3.11+ (or one with tomli installed)",
        ))
    model, errors = lock_model(json.decode(result.stdout), str(rctx.attr.lock), rctx.attr.allow_sdist_builds)
    if errors:
        fail("%s: %s is not usable:\n  %s\nFix: re-lock with `vpython lock` (wheels only, each with a sha256), or set allow_sdist_builds = True to fetch the sdists of packages without wheels (and on py_vpython_binary, to build them for the host)." % (
            who,
            rctx.attr.lock,
            "\n  ".join(errors),
        ))

    fetch_wheels(rctx, model, sorted(model["wheels"].keys()), lock_path)

    lock_name = lock_path.basename
    rctx.symlink(lock_path, lock_name)
    labels = {
        "config_settings": dict([
            (key, str(Label("//toolchains:is_" + key)))
            for key in PLATFORM_KEYS
        ]),
        "wheel_set_bzl": str(Label("//rules:defs.bzl")),
    }
    files = render_build_files(model, rctx.attr.name, lock_name, str(rctx.attr.lock), labels)
    for path in sorted(files.keys()):
        rctx.file(path, files[path])
    rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.attr.name)

vpython_locked_wheels = repository_rule(
    implementation = _vpython_locked_wheels_impl,
    doc = """Fetches the wheels a PEP 751 pylock.toml pins (sha256-verified, repository-cached).

Generates `@<name>//:wheels` (every locked package, wheels of the target platform),
`@<name>//<package>` per package, `@<name>//:wheels_<platform>` per platform and
`@<name>//:wheels/<file>.whl` per wheel; use `:wheels` in `py_vpython_binary.deps`.
""",
    attrs = {
        "allow_sdist_builds": attr.bool(
            default = False,
            doc = "Also fetch the `sdist` entries of the lock (packages that some platform has no " +
                  "wheel for), so that `py_vpython_binary(allow_sdist_builds = True)` can build " +
                  "them for the host. Default: a package with only an sdist is an error.",
        ),
        "lock": attr.label(
            allow_single_file = [".toml"],
            mandatory = True,
            doc = "The checked-in pylock.toml (PEP 751), e.g. `//:pylock.vpython.toml`.",
        ),
        "python_interpreter": attr.string(
            doc = "Python used to read the TOML (3.11+, or with tomli). Default: " +
                  "$VPYTHON_BAZEL_PYTHON, else python3 on PATH.",
        ),
    },
    environ = [PYTHON_ENV],
)
