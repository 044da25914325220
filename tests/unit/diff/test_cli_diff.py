"""``apigate diff`` through the CLI entry point: exit codes, output formats, unreadable input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from apigate.cli import main
from apigate.resources import contract_path

from ._server import serving

CORPUS = Path(__file__).parent / "corpus"
CONTRACTS = ("codemie", "keycloak", "basejump")


def _pair(case: str) -> list[str]:
    return [str(CORPUS / case / "old.yaml"), str(CORPUS / case / "new.yaml")]


def _without_info_version(tmp_path: Path) -> Path:
    """A copy of the CodeMie contract whose `GET /v1/info` answer lost its required `version` field."""
    document = yaml.safe_load(contract_path("codemie").read_text(encoding="utf-8"))
    info = document["components"]["schemas"]["Info"]
    assert "version" in info["required"]
    info["required"].remove("version")
    del info["properties"]["version"]
    copy = tmp_path / "codemie-without-version.yaml"
    copy.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return copy


def _line_of_info_version() -> int:
    """The line of ``version:`` in the ``Info`` component of the pinned CodeMie contract, found by reading it."""
    lines = contract_path("codemie").read_text(encoding="utf-8").splitlines()
    start = lines.index("    Info:")
    return next(i + 1 for i, line in enumerate(lines[start:], start) if line.strip() == "version:")


def test_a_removed_required_response_field_is_one_explained_change(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    copy = _without_info_version(tmp_path)
    pinned = str(contract_path("codemie"))
    assert main(["diff", pinned, str(copy)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"diff {pinned} → {copy}",
        "breaking (1):",
        f"  Info.version  ({pinned}:{_line_of_info_version()} #/components/schemas/Info/properties/version)",
        "    breaking [response-required-property-removed] required response property removed (old: required; new: -)",
        "      Clients that read `version` no longer find it.",
        "    at GET /v1/info response 200 application/json: body.version",
        "1 change(s): 1 breaking, 0 warning, 0 compatible",
    ]


def test_json_output_of_the_same_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = _without_info_version(tmp_path)
    pinned = str(contract_path("codemie"))
    assert main(["diff", pinned, str(copy), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["summary"] == {"breaking": 1, "warning": 0, "compatible": 0}
    [finding] = payload["findings"]
    assert finding["rule"] == "response-required-property-removed"
    assert (finding["path"], finding["method"], finding["where"]) == (
        "/v1/info", "GET", "response 200 application/json: body.version"
    )
    assert (finding["old"], finding["new"]) == ("required", None)
    cause = {"side": "old", "document": pinned, "pointer": "#/components/schemas/Info/properties/version",
             "line": _line_of_info_version(), "label": "Info.version"}
    assert finding["cause"] == cause
    assert finding["explanation"] == "Clients that read `version` no longer find it."
    assert payload["changes_summary"] == {"changes": 1, "breaking": 1, "warning": 0, "compatible": 0}
    [change] = payload["changes"]
    assert change["cause"] == cause
    assert change["operations"] == ["GET /v1/info"]
    [effect] = change["effects"]
    assert effect["places"] == ["GET /v1/info response 200 application/json: body.version"]


@pytest.mark.parametrize("api", CONTRACTS)
def test_a_contract_against_itself_has_no_change(api: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(contract_path(api))
    assert main(["diff", path, path, "--fail-on", "warning"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 change(s): 0 breaking, 0 warning, 0 compatible"


def test_text_output_groups_the_effects_of_one_change(capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _pair("request-enum-changed")
    assert main(["diff", old, new]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"diff {old} → {new}",
        "breaking (1):",
        f"  GET /a parameter query mode  ({new}:19 #/paths/~1a/get/parameters/0/schema)",
        "    breaking [request-enum-value-removed] value(s) removed: b (old: a, b, c; new: a, c, d)",
        "      Requests that send a removed value of query parameter `mode` are refused (value(s) removed: b).",
        "    compatible [request-enum-value-added] value(s) added: d (old: a, b, c; new: a, c, d)",
        "      Nothing breaks: query parameter `mode` accepts more values (value(s) added: d).",
        "    at GET /a parameter query mode",
        "1 change(s) (2 findings): 1 breaking, 0 warning, 0 compatible",
    ]


def test_fail_on_warning(capsys: pytest.CaptureFixture[str]) -> None:
    pair = _pair("response-optional-property-removed")
    assert main(["diff", *pair]) == 0
    assert main(["diff", *pair, "--fail-on", "warning"]) == 1
    assert main(["diff", *_pair("compatible-only"), "--fail-on", "warning"]) == 0


def test_markdown_output(capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _pair("security-changed")
    assert main(["diff", old, new, "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert "| breaking | 1 | 1 |" in out
    assert "### Breaking changes (1)" in out
    assert f"**1. `GET /a`** (`{new}:7`, `#/paths/~1a/get`)" in out
    assert ("- **breaking** `security-changed`: accepted credentials changed (old: `Bearer`, new: `ApiKey`). "
            "Clients that call `GET /a` with the old credentials are refused (401): it accepted Bearer, it now "
            "needs ApiKey.") in out
    assert "- `GET /a security`" in out
    assert "Warnings and compatible changes" not in out


def test_documents_from_urls(capsys: pytest.CaptureFixture[str]) -> None:
    old = (CORPUS / "response-required-property-removed" / "old.yaml").read_text(encoding="utf-8")
    new = json.dumps(yaml.safe_load((CORPUS / "response-required-property-removed" / "new.yaml").read_text(encoding="utf-8")))
    with serving({"/old.yaml": old, "/new.json": new}) as origin:
        assert main(["diff", f"{origin}/old.yaml", f"{origin}/new.json"]) == 1
    out = capsys.readouterr().out
    assert "[response-required-property-removed] required response property removed" in out
    assert "at GET /a response 200 application/json: body.name" in out
    assert f"{origin}/old.yaml:" in out  # the removed property's line in the old document


BAD_DOCUMENTS = {
    "bad-yaml": ("openapi: 3.1.0\npaths: {\n", "not valid YAML or JSON"),
    "swagger": ("swagger: '2.0'\npaths: {}\n", "Swagger 2.0 is not supported"),
    "not-openapi": ("title: hello\n", "no 'openapi' field"),
    "openapi-4": ("openapi: 4.0.0\npaths: {}\n", "not an OpenAPI 3.x document"),
    "a-list": ("- 1\n- 2\n", "top level is not a mapping"),
    "bad-ref": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n"
        "        '200': {$ref: '#/components/responses/Missing'}\n",
        "unresolvable $ref '#/components/responses/Missing'",
    ),
    "bad-external-ref": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n"
        "        '200': {$ref: 'nowhere.yaml#/components/responses/X'}\n",
        "unresolvable $ref 'nowhere.yaml#/components/responses/X'",
    ),
    "ref-cycle": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n"
        "        '200': {$ref: '#/components/responses/A'}\ncomponents:\n  responses:\n"
        "    A: {$ref: '#/components/responses/B'}\n    B: {$ref: '#/components/responses/A'}\n",
        "$ref cycle",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_unreadable_input_exits_2_with_one_line(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, message = BAD_DOCUMENTS[name]
    bad = tmp_path / f"{name}.yaml"
    bad.write_text(text, encoding="utf-8")
    good = str(CORPUS / "path-removed" / "old.yaml")
    for argv in (["diff", str(bad), good], ["diff", good, str(bad)]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert len(captured.err.splitlines()) == 1
        assert captured.err.startswith("apigate diff: error: ")
        assert message in captured.err
        assert "Traceback" not in captured.err


def test_missing_file_and_unreachable_url_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = str(CORPUS / "path-removed" / "old.yaml")
    assert main(["diff", str(tmp_path / "missing.yaml"), good]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"apigate diff: error: {tmp_path / 'missing.yaml'}: no such file"]
    with serving({}) as origin:
        assert main(["diff", good, f"{origin}/openapi.json"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "404" in err
    assert main(["diff", good, str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
