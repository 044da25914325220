"""``apigate diff OLD NEW``: breaking-change diff of two OpenAPI 3.x documents (files or http(s) URLs).

Exit codes: 0 no finding at or above ``--fail-on``; 1 at least one (default: a breaking change); 2 unreadable input
(missing file, bad YAML/JSON, not OpenAPI 3.x, unresolvable ``$ref``, unreachable URL).
"""

from __future__ import annotations

import argparse

HELP = "classify the changes between two OpenAPI documents as breaking, warning or compatible"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", metavar="OLD", help="the document clients were written against (file or URL)")
    parser.add_argument("new", metavar="NEW", help="the new document (file or URL)")
    add_output_arguments(parser)


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="output format (default: text)")
    parser.add_argument("--fail-on", choices=("breaking", "warning"), default="breaking",
                        help="exit 1 when a finding of this severity or worse exists (default: breaking)")


def fails(findings: list[object], fail_on: str) -> bool:
    from apigate.diff import Finding, severity_rank

    limit = severity_rank(fail_on)
    return any(isinstance(f, Finding) and severity_rank(f.severity) <= limit for f in findings)


def run(args: argparse.Namespace) -> int:
    import sys

    from apigate.diff import diff_documents, load_document, render

    old = load_document(args.old)
    new = load_document(args.new)
    findings = diff_documents(old, new)
    sys.stdout.write(render(findings, args.format, old=args.old, new=args.new))
    return 1 if fails(list(findings), args.fail_on) else 0
