"""bzlmod module extension of vpython (current Bazel; Bazel 4 never loads this file).

    vpython = use_extension("@vpython//rules:extensions.bzl", "vpython")
    vpython.wheels(name = "pypi", lock = "//:pylock.vpython.toml")
    use_repo(vpython, "pypi")

The toolchains (`@vpython_toolchains`) are created and registered by vpython's own
MODULE.bazel; a root module may override them with `vpython.toolchain(...)`.
It wraps the same repository rules as the WORKSPACE macros in repositories.bzl.
"""

load("//rules/private:tool_deps_repo.bzl", "vpython_tool_deps")
load("//rules/private:toolchains_repo.bzl", "vpython_toolchains_repo")
load("//rules/private:wheels_repo.bzl", "vpython_locked_wheels")
load("//toolchains:platforms.bzl", "PLATFORM_KEYS")

_toolchain = tag_class(
    doc = "Settings of the toolchains repository (the root module's tag wins).",
    attrs = {
        "exec_interpreters": attr.string_dict(),
        "name": attr.string(default = "vpython_toolchains"),
        "platform_tags": attr.string_dict(),
        "python_interpreter": attr.string(),
        "python_version": attr.string(),
    },
)

_wheels = tag_class(
    doc = "A repository of the wheels a pylock.toml pins (see vpython_locked_wheels).",
    attrs = {
        "allow_sdist_builds": attr.bool(default = False),
        "lock": attr.label(mandatory = True),
        "name": attr.string(mandatory = True),
        "python_interpreter": attr.string(),
    },
)

def _vpython_impl(module_ctx):
    toolchains = {}
    wheels = {}
    for mod in module_ctx.modules:
        for tag in mod.tags.toolchain:
            if tag.name not in toolchains:
                toolchains[tag.name] = tag
        for tag in mod.tags.wheels:
            if tag.name in wheels:
                fail("vpython.wheels(name = %r) is declared twice (module %s).\nFix: give each lockfile its own repository name." % (tag.name, mod.name))
            wheels[tag.name] = tag
    if not toolchains:
        toolchains["vpython_toolchains"] = None
    for name, tag in toolchains.items():
        for key in PLATFORM_KEYS:
            vpython_tool_deps(name = "%s_deps_%s" % (name, key), platform = key)
        vpython_toolchains_repo(
            name = name,
            deps_repo_prefix = name + "_deps_",
            exec_interpreters = tag.exec_interpreters if tag else {},
            platform_tags = tag.platform_tags if tag else {},
            python_interpreter = tag.python_interpreter if tag else "",
            python_version = tag.python_version if tag else "",
        )
    for name, tag in wheels.items():
        vpython_locked_wheels(
            name = name,
            lock = tag.lock,
            python_interpreter = tag.python_interpreter,
            allow_sdist_builds = tag.allow_sdist_builds,
        )

vpython = module_extension(
    implementation = _vpython_impl,
    tag_classes = {"toolchain": _toolchain, "wheels": _wheels},
)
