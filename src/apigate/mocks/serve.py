"""Serving the mocks with uvicorn: in a background thread (tests), in the foreground (``apigate mock``) or in a
subprocess of its own (load runs, which must never share a process with Locust's gevent).

uvicorn runs with the fastest loop and parser available (uvloop + httptools), no access log and no lifespan. It
binds its own listening socket (a pre-bound socket handed to the loop can lose TCP_NODELAY, and every small answer
would then wait ~40 ms for a delayed ACK).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any, Final, TextIO

from apigate.config import DEMO
from apigate.errors import ConfigError
from apigate.mocks.settings import MockSettings

__all__ = ["MockProcess", "MockServer", "free_port", "running_mock", "serve_forever", "uvicorn_server"]

STARTUP_TIMEOUT_S: Final = 20.0


@dataclass(frozen=True)
class MockServer:
    """Where a running mock answers. With ``split_ports``: Keycloak on ``port`` (at its root, no ``/auth``),
    CodeMie on ``port + 1`` and Basejump on ``port + 2``."""

    host: str
    port: int
    split_ports: bool = False

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _origin(self, offset: int) -> str:
        return f"http://{self.host}:{self.port + offset}" if self.split_ports else self.origin

    @property
    def urls(self) -> dict[str, str]:
        """Base URL of each service (Keycloak: the server URL, to which ``/realms/{realm}`` is appended)."""
        return {
            "keycloak": self.origin if self.split_ports else self.origin + DEMO.keycloak_prefix,
            "codemie": self._origin(1) + DEMO.codemie_prefix,
            "basejump": self._origin(2) + DEMO.basejump_prefix,
        }

    def environment(self) -> dict[str, str]:
        """``APIGATE_*`` variables that point a run at these services as if they were live ones."""
        urls = self.urls
        return {
            "APIGATE_KEYCLOAK_URL": urls["keycloak"],
            "APIGATE_KEYCLOAK_REALM": DEMO.realm,
            "APIGATE_CODEMIE_URL": urls["codemie"],
            "APIGATE_CODEMIE_CLIENT_ID": DEMO.public_client,
            "APIGATE_CODEMIE_USERNAME": DEMO.username,
            "APIGATE_CODEMIE_PASSWORD": DEMO.password,
            "APIGATE_CODEMIE_ASSISTANT_ID": DEMO.assistant_id,
            "APIGATE_BASEJUMP_URL": urls["basejump"],
            "APIGATE_BASEJUMP_API_KEY": DEMO.basejump_owner_key,
        }


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now (the server binds it itself afterwards)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, 0))
        except OSError as exc:
            raise ConfigError(f"cannot serve the mock on {host}: {exc.strerror or exc}") from None
        port: int = sock.getsockname()[1]
        return port


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot serve the mock on {host}:{port}: {exc.strerror or exc}") from None


def uvicorn_server(app: Any, host: str, port: int) -> Any:
    """A ``uvicorn.Server`` for ``app`` with the settings every mock is served with."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        lifespan="off",
        access_log=False,
        log_config=None,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=75,
        backlog=4096,
    )
    return uvicorn.Server(config)


class _ServerThread:
    def __init__(self, app: Any, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.server = uvicorn_server(app, host, port)
        self.thread = threading.Thread(target=self.server.run, name=f"apigate-mock-{port}", daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive():
                raise ConfigError(f"cannot serve the mock on {self.host}:{self.port} (is the port in use?)")
            if time.monotonic() > deadline:
                self.stop()
                raise ConfigError(f"the mock on {self.host}:{self.port} did not start in {STARTUP_TIMEOUT_S:.0f} s")
            time.sleep(0.002)  # startup poll; uvicorn offers no event to wait on

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _stop_all(threads: list[_ServerThread]) -> None:
    for t in threads:
        t.server.should_exit = True  # all at once: they shut down in parallel
    for t in threads:
        t.stop()


def _apps(settings: MockSettings, server: MockServer) -> list[Any]:
    from apigate.mocks.app import build_app, build_split_apps

    if not server.split_ports:
        return [build_app(settings)]
    apps = build_split_apps(settings, server.urls["keycloak"])
    return [apps.get(name) for name in ("keycloak", "codemie", "basejump")]


@contextlib.contextmanager
def running_mock(
    settings: MockSettings | None = None, *, host: str = "127.0.0.1", port: int = 0, split_ports: bool = False
) -> Iterator[MockServer]:
    """Serve the mocks from a background thread of this process while the ``with`` block runs.

    ``port=0`` picks a free port (with ``split_ports``: three consecutive free ports).
    """
    settings = settings or MockSettings()
    attempts = 5 if port == 0 else 1
    for attempt in range(attempts):
        chosen = port or (_free_block(host) if split_ports else free_port(host))
        server = MockServer(host, chosen, split_ports)
        threads: list[_ServerThread] = []
        try:
            for offset, app in enumerate(_apps(settings, server)):
                if app is None:
                    continue
                _check_port(host, chosen + offset)
                threads.append(_ServerThread(app, host, chosen + offset))
                threads[-1].start()
        except ConfigError:
            _stop_all(threads)
            if attempt + 1 == attempts:
                raise
            continue
        try:
            yield server
        finally:
            _stop_all(threads)
        return


def _free_block(host: str) -> int:
    """The first of three consecutive free ports."""
    for _ in range(50):
        port = free_port(host)
        if port + 2 > 65535:
            continue
        try:
            for offset in (1, 2):
                _check_port(host, port + offset)
        except ConfigError:
            continue
        return port
    raise ConfigError(f"no three consecutive free ports on {host}")


def serve_forever(
    settings: MockSettings, *, host: str, port: int, split_ports: bool = False,
    on_ready: Callable[[MockServer], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly (the caller exits 0)."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with running_mock(settings, host=host, port=port, split_ports=split_ports) as server:
            if on_ready is not None:
                on_ready(server)
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class MockProcess:
    """``python -m apigate mock`` in its own process: started on ``__enter__`` (ready when it answers), stopped
    with SIGTERM on ``__exit__``."""

    def __init__(
        self, settings: MockSettings | None = None, host: str = "127.0.0.1", port: int = 0, *,
        split_ports: bool = False,
    ) -> None:
        self.settings = settings or MockSettings()
        self.host = host
        self.port = port
        self.split_ports = split_ports
        self.process: subprocess.Popen[bytes] | None = None
        self.server: MockServer | None = None
        self._stderr: TextIO | None = None

    @property
    def origin(self) -> str:
        if self.server is None:
            raise RuntimeError("the mock process is not running")
        return self.server.origin

    @property
    def urls(self) -> dict[str, str]:
        if self.server is None:
            raise RuntimeError("the mock process is not running")
        return self.server.urls

    def argv(self, port: int) -> list[str]:
        argv = [sys.executable, "-m", "apigate", "mock", "--host", self.host, "--port", str(port),
                *self.settings.to_argv()]
        return [*argv, "--split-ports"] if self.split_ports else argv

    def start(self) -> MockServer:
        port = self.port or (_free_block(self.host) if self.split_ports else free_port(self.host))
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(self.argv(port), stdout=subprocess.DEVNULL, stderr=self._stderr,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        server = MockServer(self.host, port, self.split_ports)
        probe = server.urls["codemie"] + "/v1/info"
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        import httpx

        with httpx.Client(timeout=1.0) as client:
            while True:
                code = self.process.poll()
                if code is not None:
                    reason = self._last_error() or f"exit code {code}"
                    self.stop()
                    raise ConfigError(f"the mock process stopped at start: {reason}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(probe).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    self.stop()
                    raise ConfigError(f"the mock process did not answer on {probe} in {STARTUP_TIMEOUT_S:.0f} s")
                time.sleep(0.05)  # readiness poll of another process
        self.server = server
        return server

    def _last_error(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = [line.strip() for line in self._stderr.read().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 10 s; the exit code (None if it was never started)."""
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            code = self.process.returncode
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self.server = None
        return code

    def __enter__(self) -> MockProcess:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
