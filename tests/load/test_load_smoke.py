"""Short real Locust runs through ``apigate load`` against the embedded mock (each a few seconds)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from apigate.config import DEMO

pytestmark = pytest.mark.slow

FAST_MOCK = ["--first-chunk-ms", "60", "--chunk-interval-ms", "5", "--chunks", "4", "--chat-latency-ms", "5",
             "--basejump-message-latency-ms", "5"]


def apigate_load(*args: str, env: dict[str, str] | None = None, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apigate", "load", "--progress-interval", "1", *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )


def summary_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return data


def locust_counts(out: Path) -> dict[str, int]:
    from apigate.loadrun.runner import locust_request_counts

    return locust_request_counts(out)


def assert_clean(summary: dict[str, Any], metrics: list[str], requests: list[str]) -> None:
    assert summary["failures"] == []
    for name in metrics:
        m = summary["metrics"][name]
        assert m["count"] > 0 and m["unit"] == "ms"
        assert m["min"] <= m["p50"] <= m["p90"] <= m["p95"] <= m["p99"] <= m["max"]
    for name in requests:
        r = summary["requests"][name]
        assert r["count"] > 0 and r["failures"] == 0 and r["rps"] > 0
    assert summary["timeline"] and sum(row[1] for row in summary["timeline"]) == sum(
        r["count"] for r in summary["requests"].values()
    )


@pytest.mark.parametrize(
    ("scenario", "metrics"),
    [
        ("tokens", ["keycloak.token.password", "keycloak.token.client_credentials", "basejump.token.refresh",
                    "basejump.token.access"]),
        ("chat", ["codemie.chat", "basejump.chat"]),
        ("stream", ["codemie.stream.ttfc", "codemie.stream.inter_chunk", "codemie.stream.total"]),
    ],
)
def test_scenario_smoke(tmp_path: Path, scenario: str, metrics: list[str]) -> None:
    out = tmp_path / scenario
    proc = apigate_load("--scenario", scenario, "-u", "4", "-t", "3s", "--out", str(out), *FAST_MOCK)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = summary_of(out)
    requests = [m for m in metrics if not m.startswith("codemie.stream")] or ["codemie.stream"]
    assert_clean(summary, metrics, requests)
    assert summary["settings"]["scenario"] == scenario
    assert summary["settings"]["mock"]["first_chunk_ms"] == 60
    assert (out / "samples.json.gz").is_file() and (out / "locust.html").is_file()
    # Locust's own counters (its CSV) agree with the exact ones
    counts = locust_counts(out)
    for name in requests:
        assert counts[name] == summary["requests"][name]["count"]
    if scenario == "stream":
        ttfc = summary["metrics"]["codemie.stream.ttfc"]
        assert 59.0 <= ttfc["p50"] <= 80.0  # configured first chunk at 60 ms
        assert 4.0 <= summary["metrics"]["codemie.stream.inter_chunk"]["p50"] <= 8.0
        assert summary["metrics"]["codemie.stream.chunks"]["p50"] == 5  # 4 deltas + the terminal chunk
    assert "demo-password" not in (out / "locust.log").read_text()


def test_workers_merge_exactly(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    proc = apigate_load("--scenario", "all", "-u", "10", "-t", "4s", "--workers", "2", "--out", str(out), *FAST_MOCK)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = summary_of(out)
    workers = summary["workers"]
    assert len(workers) == 2
    for name, row in summary["requests"].items():
        assert row["count"] == sum(w["requests"].get(name, [0, 0])[0] for w in workers.values()) > 0
    for metric, m in summary["metrics"].items():
        assert m["count"] == sum(w["samples"].get(metric, 0) for w in workers.values())
    counts = locust_counts(out)
    for name, row in summary["requests"].items():
        assert counts[name] == row["count"]


def test_failed_token_renewals_are_counted_with_their_reason(tmp_path: Path) -> None:
    """Tokens live 2 s and half of the mock's answers are 503 (seed 1: the pre-run login check passes): renewals
    that fail are failures of the request that needed them, in apigate's summary and in Locust's own counts."""
    out = tmp_path / "renewals"
    proc = apigate_load("--scenario", "stream", "-u", "6", "-t", "5s", "--out", str(out), *FAST_MOCK,
                        "--access-token-lifetime-s", "2", "--error-rate", "0.5", "--seed", "1")
    assert proc.returncode == 1, proc.stderr[-2000:]  # far over the failure budget, but it ran to the end
    summary = summary_of(out)
    logins = [f for f in summary["failures"] if f["reason"].startswith("login: keycloak refused")]
    assert logins and all(f["name"] == "codemie.stream" for f in logins)
    assert locust_counts(out)["codemie.stream"] == summary["requests"]["codemie.stream"]["count"]
    assert "Traceback" not in (out / "locust.log").read_text()


def test_bad_credentials_stop_at_once(tmp_path: Path) -> None:
    from apigate.mocks import MockSettings, running_mock

    with running_mock(MockSettings()) as mock:
        env = {
            "APIGATE_KEYCLOAK_URL": f"{mock.origin}{DEMO.keycloak_prefix}",
            "APIGATE_CODEMIE_URL": f"{mock.origin}{DEMO.codemie_prefix}",
            "APIGATE_CODEMIE_CLIENT_ID": DEMO.public_client,
            "APIGATE_CODEMIE_USERNAME": DEMO.username,
            "APIGATE_CODEMIE_PASSWORD": "not-the-password",
            "APIGATE_CODEMIE_ASSISTANT_ID": DEMO.assistant_id,
        }
        started = time.monotonic()
        proc = apigate_load("--scenario", "stream", "-u", "2", "-t", "30s", "--out", str(tmp_path / "bad"), env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    # a wrong password: 400 invalid_grant on Keycloak 26 (and the mock), 401 on older versions
    assert "refused the load credentials" in lines[-1] and "HTTP 400: Invalid user credentials" in lines[-1]
    assert "Traceback" not in proc.stderr and "not-the-password" not in proc.stderr
    assert time.monotonic() - started < 20


def test_bad_duration_is_a_usage_error(tmp_path: Path) -> None:
    proc = apigate_load("-t", "ten seconds", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "bad duration" in proc.stderr


def test_interrupted_run_still_writes_its_summary(tmp_path: Path) -> None:
    out = tmp_path / "int"
    proc = subprocess.Popen(
        [sys.executable, "-m", "apigate", "load", "--scenario", "chat", "-u", "4", "-t", "60s", "--out", str(out),
         *FAST_MOCK],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + 30
    # wait (bounded) until measurements reached the journal, then interrupt like Ctrl-C would
    while time.monotonic() < deadline and (not journal.exists() or '"k":"batch"' not in journal.read_text()):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    summary = summary_of(out)
    assert summary["interrupted"] is True
    assert summary["requests"]["codemie.chat"]["count"] > 0
    assert summary["metrics"]["codemie.chat"]["count"] > 0
