"""Fake-but-plausible runs (seeded) for the report, gate and screenshot tests."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

from apigate.metrics import summarize
from apigate.summary import Summary, parse_summary


def fake_samples(seed: int, *, ttfc_shift_ms: float = 0.0, streams: int = 1200) -> dict[str, list[float]]:
    """Raw samples shaped like a 60 s `all`-scenario run against the mock (first chunk 150 ms, 20 ms between chunks)."""
    rng = random.Random(seed)

    def jitter(base: float, scale: float) -> float:
        return base + rng.lognormvariate(0.0, 0.6) * scale

    ttfc = [jitter(148.0 + ttfc_shift_ms, 4.0) for _ in range(streams)]
    inter = [jitter(20.0, 0.35) for _ in range(streams * 8)]
    return {
        "keycloak.token.password": [jitter(9.0, 2.0) for _ in range(400)],
        "keycloak.token.client_credentials": [jitter(7.5, 1.5) for _ in range(400)],
        "basejump.token.refresh": [jitter(3.0, 0.8) for _ in range(300)],
        "basejump.token.access": [jitter(3.2, 0.8) for _ in range(300)],
        "codemie.chat": [jitter(20.0, 1.0) for _ in range(900)],
        "basejump.chat": [jitter(21.0, 1.1) for _ in range(700)],
        "codemie.stream.ttfc": ttfc,
        "codemie.stream.inter_chunk": inter,
        "codemie.stream.total": [t + sum(rng.sample(inter, 8)) for t in ttfc],
    }


def fake_document(
    samples: dict[str, list[float]],
    *,
    seed: int = 0,
    contract: dict[str, Any] | None = None,
    failures: int = 6,
    started_at: str = "2026-11-23T10:15:00Z",
) -> dict[str, Any]:
    """A summary.json document for ``samples`` with a plausible timeline and request table."""
    rng = random.Random(seed)
    duration = 60
    timeline = []
    for t in range(duration + 1):
        ramp = min(1.0, (t + 1) / 5)
        count = int((95 + rng.gauss(0, 4)) * ramp)
        failed = 1 if 38 <= t < 38 + failures else 0
        timeline.append([t, count, failed])
    total = sum(r[1] for r in timeline)
    names = {"keycloak.token": 0.12, "basejump.token": 0.08, "codemie.chat": 0.25, "basejump.chat": 0.2,
             "codemie.stream": 0.35}
    requests = {}
    for name, share in names.items():
        count = int(total * share)
        failed = failures if name == "codemie.stream" else 0
        requests[name] = {"count": count, "failures": failed, "rps": round(count / duration, 3)}
    doc: dict[str, Any] = {
        "apigate_version": "0.1.0",
        "started_at": started_at,
        "duration_s": float(duration),
        "target": {"keycloak": "http://127.0.0.1:8080/auth", "codemie": "http://127.0.0.1:8080/code-assistant-api",
                   "basejump": "http://127.0.0.1:8080/api/v1"},
        "settings": {"scenario": "all", "users": 20, "spawn_rate": 20, "shape": "steady", "workers": 0, "mock": None},
        "metrics": {name: summarize(values) for name, values in samples.items()},
        "requests": requests,
        "failures": [{"name": "codemie.stream", "reason": "no terminal chunk", "count": failures}] if failures else [],
        "timeline": timeline,
        "samples": "samples.json.gz",
    }
    if contract is not None:
        doc["contract"] = contract
    return doc


PASSING_CONTRACT: dict[str, Any] = {
    "codemie": {"passed": True, "checks": 214, "failures": []},
    "keycloak": {"passed": True, "checks": 96, "failures": []},
    "basejump": {"passed": True, "checks": 180, "failures": []},
}

FAILING_CONTRACT: dict[str, Any] = {
    **PASSING_CONTRACT,
    "basejump": {"passed": False, "checks": 180, "failures": [{
        "operation": "POST /chat/{chat_id}/message", "check": "response_schema_conformance",
        "reason": "'content' is a required property",
        "curl": "curl -X POST -H 'Authorization: Bearer ***' http://127.0.0.1:8080/api/v1/chat/7/message"}]},
}


def fake_summary(seed: int = 1, *, ttfc_shift_ms: float = 0.0, contract: dict[str, Any] | None = None,
                 with_samples: bool = True, failures: int = 6) -> Summary:
    samples = fake_samples(seed, ttfc_shift_ms=ttfc_shift_ms)
    doc = fake_document(samples, seed=seed, contract=contract, failures=failures)
    return parse_summary(doc, source=f"fake run {seed}", samples=samples if with_samples else None)


def write_run(folder: Path, summary_doc: dict[str, Any], samples: dict[str, list[float]] | None) -> Path:
    """Write ``summary.json`` (+ ``samples.json.gz``) into ``folder``; return the summary path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "summary.json"
    path.write_text(json.dumps(summary_doc), encoding="utf-8")
    if samples is not None:
        (folder / "samples.json.gz").write_bytes(gzip.compress(json.dumps(samples).encode()))
    return path


def fake_over_time(seed: int = 1, duration: int = 60) -> dict[str, Any]:
    """The blocks of a 60 s step-shaped run (4 steps of 5 users): latency windows, users, phases, one stopped user."""
    rng = random.Random(seed)
    window = 2
    phases = [{"label": f"step {k + 1}: {5 * (k + 1)} users", "start_s": 15 * k, "end_s": 15 * (k + 1)}
              for k in range(4)]
    latency = {}
    for metric, base in (("codemie.chat", 20.0), ("codemie.stream.ttfc", 150.0)):
        rows = []
        for t in range(0, duration, window):
            step = t // 15
            p50 = base * (1 + 0.15 * step) + rng.uniform(-1, 1)
            rows.append([t, 40 * (step + 1), round(p50, 3), round(p50 * 1.4 + (30 if t == 36 else 0), 3)])
        latency[metric] = rows
    users = [[t, 5 * (min(t // 15, 3) + 1), 5 * (min(t // 15, 3) + 1) - (1 if t >= 40 else 0) - (0.5 if t % 15 == 0
                                                                                                  else 0),
              0.5 if t % 15 == 0 else 0.0] for t in range(duration + 1)]
    results = []
    for k, phase in enumerate(phases):
        results.append({**phase, "requests": 1500 * (k + 1), "failures": k, "rps": 100.0 * (k + 1),
                        "metrics": {m: {"count": 300, "p50": rows[k * 7][2], "p95": rows[k * 7][3],
                                        "p99": rows[k * 7][3] * 1.1, "max": rows[k * 7][3] * 1.5}
                                    for m, rows in latency.items()}})
    return {
        "model": "closed",
        "latency_timeline": {"window_s": window, "metrics": latency},
        "users": {"requested": 20, "active_fraction": 0.97, "timeline": users,
                  "stopped": [{"user": "BasejumpChatUser", "reason": "basejump chat set-up POST chat: HTTP 403",
                               "count": 1}]},
        "phases": results,
    }


def fake_sweep_document(seed: int = 1) -> dict[str, Any]:
    """A rate sweep against a server with a capacity of 200 requests/s (SLO codemie.chat.p95 <= 300)."""
    rng = random.Random(seed)
    levels = []
    for rate, refined in ((50, False), (100, False), (150, False), (200, False), (225, True), (212.5, True),
                          (250, False)):
        over = max(0.0, rate - 200) * 25
        values = [105 + rng.expovariate(1 / 8) + over * rng.random() for _ in range(int(rate * 5))]
        metrics = {"codemie.chat": summarize(values)}
        passed = metrics["codemie.chat"]["p95"] <= 300
        good = sum(1 for v in values if v <= 300)
        levels.append({"level": rate, "refinement": refined, "duration_s": 5.0, "passed": passed, "bad": rate == 250,
                       "held": True, "violations": [] if passed else [
                           f"codemie.chat.p95 <= 300: {metrics['codemie.chat']['p95']:.1f} ms: breaks the limit"],
                       "throughput_rps": min(rate, 198.0), "goodput_rps": round(good / 5, 1),
                       "goodput_share": round(good / len(values), 4), "metrics": metrics,
                       "requests": {"codemie.chat": {"count": len(values), "failures": 0, "rps": rate}},
                       "failures": []})
    levels.sort(key=lambda lv: lv["level"])
    doc = fake_document({"codemie.chat": [105 + rng.expovariate(1 / 8) for _ in range(1000)]}, failures=0)
    doc["settings"] = {"scenario": "chat", "classes": ["CodemieChatUser"], "sweep": "rate=50,100,150,200,250",
                       "duration_s": 5.0}
    doc["model"] = "open"
    offsets = list(range(0, 7 * 8, 8))
    doc["phases"] = [{"label": f"{lv['level']:g} /s", "start_s": t, "end_s": t + 6, "requests": 1, "failures": 0,
                      "rps": 1.0, "metrics": {}} for lv, t in zip(levels, offsets, strict=True)]
    doc["latency_timeline"] = {"window_s": 1, "metrics": {"codemie.chat": [
        [t + k, 100, lv["metrics"]["codemie.chat"]["p50"], lv["metrics"]["codemie.chat"]["p95"]]
        for lv, t in zip(levels, offsets, strict=True) for k in range(6)]}}
    doc["sweep"] = {"by": "rate", "unit": "requests/s", "level_duration_s": 5.0,
                    "slos": ["codemie.chat.p95 <= 300", "failure rate codemie.chat <= 1%"],
                    "limits": [{"metric": "codemie.chat", "stat": "p95", "op": "<=", "value": 300.0}],
                    "levels": levels, "capacity": {"value": 200.0, "bound": "between", "last_pass": 200.0,
                                                   "first_fail": 212.5},
                    "stopped_early": "250 req/s failed badly", "summary_level": 200.0}
    return doc
