"""The compatibility corpus, installed from PyPI (network; ``VPYTHON_NETWORK_TESTS=1``).

Every spec of tests/corpus/MANIFEST.toml is installed as a user would:
``vpython -vpython-spec SPEC -vpython-tool install`` (``vpython -vpython-tool install
SCRIPT`` for an inline block), one process each, on one fresh vpython root shared by the
whole run (each spec gets its own env; packages are shared, as on a real machine). The
outcome must be what the manifest expects: an env (``builds``), a failure naming the spec
and each CIPD-only package (``private``), or exit 2 naming the file and line (``broken``).

Without pytest-xdist the installs run two at a time, all at the first test (a session
fixture), and each test then checks its own spec's outcome; under xdist each worker
installs its own specs. tools/corpus_report.py runs the same installs for the table in
docs/compatibility.md.
"""

from __future__ import annotations

import os

import pytest

from tests.support.corpus import load_manifest, run_install, run_many

ENTRIES = load_manifest()
JOBS = 2

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(os.environ.get("VPYTHON_NETWORK_TESTS") != "1", reason="set VPYTHON_NETWORK_TESTS=1"),
]


class _Installs:
    """Outcomes by corpus file: all selected specs installed up front (``JOBS`` at a
    time), or one at a time on demand under xdist."""

    def __init__(self, root: str, scratch: str, prefetch: list):
        self.root, self.scratch = root, scratch
        self.done = (
            {o.entry.file: o for o in run_many(prefetch, root, scratch, jobs=JOBS)} if prefetch else {}
        )

    def outcome(self, entry):
        if entry.file not in self.done:
            self.done[entry.file] = run_install(entry, self.root, self.scratch)
        return self.done[entry.file]


@pytest.fixture(scope="session")
def corpus_installs(request, tmp_path_factory):
    under_xdist = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    base = tmp_path_factory.getbasetemp()
    scratch = str((base.parent if under_xdist else base) / "corpus-install")  # shared by xdist workers
    os.makedirs(scratch, exist_ok=True)
    prefetch = []
    if not under_xdist:
        prefetch = [
            item.callspec.params["entry"]
            for item in request.session.items
            if getattr(item, "originalname", "") == "test_corpus_spec_installs_as_expected"
        ]
    return _Installs(os.path.join(scratch, "root"), scratch, prefetch)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.file for e in ENTRIES])
def test_corpus_spec_installs_as_expected(entry, corpus_installs):
    out = corpus_installs.outcome(entry)
    if out.skipped:
        pytest.skip(out.skipped)
    if out.problems:
        pytest.fail(
            f"{entry.file} ({entry.url}), expected {entry.expected}: "
            + "; ".join(out.problems)
            + f"\n--- vpython stderr ({out.result}, {out.seconds:.1f} s):\n{out.stderr[-4000:]}",
            pytrace=False,
        )
