"""Ownership: a cache root, or a part of it, that another user could write is refused.

The attacker is a second uid (``nobody``, through ``setpriv``/``su``) that plants
directories first, as it could in a shared ``$TMPDIR``; the victim is the uid running
the tests (root here: root ignores permission bits, so only vpython's own checks stand
between it and the attacker's code). Where no second uid can be used (not root, no
setpriv), the tests that need one skip; the mode checks run anyway.

For every attack the planted env's ``bin/python`` is a shell script that writes a
canary file: the canary must never appear, the refusal must name the path, its owner and
mode and the fix, and nothing may be created inside the planted root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time

import pytest

from tests.reliability import kit

pytestmark = pytest.mark.reliability

SCRIPT = '# /// script\n# dependencies = ["tinyapp"]\n# ///\nimport os, tinyapp; print("ok", tinyapp.__version__)\n'
RESULTS: list = []  # (attack, refused?, canary written?, detail)


def _nobody():
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        return None
    if os.geteuid() != 0 or pw.pw_uid == os.geteuid():
        return None
    return pw


def as_attacker(*argv):
    """Run ``argv`` as ``nobody`` (setpriv, else su); skip when neither works."""
    pw = _nobody()
    if pw is None:
        pytest.skip("needs root and a 'nobody' user to act as a second uid")
    if shutil.which("setpriv"):
        cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", *argv]
    elif shutil.which("su"):
        cmd = ["su", "nobody", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in argv)]
    else:
        pytest.skip("neither setpriv nor su is available")
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return pw


@pytest.fixture
def shared_tmp():
    """A world-writable sticky directory like /tmp, that nobody can reach (pytest's own
    tmp dirs are 0700)."""
    d = tempfile.mkdtemp(prefix="vpython-own-", dir="/tmp")
    os.chmod(d, 0o1777)
    yield d
    subprocess.run(["rm", "-rf", d], check=False)


@pytest.fixture(scope="module")
def built(rel_index, tmp_path_factory):
    """A root where the script ran once (the victim's own), its script and env."""
    d = tmp_path_factory.mktemp("own-built")
    script = d / "s.py"
    script.write_text(SCRIPT)
    root = d / "root"
    r = kit.run([script], kit.vp_env(root, rel_index.url), d)
    assert r.returncode == 0, r.stderr
    return root, script


def _plant_evil_python(root, canary):
    """Every env's bin/python becomes a script that writes ``canary``."""
    for key in kit.env_names(root):
        py = kit.v1(root) / "envs" / key / "bin" / "python"
        py.unlink()
        py.write_text(f"#!/bin/sh\necho pwned > {canary}\n")
        py.chmod(0o755)


def _copy_root(src, dst):
    shutil.copytree(src, dst, symlinks=True)


def _chown_tree(path, pw):
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for n in filenames + dirnames:
            os.chown(os.path.join(dirpath, n), pw.pw_uid, pw.pw_gid, follow_symlinks=False)


def _refused(r, path, *, owner=None, mode=None) -> list:
    """What is wrong with the refusal of a run that should have refused ``path``."""
    bad = []
    line = kit.one_line_error(r)
    if r.returncode == 0:
        bad.append("ran")
    if not kit.no_traceback(r):
        bad.append("traceback")
    if f"refusing to use" not in line or str(path) not in line:
        bad.append(f"error does not name {path}: {line!r}")
    if owner and f"owner {owner}" not in line:
        bad.append(f"error does not name the owner {owner}")
    if mode and f"mode {mode}" not in line:
        bad.append(f"error does not name the mode {mode}")
    if "hint: " not in r.stderr:
        bad.append("no hint")
    return bad


def _attack(name, r, path, canary, **expect) -> None:
    bad = _refused(r, path, **expect)
    pwned = os.path.exists(canary)
    RESULTS.append((name, not bad, pwned, kit.one_line_error(r)[16:200]))
    assert not pwned, f"{name}: the planted interpreter ran"
    assert not bad, (name, bad, r.stderr[-1500:])


def test_tmpdir_fallback_planted_by_another_user_is_refused(rel_index, tmp_path, shared_tmp):
    """HOME and XDG_CACHE_HOME unset: the root is $TMPDIR/vpython-root_<uid>. nobody made
    it first (0777), with a complete cache whose env runs their code."""
    fallback = os.path.join(shared_tmp, f"vpython-root_{os.getuid()}")
    pw = as_attacker("mkdir", "-m", "0777", fallback)
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    canary = tmp_path / "canary"
    env = kit.vp_env(None, rel_index.url, HOME=None, XDG_CACHE_HOME=None, VPYTHON_VIRTUALENV_ROOT=None,
                     TMPDIR=shared_tmp)
    r = kit.run([script], env, tmp_path)
    created = os.listdir(fallback)
    _attack("TMPDIR fallback made first by another user (empty, 0777)", r, fallback, canary,
            owner=f"nobody (uid {pw.pw_uid})", mode="0777")
    assert created == [], created  # nothing of the victim's was put in the planted dir
    # The same dir, holding the victim's cache with an interpreter of the attacker's.
    own = tmp_path / "own-root"
    assert kit.run([script], kit.vp_env(own, rel_index.url), tmp_path).returncode == 0
    os.rmdir(fallback)
    _copy_root(own, fallback)
    _plant_evil_python(fallback, canary)
    _chown_tree(fallback, pw)
    os.chmod(fallback, 0o755)  # not even writable by others: it is the owner that counts
    r = kit.run([script], env, tmp_path)
    _attack("TMPDIR fallback holding an attacker's env (owner nobody, 0755)", r, fallback, canary,
            owner=f"nobody (uid {pw.pw_uid})", mode="0755")


def test_tmpdir_fallback_is_created_private(rel_index, tmp_path, shared_tmp):
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    env = kit.vp_env(None, rel_index.url, HOME=None, XDG_CACHE_HOME=None, VPYTHON_VIRTUALENV_ROOT=None,
                     TMPDIR=shared_tmp)
    r = kit.run([script], env, tmp_path)
    assert r.returncode == 0 and "ok 1.0" in r.stdout, r.stderr
    root = os.path.join(shared_tmp, f"vpython-root_{os.getuid()}")
    st = os.stat(root)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid()
    RESULTS.append(("TMPDIR fallback created by vpython", True, False, f"mode {stat.S_IMODE(st.st_mode):04o}"))


@pytest.mark.parametrize("part", ["root", "v1", "specs", "envs", "env", "pointer"])
def test_a_part_writable_by_the_group_is_refused(built, rel_index, tmp_path, part):
    """The victim's own cache, one part made group-writable (an old umask, a chmod):
    refused on the warm path, before the pointer or env is used."""
    src, script = built
    root = tmp_path / "root"
    _copy_root(src, root)
    canary = tmp_path / "canary"
    _plant_evil_python(root, canary)  # stands for what a group member could have put there
    base = kit.v1(root)
    key = kit.env_names(root)[0]
    target = {
        "root": root, "v1": base, "specs": base / "specs", "envs": base / "envs", "env": base / "envs" / key,
        "pointer": next(p for p in (base / "specs").iterdir() if not p.name.startswith(".")),
    }[part]
    os.chmod(target, os.stat(target).st_mode | 0o020)
    r = kit.run([script], kit.vp_env(root, rel_index.url), tmp_path)
    _attack(f"warm run, {part} group-writable", r, target, canary)
    assert "writable by its group" in r.stderr and f"chmod go-w {target}" in r.stderr


def test_a_part_owned_by_another_user_is_refused(built, rel_index, tmp_path):
    pw = _nobody()
    if pw is None:
        pytest.skip("needs root and a 'nobody' user")
    src, script = built
    failures = 0
    for part in ("specs", "envs", "store/packages"):
        root = tmp_path / part.replace("/", "-")
        _copy_root(src, root)
        canary = tmp_path / f"canary-{part.replace('/', '-')}"
        _plant_evil_python(root, canary)
        target = kit.v1(root) / part
        _chown_tree(target, pw)
        if part == "store/packages":  # read on the cold path only: make the run cold
            for p in (kit.v1(root) / "specs").iterdir():
                p.unlink()
        r = kit.run([script], kit.vp_env(root, rel_index.url), tmp_path)
        _attack(f"{part} owned by another user", r, target, canary, owner=f"nobody (uid {pw.pw_uid})")
        failures += r.returncode == 0
    assert failures == 0


def test_a_parent_others_can_write_is_refused(rel_index, tmp_path, shared_tmp):
    """nobody owns the directory above the root (0777, not sticky): they could rename the
    victim's root away and put theirs in its place."""
    parent = os.path.join(shared_tmp, "ci-cache")
    as_attacker("mkdir", "-m", "0777", parent)
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    root = os.path.join(parent, "vpython")
    r = kit.run([script], kit.vp_env(root, rel_index.url), tmp_path)
    _attack("root inside a directory another user owns (0777)", r, root, tmp_path / "canary")
    assert f"its directory {parent} can be written by others" in r.stderr
    assert not os.path.exists(root)


def test_a_symlinked_root_owned_by_another_user_is_refused(built, rel_index, tmp_path, shared_tmp):
    src, script = built
    theirs = os.path.join(shared_tmp, "theirs")
    _copy_root(src, theirs)
    canary = tmp_path / "canary"
    _plant_evil_python(theirs, canary)
    link = os.path.join(shared_tmp, "root-link")
    pw = as_attacker("ln", "-s", theirs, link)
    r = kit.run([script], kit.vp_env(link, rel_index.url), tmp_path)
    _attack("root is another user's symlink", r, link, canary, owner=f"nobody (uid {pw.pw_uid})")


def test_vpython_creates_nothing_others_can_write_and_the_script_keeps_its_umask(rel_index, tmp_path):
    """A user with umask 000 (everything world-writable by default): the cache is still
    made without group/other write, and the script still sees umask 000."""
    script = tmp_path / "s.py"
    script.write_text(SCRIPT.replace('print("ok"', 'print("umask", oct(os.umask(0)), "ok"'))
    root = tmp_path / "root"
    env = kit.vp_env(root, rel_index.url)
    r = subprocess.run(["sh", "-c", 'umask 000; exec "$@"', "sh", *kit.vpython_cmd(), str(script)], env=env,
                       cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    assert r.returncode == 0 and "umask 0o0 ok 1.0" in r.stdout, r.stdout + r.stderr
    writable = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in [".", *dirnames, *filenames]:
            p = dirpath if n == "." else os.path.join(dirpath, n)
            st = os.lstat(p)
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o022 and not n.endswith(".lock"):
                writable.append(f"{os.path.relpath(p, root)} {stat.S_IMODE(st.st_mode):04o}")
    RESULTS.append(("umask 000: what vpython created", not writable, False, f"{len(writable)} writable by others"))
    assert writable == []
    ok = kit.run(["cache", "verify"], env, tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("ok:"), ok.stdout + ok.stderr


def test_a_shared_root_is_an_explicit_opt_in(built, rel_index, tmp_path, shared_tmp):
    """A CI cache shared through a group: refused by default, accepted with
    VPYTHON_SHARED_ROOT=1 or `shared-root = true` in the config file; world-writable is
    refused even then."""
    pw = _nobody()
    if pw is None:
        pytest.skip("needs root and a 'nobody' user")
    src, script = built
    root = os.path.join(shared_tmp, "shared")
    _copy_root(src, root)
    _chown_tree(root, pw)
    for dirpath, dirnames, _ in os.walk(root):
        os.chmod(dirpath, 0o2775)
    env = kit.vp_env(root, rel_index.url)
    refused = kit.run([script], env, tmp_path)
    assert refused.returncode != 0 and "VPYTHON_SHARED_ROOT=1" in refused.stderr, refused.stderr
    by_env = kit.run([script], dict(env, VPYTHON_SHARED_ROOT="1"), tmp_path)
    assert by_env.returncode == 0 and "ok 1.0" in by_env.stdout, by_env.stderr
    cfg = tmp_path / "config.toml"
    cfg.write_text("shared-root = true\n")
    # (another config file is another spec digest: a cold run, which resolves)
    by_cfg = kit.run([script], dict(env, VPYTHON_CONFIG=str(cfg)), tmp_path)
    assert by_cfg.returncode == 0 and "ok 1.0" in by_cfg.stdout, by_cfg.stderr
    os.chmod(kit.v1(root) / "specs", 0o2777)
    world = kit.run([script], dict(env, VPYTHON_SHARED_ROOT="1"), tmp_path)
    assert world.returncode != 0 and "writable by anyone" in world.stderr, world.stderr
    RESULTS.append(("shared root (group nobody, 2775): default / VPYTHON_SHARED_ROOT=1 / shared-root = true / "
                    "world-writable specs", True, False,
                    f"rc {refused.returncode} / {by_env.returncode} / {by_cfg.returncode} / {world.returncode}"))


def test_cache_verify_reports_what_others_could_write(built, tmp_path):
    src, _ = built
    root = tmp_path / "root"
    _copy_root(src, root)
    env_dir = kit.v1(root) / "envs" / kit.env_names(root)[0]
    deep = next(p for p in env_dir.rglob("site-packages") if p.is_dir())
    os.chmod(deep, 0o777)  # deeper than the warm path looks
    r = kit.run(["cache", "verify"], kit.vp_env(root, None), tmp_path)
    assert r.returncode == 1 and f"unsafe: {deep}: writable by anyone" in r.stdout, r.stdout + r.stderr


def test_zz_ownership_totals():
    if not RESULTS:
        pytest.skip("no ownership scenario ran")
    attacks = [r for r in RESULTS if r[0].startswith(("warm run", "TMPDIR fallback made", "TMPDIR fallback holding",
                                                      "root ", "specs", "envs", "store"))]
    refused = sum(1 for r in attacks if r[1])
    pwned = sum(1 for r in RESULTS if r[2])
    kit.record("ownership: roots planted by a second uid (nobody) or writable by others", trials=len(attacks),
               failures=len(attacks) - refused + pwned, leftovers=0,
               observed=f"{refused} of {len(attacks)} refused, each naming the path, its owner and mode, and the "
                        f"fix; the planted interpreter ran {pwned} times; other checks: "
                        + "; ".join(f"{r[0]}: {r[3]}" for r in RESULTS if r not in attacks))
