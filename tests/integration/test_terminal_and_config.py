"""Progress on a terminal, and the config file end to end (issue 2)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import textwrap

from tests.support.vp import envs_in, run_vpython, vpython_cmd

SCRIPT = textwrap.dedent('''\
    # /// script
    # dependencies = ["tinyapp"]
    # ///
    import tinyapp
    print("deps", tinyapp.__version__)
    ''')


def _run_on_a_pty(args, cwd, env):
    """Run vpython with stderr on a pseudo-terminal (stdout piped); return (rc, out, err)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(vpython_cmd() + [str(a) for a in args], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    err = b""
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            raise AssertionError("no output from vpython on the pty for 120 s")
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        err += chunk
    out = proc.stdout.read().decode()
    proc.stdout.close()
    os.close(master)
    return proc.wait(timeout=60), out, err.decode("utf-8", "replace")


def test_progress_is_shown_on_a_terminal_and_not_in_a_pipe(local_index, vpython_root, tmp_path):
    (tmp_path / ".gclient").write_text("")
    one = tmp_path / "one.py"
    one.write_text(SCRIPT)
    env = dict(os.environ, VPYTHON_INDEX_URL=local_index.url)
    rc, out, err = _run_on_a_pty([one], tmp_path, env)
    assert rc == 0 and "deps 1.0" in out, err
    # A person watching sees one live line, redrawn in place ("\r" ... erase to the end
    # of the line) through the phases, with the package counts while they come in ...
    frames = [f for f in err.split("\r") if f.endswith("\x1b[K")]
    texts = [f[: -len("\x1b[K")] for f in frames]
    assert any(t.startswith("vpython: resolving") for t in texts), err
    assert any(t.startswith("vpython: fetching ") and "/2 packages" in t for t in texts), err
    assert any(t.startswith("vpython: assembling env") for t in texts), err
    assert all("\n" not in t for t in texts), err  # one line, never a scrolling list
    # ... erased at the end, leaving a single summary line before the script's output.
    assert err.endswith("\r\x1b[Kvpython: installed 2 package(s) in " + err.rsplit(" in ", 1)[1]), err
    assert err.count("\n") == 1 and err.rstrip().endswith("s"), err
    # Warm: nothing to announce.
    rc, out, err = _run_on_a_pty([one], tmp_path, env)
    assert rc == 0 and err.strip() == "", err
    # A second cold build (another spec) asked for errors only stays quiet, piped or not.
    two = tmp_path / "two.py"
    two.write_text(SCRIPT.replace('"tinyapp"', '"tinyapp>=0.1"').replace('print("deps"', 'print("two"'))
    proc = run_vpython(["-vpython-log-level", "error", two], cwd=tmp_path,
                       env={"VPYTHON_INDEX_URL": local_index.url})
    assert proc.returncode == 0 and "two 1.0" in proc.stdout, proc.stderr
    assert proc.stderr == ""
    # A pipe (CI logs, 2>file) gets plain phase lines at the default level, and so does
    # -vpython-log-level info or warning (each in a new root: the same packages would
    # otherwise be in the store already).
    for level in ("default", "info", "warning"):
        three = tmp_path / f"three-{level}.py"
        three.write_text(SCRIPT.replace('print("deps"', f'print("{level}"'))
        flags = [] if level == "default" else ["-vpython-log-level", level]
        proc = run_vpython([*flags, three], cwd=tmp_path,
                           env={"VPYTHON_INDEX_URL": local_index.url,
                                "VPYTHON_VIRTUALENV_ROOT": str(tmp_path / f"root-{level}")})
        assert proc.returncode == 0 and f"{level} 1.0" in proc.stdout, proc.stderr
        lines = proc.stderr.splitlines()
        assert "\r" not in proc.stderr and "\x1b" not in proc.stderr, proc.stderr
        for phase in ("vpython: resolving", "vpython: fetching 2 wheel(s)", "vpython: assembling env"):
            assert any(line.startswith(phase) for line in lines), (phase, proc.stderr)


def test_config_file_supplies_the_index_and_flags_and_env_override_it(local_index, vpython_root, tmp_path):
    (tmp_path / ".gclient").write_text("")
    script = tmp_path / "tool.py"
    script.write_text(SCRIPT)
    config = tmp_path / "config.toml"
    config.write_text(f'index-url = "{local_index.url}"\n')
    # The config file alone is enough to find the package index.
    proc = run_vpython([script], cwd=tmp_path, env={"VPYTHON_CONFIG": str(config)})
    assert proc.returncode == 0 and "deps 1.0" in proc.stdout, proc.stderr
    assert len(envs_in(vpython_root)) == 1

    # The environment overrides the config file: a dead index in the config does not matter.
    config.write_text('index-url = "http://127.0.0.1:9/simple/"\n')
    other = tmp_path / "other.py"
    other.write_text(SCRIPT.replace('print("deps"', 'print("other"'))
    proc = run_vpython([other], cwd=tmp_path,
                       env={"VPYTHON_CONFIG": str(config), "VPYTHON_INDEX_URL": local_index.url})
    assert proc.returncode == 0 and "other 1.0" in proc.stdout, proc.stderr
    # ... and so does the flag.
    third = tmp_path / "third.py"
    third.write_text(SCRIPT.replace('print("deps"', 'print("third"'))
    proc = run_vpython(["-vpython-index-url", local_index.url, third], cwd=tmp_path,
                       env={"VPYTHON_CONFIG": str(config)})
    assert proc.returncode == 0 and "third 1.0" in proc.stdout, proc.stderr

    # A changed config file is a different package source: the warm pointer is not reused,
    # and the dead index in it is what the cold run then reports.
    fourth = tmp_path / "fourth.py"
    fourth.write_text(SCRIPT.replace('print("deps"', 'print("fourth"'))
    proc = run_vpython([fourth], cwd=tmp_path, env={"VPYTHON_CONFIG": str(config)})
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "127.0.0.1:9" in proc.stderr, proc.stderr


def test_bad_config_file_is_a_user_error_naming_the_file_and_key(vpython_root, tmp_path):
    (tmp_path / ".gclient").write_text("")
    script = tmp_path / "tool.py"
    script.write_text(SCRIPT)
    config = tmp_path / "config.toml"
    for text, expect in [
        ('index-urll = "x"\n', "index-urll: not a config key"),
        ('offline = "yes"\n', "offline: must be true or false"),
        ('find-links = "dir"\n', "find-links: must be a list of strings"),
        ('index-url = \n', str(config)),
    ]:
        config.write_text(text)
        proc = run_vpython([script], cwd=tmp_path, env={"VPYTHON_CONFIG": str(config)})
        assert proc.returncode == 2, (text, proc.stderr)
        assert expect in proc.stderr and str(config) in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert envs_in(vpython_root) == []


def test_version_and_help_flags_print_nothing_on_stderr_and_only_a_real_prompt_is_announced(vpython_root, tmp_path):
    (tmp_path / ".gclient").write_text("")
    for args in (["-V"], ["--version"], ["-VV"], ["--help-env"]):
        proc = run_vpython(args, cwd=tmp_path)
        assert proc.returncode == 0 and proc.stdout.strip(), (args, proc.stdout)
        assert proc.stderr == "", (args, proc.stderr)  # as python: its output is on stdout only
    # No target and stdin a pipe: python runs stdin as a script, no prompt.
    proc = run_vpython([], cwd=tmp_path, input="print(6 * 7)\n")
    assert proc.returncode == 0 and proc.stdout.strip() == "42" and proc.stderr == "", proc.stderr
    # A real interactive session (stdin a terminal) says which spec it loaded.
    master, slave = pty.openpty()
    proc = subprocess.Popen(vpython_cmd() + ["-q"], cwd=tmp_path, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    os.write(master, b"raise SystemExit(0)\n")
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError(f"no output from the interactive session: {seen!r}")
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    assert b"Starting interactive mode, loading vpython spec from" in seen, seen
