"""The runner end to end: spec formats, discovery, env reuse, exec semantics.

Every test uses a loopback index built from tiny wheels (tests/support), never PyPI.
"""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from tests.support.vp import envs_in, run_vpython

PRINT_DEPS = "import tinyapp, tinydep; print('deps', tinyapp.__version__, tinydep.__version__)\n"

PEP723 = textwrap.dedent('''\
    # /// script
    # dependencies = ["tinyapp"]
    # ///
    ''')

TEXTPROTO = textwrap.dedent('''\
    python_version: "{py}"
    wheel: <
      name: "infra/python/wheels/tinyapp-py3"
      version: "version:1.0"
    >
    wheel {{ name: 'infra/python/wheels/tinydep-py2_py3' version: "version:1.0.chromium.2" }},
    ''')

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def vp(local_index, vpython_root, tmp_path):
    """Run vpython against the local index with a private root; returns a runner."""
    env = {"VPYTHON_INDEX_URL": local_index.url}

    def run(*args, cwd=None, extra_env=None, **kw):
        e = dict(env)
        e.update(extra_env or {})
        return run_vpython(args, cwd=cwd or tmp_path, env=e, **kw)

    run.index = local_index
    run.root = vpython_root
    return run


def write(path, text, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode:
        path.chmod(mode)
    return path


# --- spec formats ----------------------------------------------------------------

def test_pep723_block_resolves_ranges(vp, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    r = vp(script, check=0)
    assert "deps 1.0 1.1" in r.stdout  # newest tinydep satisfying >=1


def test_inline_vpython_block_closed_pins(vp, tmp_path):
    block = "".join(f"# {line}\n" if line else "#\n" for line in TEXTPROTO.format(py=PY).splitlines())
    script = write(tmp_path / "s.py", "#!/usr/bin/env vpython3\n# [VPYTHON:BEGIN]\n" + block + "# [VPYTHON:END]\n" + PRINT_DEPS)
    r = vp(script, check=0)
    assert "deps 1.0 1.0" in r.stdout  # exact pins, tinydep not upgraded to 1.1


def test_partner_file(vp, tmp_path):
    script = write(tmp_path / "tool.py", PRINT_DEPS)
    write(tmp_path / "tool.py.vpython3", TEXTPROTO.format(py=PY))
    assert "deps 1.0 1.0" in vp(script, check=0).stdout


def test_directory_vpython3_and_toml(vp, tmp_path):
    write(tmp_path / "a" / ".vpython3", TEXTPROTO.format(py=PY))
    script = write(tmp_path / "a" / "b" / "c" / "s.py", PRINT_DEPS)
    assert "deps 1.0 1.0" in vp(script, check=0).stdout
    write(tmp_path / "a" / "b" / "vpython.toml", 'dependencies = ["tinyapp", "tinydep<1.1"]\n')
    assert "deps 1.0 1.0" in vp(script, check=0).stdout
    (tmp_path / "a" / "b" / "vpython.toml").write_text('dependencies = ["tinyapp"]\n')
    assert "deps 1.0 1.1" in vp(script, check=0).stdout


def test_explicit_spec_flag_and_default_spec(vp, tmp_path):
    spec = write(tmp_path / "specs" / "x.vpython3", TEXTPROTO.format(py=PY))
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)  # the flag beats the inline block
    assert "deps 1.0 1.0" in vp("-vpython-spec", spec, script, check=0).stdout
    plain = write(tmp_path / "plain" / "p.py", PRINT_DEPS)
    (tmp_path / "plain" / ".gclient").write_text("")
    r = vp(plain, extra_env={"VPYTHON_DEFAULT_SPEC": str(spec)}, check=0)
    assert "deps 1.0 1.0" in r.stdout


def test_empty_spec_runs_with_no_packages(vp, tmp_path):
    (tmp_path / ".gclient").write_text("")
    script = write(tmp_path / "s.py", "import sys\ntry:\n    import tinyapp\nexcept ImportError:\n    print('clean', sys.prefix != sys.base_prefix)\n")
    assert "clean True" in vp(script, check=0).stdout


# --- discovery -------------------------------------------------------------------

def test_symlink_partner_beside_link_wins_then_real_path(vp, tmp_path):
    real = write(tmp_path / "real" / "tool.py", PRINT_DEPS)
    write(tmp_path / "real" / "tool.py.vpython3", TEXTPROTO.format(py=PY))
    link_dir = tmp_path / "bin"
    link_dir.mkdir()
    (link_dir / "tool.py").symlink_to(real)
    # No partner beside the link: the real file's partner is used.
    assert "deps 1.0 1.0" in vp(link_dir / "tool.py", check=0).stdout
    # A partner beside the link wins (Chromite's wrapper pattern).
    write(link_dir / "tool.py.vpython3", 'python_version: "%s"\n' % PY)
    r = vp(link_dir / "tool.py", "-vpython-log-level", "info", check=1)
    assert "No module named 'tinyapp'" in r.stderr


def test_gclient_barrier_stops_walk(vp, tmp_path):
    write(tmp_path / ".vpython3", 'wheel: < name: "infra/python/wheels/nonexistent-py3" version: "version:9" >\n')
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / ".gclient").write_text("")
    script = write(tmp_path / "proj" / "sub" / "s.py", "print('ran')\n")
    assert "ran" in vp(script, check=0).stdout


def test_spec_beside_gclient_is_found(vp, tmp_path):
    (tmp_path / ".gclient").mkdir()
    write(tmp_path / ".vpython3", TEXTPROTO.format(py=PY))
    script = write(tmp_path / "x" / "s.py", PRINT_DEPS)
    assert "deps 1.0 1.0" in vp(script, check=0).stdout


def test_module_command_and_stdin_search_from_cwd(vp, tmp_path):
    proj = tmp_path / "proj"
    write(proj / ".vpython3", TEXTPROTO.format(py=PY))
    (proj / ".gclient").write_text("")
    write(proj / "pkg" / "__init__.py", "")
    write(proj / "pkg" / "__main__.py", PRINT_DEPS)
    assert "deps 1.0 1.0" in vp("-m", "pkg", cwd=proj, check=0).stdout
    assert "deps 1.0 1.0" in vp("-c", PRINT_DEPS, cwd=proj, check=0).stdout
    assert "deps 1.0 1.0" in vp("-", cwd=proj, input=PRINT_DEPS, check=0).stdout
    # A package directory as the target runs its __main__.py.
    assert "deps 1.0 1.0" in vp(proj / "pkg", cwd=tmp_path, check=0).stdout


def test_c_command_with_pep723_block(vp, tmp_path):
    (tmp_path / ".gclient").write_text("")
    r = vp("-c", PEP723 + PRINT_DEPS, check=0)
    assert "deps 1.0 1.1" in r.stdout


def test_broken_spec_is_an_error_not_skipped(vp, tmp_path):
    write(tmp_path / ".vpython3", TEXTPROTO.format(py=PY))
    script = write(tmp_path / "s.py", PRINT_DEPS)
    bad = write(tmp_path / "s.py.vpython3", 'wheel: <\n  name: "x"\n  bogus: 1\n>\n')
    r = vp(script, check=2)
    assert f"{bad}:3:" in r.stderr and "bogus" in r.stderr
    assert "Traceback" not in r.stderr
    assert envs_in(vp.root) == []


def test_broken_pep723_block_names_script_line(vp, tmp_path):
    script = write(tmp_path / "s.py", "# /// script\n# dependencies = [\"tinyapp\",\n# ///\nprint(1)\n")
    r = vp(script, check=2)
    assert f"{script}:3:" in r.stderr and "Traceback" not in r.stderr  # the unclosed list ends at the block end


def test_missing_script_is_a_user_error(vp, tmp_path):
    r = vp(tmp_path / "nope.py", check=2)
    assert "nope.py" in r.stderr and "Traceback" not in r.stderr


def test_log_level_info_says_which_spec_won(vp, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + "print('x')\n")
    r = vp("-vpython-log-level", "info", script, check=0)
    assert "PEP 723" in r.stderr and str(script) in r.stderr


def test_unknown_vpython_flag(vp, tmp_path):
    r = vp("-vpython-bogus", "x", check=2)
    assert "unknown flag" in r.stderr and "Traceback" not in r.stderr


# --- closed specs, interpreters ----------------------------------------------------

def test_closed_spec_missing_dependency_warns_and_installs_exactly_the_listed_set(vp, tmp_path):
    # As Chromium's vpython: the listed wheels only (chromium's .vpython3 lists pathos
    # without dill); the warning names the entry's line, what it needs and the line to add.
    spec = 'python_version: "{py}"\n\nwheel: < name: "infra/python/wheels/tinyapp-py3" version: "version:1.0" >\n'
    spec_file = write(tmp_path / "s.py.vpython3", spec.format(py=PY))
    script = write(tmp_path / "s.py", textwrap.dedent("""\
        import tinyapp
        try:
            import tinydep
        except ImportError:
            print("tinyapp", tinyapp.__version__, "without tinydep")
        """))
    r = vp(script, check=0)
    assert "tinyapp 1.0 without tinydep" in r.stdout
    assert f"warning: {spec_file}:3: tinyapp==1.0 depends on tinydep==1.1, which the spec does not list" in r.stderr
    assert 'add: wheel: < name: "infra/python/wheels/tinydep-py3" version: "version:1.1" >' in r.stderr
    assert len(envs_in(vp.root)) == 1
    config = write(tmp_path / "config.toml", "strict-closure = true\n")
    r = vp(script, extra_env={"VPYTHON_CONFIG": str(config)}, check=2)
    assert f"{spec_file}:3: the spec is not closed: tinyapp==1.0 depends on tinydep==1.1" in r.stderr


def test_python27_spec_without_a_27_is_refused_at_its_line(vp, tmp_path):
    # No CPython 2.7 anywhere vpython looks (PATH, pyenv): the refusal names the spec line.
    write(tmp_path / "s.py.vpython3", '# old\npython_version: "2.7"\n')
    script = write(tmp_path / "s.py", "print(1)\n")
    empty = tmp_path / "no-pyenv"
    empty.mkdir()
    path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep)
                           if not any(os.path.exists(os.path.join(d, n)) for n in ("python2.7", "python2")))
    r = vp(script, extra_env={"PYENV_ROOT": str(empty), "PATH": path}, check=2)
    assert f"{tmp_path / 's.py.vpython3'}:2: python_version: " in r.stderr
    assert "needs a CPython 2.7, and none is installed" in r.stderr and "pyenv install 2.7.18" in r.stderr
    assert "Traceback" not in r.stderr


def _pyenv_python(version):
    import glob
    import subprocess

    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        root = os.path.expanduser("~/.pyenv")
    hits = sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")))
    return hits[-1] if hits else None


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.10", "3.12", "3.13"])
def test_python_version_selects_interpreter(vp, tmp_path, version):
    if _pyenv_python(version) is None:
        pytest.skip(f"no CPython {version} installed")
    write(tmp_path / "s.py.vpython3", f'python_version: "{version}"\n')
    script = write(tmp_path / "s.py", "import sys; print('v%d.%d' % sys.version_info[:2])\n")
    assert f"v{version}" in vp(script, check=0).stdout


def test_the_tool_itself_runs_on_python_39(vp, tmp_path):
    """The tool supports CPython 3.9+: every module compiles there, and the warm path
    (stdlib only) runs on 3.9 against an env another vpython built."""
    import subprocess
    import sys

    py39 = _pyenv_python("3.9")
    if py39 is None:
        pytest.skip("no CPython 3.9 installed")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = tmp_path / "pyc"
    proc = subprocess.run([py39, "-c", "import compileall, sys; sys.exit(not compileall.compile_dir("
                           "sys.argv[1], quiet=1, legacy=False, ddir='vpython', workers=1))",
                           os.path.join(repo, "vpython")],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPYCACHEPREFIX=str(out)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tmp_path / ".gclient").write_text("")
    script = write(tmp_path / "s.py", "import sys; print('child', sys.version_info[:2] >= (3, 8))\n")
    assert "child True" in vp(script, check=0).stdout  # cold build by the suite's interpreter
    env = dict(os.environ, PYTHONPATH=repo, VPYTHON_INDEX_URL=vp.index.url)
    proc = subprocess.run([py39, "-m", "vpython", "-vpython-log-level", "debug", str(script)],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "child True" in proc.stdout and "warm:" in proc.stderr, proc.stderr
    assert sys.version_info >= (3, 9)


# --- exec semantics ----------------------------------------------------------------

def test_exit_code_argv_stdin_cwd_and_separator(vp, tmp_path):
    (tmp_path / ".gclient").write_text("")
    script = write(tmp_path / "s.py", textwrap.dedent('''\
        import os, sys
        data = sys.stdin.read()
        print("argv", sys.argv[1:], "stdin", data.strip(), "cwd", os.getcwd())
        sys.exit(42)
        '''))
    sub = tmp_path / "sub"
    sub.mkdir()
    r = vp("--", script, "-c", "--", "x y", cwd=sub, input="hello\n")
    assert r.returncode == 42
    assert "argv ['-c', '--', 'x y'] stdin hello cwd " + str(sub) in r.stdout


def test_separator_runs_script_named_like_subcommand(vp, tmp_path):
    (tmp_path / ".gclient").write_text("")
    write(tmp_path / "lock", "print('script named lock')\n")
    assert "script named lock" in vp("--", "lock", check=0).stdout


def test_child_environment(vp, tmp_path):
    (tmp_path / ".gclient").write_text("")
    script = write(tmp_path / "s.py", textwrap.dedent('''\
        import os, sys, shutil
        print("HOME", os.environ.get("PYTHONHOME"))
        print("NOUSER", os.environ.get("PYTHONNOUSERSITE"))
        print("PP", os.environ.get("PYTHONPATH", "").split(os.pathsep)[-1])
        print("VENV", os.environ.get("VIRTUAL_ENV") == sys.prefix)
        print("PATH0", os.environ["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable))
        print("WHICH", os.path.realpath(shutil.which("python")) == os.path.realpath(sys.executable))
        '''))
    # A PYTHONHOME valid for the launcher; the env's python must not inherit it.
    r = vp(script, extra_env={"PYTHONHOME": sys.base_prefix, "PYTHONPATH": "/keep/me"}, check=0)
    assert "HOME None" in r.stdout and "NOUSER 1" in r.stdout and "PP /keep/me" in r.stdout
    assert "VENV True" in r.stdout and "PATH0 True" in r.stdout and "WHICH True" in r.stdout


def test_bypass_runs_plain_python(vp, tmp_path):
    write(tmp_path / "s.py.vpython3", "this is not a valid spec")
    script = write(tmp_path / "s.py", "import sys; print('bypass', sys.prefix == sys.base_prefix)\n")
    sentinel = "manually managed python not supported by chrome operations"
    r = vp(script, extra_env={"VPYTHON_BYPASS": sentinel}, check=0)
    assert "bypass" in r.stdout
    r = vp("-vpython-tool", "install", script, extra_env={"VPYTHON_BYPASS": sentinel}, check=0)
    # Not the exact sentinel: no bypass, the broken spec is reported.
    assert vp(script, extra_env={"VPYTHON_BYPASS": "1"}).returncode == 2


# --- the env store -----------------------------------------------------------------

def test_second_run_reuses_env_without_index(vp, tmp_path):
    # A distinctive exit code: the warm run (an exec from the fast path) must hand back
    # the script's own status, as the cold run does, and really run the script.
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS + "raise SystemExit(7)\n")
    first = vp(script, check=7)
    assert "deps 1.0 1.1" in first.stdout
    envs = envs_in(vp.root)
    assert len(envs) == 1
    before = len(vp.index.requests)
    second = vp("-vpython-log-level", "debug", script, check=7)
    assert "deps 1.0 1.1" in second.stdout
    assert f"warm: env {envs[0]}" in second.stderr, second.stderr
    assert len(vp.index.requests) == before  # no resolution, no download
    assert envs_in(vp.root) == envs


def test_env_rebuilt_from_cached_resolution_without_index(vp, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    vp(script, check=0)
    import shutil

    shutil.rmtree(vp.root / "v1" / "envs")
    before = len(vp.index.requests)
    assert "deps 1.0 1.1" in vp(script, check=0).stdout
    assert len(vp.index.requests) == before  # resolution cached under the spec digest; wheels in the store


def test_different_specs_give_different_envs(vp, tmp_path):
    a = write(tmp_path / "a.py", PEP723 + PRINT_DEPS)
    b = write(tmp_path / "b.py", "# /// script\n# dependencies = [\"tinyapp\", \"tinydep==1.0\"]\n# ///\n" + PRINT_DEPS)
    c = write(tmp_path / "c.py", PEP723 + "print('same spec as a')\n")
    vp(a, check=0)
    vp(b, check=0)
    vp(c, check=0)
    assert len(envs_in(vp.root)) == 2


def test_envs_share_store_files_by_hardlink(vp, tmp_path):
    a = write(tmp_path / "a.py", PEP723 + PRINT_DEPS)
    b = write(tmp_path / "b.py", "# /// script\n# dependencies = [\"tinyapp\", \"tinycli\"]\n# ///\n" + PRINT_DEPS)
    vp(a, check=0)
    vp(b, check=0)
    envs = envs_in(vp.root)
    assert len(envs) == 2
    inodes = []
    for e in envs:
        files = list((vp.root / "v1" / "envs" / e).glob("lib/python*/site-packages/tinyapp/__init__.py"))
        assert files
        inodes.append(files[0].stat().st_ino)
    assert inodes[0] == inodes[1]
    pycs = list((vp.root / "v1" / "envs" / envs[0]).glob("lib/python*/site-packages/tinyapp/__pycache__/*.pyc"))
    assert pycs, "envs are byte-compiled when built"


def test_console_scripts_and_metadata_in_env(vp, tmp_path):
    script = write(tmp_path / "s.py", textwrap.dedent('''\
        # /// script
        # dependencies = ["tinycli", "tinyapp"]
        # ///
        import importlib.metadata as md, os, subprocess, sys
        names = sorted(d.metadata["Name"] for d in md.distributions())
        print("dists", names)
        print("installer", md.distribution("tinyapp").read_text("INSTALLER").strip())
        out = subprocess.run(["tinycli"], capture_output=True, text=True)
        print("cli", out.returncode, out.stdout.strip())
        '''))
    r = vp(script, check=0)
    assert "dists ['tinyapp', 'tinycli', 'tinydep']" in r.stdout
    assert "installer vpython" in r.stdout
    assert "cli 0 tinycli 1.0" in r.stdout


def test_tool_install_builds_without_running(vp, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + "raise SystemExit('must not run')\n")
    r = vp("-vpython-tool", "install", script, check=0)
    assert "must not run" not in r.stderr
    assert len(envs_in(vp.root)) == 1
    r = vp("install", script, check=0)  # subcommand spelling, env reused
    assert len(envs_in(vp.root)) == 1


def test_warm_run_imports_only_stdlib(vp, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + "print('ok')\n")
    vp(script, check=0)
    import subprocess

    env = dict(os.environ, VPYTHON_INDEX_URL=vp.index.url, VPYTHON_VIRTUALENV_ROOT=str(vp.root),
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    # -X importtime is inherited through exec; keep only the launcher's lines (before the script's).
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "vpython", str(script)],
                          env=env, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    modules = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    heavy = {"google.protobuf", "packaging", "virtualenv", "pex", "filelock", "installer", "tomllib", "tomli", "uv"}
    assert not {m for m in modules if m.split(".")[0] in heavy or m in heavy}, sorted(modules)


# --- cold envs from a warm store: plans, verified linking, one download per wheel ----

HEAVY = {"google", "packaging", "virtualenv", "pex", "filelock", "installer", "tomllib", "tomli", "uv"}


def _cold_env_dirs(root):
    """Delete what a cold env from a warm store lacks: the envs and the spec pointers."""
    import shutil

    for sub in ("envs", "specs"):
        shutil.rmtree(root / "v1" / sub, ignore_errors=True)


def _imported(stderr: str) -> set:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_cold_env_from_a_plan_skips_resolution_and_heavy_imports(vp, tmp_path):
    import subprocess

    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    vp(script, check=0)
    assert len(list((vp.root / "v1" / "locks").glob("*.plan.json"))) == 1
    _cold_env_dirs(vp.root)
    before = len(vp.index.requests)
    env = dict(os.environ, VPYTHON_INDEX_URL=vp.index.url, VPYTHON_VIRTUALENV_ROOT=str(vp.root),
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "vpython", "install", str(script)],
                          env=env, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    modules = _imported(proc.stderr)
    assert "vpython.env.build" in modules  # it did build an env
    assert not {m for m in modules if m.split(".")[0] in HEAVY or m == "urllib.request"}, sorted(modules)
    assert len(vp.index.requests) == before
    assert "deps 1.0 1.1" in vp(script, check=0).stdout


def test_plan_is_dropped_when_its_resolution_is(vp, wheelhouse, tmp_path):
    """Deleting the cached resolution means "resolve again": the plan made from it must
    not outlive it (here the new resolution picks up a newer tinydep)."""
    from tests.support.wheels import make_wheel

    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    assert "deps 1.0 1.1" in vp(script, check=0).stdout
    make_wheel(wheelhouse, "tinydep", "1.2")
    _cold_env_dirs(vp.root)
    assert "deps 1.0 1.1" in vp(script, check=0).stdout  # the plan (and resolution) still hold
    _cold_env_dirs(vp.root)
    for cached in (vp.root / "v1" / "locks").glob("*.pylock.toml"):
        cached.unlink()
    assert "deps 1.0 1.2" in vp(script, check=0).stdout


def test_plan_with_another_interpreter_identity_is_not_used(vp, tmp_path):
    import json

    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    vp(script, check=0)
    (plan,) = (vp.root / "v1" / "locks").glob("*.plan.json")
    _cold_env_dirs(vp.root)
    r = vp("-vpython-log-level", "debug", script, check=0)
    assert "plan hit" in r.stderr and "deps 1.0 1.1" in r.stdout
    data = json.loads(plan.read_text())
    real_id = data["interpreter"]["id"]
    data["interpreter"]["id"] = "0:0:0"  # as if python had been rebuilt in place
    plan.write_text(json.dumps(data))
    _cold_env_dirs(vp.root)
    r = vp("-vpython-log-level", "debug", script, check=0)
    assert "plan hit" not in r.stderr and "deps 1.0 1.1" in r.stdout
    assert json.loads(plan.read_text())["interpreter"]["id"] == real_id  # rewritten by the slow path


def test_plan_hit_shows_the_same_warnings(vp, tmp_path):
    script = write(tmp_path / "s.py", PEP723.replace("# ///\n", "# colour = 1\n# ///\n", 1) + PRINT_DEPS)
    first = vp(script, check=0)
    assert "unknown key 'colour'" in first.stderr
    _cold_env_dirs(vp.root)
    second = vp(script, check=0)
    assert "deps 1.0 1.1" in second.stdout
    assert second.stderr.count("unknown key 'colour'") == 1, second.stderr


def test_console_and_data_scripts_in_an_env_path_with_spaces_and_over_127_bytes(local_index, wheelhouse, tmp_path):
    """Such a path cannot be a shebang: scripts get installer's /bin/sh trampoline."""
    from tests.support.wheels import make_wheel

    make_wheel(wheelhouse, "withscript", "1.0",
               data={"scripts": {"hello-data": b"#!python\nimport sys\nprint('data script', sys.prefix)\n"}})
    root = tmp_path / ("a root with spaces " + "x" * 110)
    script = write(tmp_path / "s.py", textwrap.dedent('''\
        # /// script
        # dependencies = ["tinycli", "withscript"]
        # ///
        import subprocess, sys
        print(subprocess.run(["tinycli"], capture_output=True, text=True).stdout.strip())
        print(subprocess.run(["hello-data"], capture_output=True, text=True).stdout.strip() == "data script " + sys.prefix)
        '''))
    r = run_vpython([script], cwd=tmp_path, env={"VPYTHON_INDEX_URL": local_index.url,
                                                 "VPYTHON_VIRTUALENV_ROOT": str(root)}, check=0)
    assert r.stdout.split() == ["tinycli", "1.0", "True"], r.stdout + r.stderr
    (env,) = envs_in(root)
    for name in ("tinycli", "hello-data"):
        assert (root / "v1" / "envs" / env / "bin" / name).read_bytes().startswith(b"#!/bin/sh\n'''exec' ")
    # The store keeps one rendering for every env: the placeholder, never a real path.
    rendered = list((root / "v1" / "store" / "packages").glob("*/bin/tinycli"))
    assert rendered and rendered[0].read_bytes().startswith(b"#!/__vpython_env_python__\n")


def test_store_file_changed_since_its_entry_was_built_is_rebuilt_not_linked(vp, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    vp(script, check=0)
    (env,) = envs_in(vp.root)
    target = next((vp.root / "v1" / "envs" / env).glob("lib/python*/site-packages/tinyapp/__init__.py"))
    target.chmod(0o644)
    target.write_text("__version__ = 'tampered'\n")  # the store's inode too
    _cold_env_dirs(vp.root)
    r = vp(script, check=0)  # a plan hit: the change is found while linking
    assert "deps 1.0 1.1" in r.stdout
    assert "changed since it was built" in r.stderr
    (env,) = envs_in(vp.root)
    fresh = next((vp.root / "v1" / "envs" / env).glob("lib/python*/site-packages/tinyapp/__init__.py"))
    assert "tampered" not in fresh.read_text() and not fresh.stat().st_mode & 0o222


def test_store_file_deleted_from_an_entry_is_rebuilt(vp, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    vp(script, check=0)
    (victim,) = (vp.root / "v1" / "store" / "packages").glob("*/lib/python*/site-packages/tinydep/__init__.py")
    victim.unlink()
    _cold_env_dirs(vp.root)
    r = vp(script, check=0)
    assert "deps 1.0 1.1" in r.stdout
    assert "is missing" in r.stderr


def _store_wheel(root, filename):
    (path,) = (root / "v1" / "store" / "wheels").glob(f"*/{filename}")
    return path


def test_stored_wheel_gone_bad_is_fetched_again(vp, tmp_path):
    import shutil

    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    vp(script, check=0)
    stored = _store_wheel(vp.root, "tinyapp-1.0-py3-none-any.whl")
    stored.chmod(0o644)
    stored.write_bytes(b"not the wheel any more")
    for entry in (vp.root / "v1" / "store" / "packages").iterdir():  # so the wheel is unpacked again
        shutil.rmtree(entry, onerror=lambda f, p, e: (os.chmod(os.path.dirname(p), 0o755), os.chmod(p, 0o755), f(p)))
    _cold_env_dirs(vp.root)
    before = vp.index.served_files().count("tinyapp-1.0-py3-none-any.whl")
    r = vp(script, check=0)
    assert "deps 1.0 1.1" in r.stdout
    assert "fetching it again" in r.stderr
    assert vp.index.served_files().count("tinyapp-1.0-py3-none-any.whl") == before + 1


def test_stored_wheel_gone_bad_and_changed_upstream_is_an_error(vp, wheelhouse, tmp_path):
    import shutil

    from tests.support.wheels import make_wheel

    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    vp(script, check=0)
    stored = _store_wheel(vp.root, "tinyapp-1.0-py3-none-any.whl")
    stored.chmod(0o644)
    stored.write_bytes(b"not the wheel any more")
    for entry in (vp.root / "v1" / "store" / "packages").iterdir():
        shutil.rmtree(entry, onerror=lambda f, p, e: (os.chmod(os.path.dirname(p), 0o755), os.chmod(p, 0o755), f(p)))
    _cold_env_dirs(vp.root)
    make_wheel(wheelhouse, "tinyapp", "1.0", files={"tinyapp/__init__.py": "__version__ = 'other bytes'\n"},
               requires=["tinydep>=1"])  # same name, different bytes on the index
    r = vp(script)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "hash mismatch for tinyapp-1.0-py3-none-any.whl" in r.stderr
    assert envs_in(vp.root) == []


def test_concurrent_cold_runs_download_each_wheel_once(local_index, wheelhouse, vpython_root, tmp_path):
    """Eight cold runs of one spec with an empty wheel store: one process downloads each
    wheel (under its per-wheel lock), the others wait and use the verified file."""
    import shutil
    import subprocess

    from tests.support.vp import vpython_cmd
    from tests.support.wheels import make_wheel

    make_wheel(wheelhouse, "bigpkg", "1.0", files={"bigpkg/__init__.py": "", "bigpkg/blob.bin": os.urandom(8 << 20)})
    script = write(tmp_path / "s.py", '# /// script\n# dependencies = ["tinyapp", "bigpkg"]\n# ///\n'
                                      "import bigpkg, tinyapp; print('ok')\n")
    env = dict(os.environ, VPYTHON_INDEX_URL=local_index.url)
    run_vpython(["install", script], cwd=tmp_path, env=env, check=0)
    for sub in ("store", "envs", "specs"):  # the resolution (and plan) stay: all start fetching at once
        shutil.rmtree(vpython_root / "v1" / sub, onerror=lambda f, p, e: (os.chmod(p, 0o755), f(p)))
    wheels = ["bigpkg-1.0-py3-none-any.whl", "tinyapp-1.0-py3-none-any.whl", "tinydep-1.1-py3-none-any.whl"]
    before = {w: local_index.served_files().count(w) for w in wheels}
    procs = [subprocess.Popen(vpython_cmd() + [str(script)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
    assert all(rc == 0 and "ok" in out for rc, out, _ in results), results
    assert {w: local_index.served_files().count(w) - before[w] for w in wheels} == {w: 1 for w in wheels}
    assert not os.listdir(vpython_root / "v1" / "store" / "fetching")  # each lock file went with its holder


def test_store_entries_built_before_link_info_still_link(vp, tmp_path):
    """An entry as earlier versions built it (no .vpython/link.json, entry points listed
    in scripts.json rather than rendered in bin/) is linked, its scripts generated."""
    import json

    script = write(tmp_path / "s.py", textwrap.dedent('''\
        # /// script
        # dependencies = ["tinycli"]
        # ///
        import subprocess
        print(subprocess.run(["tinycli"], capture_output=True, text=True).stdout.strip())
        '''))
    assert vp(script, check=0).stdout.strip() == "tinycli 1.0"
    (entry,) = [e for e in (vp.root / "v1" / "store" / "packages").iterdir() if (e / "bin" / "tinycli").exists()]
    meta = entry / ".vpython"
    (meta / "link.json").unlink()
    (entry / "bin").chmod(0o755)
    (entry / "bin" / "tinycli").unlink()
    (entry / "bin").rmdir()
    manifest = meta / "manifest"
    manifest.write_text("".join(line + "\n" for line in manifest.read_text().splitlines()
                                if not line.startswith("bin/")))
    (meta / "scripts.json").write_text(json.dumps(
        [{"name": "tinycli", "module": "tinycli", "attr": "main", "section": "console"}]))
    _cold_env_dirs(vp.root)
    r = vp(script, check=0)
    assert r.stdout.strip() == "tinycli 1.0"
    assert "changed since it was built" not in r.stderr  # used as it is, not rebuilt
