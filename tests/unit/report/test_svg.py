from __future__ import annotations

import math
from xml.etree import ElementTree

import pytest

from apigate.report import svg


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0, 100, [0, 20, 40, 60, 80, 100]), (0, 7.3, [0, 2, 4, 6, 8]), (150, 200, [150, 160, 170, 180, 190, 200]),
     (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1.0])],
)
def test_nice_ticks(low: float, high: float, expected: list[float]) -> None:
    assert svg.nice_ticks(low, high, 5) == pytest.approx(expected)


def _parse(text: str) -> ElementTree.Element:
    root = ElementTree.fromstring(text)
    assert root.tag == "svg" and root.get("viewBox")
    return root


def test_charts_are_well_formed_with_escaped_text() -> None:
    series = [svg.Series("base <old>", [1.0, 2.0, 3.0, 4.0], svg.BASELINE), svg.Series("cur & new", [2.0, 3.0, 4.0, 9.0])]
    bars = _parse(svg.grouped_bars(["p50", "p90", "p95", "p99"], series, title="a < b"))
    assert bars.findtext("title") == "a < b"
    assert len(bars.findall("rect")) == 8 + 2  # bars + legend swatches
    line = _parse(svg.line_chart([0, 1, 2], [svg.Series("rps", [1.0, math.nan, 3.0])],
                                 bars=svg.Series("failures", [0.0, 1.0, 0.0], svg.FAILURE), title="t"))
    assert line.find("polyline") is not None
    hist = _parse(svg.histogram([svg.Series("x", [float(i % 50) for i in range(500)] + [10_000.0])], title="h"))
    assert "1 samples above" in "".join(hist.itertext())
    _parse(svg.cdf_chart([svg.Series("x", [1.0, 2.0, 3.0])], title="c"))


def test_charts_survive_empty_and_constant_data() -> None:
    _parse(svg.histogram([svg.Series("x", [])], title="empty"))
    _parse(svg.histogram([svg.Series("x", [5.0] * 10)], title="constant"))
    _parse(svg.cdf_chart([svg.Series("x", [])], title="empty"))
    _parse(svg.line_chart([], [svg.Series("x", [])], title="empty"))
    _parse(svg.grouped_bars(["p50"], [svg.Series("x", [0.0])], title="zero"))
