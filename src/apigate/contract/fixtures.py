"""Known-good state for each API's run, made through apigate's clients before schemathesis starts.

* Keycloak: the realm (pinned as the ``realm`` path parameter) and a token for ``userinfo``.
* CodeMie: a Keycloak token (renewed as it expires), the configured assistant (the demo assistant
  ``05959338-06de-477d-9cc3-08369f858057`` on the mock) and its slug, read from the service, and the slug of a
  prebuilt assistant.
* Basejump: the quickstart — a new user with its refresh and access tokens, a team it belongs to, a database
  connection attached to the team, and a chat: their uuids are pinned as path/query parameters.

Each fixture gives the pinned parameters, the credential sources of the contract's security schemes and the
auth-probe kits.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from apigate.clients.basejump import BasejumpClient, DatabaseSpec
from apigate.config import Target
from apigate.contract.auth import CredentialSource, bearer, header
from apigate.contract.auth_probes import ApiKeyKit, BearerKit, Kit
from apigate.contract.idp import TokenSupply
from apigate.errors import HTTPError
from apigate.redact import Secret

__all__ = ["Fixture", "basejump_fixture", "codemie_fixture", "keycloak_fixture"]


@dataclass
class Fixture:
    base_url: str
    parameters: dict[str, Any]
    credentials: CredentialSource
    kits: dict[str, Kit]
    extras: dict[str, Any] = field(default_factory=dict)
    closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in self.closers:
            with contextlib.suppress(Exception):
                closer()


def _bearer_kit(supply: TokenSupply) -> BearerKit:
    return BearerKit(valid=supply.valid, expired=supply.expired, foreign_issuer=supply.foreign_issuer)


def keycloak_fixture(target: Target) -> Fixture:
    supply = TokenSupply(target, scope="openid")
    fixture = Fixture(
        base_url=target.keycloak.url,
        parameters={"path.realm": target.keycloak.realm},
        credentials={"KeycloakBearer": bearer(supply.valid)},
        kits={"KeycloakBearer": _bearer_kit(supply)},
        extras={"supply": supply},
        closers=[supply.close],
    )
    supply.start()
    return fixture


def codemie_fixture(target: Target) -> Fixture:
    from apigate.clients.codemie import CodemieClient

    supply = TokenSupply(target)
    fixture = Fixture(
        base_url=target.codemie.url,
        parameters={"path.assistant_id": target.codemie.assistant_id},
        credentials={"BearerAuth": bearer(supply.valid)},
        kits={"BearerAuth": _bearer_kit(supply)},
        extras={"supply": supply},
        closers=[supply.close],
    )
    supply.start()
    with CodemieClient.from_target(target, auth=supply.auth) as client:
        assistant = client.get_assistant(target.codemie.assistant_id)
        try:
            prebuilt = client.list_prebuilt()
        except HTTPError:  # the operation's own checks report it; the other operations still run
            prebuilt = []
    if assistant.slug:
        fixture.parameters["path.slug"] = assistant.slug
    prebuilt_slug = next((p["slug"] for p in prebuilt if isinstance(p.get("slug"), str) and p["slug"]), None)
    if prebuilt_slug is not None:
        fixture.parameters["path.prebuilt_slug"] = prebuilt_slug
    return fixture


def basejump_fixture(target: Target) -> Fixture:
    client = BasejumpClient.from_target(target)
    spec = DatabaseSpec(
        database_type="postgres", host="db.example.com", port=5432, database_name="hr", username="basejump_reader",
        password=Secret("apigate-demo-db-password"), schemas=({"schema_nm": "public"},),
        data_source_desc="HR database", database_desc="Employees, departments and salaries",
    )
    name = f"apigate-{secrets.token_hex(4)}"
    quick = client.quickstart(name, spec, team_name=f"{name}-team")
    auth = quick.client.auth
    assert auth is not None
    refresh = lambda: auth.refresh_token_set().access_token.reveal()  # noqa: E731
    access = auth.token
    access()
    fixture = Fixture(
        base_url=target.basejump.url,
        parameters={
            "path.user_uuid": quick.user.user_uuid,
            "query.user_uuid": quick.user.user_uuid,
            "path.team_uuid": quick.team.team_uuid,
            "path.conn_uuid": quick.connection.conn_uuid,
            "path.chat_uuid": quick.chat.chat_uuid,
        },
        credentials={
            "ClientSecret": header("client-secret", target.basejump.api_key.reveal),
            "RefreshToken": bearer(refresh),
            "AccessToken": bearer(access),
        },
        kits={
            "ClientSecret": ApiKeyKit("client-secret"),
            "RefreshToken": BearerKit(valid=refresh, wrong_kind={"auth.access_token_as_refresh": access}),
            "AccessToken": BearerKit(valid=access, wrong_kind={"auth.refresh_token_as_access": refresh}),
        },
        extras={"client": client, "quickstart": quick, "spec": spec},
        closers=[client.close],
    )
    return fixture
