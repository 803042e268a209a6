"""`py_vpython_binary` and `py_vpython_test`: one implementation, two rule kinds.

The build action runs `vpython build` (the toolchain's exec-configured tool) with the
lockfile and the wheels of the target platform, and writes a venv tree
(`declare_directory`) or a single `.pex`. A bash launcher finds the runfiles from `$0` and
runs `<venv>/bin/python <main>` or the pex.
"""

load("//toolchains:toolchain.bzl", "TOOLCHAIN_TYPE", "TOOLCHAIN_TYPE_LABEL")
load(":providers.bzl", "VpythonWheelsInfo")
load(":utils.bzl", "RUNFILES_FUNCTION", "is_env_name", "is_python_version", "runfiles_path", "shell_quote")

# Fixed environment of every build action: reproducible bytes, no stray .pyc files, and
# no inherited PATH/HOME (the action key must not depend on the machine).
BUILD_ENV = {
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONUTF8": "1",
    "SOURCE_DATE_EPOCH": "315532800",
}

ARTIFACTS = ["venv", "pex"]

# `ctx.actions.run(toolchain = ...)` tells Bazel that the executable comes from our
# toolchain, which Automatic Exec Groups (`--incompatible_auto_exec_groups`) require.
# Bazel 5.4 and 6.0 got the parameter (bazelbuild/bazel#16964, #16965); 4.2.3 rejects the
# keyword. Starlark cannot inspect a function's parameters, and Debian's Bazel reports no
# version, so the check is a feature that arrived with it: `config_common.toolchain_type`
# (optional toolchains) exists from 6.0 on, and 4.2.3 has `config_common` without it.
RUN_ACCEPTS_TOOLCHAIN = hasattr(config_common, "toolchain_type")

def toolchain_kwargs(accepts_toolchain = RUN_ACCEPTS_TOOLCHAIN):
    """Extra keyword arguments of the ctx.actions.run that runs the toolchain's vpython.

    Args:
      accepts_toolchain: whether this Bazel's ctx.actions.run has the `toolchain` parameter.

    Returns:
      {"toolchain": <toolchain type>} on Bazel 6.0+, {} on older Bazel.
    """
    if accepts_toolchain:
        return {"toolchain": TOOLCHAIN_TYPE_LABEL}
    return {}

def _kind(ctx):
    return "py_vpython_test" if ctx.attr._test else "py_vpython_binary"

def _fail(ctx, problem, fix):
    fail("%s %s: %s\nFix: %s" % (_kind(ctx), ctx.label, problem, fix))

def _dirname(file):
    return file.dirname

def build_arguments(args, positional, artifact, out, platform_tag, python_version, main, lock, wheels, allow_sdist_builds = False):
    """Fills an Args object with a `vpython build` command line (no absolute paths).

    Args:
      args: ctx.actions.args() (or a test double with add/add_all).
      positional: File passed as SCRIPT_OR_SPEC (the spec, or the main script).
      artifact: "venv" or "pex".
      out: the output File (a tree artifact for venv).
      platform_tag: PEP 425 platform tag of the target.
      python_version: target Python "X.Y".
      main: the main script File.
      lock: the lockfile File, or None.
      wheels: depset of wheel Files; each distinct directory becomes one --find-links.
      allow_sdist_builds: let `vpython build` build locked sdists for the host (the
        build's own requirements then come from the index); False adds --only-binary.

    Returns:
      args.
    """
    args.add("build")
    args.add(positional)
    args.add("--format", artifact)
    args.add("-o", out.path)  # a tree artifact must not be expanded
    args.add("--platform", platform_tag)
    args.add("--python", python_version)
    args.add("--main", main)
    if lock:
        args.add("--lock", lock)
    args.add_all(wheels, map_each = _dirname, uniquify = True, before_each = "--find-links")

    if allow_sdist_builds:
        # A build from an sdist installs its backend (setuptools, Cython, ...) from the
        # index: the one case where the action goes online (and asks for the network).
        return args

    # The wheels are declared inputs: an action must never reach an index (a sandbox may
    # not stop it, and a cached result must not depend on what an index served).
    args.add("--offline")
    args.add("--only-binary")
    return args

def _lock_and_wheels(ctx):
    infos = [dep[VpythonWheelsInfo] for dep in ctx.attr.deps]
    wheels = depset(transitive = [info.wheels for info in infos])
    if ctx.file.lock:
        return ctx.file.lock, wheels
    locks = {}
    for info in infos:
        locks[info.lock.path] = info.lock
    if len(locks) > 1:
        _fail(
            ctx,
            "deps come from %d different lockfiles (%s), but one environment is built from one lock" % (
                len(locks),
                ", ".join(sorted(locks.keys())),
            ),
            "use the targets of one vpython_locked_wheels repository, or set lock = to the pylock.toml to build from",
        )
    if not locks:
        return None, wheels
    covered = {}
    for info in infos:
        for name in info.packages:
            covered[name] = True
    missing = [name for name in infos[0].lock_packages if name not in covered]
    if missing:
        _fail(
            ctx,
            "deps provide wheels for %s, but the lockfile %s also locks %s and vpython installs everything it selects" % (
                ", ".join(sorted(covered.keys())) or "nothing",
                infos[0].lock.short_path,
                ", ".join(missing),
            ),
            "depend on the repository's :wheels target (all locked packages) instead of single packages",
        )
    return locks.values()[0], wheels

def _env_lines(ctx):
    lines = []
    for name in sorted(ctx.attr.env.keys()):
        if not is_env_name(name):
            _fail(ctx, "env has the invalid variable name %r" % name, "use names matching [A-Za-z_][A-Za-z0-9_]*")
        value = ctx.expand_location(ctx.attr.env[name], ctx.attr.data)
        lines.append("export %s=%s" % (name, shell_quote(value)))
    return "\n".join(lines)

def run_python(tc, python_version):
    """The interpreter a launcher pins (exports as VPYTHON_PYTHON), or None.

    Only the toolchain whose target platform is the execution platform (the host, for
    the generated toolchains) has one, and only a target of that interpreter's X.Y may use
    it: an artifact for another platform or Python cannot run on it.

    Args:
      tc: the VpythonToolchainInfo.
      python_version: the target's Python X.Y.

    Returns:
      A File (to put in the runfiles), or None.
    """
    if tc.run_python and tc.run_python_version == python_version:
        return tc.run_python
    return None

def _python_line(ctx, python):
    if not python:
        return "# No pinned interpreter: <venv>/bin/python uses $VPYTHON_PYTHON, else the first pythonX.Y binary on PATH."
    return "export VPYTHON_PYTHON=\"$R/\"%s" % shell_quote(runfiles_path(ctx.workspace_name, python))

def _exec_line(ctx, artifact, out, main, python_version, python):
    out_rf = shell_quote(runfiles_path(ctx.workspace_name, out))
    main_path = runfiles_path(ctx.workspace_name, main)
    main_rf = shell_quote(main_path)

    # `srcs` of other packages import from the root of main's repository, as with py_binary.
    repo_root = shell_quote(main_path.split("/")[0])
    if artifact == "venv":
        pythonpath = "export PYTHONPATH=\"$R/\"%s\"${PYTHONPATH:+:$PYTHONPATH}\"" % repo_root
        return "%s\nexec \"$R/\"%s/bin/python \"$R/\"%s \"$@\"" % (pythonpath, out_rf, main_rf)

    # A pex scrubs PYTHONPATH from its sys.path; PEX_EXTRA_SYS_PATH is pex's documented way
    # to add entries. The pex holds the wheels and `main`; `srcs` stay in the runfiles.
    lines = [
        "export PEX_EXTRA_SYS_PATH=\"$R/\"%s\"${PEX_EXTRA_SYS_PATH:+:$PEX_EXTRA_SYS_PATH}\"" % repo_root,
        "PEX=\"$R/\"%s" % out_rf,
    ]
    if python:
        lines.append("exec \"$VPYTHON_PYTHON\" \"$PEX\" \"$@\"")
    else:
        # The pex's own shebang, else an interpreter of the version it was built for.
        lines.append("if [[ -x \"$PEX\" ]]; then exec \"$PEX\" \"$@\"; fi")
        lines.append("exec python%s \"$PEX\" \"$@\"" % python_version)
    return "\n".join(lines)

def _py_vpython_impl(ctx):
    kind = _kind(ctx)
    tc = ctx.toolchains[TOOLCHAIN_TYPE].vpython
    python_version = ctx.attr.python_version or tc.python_version
    if not is_python_version(python_version):
        _fail(ctx, "python_version %r is not X.Y" % python_version, "set python_version = \"3.11\" (or another X.Y), or leave it empty for the toolchain's")
    main = ctx.file.main
    if ctx.file.spec and ctx.file.spec == main:
        _fail(ctx, "spec and main are the same file", "leave spec empty when main carries its own inline spec")
    lock, wheels = _lock_and_wheels(ctx)
    artifact = ctx.attr.artifact

    sbom = None
    if artifact == "venv":
        # The SBOM is inside the tree (vpython-artifact.cdx.json).
        out = ctx.actions.declare_directory(ctx.label.name + ".venv")
    else:
        out = ctx.actions.declare_file(ctx.label.name + ".pex")

        # `vpython build --format pex -o X.pex` always writes the SBOM beside it as
        # X.pex.cdx.json: declared, so that it is cached with the pex and never left as
        # an unknown file in bazel-out (with local execution).
        sbom = ctx.actions.declare_file(ctx.label.name + ".pex.cdx.json")

    positional = ctx.file.spec or main
    args = build_arguments(
        ctx.actions.args(),
        positional = positional,
        artifact = artifact,
        out = out,
        platform_tag = tc.platform_tag,
        python_version = python_version,
        main = main,
        lock = lock,
        wheels = wheels,
        allow_sdist_builds = ctx.attr.allow_sdist_builds,
    )
    direct_inputs = [main]
    if ctx.file.spec:
        direct_inputs.append(ctx.file.spec)
    if lock:
        direct_inputs.append(lock)
    ctx.actions.run(
        executable = tc.vpython,
        arguments = [args],
        inputs = depset(direct_inputs, transitive = [wheels, tc.vpython_inputs]),
        outputs = [out] + ([sbom] if sbom else []),
        mnemonic = "VpythonBuild",
        progress_message = "Building %s of %s for %s (Python %s)" % (artifact, ctx.label, tc.platform_tag, python_version),
        env = BUILD_ENV,
        execution_requirements = {"requires-network": "1"} if ctx.attr.allow_sdist_builds else {},
        **toolchain_kwargs()
    )
    python = run_python(tc, python_version)

    launcher = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.expand_template(
        template = ctx.file._launcher_template,
        output = launcher,
        is_executable = True,
        substitutions = {
            "%ARTIFACT_KIND%": "venv" if artifact == "venv" else "pex",
            "%ENV%": _env_lines(ctx),
            "%EXEC%": _exec_line(ctx, artifact, out, main, python_version, python),
            "%PYTHON%": _python_line(ctx, python),
            "%RULE%": kind,
            "%RUNFILES_FUNCTION%": RUNFILES_FUNCTION,
            "%TARGET%": str(ctx.label),
        },
    )

    runfiles = ctx.runfiles(files = [launcher, out, main] + ([python] if python else []) + ctx.files.srcs + ctx.files.data)
    for target in ctx.attr.data:
        runfiles = runfiles.merge(target[DefaultInfo].default_runfiles)
    if python and tc.run_python_runfiles:
        # An interpreter label's own runfiles (e.g. the standard library of a
        # python-build-standalone filegroup's `data`).
        runfiles = runfiles.merge(tc.run_python_runfiles)
    return [
        DefaultInfo(
            executable = launcher,
            files = depset([launcher, out]),
            runfiles = runfiles,
        ),
        # `bazel build --output_groups=+sbom` also fetches a pex's SBOM (a venv's is in its tree).
        OutputGroupInfo(
            sbom = depset([sbom] if sbom else []),
            vpython_artifact = depset([out]),
        ),
    ]

_ATTRS = {
    "allow_sdist_builds": attr.bool(
        default = False,
        doc = "Build the lock's sdist-only packages into wheels for the host platform (with the " +
              "host's compiler, the build's own requirements from the index, so the action needs " +
              "the network). Default False: strict, like `vpython build --only-binary`; a package " +
              "without a wheel for the target fails the build naming it. A foreign target " +
              "platform is refused either way. The wheel repository must fetch the sdists too: " +
              "`vpython_locked_wheels(allow_sdist_builds = True)`.",
    ),
    "artifact": attr.string(
        default = "venv",
        values = ARTIFACTS,
        doc = "What `vpython build` writes: a relocatable venv tree (`venv`) or one `.pex` file (`pex`).",
    ),
    "data": attr.label_list(
        allow_files = True,
        doc = "Files needed at run time (in the runfiles); `$(location)` works in env.",
    ),
    "deps": attr.label_list(
        providers = [VpythonWheelsInfo],
        doc = "Wheels from a vpython_locked_wheels repository, normally `@pypi//:wheels`. " +
              "Their lockfile is used unless `lock` is set.",
    ),
    "env": attr.string_dict(
        doc = "Environment variables the launcher exports (bazel run, bazel test and direct runs).",
    ),
    "lock": attr.label(
        allow_single_file = [".toml"],
        doc = "The pylock.toml to build from (default: the lockfile of `deps`). " +
              "Its wheels must be among `deps` (matched by sha256).",
    ),
    "main": attr.label(
        allow_single_file = [".py"],
        mandatory = True,
        doc = "The script to run.",
    ),
    "python_version": attr.string(
        doc = "Target Python `X.Y`; default: the toolchain's.",
    ),
    "spec": attr.label(
        allow_single_file = True,
        doc = "The vpython spec (`.vpython3`, `vpython.toml`, or a script with an inline " +
              "block); default: `main` itself.",
    ),
    "srcs": attr.label_list(
        allow_files = [".py"],
        doc = "Other Python sources `main` imports (in the runfiles, beside it).",
    ),
    "_launcher_template": attr.label(
        allow_single_file = True,
        default = Label("//rules/private:launcher.sh.tpl"),
    ),
}

py_vpython_binary = rule(
    implementation = _py_vpython_impl,
    doc = "A Python program whose third-party packages come from a PEP 751 lockfile, " +
          "built by `vpython build` into a venv or a pex for the target platform.",
    attrs = dict(_ATTRS, _test = attr.bool(default = False)),
    executable = True,
    toolchains = [TOOLCHAIN_TYPE],
)

py_vpython_test = rule(
    implementation = _py_vpython_impl,
    doc = "Like py_vpython_binary, run by `bazel test` (exit code 0 passes).",
    attrs = dict(_ATTRS, _test = attr.bool(default = True)),
    test = True,
    toolchains = [TOOLCHAIN_TYPE],
)
