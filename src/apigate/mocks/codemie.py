"""The embedded CodeMie ("code-assistant-api"): Keycloak-token auth, assistants, plain and streamed chat.

Routes are relative to the service URL (``.../code-assistant-api``)::

    POST /v1/assistants/{assistant_id}/model     ask (JSON answer, or a stream with "stream": true)
    POST /v1/assistants/slug/{slug}/model        the same, by slug (?project=)
    PUT, DELETE /v1/assistants/{assistant_id}    refused (the demo assistants are read-only)
    GET  /v1/assistants..., /v1/llm_models, /v1/user, /v1/assistants/categories   (mocks/_catalog_routes.py)
    GET  /v1/info, /v1/healthcheck               (no auth)
    GET  /openapi.json                           the CodeMie contract, as data, under the real app's info

Order of checks on the chat, as the real server: the body is decoded first (undecodable bytes → 400 with FastAPI's
``{"detail": ...}``, text that is not JSON → 422), then authentication (401), then validation of the query and
the body (422, an invalid ``output_schema`` included), then the assistant (404), read access (401 "Access
denied"), version (404), conversation owner (403).
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.datastructures import URL, QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from apigate.config import DEMO
from apigate.mocks._bearer import InvalidToken, TokenVerifier
from apigate.mocks._caller import Caller
from apigate.mocks._catalog import ASSISTANTS, Assistant, find_by_slug
from apigate.mocks._catalog_routes import assistant_routes, neighbour_routes
from apigate.mocks._chat_request import (
    Bends,
    BodyUndecodable,
    ChatRequest,
    DomainInvalid,
    ValidationFailed,
    decode_chat_body,
    parse_chat,
)
from apigate.mocks._chat_stream import ChatStream, split_answer, thought
from apigate.mocks._common import (
    ContractDocument,
    JSONAnswer,
    dumps,
    http_exception_handler,
    json_text,
    read_body,
    received_at,
)
from apigate.mocks.settings import MockSettings
from apigate.mocks.timing import sleep_until

__all__ = ["INFO", "create_app", "error_body"]

INFO: Final = {"message": "Codemie", "version": "2.0.0", "description": "Smart AI assistant 'CodeMie'"}
AUTH_HELP: Final = "Please provide a valid access token in the Authorization header."
CONVERSATION_LIMIT: Final = 100_000


def error_body(settings: MockSettings, message: str, details: Any, help_text: str | None) -> dict[str, Any]:
    """CodeMie's domain error envelope (or the broken ``{"detail": ...}`` one)."""
    if settings.broken("codemie.error.envelope"):
        return {"detail": message}
    return {"error": {"message": message, "details": details, "help": help_text}}


def _answer_text(assistant: Assistant, text: str | None) -> str:
    if not text:
        return "Hello! How can I help you today?"
    return f"Hello from {assistant.name}, the apigate mock assistant. You asked: {text}"


def _example(schema: Any) -> Any:
    """A small instance of a JSON schema: the structured answer to ``output_schema``."""
    if not isinstance(schema, dict):
        return {}
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties") or {}
        return {k: _example(props.get(k, {})) for k in schema.get("required") or [] if isinstance(k, str)}
    defaults = {"string": "example", "integer": 0, "number": 0.0, "boolean": True, "array": [], "null": None}
    return defaults.get(kind, {}) if isinstance(kind, str) else {}


_ids = random.Random()  # thought ids: random, not secret (uuid4's os.urandom costs more than the rest of the id)


def _uuid4() -> str:
    """A random RFC 4122 version-4 UUID, as ``str(uuid.uuid4())`` reads."""
    h = f"{_ids.getrandbits(128) & ~(0xF000 << 64 | 0xC000 << 48) | 0x4000 << 64 | 0x8000 << 48:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case), as Starlette's ``request.headers.get`` finds it."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


class _Template:
    """A JSON document encoded once with holes at some values: filling it encodes only those values.

    ``make`` builds the document from keyword arguments, one per hole, each used as a value as it is (at most
    once); it is called once with a marker string per hole, so the document's shape (contract breaks included)
    has one statement only. A hole the document does not contain (a key ``make`` drops) is ignored.
    """

    def __init__(self, make: Callable[..., Any], holes: tuple[str, ...]) -> None:
        markers = {name: json_text(f"apigate-hole:{name}") for name in holes}
        encoded = dumps(make(**{name: f"apigate-hole:{name}" for name in holes})).decode("utf-8")
        found = sorted((encoded.find(marker), name) for name, marker in markers.items() if marker in encoded)
        self.parts: list[str] = []
        self.holes: list[str] = []
        start = 0
        for at, name in found:
            self.parts.append(encoded[start:at])
            self.holes.append(name)
            start = at + len(markers[name])
        self.tail = encoded[start:]

    def fill(self, **values: Any) -> bytes:
        out: list[str] = []
        for part, name in zip(self.parts, self.holes, strict=True):
            out.append(part)
            out.append(json_text(values[name]))
        out.append(self.tail)
        return "".join(out).encode("utf-8")


class _CodeMie:
    def __init__(self, settings: MockSettings, jwks: Mapping[str, Any], keycloak_prefix: str, realm: str) -> None:
        self.settings = settings
        self.verifier = TokenVerifier(jwks, settings)
        self.keycloak_prefix = keycloak_prefix
        self.realm = realm
        self._issuers: dict[str, str] = {}
        self.conversations: dict[str, str] = {}
        self.by_id = {a.id: a for a in ASSISTANTS}
        self.offset = settings.added_latency_ms / 1000
        seed = settings.seed
        self.cuts = random.Random(None if seed is None else f"{seed}:codemie.stream_cut")
        # the chat's per-request constants (settings are frozen)
        self.chat_delay = self.offset + settings.chat_latency_ms / 1000
        self.fixed_issuer = f"{settings.keycloak_url.rstrip('/')}/realms/{realm}" if settings.keycloak_url else None
        self.bends = Bends(
            any_top_k=settings.broken("codemie.validation.lax"),
            strict_types=settings.broken("codemie.validation.strict"),
            snake_case_wins=settings.broken("codemie.validation.snake_case_wins"),
            empty_tool_creds=settings.broken("codemie.validation.empty_tool_creds"),
            history_message_required=settings.broken("codemie.validation.history_message_required"),
        )
        self.answer_status = 201 if settings.broken("codemie.chat.status_201") else 200
        self.answer_template = _Template(
            lambda generated, elapsed, thought_id, answer: self.answer_body(
                generated, elapsed, [thought(thought_id, answer, settings)], None),
            ("generated", "elapsed", "thought_id", "answer"),
        )

    # ---- answers --------------------------------------------------------------------------------------------
    def error(self, status: int, message: str, details: Any, help_text: str | None = None) -> Response:
        return JSONAnswer(error_body(self.settings, message, details, help_text), status_code=status)

    def invalid(self, exc: ValidationFailed) -> Response:
        if self.settings.broken("codemie.error.envelope"):
            return JSONAnswer({"detail": exc.errors}, status_code=422)
        return JSONAnswer({"error": {"message": str(exc), "details": exc.errors}}, status_code=422)

    def access_denied(self) -> Response:
        """No read access to the assistant: 401 (not 403), as the real server answers."""
        return self.error(401, "Access denied", "You do not have the necessary permissions to view this entity.",
                          "Ask the assistant's owner to share it with you.")

    def not_found(self, what: str, key: str, value: str) -> Response:
        return self.error(404, "Assistant not found", f"No assistant found with the {key} '{value}'.",
                          "Check the assistant " + what + ".")

    # ---- authentication -------------------------------------------------------------------------------------
    def issuer(self, scope: Scope) -> str:
        if self.fixed_issuer is not None:
            return self.fixed_issuer
        host = _header(scope, b"host")
        if host is None:
            host = "localhost"
        issuer = self._issuers.get(host)
        if issuer is None:
            scheme = URL(scope=scope).scheme
            issuer = self._issuers[host] = f"{scheme}://{host}{self.keycloak_prefix}/realms/{self.realm}"
        return issuer

    def authenticate(self, scope: Scope) -> dict[str, Any] | Response:
        header = _header(scope, b"authorization")
        if header is None:
            if self.settings.broken("codemie.auth.not_enforced"):
                return {"sub": "8c2e4b1a-6f0d-4c55-9a3e-2d7f3b9e0c11", "preferred_username": DEMO.username,
                        "applications": ["demo"], "exp": int(time.time()) + 300}
            return self.error(401, "Authentication failed", "Missing Authorization header", AUTH_HELP)
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return self.error(401, "Token validation failed", "Invalid or expired credentials", AUTH_HELP)
        try:
            return self.verifier.verify(token, self.issuer(scope))
        except InvalidToken:
            return self.error(401, "Token validation failed", "Invalid or expired credentials", AUTH_HELP)

    # ---- chat -----------------------------------------------------------------------------------------------
    async def chat(self, scope: Scope, receive: Receive, assistant: Assistant | None, key: str, value: str) -> Response:
        """The chat on the raw ASGI request (no Starlette ``Request``: this is what load runs hammer)."""
        broken = self.settings.broken
        # the body is read and decoded before authentication, as FastAPI does (unless a contract break says not)
        claims = self.authenticate(scope) if broken("codemie.body.after_auth") else None
        if not isinstance(claims, Response):
            try:
                body = decode_chat_body(await read_body(receive), _header(scope, b"content-type"))
            except BodyUndecodable as exc:
                return JSONAnswer({"detail": str(exc)}, status_code=400)
            except ValidationFailed as exc:
                return self.server_bug() if broken("codemie.bug.malformed_json_500") else self.invalid(exc)
            if claims is None:
                claims = self.authenticate(scope)
        if isinstance(claims, Response):
            return claims
        if ((broken("codemie.bug.numeric_body_500") and isinstance(body, int | float))  # bool is an int here
                or (broken("codemie.bug.content_type_500") and isinstance(body, bytes))):
            return self.server_bug()
        try:
            query_string = scope.get("query_string")
            ask = parse_chat(body, QueryParams(query_string) if query_string else {}, bends=self.bends)
        except ValidationFailed as exc:
            return self.invalid(exc)
        except DomainInvalid as exc:
            return self.error(422, str(exc), None, None)
        if assistant is None:
            return self.not_found(key, key, value)
        refused = self.refuse(assistant, ask, claims)
        if refused is not None:
            return refused
        if broken("codemie.chat.500_on_input") and ask.text and not ask.text.isascii():
            return self.error(500, "Assistant Error", "'ascii' codec can't encode the input", None)
        answer = _answer_text(assistant, ask.text)
        structured: Any = _example(ask.output_schema) if ask.output_schema is not None else None
        if ask.stream:
            cut = self.settings.stream_cut_rate > 0 and self.cuts.random() < self.settings.stream_cut_rate
            # a structured answer streams as the JSON text of the object (json.dumps' spelling, as the server's)
            prose = structured is None or broken("codemie.stream.structured_prose")
            final = answer if prose else json.dumps(structured)
            return ChatStream(self.settings, split_answer(final, self.settings.chunks), final=final,
                              thought_id=_uuid4(), cut=cut)
        received, _ = received_at(scope)
        if ask.background_task:
            if ask.text is None and broken("codemie.bug.background_without_text_500"):
                return self.server_bug()
            body = self.answer_body("Task is running in the background", self.time_elapsed(0.0), None,
                                    str(uuid.uuid4()))
            return JSONAnswer(body, status_code=self.answer_status)
        await sleep_until(received + self.chat_delay)
        encoded = self.answer_template.fill(
            generated=answer if structured is None else structured,
            elapsed=self.time_elapsed(round(time.perf_counter() - received, 6)), thought_id=_uuid4(), answer=answer)
        return Response(encoded, status_code=self.answer_status, media_type="application/json")

    def server_bug(self) -> Response:
        """A 500 shaped as the real server's when its code crashes (the ``codemie.bug.*`` breaks copy its bugs)."""
        return self.error(500, "Internal Server Error. <br> Stacktrace: (apigate mock: a copy of the real server's "
                               "bug)", "An unexpected error occurred while processing the request.",
                          "Please try again later or contact support if the problem persists.")

    def time_elapsed(self, seconds: float) -> float | str:
        return str(seconds) if self.settings.broken("codemie.chat.wrong_type") else seconds

    def answer_body(self, generated: Any, elapsed: float | str, thoughts: Any, task_id: str | None = None
                    ) -> dict[str, Any]:
        """The non-streamed answer (encoded per request through :attr:`answer_template`). ``toolErrors`` is null
        also with include_tool_errors=true when no tool failed, as the real server answers."""
        body: dict[str, Any] = {
            "generated": generated, "timeElapsed": elapsed, "tokensUsed": None, "thoughts": thoughts,
            "taskId": task_id, "success": True, "agentError": None, "toolErrors": None,
        }
        if self.settings.broken("codemie.chat.missing_key"):
            del body["generated"]
        return body

    def refuse(self, assistant: Assistant, ask: ChatRequest, claims: Mapping[str, Any]) -> Response | None:
        """Read access (401), version (404), the conversation's owner (403), an interactive response (422)."""
        if not assistant.readable_by(Caller.from_claims(claims)):
            return self.access_denied()
        if ask.version is not None and ask.version not in assistant.versions:
            return self.error(404, "Version not found", f"Version {ask.version} not found for assistant {assistant.id}",
                              "Please verify the version number and try again")
        owner = self.conversations.get(ask.conversation_id) if ask.conversation_id is not None else None
        if owner is not None and owner != claims["sub"]:
            return self.error(403, "Access denied", "The conversation belongs to another user.", None)
        if ask.interactive_response is not None:  # the mock never asks for input: nothing can be answered
            return self.error(422, "Unknown interactive request_id", None, None)
        if ask.conversation_id is not None and owner is None:
            if len(self.conversations) >= CONVERSATION_LIMIT:
                self.conversations.clear()
            self.conversations[ask.conversation_id] = str(claims["sub"])
        return None


CHAT_PATH: Final = re.compile(r"/v1/assistants/([^/]+)/model")


class CodemieApp(Starlette):
    """Starlette, plus a direct path for ``POST /v1/assistants/{id}/model``: the chat is what load runs hammer,
    so it skips the router and the exception middlewares (the mock must never be a benchmark's bottleneck)."""

    codemie: _CodeMie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = CHAT_PATH.fullmatch(get_route_path(scope))
            if match is not None:
                scope["app"] = self
                assistant_id = match.group(1)
                cm = self.codemie
                response = await cm.chat(scope, receive, cm.by_id.get(assistant_id), "id", assistant_id)
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(
    settings: MockSettings | None = None, *, jwks: Mapping[str, Any], keycloak_prefix: str = DEMO.keycloak_prefix,
    realm: str = DEMO.realm,
) -> Starlette:
    """The CodeMie app. ``jwks``: the Keycloak realm's key set it trusts; the issuer it expects is
    ``settings.keycloak_url`` + ``/realms/{realm}``, else the request's own origin + ``keycloak_prefix``."""
    cm = _CodeMie(settings or MockSettings(), jwks, keycloak_prefix, realm)
    contract = ContractDocument("codemie", info={"title": INFO["message"], "description": INFO["description"],
                                                 "version": INFO["version"]})

    async def chat_by_id(request: Request) -> Response:
        assistant_id: str = request.path_params["assistant_id"]
        return await cm.chat(request.scope, request.receive, cm.by_id.get(assistant_id), "id", assistant_id)

    async def chat_by_slug(request: Request) -> Response:
        slug: str = request.path_params["slug"]
        assistant = find_by_slug(slug, request.query_params.get("project"))
        return await cm.chat(request.scope, request.receive, assistant, "slug", slug)

    async def change_assistant(request: Request) -> Response:
        claims = cm.authenticate(request.scope)
        if isinstance(claims, Response):
            return claims
        assistant_id: str = request.path_params["assistant_id"]
        if assistant_id not in cm.by_id:
            return cm.not_found("id", "id", assistant_id)
        return cm.error(403, "Access denied", "The demo assistants are read-only.", None)

    async def info(request: Request) -> Response:
        return JSONAnswer(INFO)

    async def healthcheck(request: Request) -> Response:
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return JSONAnswer({"status": "healthy", "memory_usage_mb": round(rss_kb / 1024, 1), "cpu_percent": 0.0,
                           "worker_pid": os.getpid()})

    app = CodemieApp(
        routes=[  # in the real app's order: the first route matching path and method answers (see _catalog_routes)
            *assistant_routes(cm),
            Route("/v1/assistants/{assistant_id}", change_assistant, methods=["PUT", "DELETE"]),
            Route("/v1/assistants/{assistant_id}/model", chat_by_id, methods=["POST"]),
            Route("/v1/assistants/slug/{slug}/model", chat_by_slug, methods=["POST"]),
            *neighbour_routes(cm),
            Route("/v1/info", info, methods=["GET"]),
            Route("/v1/healthcheck", healthcheck, methods=["GET"]),
            Route("/openapi.json", contract.endpoint, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_exception_handler},
    )
    for route in app.routes:  # FastAPI routes do not add HEAD to GET: HEAD is a 405, "Allow: GET" lists GET only
        if isinstance(route, Route) and route.methods is not None:
            route.methods.discard("HEAD")
    app.codemie = cm
    return app
