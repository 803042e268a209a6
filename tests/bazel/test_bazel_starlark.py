"""Starlark unit tests of the vpython rules, run by starlark-pyo3 (no Bazel needed).

* Every .bzl file of rules/ and toolchains/ must parse in a dialect as strict as Bazel
  4.2.3's (no lambda, no f-strings, no type annotations, no top-level if/for) and must
  not use APIs that 4.2.3 lacks or current Bazel removed.
* tests/bazel/starlark/rules_test.bzl runs the rule logic (lockfile model, generated
  BUILD files, `vpython build` arguments, the binary/test implementation) against the
  fake builtins in tests/bazel/starlark/fakes.bzl.

starlark-pyo3 (`pip install starlark-pyo3`) wraps starlark-rust, which is more permissive
than Bazel in places, so these tests complement the real Bazel runs in
test_bazel_example.py; they do not replace them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

sl = pytest.importorskip("starlark", reason="starlark-pyo3 is not installed (pip install starlark-pyo3)")

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "starlark"
BZL_FILES = sorted(
    [p for p in (REPO / "rules").rglob("*.bzl")] + [p for p in (REPO / "toolchains").rglob("*.bzl")]
    + [REPO / "tools" / "bazel" / "offline" / "rules_cc" / "cc" / "defs.bzl",
       REPO / "tools" / "bazel" / "offline" / "rules_java" / "java" / "defs.bzl"]
)
# bzlmod-only code that Bazel 4.2.3 never loads (module_extension, tag_class).
BZLMOD_ONLY = {REPO / "rules" / "extensions.bzl"}
FAKES = ["DefaultInfo", "Label", "OutputGroupInfo", "attr", "config_common", "depset", "module_extension",
         "native", "platform_common", "provider", "repository_rule", "rule", "tag_class"]

# Constructs Bazel 4.2.3 rejects, or current Bazel removed (see reference/bazel-offline.md §6).
FORBIDDEN = {
    r"\blambda\b": "lambda (4.2.3: 'lambda' not supported)",
    r"\.removeprefix\(|\.removesuffix\(": "str.removeprefix/removesuffix (not in 4.2.3)",
    r"(?<![\w.])set\(": "set() (Bazel 8+ only)",
    r"\bsubrule\(": "subrule (7+ only)",
    r"config\.exec\(": "config.exec() (not in 4.2.3)",
    r'cfg\s*=\s*"host"': 'cfg = "host" (an error since Bazel 7)',
    r"\bRunEnvironmentInfo\b": "RunEnvironmentInfo (5.3+ only)",
    r"\b(PyInfo|PyRuntimeInfo|CcInfo|JavaInfo)\b": "language-rule providers (moved out of core)",
    r"exec_groups\s*=": "exec_groups (experimental in 4.2.3)",
    r"ctx\.actions\.run\([^)]*\btoolchain\s*=": "run(toolchain = ...) (not in 4.2.3)",
    r"\brctx\.(getenv|watch)\(|rctx\.os\.arch\b": "repository_ctx.getenv/watch/os.arch (not in 4.2.3)",
    r"\bbazel_features\b|versions\.check": "version checks (Debian's Bazel reports no version)",
    r"\bnative\.bazel_version\b": "native.bazel_version (empty on Debian's Bazel; gone in current Bazel)",
    r"\bctx\.host_configuration\b": "ctx.host_configuration (removed with host transitions)",
    r"\bhost_fragments\b": "rule(host_fragments = ...) (removed with host transitions)",
    r"\breturn\s+struct\(": "returning struct(...) from a rule (struct providers removed in Bazel 8)",
}


def bazel4_dialect():
    d = sl.Dialect.standard()
    d.enable_def = True
    d.enable_load = True
    d.enable_lambda = False
    d.enable_f_strings = False
    d.enable_keyword_only_arguments = True
    d.enable_types = sl.DialectTypes.DISABLE
    d.enable_top_level_stmt = False
    return d


def _globals():
    return sl.Globals.extended_by([sl.LibraryExtension.StructType, sl.LibraryExtension.Json,
                                   sl.LibraryExtension.Print])


class Loader:
    """Resolves `load()` labels to files; evaluates each module once (like Bazel)."""

    def __init__(self):
        self.modules = {}

    def resolve(self, label: str) -> Path:
        if label == "fakes.bzl":
            return HERE / "fakes.bzl"
        m = re.fullmatch(r"(?:@vpython)?//([\w/]*):([\w.]+)", label)
        if m:
            return REPO / m.group(1) / m.group(2)
        m = re.fullmatch(r":([\w.]+)", label)  # relative loads only occur in rules/private
        if m:
            return REPO / "rules" / "private" / m.group(1)
        raise AssertionError(f"unexpected load label {label!r}")

    def load(self, label: str):
        path = self.resolve(label)
        if path not in self.modules:
            self.modules[path] = self._evaluate(path)
        return self.modules[path]

    def _evaluate(self, path: Path):
        src = path.read_text()
        if path.parent != HERE:
            # One extra statement on line 1, so line numbers in errors stay right.
            src = "load(\"fakes.bzl\", %s); " % ", ".join(f'"{n}"' for n in FAKES) + src
        module = sl.Module()
        sl.eval(module, sl.parse(str(path), src, sl.Dialect.extended()), _globals(), sl.FileLoader(self.load))
        return module.freeze()


@pytest.fixture(scope="module")
def rules_test():
    return Loader().load("//tests/bazel/starlark:rules_test.bzl")


def _functions(prefix):
    text = (HERE / "rules_test.bzl").read_text()
    return re.findall(rf"^def ({prefix}\w+)\(\):", text, re.M)


@pytest.mark.parametrize("path", BZL_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_bzl_parses_in_a_bazel4_dialect(path):
    # extensions.bzl too: only its globals (module_extension, tag_class) are bzlmod-only,
    # which test_bzlmod_only_globals_stay_out_of_files_bazel4_loads covers.
    sl.parse(str(path), path.read_text(), bazel4_dialect())


def test_forbidden_patterns_catch_what_they_name():
    """Each FORBIDDEN pattern matches an example of the construct (so a typo cannot
    silently disable a check)."""
    examples = {
        "lambda": "f = lambda x: x",
        "removeprefix": 'x = "a".removeprefix("b")',
        "set()": "s = set([1])",
        "subrule": "s = subrule(implementation = _i)",
        "config.exec()": 'a = attr.label(cfg = config.exec("g"))',
        'cfg = "host"': 'a = attr.label(cfg = "host")',
        "RunEnvironmentInfo": "return [RunEnvironmentInfo(environment = {})]",
        "language-rule": "x = ctx.attr.dep[PyInfo]",
        "exec_groups": "r = rule(_impl, exec_groups = {})",
        "run(toolchain": "ctx.actions.run(executable = e, toolchain = None)",
        "repository_ctx.getenv": 'v = rctx.getenv("X")',
        "version checks": "versions.check(\"5.0\")",
        "native.bazel_version": "v = native.bazel_version",
        "ctx.host_configuration": "c = ctx.host_configuration",
        "host_fragments": 'r = rule(_impl, host_fragments = ["cpp"])',
        "struct(": "    return struct(files = depset())",
    }
    for pattern, why in FORBIDDEN.items():
        hits = [code for key, code in examples.items() if key in why and re.search(pattern, code)]
        assert hits, f"no example matches {pattern!r} ({why})"


@pytest.mark.parametrize("path", BZL_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_bzl_uses_no_api_missing_from_bazel4_or_removed_since(path):
    code = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    code = re.sub(r'"""(.|\n)*?"""', '""', code)  # docstrings may mention anything
    found = [why for pattern, why in FORBIDDEN.items() if re.search(pattern, code)]
    assert not found, f"{path.relative_to(REPO)}: {found}"


def test_bzlmod_only_globals_stay_out_of_files_bazel4_loads():
    for path in BZL_FILES:
        if path in BZLMOD_ONLY:
            continue
        text = path.read_text()
        assert "module_extension(" not in text and "tag_class(" not in text, path


def test_every_rules_module_evaluates_with_fake_builtins():
    loader = Loader()
    for path in BZL_FILES:
        if "tools" in path.parts:
            continue
        loader.load("//" + str(path.parent.relative_to(REPO)) + ":" + path.name)


@pytest.mark.parametrize("name", _functions("test_"))
def test_starlark(rules_test, name):
    rules_test.call(name)


# fails_* function -> (who: the rule and the label or name, then the problem, then the fix).
FAILS = {
    "fails_two_lockfiles": ("py_vpython_binary //pkg:app", r"deps come from 2 different lockfiles", r"\nFix: "),
    "fails_partial_deps": ("py_vpython_binary //pkg:app", r"also locks markupsafe", r"\nFix: depend on the repository's :wheels"),
    "fails_bad_env_name": ("py_vpython_binary //pkg:app", r'invalid variable name "BAD-NAME"', r"\nFix: "),
    "fails_bad_python_version": ("py_vpython_test //pkg:app", r'python_version "3" is not X\.Y', r"\nFix: "),
    "fails_spec_is_main": ("py_vpython_binary //pkg:app", r"spec and main are the same file", r"\nFix: "),
    "fails_wheels_missing_interpreter": ('vpython_locked_wheels(name = "pypi")',
                                         r'python_interpreter "/nowhere/python3" does not exist',
                                         r"\nFix: point it at a Python 3"),
    "fails_wheels_no_python_on_path": ('vpython_locked_wheels(name = "pypi")', r"no python3 or python on PATH",
                                       r"\nFix: install Python 3, set python_interpreter"),
    "fails_wheels_unreadable_lock": ('vpython_locked_wheels(name = "pypi")',
                                     r"cannot read the lockfile @//:pylock\.vpython\.toml: .*invalid TOML",
                                     r"\nFix: re-create it with `vpython lock`"),
    "fails_wheels_unusable_lock": ('vpython_locked_wheels(name = "pypi")',
                                   r"@//:pylock\.vpython\.toml is not usable:\n  .*package x has no wheels",
                                   r"\nFix: re-lock with `vpython lock`"),
    "fails_toolchains_no_vpython_package": ('vpython_register_toolchains(name = "vpython_toolchains")',
                                            r"/src/vpython has no vpython package", r"\nFix: use a complete vpython checkout"),
    "fails_toolchains_python_does_not_run": ('vpython_register_toolchains(name = "vpython_toolchains")',
                                             r"cannot run the Python at /opt/py/bin/python3\.11: Segmentation fault",
                                             r"\nFix: set python_interpreter to a working Python 3"),
    "fails_toolchains_bad_python_version": ('vpython_register_toolchains(name = "vpython_toolchains")',
                                            r'python_version "3" is not X\.Y', r'\nFix: e\.g\. python_version = "3\.11"'),
    "fails_toolchains_unknown_platform_tag_key": ('vpython_register_toolchains(name = "vpython_toolchains")',
                                                  r'platform_tags has unknown platform "solaris_sparc"',
                                                  r"\nFix: use keys from linux_arm64, linux_x86_64"),
    "fails_lock_spec_in_another_repository": ("vpython_lock //pkg:lock", r"spec \.\./other/vpython\.toml is in another repository",
                                              r"\nFix: lock a spec of this workspace"),
    "fails_lock_bad_platform_tag": ("vpython_lock //pkg:lock", r'"manylinux-2-28" is not a PEP 425 platform tag',
                                    r'\nFix: use tags such as "manylinux_2_17_x86_64"'),
    "fails_tool_no_vpython_sources": ("vpython_tool @vpython_toolchains//:vpython", r"srcs has no vpython/__init__\.py",
                                      r"\nFix: set srcs to the vpython package sources"),
    "fails_tool_two_interpreters": ("vpython_tool @vpython_toolchains//:vpython",
                                    r"both interpreter and interpreter_path are set", r"\nFix: keep one of them"),
    "fails_tool_no_interpreter": ("vpython_tool @vpython_toolchains//:vpython", r"no interpreter",
                                  r"\nFix: set interpreter \(a label\) or interpreter_path"),
    "fails_tool_no_deps": ("vpython_tool @vpython_toolchains//:vpython", r"no deps",
                           r"\nFix: set deps to the tool dependencies of the exec platform"),
    "fails_tool_problem": ("vpython_tool @vpython_toolchains//:vpython",
                           r"the host Python /opt/py/bin/python3\.11 is Python 3\.8\.18; the vpython tool needs 3\.9 or newer",
                           r"\nFix: point vpython_register_toolchains at CPython 3\.9 or newer"),
    "fails_tool_deps_set_bad_python": ("vpython_tool_deps_set @vpython_toolchains_deps_linux_x86_64//:tool_deps_3",
                                       r'python "3" is not X\.Y', r'\nFix: set python = "3\.11"'),
    "fails_tool_deps_no_wheels_for_platform": ('vpython_tool_deps(name = "vpython_toolchains_deps_windows_arm64", platform = "windows_arm64")',
                                               r"the vpython tool lock @vpython//toolchains:tool/pylock\.vpython\.json has no wheels for the exec platform windows_arm64 \(it covers: linux_arm64, linux_x86_64, macos_arm64\)",
                                               r"\nFix: run vpython's actions on a covered exec platform"),
    "fails_toolchain_bad_python_version": ("vpython_toolchain @vpython_toolchains//:linux_x86_64",
                                           r'python_version "3\.x" is not X\.Y', r'\nFix: set python_version = "3\.11"'),
    "fails_toolchain_bad_platform_tag": ("vpython_toolchain @vpython_toolchains//:linux_x86_64",
                                         r'platform_tag "manylinux-2-28-x86_64" is not a PEP 425 platform tag',
                                         r'\nFix: use e\.g\. "manylinux_2_17_x86_64"'),
    "fails_toolchain_run_python_without_version": ("vpython_toolchain @vpython_toolchains//:linux_x86_64",
                                                   r'run_python is set but run_python_version "" is not X\.Y',
                                                   r"\nFix: set run_python_version to the X\.Y of "),
}


def test_every_fails_function_is_checked():
    assert sorted(_functions("fails_")) == sorted(FAILS)


@pytest.mark.parametrize("name", sorted(FAILS))
def test_fail_messages_name_rule_label_problem_and_fix(rules_test, name):
    with pytest.raises(sl.StarlarkError) as info:
        rules_test.call(name)
    text = str(info.value)
    message = text[text.index("fail:") + len("fail:"):].strip() if "fail:" in text else text
    # A fake ctx.label is a struct (starlark-pyo3 cannot give it Bazel's str()); show it as Bazel would.
    message = re.sub(r'struct\(name="[^"]*", package="[^"]*", workspace_name="[^"]*", label="([^"]*)"\)', r"\1", message)
    # Likewise a fake repository_ctx path (nested structs: replace the innermost first).
    path_struct = re.compile(r'struct\(basename="[^"]*", dirname=[^()]*?, exists=\w+, get_child=[^,]+, path="([^"]*)"\)')
    while path_struct.search(message):
        message = path_struct.sub(r"\1", message)
    who, problem, fix = FAILS[name]
    assert message.startswith(who + ": ") or message.startswith(who + " "), f"{who!r} does not start:\n{message}"
    for pattern in (problem, fix):
        assert re.search(pattern, message, re.M), f"{pattern!r} not in:\n{message}"
    # Problem first, then the fix on its own line.
    assert re.search(problem, message.split("\nFix: ")[0], re.M), message


def test_generated_build_files_are_valid_starlark(rules_test):
    files = rules_test.call("generated_build_files")
    build_dialect = bazel4_dialect()
    build_dialect.enable_def = False
    for name, text in files.items():
        sl.parse(name, text, build_dialect)
