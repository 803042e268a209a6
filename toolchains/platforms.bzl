"""The target platforms vpython supports, in one table, and their `//toolchains` targets.

Each entry names the `@platforms` constraints that select it and the default PEP 425
platform tag `vpython build --platform` receives for it (the same defaults as
`vpython lock`). Keys are also the names of the `platform()` and `config_setting()`
targets in `//toolchains` (`:<key>`, `:is_<key>`).
"""

PLATFORMS = {
    "linux_arm64": {"cpu": "aarch64", "os": "linux", "tag": "manylinux_2_28_aarch64"},
    "linux_x86_64": {"cpu": "x86_64", "os": "linux", "tag": "manylinux_2_28_x86_64"},
    "macos_arm64": {"cpu": "aarch64", "os": "macos", "tag": "macosx_11_0_arm64"},
    "macos_x86_64": {"cpu": "x86_64", "os": "macos", "tag": "macosx_11_0_x86_64"},
    "windows_arm64": {"cpu": "aarch64", "os": "windows", "tag": "win_arm64"},
    "windows_x86_64": {"cpu": "x86_64", "os": "windows", "tag": "win_amd64"},
}

PLATFORM_KEYS = sorted(PLATFORMS.keys())

# `uname -m` / `rctx.os.name` spellings -> the `cpu` / `os` values above.
HOST_CPUS = {
    "aarch64": "aarch64",
    "amd64": "x86_64",
    "arm64": "aarch64",
    "x86_64": "x86_64",
}

def host_os(os_name):
    """Maps `repository_ctx.os.name` ("linux", "mac os x", "windows 10") to an `os` value.

    Args:
      os_name: the value of `repository_ctx.os.name`.

    Returns:
      "linux", "macos", "windows", or None for anything else.
    """
    name = os_name.lower()
    if name.startswith("linux"):
        return "linux"
    if name.startswith("mac"):
        return "macos"
    if name.startswith("windows"):
        return "windows"
    return None

def platform_key(os, cpu):
    """The PLATFORMS key for an (os, cpu) pair, or None when vpython has no such platform.

    Args:
      os: "linux", "macos" or "windows".
      cpu: "x86_64" or "aarch64".

    Returns:
      A key of PLATFORMS, or None.
    """
    for key in PLATFORM_KEYS:
        p = PLATFORMS[key]
        if p["os"] == os and p["cpu"] == cpu:
            return key
    return None

def vpython_platforms(name = None):
    """One `platform(<key>)` and one `config_setting(is_<key>)` per vpython target platform.

    Args:
      name: unused (macros must accept it); the targets are named after PLATFORMS keys.
    """
    for key in PLATFORM_KEYS:
        constraints = [
            "@platforms//os:" + PLATFORMS[key]["os"],
            "@platforms//cpu:" + PLATFORMS[key]["cpu"],
        ]
        native.platform(
            name = key,
            constraint_values = constraints,
            visibility = ["//visibility:public"],
        )
        native.config_setting(
            name = "is_" + key,
            constraint_values = constraints,
            visibility = ["//visibility:public"],
        )
