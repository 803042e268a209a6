"""Starlark unit tests of the vpython rules (run by tests/bazel/test_bazel_starlark.py).

Every `test_*` function is one pytest case; `fails_*` functions must fail() with the
message the Python side checks.
"""

# buildifier: disable=bzl-visibility
load("//rules/private:binary.bzl", "BUILD_ENV", "RUN_ACCEPTS_TOOLCHAIN", "build_arguments", "py_vpython_binary", "py_vpython_test", "toolchain_kwargs")

# buildifier: disable=bzl-visibility
load("//rules/private:lock.bzl", "fix_target_label", "lock_impl", "vpython_lock")

# buildifier: disable=bzl-visibility
load("//rules/private:providers.bzl", "VpythonToolDepsInfo", "VpythonWheelsInfo")

# buildifier: disable=bzl-visibility
load("//rules/private:pylock.bzl", "lock_model", "normalize_name", "package_dir", "parse_wheel_filename", "platform_tag_targets", "render_build_files", "wheel_platform_keys")

# buildifier: disable=bzl-visibility
load("//rules/private:tool.bzl", "vpython_tool", "vpython_tool_deps_set")

# buildifier: disable=bzl-visibility
load("//rules/private:tool_deps_repo.bzl", "target_platform_and_python", "tool_wheels_for_platform", "vpython_tool_deps")

# buildifier: disable=bzl-visibility
load("//rules/private:toolchains_repo.bzl", "interpreter_problem", "vpython_toolchains_repo")

# buildifier: disable=bzl-visibility
load("//rules/private:utils.bzl", "is_env_name", "is_python_version", "runfiles_path", "shell_quote")

# buildifier: disable=bzl-visibility
load("//rules/private:wheels_repo.bzl", "vpython_locked_wheels")
load("//toolchains:platforms.bzl", "PLATFORMS", "PLATFORM_KEYS", "host_os", "platform_key")
load("//toolchains:toolchain.bzl", "TOOLCHAIN_TYPE", "TOOLCHAIN_TYPE_LABEL", "VpythonToolInfo", "VpythonToolchainInfo", "vpython_toolchain")
load("fakes.bzl", "DefaultInfo", "depset", "fake_ctx", "fake_file", "fake_label", "fake_native", "fake_rctx", "fake_runfiles", "fake_target")

def assert_eq(actual, expected, what = ""):
    if actual != expected:
        fail("%s\n  expected: %r\n    actual: %r" % (what or "values differ", expected, actual))

def assert_true(cond, what):
    if not cond:
        fail(what)

def assert_in(needle, haystack, what = ""):
    if needle not in haystack:
        fail("%s: %r not in %r" % (what or "missing", needle, haystack))

# --------------------------------------------------------------------------- pylock.bzl

def test_normalize_name():
    """PEP 503 names and the package directories of a wheel repository."""
    assert_eq(normalize_name("MarkupSafe"), "markupsafe")
    assert_eq(normalize_name("zope.interface"), "zope-interface")
    assert_eq(normalize_name("Foo__Bar-.baz"), "foo-bar-baz")
    assert_eq(package_dir("Typing_Extensions"), "typing_extensions")
    assert_eq(package_dir("zope.interface"), "zope_interface")

def test_parse_wheel_filename():
    """PEP 427 file names, compressed tag sets expanded; non-wheels rejected."""
    info = parse_wheel_filename("MarkupSafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    assert_eq(info["distribution"], "MarkupSafe")
    assert_eq(info["version"], "3.0.2")
    assert_eq(info["build"], "")
    assert_eq(info["python_tags"], ["cp311"])
    assert_eq(info["platform_tags"], ["manylinux_2_17_x86_64", "manylinux2014_x86_64"])
    assert_eq(parse_wheel_filename("six-1.17.0-1-py2.py3-none-any.whl")["build"], "1")
    assert_eq(parse_wheel_filename("six-1.17.0-py2.py3-none-any.whl")["python_tags"], ["py2", "py3"])
    for bad in ["six-1.17.0.tar.gz", "six-1.17.0-py3-any.whl", "a/six-1.0-py3-none-any.whl", "six--py3-none-any.whl"]:
        assert_eq(parse_wheel_filename(bad), None, bad)

def test_platform_tag_targets():
    cases = {
        "any": ("*", ["*"]),
        "linux_armv7l": ("linux", []),
        "macosx_10_9_universal2": ("macos", ["aarch64", "x86_64"]),
        "macosx_10_9_x86_64": ("macos", ["x86_64"]),
        "macosx_11_0_arm64": ("macos", ["aarch64"]),
        "manylinux2014_aarch64": ("linux", ["aarch64"]),
        "manylinux_2_17_x86_64": ("linux", ["x86_64"]),
        "manylinux_2_5_i686": ("linux", []),
        "musllinux_1_2_x86_64": ("linux", ["x86_64"]),
        "win32": ("windows", []),
        "win_amd64": ("windows", ["x86_64"]),
        "win_arm64": ("windows", ["aarch64"]),
        "android_21_arm64_v8a": ("", []),
    }
    for tag, expected in cases.items():
        assert_eq(platform_tag_targets(tag), expected, tag)

def test_wheel_platform_keys():
    """Which vpython platforms a wheel's platform tags can serve."""
    assert_eq(wheel_platform_keys("six-1.17.0-py2.py3-none-any.whl"), PLATFORM_KEYS)
    assert_eq(wheel_platform_keys("m-1-cp311-cp311-macosx_10_9_universal2.whl"), ["macos_arm64", "macos_x86_64"])
    assert_eq(
        wheel_platform_keys("m-1-cp311-cp311-manylinux2014_aarch64.manylinux_2_17_aarch64.whl"),
        ["linux_arm64"],
    )
    assert_eq(wheel_platform_keys("m-1-cp311-cp311-win_amd64.whl"), ["windows_x86_64"])
    assert_eq(wheel_platform_keys("m-1-cp311-cp311-win32.whl"), [])
    assert_eq(wheel_platform_keys("not-a-wheel.zip"), [])

def _lock(packages, version = "1.0"):
    return {"created-by": "vpython", "lock-version": version, "packages": packages}

def _wheel(name, sha = "a" * 64, url = None, path = None):
    w = {"hashes": {"sha256": sha}, "name": name}
    if path:
        w["path"] = path
    else:
        w["url"] = url or "https://files.example/" + name
    return w

SAMPLE_LOCK = _lock([
    {"name": "MarkupSafe", "version": "3.0.3", "wheels": [
        _wheel("markupsafe-3.0.3-cp311-cp311-manylinux_2_17_x86_64.whl", "1" * 64),
        _wheel("markupsafe-3.0.3-cp311-cp311-macosx_11_0_arm64.whl", "2" * 64),
        _wheel("markupsafe-3.0.3-cp311-cp311-win_amd64.whl", "3" * 64),
    ]},
    {"name": "six", "version": "1.17.0", "wheels": [
        _wheel("six-1.17.0-py2.py3-none-any.whl", "4" * 64, path = "wheels/six-1.17.0-py2.py3-none-any.whl"),
    ]},
    {"marker": "sys_platform == 'win32'", "name": "colorama", "version": "0.4.6", "wheels": [
        _wheel("colorama-0.4.6-py2.py3-none-any.whl", "5" * 64),
    ]},
])

def test_lock_model_valid():
    """A usable lock becomes packages and wheels with their platforms."""
    model, errors = lock_model(SAMPLE_LOCK, "//:pylock.toml")
    assert_eq(errors, [])
    assert_eq(sorted(model["packages"].keys()), ["colorama", "markupsafe", "six"])
    assert_eq(model["packages"]["markupsafe"]["name"], "markupsafe")
    assert_eq(model["packages"]["markupsafe"]["versions"], ["3.0.3"])
    assert_eq(len(model["wheels"]), 5)
    w = model["wheels"]["markupsafe-3.0.3-cp311-cp311-macosx_11_0_arm64.whl"]
    assert_eq(w["platforms"], ["macos_arm64"])
    assert_eq(w["sha256"], "2" * 64)
    assert_eq(w["package"], "markupsafe")
    six = model["wheels"]["six-1.17.0-py2.py3-none-any.whl"]
    assert_eq(six["path"], "wheels/six-1.17.0-py2.py3-none-any.whl")
    assert_eq(six["url"], "")

SDIST_LOCK = _lock([
    {"name": "psutil", "version": "5.7.2", "sdist": {
        "hashes": {"sha256": "6" * 64},
        "name": "psutil-5.7.2.tar.gz",
        "url": "https://files.example/psutil-5.7.2.tar.gz",
    }},
    {"name": "six", "version": "1.17.0", "wheels": [_wheel("six-1.17.0-py2.py3-none-any.whl", "4" * 64)]},
])

def test_lock_model_keeps_sdists_only_when_allowed():
    """An sdist-only package is an error by default; allowed, its sdist serves every platform."""
    _, errors = lock_model(SDIST_LOCK, "//:pylock.toml")
    assert_eq(len(errors), 1)
    assert_in("psutil has no wheels (only an sdist)", errors[0])
    assert_in("allow_sdist_builds = True", errors[0])
    model, errors = lock_model(SDIST_LOCK, "//:pylock.toml", allow_sdists = True)
    assert_eq(errors, [])
    sdist = model["wheels"]["psutil-5.7.2.tar.gz"]
    assert_eq(sdist["sha256"], "6" * 64)
    assert_eq(sdist["platforms"], list(PLATFORM_KEYS))
    assert_eq(model["packages"]["psutil"]["wheels"], ["psutil-5.7.2.tar.gz"])
    bad = _lock([{"name": "x", "version": "1", "sdist": {"hashes": {"sha256": "6" * 64}, "name": "x-1.whl", "url": "https://u/x"}}])
    _, errors = lock_model(bad, "//:pylock.toml", allow_sdists = True)
    assert_eq(len(errors), 1)
    assert_in("is not an sdist filename", errors[0])

def test_lock_model_errors():
    """Each unusable lock entry gives one message naming the lockfile."""
    cases = [
        (_lock([], version = "2.0"), "lock-version"),
        ({"lock-version": "1.0"}, "no [[packages]]"),
        (_lock([{"name": "x", "version": "1", "sdist": {"name": "x-1.tar.gz"}}]), "has no wheels (only an sdist)"),
        (_lock([{"name": "x", "vcs": {"url": "https://g/x"}}]), "is a vcs source"),
        (_lock([{"name": "x", "wheels": [{"name": "x-1-py3-none-any.whl", "url": "https://u/x"}]}]), "no valid sha256"),
        (_lock([{"name": "x", "wheels": [_wheel("x-1-py3-none-any.whl", sha = "zz")]}]), "no valid sha256"),
        (_lock([{"name": "x", "wheels": [_wheel("x-1.tar.gz")]}]), "is not a wheel filename"),
        (_lock([{"name": "x", "wheels": [{"hashes": {"sha256": "a" * 64}, "name": "x-1-py3-none-any.whl"}]}]), "neither url nor path"),
        (_lock([
            {"name": "x", "wheels": [_wheel("x-1-py3-none-any.whl", "a" * 64)]},
            {"name": "x", "wheels": [_wheel("x-1-py3-none-any.whl", "b" * 64)]},
        ]), "locked twice with different sha256"),
    ]
    for lock, expected in cases:
        _, errors = lock_model(lock, "//:pylock.toml")
        assert_eq(len(errors), 1, "errors for %r: %r" % (lock, errors))
        assert_in(expected, errors[0])
        assert_in("//:pylock.toml", errors[0])

LABELS = {
    "config_settings": dict([(k, "@vpython//toolchains:is_" + k) for k in PLATFORM_KEYS]),
    "wheel_set_bzl": "@vpython//rules:defs.bzl",
}

def generated_build_files():
    model, _ = lock_model(SAMPLE_LOCK, "//:pylock.toml")
    return render_build_files(model, "pypi", "pylock.toml", "//:pylock.toml", LABELS)

def test_render_build_files():
    """The generated wheel repository: per-platform filegroups and a select()."""
    files = generated_build_files()
    assert_eq(sorted(files.keys()), ["BUILD.bazel", "colorama/BUILD.bazel", "markupsafe/BUILD.bazel", "six/BUILD.bazel"])
    root = files["BUILD.bazel"]
    assert_in('load("@vpython//rules:defs.bzl", "vpython_wheel_set")', root)
    assert_in('"wheels/markupsafe-3.0.3-cp311-cp311-win_amd64.whl",', root)
    assert_in('name = "wheels_windows_x86_64"', root)
    assert_in('name = "wheels",', root)
    assert_in("no_match_error = ", root)
    for key in PLATFORM_KEYS:
        assert_in('"@vpython//toolchains:is_%s": [' % key, root)
    ms = files["markupsafe/BUILD.bazel"]
    assert_in('name = "markupsafe",', ms)
    assert_in('lock = "//:pylock.toml",', ms)
    assert_in('"//:wheels/markupsafe-3.0.3-cp311-cp311-macosx_11_0_arm64.whl",', ms)

    # The linux x86_64 set has the linux wheel and the pure ones, nothing else.
    section = root.split('name = "wheels_linux_x86_64"')[1].split(")")[0]
    assert_in("manylinux_2_17_x86_64", section)
    assert_in("six-1.17.0", section)
    assert_in("colorama", section)
    assert_true("macosx" not in section and "win_amd64" not in section, section)

# --------------------------------------------------------------------------- utils.bzl, platforms

def test_utils():
    """Shell quoting, runfiles paths, environment names, X.Y versions."""
    assert_eq(shell_quote("plain"), "'plain'")
    assert_eq(shell_quote("it's $HOME"), "'it'\\''s $HOME'")
    assert_eq(runfiles_path("my_ws", fake_file("pkg/app.py")), "my_ws/pkg/app.py")
    assert_eq(runfiles_path("_main", fake_file("pkg/app.py")), "_main/pkg/app.py")
    assert_eq(runfiles_path("my_ws", fake_file("../pypi/wheels/x.whl")), "pypi/wheels/x.whl")
    for good in ["A", "_x", "PATH", "a1_B2"]:
        assert_true(is_env_name(good), good)
    for bad in ["", "1A", "A-B", "A B", "Ä"]:
        assert_true(not is_env_name(bad), bad)
    assert_true(is_python_version("3.11"), "3.11")
    for bad in ["3", "3.11.2", "3.x", "", "py3.11"]:
        assert_true(not is_python_version(bad), bad)

def test_platforms_table():
    """The platform table: keys, host OS names, default tags."""
    assert_eq(len(PLATFORMS), 6)
    assert_eq(platform_key("linux", "x86_64"), "linux_x86_64")
    assert_eq(platform_key("macos", "aarch64"), "macos_arm64")
    assert_eq(platform_key("linux", "s390x"), None)
    assert_eq(host_os("Mac OS X"), "macos")
    assert_eq(host_os("Windows 10"), "windows")
    assert_eq(host_os("linux"), "linux")
    assert_eq(host_os("freebsd"), None)
    for key in PLATFORM_KEYS:
        tag = PLATFORMS[key]["tag"]
        assert_true("-" not in tag, tag)
        assert_eq(wheel_platform_keys("x-1-py3-none-%s.whl" % tag), [key], "default tag of " + key)

# --------------------------------------------------------------------------- binary.bzl

def toolchain_info(run_python = None, run_python_version = ""):
    return VpythonToolchainInfo(
        cpu = "x86_64",
        interpreter = "/usr/bin/python3.11",
        os = "linux",
        platform_tag = "manylinux_2_28_x86_64",
        python_version = "3.11",
        run_python = run_python,
        run_python_runfiles = fake_runfiles([STDLIB]) if run_python else None,
        run_python_version = run_python_version,
        uv = UV_WHEEL,
        vpython = struct(executable = fake_file("../vpython_toolchains/vpython", root = "bazel-out/host/bin")),
        vpython_executable = fake_file("../vpython_toolchains/vpython", root = "bazel-out/host/bin"),
        vpython_inputs = depset(TOOL_INPUTS),
        vpython_runfiles = fake_runfiles(),
    )

# What a toolchain's tool needs besides its runfiles: its dependency wheels (inputs of
# every action that runs it) and uv's wheel (for `bazel run` of lock targets only).
TOOL_INPUTS = [
    fake_file("../vpython_toolchains_deps_linux_x86_64/manifest.json"),
    fake_file("../vpython_toolchains_deps_linux_x86_64/wheels/packaging-26.4-py3-none-any.whl"),
]
UV_WHEEL = fake_file("../vpython_toolchains_deps_linux_x86_64/wheels/uv-0.13.9-py3-none-manylinux_2_17_x86_64.whl")

# An interpreter label's runfiles (what a python-build-standalone filegroup's `data` holds).
STDLIB = fake_file("../python/lib/python3.11/os.py")

# A toolchain for a platform other than the host's: nothing to pin.
TC = toolchain_info()
HOST_PYTHON = fake_file("../vpython_toolchains/host_python/python3.11")

# The host platform's toolchain: it carries the host Python as a file.
HOST_TC = toolchain_info(run_python = HOST_PYTHON, run_python_version = "3.11")

LOCK = fake_file("../pypi/pylock.toml")
WHEELS = [
    fake_file("../pypi/wheels/markupsafe-3.0.3-cp311-cp311-manylinux_2_17_x86_64.whl"),
    fake_file("../pypi/wheels/six-1.17.0-py2.py3-none-any.whl"),
    fake_file("../other/wheels/extra-1-py3-none-any.whl"),
]

def wheels_dep(packages = None, lock = LOCK, wheels = WHEELS):
    return fake_target({VpythonWheelsInfo: VpythonWheelsInfo(
        lock = lock,
        lock_packages = ["markupsafe", "six"],
        packages = packages or ["markupsafe", "six"],
        wheels = depset(wheels),
    )})

def binary_ctx(test = False, artifact = "venv", python_version = "", deps = None, lock = None, spec = True, env = None, main = None, tc = TC, allow_sdist_builds = False):
    """A rule context for py_vpython_binary/py_vpython_test.

    Args:
      test: py_vpython_test instead of py_vpython_binary.
      artifact: "venv" or "pex".
      python_version: the python_version attribute.
      deps: targets with VpythonWheelsInfo (default: one of the whole sample lock).
      lock: the lock attribute's File, or None.
      spec: True for pkg/vpython.toml, a File, or None.
      env: the env attribute.
      main: the main File (default pkg/app.py).
      tc: the VpythonToolchainInfo.
      allow_sdist_builds: the allow_sdist_builds attribute.

    Returns:
      A fake ctx.
    """
    main = main or fake_file("pkg/app.py")
    data = fake_file("pkg/data.txt")
    attrs = {
        "_launcher_template": fake_target(),
        "_test": test,
        "allow_sdist_builds": allow_sdist_builds,
        "artifact": artifact,
        "data": [fake_target()],
        "deps": deps if deps != None else [wheels_dep()],
        "env": env or {"GREETING": "hi $(location data.txt)", "QUOTE": "it's"},
        "lock": None,
        "main": fake_target(),
        "python_version": python_version,
        "spec": None,
        "srcs": [],
    }
    files = {
        "_launcher_template": [fake_file("../vpython/rules/private/launcher.sh.tpl")],
        "data": [data],
        "lock": [lock] if lock else [],
        "main": [main],
        "spec": [fake_file("pkg/vpython.toml")] if spec == True else ([spec] if spec else []),
        "srcs": [fake_file("pkg/helper.py")],
    }
    return fake_ctx(
        fake_label("pkg", "app"),
        attrs,
        files,
        toolchains = {TOOLCHAIN_TYPE: struct(vpython = tc)},
        data_locations = {"data.txt": "pkg/data.txt"},
    )

def _logged(ctx, kind):
    return [entry[1] for entry in ctx.actions.log if entry[0] == kind]

def test_build_arguments():
    args = build_arguments(
        fake_ctx(fake_label("pkg", "app"), {}).actions.args(),
        positional = fake_file("pkg/vpython.toml"),
        artifact = "venv",
        out = fake_file("pkg/app.venv", root = "bazel-out/k8-fastbuild/bin", is_directory = True),
        platform_tag = "manylinux_2_28_x86_64",
        python_version = "3.11",
        main = fake_file("pkg/app.py"),
        lock = LOCK,
        wheels = depset(WHEELS),
    )
    assert_eq(args.argv, [
        "build",
        "pkg/vpython.toml",
        "--format",
        "venv",
        "-o",
        "bazel-out/k8-fastbuild/bin/pkg/app.venv",
        "--platform",
        "manylinux_2_28_x86_64",
        "--python",
        "3.11",
        "--main",
        "pkg/app.py",
        "--lock",
        "external/pypi/pylock.toml",
        "--find-links",
        "external/pypi/wheels",
        "--find-links",
        "external/other/wheels",
        "--offline",
        "--only-binary",
    ])

def test_build_arguments_allowing_sdist_builds():
    """allow_sdist_builds drops --only-binary and --offline (the build's backend comes from the index)."""
    args = build_arguments(
        fake_ctx(fake_label("pkg", "app"), {}).actions.args(),
        positional = fake_file("pkg/vpython.toml"),
        artifact = "venv",
        out = fake_file("pkg/app.venv", root = "bazel-out/k8-fastbuild/bin", is_directory = True),
        platform_tag = "manylinux_2_28_x86_64",
        python_version = "3.11",
        main = fake_file("pkg/app.py"),
        lock = LOCK,
        wheels = depset(WHEELS),
        allow_sdist_builds = True,
    )
    assert_true("--only-binary" not in args.argv and "--offline" not in args.argv, args.argv)
    assert_eq(args.argv[-2:], ["--find-links", "external/other/wheels"])

def test_binary_action_strict_by_default_and_online_when_building():
    """The action is offline and strict by default; allowing builds asks for the network."""
    strict = _logged(binary_ctx_ran(False), "run")[0]
    assert_eq(strict["execution_requirements"], {})
    building = _logged(binary_ctx_ran(True), "run")[0]
    assert_eq(building["execution_requirements"], {"requires-network": "1"})

def binary_ctx_ran(allow_sdist_builds):
    ctx = binary_ctx(allow_sdist_builds = allow_sdist_builds)
    py_vpython_binary.implementation(ctx)
    return ctx

def test_binary_venv_action():
    """The VpythonBuild action of a venv binary, its launcher and runfiles."""
    ctx = binary_ctx()
    providers = py_vpython_binary.implementation(ctx)
    assert_eq(_logged(ctx, "declare_directory"), ["pkg/app.venv"])
    runs = _logged(ctx, "run")
    assert_eq(len(runs), 1)
    run = runs[0]
    assert_eq(run["mnemonic"], "VpythonBuild")
    assert_eq(run["executable"], TC.vpython)
    assert_eq(run["env"], BUILD_ENV)
    assert_in("//pkg:app", run["progress_message"])
    assert_in("manylinux_2_28_x86_64", run["progress_message"])
    assert_in("Python 3.11", run["progress_message"])
    argv = run["arguments"][0].argv
    assert_eq(argv[:2], ["build", "pkg/vpython.toml"])
    assert_in("--lock", argv)
    assert_eq([a for a in argv if a.startswith("/")], [], "absolute paths in " + repr(argv))
    inputs = [f.short_path for f in run["inputs"].to_list()]
    for expected in ["pkg/app.py", "pkg/vpython.toml", "../pypi/pylock.toml", "../pypi/wheels/six-1.17.0-py2.py3-none-any.whl"]:
        assert_in(expected, inputs)

    # The tool's own dependencies are declared inputs (not uv: builds never resolve).
    for f in TOOL_INPUTS:
        assert_in(f.short_path, inputs)
    assert_true(UV_WHEEL.short_path not in inputs, "uv is an input of a build action")
    assert_eq([f.short_path for f in run["outputs"]], ["pkg/app.venv"])

    templates = _logged(ctx, "expand_template")
    assert_eq(len(templates), 1)
    subs = templates[0].substitutions
    assert_true(templates[0].is_executable, "launcher must be executable")
    assert_in("\"$R/\"'my_ws/pkg/app.venv'/bin/python \"$R/\"'my_ws/pkg/app.py' \"$@\"", subs["%EXEC%"])
    assert_in("export PYTHONPATH=\"$R/\"'my_ws'", subs["%EXEC%"])
    assert_in("export GREETING='hi pkg/data.txt'", subs["%ENV%"])
    assert_in("export QUOTE='it'\\''s'", subs["%ENV%"])
    assert_eq(subs["%RULE%"], "py_vpython_binary")

    default = providers[0]
    assert_eq(default.executable.short_path, "pkg/app")
    assert_eq(sorted([f.short_path for f in default.files.to_list()]), ["pkg/app", "pkg/app.venv"])
    runfiles = [f.short_path for f in default.runfiles.files]
    for expected in ["pkg/app", "pkg/app.venv", "pkg/app.py", "pkg/helper.py", "pkg/data.txt"]:
        assert_in(expected, runfiles)
    assert_true("../pypi/pylock.toml" not in runfiles, "the lock is not needed at run time")

def test_binary_pex_and_python_override():
    """A pex artifact with another Python: its SBOM is a declared output."""
    ctx = binary_ctx(artifact = "pex", python_version = "3.12", spec = None)
    providers = py_vpython_binary.implementation(ctx)
    assert_eq(_logged(ctx, "declare_file")[:2], ["pkg/app.pex", "pkg/app.pex.cdx.json"])
    run = _logged(ctx, "run")[0]
    argv = run["arguments"][0].argv
    assert_eq(argv[1], "pkg/app.py")  # no spec: main carries (or lacks) its own
    assert_eq(argv[argv.index("--format") + 1], "pex")
    assert_eq(argv[argv.index("--python") + 1], "3.12")

    # `vpython build --format pex -o X.pex` also writes X.pex.cdx.json: a declared output.
    assert_eq(argv[argv.index("-o") + 1] + ".cdx.json", run["outputs"][1].path)
    assert_eq([f.short_path for f in run["outputs"]], ["pkg/app.pex", "pkg/app.pex.cdx.json"])
    groups = providers[1]
    assert_eq([f.short_path for f in groups.sbom.to_list()], ["pkg/app.pex.cdx.json"])
    assert_eq([f.short_path for f in groups.vpython_artifact.to_list()], ["pkg/app.pex"])
    assert_true("pkg/app.pex.cdx.json" not in [f.short_path for f in providers[0].files.to_list()], "the SBOM is not a default output")

    exec_lines = _logged(ctx, "expand_template")[-1].substitutions["%EXEC%"]
    assert_in("PEX=\"$R/\"'my_ws/pkg/app.pex'", exec_lines)
    assert_in("export PEX_EXTRA_SYS_PATH=\"$R/\"'my_ws'", exec_lines)

    # Without the pex's shebang interpreter: one of the version it was built for.
    assert_in("exec python3.12 \"$PEX\" \"$@\"", exec_lines)
    assert_true("exec python3 " not in exec_lines, exec_lines)

def test_venv_has_no_separate_sbom_output():
    ctx = binary_ctx()
    providers = py_vpython_binary.implementation(ctx)
    assert_eq([f.short_path for f in _logged(ctx, "run")[0]["outputs"]], ["pkg/app.venv"])
    assert_eq(providers[1].sbom.to_list(), [])

def test_toolchain_parameter_only_where_run_accepts_it():
    """ctx.actions.run gets `toolchain =` only on Bazel 6+."""

    # The fakes are Bazel 4.2.3: config_common has no toolchain_type.
    assert_eq(RUN_ACCEPTS_TOOLCHAIN, False)
    assert_eq(toolchain_kwargs(False), {})
    assert_eq(toolchain_kwargs(True), {"toolchain": TOOLCHAIN_TYPE_LABEL})
    assert_eq(str(TOOLCHAIN_TYPE_LABEL), TOOLCHAIN_TYPE)
    ctx = binary_ctx()
    py_vpython_binary.implementation(ctx)
    assert_true("toolchain" not in _logged(ctx, "run")[0], "4.2.3 rejects run(toolchain = ...)")

def test_host_toolchain_pins_the_interpreter_from_the_runfiles():
    """Host-platform targets pin the toolchain's Python by runfiles path."""
    for artifact in ["venv", "pex"]:
        ctx = binary_ctx(artifact = artifact, tc = HOST_TC)
        providers = py_vpython_binary.implementation(ctx)
        subs = _logged(ctx, "expand_template")[0].substitutions
        assert_eq(subs["%PYTHON%"], "export VPYTHON_PYTHON=\"$R/\"'vpython_toolchains/host_python/python3.11'")
        assert_in("../vpython_toolchains/host_python/python3.11", [f.short_path for f in providers[0].runfiles.files])
        assert_in(STDLIB, providers[0].runfiles.files)
        for value in subs.values():
            assert_true("/usr/bin" not in value, "absolute path in the launcher: " + value)
        if artifact == "pex":
            assert_in("exec \"$VPYTHON_PYTHON\" \"$PEX\" \"$@\"", subs["%EXEC%"])

def test_no_pin_for_another_python_or_platform():
    """No pinned interpreter for another Python or platform."""
    for tc, version in [(HOST_TC, "3.12"), (TC, "3.11"), (TC, "")]:
        ctx = binary_ctx(tc = tc, python_version = version)
        providers = py_vpython_binary.implementation(ctx)
        subs = _logged(ctx, "expand_template")[0].substitutions
        assert_true("VPYTHON_PYTHON=" not in subs["%PYTHON%"], subs["%PYTHON%"])
        assert_true(HOST_PYTHON not in providers[0].runfiles.files, "interpreter in the runfiles")
        assert_true(STDLIB not in providers[0].runfiles.files, "interpreter runfiles in the runfiles")

def test_explicit_lock_overrides_deps_lock():
    """`lock =` wins over the lockfile of deps."""
    own = fake_file("pkg/pylock.app.toml")
    ctx = binary_ctx(lock = own, deps = [wheels_dep(packages = ["six"])])
    py_vpython_binary.implementation(ctx)
    argv = _logged(ctx, "run")[0]["arguments"][0].argv
    assert_eq(argv[argv.index("--lock") + 1], "pkg/pylock.app.toml")

def test_test_rule_shares_the_implementation():
    """py_vpython_test is py_vpython_binary with test = True."""
    assert_eq(py_vpython_test.implementation, py_vpython_binary.implementation)
    assert_true(py_vpython_test.test and not py_vpython_binary.test, "test flags")
    assert_true(py_vpython_binary.executable, "binary is executable")
    assert_eq(py_vpython_binary.toolchains, [TOOLCHAIN_TYPE])
    assert_eq(sorted(py_vpython_test.attrs.keys()), sorted(py_vpython_binary.attrs.keys()))
    for name in ["artifact", "data", "deps", "env", "lock", "main", "python_version", "spec", "srcs"]:
        assert_in(name, py_vpython_binary.attrs)
    assert_eq(py_vpython_binary.attrs["artifact"].values, ["venv", "pex"])
    ctx = binary_ctx(test = True)
    py_vpython_test.implementation(ctx)
    assert_eq(_logged(ctx, "expand_template")[0].substitutions["%RULE%"], "py_vpython_test")

def test_lock_macro_is_defined():
    assert_true(vpython_lock != None, "vpython_lock")

def test_fix_target_label():
    """The lock test's fix names its `bazel run` target on Bazel 4 and 7."""

    # Bazel 4.2.3: native.repository_name().
    assert_eq(fix_target_label("lock", fake_native("tools", "@")), "//tools:lock")
    assert_eq(fix_target_label("lock", fake_native("", "@other")), "@other//:lock")

    # Bazel 7.1+: package_relative_label (repository_name() may be disabled).
    assert_eq(fix_target_label("lock", fake_native(relative_label = "@@//tools:%s")), "//tools:lock")
    assert_eq(fix_target_label("lock", fake_native(relative_label = "@//tools:%s")), "//tools:lock")
    assert_eq(fix_target_label("lock", fake_native(relative_label = "@@other+//:%s")), "@@other+//:lock")

def lock_ctx(check = False, spec = None, platforms = None):
    spec = spec or fake_file("pkg/vpython.toml")
    attrs = {
        "_check": check,
        "_template": fake_target(),
        "fix_target": "//pkg:lock",
        "lock": fake_target(),
        "platforms": platforms or [],
        "spec": fake_target(),
    }
    files = {
        "_template": [fake_file("../vpython/rules/private/lock_run.sh.tpl")],
        "lock": [fake_file("pkg/pylock.vpython.toml")],
        "spec": [spec],
    }
    return fake_ctx(fake_label("pkg", "lock"), attrs, files, toolchains = {TOOLCHAIN_TYPE: struct(vpython = TC)})

def test_lock_rules():
    """vpython_lock's scripts, their runfiles, and uv for `bazel run` only."""
    ctx = lock_ctx(check = True, platforms = ["win_arm64"])
    check = lock_impl(ctx)[0].runfiles.files
    subs = _logged(ctx, "expand_template")[0].substitutions
    assert_eq(subs["%FLAGS%"], "--platform 'win_arm64'")
    assert_eq(subs["%SPEC%"], "'pkg/vpython.toml'")
    assert_eq(_logged(ctx, "declare_file"), ["pkg/lock.check.sh"])

    # Both run the tool outside an action: its dependencies are runfiles. Only `bazel run`
    # resolves, so only it gets uv.
    run = lock_impl(lock_ctx())[0].runfiles.files
    for f in TOOL_INPUTS:
        assert_in(f, check)
        assert_in(f, run)
    assert_in(UV_WHEEL, run)
    assert_true(UV_WHEEL not in check, "uv in the runfiles of the lock check")

# --------------------------------------------------------------------------- toolchains

def toolchain_ctx(python_version = "3.11", platform_tag = "manylinux_2_28_x86_64", run_python = None, run_python_version = ""):
    attrs = {
        "cpu": "x86_64",
        "interpreter": "/usr/bin/python3.11",
        "os": "linux",
        "platform_tag": platform_tag,
        "python_version": python_version,
        "run_python": fake_target() if run_python else None,
        "run_python_version": run_python_version,
        "vpython": fake_target({
            DefaultInfo: DefaultInfo(
                default_runfiles = fake_runfiles(),
                files_to_run = struct(executable = fake_file("../vpython_toolchains/vpython", root = "bazel-out/host/bin")),
            ),
            VpythonToolInfo: VpythonToolInfo(inputs = depset(TOOL_INPUTS), uv = UV_WHEEL),
        }),
    }
    files = {"run_python": [run_python] if run_python else []}
    ctx = fake_ctx(fake_label("", "linux_x86_64", repo = "@vpython_toolchains"), attrs, files)
    return ctx

def test_toolchain_rule():
    """vpython_toolchain passes the tool, its inputs, uv and the pinned Python on."""
    info = vpython_toolchain.implementation(toolchain_ctx(run_python = HOST_PYTHON, run_python_version = "3.11"))[0].vpython
    assert_eq(info.run_python, HOST_PYTHON)
    assert_eq(info.run_python_version, "3.11")
    info = vpython_toolchain.implementation(toolchain_ctx())[0].vpython
    assert_eq(info.run_python, None)
    assert_eq(info.run_python_version, "")
    assert_eq(info.vpython_inputs.to_list(), TOOL_INPUTS)
    assert_eq(info.uv, UV_WHEEL)

PROBE = {
    "abi": "cpython-311-x86_64-linux-gnu",
    "executable": "/opt/py/bin/python3.11",
    "implementation": "cpython",
    "machine": "x86_64",
    "version": "3.11.7",
}
CHECKOUT = "/src/vpython"
TOOL_LOCK_PATH = "/src/vpython/toolchains/tool/pylock.vpython.json"
UV_X86 = "uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"

# A small stand-in for toolchains/tool/pylock.vpython.json: the lock (two versions of
# packaging, by Python; uv per platform) and which wheels each target selects.
TOOL_LOCK_DOC = {
    "lock": _lock([
        {"name": "packaging", "version": "26.4", "marker": "python_version != '3.9'", "wheels": [_wheel("packaging-26.4-py3-none-any.whl", "6" * 64)]},
        {"name": "packaging", "version": "26.3", "marker": "python_version == '3.9'", "wheels": [_wheel("packaging-26.3-py3-none-any.whl", "7" * 64)]},
        {"name": "uv", "version": "0.13.9", "wheels": [
            _wheel(UV_X86, "8" * 64),
            _wheel("uv-0.13.9-py3-none-macosx_11_0_arm64.whl", "9" * 64),
        ]},
    ]),
    "targets": {
        "cp311-cp311-macosx_11_0_arm64": ["packaging-26.4-py3-none-any.whl", "uv-0.13.9-py3-none-macosx_11_0_arm64.whl"],
        "cp311-cp311-manylinux_2_28_aarch64": ["packaging-26.4-py3-none-any.whl"],
        "cp311-cp311-manylinux_2_28_x86_64": ["packaging-26.4-py3-none-any.whl", UV_X86],
        "cp39-cp39-manylinux_2_28_x86_64": ["packaging-26.3-py3-none-any.whl", UV_X86],
    },
}

def toolchains_rctx(python_version = "", platform_tags = None, probe = None, vpython_package = True, uname = "x86_64", exec_interpreters = None):
    existing = {CHECKOUT + "/vpython/__init__.py": True} if vpython_package else {}

    def execute(argv):
        if argv[0] == "uname":
            return (0, uname + "\n", "")
        if probe == None:
            return (0, json.encode(PROBE), "")
        if type(probe) == "dict":
            return (0, json.encode(probe), "")
        return probe

    return fake_rctx(
        {
            "deps_repo_prefix": "vpython_toolchains_deps_",
            "exec_interpreters": exec_interpreters or {},
            "name": "vpython_toolchains",
            "platform_tags": platform_tags or {},
            "python_interpreter": "",
            "python_version": python_version,
        },
        paths = {
            "@vpython//rules:BUILD.bazel": CHECKOUT + "/rules/BUILD.bazel",
            "@vpython//toolchains:tool/pylock.vpython.json": TOOL_LOCK_PATH,
        },
        existing = existing,
        which = {"python3": "/opt/py/bin/python3.11"},
        execute = execute,
        files = {TOOL_LOCK_PATH: json.encode(TOOL_LOCK_DOC)},
    )

def generated_toolchains_build_file(uname = "x86_64", probe = None, exec_interpreters = None):
    """What vpython_toolchains_repo writes for a fake host.

    Args:
      uname: the host CPU (`uname -m`).
      probe: the interpreter probe's answer (a dict), or (code, stdout, stderr); None: PROBE.
      exec_interpreters: the exec_interpreters attribute.

    Returns:
      (BUILD.bazel text, [(symlink target, link name)]).
    """
    rctx = toolchains_rctx(uname = uname, probe = probe, exec_interpreters = exec_interpreters)
    vpython_toolchains_repo.implementation(rctx)
    files = dict([(entry[1][0], entry[1][1]) for entry in rctx.log if entry[0] == "file"])
    symlinks = [(entry[1][0], entry[1][1]) for entry in rctx.log if entry[0] == "symlink"]
    return files["BUILD.bazel"], symlinks

def _block(build, name, kind = "vpython_toolchain"):
    return build.split("%s(\n    name = \"%s\"" % (kind, name))[1].split("\n)")[0]

def test_toolchains_repo_host_tool_runs_the_host_python_on_the_locked_wheels():
    """The host tool: the probed Python, its identity, that Python's tool wheels."""
    build, _ = generated_toolchains_build_file()
    tool = _block(build, "vpython", "vpython_tool")
    assert_in("interpreter_path = \"/opt/py/bin/python3.11\"", tool)
    assert_in("fingerprint = \"cpython 3.11.7 cpython-311-x86_64-linux-gnu\"", tool)

    # Only the probed Python's wheels (fewer inputs per action).
    assert_in("deps = \"@vpython_toolchains_deps_linux_x86_64//:tool_deps_3.11\"", tool)
    assert_true("problem" not in tool, tool)
    assert_eq(build.count("vpython_tool("), 1)
    assert_eq(build.count("\ntoolchain(\n"), 6)  # one per target platform, all on the host
    for key in PLATFORM_KEYS:
        assert_in("vpython = \":vpython\"", _block(build, key))

def test_toolchains_repo_exec_interpreters_add_remote_exec_platforms():
    """exec_interpreters: a label for the host, toolchains for other exec platforms."""
    labels = {"linux_arm64": "@python_arm//:bin/python3", "linux_x86_64": "//tools:python3"}
    build, symlinks = generated_toolchains_build_file(exec_interpreters = labels)

    # The host platform's entry replaces the host Python: a label (an action input), probed.
    tool = _block(build, "vpython", "vpython_tool")
    assert_in("interpreter = \"@//tools:python3\"", tool)
    assert_true("interpreter_path" not in tool, tool)
    assert_in("run_python = \"@//tools:python3\"", _block(build, "linux_x86_64"))
    assert_eq(symlinks[1:], [])  # only vpython_src: no host_python link

    # Another platform: its own tool (every locked Python: it is not probed) and toolchains.
    arm = _block(build, "vpython_exec_linux_arm64", "vpython_tool")
    assert_in("interpreter = \"@python_arm//:bin/python3\"", arm)
    assert_in("deps = \"@vpython_toolchains_deps_linux_arm64//:tool_deps\"", arm)
    assert_eq(build.count("\ntoolchain(\n"), 12)
    remote = _block(build, "exec_linux_arm64_macos_arm64")
    assert_in("vpython = \":vpython_exec_linux_arm64\"", remote)
    assert_true("run_python" not in remote, remote)
    section = build.split("name = \"exec_linux_arm64_macos_arm64_toolchain\"")[1].split("\n)")[0]
    assert_in("@platforms//cpu:aarch64", section.split("target_compatible_with")[0])
    assert_in("@platforms//os:macos", section.split("target_compatible_with")[1])

def test_toolchains_repo_reports_an_unusable_interpreter_through_the_tool():
    """Too old, unlocked or non-CPython interpreters and unknown hosts become the tool's problem."""
    old = dict(PROBE, version = "3.8.18")
    for probe, uname, expected in [
        (old, "x86_64", "the host Python /opt/py/bin/python3.11 is Python 3.8.18; the vpython tool needs 3.9 or newer."),
        (dict(PROBE, version = "3.15.0"), "x86_64", "is Python 3.15, which vpython's tool lock @vpython//toolchains:tool/pylock.vpython.json does not cover on linux_x86_64 (it has 3.9, 3.11)."),
        (dict(PROBE, implementation = "pypy"), "x86_64", "is pypy; vpython's tool lock has wheels for CPython only."),
        (None, "s390x", "this host (os linux, cpu s390x) is not an exec platform vpython's tool lock covers"),
    ]:
        build, _ = generated_toolchains_build_file(uname = uname, probe = probe)
        tool = _block(build, "vpython", "vpython_tool")
        assert_in(expected, tool)
        assert_in("\\nFix: ", tool)

        # No deps label: analysing the tool must reach its fail(), not a missing target.
        assert_true("deps = " not in tool, tool)
        assert_true("run_python" not in build, "pinned an unusable interpreter")
    assert_in("Fix: point vpython_register_toolchains at CPython 3.9 or newer", interpreter_problem(old, "x"))
    assert_eq(interpreter_problem(PROBE, "x"), "")

def test_toolchains_repo_pins_the_host_python_on_the_host_toolchain_only():
    """Only the host platform's toolchain carries the host Python."""
    build, symlinks = generated_toolchains_build_file()
    assert_in(("/opt/py/bin/python3.11", "host_python/python3.11"), symlinks)
    assert_eq(build.count("run_python = \":host_python/python3.11\""), 1)
    host = build.split("name = \"linux_x86_64\"")[1].split(")")[0]
    assert_in("run_python = \":host_python/python3.11\"", host)
    assert_in("run_python_version = \"3.11\"", host)
    other = build.split("name = \"linux_arm64\"")[1].split(")")[0]
    assert_true("run_python" not in other, other)

    # An arm64 host pins on its own toolchain.
    build, _ = generated_toolchains_build_file(uname = "aarch64")
    host = build.split("name = \"linux_arm64\"")[1].split(")")[0]
    assert_in("run_python = ", host)
    assert_eq(build.count("run_python = "), 1)

# --------------------------------------------------------------------------- fail() messages

def fails_two_lockfiles():
    other = fake_file("../pypi2/pylock.toml")
    py_vpython_binary.implementation(binary_ctx(deps = [wheels_dep(), wheels_dep(lock = other)]))

def fails_partial_deps():
    py_vpython_binary.implementation(binary_ctx(deps = [wheels_dep(packages = ["six"])]))

def fails_bad_env_name():
    py_vpython_binary.implementation(binary_ctx(env = {"BAD-NAME": "x"}))

def fails_bad_python_version():
    py_vpython_test.implementation(binary_ctx(test = True, python_version = "3"))

def fails_spec_is_main():
    main = fake_file("pkg/app.py")
    py_vpython_binary.implementation(binary_ctx(main = main, spec = main))

# vpython_locked_wheels (wheels_repo.bzl)

def wheels_rctx(python_interpreter = "", which = None, execute = None):
    return fake_rctx(
        {"allow_sdist_builds": False, "lock": "@//:pylock.vpython.toml", "name": "pypi", "python_interpreter": python_interpreter},
        which = {"python3": "/usr/bin/python3"} if which == None else which,
        execute = execute,
    )

def fails_wheels_missing_interpreter():
    vpython_locked_wheels.implementation(wheels_rctx(python_interpreter = "/nowhere/python3"))

def fails_wheels_no_python_on_path():
    vpython_locked_wheels.implementation(wheels_rctx(which = {}))

def fails_wheels_unreadable_lock():
    vpython_locked_wheels.implementation(wheels_rctx(execute = lambda argv: (4, "", "pylock.vpython.toml: line 3: invalid TOML")))

def fails_wheels_unusable_lock():
    bad = json.encode({"lock-version": "1.0", "packages": [{"name": "x", "sdist": {"name": "x-1.tar.gz"}}]})
    vpython_locked_wheels.implementation(wheels_rctx(execute = lambda argv: (0, bad, "")))

# vpython_register_toolchains (toolchains_repo.bzl)

def fails_toolchains_no_vpython_package():
    vpython_toolchains_repo.implementation(toolchains_rctx(vpython_package = False))

def fails_toolchains_python_does_not_run():
    vpython_toolchains_repo.implementation(toolchains_rctx(probe = (1, "", "Segmentation fault")))

def fails_toolchains_bad_python_version():
    vpython_toolchains_repo.implementation(toolchains_rctx(python_version = "3"))

def fails_toolchains_unknown_platform_tag_key():
    vpython_toolchains_repo.implementation(toolchains_rctx(platform_tags = {"solaris_sparc": "solaris_sparc"}))

# vpython_lock (lock.bzl)

def fails_lock_spec_in_another_repository():
    lock_impl(lock_ctx(spec = fake_file("../other/vpython.toml")))

def fails_lock_bad_platform_tag():
    lock_impl(lock_ctx(platforms = ["manylinux-2-28"]))

# vpython_tool (tool.bzl)

MANIFEST = fake_file("../vpython_toolchains_deps_linux_x86_64/manifest.json")
DEPS_WHEELS = [fake_file("../vpython_toolchains_deps_linux_x86_64/wheels/packaging-26.4-py3-none-any.whl")]

def tool_deps_target(python = "3.11"):
    return fake_target({VpythonToolDepsInfo: VpythonToolDepsInfo(
        manifest = MANIFEST,
        platform = "linux_x86_64",
        python = python,
        uv = UV_WHEEL,
        wheels = depset(DEPS_WHEELS),
    )})

def tool_ctx(srcs = None, interpreter = None, interpreter_path = "", problem = "", deps = True):
    attrs = {
        "_bootstrap": fake_target(),
        "_template": fake_target(),
        "deps": tool_deps_target() if deps else None,
        "fingerprint": "cpython 3.11.7 cpython-311-x86_64-linux-gnu",
        "interpreter": interpreter,
        "interpreter_path": interpreter_path,
        "problem": problem,
        "srcs": [fake_target()],
    }
    files = {
        "_bootstrap": [fake_file("../vpython/rules/private/tool_bootstrap.py")],
        "_template": [fake_file("../vpython/rules/private/vpython_tool.sh.tpl")],
        "interpreter": [fake_file("../python/bin/python3")] if interpreter else [],
        "srcs": srcs if srcs != None else [fake_file("../vpython_toolchains/vpython_src/vpython/__init__.py")],
    }
    return fake_ctx(fake_label("", "vpython", repo = "@vpython_toolchains"), attrs, files)

def test_tool_rule():
    """vpython_tool's launcher substitutions; its dependencies are inputs, not runfiles."""
    ctx = tool_ctx(interpreter_path = "/usr/bin/python3.11")
    providers = vpython_tool.implementation(ctx)
    subs = _logged(ctx, "expand_template")[0].substitutions
    assert_eq(subs["%SRCS_ROOT%"], "'vpython_toolchains/vpython_src'")
    assert_eq(subs["%PYTHON%"], "'/usr/bin/python3.11'")
    assert_eq(subs["%MANIFEST%"], "'vpython_toolchains_deps_linux_x86_64/manifest.json'")
    assert_eq(subs["%MANIFEST_EXEC_PATH%"], "'external/vpython_toolchains_deps_linux_x86_64/manifest.json'")
    assert_eq(subs["%PYTHON_VERSION%"], "'3.11'")
    assert_eq(subs["%FINGERPRINT%"], "cpython 3.11.7 cpython-311-x86_64-linux-gnu")

    # The dependencies are not the tool's runfiles (Bazel 4's sandbox would stage them
    # twice) but its VpythonToolInfo inputs; uv is neither.
    runfiles = providers[0].runfiles.files
    assert_true(MANIFEST not in runfiles and DEPS_WHEELS[0] not in runfiles, "dependencies in the tool's runfiles")
    info = providers[1]
    assert_eq(info.inputs.to_list(), [MANIFEST] + DEPS_WHEELS)
    assert_eq(info.uv, UV_WHEEL)

def test_tool_rule_with_an_interpreter_label():
    """An interpreter label is run from the runfiles."""
    ctx = tool_ctx(interpreter = fake_target({DefaultInfo: DefaultInfo(default_runfiles = fake_runfiles(), files_to_run = struct(executable = None))}))
    providers = vpython_tool.implementation(ctx)
    subs = _logged(ctx, "expand_template")[0].substitutions
    assert_eq(subs["%PYTHON%"], "\"$R/\"'python/bin/python3'")
    assert_in("../python/bin/python3", [f.short_path for f in providers[0].runfiles.files])

def test_tool_deps_set_rule():
    """vpython_tool_deps_set gives its wheels, uv and Python."""
    ctx = fake_ctx(
        fake_label("", "tool_deps_3.11", repo = "@vpython_toolchains_deps_linux_x86_64"),
        {"platform": "linux_x86_64", "python": "3.11"},
        {"manifest": [MANIFEST], "uv": [UV_WHEEL], "wheels": DEPS_WHEELS},
    )
    info = vpython_tool_deps_set.implementation(ctx)[1]
    assert_eq(info.python, "3.11")
    assert_eq(info.uv, UV_WHEEL)
    assert_eq(info.wheels.to_list(), DEPS_WHEELS)

def fails_tool_no_vpython_sources():
    vpython_tool.implementation(tool_ctx(srcs = [fake_file("../vpython_toolchains/other/__init__.py")], interpreter_path = "/usr/bin/python3"))

def fails_tool_two_interpreters():
    vpython_tool.implementation(tool_ctx(interpreter = fake_target(), interpreter_path = "/usr/bin/python3"))

def fails_tool_no_interpreter():
    vpython_tool.implementation(tool_ctx())

def fails_tool_no_deps():
    vpython_tool.implementation(tool_ctx(interpreter_path = "/usr/bin/python3", deps = False))

def fails_tool_problem():
    # What vpython_register_toolchains writes for a too old host Python.
    build, _ = generated_toolchains_build_file(probe = dict(PROBE, version = "3.8.18"))
    problem = _block(build, "vpython", "vpython_tool").split("problem = ")[1].split("\n")[0].rstrip(",")
    vpython_tool.implementation(tool_ctx(interpreter_path = "/opt/py/bin/python3.11", problem = json.decode(problem)))

def fails_tool_deps_set_bad_python():
    vpython_tool_deps_set.implementation(fake_ctx(
        fake_label("", "tool_deps_3", repo = "@vpython_toolchains_deps_linux_x86_64"),
        {"platform": "linux_x86_64", "python": "3"},
        {"manifest": [MANIFEST], "uv": [], "wheels": []},
    ))

# vpython_tool_deps (tool_deps_repo.bzl)

def tool_deps_rctx(platform = "linux_x86_64", doc = None):
    return fake_rctx(
        {"name": "vpython_toolchains_deps_" + platform, "platform": platform},
        paths = {"@vpython//toolchains:tool/pylock.vpython.json": TOOL_LOCK_PATH},
        files = {TOOL_LOCK_PATH: json.encode(doc or TOOL_LOCK_DOC)},
    )

def test_tool_lock_targets():
    """Lock targets map to platforms and Pythons; a platform's wheels per Python."""
    assert_eq(target_platform_and_python("cp311-cp311-manylinux_2_28_x86_64"), ("linux_x86_64", "3.11"))
    assert_eq(target_platform_and_python("cp39-cp39-win_arm64"), ("windows_arm64", "3.9"))
    assert_eq(target_platform_and_python("cp314-cp314-macosx_11_0_arm64"), ("macos_arm64", "3.14"))
    assert_eq(target_platform_and_python("cp311-cp311-macosx_10_9_universal2"), (None, None))  # two CPUs
    assert_eq(target_platform_and_python("pp310-pypy310_pp73-manylinux_2_28_x86_64"), (None, None))
    pythons, covered = tool_wheels_for_platform(TOOL_LOCK_DOC, "linux_x86_64")
    assert_eq(pythons, {"3.11": ["packaging-26.4-py3-none-any.whl", UV_X86], "3.9": ["packaging-26.3-py3-none-any.whl", UV_X86]})
    assert_eq(covered, ["linux_arm64", "linux_x86_64", "macos_arm64"])

def test_tool_deps_repo_fetches_the_platform_wheels_by_sha256():
    """vpython_tool_deps fetches its platform's wheels and writes manifest and BUILD."""
    rctx = tool_deps_rctx()
    vpython_tool_deps.implementation(rctx)
    downloads = [entry[2] for entry in rctx.log if entry[0] == "download"]
    assert_eq(sorted([d["output"] for d in downloads]), [
        "wheels/packaging-26.3-py3-none-any.whl",
        "wheels/packaging-26.4-py3-none-any.whl",
        "wheels/" + UV_X86,
    ])
    for d in downloads:
        assert_true(len(d["sha256"]) == 64 and d["url"][0].startswith("https://files.example/"), d)
    files = dict([(entry[1][0], entry[1][1]) for entry in rctx.log if entry[0] == "file"])
    manifest = json.decode(files["manifest.json"])
    assert_eq(manifest["pythons"], {"3.11": ["wheels/packaging-26.4-py3-none-any.whl"], "3.9": ["wheels/packaging-26.3-py3-none-any.whl"]})
    assert_eq(manifest["uv"], {"3.11": "wheels/" + UV_X86, "3.9": "wheels/" + UV_X86})
    build = files["BUILD.bazel"]
    three_eleven = _block(build, "tool_deps_3.11", "vpython_tool_deps_set")
    assert_in("\"wheels/packaging-26.4-py3-none-any.whl\"", three_eleven)
    assert_true("26.3" not in three_eleven, three_eleven)
    assert_in("uv = [\n        \"wheels/%s\"" % UV_X86, three_eleven)
    assert_in("python = \"\"", _block(build, "tool_deps", "vpython_tool_deps_set"))

def fails_tool_deps_no_wheels_for_platform():
    vpython_tool_deps.implementation(tool_deps_rctx(platform = "windows_arm64"))

# vpython_locked_wheels on a Python without tomllib (wheels_repo.bzl)

def test_wheels_repo_reads_the_lock_with_the_tool_locks_tomli():
    """A Python without tomllib reads the lockfile with the tool lock's tomli."""
    tomli_lock = {
        "lock": _lock([{"name": "tomli", "version": "2.5.0", "wheels": [_wheel("tomli-2.5.0-py3-none-any.whl", "5" * 64)]}]),
        "targets": {},
    }
    calls = []

    def execute(argv):
        calls.append(argv)
        if len(calls) == 1:
            return (3, "", "Python 3.10 at /usr/bin/python3 has no TOML parser")
        return (0, json.encode(SAMPLE_LOCK), "")

    rctx = fake_rctx(
        {"allow_sdist_builds": False, "lock": "@//:pylock.vpython.toml", "name": "pypi", "python_interpreter": ""},
        paths = {"@vpython//toolchains:tool/pylock.vpython.json": TOOL_LOCK_PATH},
        which = {"python3": "/usr/bin/python3"},
        execute = execute,
        files = {TOOL_LOCK_PATH: json.encode(tomli_lock)},
    )
    vpython_locked_wheels.implementation(rctx)
    extracted = [entry[2] for entry in rctx.log if entry[0] == "download_and_extract"]
    assert_eq(len(extracted), 1)
    assert_eq(extracted[0]["output"], "_toml_reader/tomli-2.5.0-py3-none-any")
    assert_eq(extracted[0]["sha256"], "5" * 64)
    assert_eq(extracted[0]["type"], "zip")
    assert_true(calls[1][-1].endswith("/_toml_reader/tomli-2.5.0-py3-none-any"), calls[1])
    assert_eq(calls[0][:5], ["/usr/bin/python3", "-B", "-E", "-s", "-S"])  # no site-packages

# vpython_toolchain (toolchain.bzl)

def fails_toolchain_bad_python_version():
    vpython_toolchain.implementation(toolchain_ctx(python_version = "3.x"))

def fails_toolchain_bad_platform_tag():
    vpython_toolchain.implementation(toolchain_ctx(platform_tag = "manylinux-2-28-x86_64"))

def fails_toolchain_run_python_without_version():
    vpython_toolchain.implementation(toolchain_ctx(run_python = HOST_PYTHON))
