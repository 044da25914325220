"""``run_load``: one headless Locust run against the configured target, ending in ``summary.json``.

Steps: decide the target (live services from the environment, the rest served by an embedded mock started in its
own process), check that live services answer, start Locust (local, or master + workers), print progress, and when
Locust ends — normally, on SIGINT/SIGTERM, or by crashing — build the summary from the journal it wrote.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from apigate import config
from apigate._version import __version__
from apigate.errors import ConfigError, ConnectError
from apigate.loadrun.arrivals import LATE_AFTER_MS
from apigate.loadrun.journal import JournalReader, JournalState
from apigate.loadrun.locust_process import LocustProcesses
from apigate.loadrun.options import LoadOptions, shape_phases
from apigate.loadsummary import held_problems, load_details
from apigate.metrics import Recording, build_summary, summarize
from apigate.summary import parse_summary
from apigate.timeseries import latency_windows, phase_results, stopped_users, users_timeline, window_for

__all__ = ["LoadResult", "locust_request_counts", "run_load", "write_summary"]

Progress = Callable[[str], None]


@dataclass
class LoadResult:
    """The outcome of :func:`run_load`. ``exit_code``: 0 pass, 1 failures over budget, nothing measured or the
    load not held, 2 Locust died before the run finished, 130 interrupted (the summary is written in every case)."""

    exit_code: int
    summary: dict[str, Any]
    summary_path: Path
    failure_rate: float
    message: str = ""
    interrupted: bool = False
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_held: list[str] = field(default_factory=list)  # why the run did not hold the load asked for


def locust_request_counts(out_dir: Path) -> dict[str, int]:
    """Locust's own final request count per name (from ``locust.json``): an independent tally to compare with.

    Locust keeps one row per (method, name): a name's rows are added up (e.g. ``codemie.stream`` as STREAM and as a
    failed LOGIN)."""
    try:
        rows = json.loads((out_dir / "locust.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    counts: dict[str, int] = {}
    for r in rows:
        if isinstance(r, dict) and "name" in r:
            counts[str(r["name"])] = counts.get(str(r["name"]), 0) + int(r["num_requests"])
    return counts


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_load(
    options: LoadOptions,
    out_dir: Path,
    *,
    mock_origin: str | None = None,
    progress: Progress | None = _stderr,
) -> LoadResult:
    """Run Locust headless and write ``out_dir/summary.json`` + ``samples.json.gz`` + Locust's CSV/HTML/log.

    ``mock_origin``: an embedded mock that is already running (``apigate run`` shares its own); when None and some
    service is not configured live, a mock is started with ``options.mock`` for the duration of the run.
    Raises :class:`~apigate.errors.ConfigError`/``ConnectError`` (exit 2) for a bad configuration, an unreachable
    live service or credentials the target refuses; nothing is run then.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = out_dir / "journal.jsonl"
    journal.unlink(missing_ok=True)
    say = progress or (lambda _line: None)
    with contextlib.ExitStack() as stack:
        target = config.load_target(mock_origin or "http://127.0.0.1:9")
        started_mock = False
        if target.needs_mock and mock_origin is None:
            from apigate.mocks import MockProcess

            mock = stack.enter_context(MockProcess(options.mock))
            mock_origin = mock.origin
            target = config.load_target(mock_origin)
            started_mock = True
            say(f"apigate load: embedded mock at {mock_origin}")
        _check_reachable(target)
        env = {"APIGATE_LOAD_JOURNAL": str(journal), **options.environment()}
        if mock_origin:
            env["APIGATE_MOCK_ORIGIN"] = mock_origin
        procs = LocustProcesses(options, out_dir, env)
        stack.callback(procs.close)
        reader = JournalReader(journal)
        interrupted = _run(procs, reader, options, say)
        state = reader.poll()
        if state.abort:
            raise ConfigError(state.abort)
        crashed = state.stopped_at is None and not interrupted
        if crashed and state.started_at is None:
            tail = procs.log_tail(1)
            raise ConfigError(f"Locust did not start: {tail or 'no output'} (log: {out_dir / 'locust.log'})")
        summary = write_summary(
            state, options, out_dir, target=target.base_urls(), with_mock=started_mock or not target.live,
            interrupted=interrupted,
        )
    total, failed = _totals(state)
    rate = failed / total if total else 0.0
    not_held = list(summary.get("load", {}).get("problems", []))
    if interrupted:
        code, message = 130, f"interrupted; summary of what was measured: {out_dir / 'summary.json'}"
    elif crashed:
        code = 2
        message = f"Locust stopped before the run finished (see {out_dir / 'locust.log'}); partial summary written"
    elif total == 0:
        code, message = 1, "no request completed"
    else:
        problems = []
        if rate > options.max_failure_rate:
            problems.append(f"failure rate {rate:.2%} exceeds the allowed {options.max_failure_rate:.2%}")
        if not_held:
            problems.append("could not hold the requested load: " + "; ".join(not_held))
        code, message = (1 if problems else 0), "; ".join(problems)
    return LoadResult(code, summary, out_dir / "summary.json", rate, message, interrupted, dict(state.workers),
                      not_held)


def _totals(state: JournalState) -> tuple[int, int]:
    rows = state.recording.requests.values()
    return sum(r[0] for r in rows), sum(r[1] for r in rows)


def _check_reachable(target: config.Target) -> None:
    for name, svc_url, live in (
        ("keycloak", target.keycloak.url, target.keycloak.live),
        ("codemie", target.codemie.url, target.codemie.live),
        ("basejump", target.basejump.url, target.basejump.live),
    ):
        if not live:
            continue
        parts = urlsplit(svc_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            socket.create_connection((parts.hostname or "", port), timeout=5.0).close()
        except OSError as exc:
            raise ConnectError(f"cannot reach the live {name} service at {svc_url}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _signals(on_signal: Callable[[], None]) -> Iterator[None]:
    """SIGINT/SIGTERM stop the run in order instead of killing the runner (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        on_signal()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _run(procs: LocustProcesses, reader: JournalReader, options: LoadOptions, say: Progress) -> bool:
    interrupted = threading.Event()

    def stop() -> None:
        if not interrupted.is_set():
            interrupted.set()
            procs.stop()

    with _signals(stop):
        procs.start()
        # bounded: the run time, worker start-up, and a generous margin for stopping
        deadline = time.monotonic() + options.duration_s + 90.0 + 10.0 * options.workers
        next_line = time.monotonic() + options.progress_interval_s
        last_total, last_t = 0, time.monotonic()
        while procs.running():
            time.sleep(0.2)
            state = reader.poll()
            now = time.monotonic()
            if now >= next_line and state.started_at is not None:
                total, failed = _totals(state)
                rps = (total - last_total) / max(now - last_t, 1e-9)
                say(_progress_line(state, total, failed, rps))
                last_total, last_t = total, now
                next_line = now + options.progress_interval_s
            if now > deadline and not interrupted.is_set():
                say("apigate load: Locust did not stop in time; stopping it")
                procs.stop()
                deadline = now + 30.0
            elif now > deadline:
                break
        if procs.wait(30.0) is None:
            procs.close()
    return interrupted.is_set()


def _progress_line(state: JournalState, total: int, failed: int, rps: float) -> str:
    elapsed = (state.last_at or time.time()) - (state.started_at or time.time())
    parts = [f"apigate load: {elapsed:5.0f}s", f"users {state.users}"]
    seconds = sorted(state.recording.activity)
    if len(seconds) >= 2:  # the last whole second (the newest one is still being counted)
        active, starting = state.recording.activity[seconds[-2]]
        parts[-1] += f" (active {active:.0f}" + (f", starting {starting:.0f})" if starting >= 0.5 else ")")
    parts += [f"requests {total} ({rps:.1f}/s)", f"failures {failed}"]
    for metric in ("codemie.stream.ttfc", "codemie.chat", "basejump.chat", "keycloak.token.password"):
        values = state.recording.samples.get(metric)
        if values:
            s = summarize(values[-2000:])
            parts.append(f"{metric} p50 {s['p50']:.1f} ms")
            break
    return "  ".join(parts)


def _load_blocks(state: JournalState, options: LoadOptions, started: float, end: float) -> dict[str, Any]:
    """The summary's blocks about the run over time: model, users, latency windows, phases, open-model arrivals."""
    rec = state.recording
    start_second = int(started)
    window = window_for(end - started)
    active = sum(a for a, _ in rec.activity.values())
    starting = sum(s for _, s in rec.activity.values())
    blocks: dict[str, Any] = {
        "model": options.model,
        "users": {
            "requested": options.users,
            "active_fraction": round(active / (active + starting), 4) if active + starting else None,
            "timeline": users_timeline(rec, start_second, int(end), state.users_by_second),
            "stopped": stopped_users(rec),
        },
        "latency_timeline": {"window_s": window, "metrics": latency_windows(rec, start_second, window)},
    }
    phases = shape_phases(options.shape, options.duration_s, options.users)  # the shape times itself by -t
    if phases:
        blocks["phases"] = phase_results(rec, start_second, phases)
    if options.rate is not None:
        blocks["open_model"] = _open_model_block(rec, options)
    return blocks


def _open_model_block(rec: Recording, options: LoadOptions) -> dict[str, Any]:
    """What the open model asked for and what the generator managed (``load/lifecycle.py`` counts it)."""
    counters = rec.counters
    lateness = rec.samples.get("client.arrival.lateness", [])
    return {
        "rate": options.rate,
        "arrivals": options.arrivals,
        "pool": options.users,
        "sent": counters.get("arrivals.sent", 0),
        "unsent": counters.get("arrivals.unsent", 0),
        "late": counters.get("arrivals.late", 0),
        "late_no_free_user": counters.get("arrivals.late.no_free_user", 0),
        "late_after_ms": LATE_AFTER_MS,
        "worst_lateness_ms": round(max(lateness, default=0.0), 3),
        # how long after the test started (users spawning, setting up) the arrivals began (mean over schedules)
        "warm_up_s": round(counters["arrivals.warm_up_ms"] / counters["arrivals.schedules"] / 1000, 3)
        if counters.get("arrivals.schedules") else None,
    }


def write_summary(
    state: JournalState,
    options: LoadOptions,
    out_dir: Path,
    *,
    target: dict[str, str],
    with_mock: bool,
    interrupted: bool = False,
) -> dict[str, Any]:
    """Write ``summary.json`` and ``samples.json.gz`` for what the journal holds; returns the summary."""
    now = time.time()
    started = state.started_at or now
    end = state.stopped_at or state.last_at or now
    extra: dict[str, Any] = {
        "complete": state.stopped_at is not None and not interrupted,
        "locust": {"csv_prefix": "locust", "html": "locust.html", "json": "locust.json", "log": "locust.log"},
    }
    if interrupted:
        extra["interrupted"] = True
    if state.workers:
        extra["workers"] = state.workers
    extra.update(_load_blocks(state, options, started, end))
    summary = build_summary(
        state.recording,
        started_at=started,
        duration_s=max(end - started, 0.0),
        apigate_version=__version__,
        target=target,
        settings=options.settings(with_mock=with_mock),
        extra=extra,
    )
    summary["load"] = {"problems": held_problems(load_details(parse_summary(summary)))}
    summary["load"]["held"] = not summary["load"]["problems"]
    samples = {m: [round(v, 4) for v in values] for m, values in state.recording.samples.items()}
    tmp = out_dir / "samples.json.gz.tmp"
    with gzip.open(tmp, "wt", encoding="utf-8") as fh:
        json.dump(samples, fh, separators=(",", ":"))
    tmp.replace(out_dir / "samples.json.gz")
    tmp = out_dir / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out_dir / "summary.json")
    return summary
