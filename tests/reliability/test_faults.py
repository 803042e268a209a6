"""Faults: SIGKILLed builders, a full disk, a read-only root, locks of dead processes.

Invariant (DESIGN.md §4): whatever happens to a builder, the cache holds either nothing
or complete entries under final names; the next run succeeds; leftovers are work dirs
that no reader ever opens and that ``vpython gc`` removes once they are old.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.reliability import kit

pytestmark = pytest.mark.reliability

CHECKPOINTS = ("fetched", "unpacked", "compiled", "linked", "published", "pointer")
CHECK = (
    "import os, bigdep, tinyapp\n"
    "blob = os.path.join(os.path.dirname(bigdep.__file__), 'blob.bin')\n"
    "assert os.path.getsize(blob) == 4 << 20, os.path.getsize(blob)\n"
    "print('ok', tinyapp.__version__)\n"
)
SCRIPT = '# /// script\n# dependencies = ["tinyapp", "bigdep"]\n# ///\n' + CHECK


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    d = tmp_path_factory.mktemp("fault-script")
    p = d / "s.py"
    p.write_text(SCRIPT)
    return p


@pytest.fixture(scope="module")
def template(rel_index, script, tmp_path_factory):
    """A root where the script ran once: its cached resolution (``locks/``) and
    interpreter probe (``interpreters/``) are copied into each trial's fresh root, so a
    trial's cold run spends its time downloading, unpacking, compiling, assembling and
    publishing -- the stages the kills must land in -- rather than re-resolving."""
    root = tmp_path_factory.mktemp("fault-template")
    r = kit.run(["-vpython-log-level", "info", script], kit.vp_env(root, rel_index.url), script.parent)
    assert r.returncode == 0, r.stderr
    return root


def fresh_root(template, path):
    path.mkdir(parents=True)
    for sub in ("locks", "interpreters"):
        src = kit.v1(template) / sub
        if src.is_dir():
            shutil.copytree(src, kit.v1(path) / sub, ignore=shutil.ignore_patterns(".*"))
    return path


def _stage(stderr: str) -> str:
    """The last stage a killed run announced (progress lines, -vpython-log-level info)."""
    stage = "resolve"
    for line in stderr.splitlines():
        if "fetching" in line:
            stage = "download"
        elif "unpacking and compiling" in line:
            stage = "unpack+compile"
        elif "assembling env" in line:
            stage = "assembly/publish"
    return stage


def _after_kill(root, script, env):
    """Checks after a killed run: nothing partial visible; the next run succeeds and
    uses complete entries only. Returns (problems, next run)."""
    problems = kit.store_problems(root)
    r = kit.run([script], env, script.parent)
    return problems + kit.store_problems(root), r


def _sweep(root, env, cwd):
    """Age everything (crash leftovers are then 'abandoned'), collect with a threshold
    that keeps the envs, and return what remains of work files."""
    kit.age_everything(root)
    r = kit.run(["gc", "--older-than", "30d"], env, cwd)
    assert r.returncode == 0, r.stderr
    return kit.leftovers(root)


def test_sigkill_at_every_checkpoint(rel_index, template, script, tmp_path):
    """3 trials per checkpoint (18): the builder SIGKILLs itself there."""
    env0 = kit.vp_env(None, rel_index.url)
    failures, crash_left, left_after_gc, observed = [], 0, 0, {}
    t0 = time.monotonic()
    trials = 0
    for i, stage in enumerate(CHECKPOINTS * 3):
        root = fresh_root(template, tmp_path / f"r{i}")
        env = dict(env0, VPYTHON_VIRTUALENV_ROOT=str(root))
        r = kit.run(["-vpython-log-level", "info", script], dict(env, VPYTHON_TEST_KILL_AT=stage), tmp_path)
        trials += 1
        if r.returncode != -signal.SIGKILL:
            failures.append(f"{stage}: not killed (rc {r.returncode}) {r.stderr[-500:]}")
            continue
        crash_left += len(kit.leftovers(root))
        problems, nxt = _after_kill(root, script, env)
        if nxt.returncode != 0 or "ok 1.0" not in nxt.stdout or problems or len(kit.env_names(root)) != 1:
            failures.append(f"{stage}: next run rc={nxt.returncode} problems={problems} "
                            f"envs={kit.env_names(root)}\n{nxt.stderr[-1500:]}")
        left = _sweep(root, env, tmp_path)
        left_after_gc += len(left)
        if left:
            failures.append(f"{stage}: left after gc: {left}")
        observed[stage] = observed.get(stage, 0) + 1
    kit.record("faults: SIGKILL at each checkpoint (fetched, unpacked, compiled, linked, published, pointer)",
               trials=trials, failures=len(failures), leftovers=left_after_gc,
               observed=f"{crash_left} crash work dirs left before gc, all removed by gc; next run ok in every trial",
               seconds=time.monotonic() - t0)
    assert not failures, "\n----\n".join(failures[:3])
    assert trials == 18 and left_after_gc == 0


def _start_build(script, env, cwd):
    """Start a cold run and return (process, stderr lines so far, t) once it announces
    its first build stage ("fetching ..."): the random timers then land inside the
    build rather than in interpreter start-up."""
    p = kit.popen(["-vpython-log-level", "info", script], env, cwd)
    lines = []
    while True:
        line = p.stderr.readline()
        if not line:
            return p, lines, time.monotonic()
        lines.append(line)
        if "fetching" in line:
            return p, lines, time.monotonic()


def test_sigkill_at_random_times(rel_index, template, script, tmp_path):
    """16 SIGKILLs at a uniformly random moment of the build (from its first download
    to its exit); the trial's stage is the last progress line the builder printed."""
    env0 = kit.vp_env(None, rel_index.url)
    # Calibrate: how long does the build take here (under this machine's load)?
    cal_root = fresh_root(template, tmp_path / "cal")
    p, _, t = _start_build(script, dict(env0, VPYTHON_VIRTUALENV_ROOT=str(cal_root)), tmp_path)
    _, err = p.communicate(timeout=300)
    build = time.monotonic() - t
    assert p.returncode == 0, err
    rng = random.Random(int(os.environ.get("VPYTHON_RELIABILITY_SEED", "7")))
    failures, stages, landed, attempts, left_after_gc = [], {}, 0, 0, 0
    t0 = time.monotonic()
    while landed < 16 and attempts < 32:
        attempts += 1
        root = fresh_root(template, tmp_path / f"r{attempts}")
        env = dict(env0, VPYTHON_VIRTUALENV_ROOT=str(root))
        delay = rng.uniform(0.0, 1.0) * build
        p, lines, t = _start_build(script, env, tmp_path)
        try:
            p.wait(timeout=max(0.0, delay - (time.monotonic() - t)))
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
        _, err = p.communicate(timeout=120)
        if p.returncode != -signal.SIGKILL:
            continue  # finished before the timer: not a crash trial
        landed += 1
        stage = _stage("".join(lines) + err)
        stages[stage] = stages.get(stage, 0) + 1
        problems, nxt = _after_kill(root, script, env)
        if nxt.returncode != 0 or "ok 1.0" not in nxt.stdout or problems or len(kit.env_names(root)) != 1:
            failures.append(f"kill at +{delay:.2f}s ({stage}): next run rc={nxt.returncode} problems={problems}\n"
                            f"{nxt.stderr[-1500:]}")
        left = _sweep(root, env, tmp_path)
        left_after_gc += len(left)
        if left:
            failures.append(f"kill at +{delay:.2f}s ({stage}): left after gc: {left}")
    kit.record("faults: SIGKILL at a random moment of the build", trials=landed, failures=len(failures),
               leftovers=left_after_gc,
               observed=f"build {build:.2f}s; kills by last announced stage: "
                        + ", ".join(f"{k} {v}" for k, v in sorted(stages.items())),
               seconds=time.monotonic() - t0)
    assert landed >= 16, f"only {landed} of {attempts} timers landed before the run finished"
    assert not failures, "\n----\n".join(failures[:3])
    assert len(stages) >= 2, stages  # the timers really spread over the build


# ----------------------------------------------------------------------------- full disk


@contextlib.contextmanager
def tmpfs(path, options):
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _clear_error(r, root) -> list:
    """What is wrong with a failed run's error report (empty if it is clear)."""
    bad = []
    if r.returncode in (0, -signal.SIGKILL) or r.returncode < 0:
        bad.append(f"rc {r.returncode}")
    if not kit.no_traceback(r):
        bad.append("traceback")
    line = kit.one_line_error(r)
    if not line:
        bad.append("no 'vpython: error:' line")
    elif str(root) not in line:
        bad.append(f"error does not name the root: {line}")
    return bad


# Sizes chosen so the disk fills at different stages: while the 4 MiB wheel downloads,
# while it unpacks (wheel + payload), while the env is assembled; and an inode limit.
DISK_LIMITS = ("size=1m", "size=3m", "size=5m", "size=6m", "size=7m", "size=8m", "nr_inodes=60", "nr_inodes=120")


def test_full_disk_gives_clear_error_and_store_stays_consistent(rel_index, template, script, tmp_path, can_mount):
    if not can_mount:
        pytest.skip("needs a tmpfs mount (root on Linux); the injected-ENOSPC variant below still runs")
    env0 = kit.vp_env(None, rel_index.url)
    failures, observed = [], []
    t0 = time.monotonic()
    for i, options in enumerate(DISK_LIMITS):
        mnt = tmp_path / f"disk{i}"
        with tmpfs(mnt, options):
            root = fresh_root(template, mnt / "root") if "size=1m" not in options else (mnt / "root")
            root.mkdir(exist_ok=True)
            env = dict(env0, VPYTHON_VIRTUALENV_ROOT=str(root))
            r = kit.run([script], env, tmp_path)
            if r.returncode == 0:
                observed.append(f"{options}: fit")
                continue
            bad = _clear_error(r, root)
            msg = kit.one_line_error(r)
            if "No space left" not in r.stderr:
                bad.append("does not say 'No space left'")
            problems = kit.store_problems(root)
            left = kit.leftovers(root)
            if bad or problems or left:
                failures.append(f"{options}: {bad} problems={problems} leftovers={left}\n{r.stderr[-1500:]}")
            # More space: the same root must now work.
            subprocess.run(["mount", "-o", "remount,size=256m,nr_inodes=100000", str(mnt)], check=True)
            r2 = kit.run([script], env, tmp_path)
            if r2.returncode != 0 or "ok 1.0" not in r2.stdout or kit.store_problems(root):
                failures.append(f"{options}: run with space rc={r2.returncode}\n{r2.stderr[-1500:]}")
            observed.append(f"{options}: " + msg[len("vpython: error: "):].replace(str(root), "<root>"))
    kit.record("faults: full disk (tmpfs size/inode limits), then the same root with space",
               trials=len(DISK_LIMITS), failures=len(failures), leftovers=0,
               observed="; ".join(observed), seconds=time.monotonic() - t0)
    assert not failures, "\n----\n".join(failures[:3])
    assert sum("fit" not in o for o in observed) >= 6, observed


# ----------------------------------------------------------------------------- read-only root


def test_read_only_root_gives_clear_error(rel_index, template, script, tmp_path, can_mount):
    """An empty read-only root: a clear error naming the root, never a traceback. A
    read-only root holding a complete cache for the script: the warm run works (the
    use lock is taken on a read-only fd) and changes nothing."""
    if not can_mount and os.geteuid() == 0:
        pytest.skip("root ignores permission bits and no read-only mount is possible here")
    env0 = kit.vp_env(None, rel_index.url)
    results = []
    # (a) empty root
    empty = tmp_path / "ro-empty"
    empty.mkdir()
    # (b) a root with a complete cache for the script
    full = tmp_path / "ro-full"
    full.mkdir()
    r = kit.run([script], dict(env0, VPYTHON_VIRTUALENV_ROOT=str(full)), tmp_path)
    assert r.returncode == 0, r.stderr
    before = kit.tree_snapshot(full)
    with _read_only(empty, can_mount), _read_only(full, can_mount):
        for name, root in (("empty", empty), ("complete cache", full)):
            r = kit.run([script], dict(env0, VPYTHON_VIRTUALENV_ROOT=str(root)), tmp_path)
            results.append((name, r, _clear_error(r, root) if r.returncode else []))
    after = kit.tree_snapshot(full)
    observed = "; ".join(f"{n}: rc {r.returncode}, "
                         + (kit.one_line_error(r)[16:].replace(str(empty), "<root>") or r.stdout.strip())
                         for n, r, _ in results)
    bad = [(n, b, r.stderr[-800:]) for n, r, b in results if b]
    kit.record("faults: read-only root (empty; with a complete cache)", trials=len(results),
               failures=len(bad) + int(before != after), leftovers=0, observed=observed)
    assert not bad, bad
    assert results[0][1].returncode != 0
    assert "Read-only" in results[0][1].stderr or "Permission denied" in results[0][1].stderr
    # A complete cache on a read-only mount (an image-baked cache) still runs warm.
    assert results[1][1].returncode == 0 and "ok 1.0" in results[1][1].stdout, results[1][1].stderr
    assert before == after


def test_read_only_root_maintenance_commands_end_in_one_line(rel_index, script, tmp_path, can_mount):
    """`vpython gc`, `gc --dry-run`, `cache verify` and `cache verify --repair` on a
    read-only root holding a complete cache (an image-baked cache): the read-only ones
    report (the store lock is taken on a read-only fd), the others end in the one-line
    "cannot write to the vpython cache" error. Before: OSError [Errno 30] ... store.lock."""
    if not can_mount and os.geteuid() == 0:
        pytest.skip("root ignores permission bits and no read-only mount is possible here")
    root = tmp_path / "ro"
    root.mkdir()
    env = kit.vp_env(root, rel_index.url)
    assert kit.run([script], env, tmp_path).returncode == 0
    before = kit.tree_snapshot(root)
    cases = [(["gc", "--older-than", "0"], 1), (["gc", "--older-than", "0", "--dry-run"], 0),
             (["cache", "verify"], 0), (["cache", "verify", "--repair"], 1), (["cache", "info"], 0)]
    results = []
    with _read_only(root, can_mount):
        for args, rc in cases:
            r = kit.run(args, env, tmp_path)
            results.append((args, rc, r))
    after = kit.tree_snapshot(root)
    bad = []
    for args, rc, r in results:
        if r.returncode != rc or not kit.no_traceback(r):
            bad.append(f"{' '.join(args)}: rc {r.returncode} (expected {rc})\n{r.stdout[-400:]}{r.stderr[-800:]}")
        elif rc and "cannot write to the vpython cache at" not in kit.one_line_error(r):
            bad.append(f"{' '.join(args)}: {kit.one_line_error(r)!r}")
    observed = "; ".join(f"`vpython {' '.join(a)}`: exit {r.returncode}" for a, _, r in results)
    kit.record("faults: maintenance commands on a read-only root holding a complete cache", trials=len(results),
               failures=len(bad) + int(before != after), leftovers=0,
               observed=observed + "; no traceback, no byte changed")
    assert not bad, "\n".join(bad)
    assert before == after


@contextlib.contextmanager
def _read_only(path, can_mount):
    if can_mount:
        subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
            yield
        finally:
            subprocess.run(["umount", "-l", str(path)], check=False)
    else:
        modes = {}
        for dirpath, dirnames, _ in os.walk(path):
            modes[dirpath] = os.stat(dirpath).st_mode
            os.chmod(dirpath, 0o555)
        try:
            yield
        finally:
            for p, m in modes.items():
                os.chmod(p, m)


# ----------------------------------------------------------------------------- dead lock holders

HOLDER = """
import fcntl, os, sys, time
fds = []
for p in sys.argv[1:]:
    os.makedirs(os.path.dirname(p), exist_ok=True)
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    fds.append(fd)
print('held', flush=True)
time.sleep(3600)
"""


def test_lock_of_a_dead_process_does_not_block(rel_index, template, script, tmp_path):
    """A process holds every lock a cold run takes (store lock exclusively, the env's
    build lock, the env's use lock), then is SIGKILLed: the waiting run proceeds. A
    planted stale work dir (``envs/.tmp-<key>-…`` with a bogus pyvenv.cfg) is never used
    and is collected by gc once old."""
    from vpython.store.root import Layout

    # The env key of this script on this machine: from the template's metadata.
    key = kit.env_names(template)[0]
    trials, failures, waits = 0, [], []
    t0 = time.monotonic()
    for i in range(3):
        root = fresh_root(template, tmp_path / f"r{i}")
        layout = Layout(str(root))
        env = kit.vp_env(root, rel_index.url)
        stale = kit.v1(root) / "envs" / f".tmp-{key}-stale{i}"
        (stale / "bin").mkdir(parents=True)
        (stale / "pyvenv.cfg").write_text("home = /nonexistent\n")
        locks = [os.path.join(layout.base, "store.lock"), os.path.join(layout.envs, f".{key}.build.lock"),
                 layout.env_lock(key)]
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, *locks], stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "held"
        p = kit.popen([script], env, tmp_path)
        time.sleep(1.5)
        blocked = p.poll() is None  # the locks really are in its way
        t_kill = time.monotonic()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        waited = time.monotonic() - t_kill
        waits.append(waited)
        trials += 1
        envs = kit.env_names(root)
        ok = blocked and p.returncode == 0 and "ok 1.0" in out and envs == [key]
        if not ok:
            failures.append(f"blocked={blocked} rc={p.returncode} envs={envs}\n{err[-1500:]}")
        left = _sweep(root, env, tmp_path)
        if left or stale.exists():
            failures.append(f"stale work dir not collected: {left}")
    kit.record("faults: locks (store, build, env use) held by a SIGKILLed process; planted stale work dir",
               trials=trials, failures=len(failures), leftovers=0,
               observed=f"run blocked while the holder lived, finished {max(waits):.1f}s max after its death; "
                        f"stale .tmp- dir never used, removed by gc",
               seconds=time.monotonic() - t0)
    assert not failures, "\n----\n".join(failures[:3])
