"""Output folders named on the command line: created before any work, a bad one is a one-line usage error."""

from __future__ import annotations

from pathlib import Path

from apigate.errors import UsageError

__all__ = ["make_out_dir"]


def make_out_dir(path: Path, what: str = "--out") -> Path:
    """Create ``path`` (and its parents) unless it exists as a folder; :class:`UsageError` (exit 2) if it cannot be.

    Called before a run starts, so that an existing file or an unwritable place stops it at once instead of after
    minutes of measuring with nowhere to write the results.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{what} {path}: exists and is not a folder") from None
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot create the folder: {exc.strerror or exc}") from None
    return path
