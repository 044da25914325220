"""A minimal HTTP/1.1 client that sees every byte when it arrives: for streamed answers and for logins.

Why not Locust's clients: ``FastHttpUser`` with ``stream=True`` times the response *headers*, and its
``iter_content``/``iter_lines`` wait for 1 KiB or the end of the body, so a small first chunk is seen hundreds of
milliseconds late. Here the socket is read with ``recv`` (it returns as soon as any bytes are there), the response
is parsed by geventhttpclient's llhttp parser (chunked transfer coding included), and the decoded body bytes are
handed over together with ``time.perf_counter()`` taken right after the read returned.

Under Locust the socket module is gevent's (monkey-patched), so each user's reads are cooperative. Nothing here
imports locust; no secrets are logged (the caller passes ready headers).
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from geventhttpclient.response import HTTPResponse

__all__ = ["Connection", "ConnectionClosed", "Response", "request_once"]

READ_SIZE = 65536


class ConnectionClosed(Exception):
    """The peer closed the connection before the response was complete."""


class _Parser(HTTPResponse):
    """llhttp response parser whose decoded body pieces are collected as they are parsed."""

    def __init__(self, method: str) -> None:
        super().__init__(method=method)
        self.pieces: list[bytes] = []

    def _on_body(self, buf: bytearray) -> None:
        self.pieces.append(bytes(buf))


class Response:
    """A response whose headers have arrived; read its body with :meth:`iter_body` or :meth:`read`."""

    def __init__(self, conn: Connection, parser: _Parser, sent_at: float) -> None:
        self._conn = conn
        self._parser = parser
        self.sent_at = sent_at  # perf_counter() just before the request was written
        self.status = parser.status_code
        self.headers = {k.lower(): v for k, v in parser.items()}

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", ""))

    def iter_body(self) -> Iterator[tuple[bytes, float]]:
        """(decoded body bytes, perf_counter() when the read holding them returned) until the body ends.

        Raises :class:`ConnectionClosed` when the peer closes before the end of the body.
        """
        p = self._parser
        now = time.perf_counter()
        while True:
            if p.pieces:
                data = b"".join(p.pieces)
                p.pieces.clear()
                yield data, now
            if p.message_complete:
                break
            chunk = self._conn.recv()
            now = time.perf_counter()
            if not chunk:
                # a body without length ends at close; a chunked or sized body is cut off
                self._conn.close()
                if p.headers_complete and "content-length" not in self.headers and not self._chunked():
                    p.feed(b"")
                    if p.pieces:
                        data = b"".join(p.pieces)
                        p.pieces.clear()
                        yield data, now
                    break
                raise ConnectionClosed("connection closed before the end of the body")
            p.feed(chunk)
        self._conn.done(p)

    def _chunked(self) -> bool:
        return "chunked" in str(self.headers.get("transfer-encoding", "")).lower()

    def read(self) -> bytes:
        return b"".join(data for data, _ in self.iter_body())

    def json(self) -> Any:
        return json.loads(self.read())


class Connection:
    """One keep-alive connection to ``origin`` (scheme://host:port), reopened when the server closes it."""

    def __init__(self, origin: str, *, timeout: float = 120.0) -> None:
        parts = urlsplit(origin)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.host_header = parts.netloc
        self.timeout = timeout
        self._sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.https:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        return sock

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def recv(self) -> bytes:
        assert self._sock is not None
        return self._sock.recv(READ_SIZE)

    def done(self, parser: _Parser) -> None:
        if parser.should_close():
            self.close()

    def request(
        self, method: str, target: str, *, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> Response:
        """Send a request (``target``: path + query) and wait for the response headers."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host_header}", "Accept-Encoding: identity"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (0, 1):
            reused = self._sock is not None
            if self._sock is None:
                self._sock = self._connect()
            sent_at = time.perf_counter()
            try:
                self._sock.sendall(raw)
                parser = _Parser(method)
                while not parser.headers_complete:
                    data = self._sock.recv(READ_SIZE)
                    if not data:
                        raise ConnectionClosed("connection closed before the response headers")
                    parser.feed(data)
            except (ConnectionClosed, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused and attempt == 0:
                    continue  # a kept-alive connection the server had closed: one fresh try
                raise
            except BaseException:
                self.close()
                raise
            return Response(self, parser, sent_at)
        raise AssertionError("unreachable")  # pragma: no cover


def request_once(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    json_body: Any = None,
    params: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    """One request on a fresh connection: (status, parsed JSON body or None). For logins and set-up calls."""
    parts = urlsplit(url)
    target = parts.path or "/"
    query = urlencode(params) if params else parts.query
    if query:
        target += "?" + query
    hdrs = dict(headers or {})
    body = b""
    if form is not None:
        body = urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    elif json_body is not None:
        body = json.dumps(json_body).encode()
        hdrs["Content-Type"] = "application/json"
    hdrs["Connection"] = "close"
    conn = Connection(f"{parts.scheme}://{parts.netloc}", timeout=timeout)
    try:
        resp = conn.request(method, target, headers=hdrs, body=body)
        raw = resp.read()
    finally:
        conn.close()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    return resp.status, data
