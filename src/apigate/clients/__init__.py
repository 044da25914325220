"""Clients for Keycloak, CodeMie and Basejump: auth flows with token caches, typed API calls, stream parsing.

Every client takes an injectable ``transport`` (or ``client``), so the same code runs under respx, in-process
against the embedded mock apps (``httpx.ASGITransport``) and against live services; and ``from_target`` builds
it from an :class:`apigate.config.Target`.
"""

from __future__ import annotations

from apigate.clients._asgi import SyncASGITransport
from apigate.clients._auth import TokenProvider
from apigate.clients._http import HttpSession, RetryPolicy, Timeouts, parse_retry_after
from apigate.clients.basejump import BasejumpAuth, BasejumpClient, DatabaseSpec, Quickstart
from apigate.clients.codemie import CodemieClient
from apigate.clients.keycloak import Grant, KeycloakAuth
from apigate.clients.models import (
    Assistant,
    AssistantAnswer,
    AssistantPage,
    BasejumpUser,
    Chat,
    ConnectionTeams,
    DatabaseConnection,
    LLMModel,
    Message,
    Project,
    Team,
    TeamMembership,
    Thought,
    TokenSet,
    User,
)
from apigate.clients.stream import (
    Chunk,
    ChunkStream,
    NdjsonDecoder,
    SseDecoder,
    StreamDecoder,
    StreamResult,
    StreamValidator,
)

__all__ = [  # noqa: RUF022 - grouped by concern, sorted within each group
    # auth flows
    "BasejumpAuth",
    "Grant",
    "KeycloakAuth",
    "TokenProvider",
    "TokenSet",
    # API clients
    "BasejumpClient",
    "CodemieClient",
    "DatabaseSpec",
    "Quickstart",
    # typed results
    "Assistant",
    "AssistantAnswer",
    "AssistantPage",
    "BasejumpUser",
    "Chat",
    "ConnectionTeams",
    "DatabaseConnection",
    "LLMModel",
    "Message",
    "Project",
    "Team",
    "TeamMembership",
    "Thought",
    "User",
    # HTTP plumbing
    "HttpSession",
    "RetryPolicy",
    "SyncASGITransport",
    "Timeouts",
    "parse_retry_after",
    # stream parsing
    "Chunk",
    "ChunkStream",
    "NdjsonDecoder",
    "SseDecoder",
    "StreamDecoder",
    "StreamResult",
    "StreamValidator",
]
