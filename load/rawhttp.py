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
import struct
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from geventhttpclient.response import HTTPParseError, HTTPResponse  # HTTPParseError: malformed HTTP from the peer

__all__ = ["Connection", "ConnectionClosed", "HTTPParseError", "Response", "request_once"]

READ_SIZE = 65536
# Linux kernel receive timestamps (SO_TIMESTAMPNS; not exported by Python's socket module): the time a packet
# reached the host, whatever the load generator was busy with when it arrived.
_SO_TIMESTAMPNS = 35 if sys.platform.startswith("linux") else None
_TIMESPEC = struct.Struct("@qq")


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
        """(decoded body bytes, when they arrived) until the body ends.

        "When" is a ``time.perf_counter()`` value: the kernel's receive timestamp of the newest packet in the read
        when the platform gives one (Linux, plain TCP), else the moment the read returned.
        Raises :class:`ConnectionClosed` when the peer closes before the end of the body.
        """
        p = self._parser
        now = self._conn.last_arrival
        while True:
            if p.pieces:
                data = b"".join(p.pieces)
                p.pieces.clear()
                yield data, now
            if p.message_complete:
                break
            chunk, now = self._conn.recv_stamped()
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
        self.kernel_stamps = False
        self.last_arrival = 0.0  # arrival time (perf_counter scale) of the last read
        self.read_lag = 0.0  # last read: seconds between the packet's arrival and the read returning

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.kernel_stamps = False
        if self.https:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        elif _SO_TIMESTAMPNS is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                self.kernel_stamps = True
            except OSError:
                pass
        return sock

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def recv_stamped(self) -> tuple[bytes, float]:
        """One read, and when its newest bytes arrived (perf_counter scale)."""
        sock = self._sock
        assert sock is not None
        if not self.kernel_stamps:
            data = sock.recv(READ_SIZE)
            self.last_arrival = time.perf_counter()
            self.read_lag = 0.0
            return data, self.last_arrival
        data, ancdata, _flags, _addr = sock.recvmsg(READ_SIZE, 64)
        now_perf = time.perf_counter()
        now_wall = time.time()
        arrival = now_perf
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(payload) >= _TIMESPEC.size:
                sec, nsec = _TIMESPEC.unpack_from(payload)
                lag = now_wall - (sec + nsec * 1e-9)
                if 0.0 <= lag < 60.0:  # a sane stamp: convert it to the perf_counter scale
                    arrival = now_perf - lag
        self.read_lag = now_perf - arrival
        self.last_arrival = arrival
        return data, arrival

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
                    data, _ = self.recv_stamped()
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
