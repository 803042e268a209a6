"""Tampering: hostile or corrupted wheels are refused before anything is installed.

Each case is a real run: a script whose lockfile (``pylock.<stem>.toml`` beside it)
pins the hostile wheel, so vpython fetches, checks and tries to unpack it exactly as
it would a wheel from an index. Expectations for every case:

* exit 1 (an IntegrityError), no traceback, one error line that names the wheel file;
* nothing written outside the builder's work dir: a canary directory that the wheels
  aim at stays empty, no env is published, no store entry for the wheel exists, the
  store's tmp dir is empty again (the work dir was removed);
* the store stays consistent (kit.store_problems).
"""

from __future__ import annotations

import hashlib
import stat
import time
import zlib

import pytest

from tests.reliability import kit
from tests.support.wheels import (
    _order,
    _record_text,
    _write_raw_zip,
    make_evil_wheel,
    make_wheel,
    record_hash,
    wheel_contents,
    wheel_filename,
)

pytestmark = pytest.mark.reliability

SCRIPT = '# /// script\n# dependencies = ["{name}"]\n# ///\nprint("installed")\n'


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_lock(script, packages) -> None:
    """``pylock.<stem>.toml`` beside ``script``: packages = [(name, version, wheel file
    name, {"path": ...} or {"url": ...}, sha256)]."""
    lines = ['lock-version = "1.0"', 'created-by = "vpython-reliability-tests"', ""]
    for name, version, filename, where, sha in packages:
        (key, value), = where.items()
        lines += ["[[packages]]", f'name = "{name}"', f'version = "{version}"', "[[packages.wheels]]",
                  f'name = "{filename}"', f'{key} = "{value}"', f'hashes = {{sha256 = "{sha}"}}', ""]
    script.with_name(f"pylock.{script.stem}.toml").write_text("\n".join(lines))


def _many_member_bomb(out, name="bomb-many", members=48, member_size=15 << 20):
    """Each member stays under the per-member ratio check's 16 MiB floor; together they
    inflate to 720 MiB from ~0.7 MB. Only a whole-archive ratio or size limit stops it."""
    dist_info, contents = wheel_contents(name, "1.0")
    chunk = b"\0" * member_size
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = c.compress(chunk) + c.flush()
    crc = zlib.crc32(chunk) & 0xFFFFFFFF
    digest = record_hash(chunk)
    mod = name.replace("-", "_")
    bombs = [f"{mod}/part{i:03d}.bin" for i in range(members)]
    order = _order(list(contents) + bombs, dist_info)
    rows = [(n, digest, str(member_size)) if n in bombs else (n, record_hash(contents[n]), str(len(contents[n])))
            for n in order[:-1]] + [(f"{dist_info}/RECORD", "", "")]
    contents[f"{dist_info}/RECORD"] = _record_text(rows)
    entries = []
    for n in order:
        if n in bombs:
            entries.append((n, raw, crc, member_size))
        else:
            body = contents[n]
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            entries.append((n, c.compress(body) + c.flush(), zlib.crc32(body) & 0xFFFFFFFF, len(body)))
    out.mkdir(parents=True, exist_ok=True)
    path = out / wheel_filename(name, "1.0")
    _write_raw_zip(path, entries)
    return path


def _lying_size(out, name="lying-size"):
    """The header says a member is 100 bytes; its deflate stream inflates to 64 MiB."""
    dist_info, contents = wheel_contents(name, "1.0")
    mod = name.replace("-", "_")
    big = b"\0" * (64 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = c.compress(big) + c.flush()
    member = f"{mod}/data.bin"
    order = _order(list(contents) + [member], dist_info)
    rows = [(n, record_hash(big[:100]) if n == member else record_hash(contents[n]),
             "100" if n == member else str(len(contents[n]))) for n in order[:-1]]
    rows.append((f"{dist_info}/RECORD", "", ""))
    contents[f"{dist_info}/RECORD"] = _record_text(rows)
    entries = []
    for n in order:
        if n == member:
            entries.append((n, raw, zlib.crc32(big[:100]) & 0xFFFFFFFF, 100))
        else:
            body = contents[n]
            cc = zlib.compressobj(6, zlib.DEFLATED, -15)
            entries.append((n, cc.compress(body) + cc.flush(), zlib.crc32(body) & 0xFFFFFFFF, len(body)))
    out.mkdir(parents=True, exist_ok=True)
    path = out / wheel_filename(name, "1.0")
    _write_raw_zip(path, entries)
    return path


def _symlink_to_canary(out, canary, name="symlink-canary"):
    """A symlink member pointing at the canary dir, then a file written 'through' it."""
    from tests.support.wheels import _write_zip, _zipinfo

    dist_info, contents = wheel_contents(name, "1.0")
    mod = name.replace("-", "_")
    link, through = f"{mod}/escape", f"{mod}/escape/pwned.py"
    contents[link] = str(canary).encode()
    contents[through] = b"print('escaped')\n"
    order = _order(contents, dist_info)
    rows = [(n, record_hash(contents[n]), str(len(contents[n]))) for n in order[:-1]]
    rows.append((f"{dist_info}/RECORD", "", ""))
    contents[f"{dist_info}/RECORD"] = _record_text(rows)
    entries = [(_zipinfo(n, 0o777, file_type=stat.S_IFLNK) if n == link else _zipinfo(n), contents[n])
               for n in order]
    out.mkdir(parents=True, exist_ok=True)
    path = out / wheel_filename(name, "1.0")
    _write_zip(path, entries)
    return path


# name -> (builder(out_dir, canary) -> wheel path, expected fragment of the error)
CASES = {
    "'../' member (evil.py)": (lambda d, c: make_evil_wheel(d, "dotdot"), "'..'"),
    "'../' member aimed at the canary": (lambda d, c: kit.make_canary_wheel(d, "dotdot_canary", c), "'..'"),
    "absolute member (/tmp/evil.py)": (lambda d, c: make_evil_wheel(d, "absolute"), "absolute"),
    "absolute member aimed at the canary": (lambda d, c: kit.make_canary_wheel(d, "absolute_canary", c),
                                            "absolute"),
    "'.data/purelib/../..' member": (lambda d, c: kit.make_canary_wheel(d, "data_dotdot", c), "'..'"),
    "symlink member -> /etc/passwd": (lambda d, c: make_evil_wheel(d, "symlink_escape"), "symbolic link"),
    "symlink member -> canary, file written through it": (lambda d, c: _symlink_to_canary(d, c),
                                                         "symbolic link"),
    "duplicate member name": (lambda d, c: kit.make_canary_wheel(d, "duplicate", c), "duplicate"),
    "not a zip": (lambda d, c: kit.make_canary_wheel(d, "not_a_zip", c), "not a valid wheel"),
    "zip bomb: one 1 GiB member": (lambda d, c: make_evil_wheel(d, "zip_bomb"), "zip bomb"),
    "zip bomb: 48 members of 15 MiB": (lambda d, c: _many_member_bomb(d), "zip bomb"),
}


def _check_refused(root, r, filename, expect, canary, canary_before):
    bad = []
    if r.returncode != 1:
        bad.append(f"rc {r.returncode}")
    if not kit.no_traceback(r):
        bad.append("traceback")
    line = kit.one_line_error(r)
    if filename not in line:
        bad.append(f"error does not name {filename}: {line!r}")
    if expect.lower() not in r.stderr.lower():
        bad.append(f"error does not say {expect!r}: {line!r}")
    if "installed" in r.stdout:
        bad.append("the script ran")
    if kit.env_names(root):
        bad.append(f"env published: {kit.env_names(root)}")
    packages = kit.v1(root) / "store" / "packages"
    if packages.is_dir() and any(not n.startswith(".") for n in __import__("os").listdir(packages)):
        bad.append(f"store entries: {sorted(__import__('os').listdir(packages))}")
    if kit.leftovers(root):
        bad.append(f"work files left: {kit.leftovers(root)}")
    if kit.tree_snapshot(canary) != canary_before:
        bad.append(f"wrote into the canary dir: {kit.tree_snapshot(canary)}")
    bad += kit.store_problems(root)
    return bad


def test_hostile_wheels_are_refused(rel_index, tmp_path):
    wheels_dir = tmp_path / "hostile"
    canary = tmp_path / "canary"
    canary.mkdir()
    canary_before = kit.tree_snapshot(canary)
    tmp_evil = __import__("pathlib").Path("/tmp/evil.py")
    tmp_evil_before = tmp_evil.exists() and tmp_evil.stat().st_mtime
    failures, observed = [], []
    t0 = time.monotonic()
    for i, (case, (build, expect)) in enumerate(CASES.items()):
        wheel = build(wheels_dir / str(i), canary)
        name = wheel.name.split("-")[0].replace("_", "-")
        work = tmp_path / f"case{i}"
        work.mkdir()
        script = work / "s.py"
        script.write_text(SCRIPT.format(name=name))
        write_lock(script, [(name, "1.0", wheel.name, {"path": str(wheel)}, _sha(wheel))])
        root = tmp_path / f"root{i}"
        r = kit.run([script], kit.vp_env(root, rel_index.url), work)
        bad = _check_refused(root, r, wheel.name, expect, canary, canary_before)
        if bad:
            failures.append(f"{case}: {bad}\n{r.stderr[-1200:]}")
        observed.append(case)
    if tmp_evil.exists() and tmp_evil.stat().st_mtime != tmp_evil_before:
        failures.append("/tmp/evil.py was written")
    kit.record("tamper: hostile wheels ('../', absolute, .data '../', symlinks, duplicate, "
               "not a zip, two zip bombs)", trials=len(CASES), failures=len(failures),
               leftovers=0, observed="each refused, error names the wheel; canary dir untouched; no env, "
                                     "no store entry, no work files", seconds=time.monotonic() - t0)
    assert not failures, "\n----\n".join(failures)


# A RECORD that disagrees with its archive is the publisher's mistake, not an attack:
# the wheel's bytes are already the locked sha256 (real PyPI wheels do this: selenium
# 4.1.0, debugpy 1.5.1, pip 20.3's 2.7 wheels). As pip and uv do, vpython installs the
# archive's bytes, with one warning naming the wheel and the members.
RECORD_CASES = {
    "RECORD lies (hash of a payload file)": (lambda d, c: make_evil_wheel(d, "record_lies"), "__init__.py"),
    "file missing from RECORD": (lambda d, c: kit.make_canary_wheel(d, "record_missing", c), "unlisted.py"),
}


@pytest.mark.parametrize("case", list(RECORD_CASES))
def test_a_wrong_record_is_a_warning_and_the_archive_bytes_are_installed(rel_index, tmp_path, case):
    import zipfile

    canary = tmp_path / "canary"
    canary.mkdir()
    build, member = RECORD_CASES[case]
    wheel = build(tmp_path / "wh", canary)
    name = wheel.name.split("-")[0].replace("_", "-")
    script = tmp_path / "s.py"
    script.write_text(SCRIPT.format(name=name))
    write_lock(script, [(name, "1.0", wheel.name, {"path": str(wheel)}, _sha(wheel))])
    root = tmp_path / "root"
    r = kit.run([script], kit.vp_env(root, rel_index.url), tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "installed" and kit.no_traceback(r)
    warnings = [line for line in r.stderr.splitlines() if "RECORD does not match" in line]
    assert len(warnings) == 1 and wheel.name in warnings[0] and member in warnings[0], r.stderr
    with zipfile.ZipFile(wheel) as zf:
        archived = {n: zf.read(n) for n in zf.namelist() if n.endswith(member)}
    (arc_name, data), = archived.items()
    installed = list(kit.v1(root).glob(f"envs/*/lib/python*/site-packages/{arc_name}"))
    assert len(installed) == 1 and installed[0].read_bytes() == data
    assert not any(canary.iterdir())
    assert not kit.leftovers(root) and not kit.store_problems(root)


def test_wheel_bytes_differ_from_the_lock(rel_index, rel_wheelhouse, tmp_path):
    """The lock pins sha256 A; the index (and, separately, a local path) serves bytes
    with sha256 B: both hashes and the file are named, nothing is stored or installed."""
    genuine = make_wheel(tmp_path / "genuine", "swapped", "1.0")
    locked_sha = _sha(genuine)
    served = make_wheel(tmp_path / "served", "swapped", "1.0",
                        files={"swapped/__init__.py": "import os  # trojan\n__version__ = '1.0'\n"})
    served_sha = _sha(served)
    assert locked_sha != served_sha
    import shutil

    shutil.copy(served, rel_wheelhouse / served.name)  # the index now serves the swapped bytes
    failures = []
    try:
        for via, where in (("index url", {"url": rel_index.file_url(served.name)}), ("local path", {"path": str(served)})):
            work = tmp_path / via.replace(" ", "-")
            work.mkdir()
            script = work / "s.py"
            script.write_text(SCRIPT.format(name="swapped"))
            write_lock(script, [("swapped", "1.0", served.name, where, locked_sha)])
            root = tmp_path / f"root-{via.replace(' ', '-')}"
            r = kit.run([script], kit.vp_env(root, rel_index.url), work)
            line = kit.one_line_error(r)
            bad = []
            if r.returncode != 1 or not kit.no_traceback(r):
                bad.append(f"rc {r.returncode}")
            for needle in (served.name, locked_sha, served_sha):
                if needle not in line:
                    bad.append(f"error does not name {needle}")
            wheels = kit.v1(root) / "store" / "wheels"
            if wheels.is_dir() and list(wheels.iterdir()):
                bad.append(f"stored: {list(wheels.iterdir())}")
            if kit.env_names(root) or kit.leftovers(root) or "installed" in r.stdout:
                bad.append("something was installed or left")
            if bad:
                failures.append(f"{via}: {bad}\n{r.stderr[-1200:]}")
    finally:
        (rel_wheelhouse / served.name).unlink()
    kit.record("tamper: wheel bytes differ from the lock (via index url; via local path)", trials=2,
               failures=len(failures), leftovers=0,
               observed="refused; error names the file, the locked and the actual sha256; nothing stored")
    assert not failures, "\n----\n".join(failures)


def test_oversized_wheel_is_refused(rel_index, rel_wheelhouse, tmp_path):
    """A size cap (VPYTHON_MAX_WHEEL_UNPACKED_BYTES, here 1 MiB) stops a wheel that
    unpacks to more (bigdep: 4 MiB), naming the file and the knob."""
    wheel = rel_wheelhouse / "bigdep-1.0-py3-none-any.whl"
    script = tmp_path / "s.py"
    script.write_text(SCRIPT.format(name="bigdep"))
    write_lock(script, [("bigdep", "1.0", wheel.name, {"path": str(wheel)}, _sha(wheel))])
    root = tmp_path / "root"
    r = kit.run([script], kit.vp_env(root, rel_index.url, VPYTHON_MAX_WHEEL_UNPACKED_BYTES=1 << 20), tmp_path)
    canary = tmp_path / "canary"
    canary.mkdir()
    bad = _check_refused(root, r, wheel.name, "VPYTHON_MAX_WHEEL_UNPACKED_BYTES", canary, {})
    kit.record("tamper: oversized wheel (4 MiB payload, 1 MiB cap)", trials=1, failures=int(bool(bad)), leftovers=0,
               observed="refused; error names the file and VPYTHON_MAX_WHEEL_UNPACKED_BYTES")
    assert not bad, (bad, r.stderr)
    # The same root without the cap installs it: the refusal left nothing in the way.
    r = kit.run([script], kit.vp_env(root, rel_index.url), tmp_path)
    assert r.returncode == 0 and "installed" in r.stdout, r.stderr


def test_member_inflating_past_its_header_size_writes_only_the_declared_bytes(rel_index, tmp_path):
    """A member whose header says 100 bytes but whose deflate stream inflates to 64 MiB:
    the extractor stops at the declared size (and checks the CRC of those bytes), so
    the sizes check_archive sums really bound what is written. The wheel is otherwise
    honest (RECORD matches the 100 bytes), so it installs; 100 bytes land, not 64 MiB."""
    wheel = _lying_size(tmp_path / "w")
    script = tmp_path / "s.py"
    script.write_text('# /// script\n# dependencies = ["lying-size"]\n# ///\n'
                      "import os, lying_size\n"
                      "print(os.path.getsize(os.path.join(os.path.dirname(lying_size.__file__), 'data.bin')))\n")
    write_lock(script, [("lying-size", "1.0", wheel.name, {"path": str(wheel)}, _sha(wheel))])
    root = tmp_path / "root"
    r = kit.run([script], kit.vp_env(root, rel_index.url), tmp_path)
    written = int(r.stdout.strip()) if r.returncode == 0 else None
    kit.record("tamper: member inflates past its header size (100 B declared, 64 MiB stream)", trials=1,
               failures=int(written != 100), leftovers=len(kit.leftovers(root)),
               observed=f"installed {written} bytes (the declared size), not 64 MiB")
    assert r.returncode == 0, r.stderr
    assert written == 100


# ----------------------------------------------------------------------------- the env's own files

EVIL_PY = "#!/bin/sh\necho pwned > {canary}\n"


def test_wheels_may_not_overwrite_the_env_or_each_other(rel_index, tmp_path):
    """A wheel's ``.data`` files aimed at the env's interpreter links, ``pyvenv.cfg`` or
    activation script: refused (exit 1), naming the wheel and the file, nothing
    published. Two wheels with different files at one path: exit 2 naming both. The same
    bytes at one path (a namespace package's ``__init__.py``): installed."""
    canary = tmp_path / "canary"
    evil = EVIL_PY.format(canary=canary)
    cases = [
        ("'.data/scripts/python3' over the interpreter link", {"data": {"scripts": {"python3": evil}}}, None,
         1, "bin/python3"),
        ("'.data/scripts/python' over the interpreter link", {"data": {"scripts": {"python": evil}}}, None,
         1, "bin/python"),
        ("'.data/data/pyvenv.cfg'", {"data": {"data": {"pyvenv.cfg": "home = /tmp/evil\n"}}}, None,
         1, "pyvenv.cfg"),
        ("'.data/scripts/activate'", {"data": {"scripts": {"activate": evil}}}, None, 1, "bin/activate"),
        ("a console script named python3", {"entry_points": {"console_scripts": {"python3": "os:getcwd"}}}, None,
         1, "bin/python3"),
        ("two wheels, different bytes at one path", {"files": {"shared/mod.py": "X = 1\n"}},
         {"files": {"shared/mod.py": "X = 2\n"}}, 2, "shared/mod.py"),
        ("two wheels, the same bytes at one path", {"files": {"ns/__init__.py": "# ns\n", "ns/a.py": ""}},
         {"files": {"ns/__init__.py": "# ns\n", "ns/b.py": ""}}, 0, ""),
    ]
    failures, observed = [], []
    for i, (case, first, second, rc, rel) in enumerate(cases):
        work = tmp_path / f"own{i}"
        work.mkdir()
        wheels = [make_wheel(tmp_path / f"w{i}", "first-pkg", "1.0", **first)]
        if second:
            wheels.append(make_wheel(tmp_path / f"w{i}", "second-pkg", "1.0", **second))
        script = work / "s.py"
        script.write_text('# /// script\n# dependencies = ["first-pkg"]\n# ///\nprint("installed")\n')
        write_lock(script, [(w.name.split("-")[0].replace("_", "-"), "1.0", w.name, {"path": str(w)}, _sha(w))
                            for w in wheels])
        root = tmp_path / f"own-root{i}"
        r = kit.run([script], kit.vp_env(root, rel_index.url), work)
        line = kit.one_line_error(r)
        bad = []
        if r.returncode != rc or not kit.no_traceback(r):
            bad.append(f"rc {r.returncode} (expected {rc})")
        if rc and (rel not in line or "first_pkg-1.0" not in line):
            bad.append(f"error does not name the wheel and {rel}: {line!r}")
        if rc == 2 and "second_pkg-1.0" not in line:
            bad.append("error does not name the second wheel")
        if rc and (kit.env_names(root) or kit.leftovers(root) or "installed" in r.stdout):
            bad.append("an env was published or work files left")
        if rc == 0 and "installed" not in r.stdout:
            bad.append("did not run")
        if canary.exists():
            bad.append("the wheel's interpreter ran")
        bad += kit.store_problems(root)
        if bad:
            failures.append(f"{case}: {bad}\n{r.stderr[-1000:]}")
        observed.append(f"{case}: exit {r.returncode}")
    kit.record("tamper: wheels writing the env's own files (bin/python, bin/python3, pyvenv.cfg, bin/activate, a "
               "console script named python3) or each other's", trials=len(cases), failures=len(failures), leftovers=0,
               observed="; ".join(observed))
    assert not failures, "\n----\n".join(failures)


def test_cache_verify_finds_files_no_manifest_accounts_for(rel_index, tmp_path):
    """Files added to an env (a ``sitecustomize.py``, a ``.pth``, a symlinked package) and
    an env without vpython's metadata are reported; ``--repair`` deletes those envs and
    the next runs rebuild them."""
    import os

    scripts = []
    for i, dep in enumerate(("tinyapp", "tinydep")):
        s = tmp_path / f"s{i}.py"
        s.write_text(f'# /// script\n# dependencies = ["{dep}"]\n# ///\nprint("installed")\n')
        scripts.append(s)
    root = tmp_path / "root"
    env = kit.vp_env(root, rel_index.url)
    for s in scripts:
        assert kit.run([s], env, tmp_path).returncode == 0
    clean = kit.run(["cache", "verify"], env, tmp_path)
    assert clean.returncode == 0 and clean.stdout.startswith("ok:"), clean.stdout + clean.stderr
    a, b = kit.env_names(root)
    site = next(p for p in (kit.v1(root) / "envs" / a).rglob("site-packages") if p.is_dir())
    (site / "sitecustomize.py").write_text("import os; os.system('echo pwned')\n")
    (site / "zz-evil.pth").write_text("import os; os.system('echo pwned')\n")
    os.symlink(tmp_path, site / "linked")
    (kit.v1(root) / "envs" / b / ".vpython-env.json").unlink()
    r = kit.run(["cache", "verify"], env, tmp_path)
    wanted = ["sitecustomize.py", "zz-evil.pth", "linked", f"damaged env {b[:16]}: has no readable .vpython-env.json"]
    missing = [w for w in wanted if w not in r.stdout]
    repaired = kit.run(["cache", "verify", "--repair"], env, tmp_path)
    again = [kit.run([s], env, tmp_path) for s in scripts]
    after = kit.run(["cache", "verify"], env, tmp_path)
    ok = r.returncode == 1 and not missing and repaired.returncode == 0 and all(
        x.returncode == 0 and "installed" in x.stdout for x in again) and after.returncode == 0
    kit.record("tamper: files added to an env (sitecustomize.py, a .pth, a symlinked dir); an env without metadata",
               trials=4, failures=0 if ok else 1, leftovers=0,
               observed=f"`cache verify` exit {r.returncode}, {4 - len(missing)} of 4 reported; --repair deleted "
                        f"{repaired.stdout.count('deleted env')} env(s); the next runs rebuilt them; verify then ok")
    assert r.returncode == 1 and not missing, (missing, r.stdout)
    assert ok, (repaired.stdout, [x.stderr for x in again], after.stdout)
