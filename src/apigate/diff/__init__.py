"""OpenAPI breaking-change diff (``apigate diff``) and drift of a live service from its pinned contract
(``apigate drift``)."""

from __future__ import annotations

from apigate.diff.compare import diff_documents
from apigate.diff.loader import Document, load_document, parse_document
from apigate.diff.model import RULES, SEVERITIES, Finding, Severity, severity_rank
from apigate.diff.render import FORMATS, render, summary_line

__all__ = [  # noqa: RUF022 - grouped by concept
    # documents
    "Document",
    "load_document",
    "parse_document",
    # comparing
    "RULES",
    "SEVERITIES",
    "Finding",
    "Severity",
    "diff_documents",
    "severity_rank",
    # output
    "FORMATS",
    "render",
    "summary_line",
]
