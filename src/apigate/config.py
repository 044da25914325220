"""Where a run points: the embedded mock, or live services named by ``APIGATE_*`` variables.

This is the only module that reads ``os.environ`` for targets. Precedence: explicit arguments > environment >
config file (``apigate.toml`` in the working directory, or the file named by ``APIGATE_CONFIG``) > defaults.
Secrets (passwords, client secrets, API keys) are read from the environment only; a config file that holds one is
refused, so that secrets never end up committed next to the suite.

Each service is live when its URL variable is set and otherwise served by the embedded mock. A live CodeMie
needs a live Keycloak (its tokens come from there). A malformed URL or a live target missing a credential raises
:class:`~apigate.errors.ConfigError` with a one-line message naming the variable (the CLI exits 2).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from apigate.errors import ConfigError
from apigate.redact import Secret

__all__ = [
    "DEMO",
    "ENV_VARS",
    "BasejumpTarget",
    "CodemieTarget",
    "KeycloakTarget",
    "Target",
    "load_target",
    "mock_target",
]

ENV_VARS: Final = (
    "APIGATE_KEYCLOAK_URL",
    "APIGATE_KEYCLOAK_REALM",
    "APIGATE_CODEMIE_URL",
    "APIGATE_CODEMIE_CLIENT_ID",
    "APIGATE_CODEMIE_CLIENT_SECRET",
    "APIGATE_CODEMIE_USERNAME",
    "APIGATE_CODEMIE_PASSWORD",
    "APIGATE_CODEMIE_ASSISTANT_ID",
    "APIGATE_BASEJUMP_URL",
    "APIGATE_BASEJUMP_API_KEY",
)
_SECRET_VARS: Final = frozenset(
    {"APIGATE_CODEMIE_CLIENT_SECRET", "APIGATE_CODEMIE_PASSWORD", "APIGATE_BASEJUMP_API_KEY"}
)
# config-file key (section.key) for every non-secret variable
_FILE_KEYS: Final = {
    "APIGATE_KEYCLOAK_URL": ("keycloak", "url"),
    "APIGATE_KEYCLOAK_REALM": ("keycloak", "realm"),
    "APIGATE_CODEMIE_URL": ("codemie", "url"),
    "APIGATE_CODEMIE_CLIENT_ID": ("codemie", "client_id"),
    "APIGATE_CODEMIE_USERNAME": ("codemie", "username"),
    "APIGATE_CODEMIE_ASSISTANT_ID": ("codemie", "assistant_id"),
    "APIGATE_BASEJUMP_URL": ("basejump", "url"),
}
_FILE_SECRET_KEYS: Final = {"client_secret", "password", "api_key", "secret", "token"}


@dataclass(frozen=True)
class _Demo:
    """The embedded mock's demo credentials (documented in the README; not secrets)."""

    realm: str = "codemie-prod"
    public_client: str = "codemie-sdk"
    username: str = "demo"
    password: str = "demo-password"
    confidential_client: str = "api-demo"
    client_secret: str = "demo-secret"
    assistant_id: str = "05959338-06de-477d-9cc3-08369f858057"
    assistant_slug: str = "demo-assistant"
    basejump_owner_key: str = "demo-owner-key"
    basejump_admin_key: str = "demo-admin-key"
    basejump_member_key: str = "demo-member-key"
    # path prefixes of the combined mock origin
    keycloak_prefix: str = "/auth"
    codemie_prefix: str = "/code-assistant-api"
    basejump_prefix: str = "/api/v1"


DEMO: Final = _Demo()


@dataclass(frozen=True)
class KeycloakTarget:
    url: str  # server URL, with the legacy /auth context path when the server has one
    realm: str
    live: bool

    @property
    def realm_url(self) -> str:
        """The token issuer: ``{server}/realms/{realm}``."""
        return f"{self.url}/realms/{self.realm}"

    @property
    def token_url(self) -> str:
        return f"{self.realm_url}/protocol/openid-connect/token"

    @property
    def certs_url(self) -> str:
        return f"{self.realm_url}/protocol/openid-connect/certs"

    @property
    def userinfo_url(self) -> str:
        return f"{self.realm_url}/protocol/openid-connect/userinfo"

    @property
    def well_known_url(self) -> str:
        return f"{self.realm_url}/.well-known/openid-configuration"


@dataclass(frozen=True)
class CodemieTarget:
    url: str  # .../code-assistant-api (operations live under {url}/v1/...)
    client_id: str
    client_secret: Secret | None
    username: str | None
    password: Secret | None
    assistant_id: str
    live: bool

    @property
    def grant(self) -> str:
        """``password`` when a user is configured, else ``client_credentials``."""
        return "password" if self.username else "client_credentials"


@dataclass(frozen=True)
class BasejumpTarget:
    url: str  # .../api/v1
    api_key: Secret
    live: bool


@dataclass(frozen=True)
class Target:
    keycloak: KeycloakTarget
    codemie: CodemieTarget
    basejump: BasejumpTarget

    @property
    def live(self) -> bool:
        """True when any service is live (the embedded mock is then not needed for it)."""
        return self.keycloak.live or self.codemie.live or self.basejump.live

    @property
    def needs_mock(self) -> bool:
        return not (self.keycloak.live and self.codemie.live and self.basejump.live)

    def base_urls(self) -> dict[str, str]:
        return {"keycloak": self.keycloak.realm_url, "codemie": self.codemie.url, "basejump": self.basejump.url}


def _check_url(name: str, value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: not an http(s) base URL: {value!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{name}: not an http(s) base URL: {value!r}")
    if parts.username is not None or parts.password is not None:
        # it would be shown wherever the URL is (reports, reprs); credentials have their own variables
        raise ConfigError(f"{name}: credentials in the URL are not supported (user@ or user:password@)")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{name}: bad port in {value!r}") from None
    return value.rstrip("/")


def _read_file(path: Path | None, env: Mapping[str, str]) -> dict[str, str]:
    """Non-secret settings from the TOML config file, keyed by the environment variable they stand for."""
    if path is None:
        explicit = env.get("APIGATE_CONFIG")
        path = Path(explicit) if explicit else Path("apigate.toml")
        if not explicit and not path.exists():
            return {}
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    out: dict[str, str] = {}
    for section, table in data.items():
        if section == "accept":  # [[accept]]: known failures, read by apigate.accept
            continue
        if not isinstance(table, dict):
            raise ConfigError(f"config file {path}: [{section}] must be a table")
        for key, value in table.items():
            if key in _FILE_SECRET_KEYS:
                raise ConfigError(
                    f"config file {path}: [{section}] {key} is a secret; set it in the environment instead"
                )
            var = next((v for v, k in _FILE_KEYS.items() if k == (section, key)), None)
            if var is None:
                raise ConfigError(f"config file {path}: unknown setting [{section}] {key}")
            if not isinstance(value, str):
                raise ConfigError(f"config file {path}: [{section}] {key} must be a string")
            out[var] = value
    return out


def mock_target(origin: str) -> Target:
    """The target for the embedded mock served at ``origin`` (e.g. ``http://127.0.0.1:8080``)."""
    return _merge({}, origin)


def load_target(
    mock_origin: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Target:
    """The configured target. Services not configured live point at the mock at ``mock_origin``.

    ``overrides`` maps ``APIGATE_*`` names to values given on the command line (highest precedence).
    """
    environ = os.environ if env is None else env
    values = _read_file(config_file, environ)
    values.update({k: v for k, v in environ.items() if k in ENV_VARS and v != ""})
    values.update(overrides or {})
    return _merge(values, mock_origin or "http://127.0.0.1:8080")


def _merge(values: Mapping[str, str], origin: str) -> Target:
    origin = _check_url("mock origin", origin)

    def need(var: str) -> str:
        value = values.get(var)
        if not value:
            raise ConfigError(f"{var} is required for a live target but is not set")
        return value

    def secret(var: str, *, required: bool) -> Secret | None:
        value = values.get(var)
        if not value:
            if required:
                raise ConfigError(f"{var} is required for a live target but is not set (secrets come from the environment)")
            return None
        return Secret(value)

    kc_live = "APIGATE_KEYCLOAK_URL" in values
    cm_live = "APIGATE_CODEMIE_URL" in values
    bj_live = "APIGATE_BASEJUMP_URL" in values
    if cm_live and not kc_live:
        raise ConfigError("APIGATE_KEYCLOAK_URL is required when APIGATE_CODEMIE_URL points at a live CodeMie")

    if kc_live:
        keycloak = KeycloakTarget(
            _check_url("APIGATE_KEYCLOAK_URL", values["APIGATE_KEYCLOAK_URL"]),
            values.get("APIGATE_KEYCLOAK_REALM") or DEMO.realm,
            live=True,
        )
    else:
        keycloak = KeycloakTarget(origin + DEMO.keycloak_prefix, DEMO.realm, live=False)

    if cm_live:
        username = values.get("APIGATE_CODEMIE_USERNAME") or None
        codemie = CodemieTarget(
            url=_check_url("APIGATE_CODEMIE_URL", values["APIGATE_CODEMIE_URL"]),
            client_id=need("APIGATE_CODEMIE_CLIENT_ID"),
            # a password-grant public client has no secret; a client_credentials client must have one
            client_secret=secret("APIGATE_CODEMIE_CLIENT_SECRET", required=not username),
            username=username,
            password=secret("APIGATE_CODEMIE_PASSWORD", required=bool(username)),
            assistant_id=need("APIGATE_CODEMIE_ASSISTANT_ID"),
            live=True,
        )
    else:
        codemie = CodemieTarget(
            url=origin + DEMO.codemie_prefix,
            client_id=DEMO.public_client,
            client_secret=None,
            username=DEMO.username,
            password=Secret(DEMO.password),
            assistant_id=DEMO.assistant_id,
            live=False,
        )

    if bj_live:
        basejump = BasejumpTarget(
            _check_url("APIGATE_BASEJUMP_URL", values["APIGATE_BASEJUMP_URL"]),
            api_key=Secret(need("APIGATE_BASEJUMP_API_KEY")),
            live=True,
        )
    else:
        basejump = BasejumpTarget(origin + DEMO.basejump_prefix, Secret(DEMO.basejump_owner_key), live=False)
    return Target(keycloak, codemie, basejump)

