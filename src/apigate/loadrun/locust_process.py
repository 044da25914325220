"""Starting Locust headless in its own processes: one local process, or a master and N workers.

``import locust`` never happens here: Locust runs in subprocesses (``sys.executable -m locust``) so that its gevent
monkey-patching stays out of the runner (and out of the mock, which runs in yet another process). Their output is
passed through :func:`apigate.redact.redact` into log files in the run's directory.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from apigate.loadrun.options import LoadOptions
from apigate.redact import redact
from apigate.resources import load_dir

__all__ = ["LocustProcesses", "free_port", "locust_argv"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def locustfile(name: str = "locustfile.py") -> Path:
    return load_dir() / name


def locust_argv(options: LoadOptions, out_dir: Path, *, master_port: int | None = None) -> list[str]:
    """The command line of the local process (``master_port`` None) or of the master."""
    argv = [
        sys.executable, "-m", "locust",
        "-f", str(locustfile(options.locustfile)),
        "--headless",
        "-u", str(options.users),
        "-r", f"{options.spawn_rate:g}",
        "-t", f"{max(1, math.ceil(options.duration_s))}s",
        "--csv", str(out_dir / "locust"),
        "--html", str(out_dir / "locust.html"),
        "--json-file", str(out_dir / "locust"),  # Locust's final stats (its CSV misses the last second)
        "--only-summary",
        "--loglevel", "INFO",
    ]
    if master_port is not None:
        argv += [
            "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(master_port),
            "--expect-workers", str(options.workers), "--expect-workers-max-wait", "60",
        ]
    return argv + list(options.user_classes)


def worker_argv(options: LoadOptions, master_port: int) -> list[str]:
    return [
        sys.executable, "-m", "locust",
        "-f", str(locustfile(options.locustfile)),
        "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port),
        "--loglevel", "INFO",
    ]


class LocustProcesses:
    """The Locust process(es) of one run. ``main`` is the local process or the master."""

    def __init__(self, options: LoadOptions, out_dir: Path, env: Mapping[str, str]) -> None:
        self.options = options
        self.out_dir = out_dir
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.main: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._pumps: list[threading.Thread] = []
        self._logs: list[IO[bytes]] = []

    def start(self) -> None:
        port = free_port() if self.options.workers else None
        self.main = self._spawn(locust_argv(self.options, self.out_dir, master_port=port), "locust.log")
        if port is not None:
            for i in range(self.options.workers):
                self.workers.append(self._spawn(worker_argv(self.options, port), f"locust-worker-{i + 1}.log"))

    def _spawn(self, argv: list[str], log_name: str) -> subprocess.Popen[bytes]:
        log = (self.out_dir / log_name).open("wb")
        self._logs.append(log)
        # a session of its own: a Ctrl-C in the terminal reaches the runner only, which stops Locust in order
        proc = subprocess.Popen(
            argv, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        pump = threading.Thread(target=_pump, args=(proc, log), daemon=True, name=f"pump-{log_name}")
        pump.start()
        self._pumps.append(pump)
        return proc

    def running(self) -> bool:
        return self.main is not None and self.main.poll() is None

    def stop(self) -> None:
        """Ask the master (or local process) to stop: it stops the workers and flushes what they measured."""
        if self.main is not None and self.main.poll() is None:
            self.main.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int | None:
        """Wait for the main process; then give the workers a few seconds and terminate what is left."""
        code: int | None = None
        if self.main is not None:
            try:
                code = self.main.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        deadline = time.monotonic() + 10.0
        for w in self.workers:
            try:
                w.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                w.terminate()
        return code

    def close(self) -> None:
        for p in [*self.workers, *([self.main] if self.main else [])]:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for t in self._pumps:
            t.join(5)
        for log in self._logs:
            log.close()

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the main process's log (for a one-line error)."""
        try:
            text = (self.out_dir / "locust.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def _pump(proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:
        log.write(redact(raw.decode("utf-8", "replace")).encode("utf-8"))
        log.flush()
