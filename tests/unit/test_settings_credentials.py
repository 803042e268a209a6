"""vpython.settings.credentials: credentials used for their host, redacted everywhere else."""

from __future__ import annotations

import os

import pytest

from vpython.settings.credentials import credentials_for, redact, strip_credentials, strip_credentials_in_text
from vpython.settings.sources import Sources


def test_credentials_redacted_and_matched_by_host():
    assert (
        redact("GET https://user:tok@h.example/simple/x failed")
        == "GET https://***@h.example/simple/x failed"
    )
    assert strip_credentials("https://u:p@h:8080/simple") == "https://h:8080/simple"

    class S:
        def index_urls(self):
            return ["https://u:p%40ss@files.example/simple"]

        find_links = ()

    assert credentials_for("https://files.example/f/x.whl", S()) == ("u", "p@ss")
    assert credentials_for("https://other.example/f/x.whl", S()) is None


def test_credentials_from_find_links_direct_references_and_netrc(tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine n.example login nu password np\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    s = Sources(
        find_links=("https://fu:fp@wh.example/links",), credential_urls=("https://du:dp@d.example/a.whl",)
    )
    assert credentials_for("https://wh.example/x.whl", s) == ("fu", "fp")
    assert credentials_for("https://d.example/other.whl", s) == ("du", "dp")
    assert credentials_for("https://n.example/x.whl", s) == ("nu", "np")
    assert credentials_for("https://none.example/x.whl", s) is None
    netrc.write_text("machine")  # malformed: no entry, and its text is never shown
    assert credentials_for("https://n.example/x.whl", s) is None


def test_strip_credentials_in_a_lock_text():
    text = 'url = "https://u:p@h.example/x.whl"\nurl = "https://h.example/y.whl"\n'
    assert (
        strip_credentials_in_text(text)
        == 'url = "https://h.example/x.whl"\nurl = "https://h.example/y.whl"\n'
    )
    assert strip_credentials("https://h.example/x") == "https://h.example/x"


def test_netrc_for_moves_credentials_from_urls_into_a_private_netrc(tmp_path, monkeypatch):
    import netrc as netrc_mod
    import stat

    from vpython.settings.credentials import netrc_for

    user_netrc = tmp_path / "user-netrc"
    user_netrc.write_text("machine other.example login me password mine\n")
    monkeypatch.setenv("NETRC", str(user_netrc))
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    urls = ["https://u:p%40ss@idx.example/simple", "https://mirror.example/simple", "https://tok@links.example/l/"]
    clean, env = netrc_for(urls, str(private))
    assert clean == ["https://idx.example/simple", "https://mirror.example/simple", "https://links.example/l/"]
    path = env["NETRC"]
    assert os.path.dirname(path) == str(private) and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    parsed = netrc_mod.netrc(path)
    assert parsed.authenticators("idx.example")[::2] == ("u", "p@ss")
    assert parsed.authenticators("links.example")[::2] == ("tok", "")
    assert parsed.authenticators("other.example")[::2] == ("me", "mine")  # the user's entries still work
    assert netrc_for(["https://plain.example/simple"], str(private)) == (["https://plain.example/simple"], {})


def test_netrc_for_refuses_two_sets_of_credentials_for_one_host(tmp_path):
    from vpython.errors import UserError
    from vpython.settings.credentials import netrc_for

    with pytest.raises(UserError, match="two package sources on h.example carry different credentials"):
        netrc_for(["https://a:1@h.example/x", "https://b:2@h.example/y"], str(tmp_path))
