"""What a contract finding means for the verdict: one notion shared by results, ``summary.json``, reports, the gate
and the history.

A check that did not pass is a *finding*; its :class:`Severity` says whether it fails a run:

* ``failure``    — a documented or observed constraint was broken: fails the gate;
* ``assumption`` — only constraints the contract marks as assumed (``x-apigate-assumed``) were broken: a warning;
* ``http_layer`` — a framework or transport answer (400, 405, 413, 414, 431 without the service's error body) to a
  method, path or header the contract does not declare: a warning;
* ``known``      — a failure listed in the accept file (a known bug of the server): shown, does not fail;
* ``expired``    — a failure whose acceptance expired, or an expired accept entry: fails;
* ``fixed``      — an accept entry that matched nothing in this run (remove it from the file): shown, does not fail.

Warnings fail only a ``--strict`` run.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = ["WARNINGS", "Severity"]


class Severity(StrEnum):
    FAILURE = "failure"
    ASSUMPTION = "assumption"
    HTTP_LAYER = "http_layer"
    KNOWN = "known"
    EXPIRED = "expired"
    FIXED = "fixed"

    @property
    def is_warning(self) -> bool:
        return self in WARNINGS

    def fails(self, *, strict: bool = False) -> bool:
        """Whether a finding of this severity fails the run (warnings only when ``strict``)."""
        return self in (Severity.FAILURE, Severity.EXPIRED) or (strict and self.is_warning)

    @property
    def label(self) -> str:
        """How reports name it: ``warning (assumption)``, ``known failure``, ..."""
        return _LABELS[self]


WARNINGS: Final = frozenset({Severity.ASSUMPTION, Severity.HTTP_LAYER})
_LABELS: Final = {
    Severity.FAILURE: "failure",
    Severity.ASSUMPTION: "warning (assumption)",
    Severity.HTTP_LAYER: "warning (HTTP layer)",
    Severity.KNOWN: "known failure (accepted)",
    Severity.EXPIRED: "expired acceptance",
    Severity.FIXED: "fixed (accept entry no longer occurs)",
}
