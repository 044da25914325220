"""What a load run does: scenario, users, spawn rate, duration, workers, shape, failure budget, mock knobs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from apigate.errors import UsageError
from apigate.mocks.settings import MockSettings

__all__ = ["SCENARIOS", "SHAPES", "USER_CLASSES", "LoadOptions", "parse_duration"]

Scenario = Literal["tokens", "chat", "stream", "all"]
Shape = Literal["steady", "ramp", "step", "spike"]

SCENARIOS: Final = ("tokens", "chat", "stream", "all")
SHAPES: Final = ("steady", "ramp", "step", "spike")
# Locust user classes (defined in load/) that make up each scenario
USER_CLASSES: Final[dict[str, tuple[str, ...]]] = {
    "tokens": ("KeycloakTokenUser", "BasejumpTokenUser"),
    "chat": ("CodemieChatUser", "BasejumpChatUser"),
    "stream": ("CodemieStreamUser",),
}
USER_CLASSES_ALL: Final = tuple(c for s in ("tokens", "chat", "stream") for c in USER_CLASSES[s])

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")  # "ms" before "m"
MAX_DURATION_S: Final = 366 * 24 * 3600.0


def parse_duration(text: str) -> float:
    """Seconds in ``30``, ``30s``, ``1m30s``, ``2h``, ``500ms``; :class:`UsageError` for anything else."""
    raw = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        seconds = float(raw)
    else:
        pos = 0
        seconds = 0.0
        for m in _DURATION.finditer(raw):
            if m.start() != pos:
                break
            value = float(m.group(1))
            seconds += value * {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}[m.group(2)]
            pos = m.end()
        if pos != len(raw) or not raw:
            raise UsageError(f"bad duration {text!r} (examples: 30s, 2m, 1m30s, 1h)")
    if seconds <= 0:
        raise UsageError(f"duration must be positive, not {text!r}")
    if seconds > MAX_DURATION_S:
        raise UsageError(f"duration {text!r} is longer than a year")
    return seconds


@dataclass(frozen=True)
class LoadOptions:
    """One load run. ``mock`` configures the embedded mock when one is started (ignored for live targets)."""

    scenario: Scenario = "all"
    users: int = 10
    spawn_rate: float = 10.0
    duration_s: float = 30.0
    workers: int = 0
    shape: Shape = "steady"
    max_failure_rate: float = 0.01
    mock: MockSettings = field(default_factory=MockSettings)
    progress_interval_s: float = 5.0
    # advanced (benchmarks): another locustfile in load/ and explicit user classes instead of the scenario's
    locustfile: str = "locustfile.py"
    classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise UsageError(f"--scenario must be one of {', '.join(SCENARIOS)}, not {self.scenario!r}")
        if self.shape not in SHAPES:
            raise UsageError(f"--shape must be one of {', '.join(SHAPES)}, not {self.shape!r}")
        if self.users < 1:
            raise UsageError("--users must be at least 1")
        if not 0 < self.spawn_rate < math.inf:
            raise UsageError("--spawn-rate must be a positive number")
        if not 0 < self.duration_s <= MAX_DURATION_S:
            raise UsageError("--duration must be positive and at most a year")
        if self.workers < 0:
            raise UsageError("--workers must not be negative")
        if not 0.0 <= self.max_failure_rate <= 1.0:
            raise UsageError("--max-failure-rate must be between 0 and 1")
        if not 0 < self.progress_interval_s < math.inf:
            raise UsageError("--progress-interval must be a positive number of seconds")

    @property
    def user_classes(self) -> tuple[str, ...]:
        if self.classes:
            return self.classes
        return USER_CLASSES_ALL if self.scenario == "all" else USER_CLASSES[self.scenario]

    def settings(self, *, with_mock: bool) -> dict[str, Any]:
        """The ``settings`` block of ``summary.json``."""
        mock: dict[str, Any] | None = None
        if with_mock:
            mock = {k: (sorted(v) if isinstance(v, frozenset) else v) for k, v in vars(self.mock).items()}
        return {
            "scenario": self.scenario,
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "duration_s": self.duration_s,
            "shape": self.shape,
            "workers": self.workers,
            "max_failure_rate": self.max_failure_rate,
            "mock": mock,
        }
