"""The CodeMie API ("code-assistant-api"): ask an assistant (plain or streamed), assistants, models, the user.

Paths are relative to the service URL (``.../code-assistant-api``): ``/v1/...``. Every call carries a Keycloak
bearer token from a :class:`~apigate.clients._auth.TokenProvider`; a 401 on a cached token re-authenticates once
and retries once. Asking an assistant is not idempotent, so it is never retried on 5xx/429 or a lost connection
unless ``retry_unsafe=True`` (requests that never reached the server are always retried).

Streamed answers (:meth:`CodemieClient.stream`) come as a :class:`~apigate.clients.stream.ChunkStream`: validated
chunks with their arrival times, whichever framing the server chose (``application/x-ndjson`` or SSE) and whichever
delta style it streams (thought messages, what the real server's default agent sends, or ``generated_chunk``).

The request follows the real server's request model: every field has a snake_case and a camelCase spelling (when a
body holds both, the server reads the camelCase one), history items may omit ``message``; ``output_schema`` asks for
a structured answer (non-streamed: ``generated`` is the object; streamed: the final chunk's ``generated`` is its JSON
text, :attr:`~apigate.clients.stream.StreamResult.structured` parses it).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal
from urllib.parse import quote

import httpx

from apigate.clients._auth import TokenProvider, authed
from apigate.clients._http import HttpSession, RetryPolicy, Timeouts, read_json, safe_url, transport_error
from apigate.clients.keycloak import Grant, KeycloakAuth
from apigate.clients.models import Assistant, AssistantAnswer, AssistantPage, HistoryItem, LLMModel, User
from apigate.clients.stream import ChunkStream
from apigate.config import Target

__all__ = ["CodemieClient", "ErrorDetailLevel", "HistoryItem"]

ErrorDetailLevel = Literal["minimal", "standard", "full"]
STREAM_ACCEPT = "application/x-ndjson, text/event-stream;q=0.9, application/json;q=0.5"


class CodemieClient:
    """A CodeMie API client. ``auth`` supplies bearer tokens (usually a :class:`KeycloakAuth`)."""

    def __init__(
        self,
        base_url: str,
        auth: TokenProvider,
        *,
        transport: httpx.BaseTransport | None = None,
        client: httpx.Client | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.auth = auth
        self.http = HttpSession(
            base_url, service="codemie", transport=transport, client=client, timeouts=timeouts, retry=retry,
            sleep=sleep, rng=rng,
        )
        self._owned: list[KeycloakAuth] = []

    @classmethod
    def from_target(
        cls,
        target: Target,
        *,
        transport: httpx.BaseTransport | None = None,
        auth: TokenProvider | None = None,
        grant: Grant | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> CodemieClient:
        """A client for ``target.codemie`` logging in at ``target.keycloak`` (unless ``auth`` is given)."""
        owned = None
        if auth is None:
            owned = KeycloakAuth.from_target(
                target, grant=grant, transport=transport, timeouts=timeouts, retry=retry, sleep=sleep, clock=clock
            )
            auth = owned
        client = cls(target.codemie.url, auth, transport=transport, timeouts=timeouts, retry=retry, sleep=sleep)
        if owned is not None:
            client._owned.append(owned)
        return client

    def __repr__(self) -> str:
        return f"CodemieClient({self.http.base_url!r}, auth={self.auth!r})"

    def close(self) -> None:
        self.http.close()
        for auth in self._owned:
            auth.close()

    def __enter__(self) -> CodemieClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        safe: bool | None = None,
    ) -> Any:
        def open_(headers: dict[str, str]) -> AbstractContextManager[httpx.Response]:
            response = self.http.request(method, path, params=params, json_body=json_body, headers=headers, safe=safe)
            return nullcontext(response)

        with authed(self.auth, open_) as response:
            return read_json(response)

    @staticmethod
    def _ask_body(
        text: str | None,
        *,
        stream: bool,
        history: Sequence[HistoryItem] | None,
        conversation_id: str | None,
        llm_model: str | None,
        extra: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text, "stream": stream}
        if history is not None:
            body["history"] = [dict(h) for h in history]
        if conversation_id is not None:
            body["conversation_id"] = conversation_id
        if llm_model is not None:
            body["llm_model"] = llm_model
        body.update(extra or {})
        return body

    @staticmethod
    def _with_schema(extra: Mapping[str, Any] | None, output_schema: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        return extra if output_schema is None else {**(extra or {}), "output_schema": dict(output_schema)}

    @staticmethod
    def _ask_params(include_tool_errors: bool, error_detail_level: ErrorDetailLevel | None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if include_tool_errors:
            params["include_tool_errors"] = "true"
        if error_detail_level is not None:
            params["error_detail_level"] = error_detail_level
        return params

    # -- asking an assistant ---------------------------------------------------------------------------------------
    def ask(
        self,
        assistant_id: str,
        text: str | None,
        *,
        history: Sequence[HistoryItem] | None = None,
        conversation_id: str | None = None,
        llm_model: str | None = None,
        include_tool_errors: bool = False,
        error_detail_level: ErrorDetailLevel | None = None,
        extra: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        retry_unsafe: bool = False,
    ) -> AssistantAnswer:
        """``POST /v1/assistants/{id}/model`` (not streamed). ``extra``: more body fields, sent as given;
        ``output_schema``: a JSON schema for a structured answer (``generated`` is then the object)."""
        return self._ask(
            f"/v1/assistants/{quote(assistant_id, safe='')}/model",
            text, history, conversation_id, llm_model, include_tool_errors, error_detail_level,
            self._with_schema(extra, output_schema), retry_unsafe, {},
        )

    def ask_slug(
        self,
        slug: str,
        text: str | None,
        *,
        project: str | None = None,
        history: Sequence[HistoryItem] | None = None,
        conversation_id: str | None = None,
        llm_model: str | None = None,
        include_tool_errors: bool = False,
        error_detail_level: ErrorDetailLevel | None = None,
        extra: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        retry_unsafe: bool = False,
    ) -> AssistantAnswer:
        """``POST /v1/assistants/slug/{slug}/model`` (not streamed)."""
        return self._ask(
            f"/v1/assistants/slug/{quote(slug, safe='')}/model",
            text, history, conversation_id, llm_model, include_tool_errors, error_detail_level,
            self._with_schema(extra, output_schema), retry_unsafe, {"project": project},
        )

    def _ask(
        self,
        path: str,
        text: str | None,
        history: Sequence[HistoryItem] | None,
        conversation_id: str | None,
        llm_model: str | None,
        include_tool_errors: bool,
        error_detail_level: ErrorDetailLevel | None,
        extra: Mapping[str, Any] | None,
        retry_unsafe: bool,
        more_params: Mapping[str, Any],
    ) -> AssistantAnswer:
        body = self._ask_body(
            text, stream=False, history=history, conversation_id=conversation_id, llm_model=llm_model, extra=extra
        )
        params = {**self._ask_params(include_tool_errors, error_detail_level), **more_params}
        data = self._call("POST", path, params=params, json_body=body, safe=retry_unsafe)
        return AssistantAnswer.parse(data, where=f"POST {path}")

    def stream(
        self,
        assistant_id: str,
        text: str | None,
        *,
        history: Sequence[HistoryItem] | None = None,
        conversation_id: str | None = None,
        llm_model: str | None = None,
        include_tool_errors: bool = False,
        error_detail_level: ErrorDetailLevel | None = None,
        extra: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        retry_unsafe: bool = False,
        check_generated: bool = True,
    ) -> AbstractContextManager[ChunkStream]:
        """``POST /v1/assistants/{id}/model`` with ``stream: true``: a context manager yielding a :class:`ChunkStream`.

        ``with client.stream(aid, "hi") as chunks: for chunk in chunks: ...`` then ``chunks.result()``.
        Errors before the stream starts raise their :class:`~apigate.errors.HTTPError` on entering the block.
        With ``output_schema`` the final ``generated`` is the structured answer's JSON text (``result().structured``).
        """
        return self._stream(
            f"/v1/assistants/{quote(assistant_id, safe='')}/model", {}, text, history, conversation_id, llm_model,
            include_tool_errors, error_detail_level, self._with_schema(extra, output_schema), retry_unsafe,
            check_generated,
        )

    def stream_slug(
        self,
        slug: str,
        text: str | None,
        *,
        project: str | None = None,
        history: Sequence[HistoryItem] | None = None,
        conversation_id: str | None = None,
        llm_model: str | None = None,
        include_tool_errors: bool = False,
        error_detail_level: ErrorDetailLevel | None = None,
        extra: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        retry_unsafe: bool = False,
        check_generated: bool = True,
    ) -> AbstractContextManager[ChunkStream]:
        """``POST /v1/assistants/slug/{slug}/model`` with ``stream: true`` (see :meth:`stream`)."""
        return self._stream(
            f"/v1/assistants/slug/{quote(slug, safe='')}/model", {"project": project}, text, history,
            conversation_id, llm_model, include_tool_errors, error_detail_level,
            self._with_schema(extra, output_schema), retry_unsafe, check_generated,
        )

    @contextlib.contextmanager
    def _stream(
        self,
        path: str,
        more_params: Mapping[str, Any],
        text: str | None,
        history: Sequence[HistoryItem] | None,
        conversation_id: str | None,
        llm_model: str | None,
        include_tool_errors: bool,
        error_detail_level: ErrorDetailLevel | None,
        extra: Mapping[str, Any] | None,
        retry_unsafe: bool,
        check_generated: bool,
    ) -> Iterator[ChunkStream]:
        body = self._ask_body(
            text, stream=True, history=history, conversation_id=conversation_id, llm_model=llm_model, extra=extra
        )
        params = {**self._ask_params(include_tool_errors, error_detail_level), **more_params}
        sent_at = [0.0]

        def mark() -> None:
            sent_at[0] = time.perf_counter()

        def open_(headers: dict[str, str]) -> AbstractContextManager[httpx.Response]:
            return self.http.stream(
                "POST", path, params=params, json_body=body, headers={**headers, "Accept": STREAM_ACCEPT},
                safe=retry_unsafe, on_send=mark,
            )

        with authed(self.auth, open_) as response:
            yield ChunkStream(
                _reads(response),
                response.headers.get("content-type"),
                sent_at=sent_at[0],
                include_tool_errors=include_tool_errors,
                check_generated=check_generated,
                structured=asks_structured(body),
            )

    # -- neighbours ------------------------------------------------------------------------------------------------
    def list_assistants(
        self,
        *,
        scope: str = "visible_to_user",
        minimal_response: bool = False,
        filters: Mapping[str, Any] | str | None = None,
        page: int = 0,
        per_page: int = 12,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> AssistantPage:
        """``GET /v1/assistants`` (one page; ``filters`` keys such as ``search``, ``project``, ``categories``)."""
        params: dict[str, Any] = {
            "scope": scope,
            "minimal_response": "true" if minimal_response else "false",
            "page": page,
            "per_page": per_page,
        }
        if filters is not None:
            params["filters"] = filters if isinstance(filters, str) else json.dumps(dict(filters))
        if sort_by is not None:
            params["sort_by"] = sort_by
        if sort_order is not None:
            params["sort_order"] = sort_order
        return AssistantPage.parse(self._call("GET", "/v1/assistants", params=params), where="GET /v1/assistants")

    def get_assistant_by_slug(self, slug: str, *, project: str | None = None) -> Assistant:
        """``GET /v1/assistants/slug/{slug}`` (``project`` narrows the lookup)."""
        path = f"/v1/assistants/slug/{quote(slug, safe='')}"
        params = {"project": project} if project else None
        return Assistant.parse(self._call("GET", path, params=params), where=f"GET {path}")

    def list_prebuilt(self) -> list[dict[str, Any]]:
        """``GET /v1/assistants/prebuilt``: the prebuilt assistants (templates, without ids), as the server sends them."""
        data = self._call("GET", "/v1/assistants/prebuilt")
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    def get_assistant(self, assistant_id: str) -> Assistant:
        """``GET /v1/assistants/id/{assistant_id}``."""
        path = f"/v1/assistants/id/{quote(assistant_id, safe='')}"
        return Assistant.parse(self._call("GET", path), where=f"GET {path}")

    def list_models(self) -> tuple[LLMModel, ...]:
        """``GET /v1/llm_models``."""
        data = self._call("GET", "/v1/llm_models")
        return tuple(LLMModel.parse(m) for m in data) if isinstance(data, list) else ()

    def get_user(self) -> User:
        """``GET /v1/user``."""
        return User.parse(self._call("GET", "/v1/user"), where="GET /v1/user")

    def info(self) -> dict[str, Any]:
        """``GET /v1/info`` (no authentication)."""
        data = read_json(self.http.request("GET", "/v1/info"))
        return data if isinstance(data, dict) else {"value": data}


def asks_structured(body: Mapping[str, Any]) -> bool:
    """Whether the server reads a structured-output ask from ``body``: a non-empty ``output_schema`` object, the
    camelCase ``outputSchema`` winning when both are sent (an empty schema is ignored by the server)."""
    schema = body["outputSchema"] if "outputSchema" in body else body.get("output_schema")
    return isinstance(schema, Mapping) and bool(schema)


def _reads(response: httpx.Response) -> Iterator[bytes]:
    """The body as it arrives, with httpx failures translated (a lost connection becomes ConnectionLostError)."""
    request = response.request
    try:
        yield from response.iter_bytes()
    except httpx.RequestError as exc:
        raise transport_error(exc, request.method, safe_url(request.url)) from exc
