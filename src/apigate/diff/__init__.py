"""OpenAPI breaking-change diff (``apigate diff``) and drift of a live service from its pinned contract
(``apigate drift``)."""

from __future__ import annotations

from apigate.diff.cause import Cause
from apigate.diff.compare import diff_documents
from apigate.diff.group import Change, Effect, group_findings
from apigate.diff.loader import Document, load_document, parse_document
from apigate.diff.model import Finding
from apigate.diff.render import FORMATS, render, summary_line
from apigate.diff.rules import RULES, SEVERITIES, Rule, Severity, severity_rank

__all__ = [  # noqa: RUF022 - grouped by concept
    # documents
    "Document",
    "load_document",
    "parse_document",
    # comparing
    "RULES",
    "SEVERITIES",
    "Cause",
    "Finding",
    "Rule",
    "Severity",
    "diff_documents",
    "severity_rank",
    # grouping and output
    "Change",
    "Effect",
    "FORMATS",
    "group_findings",
    "render",
    "summary_line",
]
