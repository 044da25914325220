"""The stream scenario measures both delta styles of the real server without a failed stream: thought deltas (the
default agent, the mock's default) and generated_chunk deltas; with time to first answer text and chunks per second."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_load_smoke import FAST_MOCK, apigate_load, summary_of

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("style", ["thought", "generated_chunk"])
def test_stream_scenario_measures_either_delta_style(tmp_path: Path, style: str) -> None:
    out = tmp_path / style
    proc = apigate_load("--scenario", "stream", "-u", "3", "-t", "3s", "--out", str(out), *FAST_MOCK,
                        "--stream-deltas", style)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = summary_of(out)
    streams = summary["requests"]["codemie.stream"]
    assert streams["count"] > 0 and streams["failures"] == 0, summary["failures"]
    m = summary["metrics"]
    assert summary["settings"]["mock"]["stream_deltas"] == style
    # the mock's first piece already carries text: the first answer text is the first chunk
    assert m["codemie.stream.ttft"]["count"] == m["codemie.stream.ttfc"]["count"] == streams["count"]
    assert m["codemie.stream.ttft"]["p50"] == pytest.approx(m["codemie.stream.ttfc"]["p50"], abs=0.5)
    # 4 pieces and the terminal chunk, 5 ms apart: 4 chunks in 20 ms
    rate = m["codemie.stream.chunks_per_s"]
    assert rate["unit"] == "chunks/s" and 120 <= rate["p50"] <= 220
    assert m["codemie.stream.inter_chunk"]["count"] == 4 * streams["count"]
