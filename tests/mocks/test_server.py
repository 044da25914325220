"""Serving the mocks: in a thread, on split ports, as ``apigate mock`` in its own process (SIGTERM → exit 0)."""

from __future__ import annotations

import argparse
import signal
import socket
import statistics
import subprocess
import sys
import time

import httpx
import pytest

from apigate.commands import mock as mock_command
from apigate.config import DEMO
from apigate.errors import ConfigError, UsageError
from apigate.mocks import BREAKS, MockProcess, MockSettings, running_mock

from ._asgi import PASSWORD_FORM


def _token(keycloak_url: str) -> str:
    r = httpx.post(f"{keycloak_url}/realms/{DEMO.realm}/protocol/openid-connect/token", data=PASSWORD_FORM)
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def test_small_answers_do_not_wait_for_delayed_acks() -> None:
    """TCP_NODELAY is on: a small answer written in two sends comes in ~1 ms, not ~40 ms."""
    with running_mock(MockSettings(chat_latency_ms=0)) as server, httpx.Client() as client:
        headers = {"Authorization": f"Bearer {_token(server.urls['keycloak'])}"}
        chat = f"{server.urls['codemie']}/v1/assistants/{DEMO.assistant_id}/model"
        times = []
        for _ in range(40):
            started = time.perf_counter()
            assert client.post(chat, json={"text": "hi"}, headers=headers).status_code == 200
            times.append(time.perf_counter() - started)
    assert statistics.median(times) < 0.015


def test_served_origin_has_every_service_under_its_prefix() -> None:
    with running_mock() as server:
        assert server.origin.startswith("http://127.0.0.1:")
        assert httpx.get(f"{server.urls['codemie']}/v1/info").status_code == 200
        assert httpx.get(f"{server.origin}/nowhere").json() == {"detail": "Not Found"}
        token = _token(server.urls["keycloak"])
        assert httpx.get(f"{server.urls['codemie']}/v1/user",
                         headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_split_ports_serve_like_separate_live_services() -> None:
    with running_mock(split_ports=True) as server:
        urls = server.urls
        assert urls["keycloak"] == server.origin  # a modern Keycloak: no /auth context path
        assert urls["codemie"] == f"http://127.0.0.1:{server.port + 1}{DEMO.codemie_prefix}"
        token = _token(urls["keycloak"])
        r = httpx.get(f"{urls['codemie']}/v1/user", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["username"] == DEMO.username
        assert server.environment()["APIGATE_CODEMIE_URL"] == urls["codemie"]


def test_a_busy_port_is_a_config_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}"), running_mock(port=port):
            pass


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    mock_command.configure(parser)
    return parser.parse_args(argv)


def test_list_breaks(capsys: pytest.CaptureFixture[str]) -> None:
    assert mock_command.run(_args("--list-breaks")) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in BREAKS)


def test_bad_flags_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        mock_command.run(_args("--port", "70000"))
    with pytest.raises(UsageError):
        mock_command.run(_args("--break", "no.such.break"))


def test_settings_survive_the_command_line() -> None:
    settings = MockSettings(stream_format="sse", first_chunk_ms=5, chunks=3, error_rate=0.5, seed=7,
                            breaks=frozenset({"codemie.chat.status_201"}))
    assert MockSettings.from_args(_args(*settings.to_argv())) == settings


@pytest.mark.slow
def test_mock_process_starts_answers_and_stops_on_sigterm() -> None:
    settings = MockSettings(chat_latency_ms=0, breaks=frozenset({"codemie.chat.status_201"}))
    with MockProcess(settings) as process:
        assert process.process is not None
        token = _token(process.urls["keycloak"])
        r = httpx.post(f"{process.urls['codemie']}/v1/assistants/{DEMO.assistant_id}/model", json={},
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201  # the settings reached the subprocess
        popen = process.process
    assert popen.returncode == 0  # SIGTERM is a clean stop


@pytest.mark.slow
def test_apigate_mock_prints_urls_and_credentials_then_exits_0_on_sigint() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, "-m", "apigate", "mock", "--port", str(port)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            banner = "".join(proc.stdout.readline() for _ in range(9))  # blocks until the server is up
            assert f"http://127.0.0.1:{port}/code-assistant-api" in banner and DEMO.password in banner
            assert httpx.get(f"http://127.0.0.1:{port}/code-assistant-api/v1/info").status_code == 200
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_basejump_is_mounted_under_its_prefix_when_built() -> None:
    pytest.importorskip("apigate.mocks.basejump")
    with running_mock() as server:
        r = httpx.get(f"{server.urls['basejump']}/openapi.json")
        assert r.status_code == 200 and r.json()["openapi"].startswith("3.1")
