"""A team's diff policy: rules whose severity it judges differently from apigate's defaults.

A policy is a TOML file with a ``[severity]`` table, rule id -> ``"breaking"``, ``"warning"`` or ``"compatible"``::

    [severity]
    "response-alternative-added" = "breaking"   # a new oneOf/anyOf alternative in a response fails the gate
    "request-default-changed" = "breaking"
    "response-enum-value-added" = "compatible"

``apigate diff --print-policy`` prints a template listing every rule id with its default severity and meaning.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from apigate.diff.model import Finding
from apigate.diff.rules import RULES, SEVERITIES, Severity
from apigate.errors import ConfigError

__all__ = ["Policy", "load_policy", "policy_template"]


@dataclass(frozen=True)
class Policy:
    """``severities`` maps rule ids to the severity the team gives them."""

    severities: Mapping[str, Severity]
    source: str = "policy"

    def apply(self, findings: Sequence[Finding]) -> list[Finding]:
        """The findings with the policy's severities, most severe first."""
        out = [replace(f, severity=self.severities[f.rule]) if f.rule in self.severities else f for f in findings]
        out.sort(key=Finding.sort_key)
        return out


def load_policy(path: Path) -> Policy:
    """Read a policy file; anything wrong in it is a one-line :class:`ConfigError` (exit 2)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such policy file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown_sections = sorted(set(data) - {"severity"})
    if unknown_sections:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(unknown_sections)} (a policy has [severity])")
    table = data.get("severity", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'severity' must be a table of rule = severity")
    severities: dict[str, Severity] = {}
    for rule, severity in table.items():
        if rule not in RULES:
            raise ConfigError(f"{path}: unknown rule {rule!r} (`apigate diff --print-policy` lists them)")
        if severity not in SEVERITIES:
            raise ConfigError(f"{path}: {rule} = {severity!r}: the severity must be one of {', '.join(SEVERITIES)}")
        severities[rule] = cast(Severity, severity)
    return Policy(severities, str(path))


def policy_template() -> str:
    """A policy file that changes nothing: every rule, commented out with its default severity and meaning."""
    lines = [
        "# apigate diff policy (`apigate diff OLD NEW --policy FILE`): raise or lower a rule's severity.",
        "# Uncomment a line and set breaking, warning or compatible. `--fail-on` (default: breaking) decides which",
        "# severities fail the command.",
        "",
        "[severity]",
    ]
    width = max(len(rule) for rule in RULES) + 2
    for rule, spec in RULES.items():
        key, value = f'"{rule}"', f'"{spec.severity}"'
        lines.append(f"# {key:<{width}} = {value:<12}  # {spec.summary}")
    return "\n".join(lines) + "\n"
