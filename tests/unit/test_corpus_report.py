"""tools/corpus_report.py, offline: it rewrites only the lines between its markers, and
its table reports what the outcomes say."""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.support.corpus import Outcome, check_outcome, load_manifest
from tests.support.vp import REPO

_spec = importlib.util.spec_from_file_location(
    "corpus_report", os.path.join(REPO, "tools", "corpus_report.py")
)
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)


def test_only_the_text_between_the_markers_changes():
    doc = (
        f"# Title\n\nintro | with a pipe\n\n{report.BEGIN}\nold table\nold line 2\n{report.END}\n\ntrailer\n"
    )
    new = report.replace_between_markers(doc, "NEW TABLE\n")
    assert new == f"# Title\n\nintro | with a pipe\n\n{report.BEGIN}\nNEW TABLE\n{report.END}\n\ntrailer\n"
    assert report.replace_between_markers(new, "NEW TABLE") == new  # idempotent


@pytest.mark.parametrize(
    "doc", ["no markers\n", f"{report.END}\nx\n{report.BEGIN}\n", f"{report.BEGIN}\nonly one\n"]
)
def test_missing_or_misordered_markers_are_refused(doc):
    with pytest.raises(SystemExit):
        report.replace_between_markers(doc, "table")


def test_the_doc_in_the_repository_has_the_markers():
    with open(report.DOC, encoding="utf-8") as f:
        text = f.read()
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1
    assert text.index(report.BEGIN) < text.index(report.END)


def test_table_rows_totals_and_verdicts():
    entries = {e.expected: e for e in load_manifest()}
    builds, broken = entries["builds"], entries["broken"]
    ok = Outcome(builds, 0, 1.3)
    bad = Outcome(broken, 1, 0.5, stderr="vpython: error: something else\n  hint: x\n")
    bad.problems = check_outcome(bad)
    body = report.render([ok, bad], wall=2.0, jobs=2)
    assert "**2 specs: 1 built an env; 1 behaved as the manifest expects.**" in body
    assert "broken 0/1, builds 1/1" in body
    rows = [line for line in body.splitlines() if line.startswith("| [")]
    assert len(rows) == 2
    assert (
        f"[{builds.file}]({builds.url}) | {builds.kind} |" in rows[0] and "| 1.3 | as expected |" in rows[0]
    )
    assert "| exit 1 |" in rows[1] and "**not as expected**" in rows[1] and "something else" in rows[1]
    assert bad.problems and any("exit 2" in p for p in bad.problems)
