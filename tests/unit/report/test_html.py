from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from apigate.gate import default_thresholds, evaluate
from apigate.history import HistoryRun, read_runs, record_run
from apigate.redact import register_secret
from apigate.report import render_html, write_report
from report.conftest import SECRET
from report.fakes import FAILING_CONTRACT, PASSING_CONTRACT, fake_summary

SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def _history(tmp_path: Path) -> list[HistoryRun]:
    db = tmp_path / "h.sqlite"
    for i in range(4):
        record_run(db, fake_summary(20 + i, contract=PASSING_CONTRACT), label=f"main-{i}", passed=i != 2)
    return read_runs(db)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    register_secret(SECRET)
    base = fake_summary(2, contract=PASSING_CONTRACT)
    current = fake_summary(3, ttfc_shift_ms=40.0, contract=FAILING_CONTRACT)
    gate = evaluate(current, default_thresholds(), base)
    history = _history(tmp_path_factory.mktemp("history"))
    return {
        "full": render_html(current, gate=gate, baseline=base, history=history),
        "plain": render_html(fake_summary(4, with_samples=False)),
    }


def test_self_contained(pages: dict[str, str]) -> None:
    for page in pages.values():
        lowered = page.lower()
        assert "<script" not in lowered and "<link" not in lowered and "<img" not in lowered
        assert "url(" not in lowered and "@import" not in lowered
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", lowered)
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_plots_are_there_and_well_formed(pages: dict[str, str]) -> None:
    full = pages["full"]
    svgs = SVG.findall(full)
    titles = []
    for svg in svgs:
        root = ElementTree.fromstring(svg)  # each chart is well-formed XML
        titles.append(root.findtext("title") or "")
        assert root.get("viewBox") and root.get("role") == "img"
    # 9 percentile panels, ttfc histogram + cdf, timeline, 9 history trends
    assert len(svgs) == 9 + 2 + 1 + 9
    assert "codemie.stream.ttfc — histogram of 1,200 samples" in titles
    assert "Requests and failures per second" in titles
    assert any(t.startswith("codemie.stream.ttfc — p50 and p95 per run") for t in titles)
    for heading in ("Gate", "Latency percentiles", "Time to first chunk", "Throughput over time", "History",
                    "Contract"):
        assert f"<h2>{heading}</h2>" in full
    assert ">baseline</text>" in full  # legends of the side-by-side bars
    assert "regression codemie.stream.ttfc" in full


def test_without_samples_the_distribution_is_explained(pages: dict[str, str]) -> None:
    plain = pages["plain"]
    assert "No distribution plot" in plain and "<h2>History</h2>" not in plain and "<h2>Gate</h2>" not in plain
    assert len(SVG.findall(plain)) == 9 + 1


def test_secrets_never_reach_the_folder_and_markup_survives(tmp_path: Path) -> None:
    register_secret(SECRET)
    import dataclasses

    current = fake_summary(3, contract=FAILING_CONTRACT)
    api = current.contract["basejump"]
    leaky = dataclasses.replace(api.failures[0], reason=f"rejected client_secret={SECRET} and token: {SECRET}",
                                curl=f"curl -H 'Authorization: Bearer {SECRET}' -d password={SECRET}")
    current = dataclasses.replace(current, contract={**current.contract, "basejump": dataclasses.replace(
        api, failures=(leaky,))})
    gate = evaluate(current, default_thresholds())
    paths = write_report(tmp_path / "out", current, gate=gate)
    assert sorted(p.name for p in paths) == ["junit.xml", "report.html", "summary.md"]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text, path.name
    ElementTree.fromstring((tmp_path / "out" / "junit.xml").read_text(encoding="utf-8"))
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "client_secret=***" in html and html.count("<div") == html.count("</div>")
    assert not list((tmp_path / "out").glob(".*.tmp"))


