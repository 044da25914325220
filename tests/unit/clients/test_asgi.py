from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from apigate.clients import SyncASGITransport


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope["path"]
    if path == "/boom":
        raise RuntimeError("app failed before answering")
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    for part in (b"one ", b"two ", b"three"):
        await send({"type": "http.response.body", "body": part, "more_body": True})
        await asyncio.sleep(0)
        if path == "/cut":
            raise RuntimeError("app failed mid-body")
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def test_parts_arrive_one_by_one_and_the_transport_survives_a_client_close() -> None:
    with SyncASGITransport(app) as transport:
        with httpx.Client(transport=transport, base_url="http://in.process") as client, \
                client.stream("GET", "/stream?x=1") as response:
            assert list(response.iter_raw()) == [b"one ", b"two ", b"three"]
        with httpx.Client(transport=transport) as again:  # the first client's close() left it running
            assert again.get("http://in.process/").text == "one two three"


@pytest.mark.parametrize(("path", "error"), [("/boom", httpx.RemoteProtocolError), ("/cut", httpx.RemoteProtocolError)])
def test_app_failures_look_like_a_broken_connection(path: str, error: type[Exception]) -> None:
    with SyncASGITransport(app) as transport, httpx.Client(transport=transport) as client, pytest.raises(error):
        client.get(f"http://in.process{path}")


def test_a_shut_down_transport_refuses_connections() -> None:
    transport = SyncASGITransport(app)
    transport.shutdown()
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError):
        client.get("http://in.process/")
