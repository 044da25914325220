"""The real-Keycloak tier: these tests run against the Keycloak named by ``APIGATE_KEYCLOAK_URL``.

``tox -e keycloak`` (or ``python tests/keycloak/keycloak_server.py run -- pytest tests/keycloak``) starts a pinned
Keycloak with ``realm-codemie-prod.json`` imported, sets the variable, runs this folder and stops Keycloak. Without
the variable (the ordinary test run) every test here is skipped. To run the tier against your own Keycloak, import
the realm file there and set ``APIGATE_KEYCLOAK_URL`` (with the ``/auth`` context path if the server has one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from apigate.config import ENV_VARS, KeycloakTarget
from apigate.mocks import MockProcess
from apigate.mocks.settings import MockSettings

HERE = Path(__file__).resolve().parent
REALM_FILE = HERE / "realm-codemie-prod.json"
SKIP_REASON = ("real-Keycloak tier: run `tox -e keycloak` (starts Keycloak itself) or set APIGATE_KEYCLOAK_URL to a "
               "Keycloak with tests/keycloak/realm-codemie-prod.json imported")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("APIGATE_KEYCLOAK_URL"):
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(skip)


def realm_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REALM_FILE.read_text())
    return data


@pytest.fixture(scope="session")
def keycloak() -> KeycloakTarget:
    """The real Keycloak under test."""
    url = os.environ["APIGATE_KEYCLOAK_URL"].rstrip("/")
    realm = os.environ.get("APIGATE_KEYCLOAK_REALM") or realm_data()["realm"]
    return KeycloakTarget(url, realm, live=True)


@pytest.fixture(scope="session")
def mock_keycloak() -> Iterator[KeycloakTarget]:
    """``apigate mock`` in its own process, issuing tokens with the realm file's lifetimes."""
    realm = realm_data()
    settings = MockSettings(access_token_lifetime_s=realm["accessTokenLifespan"],
                            refresh_token_lifetime_s=realm["ssoSessionIdleTimeout"])
    with MockProcess(settings) as server:
        yield KeycloakTarget(server.urls["keycloak"], realm["realm"], live=False)


@dataclass(frozen=True)
class Completed:
    code: int
    output: str


@pytest.fixture
def apigate(keycloak: KeycloakTarget, tmp_path: Path) -> Callable[..., Completed]:
    """``apigate ARGS`` in a subprocess, with ``APIGATE_KEYCLOAK_URL``/``_REALM`` naming the Keycloak under test and
    no other ``APIGATE_*`` variable: CodeMie and Basejump are the embedded mock, logins use the test realm's demo
    accounts."""

    def run(*args: str, timeout: float = 600) -> Completed:
        env = {k: v for k, v in os.environ.items() if k not in ENV_VARS and k != "APIGATE_CONFIG"}
        env.update(APIGATE_KEYCLOAK_URL=keycloak.url, APIGATE_KEYCLOAK_REALM=keycloak.realm)
        proc = subprocess.run([sys.executable, "-m", "apigate", *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=timeout, check=False)
        return Completed(proc.returncode, proc.stdout + proc.stderr)

    return run
