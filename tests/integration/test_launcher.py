"""The native warm-path launcher (launcher/): the same results as the Python path, and a
hand-off to the Python path whenever its index entry (vpython/env/launch_index.py) no
longer describes what the Python path would do.

The launcher under test is compiled once per session by launcher/build_launcher.py (the
code setup.py uses) and installed per test beside a ``vpython-py`` that runs this
checkout's vpython and appends each hand-off (argv, VPYTHON_LAUNCHER_MISS) to a log, so
every test can tell a hit (no line) from a hand-off. Offline: a loopback index of tiny
wheels (tests/support), never PyPI.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.support.vp import REPO, envs_in, run_vpython
from tests.unit.test_cli_pyargv import CASES, ERRORS, PRINT, REAL, SCRIPT
from vpython.cli.main import SUBCOMMANDS
from vpython.cli.pyargv import parse_python_argv
from vpython.env.launch_index import entry_key
from vpython.errors import UsageError

pytestmark = pytest.mark.skipif(sys.platform not in ("linux", "darwin"), reason="the launcher is POSIX only")

PRINT_DEPS = "import tinyapp, tinydep; print('deps', tinyapp.__version__, tinydep.__version__)\n"
PEP723 = '# /// script\n# dependencies = ["tinyapp"]\n# ///\n'
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
TEXTPROTO = textwrap.dedent(f'''\
    python_version: "{PY}"
    wheel: < name: "infra/python/wheels/tinyapp-py3" version: "version:1.0" >
    wheel: < name: "infra/python/wheels/tinydep-py3" version: "version:{{dep}}" >
    ''')


def _builder():
    spec = importlib.util.spec_from_file_location("build_launcher", os.path.join(REPO, "launcher", "build_launcher.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def launcher_binary(tmp_path_factory):
    builder = _builder()
    if builder.find_compiler() is None:
        pytest.skip("no C compiler: the Python scripts are installed instead (test_build_without_compiler...)")
    out = tmp_path_factory.mktemp("launcher-build") / "vpython"
    why = builder.build(str(out), builder.vpython_version(REPO))
    assert why is None, why
    return out


FALLBACK = '''\
#!{python}
# Test stand-in for the installed vpython-py: this checkout's vpython, and a log of hand-offs.
import json, os, sys
with open({log!r}, "a") as f:
    f.write(json.dumps([sys.argv[1:], os.environ.get("VPYTHON_LAUNCHER_MISS")]) + "\\n")
sys.path.insert(0, {repo!r})
from vpython.cli.main import main
sys.exit(main())
'''


class Launcher:
    """``bin/vpython`` (the launcher) beside ``bin/vpython-py`` (the logging fallback)."""

    def __init__(self, directory, binary, python=sys.executable, env=None):
        self.bin = directory / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.exe = self.bin / "vpython"
        shutil.copy2(binary, self.exe)
        self.log = directory / "handoffs.log"
        self.log.write_text("")
        fallback = self.bin / "vpython-py"
        fallback.write_text(FALLBACK.format(python=python, log=str(self.log), repo=REPO))
        fallback.chmod(0o755)
        self.env = dict(env or {})

    def environ(self, extra=None):
        env = dict(os.environ)
        env.update(self.env)
        for k, v in (extra or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def __call__(self, *args, cwd, extra_env=None, input=None, check=None):
        proc = subprocess.run([str(self.exe), *[str(a) for a in args]], cwd=cwd, env=self.environ(extra_env),
                              input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        if check is not None and proc.returncode != check:
            raise AssertionError(f"launcher {args} exited {proc.returncode} (expected {check})\n"
                                 f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}\nhand-offs: {self.handoffs()}")
        return proc

    def handoffs(self):
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def count(self):
        return len(self.handoffs())


def settle(*paths):
    """Age files past the index's trust margin (a file changed in the last 2 s is not
    trusted by its identity; see launch_index.MARGIN_NS)."""
    old = time.time() - 3600
    for p in paths:
        os.utime(p, (old, old))


def write(path, text, settled=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if settled:
        settle(path)
    return path


def outcome(proc):
    """What a user sees, less what varies from run to run: ``-X importtime`` timings and
    object addresses (``-v`` prints loaders' reprs; ASLR moves them)."""
    err = "".join(line for line in proc.stderr.splitlines(True) if not line.startswith("import time:"))
    return proc.returncode, proc.stdout, re.sub(r" at 0x[0-9a-f]+", " at 0x?", err)


@pytest.fixture
def kit(local_index, vpython_root, tmp_path, launcher_binary):
    """A launcher and the Python path (``kit.py``), same index, same root."""
    env = {"VPYTHON_INDEX_URL": local_index.url, "VPYTHON_VIRTUALENV_ROOT": str(vpython_root)}
    lp = Launcher(tmp_path / "install", launcher_binary, env=env)

    def py(*args, cwd, extra_env=None, input=None, check=None):
        e = dict(env)
        e.update(extra_env or {})
        return run_vpython(args, cwd=cwd, env=e, input=input, check=check)

    lp.py = py
    lp.root = vpython_root
    lp.index = local_index
    return lp


def entries(root):
    d = root / "v1" / "launch"
    return sorted(p for p in d.iterdir() if not p.name.startswith(".")) if d.is_dir() else []


def warm_hit(kit, *args, cwd, **kw):
    """Run until the launcher serves it itself: the first run hands over and writes the
    entry, the second must be a hit. Returns the hit's process."""
    kit(*args, cwd=cwd, check=0, **kw)
    before = kit.count()
    proc = kit(*args, cwd=cwd, check=0, **kw)
    assert kit.count() == before, f"expected a hit; hand-offs: {kit.handoffs()[before:]}"
    return proc


def assert_handoff(kit, before, reason=None):
    new = kit.handoffs()[before:]
    assert new, "expected a hand-off, the launcher ran the env itself"
    if reason is not None:
        assert new[0][1] == reason, new


# --- the first run, a hit, and the Python path's answer ------------------------------

def test_first_run_hands_over_and_writes_the_entry_then_hits(kit, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    first = kit(script, cwd=tmp_path, check=0)
    assert "deps 1.0 1.1" in first.stdout
    assert kit.handoffs() == [[[str(script)], "no index entry"]]
    (entry,) = entries(kit.root)
    text = entry.read_text()
    assert text.startswith("vpython-launch-index 1\n") and text.endswith("\nend\n")
    assert f"\nkey script%20{script}\n" in text
    hit = kit(script, "x", cwd=tmp_path, check=0)
    assert kit.count() == 1
    ref = kit.py(script, "x", cwd=tmp_path, check=0)
    assert outcome(hit) == outcome(ref)


def test_a_file_changed_within_the_margin_is_not_trusted(kit, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS, settled=False)
    kit(script, cwd=tmp_path, check=0)
    kit(script, cwd=tmp_path, check=0)
    assert kit.count() == 2 and entries(kit.root) == []  # just written: no entry yet
    settle(script)
    warm_hit(kit, script, cwd=tmp_path)


def test_script_named_after_the_target_in_a_relative_path(kit, tmp_path):
    script = write(tmp_path / "sub" / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, "sub/s.py", cwd=tmp_path)
    warm_hit(kit, "s.py", cwd=tmp_path / "sub")  # another spelling, another key, same env
    assert len(envs_in(kit.root)) == 1
    before = kit.count()
    kit("./sub/../sub/s.py", cwd=tmp_path, check=0)  # abspath normalises it to the first key
    assert kit.count() == before
    assert script.exists()


# --- differential: python's argv grammar through the launcher and the Python path ------

@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """A directory where the script runs and the working-directory runs get different envs
    (so a launcher that misread which one python runs would be seen), and a
    sitecustomize that names the env on stderr."""
    from tests.support import build_wheelhouse, serve_index

    d = tmp_path_factory.mktemp("probe")
    (d / ".gclient").write_text("")
    (d / ".vpython3").write_text(TEXTPROTO.format(dep="1.0"))  # -c, -m, stdin and the "-c" script
    (d / "probe.py").write_text("# skipped by -x\n" + PEP723 + PRINT + "\n")  # its own env
    (d / "-c").write_text(PRINT + "\n")
    (d / "probe_mod.py").write_text(PRINT + "\n")
    (d / "sitecustomize.py").write_text(  # the env's python only, not vpython's own
        "import sys\nif sys.prefix != sys.base_prefix:\n    sys.stderr.write('env %s\\n' % sys.prefix)\n")
    for p in d.iterdir():
        settle(p)
    root = tmp_path_factory.mktemp("probe-root")
    with serve_index(build_wheelhouse(tmp_path_factory.mktemp("probe-wheels"))) as index:
        yield d, root, index


def _serves(argv, d):
    """Whether the launcher should serve this argv itself once its entry exists."""
    try:
        cl = parse_python_argv(argv)
    except UsageError:
        return False
    if argv[:1] and (argv[0] in SUBCOMMANDS or argv[0].lstrip("-").split("=")[0] in ("h", "help")):
        return False
    if entry_key(cl.target_kind, cl.target, str(d)) is None:
        return False
    return cl.target_kind != "script" or os.path.isfile(os.path.join(d, cl.target))


ARGVS = (
    [("real-" + name, argv) for name, argv in REAL]
    + [("case-" + c[0], c[1]) for c in CASES if not any("http.server" in a for a in c[1])]  # serves forever
    + [("error-" + ascii(" ".join(a)), a) for a, _ in ERRORS]
    # Refused options before a script the launcher has an entry for: still refused.
    + [("error-then-script-" + ascii(" ".join(a)), [*a, SCRIPT])
       for a in (["-J"], ["-vJ"], ["--bogus"], ["-q-help"], ["--check-hash-based-pycs", "sometimes"],
                 ["--check-hash-based-pycs=always"])]
)


@pytest.mark.parametrize("argv", [a for _, a in ARGVS], ids=[n for n, _ in ARGVS])
def test_argv_differential(argv, probe, launcher_binary, tmp_path):
    d, root, index = probe
    argv = [str(d / "probe.py") if a == SCRIPT else a for a in argv]
    env = {"VPYTHON_VIRTUALENV_ROOT": str(root), "PYTHONPATH": str(d), "VPYTHON_INDEX_URL": index.url}
    for k in ("PYTHONSTARTUP", "PYTHONWARNINGS", "PYTHONDEVMODE", "PYTHONOPTIMIZE", "PYTHONVERBOSE",
              "PYTHONINSPECT", "PYTHONUNBUFFERED", "PYTHONSAFEPATH"):
        env[k] = None
    lp = Launcher(tmp_path, launcher_binary)
    stdin = PRINT + "\n"
    # The env built first (a cold run prints its phase lines on a pipe), so the reference
    # is the warm Python path's output.
    run_vpython(argv, cwd=d, env=env, input=stdin, timeout=120)
    ref = run_vpython(argv, cwd=d, env=env, input=stdin, timeout=120)
    first = lp(*argv, cwd=d, extra_env=env, input=stdin)
    after_first = lp.count()
    second = lp(*argv, cwd=d, extra_env=env, input=stdin)
    assert outcome(first) == outcome(ref)
    assert outcome(second) == outcome(ref)
    if _serves(argv, d):
        assert lp.count() == after_first, f"a run the launcher serves was handed over: {lp.handoffs()}"
    else:
        assert lp.count() == after_first + 1, "the launcher ran something it must hand over"


def test_every_subcommand_is_handed_over(kit, tmp_path):
    for name in SUBCOMMANDS:
        before = kit.count()
        r = kit(name, "--help", cwd=tmp_path, check=0)
        assert f"vpython {name}" in r.stdout
        assert kit.handoffs()[before:] == [[[name, "--help"], None]]
    # ... and a script that happens to be named like one runs only after `--`.
    write(tmp_path / ".gclient", "")
    write(tmp_path / "lock", "print('script named lock')\n")
    assert "script named lock" in warm_hit(kit, "--", "lock", cwd=tmp_path).stdout


@pytest.mark.parametrize("args,extra", [
    (["-vpython-log-level", "debug"], {}),
    (["--vpython-log-level=info"], {}),
    (["-vpython-root", "{root}"], {}),
    ([], {"VPYTHON_LOG_TRACE": "1"}),
    ([], {"VPYTHON_BYPASS": "manually managed python not supported by chrome operations"}),
])
def test_vpython_flags_and_switches_are_handed_over(kit, tmp_path, args, extra):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    args = [a.format(root=kit.root) for a in args]
    before = kit.count()
    r = kit(*args, script, cwd=tmp_path, extra_env=extra)
    assert kit.handoffs()[before:] == [[args + [str(script)], None]]
    ref = kit.py(*args, script, cwd=tmp_path, extra_env=extra)
    assert outcome(r)[:2] == outcome(ref)[:2]


def test_c_command_with_an_inline_block_is_the_python_paths(kit, tmp_path):
    write(tmp_path / ".gclient", "")
    cmd = PEP723 + PRINT_DEPS
    for _ in range(2):
        before = kit.count()
        r = kit("-c", cmd, cwd=tmp_path, check=0)
        assert "deps 1.0 1.1" in r.stdout
        assert kit.handoffs()[before:] == [[["-c", cmd], None]]
    # Without a block, -c, -m and stdin share the working directory's entry.
    warm_hit(kit, "-c", "print('plain')", cwd=tmp_path)
    write(tmp_path / "m.py", "print('module')\n")
    before = kit.count()
    assert kit("-m", "m", cwd=tmp_path, check=0).stdout == "module\n"
    assert kit("-", cwd=tmp_path, input="print('stdin')\n", check=0).stdout == "stdin\n"
    assert kit.count() == before


# --- exec semantics ---------------------------------------------------------------------

def test_exit_code_argv_stdin_cwd_and_separator(kit, tmp_path):
    write(tmp_path / ".gclient", "")
    script = write(tmp_path / "s.py", textwrap.dedent('''\
        import os, sys
        data = sys.stdin.read()
        print("argv", sys.argv[1:], "stdin", data.strip(), "cwd", os.getcwd())
        sys.exit(42)
        '''))
    sub = tmp_path / "sub"
    sub.mkdir()
    args = ("--", script, "-c", "--", "x y")
    kit(*args, cwd=sub, input="warm\n")
    before = kit.count()
    r = kit(*args, cwd=sub, input="hello\n")
    assert kit.count() == before
    assert r.returncode == 42
    assert "argv ['-c', '--', 'x y'] stdin hello cwd " + str(sub) in r.stdout
    assert outcome(r) == outcome(kit.py(*args, cwd=sub, input="hello\n"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT])
def test_signals_reach_the_script_and_end_it_as_they_would(kit, tmp_path, sig):
    """One process from the launcher to the script (exec, no child): a signal sent to the
    pid the caller started reaches the script, and its death by signal is the caller's."""
    write(tmp_path / ".gclient", "")
    script = write(tmp_path / "s.py", textwrap.dedent('''\
        import os, sys, time
        print(os.getpid(), flush=True)
        if sys.argv[1:] == ["wait"]:
            time.sleep(120)
        '''))
    warm_hit(kit, script, cwd=tmp_path)
    results = []
    for runner in ("launcher", "python"):
        cmd = [str(kit.exe)] if runner == "launcher" else [sys.executable, "-c",
               f"import sys; sys.path.insert(0, {REPO!r}); from vpython.cli.main import main; sys.exit(main())"]
        before = kit.count()
        p = subprocess.Popen(cmd + [str(script), "wait"], cwd=tmp_path, env=kit.environ(), stdout=subprocess.PIPE,
                             text=True)
        pid = int(p.stdout.readline())
        assert pid == p.pid  # exec'd in place
        p.send_signal(sig)
        p.wait(timeout=60)
        p.stdout.close()
        results.append(p.returncode)
        if runner == "launcher":
            assert kit.count() == before
    # SIGINT: KeyboardInterrupt, after which CPython (3.8+) ends itself with SIGINT too.
    assert results == [-sig, -sig]


def test_script_killing_itself(kit, tmp_path):
    write(tmp_path / ".gclient", "")
    script = write(tmp_path / "s.py", "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n")
    kit(script, cwd=tmp_path)
    before = kit.count()
    r = kit(script, cwd=tmp_path)
    assert kit.count() == before and r.returncode == -signal.SIGTERM
    assert kit.py(script, cwd=tmp_path).returncode == -signal.SIGTERM


def test_child_environment_is_the_python_paths(kit, tmp_path):
    write(tmp_path / ".gclient", "")
    script = write(tmp_path / "s.py", "import json, os\nprint(json.dumps(list(os.environ.items())))\n")
    extra = {"PYTHONHOME": sys.base_prefix, "PYTHONPATH": "/keep/me", "PYTHONNOUSERSITE": "0",
             "VIRTUAL_ENV": "/elsewhere", "__PYVENV_LAUNCHER__": sys.executable, "VPYTHON_LAUNCHER_MISS": "user's own",
             "PATH": "/usr/bin:/bin", "WEIRD": "a=b\nc"}
    hit = warm_hit(kit, script, cwd=tmp_path, extra_env=extra)
    # The same parent environment, in the same order, for the Python path.
    ref = run_vpython([script], cwd=tmp_path, env=kit.environ(extra), check=0)
    assert json.loads(hit.stdout) == json.loads(ref.stdout)  # names, values and order
    seen = dict(json.loads(hit.stdout))
    (env,) = envs_in(kit.root)
    env_dir = str(kit.root / "v1" / "envs" / env)
    assert seen["VIRTUAL_ENV"] == env_dir and seen["PATH"] == env_dir + "/bin:/usr/bin:/bin"
    assert seen["PYTHONNOUSERSITE"] == "1" and seen["PYTHONPATH"] == "/keep/me" and seen["WEIRD"] == "a=b\nc"
    assert not {"PYTHONHOME", "__PYVENV_LAUNCHER__", "VPYTHON_LAUNCHER_MISS"} & set(seen)
    # PATH unset: the env's bin alone, as child_environ does.
    hit = warm_hit(kit, script, cwd=tmp_path, extra_env={"PATH": None})
    assert dict(json.loads(hit.stdout))["PATH"] == env_dir + "/bin"


def test_the_lock_is_held_shared_across_exec_and_last_use_recorded(kit, tmp_path):
    write(tmp_path / ".gclient", "")
    script = write(tmp_path / "s.py", textwrap.dedent('''\
        import fcntl, os, sys
        lock = sys.argv[1]
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("not held")
        except BlockingIOError:
            print("held")
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # shared with the holder: fine
        print("shared ok")
        '''))
    kit(script, "/dev/null", cwd=tmp_path, check=0)
    (env,) = envs_in(kit.root)
    lock = kit.root / "v1" / "envs" / (env + ".lock")
    settle(lock)
    before_mtime = lock.stat().st_mtime
    r = warm_hit(kit, script, lock, cwd=tmp_path)
    assert r.stdout == "held\nshared ok\n"
    assert lock.stat().st_mtime > before_mtime + 3000  # touched by the hit: pruning sees it in use


# --- stale entries fall back to the Python path ------------------------------------------

def _check_stale(kit, tmp_path, script, change, expect, reason=None, args=(), extra_env=None):
    warm_hit(kit, script, *args, cwd=tmp_path, extra_env=extra_env)
    change()
    before = kit.count()
    r = kit(script, *args, cwd=tmp_path, extra_env=extra_env, check=0)
    assert_handoff(kit, before, reason)
    assert expect in r.stdout, r.stdout + r.stderr
    ref = kit.py(script, *args, cwd=tmp_path, extra_env=extra_env, check=0)
    assert outcome(r)[:2] == outcome(ref)[:2]
    return r


def test_stale_partner_spec_edited(kit, tmp_path):
    script = write(tmp_path / "s.py", PRINT_DEPS)
    spec = write(tmp_path / "s.py.vpython3", TEXTPROTO.format(dep="1.0"))
    assert "deps 1.0 1.0" in warm_hit(kit, script, cwd=tmp_path).stdout
    _check_stale(kit, tmp_path, script, lambda: write(spec, TEXTPROTO.format(dep="1.1")), "deps 1.0 1.1",
                 "file changed")
    assert "deps 1.0 1.1" in warm_hit(kit, script, cwd=tmp_path).stdout  # refreshed entry


def test_stale_inline_block_edited(kit, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    new = '# /// script\n# dependencies = ["tinyapp", "tinydep<1.1"]\n# ///\n' + PRINT_DEPS
    _check_stale(kit, tmp_path, script, lambda: write(script, new), "deps 1.0 1.0", "file changed")


def test_stale_same_size_edit_with_the_mtime_put_back(kit, tmp_path):
    """``cp -p``-style: same size, same mtime, new content; the ctime still moves."""
    body = "import importlib.util as u; print('has', [bool(u.find_spec(m)) for m in ('tinyapp', 'tinycli')])\n"
    script = write(tmp_path / "s.py", PEP723 + body)
    assert "has [True, False]" in warm_hit(kit, script, cwd=tmp_path).stdout
    st = script.stat()

    def change():
        script.write_text(PEP723.replace('"tinyapp"', '"tinycli"') + body)  # same length
        os.utime(script, ns=(st.st_atime_ns, st.st_mtime_ns))
        new = script.stat()
        assert (new.st_size, new.st_mtime_ns, new.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)

    _check_stale(kit, tmp_path, script, change, "has [False, True]", "file changed")


def test_stale_new_partner_file(kit, tmp_path):
    write(tmp_path / ".vpython3", TEXTPROTO.format(dep="1.0"))
    script = write(tmp_path / "s.py", PRINT_DEPS)
    _check_stale(kit, tmp_path, script, lambda: write(tmp_path / "s.py.vpython3", TEXTPROTO.format(dep="1.1")),
                 "deps 1.0 1.1", "new spec file")


def test_stale_new_directory_spec_nearer_the_script(kit, tmp_path):
    write(tmp_path / "a" / ".vpython3", TEXTPROTO.format(dep="1.0"))
    script = write(tmp_path / "a" / "b" / "c" / "s.py", PRINT_DEPS)
    _check_stale(kit, tmp_path, script,
                 lambda: write(tmp_path / "a" / "b" / "vpython.toml", 'dependencies = ["tinyapp"]\n'),
                 "deps 1.0 1.1", "new spec file")


def test_stale_gclient_barrier_created_and_removed(kit, tmp_path):
    write(tmp_path / ".vpython3", TEXTPROTO.format(dep="1.0"))
    script = write(tmp_path / "proj" / "s.py", "import importlib.util as u; print('has', bool(u.find_spec('tinyapp')))\n")
    barrier = tmp_path / "proj" / ".gclient"
    _check_stale(kit, tmp_path, script, lambda: barrier.write_text(""), "has False", "new file")
    _check_stale(kit, tmp_path, script, barrier.unlink, "has True", "barrier gone")


def test_stale_lockfile_written(kit, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)

    def lock():
        kit.py("lock", script, cwd=tmp_path, check=0)
        settle(*tmp_path.glob("pylock.*.toml"))

    _check_stale(kit, tmp_path, script, lock, "deps 1.0 1.1", "new file")
    (lockfile,) = tmp_path.glob("pylock.*.toml")
    warm_hit(kit, script, cwd=tmp_path)
    _check_stale(kit, tmp_path, script, lambda: write(lockfile, lockfile.read_text() + "\n"), "deps 1.0 1.1",
                 "file changed")


def test_stale_config_file_changed(kit, tmp_path):
    config = write(tmp_path / "config.toml", "# vpython settings\n")
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    extra = {"VPYTHON_CONFIG": str(config)}
    _check_stale(kit, tmp_path, script, lambda: write(config, "# changed\n"), "deps 1.0 1.1", "file changed",
                 extra_env=extra)


@pytest.mark.parametrize("name,value", [
    ("VPYTHON_DEFAULT_SPEC", "/nonexistent.vpython3"),
    ("VPYTHON_OFFLINE", ""),  # set-but-empty is not unset: the digest sees the difference
    ("VPYTHON_EXTRA_INDEX_URL", "{index}"),
    ("XDG_CONFIG_HOME", "/nonexistent"),
    ("HOME", "/nonexistent-home"),
])
def test_stale_environment_variable_changed(kit, tmp_path, name, value):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    value = value.format(index=kit.index.url)
    before = kit.count()
    r = kit(script, cwd=tmp_path, extra_env={name: value}, check=0)
    assert_handoff(kit, before, "environment variable changed")
    assert "deps 1.0 1.1" in r.stdout
    warm_hit(kit, script, cwd=tmp_path, extra_env={name: value})  # an entry for the new value


def test_stale_index_url_changed(kit, tmp_path, wheelhouse):
    """Another index is another digest: the Python path resolves against it."""
    from tests.support import serve_index
    from tests.support.wheels import make_wheel

    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    other = tmp_path / "other-wheels"
    shutil.copytree(wheelhouse, other)
    make_wheel(other, "tinydep", "1.2")
    with serve_index(other) as index:
        before = kit.count()
        r = kit(script, cwd=tmp_path, extra_env={"VPYTHON_INDEX_URL": index.url}, check=0)
        assert_handoff(kit, before, "environment variable changed")
        assert "deps 1.0 1.2" in r.stdout


def test_stale_env_deleted_or_collected(kit, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    (env,) = envs_in(kit.root)
    shutil.rmtree(kit.root / "v1" / "envs" / env)  # the pointer stays: only the env is gone
    before = kit.count()
    assert "deps 1.0 1.1" in kit(script, cwd=tmp_path, check=0).stdout
    assert_handoff(kit, before, "env gone")
    warm_hit(kit, script, cwd=tmp_path)
    kit.py("gc", "--older-than", "0", cwd=tmp_path, check=0)  # env and pointer collected
    assert envs_in(kit.root) == []
    before = kit.count()
    assert "deps 1.0 1.1" in kit(script, cwd=tmp_path, check=0).stdout
    assert_handoff(kit, before, "file changed")  # the pointer the entry names is gone


def test_stale_store_moved(kit, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    moved = tmp_path / "moved-root"
    os.rename(kit.root, moved)
    before = kit.count()
    r = kit(script, cwd=tmp_path, extra_env={"VPYTHON_VIRTUALENV_ROOT": str(moved)})
    assert_handoff(kit, before, "index entry for another root")
    ref = kit.py(script, cwd=tmp_path, extra_env={"VPYTHON_VIRTUALENV_ROOT": str(moved)})
    assert outcome(r)[:2] == outcome(ref)[:2]


def test_stale_symlink_retargeted(kit, tmp_path):
    a = write(tmp_path / "real" / "a.py", '# /// script\n# dependencies = ["tinyapp", "tinydep<1.1"]\n# ///\n' + PRINT_DEPS)
    b = write(tmp_path / "real" / "b.py", PEP723 + PRINT_DEPS)
    settle(b)
    link = tmp_path / "tool.py"
    link.symlink_to(a)
    assert "deps 1.0 1.0" in warm_hit(kit, link, cwd=tmp_path).stdout

    def retarget():
        link.unlink()
        link.symlink_to(b)

    _check_stale(kit, tmp_path, link, retarget, "deps 1.0 1.1", "symlink changed")


def test_stale_interpreter_replaced(kit, tmp_path, launcher_binary, vpython_root):
    """The env was made for an interpreter binary that has since been replaced in place
    (same path, new file): the Python path builds anew, the launcher hands over."""
    pybin = tmp_path / "py" / "bin"
    pybin.mkdir(parents=True)
    interp = pybin / f"python{PY}"
    real = os.path.realpath(sys.executable)
    shutil.copy2(real, interp)
    lp = Launcher(tmp_path / "own", launcher_binary, python=str(interp), env=kit.env)
    write(tmp_path / ".gclient", "")
    script = write(tmp_path / "s.py", "import sys; print('ran', sys.version_info[:2])\n")
    warm_hit(lp, script, cwd=tmp_path)
    (entry,) = entries(vpython_root)
    assert "\ninterpreter " in entry.read_text() and f" {interp}\n" in entry.read_text(), entry.read_text()
    tmp = pybin / "new"
    shutil.copyfile(real, tmp)
    tmp.chmod(0o755)
    os.replace(tmp, interp)
    before = lp.count()
    r = lp(script, cwd=tmp_path, check=0)
    assert "ran" in r.stdout
    assert_handoff(lp, before, "interpreter replaced")


# --- nothing half-built, nothing in GC's hands -------------------------------------------

def test_env_without_pyvenv_cfg_is_not_run(kit, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    (env,) = envs_in(kit.root)
    cfg = kit.root / "v1" / "envs" / env / "pyvenv.cfg"
    os.rename(cfg, str(cfg) + ".away")
    before = kit.count()
    kit(script, cwd=tmp_path)
    assert_handoff(kit, before, "env gone")


def test_env_held_exclusively_by_gc_is_handed_over_without_blocking(kit, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    (env,) = envs_in(kit.root)
    fd = os.open(kit.root / "v1" / "envs" / (env + ".lock"), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what `vpython gc` holds while it deletes
    try:
        before = kit.count()
        p = subprocess.Popen([str(kit.exe), str(script)], cwd=tmp_path, env=kit.environ(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while kit.count() == before and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        assert kit.handoffs()[before:][:1] == [[[str(script)], "env busy (gc)"]]
    finally:
        os.close(fd)  # the Python path was waiting for it (as it does for a build)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0 and "deps 1.0 1.1" in out, err


@pytest.mark.parametrize("part", ["root", "v1", "launch", "entry", "envs", "env"])
def test_a_part_others_could_write_is_never_trusted(kit, tmp_path, part):
    """vpython/store/trust.py's rules hold on the launcher's path too: a root, cache dir,
    index entry or env writable by the group makes it hand off, and the Python path refuses
    what it must (the index is the launcher's alone: a loose one only costs the hit)."""
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    (entry,) = entries(kit.root)
    (env,) = envs_in(kit.root)
    v1 = kit.root / "v1"
    target = {"root": kit.root, "v1": v1, "launch": v1 / "launch", "entry": entry, "envs": v1 / "envs",
              "env": v1 / "envs" / env}[part]
    os.chmod(target, os.stat(target).st_mode | 0o020)
    before = kit.count()
    proc = kit(script, cwd=tmp_path)
    assert_handoff(kit, before)
    if part in ("launch", "entry"):
        assert proc.returncode == 0 and "deps 1.0 1.1" in proc.stdout, proc.stderr
    else:
        assert proc.returncode != 0 and "refusing to use" in proc.stderr and str(target) in proc.stderr, proc.stderr
        assert "deps 1.0" not in proc.stdout


def test_a_shared_root_is_always_the_python_paths(kit, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    before = kit.count()
    proc = kit(script, cwd=tmp_path, extra_env={"VPYTHON_SHARED_ROOT": "1"}, check=0)
    assert "deps 1.0 1.1" in proc.stdout
    assert_handoff(kit, before, "shared root (the Python path checks it)")


def test_forged_entry_naming_a_work_dir_is_refused(kit, tmp_path):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    (entry,) = entries(kit.root)
    (env,) = envs_in(kit.root)
    work = kit.root / "v1" / "envs" / (".tmp-" + env)
    shutil.copytree(kit.root / "v1" / "envs" / env, work, symlinks=True)
    text = entry.read_text()
    for forged in (".tmp-" + env, "../envs/" + env, ""):
        entry.write_text(text.replace(f"exec {env}\n", f"exec {forged}\n"))
        before = kit.count()
        kit(script, cwd=tmp_path, check=0)
        assert_handoff(kit, before, "index entry unreadable")


@pytest.mark.parametrize("mutation", ["truncated", "no-end", "future-format", "other-version", "unknown-record",
                                      "other-key", "bad-escape"])
def test_damaged_entry_is_handed_over(kit, tmp_path, mutation):
    script = write(tmp_path / "s.py", PEP723 + PRINT_DEPS)
    warm_hit(kit, script, cwd=tmp_path)
    (entry,) = entries(kit.root)
    text = entry.read_text()
    text = {
        "truncated": text[: len(text) // 2],
        "no-end": text.replace("end\n", ""),
        "future-format": text.replace("vpython-launch-index 1", "vpython-launch-index 2"),
        "other-version": text.replace("\nversion ", "\nversion 9"),
        "unknown-record": text.replace("end\n", "colour blue\nend\n"),
        "other-key": text.replace("key script%20", "key script%20/x"),
        "bad-escape": text.replace("key script%20", "key script%2"),
    }[mutation]
    entry.write_text(text)
    before = kit.count()
    assert "deps 1.0 1.1" in kit(script, cwd=tmp_path, check=0).stdout
    assert_handoff(kit, before)


def test_fallback_missing_is_a_clear_error(kit, tmp_path):
    (kit.bin / "vpython-py").unlink()
    r = kit("lock", "--help", cwd=tmp_path)
    assert r.returncode == 1
    assert "cannot run the Python fallback" in r.stderr and "vpython-py" in r.stderr
    assert "Traceback" not in r.stderr


def test_launcher_through_a_symlink_finds_its_fallback(kit, tmp_path):
    link_dir = tmp_path / "elsewhere"
    link_dir.mkdir()
    (link_dir / "vpython").symlink_to(kit.exe)
    before = kit.count()
    r = subprocess.run([str(link_dir / "vpython"), "gc", "--help"], cwd=tmp_path, env=kit.environ(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "vpython gc" in r.stdout
    assert kit.count() == before + 1


# --- shipping: pip install with and without a compiler -----------------------------------

def _source_copy(dest):
    for name in ("vpython", "scripts", "launcher", "setup.py", "pyproject.toml", "README.md"):
        src = os.path.join(REPO, name)
        if os.path.isdir(src):
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def _pip_install(tmp_path, extra_env):
    """``pip install .`` into a fresh venv, offline: the build backend comes from the
    setuptools wheel virtualenv embeds; vpython's own dependencies from the base
    interpreter (--system-site-packages)."""
    import virtualenv

    embed = os.path.join(os.path.dirname(virtualenv.__file__), "seed", "wheels", "embed")
    src = _source_copy(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    env = dict(os.environ, **extra_env)
    env.pop("PIP_FIND_LINKS", None)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index", "--find-links", embed,
                           "--no-deps", "--force-reinstall", "-v", str(src)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel_meta,) = (venv / "lib").glob("python*/site-packages/vpython_hermetic-*.dist-info/WHEEL")
    return venv, proc, wheel_meta.read_text()


def _run_installed(venv, tmp_path, vpython_root, local_index, name="vpython", times=2):
    script = tmp_path / "proj" / "s.py"
    if not script.exists():
        write(tmp_path / "proj" / ".gclient", "")
        write(script, PEP723 + PRINT_DEPS)
    env = dict(os.environ, VPYTHON_VIRTUALENV_ROOT=str(vpython_root), VPYTHON_INDEX_URL=local_index.url)
    return [subprocess.run([str(venv / "bin" / name), str(script)], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=300) for _ in range(times)]


@pytest.mark.slow
def test_pip_install_builds_and_installs_the_launcher(tmp_path, vpython_root, local_index, launcher_binary):
    venv, _proc, wheel = _pip_install(tmp_path, {})
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import vpython; print(vpython.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert where.startswith(str(venv)), where  # the installed copy, not an editable one from the base
    assert "Tag: py3-none-" in wheel and "-any" not in wheel.split("Tag:")[1].splitlines()[0]
    for name in ("vpython", "vpython3"):
        assert (venv / "bin" / name).read_bytes()[:4] in (b"\x7fELF", b"\xcf\xfa\xed\xfe")
    fallback = (venv / "bin" / "vpython-py").read_text()
    assert fallback.startswith(f"#!{venv}/bin/python")
    runs = _run_installed(venv, tmp_path, vpython_root, local_index)
    assert [r.returncode for r in runs] == [0, 0] and all("deps 1.0 1.1" in r.stdout for r in runs), runs
    assert len(entries(vpython_root)) == 1
    # A hit does not need the Python side at all: move it away and run once more.
    os.rename(venv / "bin" / "vpython-py", venv / "bin" / "vpython-py.away")
    (again,) = _run_installed(venv, tmp_path, vpython_root, local_index, name="vpython3", times=1)
    assert again.returncode == 0 and "deps 1.0 1.1" in again.stdout, again.stderr


@pytest.mark.slow
@pytest.mark.parametrize("how", [{"VPYTHON_LAUNCHER_CC": "/nonexistent/cc"}, {"VPYTHON_LAUNCHER_CC": "false"},
                                 {"VPYTHON_NO_LAUNCHER": "1"}], ids=["missing-compiler", "compile-fails", "opt-out"])
def test_pip_install_without_a_working_compiler_installs_the_python_scripts(tmp_path, vpython_root, local_index, how):
    venv, proc, wheel = _pip_install(tmp_path, how)
    assert "Tag: py3-none-any" in wheel
    assert "native launcher not built" in proc.stdout + proc.stderr
    for name in ("vpython", "vpython3", "vpython-py"):
        assert (venv / "bin" / name).read_text().startswith(f"#!{venv}/bin/python")
    runs = _run_installed(venv, tmp_path, vpython_root, local_index)
    assert [r.returncode for r in runs] == [0, 0] and all("deps 1.0 1.1" in r.stdout for r in runs), runs
    assert entries(vpython_root) == []  # no launcher asked for one


def test_build_reports_why_not(tmp_path, monkeypatch):
    builder = _builder()
    out = tmp_path / "vpython"
    assert "failed" in builder.build(str(out), "0.1.0", compiler=["false"])
    assert "/nonexistent/cc" in builder.build(str(out), "0.1.0", compiler=["/nonexistent/cc"])
    assert "unexpected version" in builder.build(str(out), '0.1"; rm -rf /', compiler=["cc"])
    monkeypatch.setenv("VPYTHON_NO_LAUNCHER", "1")
    assert "VPYTHON_NO_LAUNCHER" in builder.build(str(out), "0.1.0")
    assert not out.exists()
