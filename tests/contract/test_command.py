"""``apigate contract`` end to end: exit codes, reports, live-style targets on three ports, no secret in outputs."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from apigate.cli import main
from apigate.config import DEMO, ENV_VARS
from apigate.mocks import MockSettings, running_mock

DEMO_SECRETS = (DEMO.password, DEMO.client_secret, DEMO.basejump_owner_key, DEMO.basejump_admin_key,
                DEMO.basejump_member_key)
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ENV_VARS, "APIGATE_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("argv", [
    ["contract", "--max-examples", "0"],
    ["contract", "--api", "nope"],
    ["contract", "--break", "no.such.break"],
])
def test_usage_errors_exit_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str],
                                           clean_env: None) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    assert code == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_unreachable_target_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}"
    env = {"APIGATE_KEYCLOAK_URL": f"{dead}/auth", "APIGATE_CODEMIE_URL": f"{dead}/code-assistant-api",
           "APIGATE_CODEMIE_CLIENT_ID": "codemie-sdk", "APIGATE_CODEMIE_USERNAME": "demo",
           "APIGATE_CODEMIE_PASSWORD": "pw", "APIGATE_CODEMIE_ASSISTANT_ID": "a",
           "APIGATE_BASEJUMP_URL": f"{dead}/api/v1", "APIGATE_BASEJUMP_API_KEY": "k"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["contract", "--api", "codemie", "--out", str(tmp_path / "r")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and "connect" in err[0], err


@pytest.mark.slow
def test_live_style_targets_on_three_ports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The same suite, unchanged, against three services on three ports named by APIGATE_* (no embedded mock)."""
    settings = MockSettings(access_token_lifetime_s=5, first_chunk_ms=50.0, chunk_interval_ms=5.0,
                            chat_latency_ms=0.0, basejump_message_latency_ms=0.0)
    with running_mock(settings, split_ports=True) as server:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        assert len({url.split("/")[2] for url in server.urls.values()}) == 3
        code = main(["contract", "--max-examples", "3", "--seed", "5", "--out", str(tmp_path / "r")])
    out = capsys.readouterr()
    assert code == 0, out.out[-4000:] + out.err[-2000:]
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert set(summary["contract"]) == {"codemie", "keycloak", "basejump"}
    assert all(api["passed"] and api["checks"] > 100 for api in summary["contract"].values())
    assert summary["target"]["keycloak"] == server.urls["keycloak"]
    assert "embedded mock" not in out.err


@pytest.mark.slow
def test_no_secret_in_terminal_output_junit_or_summary(tmp_path: Path) -> None:
    """Failing runs (whose curls carry credentials) print and write no demo secret and no issued token."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS and k != "APIGATE_CONFIG"}
    outputs: list[str] = []
    for api, broken in (("codemie", "codemie.auth.expired_accepted"), ("basejump", "basejump.auth.refresh_as_access"),
                        ("keycloak", "keycloak.error.body")):
        out_dir = tmp_path / api
        proc = subprocess.run(
            [sys.executable, "-m", "apigate", "contract", "--api", api, "--break", broken, "--max-examples", "3",
             "--seed", "9", "--out", str(out_dir)],
            capture_output=True, text=True, timeout=240, env=env, check=False, cwd=tmp_path,
        )
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert "curl" in proc.stdout and "***" in proc.stdout
        outputs += [proc.stdout, proc.stderr]
        outputs += [path.read_text() for path in out_dir.iterdir()]
    everything = "\n".join(outputs)
    for secret in DEMO_SECRETS:
        assert secret not in everything, secret
    assert not JWT.search(everything), JWT.search(everything)
    assert not list(tmp_path.rglob("*.har")) and not list(tmp_path.rglob("*.yaml"))  # no cassettes
