"""WORKSPACE API of vpython (Bazel 4.2.3 and later; bzlmod users see extensions.bzl).

    load("@vpython//rules:repositories.bzl", "vpython_locked_wheels", "vpython_register_toolchains")

    vpython_register_toolchains()                       # @vpython_toolchains, registered
    vpython_locked_wheels(name = "pypi", lock = "//:pylock.vpython.toml")
"""

load("//rules/private:tool_deps_repo.bzl", "vpython_tool_deps")
load("//rules/private:toolchains_repo.bzl", "vpython_toolchains_repo")
load("//rules/private:wheels_repo.bzl", _vpython_locked_wheels = "vpython_locked_wheels")
load("//toolchains:platforms.bzl", "PLATFORM_KEYS")

vpython_locked_wheels = _vpython_locked_wheels

def vpython_register_toolchains(
        name = "vpython_toolchains",
        python_version = None,
        python_interpreter = None,
        exec_interpreters = None,
        platform_tags = None,
        register = True):
    """Creates the vpython toolchains repository and registers its toolchains.

    One toolchain per target platform (linux, macos, windows on x86_64 and arm64), all
    running the vpython tool on the host; pick the target with
    `--platforms=@vpython//toolchains:<os>_<cpu>`. The tool's own dependencies are wheels
    from vpython's checked-in tool lock, fetched by Bazel (repositories
    `<name>_deps_<platform>`, fetched only for the exec platforms in use), so the
    interpreter needs nothing installed.

    Args:
      name: repository name.
      python_version: target Python "X.Y" of the artifacts; default: the tool interpreter's.
      python_interpreter: host Python 3.9+ that runs the tool; default: $VPYTHON_BAZEL_PYTHON,
        else python3 on PATH.
      exec_interpreters: interpreters as labels, per exec platform, e.g.
        {"linux_x86_64": "@python_3_11_linux//:bin/python3"}: the host platform's replaces
        python_interpreter (the interpreter is then an action input), the others add
        toolchains for remote execution on those platforms.
      platform_tags: overrides of the PEP 425 platform tag per target platform, e.g.
        {"linux_x86_64": "manylinux_2_28_x86_64"}.
      register: call register_toolchains (set False to register them yourself).
    """
    for key in PLATFORM_KEYS:
        vpython_tool_deps(name = "%s_deps_%s" % (name, key), platform = key)
    vpython_toolchains_repo(
        name = name,
        deps_repo_prefix = name + "_deps_",
        exec_interpreters = exec_interpreters or {},
        python_version = python_version or "",
        python_interpreter = python_interpreter or "",
        platform_tags = platform_tags or {},
    )
    if register:
        native.register_toolchains("@%s//:all" % name)
