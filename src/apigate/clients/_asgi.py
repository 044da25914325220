"""Run the sync clients in-process against an ASGI app (the embedded mocks), streaming included.

``httpx.ASGITransport`` serves only ``httpx.AsyncClient`` and buffers whole bodies. :class:`SyncASGITransport` is
its synchronous counterpart: the app runs on an event loop in a background thread and every body part the app
sends is handed to the caller as it is sent, so streamed answers arrive chunk by chunk (with their real timing).
One transport may be shared by several clients (an auth flow and an API client): ``close()`` from a client leaves
it running, and ``with`` blocks nest (an ``httpx.Client`` used as a context manager enters its transport too): the
loop stops when the outermost block is left, or on :meth:`shutdown`.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any
from urllib.parse import unquote

import httpx

__all__ = ["SyncASGITransport"]

Message = MutableMapping[str, Any]
ASGIApp = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class _Body(httpx.SyncByteStream):
    def __init__(self, parts: queue.Queue[tuple[str, Any]], disconnect: Callable[[], None], timeout: float | None):
        self._parts = parts
        self._disconnect = disconnect
        self._timeout = timeout

    def __iter__(self) -> Iterator[bytes]:
        while True:
            kind, value = _get(self._parts, self._timeout)
            if kind == "body":
                if value:
                    yield value
            elif kind == "end":
                return
            else:  # the app failed half-way: what a client sees is a connection closed mid-body
                raise httpx.RemoteProtocolError(f"server closed the connection mid-body ({value!r})")

    def close(self) -> None:
        self._disconnect()


def _get(parts: queue.Queue[tuple[str, Any]], timeout: float | None) -> tuple[str, Any]:
    try:
        return parts.get(timeout=timeout)
    except queue.Empty:
        raise httpx.ReadTimeout(f"no data from the app within {timeout} s") from None


class SyncASGITransport(httpx.BaseTransport):
    """A synchronous httpx transport that calls an ASGI app running on a private event loop thread."""

    def __init__(self, app: Any, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app: ASGIApp = app
        self.client_addr = client
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="apigate-asgi", daemon=True)
        self._thread.start()
        self._closed = False
        self._entered = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("the in-process ASGI transport was shut down", request=request)
        body = request.read()
        parts: queue.Queue[tuple[str, Any]] = queue.Queue()
        gone = threading.Event()
        waiters: list[asyncio.Event] = []  # the app's view of the disconnect, created on the loop
        timeouts = request.extensions.get("timeout", {})
        read_timeout = timeouts.get("read")
        future = asyncio.run_coroutine_threadsafe(self._call(request, body, parts, gone, waiters), self._loop)

        def disconnect() -> None:
            gone.set()
            if waiters and not self._closed:
                self._loop.call_soon_threadsafe(waiters[0].set)

        try:
            kind, value = _get(parts, read_timeout)
        except httpx.ReadTimeout:
            disconnect()
            future.cancel()
            raise
        if kind != "start":
            disconnect()
            raise httpx.RemoteProtocolError(f"server disconnected without sending a response ({value!r})", request=request)
        status, headers = value
        return httpx.Response(status, headers=headers, stream=_Body(parts, disconnect, read_timeout), request=request)

    async def _call(
        self,
        request: httpx.Request,
        body: bytes,
        parts: queue.Queue[tuple[str, Any]],
        gone: threading.Event,
        waiters: list[asyncio.Event],
    ) -> None:
        disconnected = asyncio.Event()
        waiters.append(disconnected)
        if gone.is_set():
            disconnected.set()
        url = request.url
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": unquote(url.path),
            "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": self.client_addr,
            "server": (url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80)),
        }
        sent_request = False
        started = False
        finished = False

        async def receive() -> Message:
            nonlocal sent_request
            if not sent_request:
                sent_request = True
                return {"type": "http.request", "body": body, "more_body": False}
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal started, finished
            if gone.is_set() and started:
                raise OSError("client disconnected")
            if message["type"] == "http.response.start":
                started = True
                headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
                parts.put(("start", (message["status"], headers)))
            elif message["type"] == "http.response.body":
                parts.put(("body", bytes(message.get("body", b""))))
                if not message.get("more_body", False):
                    finished = True
                    parts.put(("end", None))

        try:
            await self.app(scope, receive, send)
        except Exception as exc:  # noqa: BLE001 - for the client, any app failure is a broken connection
            parts.put(("error", exc))
            return
        except asyncio.CancelledError:
            parts.put(("error", "cancelled"))
            raise
        if not started:
            parts.put(("error", "no response"))
        elif not finished:
            parts.put(("error", "response not finished"))

    def close(self) -> None:
        """Clients close their transport; a shared one keeps running until :meth:`shutdown`."""

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    def __enter__(self) -> SyncASGITransport:
        self._entered += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._entered -= 1
        if self._entered <= 0:
            self.shutdown()
