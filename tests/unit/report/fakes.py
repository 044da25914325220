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
