"""Operational faults: error rate with each service's envelope, added latency, connection resets, cut streams."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
import pytest

from apigate.config import DEMO
from apigate.mocks import MockSettings, running_mock
from apigate.mocks._common import ConnectionAborted

from ._asgi import CHAT, CODEMIE, PASSWORD_FORM, TOKEN_PATH, ASGIClient, decode_ndjson, password_token


def test_error_rate_answers_each_service_with_its_envelope(make_mock: Callable[..., ASGIClient]) -> None:
    mock = make_mock(error_rate=1.0, error_status=503)
    r = mock.post(CHAT, json={})
    assert r.status_code == 503 and set(r.json()["error"]) == {"message", "details", "help"}
    r = mock.post(TOKEN_PATH, data=PASSWORD_FORM)
    assert r.status_code == 503 and set(r.json()) == {"error", "error_description"}
    assert mock.get(f"{CODEMIE}/v1/info").status_code == 200  # readiness probes are exempt
    assert mock.get(f"{CODEMIE}/v1/healthcheck").status_code == 200


def test_error_rate_is_a_seeded_fraction(make_mock: Callable[..., ASGIClient]) -> None:
    def statuses(seed: int) -> list[int]:
        mock = make_mock(error_rate=0.3, error_status=500, seed=seed)
        return [mock.get(f"{CODEMIE}/v1/user").status_code for _ in range(200)]

    first = statuses(11)
    assert first == statuses(11)
    assert first != statuses(12)
    assert 0.2 < first.count(500) / len(first) < 0.4
    assert set(first) == {500, 401}  # the others went through (and failed auth: no token)


def test_added_latency_delays_every_answer(make_mock: Callable[..., ASGIClient]) -> None:
    mock = make_mock(added_latency_ms=40)
    started = time.perf_counter()
    assert mock.post(TOKEN_PATH, data=PASSWORD_FORM).status_code == 200
    assert time.perf_counter() - started >= 0.04


def test_reset_in_process_raises(make_mock: Callable[..., ASGIClient]) -> None:
    with pytest.raises(ConnectionAborted):
        make_mock(reset_rate=1.0).get(f"{CODEMIE}/v1/user")


def _no_server_errors(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.name.startswith("uvicorn") and r.levelno >= logging.ERROR]


def test_reset_over_loopback_drops_the_connection(caplog: pytest.LogCaptureFixture) -> None:
    with running_mock(MockSettings(reset_rate=1.0)) as server, httpx.Client() as client:
        for _ in range(3):
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                client.get(f"{server.urls['codemie']}/v1/user")
        assert client.get(f"{server.urls['codemie']}/v1/info").status_code == 200
    _no_server_errors(caplog)


def test_stream_cut_closes_the_connection_half_way(caplog: pytest.LogCaptureFixture) -> None:
    settings = MockSettings(stream_cut_rate=1.0, chunks=6, first_chunk_ms=0, chunk_interval_ms=1)
    with running_mock(settings) as server, httpx.Client() as client:
        token = client.post(f"{server.urls['keycloak']}/realms/{DEMO.realm}/protocol/openid-connect/token",
                            data=PASSWORD_FORM).json()["access_token"]
        received = b""
        url = f"{server.urls['codemie']}/v1/assistants/{DEMO.assistant_id}/model"
        with pytest.raises(httpx.RemoteProtocolError), client.stream(  # noqa: PT012 - the cut comes while reading
            "POST", url, json={"stream": True}, headers={"Authorization": f"Bearer {token}"}
        ) as r:
            assert r.status_code == 200
            for data in r.iter_raw():
                received += data
    chunks = decode_ndjson(received)
    assert len(chunks) == 3 and not any(c["last"] for c in chunks)
    _no_server_errors(caplog)


def test_cut_rate_zero_never_cuts(make_mock: Callable[..., ASGIClient]) -> None:
    mock = make_mock(stream_cut_rate=0.0, chunks=2)
    token = password_token(mock)
    for _ in range(5):
        chunks = decode_ndjson(mock.post(CHAT, json={"stream": True},
                                         headers={"Authorization": f"Bearer {token}"}).content)
        assert chunks[-1]["last"] is True


def test_error_rate_uses_basejumps_envelope(make_mock: Callable[..., ASGIClient]) -> None:
    pytest.importorskip("apigate.mocks.basejump")
    r = make_mock(error_rate=1.0, error_status=502).post(f"{DEMO.basejump_prefix}/account/user", json={})
    assert r.status_code == 502 and set(r.json()) == {"detail"}
