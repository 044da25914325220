"""A run over time: windows, phases, users per second."""

from __future__ import annotations

import pytest

from apigate.metrics import Recording
from apigate.timeseries import latency_windows, phase_results, stopped_users, timed_metrics, users_timeline, window_for

T0 = 1_700_000_000


@pytest.mark.parametrize(("duration", "window"), [(3, 1), (60, 1), (61, 2), (300, 5), (3600, 60), (10**6, 300)])
def test_window_for_gives_at_most_60_windows_of_a_round_length(duration: float, window: int) -> None:
    assert window_for(duration) == window


def test_only_api_latencies_are_followed_over_time() -> None:
    rec = Recording()
    for metric in ("codemie.stream.ttfc", "codemie.stream.chunks", "truth.stream.ttfc", "client.arrival.lateness",
                   "codemie.chat.from_send"):
        rec.add_sample(metric, 1.0, T0)
    assert timed_metrics(rec) == ["codemie.stream.ttfc", "codemie.chat.from_send"]
    assert list(latency_windows(rec, T0, 5)) == ["codemie.stream.ttfc", "codemie.chat.from_send"]


def test_phases_get_their_own_results() -> None:
    rec = Recording()
    for second in range(8):  # 4 s at 10 ms, then 4 s at 30 ms; 5 requests per second, one failure at t=6
        for k in range(5):
            rec.add_sample("codemie.chat", 10.0 if second < 4 else 30.0, T0 + second + k / 10)
            rec.add_request("codemie.chat", T0 + second + k / 10, "HTTP 503" if (second, k) == (6, 0) else None)
    phases = phase_results(rec, T0, [{"label": "step 1", "start_s": 0, "end_s": 4},
                                     {"label": "step 2", "start_s": 4, "end_s": 8}])
    assert [p["label"] for p in phases] == ["step 1", "step 2"]
    assert phases[0]["metrics"]["codemie.chat"]["p95"] == 10.0 and phases[1]["metrics"]["codemie.chat"]["p50"] == 30.0
    assert (phases[0]["requests"], phases[0]["failures"], phases[0]["rps"]) == (20, 0, 5.0)
    assert (phases[1]["requests"], phases[1]["failures"]) == (20, 1)


def test_users_timeline_carries_spawned_users_forward() -> None:
    rec = Recording()
    rec.add_activity(T0 + 1, 3.5, 0.5)
    rec.add_stop("BasejumpChatUser", "set-up: HTTP 403")
    rows = users_timeline(rec, T0, T0 + 3, {T0 + 1: 4, T0 + 3: 2})
    assert rows == [[0, 0, 0.0, 0.0], [1, 4, 3.5, 0.5], [2, 4, 0.0, 0.0], [3, 2, 0.0, 0.0]]
    assert stopped_users(rec) == [{"user": "BasejumpChatUser", "reason": "set-up: HTTP 403", "count": 1}]
