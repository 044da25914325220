"""The open model's arrivals: when each request is meant to be sent, whatever the answers to earlier ones do.

A closed loop of N users sends a new request when an answer comes back, so a server that slows down is sent fewer
requests and its slow period is under-sampled (coordinated omission). In the open model requests *arrive* at a
fixed rate — evenly spaced (``constant``) or as a Poisson process (``poisson``, exponential gaps) — and each one's
latency counts from its **intended** send time: a request the load generator could only send late (every user was
busy, or the generator itself was too slow) is charged that delay, as a real client arriving then would be.

:class:`ArrivalSchedule` hands out intended send times in order (a Locust user takes the next one when it is free,
then sleeps until it); :meth:`ArrivalSchedule.untaken` counts the arrivals that were due by the end of the run but
that no user took, so that arrivals never sent are reported, not silently dropped. Times are ``time.perf_counter()``
values.
"""

from __future__ import annotations

import math
import random
from typing import Final, Literal

__all__ = ["ARRIVALS", "LATE_AFTER_MS", "ArrivalSchedule", "Arrivals"]

Arrivals = Literal["constant", "poisson"]
ARRIVALS: Final = ("constant", "poisson")
# an arrival sent more than this after its intended time counts as late: a busy machine's scheduling jitter stays
# below it (measured here: p99 ~3-8 ms, worst ~40 ms with six other processes on two cores); a generator that has
# fallen behind goes far beyond. Every arrival's lateness is recorded anyway (client.arrival.lateness).
LATE_AFTER_MS: Final = 50.0


class ArrivalSchedule:
    """Intended send times of one stream of arrivals at ``rate`` per second; starts at the first :meth:`take`."""

    def __init__(self, rate: float, kind: Arrivals = "constant", *, seed: int | str | None = None) -> None:
        if not 0 < rate < math.inf:
            raise ValueError(f"an arrival rate must be positive and finite, not {rate!r}")
        if kind not in ARRIVALS:
            raise ValueError(f"arrivals must be one of {', '.join(ARRIVALS)}, not {kind!r}")
        self.rate = rate
        self.kind = kind
        self._random = random.Random(seed)
        self.start: float | None = None
        self._next = 0.0  # the next intended time to hand out
        self.taken = 0  # intended times handed out

    def take(self, now: float) -> float:
        """The next intended send time (the first one is ``now``: the schedule starts when the first user is ready)."""
        if self.start is None:
            self.start = self._next = now
        intended = self._next
        self.taken += 1
        if self.kind == "constant":
            self._next = self.start + self.taken / self.rate  # no accumulated rounding
        else:
            self._next += self._random.expovariate(self.rate)
        return intended

    def untaken(self, until: float) -> int:
        """How many arrivals were due at or before ``until`` but never handed out (no user took them in time)."""
        if self.start is None or self._next > until:
            return 0
        if self.kind == "constant":
            return math.floor((until - self._next) * self.rate + 1e-9) + 1
        probe = random.Random()  # replay the coming gaps on a copy of the generator: the schedule is not consumed
        probe.setstate(self._random.getstate())
        count, t = 0, self._next
        while t <= until:
            count += 1
            t += probe.expovariate(self.rate)
        return count
