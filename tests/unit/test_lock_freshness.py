"""Whether a lockfile still serves its spec: ownership, spec hash, targets."""

from __future__ import annotations

from vpython.lock.freshness import staleness
from vpython.lock.model import LockResult
from vpython.lock.pylock_write import render_lock, write_lock
from vpython.lock.targets import Target

TARGETS = [Target((3, 11), p) for p in ("manylinux_2_28_x86_64", "macosx_11_0_arm64", "win_amd64")]
ALL = frozenset(t.key for t in TARGETS)


def _lock(targets=TARGETS, spec_hash="f" * 64, spec_path=None):
    return render_lock(LockResult([], list(targets), "uv", ">=3.11"), spec_hash=spec_hash, spec_path=spec_path)


def test_staleness(tmp_path):
    path = tmp_path / "pylock.x.toml"
    assert staleness(str(path), "f" * 64, TARGETS) == "it does not exist"
    write_lock(str(path), _lock())
    assert staleness(str(path), "f" * 64, TARGETS) is None
    assert staleness(str(path), "f" * 64, TARGETS[:1]) is None  # more targets than asked is fine
    assert staleness(str(path), "e" * 64, TARGETS) == "the spec changed since it was locked"
    extra = TARGETS + [Target((3, 11), "manylinux_2_28_aarch64")]
    assert staleness(str(path), "f" * 64, extra) == "it does not cover target(s) cp311-cp311-manylinux_2_28_aarch64"
    write_lock(str(path), _lock(spec_path="x.py"))
    assert staleness(str(path), "f" * 64, TARGETS, spec_path=str(tmp_path / "x.py")) is None
    assert staleness(str(path), "f" * 64, TARGETS, spec_path=str(tmp_path / "x-y.py")) == \
        "it is the lock of another spec (x.py)"


def test_a_lock_not_written_by_vpython_lock_is_stale(tmp_path):
    path = tmp_path / "pylock.x.toml"
    path.write_text('lock-version = "1.0"\ncreated-by = "uv"\npackages = []\n')
    assert staleness(str(path), "f" * 64, TARGETS) == "it records no spec hash (not written by vpython lock)"


def test_an_unreadable_lock_says_where(tmp_path):
    path = tmp_path / "pylock.x.toml"
    path.write_text('lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "six"\nversion = "1"\n'
                    '[[packages.wheels]]\nname = "six-1-py3-none-any.whl"\nurl = "https://x/six.whl"\n'
                    'hashes = {sha256 = 1}\n')
    reason = staleness(str(path), "f" * 64, TARGETS)
    assert reason.startswith("it cannot be read (packages[0].wheels[0].hashes: invalid PEP 751 lockfile: "), reason
    path.write_text("lock-version = [\n")
    assert staleness(str(path), "f" * 64, TARGETS).startswith("it cannot be read (not valid TOML: ")
