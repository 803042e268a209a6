"""Start the vpython tool inside a Bazel action on a bare interpreter (see tool.bzl).

Run by the tool launcher as `<interpreter> -B -E -s -S tool_bootstrap.py --who LABEL
--manifest M --sources DIR --scratch DIR -- <vpython arguments>`. Standard library only,
and Python 2 syntax too, so that any interpreter reaches the version check.

1. The interpreter must be CPython 3.9+ (else: exit 2 naming the toolchain and the fix).
2. manifest.json (from the `vpython_tool_deps` repository of the exec platform) lists, per
   Python X.Y, the wheels of vpython's tool lock that this Python installs (--python: the
   X.Y the toolchain chose them for, when it probed the interpreter). They are action
   inputs, sha256-checked by Bazel's downloader; each is unpacked into --scratch/site/
   (its `.data/purelib` and `platlib` too), as an installer would lay it out.
3. A throwaway venv in --scratch: `bin/<python>` links to the base interpreter, and its
   site-packages holds one .pth naming the vpython sources and those wheels. Nothing else
   is importable: not the host's site-packages (the venv excludes them), not the user's.
   vpython starts subprocesses with `sys.executable` (pex builds), which is that venv's
   Python, so they get the same import path.
4. With uv's wheel present (runfiles of `bazel run` lock targets only), its binary is
   unpacked too and exported as VPYTHON_UV_BIN.
5. exec `<venv python> -I -B -m vpython <arguments>`.
"""

# ruff: noqa: UP031  (%-formatting on purpose: it must parse on Python 2 to say "too old")

import json
import os
import sys
import zipfile

MIN_VERSION = (3, 9)
FIX_INTERPRETER = (
    "point the toolchain at CPython 3.9 or newer (nothing needs to be installed in it): "
    'vpython_register_toolchains(python_interpreter = "/usr/bin/python3.11"), an '
    "exec_interpreters label, or export VPYTHON_BAZEL_PYTHON"
)


def die(who, problem, fix):
    sys.stderr.write("vpython tool %s: %s\nFix: %s\n" % (who, problem, fix))
    sys.exit(2)


def parse(argv):
    opts = {}
    i = 0
    while i < len(argv) and argv[i] != "--":
        opts[argv[i].lstrip("-")] = argv[i + 1]
        i += 2
    return opts, argv[i + 1 :]


def base_interpreter():
    """The real interpreter binary (through a venv and symlinks: the runfiles tree,
    an input symlink in the sandbox, /usr/bin/python3 -> python3.11)."""
    for candidate in (getattr(sys, "_base_executable", None), sys.executable):
        if candidate and os.path.isfile(os.path.realpath(candidate)):
            return os.path.realpath(candidate)
    return sys.executable


def unpack(wheel, dest):
    """Unpack a wheel (keeping executable bits); returns its import-path directories."""
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            if name.startswith("/") or ".." in name.split("/") or "\\" in name:
                raise SystemExit("vpython tool: %s has an unsafe entry %r" % (wheel, name))
            zf.extract(info, dest)
            if (info.external_attr >> 16) & 0o111 and not name.endswith("/"):
                os.chmod(os.path.join(dest, name), 0o755)
    paths = [dest]
    for entry in sorted(os.listdir(dest)):
        if entry.endswith(".data"):
            for scheme in ("purelib", "platlib"):
                if os.path.isdir(os.path.join(dest, entry, scheme)):
                    paths.append(os.path.join(dest, entry, scheme))
    return paths


def uv_binary(directory):
    for entry in sorted(os.listdir(directory)):
        for name in ("uv", "uv.exe"):
            path = os.path.join(directory, entry, "scripts", name)
            if entry.endswith(".data") and os.path.isfile(path):
                return path
    return None


def make_venv(scratch, base, entries):
    root = os.path.join(scratch, "python")
    bindir = os.path.join(root, "bin")
    site = os.path.join(root, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
    os.makedirs(bindir)
    os.makedirs(site)
    # The base's own file name: CPython looks for `<home>/<name>` to find its prefix.
    exe = os.path.join(bindir, os.path.basename(base))
    os.symlink(base, exe)
    with open(os.path.join(root, "pyvenv.cfg"), "w") as f:
        f.write(
            "home = %s\ninclude-system-site-packages = false\nversion = %d.%d.%d\n"
            % ((os.path.dirname(base),) + tuple(sys.version_info[:3]))
        )
    with open(os.path.join(site, "vpython_tool.pth"), "w") as f:
        f.write("".join(entry + "\n" for entry in entries))
    return exe


def main(argv):
    opts, args = parse(argv)
    who = opts.get("who", "?")
    version = "%d.%d" % sys.version_info[:2]
    if sys.version_info[:2] < MIN_VERSION:
        die(
            who,
            "its interpreter %s is Python %s; vpython needs 3.9 or newer" % (sys.executable, version),
            FIX_INTERPRETER,
        )
    implementation = sys.implementation.name
    if implementation != "cpython":
        die(
            who,
            "its interpreter %s is %s; vpython's tool lock has wheels for CPython"
            % (sys.executable, implementation),
            FIX_INTERPRETER,
        )
    expected = opts.get("python", "")
    if expected and expected != version:
        die(
            who,
            "its interpreter %s is Python %s, but the toolchain was set up for Python %s "
            "(the tool's wheels are chosen when the toolchains repository is fetched)"
            % (sys.executable, version, expected),
            "re-fetch it: `bazel sync --only=vpython_toolchains` (or `bazel clean --expunge`)",
        )
    manifest_path = opts["manifest"]
    if not os.path.isfile(manifest_path):
        die(
            who,
            "cannot find its dependencies (%s): it runs only as a declared tool of vpython's rules"
            % manifest_path,
            "run it through py_vpython_binary/py_vpython_test/vpython_lock targets",
        )
    with open(manifest_path) as f:
        manifest = json.load(f)
    entries = manifest["pythons"].get(version)
    if entries is None:
        die(
            who,
            "its interpreter %s is Python %s, which vpython's tool lock does not cover on %s (it has %s)"
            % (sys.executable, version, manifest["platform"], ", ".join(sorted(manifest["pythons"]))),
            "use one of those versions, or add %s to PYTHONS in tools/bazel/lock_tool.py and run "
            "`python3 tools/bazel/lock_tool.py` in the vpython checkout" % version,
        )
    deps_root = os.path.dirname(manifest_path)
    site = os.path.join(opts["scratch"], "site")
    paths = [opts["sources"]]
    for entry in entries:
        wheel = os.path.join(deps_root, entry)
        if not os.path.isfile(wheel):
            die(
                who,
                "its dependency %s is not among the action's inputs" % wheel,
                "re-fetch the toolchains: `bazel sync --only=vpython_toolchains`",
            )
        paths += unpack(wheel, os.path.join(site, os.path.basename(wheel)[: -len(".whl")]))
    uv = manifest.get("uv", {}).get(version)
    # uv's wheel is a runfile of `vpython_lock` targets only (build actions never resolve).
    if uv and not os.environ.get("VPYTHON_UV_BIN") and os.path.isfile(os.path.join(deps_root, uv)):
        found = uv_binary(unpack(os.path.join(deps_root, uv), os.path.join(opts["scratch"], "uv"))[0])
        if found:
            os.environ["VPYTHON_UV_BIN"] = found
    exe = make_venv(opts["scratch"], base_interpreter(), paths)
    os.execv(exe, [exe, "-I", "-B", "-m", "vpython"] + args)


if __name__ == "__main__":
    main(sys.argv[1:])
