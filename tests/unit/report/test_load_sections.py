"""The reports' load sections: latency and users over time, phases, the open model, sweeps and capacity."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from apigate.gate import default_thresholds, evaluate
from apigate.report import render_html, render_markdown
from apigate.report import svg as svgs
from apigate.summary import parse_summary
from report.fakes import fake_document, fake_over_time, fake_samples, fake_sweep_document

SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def _titles(page: str) -> list[str]:
    return [ElementTree.fromstring(s).findtext("title") or "" for s in SVG.findall(page)]


def timed_run() -> object:
    doc = fake_document(fake_samples(1))
    doc["settings"]["shape"] = "step"
    doc.update(fake_over_time())
    return parse_summary(doc, source="timed")


def test_latency_and_users_over_time_with_the_steps_marked() -> None:
    summary = timed_run()
    page = render_html(summary, gate=evaluate(summary, default_thresholds()))
    titles = _titles(page)
    assert "codemie.chat — p50 and p95 per 2 s" in titles and "codemie.stream.ttfc — p50 and p95 per 2 s" in titles
    assert "Users over time" in titles
    for heading in ("Latency over time", "Users over time", "Per phase"):
        assert f"<h2>{heading}</h2>" in page
    over_time = next(s for s in SVG.findall(page) if "codemie.chat — p50 and p95" in s)
    assert over_time.count('stroke-dasharray="4 3"') == 4  # one dashed line where each step begins
    assert ">step 3: 15 users</text>" in over_time
    assert "BasejumpChatUser" in page and "basejump chat set-up POST chat: HTTP 403" in page
    assert "set up and sending 97.0% of their time" in page
    md = render_markdown(summary)
    assert "### Per phase (ms)" in md and "| step 2: 10 users | 15–30 |" in md
    assert "Stopped: BasejumpChatUser: basejump chat set-up POST chat: HTTP 403 (×1)" in md


def test_open_model_arrivals_are_reported() -> None:
    doc = fake_document(fake_samples(1))
    doc.update(model="open", users={"requested": 40, "active_fraction": 1.0, "timeline": [[0, 40, 40, 0]]},
               open_model={"rate": 50.0, "arrivals": "poisson", "pool": 40, "sent": 2990, "unsent": 3, "late": 12,
                           "late_no_free_user": 10, "late_after_ms": 50.0, "worst_lateness_ms": 812.5})
    summary = parse_summary(doc, source="open")
    page = render_html(summary)
    assert "Open model: 50 requests/s (poisson arrivals) sent by a pool of 40 users: 2,990 sent, 12 late" in page
    assert "worst lateness 812 ms" in page
    assert "- Open model: 50 requests/s (poisson), pool of 40 users: 2990 sent, 12 late (> 50 ms), 3 never sent" \
        in render_markdown(summary)


def test_sweep_shows_capacity_levels_and_latency_against_load() -> None:
    summary = parse_summary(fake_sweep_document(), source="sweep")
    page = render_html(summary, gate=evaluate(summary, default_thresholds()))
    assert "<b>Capacity: 200 requests/s (passed 200, failed 212.5)</b>" in page
    titles = _titles(page)
    assert "codemie.chat against load" in titles and "Throughput and goodput against load" in titles
    curve = next(s for s in SVG.findall(page) if "codemie.chat against load" in s)
    assert ">capacity 200</text>" in curve and ">SLO p95 &lt;= 300</text>" in curve
    assert curve.count(f'fill="{svgs.FAILURE}" stroke="white"') == 3 * 2  # failing levels' p50 and p95 dots
    assert "<h3>Per level</h3>" in page and "<h2>Per phase</h2>" not in page  # the levels are the phases
    md = render_markdown(summary)
    assert "**Capacity: 200 requests/s (passed 200, failed 212.5)**" in md
    assert "| 212.5 (refined) | ❌ fail |" in md and "| 200 | ✅ pass |" in md
    assert "Stopped early: 250 req/s failed badly." in md
