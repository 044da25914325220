"""Plumbing shared by the mock apps: JSON answers, request receipt times, contract documents, connection aborts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import socket
import struct
import threading
import time
from collections.abc import Mapping
from json.encoder import encode_basestring
from typing import Any, Final

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from apigate.resources import contract_path

__all__ = [
    "ConnectionAborted",
    "ContractDocument",
    "JSONAnswer",
    "abort_connection",
    "client_gone",
    "dumps",
    "http_exception_handler",
    "json_text",
    "read_body",
    "received_at",
    "stamp_entry",
]

RECEIVED_KEY: Final = "apigate.received"  # (perf_counter, time.time()) when the request reached the mock
RAW_SEND_KEY: Final = "apigate.raw_send"
RAW_RECEIVE_KEY: Final = "apigate.raw_receive"


# one encoder for every answer (json.dumps with options builds a new one per call)
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class JSONAnswer(Response):
    """A compact JSON response (the same encoding as Starlette's JSONResponse)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def dumps(content: Any) -> bytes:
    """``content`` as compact UTF-8 JSON, Starlette's JSONResponse encoding."""
    return _ENCODER.encode(content).encode("utf-8")


def json_text(value: Any) -> str:
    """``value`` as :func:`dumps` writes it, as text; strings, finite floats and None skip the encoder's set-up."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)  # what the encoder does with a str (ensure_ascii=False)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)  # the encoder's spelling of a finite float
    if value is None:
        return "null"
    return _ENCODER.encode(value)


async def read_body(receive: Receive) -> bytes:
    """The whole request body, read as ``Request.body()`` does (:class:`ClientDisconnect` if the client leaves)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            body = message.get("body", b"")
            if body:
                chunks.append(body)
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """FastAPI's shape for routing errors: ``{"detail": "Not Found"}`` / ``{"detail": "Method Not Allowed"}``."""
    assert isinstance(exc, HTTPException)
    return JSONAnswer({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def stamp_entry(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` so that every request records its receipt time and the server's own send/receive callables."""

    async def entry(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and RECEIVED_KEY not in scope:
            scope[RECEIVED_KEY] = (time.perf_counter(), time.time())
            scope[RAW_SEND_KEY] = send
            scope[RAW_RECEIVE_KEY] = receive
        await app(scope, receive, send)

    return entry


def received_at(scope: Scope) -> tuple[float, float]:
    """``(perf_counter, unix time)`` of the request's arrival (now, when the app runs without :func:`stamp_entry`)."""
    stamp = scope.get(RECEIVED_KEY)
    if stamp is None:
        stamp = scope[RECEIVED_KEY] = (time.perf_counter(), time.time())
    return stamp


class ConnectionAborted(ConnectionResetError):
    """Raised in-process (no socket to close) where the mock would drop the connection."""


async def abort_connection(scope: Scope, *, reset: bool) -> None:
    """Drop the client's connection: ``reset`` sends a TCP RST at once, otherwise a FIN after what was written.

    Works under uvicorn (its send callable is bound to the cycle that owns the transport); elsewhere (e.g.
    ``httpx.ASGITransport``) raises :class:`ConnectionAborted`, which the in-process client sees as an error.
    """
    send = scope.get(RAW_SEND_KEY)
    receive = scope.get(RAW_RECEIVE_KEY)
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or receive is None:
        raise ConnectionAborted("apigate mock: injected connection drop")
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # let the server notice the disconnect so that it does not complain about an unfinished response
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2.0):
            while (await receive())["type"] != "http.disconnect":
                pass


def client_gone(scope: Scope) -> bool:
    """True when the server (uvicorn) has seen the client disconnect; False when it cannot tell."""
    cycle = getattr(scope.get(RAW_SEND_KEY), "__self__", None)
    return bool(getattr(cycle, "disconnected", False))


class ContractDocument:
    """A contract file served as JSON at ``<base>/openapi.json``: read on first request, then cached.

    ``info`` replaces keys of the document's ``info`` (a mock serves its document under the real app's title,
    description and version: clients read them).
    """

    def __init__(self, api: str, *, info: Mapping[str, str] | None = None) -> None:
        self.api = api
        self.info = dict(info or {})
        self._body: bytes | None = None
        self._lock = threading.Lock()

    def load(self) -> bytes:
        if self._body is None:
            import yaml  # only when a contract is asked for

            with self._lock:
                path = contract_path(self.api)
                try:
                    document = yaml.safe_load(path.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    raise LookupError(f"contract {path.name} not found at {path}") from None
                except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
                    raise LookupError(f"contract {path.name} cannot be read: {exc}") from None
                if not isinstance(document, dict):
                    raise LookupError(f"contract {path.name} is not an OpenAPI document")
                document["info"] = {**(document.get("info") or {}), **self.info}
                self._body = json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")
        return self._body

    async def endpoint(self, request: Request) -> Response:
        try:
            body = self.load()
        except LookupError as exc:
            return JSONAnswer({"detail": f"apigate mock: {exc}"}, status_code=500)
        return Response(body, media_type="application/json")
