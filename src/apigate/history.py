"""Run history in a local SQLite database (stdlib :mod:`sqlite3`; default ``reports/history.sqlite``).

Every run appended by :func:`record_run` keeps its label, pass/fail, the redacted ``summary.json``, each metric's
statistics and a capped, seeded random subset of its raw samples (what the gate's significance tests need).
:func:`read_runs` gives the trend; :func:`baseline_from_history` turns "the last N passing runs" into a baseline
:class:`~apigate.summary.Summary`: per metric, each statistic is the median across those runs, and the raw samples
are the runs' samples pooled (capped). When the newest of them is a sweep, the baseline is a sweep too, whose
capacity is the median of the capacities those runs' sweeps of the same kind (rate or users) found, so that the gate
holds a sweep to "capacity must not drop" against the history as against a baseline file.

Schema (``PRAGMA user_version = 1``)::

    runs(id INTEGER PRIMARY KEY, recorded_at TEXT, started_at TEXT, label TEXT, passed INTEGER, summary TEXT)
    metrics(run_id, metric, count, min, mean, p50, p90, p95, p99, max)     -- one row per run and metric
    samples(run_id, metric, n, data BLOB)                                   -- gzip'd JSON list of ms
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from apigate.errors import DocumentError
from apigate.redact import dumps_redacted, redact
from apigate.stats import median, subsample
from apigate.summary import STATS, MetricStats, Summary, parse_summary

__all__ = [
    "DEFAULT_DB",
    "HistoryRun",
    "baseline_from_history",
    "read_runs",
    "record_run",
]

DEFAULT_DB: Final = Path("reports") / "history.sqlite"
_SCHEMA_VERSION: Final = 1
_STORED_SAMPLES: Final = 20000  # per run and metric
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    started_at TEXT NOT NULL,
    label TEXT NOT NULL,
    passed INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    count INTEGER NOT NULL,
    min REAL, mean REAL, p50 REAL, p90 REAL, p95 REAL, p99 REAL, max REAL,
    PRIMARY KEY (run_id, metric)
);
CREATE TABLE IF NOT EXISTS samples (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (run_id, metric)
);
"""


@dataclass(frozen=True)
class HistoryRun:
    id: int
    recorded_at: str
    started_at: str
    label: str
    passed: bool
    metrics: Mapping[str, MetricStats] = field(default_factory=dict)


@contextmanager
def _connect(db: str | Path, *, create: bool) -> Iterator[sqlite3.Connection]:
    path = Path(db)
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DocumentError(f"cannot create the folder of history database {path}: {exc.strerror or exc}") from None
    try:
        conn = sqlite3.connect(path, timeout=10.0)
    except sqlite3.Error as exc:
        raise DocumentError(f"cannot open history database {path}: {exc}") from None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and create:
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        elif version != _SCHEMA_VERSION:
            raise DocumentError(f"{path} is not an apigate history database (schema version {version})")
        with conn:
            yield conn
    except sqlite3.DatabaseError as exc:
        raise DocumentError(f"{path} is not a usable apigate history database: {exc}") from None
    finally:
        conn.close()


def record_run(
    db: str | Path,
    summary: Summary | Mapping[str, Any],
    samples: Mapping[str, Sequence[float]] | None = None,
    label: str = "",
    passed: bool = True,
    *,
    recorded_at: str | None = None,
    max_samples: int = _STORED_SAMPLES,
) -> int:
    """Append one run (``samples`` default to ``summary.samples``); return its id. The database is created if needed."""
    if not isinstance(summary, Summary):
        summary = parse_summary(summary, source="summary")
    if samples is None:
        samples = summary.samples or {}
    when = recorded_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = dumps_redacted(summary.raw, ensure_ascii=False, sort_keys=True)
    with _connect(db, create=True) as conn:
        cursor = conn.execute(
            "INSERT INTO runs (recorded_at, started_at, label, passed, summary) VALUES (?, ?, ?, ?, ?)",
            (when, summary.started_at, redact(label), int(passed), document),
        )
        run_id = cursor.lastrowid
        assert run_id is not None
        for name, m in summary.metrics.items():
            conn.execute(
                "INSERT INTO metrics (run_id, metric, count, min, mean, p50, p90, p95, p99, max)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, name, m.count, m.min, m.mean, m.p50, m.p90, m.p95, m.p99, m.max),
            )
        for name, values in samples.items():
            if not values:
                continue
            kept = subsample(values, max_samples, seed=run_id)
            blob = gzip.compress(json.dumps([round(v, 3) for v in kept]).encode(), mtime=0)
            conn.execute("INSERT INTO samples (run_id, metric, n, data) VALUES (?, ?, ?, ?)",
                         (run_id, name, len(kept), blob))
    return int(run_id)


def read_runs(db: str | Path, *, last: int | None = None, passing_only: bool = False) -> list[HistoryRun]:
    """Recorded runs, oldest first (the ``last`` N of them). A database that does not exist yet holds no runs."""
    if not Path(db).exists():
        return []
    with _connect(db, create=False) as conn:
        where = "WHERE passed = 1" if passing_only else ""
        limit = f"LIMIT {int(last)}" if last is not None else ""
        rows = conn.execute(
            f"SELECT id, recorded_at, started_at, label, passed FROM runs {where} ORDER BY id DESC {limit}"  # noqa: S608
        ).fetchall()
        runs = []
        for run_id, recorded_at, started_at, label, passed in reversed(rows):
            metrics = {
                row[0]: MetricStats(row[0], "ms", int(row[1]), *row[2:])
                for row in conn.execute(
                    "SELECT metric, count, min, mean, p50, p90, p95, p99, max FROM metrics WHERE run_id = ?"
                    " ORDER BY rowid", (run_id,)
                )
            }
            runs.append(HistoryRun(run_id, recorded_at, started_at, label, bool(passed), metrics))
    return runs


def _read_samples(db: str | Path, run_ids: Sequence[int]) -> dict[str, list[float]]:
    pooled: dict[str, list[float]] = {}
    with _connect(db, create=False) as conn:
        for run_id in run_ids:
            for metric, blob in conn.execute("SELECT metric, data FROM samples WHERE run_id = ?", (run_id,)):
                pooled.setdefault(metric, []).extend(float(v) for v in json.loads(gzip.decompress(blob)))
    return pooled


def baseline_from_history(db: str | Path, last_n: int = 5, *, max_samples: int = 50000) -> Summary | None:
    """The median of the last ``last_n`` passing runs as a baseline summary, or ``None`` when there is none."""
    if last_n < 1:
        raise ValueError("last_n must be at least 1")
    runs = read_runs(db, last=last_n, passing_only=True)
    if not runs:
        return None
    names: list[str] = []
    for run in runs:
        names.extend(n for n in run.metrics if n not in names)
    metrics: dict[str, MetricStats] = {}
    for name in names:
        present = [run.metrics[name] for run in runs if name in run.metrics and run.metrics[name].count > 0]
        if not present:
            continue
        values: dict[str, float | None] = {}
        for stat in STATS[1:]:
            numbers = [v for m in present if (v := m.stat(stat)) is not None]
            values[stat] = median(numbers) if numbers else None
        metrics[name] = MetricStats(name, "ms", sum(m.count for m in present), **values)
    pooled = _read_samples(db, [run.id for run in runs])
    samples = {name: subsample(values, max_samples, seed=0) for name, values in pooled.items()}
    ids = ", ".join(f"#{run.id}" for run in runs)
    source = f"history {db}: median of the last {len(runs)} passing run{'s' if len(runs) != 1 else ''} ({ids})"
    sweep = _median_sweep(db, [run.id for run in runs])
    return Summary(
        source=source,
        started_at=runs[-1].started_at,
        metrics=metrics,
        samples=samples or None,
        samples_note="" if samples else "no raw samples stored for these runs",
        raw={"sweep": sweep} if sweep is not None else {},
    )


def _median_sweep(db: str | Path, run_ids: Sequence[int]) -> dict[str, Any] | None:
    """A sweep block whose capacity is the median over the runs' sweeps of the newest sweep's kind; ``None`` when
    the newest run is not a sweep. Sweeps that found no capacity (no level met the SLOs) count as none."""
    with _connect(db, create=False) as conn:
        sweeps = []
        for run_id in run_ids:
            row = conn.execute("SELECT summary FROM runs WHERE id = ?", (run_id,)).fetchone()
            block = json.loads(row[0]).get("sweep") if row else None
            sweeps.append(block if isinstance(block, dict) else None)
    newest = sweeps[-1] if sweeps else None
    if newest is None:
        return None
    kind = newest.get("by", "rate")
    found = [float(value) for block in sweeps if block is not None and block.get("by", "rate") == kind
             and isinstance(value := (block.get("capacity") or {}).get("value"), int | float)]
    return {"by": kind, "unit": newest.get("unit", "requests/s"), "levels": [],
            "capacity": {"value": median(found) if found else None,
                         "bound": f"median of {len(found)} sweep{'s' if len(found) != 1 else ''} in the history"}}
