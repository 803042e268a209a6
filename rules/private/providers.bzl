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
