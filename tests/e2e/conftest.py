"""End-to-end runs of the ``apigate`` command as a user runs it: a subprocess, real servers on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Completed:
    code: int
    stdout: str
    stderr: str


def _clean_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APIGATE_")}
    env.update(extra or {})
    return env


def apigate(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 600) -> Completed:
    proc = subprocess.run([sys.executable, "-m", "apigate", *args], capture_output=True, text=True,
                          env=_clean_env(env), cwd=cwd, timeout=timeout, check=False)
    return Completed(proc.returncode, proc.stdout, proc.stderr)
