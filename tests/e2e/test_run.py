"""``apigate run``: the main job produces a complete report folder, and leaks no secret anywhere.

The secret audit points the run at embedded mock services on three ports through ``APIGATE_*`` variables, exactly
as a user points it at live services, so every credential comes from the environment; then it greps every file
written (decompressing gzip, reading SQLite as bytes) and everything printed for the credentials and for any
JWT-shaped string (every issued token, Keycloak's and Basejump's, is a JWT).
"""

from __future__ import annotations

import gzip
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from apigate.config import DEMO
from apigate.mocks import MockProcess
from apigate.mocks.settings import MockSettings

from .conftest import apigate

pytestmark = pytest.mark.slow

REPORT_FILES = ("summary.json", "summary.md", "junit.xml", "report.html")
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.")


def test_smoke_run_against_the_embedded_mocks_writes_every_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = apigate("run", "--out", str(out), "--history-db", str(tmp_path / "history.sqlite"),
                     "--duration", "8s", "--users", "6")
    assert result.code == 0, result.stderr[-3000:]
    for name in REPORT_FILES:
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["contract"]) == {"codemie", "keycloak", "basejump"}
    assert all(api["passed"] for api in summary["contract"].values())
    for metric in ("keycloak.token.password", "codemie.chat", "basejump.chat", "codemie.stream.ttfc"):
        assert summary["metrics"][metric]["count"] > 0, metric
    ET.parse(out / "junit.xml")  # well-formed for CI systems
    html = (out / "report.html").read_text()
    assert html.count("<svg") >= 3
    assert "gate: PASSED" in result.stdout
    # the run is in the history
    history = apigate("history", "--db", str(tmp_path / "history.sqlite"), "--metric", "codemie.stream.ttfc")
    assert history.code == 0
    assert "smoke" in history.stdout


def test_bad_configuration_stops_the_run_before_anything_runs(tmp_path: Path) -> None:
    result = apigate("run", "--out", str(tmp_path / "run"), env={"APIGATE_CODEMIE_URL": "not a url"})
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "APIGATE_CODEMIE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def _every_byte_written(folder: Path) -> bytes:
    chunks = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            chunks.append(gzip.decompress(data) if path.suffix == ".gz" else data)
    return b"\n".join(chunks)


def test_no_secret_or_token_in_anything_written_or_printed(tmp_path: Path) -> None:
    secrets = [DEMO.password, DEMO.client_secret, DEMO.basejump_owner_key]
    # Short-lived tokens, so refreshed tokens are issued (and must be hidden) during the run too; contract breaks
    # in all three services and injected errors, so failures are recorded with reproducible curl lines that
    # carry Authorization, client-secret and password values: those are what the redaction must catch.
    settings = MockSettings(
        access_token_lifetime_s=5, first_chunk_ms=50, chunk_interval_ms=5, error_rate=0.02, seed=7,
        breaks=frozenset({"codemie.auth.expired_accepted", "keycloak.error.status", "basejump.roles.not_enforced"}),
    )
    mock = MockProcess(settings, split_ports=True)
    server = mock.start()
    try:
        env = {
            **server.environment(),
            "APIGATE_CODEMIE_CLIENT_ID": DEMO.confidential_client,  # password grant AND client_credentials
            "APIGATE_CODEMIE_CLIENT_SECRET": DEMO.client_secret,
        }
        assert {env["APIGATE_CODEMIE_PASSWORD"], env["APIGATE_BASEJUMP_API_KEY"]} <= set(secrets)
        out = tmp_path / "run"
        db = tmp_path / "history.sqlite"
        result = apigate("run", "--out", str(out), "--history-db", str(db), "--duration", "6s", "--users", "5",
                         env=env)
    finally:
        mock.stop()
    assert result.code == 1, result.stderr[-3000:]
    assert "gate: FAILED" in result.stdout
    written = _every_byte_written(out) + db.read_bytes()
    assert b"curl " in written  # failure records with reproducible requests were written...
    assert b"***" in written  # ...and something in them was redacted
    printed = (result.stdout + result.stderr).encode()
    for blob, where in ((written, "report folder"), (printed, "terminal output")):
        for secret in secrets:
            assert secret.encode() not in blob, f"{where} holds a secret"
        token = JWT.search(blob)
        assert token is None, f"{where} holds a token: {token.group(0)[:12]!r}..."
