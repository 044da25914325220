"""Basejump AI: API key → refresh token → access token, and the whole quickstart as typed methods.

Paths are relative to the service URL (``.../api/v1``) and end with ``/``. The API key goes in the
``client-secret`` header (user creation, refresh tokens); the refresh token (Bearer, 90 days) is accepted only by
the access-token endpoint; the access token (Bearer, 15 minutes) by everything else.

:class:`BasejumpAuth` keeps one user's tokens: the access token is renewed ``skew`` seconds before it expires
(``expires_in`` when the server sends one, else the documented 15 minutes) from the refresh token; a refresh token
the access-token endpoint rejects (401) is replaced by a new one from the API key, once. The access-token endpoint is
``/auth/access_token/`` (the quickstart's spelling); when it answers 404 the dashed alias ``/auth/access-token/``
(v1.2.0 renamed underscores to dashes) is tried and remembered.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import httpx

from apigate.clients._auth import authed
from apigate.clients._http import HttpSession, RetryPolicy, Timeouts, read_json
from apigate.clients.models import (
    BasejumpUser,
    Chat,
    ConnectionTeams,
    DatabaseConnection,
    Message,
    Team,
    TeamMembership,
    TokenSet,
)
from apigate.config import Target
from apigate.errors import ConfigError, ContractViolation, NotFoundError, UnauthorizedError
from apigate.redact import Secret

__all__ = ["ACCESS_TOKEN_PATHS", "BasejumpAuth", "BasejumpClient", "DatabaseSpec", "Quickstart", "Role"]

Role = Literal["OWNER", "ADMIN", "MEMBER", "SERVICE_MEMBER", "SUB_MEMBER"]
ACCESS_TOKEN_PATHS: Final = ("/auth/access_token/", "/auth/access-token/")
ACCESS_LIFETIME: Final = 15 * 60.0
REFRESH_LIFETIME: Final = 90 * 24 * 3600.0


def _secret(value: Secret | str) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


def _session(
    base_url: str,
    transport: httpx.BaseTransport | None,
    client: httpx.Client | None,
    timeouts: Timeouts | None,
    retry: RetryPolicy | None,
    sleep: Callable[[float], None],
    rng: Callable[[], float],
) -> HttpSession:
    return HttpSession(
        base_url, service="basejump", transport=transport, client=client, timeouts=timeouts, retry=retry, sleep=sleep,
        rng=rng,
    )


def _token(body: Any, key: str, *, issued_at: float, default_lifetime: float, where: str) -> TokenSet:
    if not isinstance(body, dict) or not isinstance(body.get(key), str) or not body[key]:
        raise ContractViolation(f"missing '{key}'", expected=f"{{{key!r}: str}}", actual=_shape(body), where=where)
    expires_in = body.get("expires_in")
    lifetime = (
        float(expires_in)
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0
        else default_lifetime
    )
    return TokenSet(
        access_token=Secret(body[key]),
        expires_at=issued_at + lifetime,
        issued_at=issued_at,
        token_type=str(body.get("token_type") or "Bearer"),
        raw={k: v for k, v in body.items() if not k.endswith("token")},
    )


def _shape(body: Any) -> str:
    return "{" + ", ".join(sorted(body)) + "}" if isinstance(body, dict) else type(body).__name__


class BasejumpAuth:
    """One Basejump user's tokens, cached and renewed; thread/greenlet-safe (one renewal at a time)."""

    def __init__(
        self,
        base_url: str,
        api_key: Secret | str,
        user_uuid: str,
        *,
        refresh_token: Secret | str | None = None,
        skew: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        http: HttpSession | None = None,
        transport: httpx.BaseTransport | None = None,
        client: httpx.Client | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.api_key = _secret(api_key)
        self.user_uuid = user_uuid
        self.skew = skew
        self.clock = clock
        self._owns_http = http is None
        self.http = http or _session(base_url, transport, client, timeouts, retry, sleep, rng)
        self.access_path = ACCESS_TOKEN_PATHS[0]
        self._lock = threading.Lock()
        self._refresh: TokenSet | None = None
        if refresh_token is not None:
            now = clock()
            self._refresh = TokenSet(_secret(refresh_token), expires_at=now + REFRESH_LIFETIME, issued_at=now)
        self._access: TokenSet | None = None
        self._generation = 0
        self.requests = 0  # token requests sent

    def __repr__(self) -> str:
        return f"BasejumpAuth({self.http.base_url!r}, user_uuid={self.user_uuid!r})"

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    # -- TokenProvider ---------------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation

    def token(self) -> str:
        """A valid access token (revealed, for the Authorization header)."""
        return self.access_token_set().access_token.reveal()

    def access_token_set(self) -> TokenSet:
        tokens = self._access
        if tokens is not None and self._fresh(tokens):
            return tokens
        with self._lock:
            tokens = self._access
            if tokens is not None and self._fresh(tokens):
                return tokens
            return self._renew_access()

    def refresh_token_set(self) -> TokenSet:
        """The cached refresh token (a new one when there is none or it is about to expire)."""
        with self._lock:
            return self._current_refresh()

    def invalidate(self, token: str) -> None:
        with self._lock:
            tokens = self._access
            if tokens is not None and tokens.access_token.reveal() == token:
                self._access = replace(tokens, expires_at=float("-inf"))

    def _fresh(self, tokens: TokenSet) -> bool:
        return self.clock() < tokens.expires_at - min(self.skew, tokens.lifetime / 2)

    def _current_refresh(self) -> TokenSet:
        if self._refresh is None or not self._fresh(self._refresh):
            self._refresh = self.issue_refresh_token()
        return self._refresh

    def _renew_access(self) -> TokenSet:
        refresh = self._current_refresh()
        try:
            access = self.issue_access_token(refresh.access_token)
        except UnauthorizedError:
            # the refresh token was revoked or expired early: get a new one from the API key, once
            self._refresh = self.issue_refresh_token()
            access = self.issue_access_token(self._refresh.access_token)
        self._access = access
        self._generation += 1
        return access

    # -- single token requests (not cached) ------------------------------------------------------------------
    def issue_refresh_token(self) -> TokenSet:
        """``POST /auth/token/?user_uuid=`` with the API key."""
        issued_at = self.clock()
        self.requests += 1
        response = self.http.request(
            "POST", "/auth/token/", params={"user_uuid": self.user_uuid},
            headers={"client-secret": self.api_key.reveal()}, safe=True,
        )
        return _token(read_json(response), "refresh_token", issued_at=issued_at, default_lifetime=REFRESH_LIFETIME,
                      where="POST /auth/token/")

    def issue_access_token(self, refresh_token: Secret | str) -> TokenSet:
        """``POST /auth/access_token/?user_uuid=`` with the refresh token (the dashed path when that one is 404)."""
        bearer = refresh_token.reveal() if isinstance(refresh_token, Secret) else refresh_token
        issued_at = self.clock()
        path = self.access_path
        try:
            response = self._access_request(path, bearer)
        except NotFoundError:
            if path != ACCESS_TOKEN_PATHS[0]:
                raise
            path = ACCESS_TOKEN_PATHS[1]
            response = self._access_request(path, bearer)
            self.access_path = path
        return _token(read_json(response), "access_token", issued_at=issued_at, default_lifetime=ACCESS_LIFETIME,
                      where=f"POST {path}")

    def _access_request(self, path: str, bearer: str) -> httpx.Response:
        self.requests += 1
        return self.http.request(
            "POST", path, params={"user_uuid": self.user_uuid}, headers={"Authorization": f"Bearer {bearer}"}, safe=True
        )


@dataclass(frozen=True)
class DatabaseSpec:
    """The body of ``POST /connection/database/``. ``password`` is a :class:`Secret` until it goes on the wire."""

    database_type: str
    host: str
    database_name: str
    username: str
    password: Secret
    data_source_desc: str
    database_desc: str
    port: int | None = None
    schemas: Sequence[Mapping[str, Any]] = ()
    include_default_schema: bool = True
    ssl_mode: str = "require"
    ssl_root_cert: str | None = None
    query: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "database_type": self.database_type,
            "host": self.host,
            "port": self.port,
            "database_name": self.database_name,
            "username": self.username,
            "password": self.password.reveal(),
            "schemas": [dict(s) for s in self.schemas],
            "include_default_schema": self.include_default_schema,
            "ssl_mode": self.ssl_mode,
            "ssl_root_cert": self.ssl_root_cert,
            "data_source_desc": self.data_source_desc,
            "database_desc": self.database_desc,
            "query": dict(self.query) if self.query is not None else None,
        }


@dataclass(frozen=True)
class Quickstart:
    """What :meth:`BasejumpClient.quickstart` created; ``client`` acts as the new user."""

    user: BasejumpUser
    team: Team
    connection: DatabaseConnection
    chat: Chat
    client: BasejumpClient


class BasejumpClient:
    """Basejump's API. Calls that act as a user need ``auth`` (see :meth:`as_user`); the rest use the API key."""

    def __init__(
        self,
        base_url: str,
        api_key: Secret | str,
        *,
        auth: BasejumpAuth | None = None,
        transport: httpx.BaseTransport | None = None,
        client: httpx.Client | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
        http: HttpSession | None = None,
    ) -> None:
        self.api_key = _secret(api_key)
        self.clock = clock
        self._owns_http = http is None
        self.http = http or _session(base_url, transport, client, timeouts, retry, sleep, rng)
        self.auth = auth

    @classmethod
    def from_target(cls, target: Target, **kwargs: Any) -> BasejumpClient:
        """A client for ``target.basejump`` with its API key (``kwargs``: transport, timeouts, retry, ...)."""
        return cls(target.basejump.url, target.basejump.api_key, **kwargs)

    def __repr__(self) -> str:
        user = f", user_uuid={self.auth.user_uuid!r}" if self.auth else ""
        return f"BasejumpClient({self.http.base_url!r}{user})"

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> BasejumpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def as_user(self, user_uuid: str, *, refresh_token: Secret | str | None = None, skew: float = 30.0) -> BasejumpClient:
        """A client acting as ``user_uuid`` (sharing this one's connections), with its own token cache."""
        auth = BasejumpAuth(
            self.http.base_url, self.api_key, user_uuid, refresh_token=refresh_token, skew=skew, clock=self.clock,
            http=self.http,
        )
        return BasejumpClient(self.http.base_url, self.api_key, auth=auth, http=self.http, clock=self.clock)

    # -- plumbing --------------------------------------------------------------------------------------------
    def _as_key(self, method: str, path: str, *, params: Mapping[str, Any]) -> Any:
        response = self.http.request(method, path, params=params, headers={"client-secret": self.api_key.reveal()})
        return read_json(response)

    def _as_user(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None,
        safe: bool | None = None,
    ) -> Any:
        auth = self.auth
        if auth is None:
            raise ConfigError(f"{method} {path} acts as a user: use client.as_user(user_uuid) first")

        def open_(headers: dict[str, str]) -> AbstractContextManager[httpx.Response]:
            return nullcontext(self.http.request(method, path, params=params, json_body=json_body, headers=headers, safe=safe))

        with authed(auth, open_) as response:
            return read_json(response)

    # -- the quickstart --------------------------------------------------------------------------------------
    def create_user(self, username: str, role: Role | str = "MEMBER", *, email: str | None = None) -> BasejumpUser:
        """1. ``POST /account/user/?username=&role=[&email=]`` with the API key."""
        data = self._as_key("POST", "/account/user/", params={"username": username, "role": role, "email": email})
        return BasejumpUser.parse(data, where="POST /account/user/")

    def issue_refresh_token(self, user_uuid: str) -> TokenSet:
        """2. ``POST /auth/token/?user_uuid=`` with the API key (not cached)."""
        return self._auth_for(user_uuid).issue_refresh_token()

    def issue_access_token(self, user_uuid: str, refresh_token: Secret | str) -> TokenSet:
        """3. ``POST /auth/access_token/?user_uuid=`` with the refresh token (not cached; dashed-path fallback)."""
        return self._auth_for(user_uuid).issue_access_token(refresh_token)

    def _auth_for(self, user_uuid: str) -> BasejumpAuth:
        if self.auth is not None and self.auth.user_uuid == user_uuid:
            return self.auth
        return BasejumpAuth(self.http.base_url, self.api_key, user_uuid, clock=self.clock, http=self.http)

    def create_team(self, team_name: str, *, team_desc: str | None = None) -> Team:
        """4. ``POST /account/team/?team_name=[&team_desc=]``."""
        data = self._as_user("POST", "/account/team/", params={"team_name": team_name, "team_desc": team_desc})
        return Team.parse(data, where="POST /account/team/")

    def create_connection(self, spec: DatabaseSpec) -> DatabaseConnection:
        """5. ``POST /connection/database/``."""
        data = self._as_user("POST", "/connection/database/", json_body=spec.to_json())
        return DatabaseConnection.parse(data, where="POST /connection/database/")

    def attach_connection(self, conn_uuid: str, team_uuids: Sequence[str]) -> ConnectionTeams:
        """6. ``POST /connection/{conn_uuid}/team/`` body ``{"team_uuids": [...]}``."""
        path = f"/connection/{conn_uuid}/team/"
        return ConnectionTeams.parse(self._as_user("POST", path, json_body={"team_uuids": list(team_uuids)}), where=path)

    def add_user_to_team(self, user_uuid: str, team_uuid: str) -> TeamMembership:
        """7. ``POST /account/user/{user_uuid}/team/{team_uuid}/``."""
        path = f"/account/user/{user_uuid}/team/{team_uuid}/"
        return TeamMembership.parse(self._as_user("POST", path), where=path)

    def create_chat(self, team_uuid: str, *, messages: Sequence[Mapping[str, Any]] | None = None) -> Chat:
        """8. ``POST /chat/team/{team_uuid}/`` (optional prior ``messages``)."""
        path = f"/chat/team/{team_uuid}/"
        body = {"messages": [dict(m) for m in messages]} if messages is not None else None
        return Chat.parse(self._as_user("POST", path, json_body=body), where=path)

    def send_message(self, chat_uuid: str, prompt: str, *, retry_unsafe: bool = False) -> Message:
        """9. ``POST /chat/{chat_uuid}/message/`` ``{"prompt": ...}`` — slow; agent failures are msg_type "error"."""
        path = f"/chat/{chat_uuid}/message/"
        data = self._as_user("POST", path, json_body={"prompt": prompt}, safe=retry_unsafe)
        return Message.parse(data, where=path)

    def quickstart(
        self, username: str, spec: DatabaseSpec, *, role: Role | str = "MEMBER", team_name: str | None = None
    ) -> Quickstart:
        """Steps 1–8: a new user with a team, a database connection attached to it, and a chat."""
        user = self.create_user(username, role)
        as_user = self.as_user(user.user_uuid)
        team = as_user.create_team(team_name or f"{username}-team")
        connection = as_user.create_connection(spec)
        as_user.attach_connection(connection.conn_uuid, [team.team_uuid])
        as_user.add_user_to_team(user.user_uuid, team.team_uuid)
        chat = as_user.create_chat(team.team_uuid)
        return Quickstart(user, team, connection, chat, as_user)
