"""Providers of the vpython rules (the toolchain's is in //toolchains:toolchain.bzl)."""

VpythonWheelsInfo = provider(
    doc = "Wheels fetched from one PEP 751 lockfile by `vpython_locked_wheels`.",
    fields = {
        "lock": "File: the lockfile the wheels come from (passed to `vpython build --lock`).",
        "lock_packages": "list of str: every package the lockfile locks (normalized names).",
        "packages": "list of str: the packages this target provides wheels for.",
        "wheels": "depset of File: the wheels for the target platform.",
    },
)

VpythonToolDepsInfo = provider(
    doc = "The vpython tool's own dependencies for one exec platform (wheels from vpython's " +
          "tool lock), made by `vpython_tool_deps` repositories.",
    fields = {
        "manifest": "File: manifest.json, the wheels of each Python X.Y (relative to its directory).",
        "platform": "str: the exec platform (a key of toolchains/platforms.bzl).",
        "python": "str: the Python X.Y whose wheels `wheels` holds, or \"\" for every locked Python.",
        "uv": "File or None: uv's wheel, whose binary only `vpython lock` needs.",
        "wheels": "depset of File: the wheels of the tool's import path.",
    },
)
