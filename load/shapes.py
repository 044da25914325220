"""Load shapes for ``apigate load --shape``: ``ramp``, ``step`` and ``spike`` (``steady`` needs none).

Each reads the run's ``-u`` (peak users), ``-r`` (spawn rate) and ``-t`` (duration) and stops at the end of it.
``locustfile.py`` imports the one named by ``APIGATE_LOAD_SHAPE``; Locust uses a shape class found in the locustfile.
"""

from __future__ import annotations

import math

from locust import LoadTestShape

from apigate.loadrun.options import RAMP_UNTIL, SPIKE, STEPS  # the phases the summary reports


class _Shape(LoadTestShape):
    abstract = True
    use_common_options = True

    def _params(self) -> tuple[int, float, float]:
        assert self.runner is not None
        opts = self.runner.environment.parsed_options
        users = int(getattr(opts, "num_users", None) or 1)
        rate = float(getattr(opts, "spawn_rate", None) or users)
        duration = float(getattr(opts, "run_time", None) or 60)
        return users, rate, duration

    def users_at(self, fraction: float, peak: int) -> int:
        raise NotImplementedError

    def tick(self) -> tuple[int, float] | None:
        peak, rate, duration = self._params()
        t = self.get_run_time()
        if t >= duration:
            return None
        return max(1, self.users_at(t / duration, peak)), rate


class RampShape(_Shape):
    """Users grow linearly from 1 to the peak over the first 80% of the run, then hold."""

    abstract = False

    def users_at(self, fraction: float, peak: int) -> int:
        return math.ceil(peak * min(1.0, fraction / RAMP_UNTIL))


class StepShape(_Shape):
    """Four equal steps: a quarter, half, three quarters, then all of the peak users."""

    abstract = False

    def users_at(self, fraction: float, peak: int) -> int:
        return math.ceil(peak * (min(STEPS - 1, int(fraction * STEPS)) + 1) / STEPS)


class SpikeShape(_Shape):
    """A fifth of the peak, the full peak for the middle 20% of the run, then a fifth again."""

    abstract = False

    def users_at(self, fraction: float, peak: int) -> int:
        return peak if SPIKE[0] <= fraction < SPIKE[1] else math.ceil(peak / 5)


SHAPES = {"ramp": RampShape, "step": StepShape, "spike": SpikeShape}
