"""Secrets: index credentials never leak into logs, lockfiles, env metadata or errors.

The index here answers 401 without basic auth (``alice`` / a distinctive password).
Credentials are given every way vpython takes them -- the index URL in the
environment, the command-line flag, the user config file, ``~/.netrc`` -- and in a
direct reference (``name @ http://user:pass@host/…whl``). After each run, the
password (plain, percent-encoded, and inside a base64 ``Authorization`` token) must
appear nowhere: not in stdout/stderr at debug level with VPYTHON_LOG_TRACE, not in
any file of the cache root (envs with their pyvenv.cfg, RECORD and direct_url.json
files, store, cached locks, pointers), not in the lockfile ``vpython lock`` writes,
and not in the error of a failing run (wrong password, dead host, failing download).
"""

from __future__ import annotations

import base64
import os
import time
from urllib.parse import quote

import pytest

from tests.reliability import kit
from tests.support import build_wheelhouse, serve_index

pytestmark = pytest.mark.reliability

USER = "alice-7a1"
SECRET = "pa55-W0RD-9f2c1e"
WRONG = "wr0ng-PASS-44d1"
SCRIPT = '# /// script\n# dependencies = ["tinyapp"]\n# ///\nimport tinyapp; print("ok", tinyapp.__version__)\n'


def needles(password):
    token = base64.b64encode(f"{USER}:{password}".encode()).decode()
    return [password, quote(password, safe=""), token]


def leaks_in_text(text: str, password=SECRET) -> list:
    return [n for n in needles(password) if n in text]


def leaks_in_tree(top, password=SECRET) -> list:
    found = []
    raw = [n.encode() for n in needles(password)]
    for dirpath, _, filenames in os.walk(top):
        for name in filenames:
            p = os.path.join(dirpath, name)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if any(n in data for n in raw):
                found.append(os.path.relpath(p, top))
    return found


@pytest.fixture(scope="module")
def auth_index(tmp_path_factory):
    wh = build_wheelhouse(tmp_path_factory.mktemp("secret-wheelhouse"))
    with serve_index(wh, auth=(USER, SECRET)) as index:
        yield index


def _url_with(index, password):
    return f"http://{quote(USER)}:{quote(password, safe='')}@127.0.0.1:{index.port}/simple/"


def _case(tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    script = d / "s.py"
    script.write_text(SCRIPT)
    return d, script


def _check_success(label, r, root, workdir, password=SECRET, own=()):
    """``own``: files in ``workdir`` that the user wrote with the credentials in them."""
    bad = []
    if r.returncode != 0 or "ok 1.0" not in r.stdout:
        bad.append(f"run failed rc={r.returncode}: {r.stderr[-800:]}")
    bad += [f"stdout/stderr: {n!r}" for n in leaks_in_text(r.stdout + r.stderr, password)]
    bad += [f"file {f}" for f in leaks_in_tree(root, password)]
    bad += [f"file {f}" for f in leaks_in_tree(workdir, password) if f not in own]
    return [f"{label}: {b}" for b in bad]


def test_credentials_never_leak_from_successful_runs(auth_index, tmp_path):
    failures, trials = [], 0
    t0 = time.monotonic()
    debug = {"VPYTHON_LOG_TRACE": "1"}
    # 1) index URL with credentials in the environment
    d, script = _case(tmp_path, "env")
    root = tmp_path / "root-env"
    env = kit.vp_env(root, _url_with(auth_index, SECRET), **debug)
    r = kit.run(["-vpython-log-level", "debug", script], env, d)
    failures += _check_success("VPYTHON_INDEX_URL", r, root, d)
    lock = kit.run(["lock", script], env, d)  # the lockfile beside the script
    failures += _check_success("vpython lock", lock, root, d) if lock.returncode else []
    if not (d / "pylock.s.toml").is_file():
        failures.append(f"vpython lock wrote no lockfile: {lock.stderr[-500:]}")
    failures += [f"lockfile: {f}" for f in leaks_in_tree(d)]
    failures += [f"vpython lock output: {n!r}" for n in leaks_in_text(lock.stdout + lock.stderr)]
    r = kit.run(["-vpython-log-level", "debug", script], env, d)  # installs from that lockfile
    failures += _check_success("run from the lockfile", r, root, d)
    trials += 3
    # 2) the command-line flag
    d, script = _case(tmp_path, "flag")
    root = tmp_path / "root-flag"
    env = kit.vp_env(root, None, **debug)
    r = kit.run(["-vpython-index-url", _url_with(auth_index, SECRET), "-vpython-log-level", "debug", script], env, d)
    failures += _check_success("-vpython-index-url", r, root, d)
    trials += 1
    # 3) the user config file
    d, script = _case(tmp_path, "config")
    root = tmp_path / "root-config"
    cfg = d / "vp.toml"
    cfg.write_text(f'index-url = "{_url_with(auth_index, SECRET)}"\n')
    env = kit.vp_env(root, None, VPYTHON_CONFIG=cfg, **debug)
    r = kit.run(["-vpython-log-level", "debug", script], env, d)
    failures += _check_success("config file index-url", r, root, d, own=("vp.toml",))
    trials += 1
    # 4) ~/.netrc with a credential-free index URL
    d, script = _case(tmp_path, "netrc")
    root = tmp_path / "root-netrc"
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text(f"machine 127.0.0.1\nlogin {USER}\npassword {SECRET}\n")
    os.chmod(home / ".netrc", 0o600)
    env = kit.vp_env(root, auth_index.url, HOME=home, NETRC=home / ".netrc", **debug)
    r = kit.run(["-vpython-log-level", "debug", script], env, d)
    failures += _check_success("~/.netrc", r, root, d)
    trials += 1
    # 5) a direct reference whose URL carries the credentials: direct_url.json (PEP 610)
    d = tmp_path / "direct"
    d.mkdir()
    script = d / "s.py"
    url = (f"http://{quote(USER)}:{quote(SECRET, safe='')}@127.0.0.1:{auth_index.port}/files/"
           "tinydep-1.1-py3-none-any.whl")
    script.write_text(f'# /// script\n# dependencies = ["tinyapp", "tinydep @ {url}"]\n# ///\n'
                      'import tinyapp; print("ok", tinyapp.__version__)\n')
    root = tmp_path / "root-direct"
    env = kit.vp_env(root, _url_with(auth_index, SECRET), **debug)
    r = kit.run(["-vpython-log-level", "debug", script], env, d)
    failures += _check_success("direct reference", r, root, d, own=("s.py",))
    lock = kit.run(["lock", script], env, d)
    if lock.returncode != 0 or not (d / "pylock.s.toml").is_file():
        failures.append(f"direct reference: vpython lock failed: {lock.stderr[-500:]}")
    failures += [f"direct reference lockfile: {f}" for f in leaks_in_tree(d) if f != "s.py"]
    r = kit.run(["-vpython-log-level", "debug", script], kit.vp_env(tmp_path / "root-direct2", None, **debug), d)
    failures += _check_success("direct reference, from its lockfile, no index URL", r, tmp_path / "root-direct2", d,
                               own=("s.py",))
    direct = [os.path.join(p, n) for p, _, ns in os.walk(root) for n in ns if n == "direct_url.json"]
    if r.returncode == 0 and not direct:
        failures.append("direct reference: no direct_url.json was written (nothing was checked)")
    trials += 3
    kit.record("secrets: credentials via env URL, flag, config file, ~/.netrc, direct reference; "
               "debug logs, lockfile, every file of the root", trials=trials, failures=len(failures), leftovers=0,
               observed="password (plain, %-encoded, base64 token) found in 0 outputs and 0 files",
               seconds=time.monotonic() - t0)
    assert not failures, "\n".join(failures)


def test_credentials_never_leak_from_errors(auth_index, tmp_path, rel_wheelhouse):
    """Failing runs: wrong password (401), a dead host, downloads that fail after a
    successful resolution. The error must explain and must not carry the password."""
    failures = []
    debug = {"VPYTHON_LOG_TRACE": "1"}
    cases = []
    d, script = _case(tmp_path, "wrong")
    cases.append(("wrong password (401)", WRONG, d, script, kit.vp_env(tmp_path / "r1", _url_with(auth_index, WRONG),
                                                                      **debug)))
    d, script = _case(tmp_path, "dead")
    dead = f"http://{USER}:{quote(SECRET, safe='')}@127.0.0.1:9/simple/"
    cases.append(("dead host", SECRET, d, script, kit.vp_env(tmp_path / "r2", dead, **debug)))
    for label, password, d, script, env in cases:
        r = kit.run(["-vpython-log-level", "debug", script], env, d)
        if r.returncode == 0 or not kit.one_line_error(r) or not kit.no_traceback(r):
            failures.append(f"{label}: rc={r.returncode} {r.stderr[-800:]}")
        failures += [f"{label}: output has {n!r}" for n in leaks_in_text(r.stdout + r.stderr, password)]
        failures += [f"{label}: file {f}" for f in leaks_in_tree(env["VPYTHON_VIRTUALENV_ROOT"], password)]
    # Downloads that fail after the resolution succeeded (the file URLs carry no
    # credentials, so vpython adds them from the index URL; its errors must not).
    d, script = _case(tmp_path, "download")
    root = tmp_path / "r3"
    env = kit.vp_env(root, _url_with(auth_index, SECRET), **debug)
    lock = kit.run(["lock", script], env, d)
    if lock.returncode != 0:
        failures.append(f"lock for the download case failed: {lock.stderr[-500:]}")
    auth_index.fail_files, auth_index.fail_status = True, 404
    try:
        r = kit.run(["-vpython-log-level", "debug", script], env, d)
    finally:
        auth_index.fail_files = False
    if r.returncode == 0 or "HTTP 404" not in r.stderr or not kit.no_traceback(r):
        failures.append(f"failing download: rc={r.returncode} {r.stderr[-800:]}")
    failures += [f"failing download: output has {n!r}" for n in leaks_in_text(r.stdout + r.stderr)]
    kit.record("secrets: failing runs (wrong password, dead host, 404 downloads) at debug level",
               trials=3, failures=len(failures), leftovers=0,
               observed="clear error each time; password in 0 messages and 0 files")
    assert not failures, "\n".join(failures)


# ----------------------------------------------------------------------------- argv


class _StallingProxy:
    """A proxy in front of the authenticated index that holds every request until
    ``release()``: while it holds one, the resolver that asked is alive and waiting, and
    its command line (and its children's) can be read from /proc as any local user could."""

    def __init__(self, backend_port):
        import threading
        import urllib.error
        import urllib.request
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.hit, self.go = threading.Event(), threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                proxy.hit.set()
                proxy.go.wait(120)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")}
                req = urllib.request.Request(f"http://127.0.0.1:{backend_port}{self.path}", headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=60) as r:
                        status, body, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
                except urllib.error.HTTPError as e:
                    status, body, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="index"')
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hold(self):
        self.hit.clear()
        self.go.clear()

    def release(self):
        self.go.set()

    def close(self):
        self.go.set()
        self.server.shutdown()


def _descendants(pid):
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_credentials_never_on_a_resolvers_command_line(auth_index, tmp_path):
    """While uv (runs, `vpython lock`) and pex's pip (`vpython lock --engine pex`) wait
    for the index, every process below vpython has its command line read: the password
    is in none (it reaches them through their environment or a 0600 netrc file, which
    other users cannot read). The runs then finish, so the credentials did arrive."""
    proxy = _StallingProxy(auth_index.port)
    url = f"http://{quote(USER)}:{quote(SECRET, safe='')}@127.0.0.1:{proxy.port}/simple/"
    cases = [
        ("run, VPYTHON_INDEX_URL (uv)", [], {"VPYTHON_INDEX_URL": url}),
        ("run, -vpython-index-url (uv)", ["-vpython-index-url", url], {}),
        ("vpython lock --index-url (uv)", ["lock", "--index-url", url], {}),
        ("vpython lock --engine pex (pip under pex)", ["lock", "--engine", "pex", "--index-url", url], {}),
    ]
    failures, seen = [], []
    try:
        for i, (label, args, extra) in enumerate(cases):
            d, script = _case(tmp_path, f"argv{i}")
            env = kit.vp_env(tmp_path / f"root-argv{i}", None, **extra)
            proxy.hold()
            proc = kit.popen([*args, script], env, d)
            try:
                if not proxy.hit.wait(120):
                    failures.append(f"{label}: no request reached the index")
                    continue
                lines = {p: _cmdline(p) for p in _descendants(proc.pid)}
                resolvers = [c for c in lines.values() if "uv" in c or "pex" in c or "pip" in c]
                if not resolvers:
                    failures.append(f"{label}: no resolver process found below vpython: {lines}")
                for p, c in lines.items():
                    for n in needles(SECRET):
                        if n in c:
                            failures.append(f"{label}: pid {p} has the password on its command line: {c[:300]}")
                seen.append(f"{label}: {len(lines)} process(es)")
            finally:
                proxy.release()
                out, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                failures.append(f"{label}: rc={proc.returncode}: {err[-800:]}")
            failures += [f"{label}: output has {n!r}" for n in leaks_in_text(out + err)]
    finally:
        proxy.close()
    kit.record("secrets: command lines of every process below vpython while the resolver waits on the index "
               "(uv for runs and `vpython lock`, pip under pex)", trials=len(cases), failures=len(failures),
               leftovers=0, observed="password on 0 command lines; " + "; ".join(seen))
    assert not failures, "\n".join(failures)
