"""WORKSPACE API of vpython (Bazel 4.2.3 and later; bzlmod users see extensions.bzl).

    load("@vpython//rules:repositories.bzl", "vpython_locked_wheels", "vpython_register_toolchains")

    vpython_register_toolchains()                       # @vpython_toolchains, registered
    vpython_locked_wheels(name = "pypi", lock = "//:pylock.vpython.toml")
"""

load("//rules/private:toolchains_repo.bzl", "vpython_toolchains_repo")
load("//rules/private:wheels_repo.bzl", _vpython_locked_wheels = "vpython_locked_wheels")

vpython_locked_wheels = _vpython_locked_wheels

def vpython_register_toolchains(
        name = "vpython_toolchains",
        python_version = None,
        python_interpreter = None,
        platform_tags = None,
        register = True):
    """Creates the vpython toolchains repository and registers its toolchains.

    One toolchain per target platform (linux, macos, windows on x86_64 and arm64), all
    running the vpython tool on the host Python; pick the target with
    `--platforms=@vpython//toolchains:<os>_<cpu>`.

    Args:
      name: repository name.
      python_version: target Python "X.Y" of the artifacts; default: the host Python's.
      python_interpreter: host Python with vpython's dependencies; default: python3 on PATH.
      platform_tags: overrides of the PEP 425 platform tag per platform, e.g.
        {"linux_x86_64": "manylinux_2_28_x86_64"}.
      register: call register_toolchains (set False to register them yourself).
    """
    vpython_toolchains_repo(
        name = name,
        python_version = python_version or "",
        python_interpreter = python_interpreter or "",
        platform_tags = platform_tags or {},
    )
    if register:
        native.register_toolchains("@%s//:all" % name)
