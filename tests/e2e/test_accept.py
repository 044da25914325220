"""Accepted known failures end to end. Catalogued mock breaks stand in for a live server's known bugs: the contract
fails; with its failures accepted it passes, showing them as known; another bug still fails; an entry that no longer
occurs is reported fixed; an expired entry fails. (Drift findings: tests/unit/diff/test_drift_accept.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Completed, apigate

pytestmark = pytest.mark.slow

KNOWN_BUG = "codemie.chat.500_on_input"  # "chat answers 500 when text contains a non-ASCII character"
NEW_BUG = "codemie.chat.missing_key"  # "non-stream chat omits the required 'generated' key"
SEED = "7"


def _contract(tmp: Path, name: str, *args: str) -> tuple[Completed, dict[str, Any]]:
    out = tmp / name
    result = apigate("contract", "--api", "codemie", "--max-examples", "5", "--seed", SEED, "--out", str(out), *args,
                     cwd=tmp, timeout=300)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8")) if (out / "summary.json").exists() else {}
    return result, summary.get("contract", {}).get("codemie", {})


def _entries(failures: list[dict[str, str]], expires: str = "") -> str:
    out = []
    for f in {(f["operation"], f["check"]): f for f in failures}.values():
        out += ["[[accept]]", 'api = "codemie"', f"operation = {json.dumps(f['operation'])}",
                f"check = {json.dumps(f['check'])}", 'reason = "500 on non-ASCII text (CODEMIE-123)"']
        out += [f"expires = {expires}"] if expires else []
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def known_bug(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """The failures the known bug causes (the contract fails on it)."""
    tmp = tmp_path_factory.mktemp("accept")
    result, api = _contract(tmp, "bug", "--break", KNOWN_BUG)
    assert result.code == 1, result.stdout[-3000:] + result.stderr[-2000:]
    assert api["failures"], api
    return tmp, api["failures"]


def test_accepted_known_failures_pass_and_are_shown_as_known(known_bug: tuple[Path, list[dict[str, str]]]) -> None:
    tmp, failures = known_bug
    accept = tmp / "accept.toml"
    accept.write_text(_entries(failures), encoding="utf-8")
    result, api = _contract(tmp, "accepted", "--break", KNOWN_BUG, "--accept", str(accept))
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert api["passed"] and api["failures"] == [] and len(api["known"]) >= len(failures)
    assert all("CODEMIE-123" in f["note"] for f in api["known"])
    assert "known failures — accepted by the accept file" in result.stdout
    assert "contract: PASSED (" in result.stdout and " known" in result.stdout
    junit = (tmp / "accepted" / "junit.xml").read_text(encoding="utf-8")
    assert 'name="contract.codemie.known"' in junit and 'failures="0"' in junit.split("\n", 2)[1]


def test_a_new_failure_still_fails(known_bug: tuple[Path, list[dict[str, str]]]) -> None:
    tmp, failures = known_bug
    accept = tmp / "accept-new.toml"
    accept.write_text(_entries(failures), encoding="utf-8")
    result, api = _contract(tmp, "new", "--break", KNOWN_BUG, "--break", NEW_BUG, "--accept", str(accept))
    assert result.code == 1
    assert api["known"] and api["failures"]
    assert {f["check"] for f in api["failures"]} & {"response_schema_conformance"}, api["failures"]


def test_an_entry_that_no_longer_occurs_is_reported_fixed(known_bug: tuple[Path, list[dict[str, str]]]) -> None:
    tmp, failures = known_bug
    accept = tmp / "accept-fixed.toml"
    accept.write_text(_entries(failures), encoding="utf-8")
    result, api = _contract(tmp, "fixed", "--accept", str(accept))  # the faithful mock: the bug is fixed
    assert result.code == 0, result.stdout[-3000:]
    assert api["accept_entries"] and {e["severity"] for e in api["accept_entries"]} == {"fixed"}
    assert "FIXED codemie" in result.stdout and "remove" in result.stdout


def test_an_expired_entry_fails_with_a_clear_reason(known_bug: tuple[Path, list[dict[str, str]]]) -> None:
    tmp, failures = known_bug
    accept = tmp / "accept-expired.toml"
    accept.write_text(_entries(failures, expires="2020-01-31"), encoding="utf-8")
    result, api = _contract(tmp, "expired", "--break", KNOWN_BUG, "--accept", str(accept))
    assert result.code == 1
    assert api["failures"] and {f["severity"] for f in api["failures"]} == {"expired"}
    assert "accepted until 2020-01-31" in result.stdout and "the acceptance expired" in result.stdout


def test_a_malformed_accept_file_is_a_one_line_usage_error(tmp_path: Path) -> None:
    accept = tmp_path / "accept.toml"
    accept.write_text('[[accept]]\napi = "codemie"\nchek = "x"\n', encoding="utf-8")
    for command in (["contract", "--api", "codemie"], ["gate", str(tmp_path)], ["drift", "--api", "codemie"]):
        result = apigate(*command, "--accept", str(accept), cwd=tmp_path, timeout=60)
        assert result.code == 2, (command, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "unknown key(s) chek" in result.stderr, command
