"""Defaults of a contract run (a module of constants, cheap to import for the CLI's parser)."""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_MAX_EXAMPLES", "DEFAULT_WORKERS"]

DEFAULT_MAX_EXAMPLES: Final = 25  # per operation and generation phase
DEFAULT_WORKERS: Final = 1  # schemathesis workers: hypothesis' lambda introspection is not thread-safe on 3.11
