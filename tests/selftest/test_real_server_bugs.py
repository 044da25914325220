"""A stand-in for a live CodeMie with the real server's genuine bugs: ``apigate contract --api codemie`` against the
embedded mock with ``--break codemie.real_server_bugs`` must report those bugs and nothing else.

The real backend (0.16.0, served from its source) answers 500 to a malformed JSON body, to a JSON body that is a
number (or a boolean), to a body without Content-Type or sent as ``text/plain``, to ``background_task: true`` with
``text: null``, and on the assistants list to ``filters`` that is JSON but not an object and to ``page=-1``;
everything else the suite checks it does as documented. The group of breaks copies exactly those bugs into the
otherwise faithful mock, so a false alarm of the suite on a faithful server shows up here as an extra failure.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from apigate.config import ENV_VARS
from apigate.mocks.settings import BREAK_GROUPS

pytestmark = pytest.mark.slow

GROUP = "codemie.real_server_bugs"
BUG_CHECKS = {  # the explicit check that finds each bug
    "codemie.bug.malformed_json_500": "body.malformed_json",
    "codemie.bug.numeric_body_500": "body.not_an_object",
    "codemie.bug.content_type_500": "body.text_plain_content_type",
    "codemie.bug.background_without_text_500": "chat.background_without_text",
    "codemie.assistants.filters_500": "assistants.filters_not_object",
    "codemie.assistants.negative_page_500": "assistants.negative_page",
}
ALSO_CONTENT_TYPE = "body.no_content_type"


def _is_a_known_bug(curl: str) -> bool:
    """Whether schemathesis' own server-error finding is one of the bugs: on the list, ``filters`` that is not an
    object or a negative ``page``; on the chat, a body that is not JSON, a JSON number or boolean, or one sent without
    a JSON Content-Type."""
    url = urlsplit(shlex.split(curl)[-1])
    if url.path.endswith("/v1/assistants"):
        query = parse_qs(url.query)
        filters = [json.loads(f) for f in query.get("filters", []) if _is_json(f)]
        pages = query.get("page", [])
        return any(not isinstance(f, dict) for f in filters) or any(p.strip().startswith("-") for p in pages)
    if "content-type: application/json" not in curl.lower():
        return True
    words = shlex.split(curl)
    if "-d" not in words:
        return False
    try:
        value = json.loads(words[words.index("-d") + 1])
    except ValueError:
        return True
    return isinstance(value, int | float)  # a boolean is one too


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_the_group_is_the_six_bugs() -> None:
    assert set(BREAK_GROUPS[GROUP]) == set(BUG_CHECKS)


def test_a_server_with_the_real_bugs_fails_on_exactly_those(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS and k != "APIGATE_CONFIG"}
    proc = subprocess.run(
        [sys.executable, "-m", "apigate", "contract", "--api", "codemie", "--break", GROUP, "--max-examples", "5",
         "--seed", "20261204", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path, check=False,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    failures = json.loads((tmp_path / "summary.json").read_text())["contract"]["codemie"]["failures"]
    checks = {f["check"] for f in failures}
    expected = {*BUG_CHECKS.values(), ALSO_CONTENT_TYPE}
    assert expected <= checks, f"bugs not reported: {sorted(expected - checks)}"
    unexpected = [f for f in failures if f["check"] not in expected
                  and not (f["check"] == "not_a_server_error" and _is_a_known_bug(f["curl"]))]
    assert not unexpected, "false alarms:\n" + "\n".join(f"{f['operation']} {f['check']}: {f['reason']}\n  {f['curl']}"
                                                         for f in unexpected)


# ---- the documented accept file: green on the known bugs, red on a new one ---------------------------------------

ACCEPT_FILE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "codemie-0.16-accept.toml"
NEW_BUGS = ("codemie.chat.500_on_input", "codemie.assistants.pagination")  # on the operations the file accepts bugs of


def _contract(tmp_path: Path, *breaks: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS and k != "APIGATE_CONFIG"}
    args = [arg for name in breaks for arg in ("--break", name)]
    proc = subprocess.run(
        [sys.executable, "-m", "apigate", "contract", "--api", "codemie", *args, "--accept", str(ACCEPT_FILE),
         "--max-examples", "5", "--seed", "20261204", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path, check=False,
    )
    summary = json.loads((tmp_path / "summary.json").read_text()) if (tmp_path / "summary.json").exists() else {}
    return proc, summary.get("contract", {}).get("codemie", {})


@pytest.fixture(scope="module")
def accepted_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str],
                                                                                 dict[str, Any]]]:
    runs = {"known": (GROUP,), "new": (GROUP, *NEW_BUGS)}
    dirs = {name: tmp_path_factory.mktemp(name) for name in runs}
    with ThreadPoolExecutor(2) as pool:
        done = pool.map(lambda name: _contract(dirs[name], *runs[name]), runs)
        return dict(zip(runs, done, strict=True))


def test_the_accept_file_keeps_a_server_with_only_the_known_bugs_green(accepted_runs: dict[str, Any]) -> None:
    proc, codemie = accepted_runs["known"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert codemie["failures"] == []
    known = {f["check"] for f in codemie["known"]}
    assert {*BUG_CHECKS.values(), ALSO_CONTENT_TYPE} <= known, sorted(known)
    assert "known" in proc.stdout


def test_the_accept_file_does_not_swallow_a_new_bug(accepted_runs: dict[str, Any]) -> None:
    """A 500 on other chat input and a missing key on the list — on the operations whose bugs the file accepts —
    still fail; the known bugs stay known. (tests/unit/test_accept.py: a new 500 of the same check and operation.)"""
    proc, codemie = accepted_runs["new"]
    assert proc.returncode == 1, proc.stdout[-3000:]
    failures = {(f["operation"], f["check"]) for f in codemie["failures"]}
    assert ("POST /v1/assistants/{assistant_id}/model", "chat.non_ascii_text") in failures, sorted(failures)
    assert any(op == "GET /v1/assistants" and check not in BUG_CHECKS.values() for op, check in failures), failures
    assert {f["check"] for f in codemie["known"]} >= set(BUG_CHECKS.values())
