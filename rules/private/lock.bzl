"""`vpython_lock`: `bazel run` re-locks a spec; `<name>_test` fails when the lock is stale."""

load("//toolchains:toolchain.bzl", "TOOLCHAIN_TYPE")
load(":utils.bzl", "RUNFILES_FUNCTION", "runfiles_path", "shell_quote")

def lock_impl(ctx):
    """Implementation of both `vpython_lock` rules (public for the Starlark unit tests).

    Args:
      ctx: the rule context.

    Returns:
      [DefaultInfo] with the launcher and its runfiles.
    """
    kind = "vpython_lock test" if ctx.attr._check else "vpython_lock"
    tc = ctx.toolchains[TOOLCHAIN_TYPE].vpython
    spec = ctx.file.spec
    if spec.short_path.startswith("../"):
        fail("%s %s: spec %s is in another repository; the lockfile is written beside the spec in this workspace.\nFix: lock a spec of this workspace." % (kind, ctx.label, spec.short_path))
    flags = []
    for tag in ctx.attr.platforms:
        if not tag or "-" in tag or " " in tag:
            fail("%s %s: %r is not a PEP 425 platform tag.\nFix: use tags such as \"manylinux_2_17_x86_64\", \"macosx_11_0_arm64\", \"win_amd64\"." % (kind, ctx.label, tag))
        flags.append("--platform " + shell_quote(tag))
    out = ctx.actions.declare_file(ctx.label.name + (".check.sh" if ctx.attr._check else ".sh"))
    ctx.actions.expand_template(
        template = ctx.file._template,
        output = out,
        is_executable = True,
        substitutions = {
            "%FIX_TARGET%": ctx.attr.fix_target or str(ctx.label),
            "%FLAGS%": " ".join(flags),
            "%RUNFILES_FUNCTION%": RUNFILES_FUNCTION,
            "%SPEC%": shell_quote(spec.short_path),
            "%TARGET%": str(ctx.label),
            "%TOOL%": shell_quote(runfiles_path(ctx.workspace_name, tc.vpython_executable)),
            "%WORKSPACE%": shell_quote(ctx.workspace_name),
        },
    )

    # uv only for `bazel run` (the only target that resolves); the tool's bootstrap finds
    # its wheel in the runfiles, unpacks the binary and exports VPYTHON_UV_BIN.
    files = [out, spec, tc.vpython_executable] + ctx.files.lock + ([tc.uv] if tc.uv and not ctx.attr._check else [])
    runfiles = ctx.runfiles(files = files, transitive_files = tc.vpython_inputs).merge(tc.vpython_runfiles)
    return [DefaultInfo(executable = out, runfiles = runfiles)]

_ATTRS = {
    "fix_target": attr.string(doc = "The `bazel run` target that re-locks (for the test's message)."),
    "lock": attr.label(allow_single_file = [".toml"], doc = "The current lockfile (checked by the test)."),
    "platforms": attr.string_list(doc = "PEP 425 platform tags to lock for (`vpython lock --platform`)."),
    "spec": attr.label(allow_single_file = True, mandatory = True, doc = "The spec or script to lock."),
}

_vpython_lock_run = rule(
    implementation = lock_impl,
    attrs = dict(_ATTRS, _check = attr.bool(default = False), _template = attr.label(
        allow_single_file = True,
        default = Label("//rules/private:lock_run.sh.tpl"),
    )),
    executable = True,
    toolchains = [TOOLCHAIN_TYPE],
)

_vpython_lock_test = rule(
    implementation = lock_impl,
    attrs = dict(_ATTRS, _check = attr.bool(default = True), _template = attr.label(
        allow_single_file = True,
        default = Label("//rules/private:lock_check.sh.tpl"),
    )),
    test = True,
    toolchains = [TOOLCHAIN_TYPE],
)

def fix_target_label(name, native_module = None):
    """The label of the `bazel run` target `name` in the package being loaded, for messages.

    Uses `native.package_relative_label` where it exists (Bazel 6.5/7.1+):
    `native.repository_name()` is deprecated there and missing under
    `--noincompatible_enable_deprecated_label_apis`; falls back to it on older Bazel (4.2.3).

    Args:
      name: the target's name.
      native_module: `native`, or a stand-in in unit tests.

    Returns:
      "//pkg:name" in the main repository, "@repo//pkg:name" (or "@@canonical//...") elsewhere.
    """
    n = native_module or native
    if hasattr(n, "package_relative_label"):
        text = str(n.package_relative_label(name))
        if text.startswith("@@//") or text.startswith("@//"):  # the main repository
            return text[text.index("//"):]
        return text
    repo = n.repository_name()
    return "%s//%s:%s" % ("" if repo == "@" else repo, n.package_name(), name)

def vpython_lock(name, spec, lock = None, platforms = None, size = "small", **kwargs):
    """Targets that keep a checked-in pylock.toml in step with its spec.

    * `bazel run :<name>` runs `vpython lock <spec> --platform ...` in the source tree
      (needs the index; it is the only target that resolves).
    * `bazel test :<name>_test` runs `vpython lock --check` and fails when the lockfile is
      stale, printing the `bazel run` command that fixes it.

    Args:
      name: name of the `bazel run` target; the test is `<name>_test`.
      spec: the spec (`vpython.toml`, `.vpython3`) or script with an inline block.
      lock: the lockfile beside it (e.g. "pylock.vpython.toml"); the test needs it as input.
      platforms: PEP 425 platform tags to lock for (`--platform`); default: none, so the
        spec's `[tool.vpython] platforms` or vpython's defaults decide, as with a plain
        `vpython lock`.
      size: size of the test (it only reads two files).
      **kwargs: common attributes (tags, visibility, ...) for both targets.
    """
    platforms = platforms or []
    _vpython_lock_run(name = name, spec = spec, lock = lock, platforms = platforms, **kwargs)
    _vpython_lock_test(
        name = name + "_test",
        spec = spec,
        lock = lock,
        platforms = platforms,
        size = size,
        fix_target = fix_target_label(name),
        **kwargs
    )
