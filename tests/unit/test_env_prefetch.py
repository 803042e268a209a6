"""vpython.env.prefetch: exact pins fetched and unpacked while the resolver runs."""

from __future__ import annotations

import dataclasses
import sys

from packaging.tags import Tag, sys_tags

from tests.support import make_wheel, serve_index
from tests.support.vp import run_vpython
from vpython.env import prefetch
from vpython.settings.sources import Sources
from vpython.spec.model import Spec

TAGS = list(sys_tags())
PY = f"cp{sys.version_info[0]}{sys.version_info[1]}"


class _Interp:
    probe = {"markers": {"python_version": f"{sys.version_info[0]}.{sys.version_info[1]}",
                         "sys_platform": sys.platform}}


def _spec(*deps):
    return Spec(kind="pep723", dependencies=tuple(deps))


def test_only_exact_pins_that_apply_here_are_prefetched():
    spec = _spec("a==1.0", "b>=1", "c==2.*", "d[extra]==3.1", 'e==1; sys_platform == "nonesuch"',
                 "f @ https://example.invalid/f-1-py3-none-any.whl", "g==1,<2")
    assert prefetch._pins(spec, _Interp(), TAGS) == [("a", "1.0"), ("d", "3.1")]


def test_choose_takes_the_best_ranked_wheel_of_the_pinned_release(tmp_path):
    wh = tmp_path / "wh"
    make_wheel(wh, "pkg", "1.0")  # py3-none-any
    best = make_wheel(wh, "pkg", "1.0", tag=f"{PY}-{PY}-{TAGS[0].platform}")
    make_wheel(wh, "pkg", "2.0", tag=f"{PY}-{PY}-{TAGS[0].platform}")  # another release
    make_wheel(wh, "pkg", "1.0", tag="cp27-cp27m-win32")  # not for here
    with serve_index(wh) as index:
        got = prefetch._choose("pkg", "1.0", TAGS, Sources(index_url=index.url))
        assert got is not None and got.filename == best.name and got.url.startswith("http://127.0.0.1")
        assert len(got.sha256) == 64
        assert prefetch._choose("pkg", "3.0", TAGS, Sources(index_url=index.url)) is None


def test_a_tie_is_not_guessed(tmp_path):
    wh = tmp_path / "wh"
    make_wheel(wh, "pkg", "1.0")
    make_wheel(wh, "pkg", "1.0", build="1")  # the same tags, another build number
    with serve_index(wh) as index:
        assert prefetch._choose("pkg", "1.0", [Tag("py3", "none", "any")], Sources(index_url=index.url)) is None


def test_no_prefetch_where_the_resolver_might_look_elsewhere(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(prefetch, "_pins", lambda *a: started.append(a) or [])
    p = prefetch.Prefetch(layout=None)
    base = Sources(index_url="http://127.0.0.1:9/simple/")
    for sources in (dataclasses.replace(base, offline=True), dataclasses.replace(base, find_links=("d",)),
                    dataclasses.replace(base, extra_index_urls=("http://x/simple/",)),
                    dataclasses.replace(base, exclude_newer="2024-01-01T00:00:00Z"),
                    dataclasses.replace(base, index_url="")):
        p(_spec("a==1"), _Interp(), TAGS, sources)
    assert started == []
    p(_spec("a==1"), _Interp(), TAGS, base)
    assert len(started) == 1


def test_a_pinned_run_prefetches_while_resolving_and_fetches_each_file_once(tmp_path, vpython_root):
    wh = tmp_path / "wh"
    make_wheel(wh, "pinned", "1.0", requires=["dep>=1"])
    make_wheel(wh, "dep", "1.0")
    (tmp_path / ".gclient").write_text("")
    script = tmp_path / "s.py"
    script.write_text('# /// script\n# dependencies = ["pinned==1.0"]\n# ///\n'
                      "import pinned, dep\nprint('ok', pinned.__version__, dep.__version__)\n")
    with serve_index(wh) as index:
        r = run_vpython(["-vpython-log-level", "debug", script], cwd=tmp_path,
                        env={"VPYTHON_INDEX_URL": index.url})
        assert r.returncode == 0 and "ok 1.0 1.0" in r.stdout, r.stderr
        assert "prefetching pinned-1.0-py3-none-any.whl while resolving" in r.stderr, r.stderr
        assert "fetching 1 wheel(s)" in r.stderr  # only dep is left for the build to fetch
        assert sorted(index.served_files()) == ["dep-1.0-py3-none-any.whl", "pinned-1.0-py3-none-any.whl"]
