"""The embedded Basejump's memory: users, teams, connections, chats and messages, and its signed tokens.

Everything lives in bounded dictionaries (the oldest record goes when a kind reaches :data:`MAX_RECORDS`; a chat
keeps its last :data:`MAX_MESSAGES` messages), so a long load run cannot grow the mock without bound. The state is
touched only from the event loop, between awaits, so no lock is needed.

Tokens are HS256 JWTs signed with a random per-app secret: ``sub`` (user uuid), ``typ`` (``refresh`` or
``access``), ``cid`` (the tenant), ``iat``, ``exp`` and a ``jti`` that makes each one unique. A verified token is
remembered (token -> claims), so a request with a known token costs a dictionary lookup and an expiry comparison.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

import jwt

__all__ = [
    "MAX_MESSAGES",
    "MAX_RECORDS",
    "Bounded",
    "Chat",
    "Connection",
    "InvalidToken",
    "State",
    "Team",
    "TokenIssuer",
    "User",
    "new_uuid",
]

MAX_RECORDS: Final = 100_000  # per kind (users, teams, connections, chats)
MAX_MESSAGES: Final = 50  # kept per chat
CACHE_LIMIT: Final = 100_000  # verified tokens remembered; emptied when it grows past this

_now = time.time  # the clock of token expiry (tests move it)

K = TypeVar("K")
V = TypeVar("V")


def new_uuid() -> str:
    return str(uuid.uuid4())


class Bounded(dict[K, V], Generic[K, V]):
    """A dict that forgets its oldest entry when it is full."""

    def __init__(self, limit: int = MAX_RECORDS) -> None:
        super().__init__()
        self.limit = limit

    def add(self, key: K, value: V) -> V:
        if key not in self and len(self) >= self.limit:
            del self[next(iter(self))]
        self[key] = value
        return value


@dataclass
class User:
    user_uuid: str
    username: str
    role: str
    email: str | None
    client: str

    def created(self) -> dict[str, Any]:
        return {"user_uuid": self.user_uuid, "username": self.username, "role": self.role,
                "email_address": self.email}


@dataclass
class Team:
    team_uuid: str
    name: str
    desc: str | None
    client: str
    members: set[str] = field(default_factory=set)
    connections: dict[str, None] = field(default_factory=dict)  # conn_uuid, in attachment order

    def created(self) -> dict[str, Any]:
        return {"team_uuid": self.team_uuid, "team_name": self.name, "team_desc": self.desc}


@dataclass
class Connection:
    conn_uuid: str
    db_uuid: str
    alias: str
    client: str
    database_type: str
    database_name: str
    schema: str  # the first schema (``public`` when only the default one is indexed)
    indexing: bool  # still being indexed: chats are answered with an error message


@dataclass
class Chat:
    chat_uuid: str
    team_uuid: str
    owner: str
    client: str
    messages: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_MESSAGES))


class State:
    """Everything the mock has been told, per app instance."""

    def __init__(self) -> None:
        self.users: Bounded[str, User] = Bounded()
        self.teams: Bounded[str, Team] = Bounded()
        self.connections: Bounded[str, Connection] = Bounded()
        self.chats: Bounded[str, Chat] = Bounded()

    def user(self, user_uuid: str, client: str) -> User | None:
        user = self.users.get(user_uuid)
        return user if user is not None and user.client == client else None

    def team(self, team_uuid: str, client: str) -> Team | None:
        team = self.teams.get(team_uuid)
        return team if team is not None and team.client == client else None

    def connection(self, conn_uuid: str, client: str) -> Connection | None:
        conn = self.connections.get(conn_uuid)
        return conn if conn is not None and conn.client == client else None

    def chat(self, chat_uuid: str, client: str) -> Chat | None:
        chat = self.chats.get(chat_uuid)
        return chat if chat is not None and chat.client == client else None


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong kind; the message says which."""


class TokenIssuer:
    """Signs and verifies the mock's refresh and access tokens."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._cache: dict[str, dict[str, Any]] = {}

    def issue(self, kind: str, user: User, lifetime_s: int) -> str:
        now = int(_now())
        claims = {"sub": user.user_uuid, "typ": kind, "cid": user.client, "iat": now, "exp": now + lifetime_s,
                  "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str, kinds: frozenset[str]) -> dict[str, Any]:
        """The claims of a valid, unexpired token whose ``typ`` is one of ``kinds``."""
        claims = self._cache.get(token)
        if claims is None:
            try:
                claims = jwt.decode(token, self._secret, algorithms=["HS256"],
                                    options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                             "require": ["sub", "typ", "cid", "exp"]})
            except jwt.PyJWTError:
                raise InvalidToken("Could not validate credentials") from None
            if not isinstance(claims["exp"], int):
                raise InvalidToken("Could not validate credentials")
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[token] = claims
        if claims["exp"] <= _now():
            raise InvalidToken("Token has expired")
        if claims["typ"] not in kinds:
            wanted = "a refresh token" if kinds == {"refresh"} else "an access token"
            raise InvalidToken(f"Invalid token type: this endpoint requires {wanted}")
        return claims
