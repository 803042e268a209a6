"""vpython.settings.credentials: credentials used for their host, redacted everywhere else."""

from __future__ import annotations

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
