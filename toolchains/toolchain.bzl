"""The vpython toolchain: the vpython tool (exec platform) and the target it builds for.

One `vpython_toolchain` per target platform; `toolchain()` targets tie each one to that
platform's `@platforms` constraints, so `--platforms=@vpython//toolchains:macos_arm64`
builds macOS arm64 artifacts from the same lockfile on a Linux host.
"""

VpythonToolchainInfo = provider(
    doc = "What a vpython toolchain gives the rules: the vpython tool and the target it builds for.",
    fields = {
        "cpu": "str: target CPU, an `@platforms//cpu` name (`x86_64`, `aarch64`).",
        "interpreter": "str: the Python the tool runs on (for messages).",
        "os": "str: target OS, an `@platforms//os` name (`linux`, `macos`, `windows`).",
        "platform_tag": "str: PEP 425 platform tag passed to `vpython build --platform`.",
        "python_version": "str: default target Python `X.Y` (`--python`); rules may override it.",
        "run_python": "File or None: a Python that can run this platform's artifacts on the " +
                      "machine running `bazel run`/`bazel test` (set only when the target " +
                      "platform is the execution platform); launchers export it as VPYTHON_PYTHON.",
        "run_python_runfiles": "runfiles or None: run_python's own runfiles (e.g. its standard library).",
        "run_python_version": "str: the `X.Y` of run_python; targets of another version do not use it.",
        "uv": "File or None: uv's wheel, for `vpython lock` (`bazel run` of vpython_lock targets).",
        "vpython": "FilesToRunProvider: the vpython tool, built for the execution platform.",
        "vpython_executable": "File: the tool's executable (for `bazel run` targets that call it).",
        "vpython_inputs": "depset of File: the tool's dependencies; add them to the inputs of " +
                          "actions that run `vpython` and to the runfiles of targets that call it.",
        "vpython_runfiles": "runfiles: the tool's runfiles (for `bazel run` targets that call it).",
    },
)

VpythonToolInfo = provider(
    doc = "Extra outputs of a `vpython_tool` besides its executable.",
    fields = {
        "inputs": "depset of File: the tool's dependencies (manifest and wheels); " +
                  "inputs of every action that runs the tool, runfiles of targets that call it.",
        "uv": "File or None: uv's wheel for `vpython lock` (not among `inputs`, so " +
              "build actions do not have it as an input).",
    },
)

TOOLCHAIN_TYPE_LABEL = Label("//toolchains:toolchain_type")

# A string (Bazel 4.2.3's rule(toolchains = ...) takes strings only), renaming-proof.
TOOLCHAIN_TYPE = str(TOOLCHAIN_TYPE_LABEL)

_OS = ["linux", "macos", "windows"]
_CPU = ["aarch64", "x86_64"]

def _is_python_version(value):
    parts = value.split(".")
    return len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit()

def _vpython_toolchain_impl(ctx):
    if not _is_python_version(ctx.attr.python_version):
        fail("vpython_toolchain %s: python_version %r is not X.Y.\nFix: set python_version = \"3.11\" (or another X.Y)." % (ctx.label, ctx.attr.python_version))
    if not ctx.attr.platform_tag or "-" in ctx.attr.platform_tag:
        fail("vpython_toolchain %s: platform_tag %r is not a PEP 425 platform tag.\nFix: use e.g. \"manylinux_2_17_x86_64\", \"macosx_11_0_arm64\" or \"win_amd64\"." % (ctx.label, ctx.attr.platform_tag))
    if ctx.file.run_python and not _is_python_version(ctx.attr.run_python_version):
        fail("vpython_toolchain %s: run_python is set but run_python_version %r is not X.Y.\nFix: set run_python_version to the X.Y of %s (e.g. \"3.11\")." % (ctx.label, ctx.attr.run_python_version, ctx.file.run_python.short_path))
    tool = ctx.attr.vpython[DefaultInfo]
    extra = ctx.attr.vpython[VpythonToolInfo] if VpythonToolInfo in ctx.attr.vpython else None
    return [platform_common.ToolchainInfo(
        vpython = VpythonToolchainInfo(
            cpu = ctx.attr.cpu,
            interpreter = ctx.attr.interpreter,
            os = ctx.attr.os,
            platform_tag = ctx.attr.platform_tag,
            python_version = ctx.attr.python_version,
            run_python = ctx.file.run_python,
            run_python_runfiles = ctx.attr.run_python[DefaultInfo].default_runfiles if ctx.file.run_python else None,
            run_python_version = ctx.attr.run_python_version if ctx.file.run_python else "",
            uv = extra.uv if extra else None,
            vpython = tool.files_to_run,
            vpython_executable = tool.files_to_run.executable,
            vpython_inputs = extra.inputs if extra else depset(),
            vpython_runfiles = tool.default_runfiles,
        ),
    )]

vpython_toolchain = rule(
    implementation = _vpython_toolchain_impl,
    doc = "Declares how to build vpython artifacts for one target platform. " +
          "Register it with a `toolchain()` whose target_compatible_with names that platform.",
    attrs = {
        "cpu": attr.string(mandatory = True, values = _CPU, doc = "Target CPU (`@platforms//cpu` name)."),
        "interpreter": attr.string(doc = "Description of the interpreter the tool runs on (for messages)."),
        "os": attr.string(mandatory = True, values = _OS, doc = "Target OS (`@platforms//os` name)."),
        "platform_tag": attr.string(
            mandatory = True,
            doc = "PEP 425 platform tag of the target, passed to `vpython build --platform`.",
        ),
        "python_version": attr.string(
            mandatory = True,
            doc = "Default target Python `X.Y` (`vpython build --python`); rules may override it.",
        ),
        "run_python": attr.label(
            allow_single_file = True,
            doc = "A Python X.Y binary (a file label, e.g. a symlink in a repository or a " +
                  "hermetic interpreter) that runs this platform's artifacts where targets run. " +
                  "Set it only on the toolchain whose target platform is the execution platform. " +
                  "Launchers put it in the runfiles and export it as VPYTHON_PYTHON.",
        ),
        "run_python_version": attr.string(
            doc = "The X.Y of run_python; only targets of that python_version pin it.",
        ),
        "vpython": attr.label(
            cfg = "exec",
            executable = True,
            mandatory = True,
            doc = "The vpython tool (a `vpython_tool` target), built for the execution platform.",
        ),
    },
    provides = [platform_common.ToolchainInfo],
)
