"""``apigate diff OLD NEW``: breaking-change diff of two OpenAPI 3.x documents (files or http(s) URLs).

Findings are grouped by cause (the place of the documents that changed, with its line) and each says what breaks
for a client. ``--policy FILE`` raises or lowers rules' severities (``--print-policy`` lists every rule id).

Exit codes: 0 no finding at or above ``--fail-on``; 1 at least one (default: a breaking change); 2 unreadable input
(missing file, bad YAML/JSON, not OpenAPI 3.x, unresolvable ``$ref``, unreachable URL) or a bad policy file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "classify the changes between two OpenAPI documents as breaking, warning or compatible"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", metavar="OLD", nargs="?", help="the document clients were written against (file or URL)")
    parser.add_argument("new", metavar="NEW", nargs="?", help="the new document (file or URL)")
    add_output_arguments(parser)
    parser.add_argument("--policy", type=Path, metavar="FILE",
                        help="TOML file raising or lowering rules' severities (see --print-policy)")
    parser.add_argument("--print-policy", action="store_true",
                        help="print a policy file listing every rule id with its default severity, and exit")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="output format (default: text; markdown suits a pull-request comment)")
    parser.add_argument("--fail-on", choices=("breaking", "warning"), default="breaking",
                        help="exit 1 when a finding of this severity or worse exists (default: breaking)")


def fails(findings: list[object], fail_on: str) -> bool:
    from apigate.diff import Finding, severity_rank

    limit = severity_rank(fail_on)
    return any(isinstance(f, Finding) and severity_rank(f.severity) <= limit for f in findings)


def run(args: argparse.Namespace) -> int:
    import sys

    from apigate.diff import diff_documents, load_document, render
    from apigate.diff.policy import load_policy, policy_template
    from apigate.errors import UsageError

    if args.print_policy:
        sys.stdout.write(policy_template())
        return 0
    if args.old is None or args.new is None:
        raise UsageError("the OLD and NEW arguments are required")
    policy = load_policy(args.policy) if args.policy is not None else None
    old = load_document(args.old)
    new = load_document(args.new)
    findings = diff_documents(old, new)
    if policy is not None:
        findings = policy.apply(findings)
    sys.stdout.write(render(findings, args.format, old=args.old, new=args.new))
    return 1 if fails(list(findings), args.fail_on) else 0
