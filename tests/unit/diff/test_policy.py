"""``apigate diff --policy FILE``: a team raises or lowers a rule's severity; ``--print-policy`` lists every rule."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from apigate.cli import main
from apigate.diff import RULES

CORPUS = Path(__file__).parent / "corpus"
ROOT = Path(__file__).parents[3]


def _pair(case: str) -> list[str]:
    return [str(CORPUS / case / "old.yaml"), str(CORPUS / case / "new.yaml")]


def _policy(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_raising_a_rule_to_breaking_fails_the_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pair = _pair("response-alternative-added")
    assert main(["diff", *pair]) == 0  # a new response alternative is a warning by default
    policy = _policy(tmp_path, '[severity]\n"response-alternative-added" = "breaking"  # as oasdiff judges it\n')
    assert main(["diff", *pair, "--policy", policy]) == 1
    assert "breaking [response-alternative-added, set by policy]" in capsys.readouterr().out


def test_lowering_a_rule_lets_the_diff_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pair = _pair("response-property-became-optional")
    assert main(["diff", *pair]) == 1
    policy = _policy(tmp_path, '[severity]\n"response-property-became-optional" = "warning"\n')
    assert main(["diff", *pair, "--policy", policy]) == 0
    assert main(["diff", *pair, "--policy", policy, "--fail-on", "warning"]) == 1
    assert "warning [response-property-became-optional, set by policy]" in capsys.readouterr().out


BAD_POLICIES = {
    "unknown-rule": ('[severity]\n"response-alternative-add" = "breaking"\n', "unknown rule 'response-alternative-add'"),
    "bad-severity": ('[severity]\n"path-added" = "fatal"\n',
                     "path-added = 'fatal': the severity must be one of breaking, warning, compatible"),
    "not-toml": ("[severity\n", "not valid TOML"),
    "unknown-section": ('[severities]\n"path-added" = "breaking"\n', "unknown section(s) severities"),
    "not-a-table": ('severity = "breaking"\n', "'severity' must be a table"),
}


@pytest.mark.parametrize("name", sorted(BAD_POLICIES))
def test_a_bad_policy_is_a_one_line_error(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, message = BAD_POLICIES[name]
    policy = _policy(tmp_path, text)
    assert main(["diff", *_pair("path-removed"), "--policy", policy]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith(f"apigate diff: error: {policy}: ")
    assert message in line


def test_a_missing_policy_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", *_pair("path-removed"), "--policy", str(tmp_path / "none.toml")]) == 2
    assert capsys.readouterr().err == f"apigate diff: error: {tmp_path / 'none.toml'}: no such policy file\n"


def test_the_printed_policy_lists_every_rule_and_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--print-policy"]) == 0
    text = capsys.readouterr().out
    assert tomllib.loads(text) == {"severity": {}}
    listed = dict(re.findall(r'^# "([a-z-]+)"\s+= "([a-z]+)"', text, flags=re.MULTILINE))
    assert listed == {rule: spec.severity for rule, spec in RULES.items()}
    uncommented = text.replace('# "response-alternative-added"', '"response-alternative-added"')
    assert tomllib.loads(uncommented) == {"severity": {"response-alternative-added": "warning"}}


def test_diff_without_documents_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff"]) == 2
    assert capsys.readouterr().err == "apigate diff: error: the OLD and NEW arguments are required\n"


def test_the_rule_ids_are_documented() -> None:
    """docs/diff.md has one table row per rule: its id, default severity, meaning and what breaks for a client."""
    text = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| (breaking|warning|compatible) \|", text, flags=re.MULTILINE))
    assert rows == {rule: spec.severity for rule, spec in RULES.items()}
