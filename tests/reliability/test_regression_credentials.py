"""Regressions found by test_secrets.py.

* ``netrc``: settings.py documents ``~/.netrc`` credentials, and uv used them to
  resolve, but vpython's own downloads did not: a netrc-only setup resolved and then
  failed with HTTP 401.
* ``cached lock``: a direct reference ``name @ http://user:pass@host/x.whl`` was
  resolved by uv into a lock whose ``archive.url`` kept the credentials, and that lock
  was cached as-is under ``<root>/v1/locks/``: the password sat in the cache root.
"""

from __future__ import annotations

import os

import pytest

from tests.reliability import kit
from tests.reliability.test_secrets import SECRET, USER, leaks_in_tree

pytestmark = pytest.mark.reliability


def test_netrc_lends_credentials_to_downloads(tmp_path, monkeypatch):
    from vpython.settings.sources import Sources
    from vpython.settings.credentials import credentials_for

    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine files.example.com\nlogin {USER}\npassword {SECRET}\n")
    os.chmod(netrc, 0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert credentials_for("https://files.example.com/x.whl", Sources()) == (USER, SECRET)
    assert credentials_for("https://other.example.com/x.whl", Sources()) is None
    # Index URL credentials still win over netrc.
    src = Sources(index_url="https://bob:tok@files.example.com/simple")
    assert credentials_for("https://files.example.com/x.whl", src) == ("bob", "tok")


def test_malformed_netrc_is_ignored_silently(tmp_path, monkeypatch):
    from vpython.settings.sources import Sources
    from vpython.settings.credentials import credentials_for

    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine files.example.com login {USER} password {SECRET} bogus-token\n")
    monkeypatch.setenv("NETRC", str(netrc))
    assert credentials_for("https://files.example.com/x.whl", Sources()) in (None, (USER, SECRET))


def test_cached_lock_of_a_direct_reference_holds_no_credentials(auth_index, tmp_path):
    from urllib.parse import quote

    url = f"http://{USER}:{quote(SECRET, safe='')}@127.0.0.1:{auth_index.port}/files/tinydep-1.1-py3-none-any.whl"
    script = tmp_path / "s.py"
    script.write_text(f'# /// script\n# dependencies = ["tinydep @ {url}"]\n# ///\nimport tinydep\n'
                      "print('ok', tinydep.__version__)\n")
    root = tmp_path / "root"
    # No index URL with credentials: the download's only source of them is the spec.
    r = kit.run([script], kit.vp_env(root, "none"), tmp_path)
    assert r.returncode == 0 and "ok 1.1" in r.stdout, r.stderr
    assert os.listdir(kit.v1(root) / "locks")
    assert leaks_in_tree(root) == []


@pytest.fixture(scope="module")
def auth_index(tmp_path_factory):
    from tests.support import build_wheelhouse, serve_index

    wh = build_wheelhouse(tmp_path_factory.mktemp("regression-auth-wheelhouse"))
    with serve_index(wh, auth=(USER, SECRET)) as index:
        yield index
