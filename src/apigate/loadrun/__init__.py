"""Running the Locust scenarios headless as subprocesses and turning what they measured into ``summary.json``.

Entry point: :func:`run_load` (used by ``apigate load`` and ``apigate run``).
"""

from __future__ import annotations

from apigate.loadrun.options import SCENARIOS, SHAPES, LoadOptions, parse_duration
from apigate.loadrun.runner import LoadResult, run_load, write_summary

__all__ = ["SCENARIOS", "SHAPES", "LoadOptions", "LoadResult", "parse_duration", "run_load", "write_summary"]
