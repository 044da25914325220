"""The load run's journal: an append-only JSON-lines file the Locust process writes while it measures.

The Locust master (or the single local process) appends one line per record; the runner that started it tails the
file for progress and builds ``summary.json`` from it at the end — also when Locust was interrupted or crashed,
since every batch is flushed to the file within about a second of being measured.

Records (``k`` is the kind, ``t`` the unix time it was written):

* ``{"k": "start", "t", "node"}`` — a test started (``node``: ``local`` or ``master``);
* ``{"k": "batch", "t", "users", "r": Recording.to_wire()}`` — measurements since the previous batch;
* ``{"k": "worker", "t", "id", "totals": Recording.totals()}`` — a worker's own totals, sent with its last batch;
* ``{"k": "stop", "t"}`` — the test stopped;
* ``{"k": "abort", "t", "message"}`` — the run could not start (bad credentials, unreachable target): one line.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from apigate.metrics import Recording
from apigate.redact import redact

__all__ = ["JournalReader", "JournalState", "JournalWriter"]


class JournalWriter:
    """Appends records, one flushed line each (safe to call from several greenlets/threads)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, kind: str, **fields: Any) -> None:
        record = {"k": kind, "t": time.time(), **fields}
        line = json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"
        with self._lock:
            if self._file is None:
                return
            self._file.write(line)
            self._file.flush()

    def batch(self, recording: Recording, users: int | None = None) -> None:
        if not recording.is_empty():
            self.write("batch", users=users, r=recording.to_wire())
        elif users is not None:
            self.write("batch", users=users, r={})

    def abort(self, message: str) -> None:
        self.write("abort", message=redact(message))

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None


@dataclass
class JournalState:
    """Everything read from a journal so far."""

    recording: Recording = field(default_factory=Recording)
    started_at: float | None = None
    stopped_at: float | None = None
    last_at: float | None = None
    users: int = 0
    users_by_second: dict[int, int] = field(default_factory=dict)  # unix second -> users Locust had spawned
    abort: str | None = None
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    corrupt_lines: int = 0


class JournalReader:
    """Reads a journal incrementally (call :meth:`poll` as often as you like; a partial last line waits)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.state = JournalState()
        self._pos = 0
        self._rest = b""

    def poll(self) -> JournalState:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._pos)
                data = fh.read()
        except FileNotFoundError:
            return self.state
        self._pos += len(data)
        data = self._rest + data
        lines = data.split(b"\n")
        self._rest = lines.pop()
        for line in lines:
            if line.strip():
                self._apply(line)
        return self.state

    def _apply(self, line: bytes) -> None:
        st = self.state
        try:
            rec = json.loads(line)
            kind = rec["k"]
            t = float(rec["t"])
            if kind == "batch":
                if rec.get("r"):
                    st.recording.merge(Recording.from_wire(rec["r"]))
                if rec.get("users") is not None:
                    st.users = int(rec["users"])
                    st.users_by_second[int(t)] = st.users
            elif kind == "start":
                if st.started_at is None:
                    st.started_at = t
            elif kind == "stop":
                st.stopped_at = t
            elif kind == "worker":
                st.workers[str(rec["id"])] = dict(rec["totals"])
            elif kind == "abort":
                st.abort = str(rec["message"])
        except (ValueError, KeyError, TypeError):
            st.corrupt_lines += 1
            return
        st.last_at = t if st.last_at is None else max(st.last_at, t)
