"""The embedded Basejump AI API: API keys, refresh and access tokens, users, teams, connections, chats, messages.

Routes are relative to the service URL (``.../api/v1``); every path ends with ``/``::

    POST /account/user/?username=&role=[&email=]         create a user            (header client-secret)
    POST /auth/token/?user_uuid=                          a refresh token          (header client-secret)
    POST /auth/access_token/?user_uuid=                   an access token          (Bearer refresh token)
    POST /auth/access-token/?user_uuid=                   the same (v1.2.0 dashed alias)
    POST /account/team/?team_name=[&team_desc=]           create a team            (Bearer access token)
    POST /connection/database/                            connect a database (JSON body)
    POST /connection/{conn_uuid}/team/                    give teams the connection {"team_uuids": [...]}
    POST /account/user/{user_uuid}/team/{team_uuid}/      add a user to a team
    POST /chat/team/{team_uuid}/                          start a chat (optional {"messages": [...]})
    POST /chat/{chat_uuid}/message/                       ask: the agent's message object
    GET  /openapi.json                                    the Basejump contract, as data

Decisions where Basejump publishes nothing (the contract's ASSUMPTIONs; keep them in step with
``contracts/README.md``):

* Order of checks, as FastAPI: credentials (401) before request validation (422), then the resources (404), then
  permissions (403). Missing credentials answer 401 ``Not authenticated``; a wrong key, a bad, expired or
  wrong-kind token, and an access-token request whose ``user_uuid`` is not the refresh token's subject answer 401.
* The demo API keys (``apigate.config.DEMO``) are OWNER, ADMIN and MEMBER keys of one tenant. A key creates users of
  a LOWER role only (SERVICE_MEMBER and SUB_MEMBER rank as MEMBER; OWNER is never created): 403 ``A higher level of
  access is required``. Other operations need no particular role.
* A malformed uuid (path, query or body) is a 422 ``uuid_parsing`` error, as FastAPI's ``UUID`` parameters; a
  well-formed uuid the tenant does not have is 404. A path without its trailing ``/`` is 404 (no redirect).
* Creating a team does not make its creator a member; a chat on a team the caller has not joined is 403, and so is
  a message in a chat by someone who neither started it nor belongs to its team.
* The synchronous connection test fails (400 ``Database credentials are incorrect``) when the password is
  ``wrong`` or the host ends in ``.invalid`` (a name that never resolves). A connection whose ``database_name``
  starts with ``indexing`` never finishes indexing. A message in a chat whose team has no connection, or only
  connections still indexing, is a 200 message of ``msg_type`` ``error`` (agent failures are not HTTP errors).
* Validation is strict about JSON types (``"port": "5432"`` is 422), as the contract.

``--variant independent`` answers each of these assumptions the other way (``basejump.*`` in
:data:`apigate.mocks.settings.ALTERNATIVES`): what an independent server written from the same public facts might do.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apigate.config import DEMO
from apigate.mocks import _basejump_validate as check
from apigate.mocks._basejump_state import (
    Chat,
    Connection,
    InvalidToken,
    State,
    Team,
    TokenIssuer,
    User,
    new_uuid,
)
from apigate.mocks._common import ContractDocument, JSONAnswer, received_at
from apigate.mocks.settings import MockSettings
from apigate.mocks.timing import sleep_until

__all__ = ["HIGHER_ACCESS", "RANKS", "TENANT", "create_app"]

TENANT: Final = "6f1c2b7e-3d4a-4e5f-9a0b-1c2d3e4f5a6b"  # the demo keys' client (one tenant)
RANKS: Final = {"OWNER": 3, "ADMIN": 2, "MEMBER": 1, "SERVICE_MEMBER": 1, "SUB_MEMBER": 1}
HIGHER_ACCESS: Final = "A higher level of access is required"
NOT_MEMBER: Final = "User is not a member of this team"
BAD_CREDENTIALS: Final = "Database credentials are incorrect"
_HOW_MANY: Final = re.compile(r"how\s+many\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)
_WORD: Final = re.compile(r"[a-z_][a-z0-9_]{2,}", re.IGNORECASE)
_STOP: Final = frozenset({"the", "are", "there", "what", "which", "show", "list", "give", "all", "how", "many",
                          "per", "for", "and", "with", "from", "our", "top", "most", "each", "by"})

Handler = Callable[[Request], Awaitable[Response]]


class _Fail(Exception):
    """Answer ``response`` now (raised from the auth and lookup helpers)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _utc(stamp: float | None = None) -> str:
    moment = datetime.now(UTC) if stamp is None else datetime.fromtimestamp(stamp, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


class _Basejump:
    def __init__(self, settings: MockSettings) -> None:
        self.settings = settings
        self.state = State()
        self.tokens = TokenIssuer()
        self.keys: dict[str, tuple[str, str]] = {
            DEMO.basejump_owner_key: ("OWNER", TENANT),
            DEMO.basejump_admin_key: ("ADMIN", TENANT),
            DEMO.basejump_member_key: ("MEMBER", TENANT),
        }
        self.detail = "message" if settings.broken("basejump.error.envelope") else "detail"
        self.access_kinds = frozenset({"access", "refresh"} if settings.broken("basejump.auth.refresh_as_access")
                                      else {"access"})
        self.refresh_kinds = frozenset({"refresh", "access"} if settings.broken("basejump.auth.access_as_refresh")
                                       else {"refresh"})
        self.latency = (settings.added_latency_ms + settings.basejump_message_latency_ms) / 1000

    # ---- answers --------------------------------------------------------------------------------------------
    def error(self, status: int, text: str, headers: dict[str, str] | None = None) -> Response:
        return JSONAnswer({self.detail: text}, status_code=status, headers=headers)

    def fail(self, status: int, text: str, headers: dict[str, str] | None = None) -> _Fail:
        return _Fail(self.error(status, text, headers))

    def invalid(self, exc: check.Invalid) -> Response:
        return JSONAnswer({self.detail: exc.errors}, status_code=422)

    def endpoint(self, handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except _Fail as answer:
                return answer.response
            except check.Invalid as exc:
                return self.invalid(exc)

        return run

    async def routing_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONAnswer({self.detail: exc.detail}, status_code=exc.status_code, headers=exc.headers)

    # ---- credentials ----------------------------------------------------------------------------------------
    def not_authenticated(self, scheme: str) -> _Fail:
        """Missing credentials: 401 (the contract's assumption), or FastAPI < 0.115's 403 (the alternative)."""
        if self.settings.alternative("basejump.missing_credentials_403"):
            return self.fail(403, "Not authenticated")
        return self.fail(401, "Not authenticated", {"WWW-Authenticate": scheme})

    def api_key(self, request: Request) -> tuple[str, str]:
        """``(role, tenant)`` of the ``client-secret`` header's key."""
        key = request.headers.get("client-secret")
        if not key:
            raise self.not_authenticated("APIKey")
        found = self.keys.get(key)
        if found is None:
            raise self.fail(401, "Invalid API key", {"WWW-Authenticate": "APIKey"})
        return found

    def bearer(self, request: Request, kinds: frozenset[str]) -> User:
        """The user a Bearer token of one of ``kinds`` speaks for."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if not header:
            raise self.not_authenticated("Bearer")
        if scheme.lower() != "bearer" or not token:
            raise self.fail(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})
        try:
            claims = self.tokens.verify(token, kinds)
        except InvalidToken as exc:
            raise self.fail(401, str(exc), {"WWW-Authenticate": "Bearer"}) from None
        user = self.state.user(claims["sub"], claims["cid"])
        if user is None:
            raise self.fail(401, "Could not validate credentials", {"WWW-Authenticate": "Bearer"})
        return user

    # ---- lookups (404 for unknown or other-tenant ids) ------------------------------------------------------
    def team(self, team_uuid: str, client: str) -> Team:
        team = self.state.team(team_uuid, client)
        if team is None:
            raise self.fail(404, "Team not found")
        return team

    def uuid(self, errors: check.Errors, value: Any, loc: tuple[str, str]) -> str | None:
        """A uuid parameter: a malformed one is a 422 error (FastAPI's ``UUID``), or — the alternative — looked up
        as text and not found (404)."""
        if self.settings.alternative("basejump.malformed_uuid_404"):
            parsed = check.Errors().uuid(value, loc)
            if parsed is None:
                raise self.fail(404, "Not found")
            return parsed
        return errors.uuid(value, loc)

    def user(self, user_uuid: str, client: str) -> User:
        user = self.state.user(user_uuid, client)
        if user is None:
            raise self.fail(404, "User not found")
        return user

    # ---- the agent ------------------------------------------------------------------------------------------
    def answer(self, chat: Chat, caller: User, prompt: str, prompt_time: str) -> dict[str, Any]:
        """The agent's message for ``prompt``: an SQL answer, or an error message when it cannot work."""
        team = self.state.teams.get(chat.team_uuid)
        connections = [c for c in (self.state.connections.get(u) for u in (team.connections if team else ()))
                       if c is not None]
        ready = [c for c in connections if not c.indexing]
        sql: str | None = None
        result_type: str | None = None
        result_uuid: str | None = None
        if not connections:
            msg_type, content = "error", ("This team has no database connection. Connect a database and give the "
                                          "team access to it before asking questions.")
        elif not ready:
            msg_type, content = "error", ("The database is still being indexed. Please try again once indexing "
                                          "has finished.")
        else:
            msg_type, content, sql, result_type = _sql_answer(ready[0], prompt)
            result_uuid = new_uuid()
        if self.settings.broken("basejump.message.bad_enum"):
            msg_type = "answer"
        parent = chat.messages[-1]["msg_uuid"] if chat.messages else chat.chat_uuid
        message = {
            "role": "assistant",
            "msg_type": msg_type,
            "content": content,
            "timestamp": _utc(),
            "msg_uuid": new_uuid(),
            "result_uuid": result_uuid,
            "sql_query": sql,
            "result_type": result_type,
            "visual_result_uuid": None,
            "visual_json": None,
            "visual_explanation": None,
            "saved_result_uuid": None,
            "prompt_uuid": new_uuid(),
            "initial_prompt": prompt,
            "prompt_time": prompt_time,
            "parent_msg_uuid": parent,
            "verified": False,
            "verified_user_role": None,
            "verified_user_uuid": None,
            "can_verify": RANKS.get(caller.role, 0) >= RANKS["ADMIN"],
            "thumbs_up": None,
        }
        chat.messages.append(message)
        return message


def _sql_answer(conn: Connection, prompt: str) -> tuple[str, str, str, str]:
    """A deterministic, plausible answer: ``(msg_type, content, sql_query, result_type)``."""
    schema = conn.schema
    quoted = "`" if conn.database_type == "mysql" else '"'
    count = _HOW_MANY.search(prompt)
    if count:
        table = count.group(1).lower()
        n = 100 + zlib.crc32(f"{conn.db_uuid}:{table}".encode()) % 9900
        sql = f"SELECT COUNT(*) AS {table}_count FROM {quoted}{schema}{quoted}.{quoted}{table}{quoted};"  # noqa: S608 - text, never run
        return "response", f"There are {n:,} {table} in {conn.database_name}.", sql, "metric"
    words = [w.lower() for w in _WORD.findall(prompt) if w.lower() not in _STOP]
    table = words[0] if words else "records"
    limit = "TOP 100 *" if conn.database_type == "sql_server" else "*"
    tail = "" if conn.database_type == "sql_server" else " LIMIT 100"
    sql = f"SELECT {limit} FROM {quoted}{schema}{quoted}.{quoted}{table}{quoted}{tail};"  # noqa: S608
    content = f"Here are the first 100 rows of {table} from {conn.database_name}. Fetch them with the result uuid."
    return "response", content, sql, "dataset"


def create_app(settings: MockSettings) -> Starlette:
    """The Basejump app, routes relative to the service URL (mounted at ``/api/v1`` by the combined origin)."""
    bj = _Basejump(settings)
    state = bj.state
    contract = ContractDocument("basejump")
    min_name = 0 if settings.alternative("basejump.empty_names") else 1
    bare = settings.alternative("basejump.bare_answers")

    def query(request: Request, errors: check.Errors, name: str, *, required: bool = True) -> Any:
        value = request.query_params.get(name)
        if value is None and required:
            errors.missing(("query", name))
        return value

    async def body(request: Request, errors: check.Errors, *, required: bool) -> Any:
        raw = await request.body()
        return check.parse_json_body(raw, request.headers.get("content-type", ""), errors, required=required)

    # 1. users ------------------------------------------------------------------------------------------------
    async def create_user(request: Request) -> Response:
        key_role, client = bj.api_key(request)
        errors = check.Errors()
        username = query(request, errors, "username")
        if username is not None:
            username = errors.string(username, ("query", "username"), min_length=min_name)
        role = query(request, errors, "role")
        if role is not None:
            role = errors.enum(role, ("query", "role"), check.ROLES)
        email = query(request, errors, "email", required=False)
        errors.raise_if_any()
        assert isinstance(username, str) and isinstance(role, str)
        allowed = RANKS[key_role] > RANKS[role] or settings.broken("basejump.roles.not_enforced")
        if role == "OWNER" or not allowed:
            return bj.error(403, HIGHER_ACCESS)
        user = User(new_uuid(), username, role, email, client)
        state.users.add(user.user_uuid, user)
        return JSONAnswer({"user_uuid": user.user_uuid} if bare else user.created())

    # 2.-3. tokens --------------------------------------------------------------------------------------------
    def user_uuid_param(request: Request) -> str:
        errors = check.Errors()
        raw = query(request, errors, "user_uuid")
        value = bj.uuid(errors, raw, ("query", "user_uuid")) if raw is not None else None
        errors.raise_if_any()
        assert value is not None
        return value

    async def refresh_token(request: Request) -> Response:
        _, client = bj.api_key(request)
        user = bj.user(user_uuid_param(request), client)
        return JSONAnswer({"refresh_token": bj.tokens.issue("refresh", user, settings.basejump_refresh_lifetime_s)})

    async def access_token(request: Request) -> Response:
        holder = bj.bearer(request, bj.refresh_kinds)
        user_uuid = user_uuid_param(request)
        if user_uuid != holder.user_uuid:
            if settings.alternative("basejump.user_mismatch_403"):
                return bj.error(403, "user_uuid does not match the token")
            if not settings.broken("basejump.user_uuid.unchecked"):
                return bj.error(401, "user_uuid does not match the token", {"WWW-Authenticate": "Bearer"})
            holder = bj.user(user_uuid, holder.client)
        return JSONAnswer({"access_token": bj.tokens.issue("access", holder, settings.basejump_access_lifetime_s)})

    # 4. teams ------------------------------------------------------------------------------------------------
    async def create_team(request: Request) -> Response:
        caller = bj.bearer(request, bj.access_kinds)
        errors = check.Errors()
        name = query(request, errors, "team_name")
        if name is not None:
            name = errors.string(name, ("query", "team_name"), min_length=min_name)
        desc = query(request, errors, "team_desc", required=False)
        errors.raise_if_any()
        assert isinstance(name, str)
        team = Team(new_uuid(), name, desc, caller.client)
        if settings.alternative("basejump.creator_joins_team"):
            team.members.add(caller.user_uuid)
        state.teams.add(team.team_uuid, team)
        return JSONAnswer({"team_uuid": team.team_uuid} if bare else team.created())

    # 5.-6. connections ---------------------------------------------------------------------------------------
    async def create_connection(request: Request) -> Response:
        caller = bj.bearer(request, bj.access_kinds)
        errors = check.Errors()
        spec = check.database_connection(await body(request, errors, required=True), errors,
                                         allow_mssql=settings.broken("basejump.connection.bad_enum_ok"),
                                         lax=settings.alternative("basejump.lax_types"))
        errors.raise_if_any()
        assert spec is not None
        if spec["password"] == "wrong" or spec["host"].lower().rstrip(".").endswith(".invalid"):
            return bj.error(400, BAD_CREDENTIALS)
        schema = spec["schemas"][0]["schema_nm"] if spec["schemas"] else "public"
        alias = f"{spec['database_name']}_{spec['database_type']}"
        conn = Connection(new_uuid(), new_uuid(), alias, caller.client, spec["database_type"], spec["database_name"],
                          schema, indexing=spec["database_name"].lower().startswith("indexing"))
        state.connections.add(conn.conn_uuid, conn)
        return JSONAnswer({"conn_uuid": conn.conn_uuid, "db_uuid": conn.db_uuid, "database_name_alias": alias})

    async def connection_teams(request: Request) -> Response:
        caller = bj.bearer(request, bj.access_kinds)
        errors = check.Errors()
        conn_uuid = bj.uuid(errors, request.path_params["conn_uuid"], ("path", "conn_uuid"))
        team_uuids = check.team_uuids(await body(request, errors, required=True), errors)
        errors.raise_if_any()
        assert conn_uuid is not None and team_uuids is not None
        conn = state.connection(conn_uuid, caller.client)
        if conn is None:
            return bj.error(404, "Connection not found")
        targets = [bj.team(t, caller.client) for t in team_uuids]
        for team in targets:
            team.connections[conn.conn_uuid] = None
        return JSONAnswer(None if bare else {"conn_uuid": conn.conn_uuid, "team_uuids": [t.team_uuid for t in targets]})

    # 7. membership -------------------------------------------------------------------------------------------
    async def add_user_to_team(request: Request) -> Response:
        caller = bj.bearer(request, bj.access_kinds)
        errors = check.Errors()
        user_uuid = bj.uuid(errors, request.path_params["user_uuid"], ("path", "user_uuid"))
        team_uuid = bj.uuid(errors, request.path_params["team_uuid"], ("path", "team_uuid"))
        errors.raise_if_any()
        assert user_uuid is not None and team_uuid is not None
        user = bj.user(user_uuid, caller.client)
        team = bj.team(team_uuid, caller.client)
        team.members.add(user.user_uuid)
        return JSONAnswer(None if bare else {"user_uuid": user.user_uuid, "team_uuid": team.team_uuid})

    # 8.-9. chats ---------------------------------------------------------------------------------------------
    async def create_chat(request: Request) -> Response:
        caller = bj.bearer(request, bj.access_kinds)
        errors = check.Errors()
        team_uuid = bj.uuid(errors, request.path_params["team_uuid"], ("path", "team_uuid"))
        history = check.chat_history(await body(request, errors, required=False), errors,
                                     any_items=settings.alternative("basejump.history_items"))
        errors.raise_if_any()
        assert team_uuid is not None and history is not None
        team = bj.team(team_uuid, caller.client)
        if caller.user_uuid not in team.members and not settings.broken("basejump.chat.not_member_ok"):
            return bj.error(403, NOT_MEMBER)
        chat = Chat(new_uuid(), team.team_uuid, caller.user_uuid, caller.client)
        state.chats.add(chat.chat_uuid, chat)
        return JSONAnswer({"chat_uuid": chat.chat_uuid})

    async def chat_message(request: Request) -> Response:
        received, received_unix = received_at(request.scope)
        caller = bj.bearer(request, bj.access_kinds)
        errors = check.Errors()
        chat_uuid = bj.uuid(errors, request.path_params["chat_uuid"], ("path", "chat_uuid"))
        prompt = check.chat_prompt(await body(request, errors, required=True), errors,
                                   empty_timestamp_is_none=settings.alternative("basejump.empty_timestamp"))
        errors.raise_if_any()
        assert chat_uuid is not None and prompt is not None
        chat = state.chat(chat_uuid, caller.client)
        if chat is None:
            return bj.error(404, "Chat not found")
        team = state.teams.get(chat.team_uuid)
        if chat.owner != caller.user_uuid and (team is None or caller.user_uuid not in team.members):
            return bj.error(403, NOT_MEMBER)
        text, stamp = prompt
        await sleep_until(received + bj.latency)  # the agent "thinks" (the real one takes seconds)
        return JSONAnswer(bj.answer(chat, caller, text, stamp or _utc(received_unix)))

    dashed = [] if settings.alternative("basejump.no_dashed_alias") else [
        Route("/auth/access-token/", bj.endpoint(access_token), methods=["POST"])]
    app = Starlette(
        routes=[
            Route("/account/user/", bj.endpoint(create_user), methods=["POST"]),
            Route("/auth/token/", bj.endpoint(refresh_token), methods=["POST"]),
            Route("/auth/access_token/", bj.endpoint(access_token), methods=["POST"]),
            *dashed,
            Route("/account/team/", bj.endpoint(create_team), methods=["POST"]),
            Route("/connection/database/", bj.endpoint(create_connection), methods=["POST"]),
            Route("/connection/{conn_uuid}/team/", bj.endpoint(connection_teams), methods=["POST"]),
            Route("/account/user/{user_uuid}/team/{team_uuid}/", bj.endpoint(add_user_to_team), methods=["POST"]),
            Route("/chat/team/{team_uuid}/", bj.endpoint(create_chat), methods=["POST"]),
            Route("/chat/{chat_uuid}/message/", bj.endpoint(chat_message), methods=["POST"]),
            Route("/openapi.json", contract.endpoint, methods=["GET"]),
        ],
        exception_handlers={HTTPException: bj.routing_error},
    )
    app.router.redirect_slashes = False  # FastAPI would 307 to the slashed path; the mock answers 404 (simpler)
    app.state.basejump = bj
    return app
