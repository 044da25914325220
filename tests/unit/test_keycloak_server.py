"""The real-Keycloak tier's helper (tests/keycloak/keycloak_server.py), run against a stand-in distribution.

The stand-in's ``bin/kc.sh`` behaves like Keycloak's where it matters to the helper: it starts the server as a child
process and forwards SIGTERM to it, the server answers HTTP on ``--http-port`` (only once the realm file is in
``data/import/``). So the lifecycle — a free port, readiness, the environment handed to the command, stopping the
whole process group, also when the helper itself is killed — is tested without Java or Maven.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from types import ModuleType

import pytest

HELPER = Path(__file__).resolve().parents[1] / "keycloak" / "keycloak_server.py"

KC_SH = """\
#!/bin/sh
# stand-in for Keycloak's kc.sh: the server runs as a child; SIGTERM is forwarded to it
for arg in "$@"; do case "$arg" in --http-port=*) PORT="${arg#--http-port=}";; esac; done
echo "stand-in kc.sh $*"
trap 'kill -TERM $PID; wait $PID; exit 143' TERM INT
"$STANDIN_PYTHON" "$(dirname "$0")/server.py" "$PORT" &
PID=$!
wait $PID
"""
SERVER_PY = """\
import http.server, pathlib, sys
REALM = pathlib.Path("data/import/realm-codemie-prod.json")
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if REALM.is_file() else 500)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("keycloak_server", HELPER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kcs = _load()


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache holding a 'built' stand-in distribution of the pinned version."""
    cache = tmp_path / "cache"
    home = cache / kcs.VERSION / f"keycloak-{kcs.VERSION}"
    for name in ("bin", "conf", "lib", "themes", "providers"):
        (home / name).mkdir(parents=True)
    (home / "version.txt").write_text("stand-in\n")
    (home / "bin" / "kc.sh").write_text(KC_SH)
    (home / "bin" / "kc.sh").chmod(0o755)
    (home / "bin" / "server.py").write_text(SERVER_PY)
    (cache / kcs.VERSION / "built-with").write_text(" ".join(kcs.BUILD_OPTIONS) + "\n")
    monkeypatch.setenv("APIGATE_KEYCLOAK_CACHE", str(cache))
    monkeypatch.setenv("STANDIN_PYTHON", sys.executable)
    runs = tmp_path / "runs"  # each run's home, also when a killed helper cannot remove it
    runs.mkdir()
    monkeypatch.setenv("TMPDIR", str(runs))
    monkeypatch.setattr(tempfile, "tempdir", str(runs))
    monkeypatch.delenv("APIGATE_KEYCLOAK_URL", raising=False)
    return home


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_until(condition: object, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)  # polling another process's state
    return False


def test_server_starts_with_the_realm_and_stops_its_whole_process_group(standin: Path, tmp_path: Path) -> None:
    log = tmp_path / "kept" / "keycloak.log"
    server = kcs.KeycloakServer(log_file=log)
    server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/auth")
        assert server.environment() == {"APIGATE_KEYCLOAK_URL": server.url, "APIGATE_KEYCLOAK_REALM": "codemie-prod"}
        assert kcs.answers(f"{server.url}/realms/codemie-prod/.well-known/openid-configuration")  # realm file imported
        pgid, home = server.process.pid, server._home
        assert os.getpgid(pgid) == pgid and pgid != os.getpgid(0)  # its own group
        assert (home / "lib").is_symlink() and not (home / "bin").is_symlink()  # shared build, own bin/conf/data
        assert server.startup_s > 0 and server.rss_kb > 0
    finally:
        server.stop()
    assert not _group_alive(pgid)
    assert not home.exists()
    assert "--optimized" in log.read_text() and f"--http-port={server.port}" in log.read_text()


def test_a_server_that_exits_at_start_is_an_error_with_its_log(standin: Path) -> None:
    (standin / "bin" / "kc.sh").write_text("#!/bin/sh\necho 'ERROR: Failed to start server'\nexit 3\n")
    with pytest.raises(kcs.KeycloakError, match=r"exited with 3(.|\n)*Failed to start server"):
        kcs.KeycloakServer().start()


def test_without_maven_and_without_a_cache_the_error_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIGATE_KEYCLOAK_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(kcs.KeycloakError, match=r"Maven \(mvn\) is not on PATH"):
        kcs.distribution()


def test_run_hands_the_server_to_the_command_and_stops_it(standin: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    code = kcs.main(["run", "--", sys.executable, "-c", textwrap.dedent(f"""
        import json, os, urllib.request
        url = os.environ["APIGATE_KEYCLOAK_URL"]
        with urllib.request.urlopen(url + "/realms/codemie-prod/.well-known/openid-configuration") as r:
            json.dump({{"url": url, "realm": os.environ["APIGATE_KEYCLOAK_REALM"], "status": r.status}},
                      open({str(seen)!r}, "w"))
        raise SystemExit(7)
    """)])
    assert code == 7  # the command's exit code
    answer = json.loads(seen.read_text())
    assert answer["status"] == 200 and answer["realm"] == "codemie-prod"
    assert not kcs.answers(answer["url"] + "/realms/codemie-prod/.well-known/openid-configuration")


def test_run_against_a_configured_server_starts_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("APIGATE_KEYCLOAK_URL", "http://keycloak.invalid/auth")
    monkeypatch.setenv("APIGATE_KEYCLOAK_CACHE", str(tmp_path / "never-used"))
    code = kcs.main(["run", "--", sys.executable, "-c",
                     "import os; raise SystemExit(5 if os.environ['APIGATE_KEYCLOAK_URL'].endswith('/auth') else 1)"])
    assert code == 5 and not (tmp_path / "never-used").exists()


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGTERM, 130), (signal.SIGKILL, -signal.SIGKILL)])
def test_keycloak_is_stopped_when_the_helper_is_terminated_or_killed(standin: Path, signum: int,
                                                                     exit_code: int) -> None:
    helper = subprocess.Popen([sys.executable, str(HELPER), "run", "--", sys.executable, "-c",
                               "import time; time.sleep(60)"], stderr=subprocess.PIPE, text=True)
    try:
        assert helper.stderr is not None
        line = helper.stderr.readline()  # "keycloak: Keycloak <version> at <url> (realm ...): ready in ..."
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        probe = f"{url}/realms/codemie-prod/.well-known/openid-configuration"
        assert kcs.answers(probe), line
        helper.send_signal(signum)
        assert helper.wait(timeout=30) == exit_code
        assert _wait_until(lambda: not kcs.answers(probe)), "the stand-in Keycloak outlived the helper"
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait()
        if helper.stderr is not None:
            helper.stderr.close()
