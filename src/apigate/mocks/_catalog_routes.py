"""The embedded CodeMie's read-only neighbours of the chat: assistants, their fixed paths, models, the user.

Routes (relative to the service URL), declared as the real app declares them, because Starlette (FastAPI's router)
takes the first route that matches path and method, else answers 405 for the first that matches the path::

    GET /v1/assistants                       list: scope, minimal_response, filters, page, per_page, sort_by/order
    GET /v1/assistants/users                 the creators of the assistants in a scope
    GET /v1/assistants/id/{assistant_id}     one assistant
    GET /v1/assistants/slug/{slug:path}      one assistant by slug (?project=); a path parameter, so it also takes
                                             ``.../slug/x/model``: GET there is a 404, OPTIONS a 405 "Allow: GET"
    GET /v1/assistants/prebuilt[/{slug}]     the prebuilt assistants (templates)
    GET /v1/assistants/tools, /builtin_subagents, /context?project_name=
                                             fixed paths: their own endpoints, before ``/v1/assistants/{id}``
    ... the chat and ``PUT``/``DELETE /v1/assistants/{assistant_id}`` (mocks/codemie.py) ...
    GET /v1/assistants/categories            categories (no authentication)
    GET /v1/llm_models                       models (?include_all=)
    GET /v1/user                             the caller: string ``email`` / ``picture`` ("" when unknown)
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Final, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from apigate.mocks._assistant_query import InvalidFilters, matching, page_of, parse_list_query
from apigate.mocks._caller import Caller
from apigate.mocks._catalog import (
    ASSISTANTS,
    CATEGORIES,
    DATASOURCES,
    PROJECTS,
    SUBAGENTS,
    TEMPLATES,
    TOOLKITS,
    Assistant,
    category_json,
    find_by_slug,
    template_by_slug,
    template_json,
)
from apigate.mocks._chat_request import ValidationFailed, parse_bool
from apigate.mocks._common import JSONAnswer
from apigate.mocks._llm_models import llm_models
from apigate.mocks.settings import MockSettings

__all__ = ["CodemieService", "assistant_routes", "neighbour_routes"]

INVALID_FILTERS_HELP: Final = "Please check the filters and ensure they are in the correct format. "
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class CodemieService(Protocol):
    """What these routes use of the CodeMie app (mocks/codemie.py)."""

    settings: MockSettings

    @property
    def by_id(self) -> Mapping[str, Assistant]: ...

    def authenticate(self, scope: Scope) -> dict[str, Any] | Response: ...

    def error(self, status: int, message: str, details: Any, help_text: str | None = None) -> Response: ...

    def invalid(self, exc: ValidationFailed) -> Response: ...

    def not_found(self, what: str, key: str, value: str) -> Response: ...

    def access_denied(self) -> Response: ...


def _authenticated(cm: CodemieService, answer: Callable[[Request, Caller], Response]) -> Handler:
    """A handler that authenticates first (401 before anything else, as the real server's dependency does)."""

    async def handler(request: Request) -> Response:
        claims = cm.authenticate(request.scope)
        if isinstance(claims, Response):
            return claims
        return answer(request, Caller.from_claims(claims))

    return handler


def _missing(name: str) -> ValidationFailed:
    return ValidationFailed([{"type": "missing", "loc": ["query", name], "msg": "Field required", "input": None}])


def assistant_routes(cm: CodemieService) -> list[Route]:
    """The ``GET /v1/assistants...`` routes that come before the chat and ``/v1/assistants/{assistant_id}``."""
    settings = cm.settings

    def detail(assistant: Assistant, caller: Caller) -> Response:
        if not assistant.readable_by(caller):
            return cm.access_denied()
        return JSONAnswer(assistant.full(caller, detail=True))

    def index(request: Request, caller: Caller) -> Response:
        params = request.query_params
        try:
            validate_sort = not (settings.broken("codemie.assistants.sort_unchecked")
                                 or settings.alternative("codemie.sort_ignored"))
            query = parse_list_query(params, validate_sort=validate_sort,
                                     check_page=not settings.broken("codemie.assistants.negative_page_500"),
                                     lenient=settings.alternative("codemie.lenient_list_query"))
        except ValidationFailed as exc:
            return cm.invalid(exc)
        except InvalidFilters as exc:
            if exc.not_an_object and settings.broken("codemie.assistants.filters_500"):
                return cm.error(500, "Internal Server Error", "'list' object has no attribute 'get'", None)
            return cm.error(400, "Invalid filters", str(exc), INVALID_FILTERS_HELP)
        if query.page < 0:  # only with the negative_page_500 break: the real server's answer
            return cm.error(500, "Internal Server Error", "OFFSET must not be negative", None)
        chosen = matching(query, caller, ASSISTANTS, TEMPLATES,
                          apply_filters=not settings.broken("codemie.assistants.filters_ignored"))
        body = page_of(query, chosen, caller)
        if settings.broken("codemie.assistants.pagination"):
            del body["pagination"]
        return JSONAnswer(body)

    def creators(request: Request, caller: Caller) -> Response:
        scope = request.query_params.get("scope", "visible_to_user")
        try:
            query = parse_list_query({"scope": scope})
        except ValidationFailed as exc:
            return cm.invalid(exc)
        people = {a.created_by.id: a.created_by.ref() for a in matching(query, caller, ASSISTANTS, TEMPLATES)}
        return JSONAnswer(list(people.values()))

    def by_id(request: Request, caller: Caller) -> Response:
        assistant_id: str = request.path_params["assistant_id"]
        assistant = cm.by_id.get(assistant_id)
        return cm.not_found("id", "id", assistant_id) if assistant is None else detail(assistant, caller)

    def by_slug(request: Request, caller: Caller) -> Response:
        slug: str = request.path_params["slug"]
        project = request.query_params.get("project")
        assistant = find_by_slug(slug, project)
        if assistant is None:
            where = f" in project '{project}'" if project else ""
            return cm.error(404, "Assistant not found", f"No assistant found with the slug '{slug}'{where}.",
                            "Check the assistant slug.")
        return detail(assistant, caller)

    def prebuilt(request: Request, caller: Caller) -> Response:
        return JSONAnswer([template_json(t, caller) for t in TEMPLATES])

    def prebuilt_by_slug(request: Request, caller: Caller) -> Response:
        slug: str = request.path_params["slug"]
        template = template_by_slug(slug)
        if template is None:
            return cm.error(404, "Prebuilt assistant not found", f"No prebuilt assistant found with the slug '{slug}'.",
                            "Please check the assistant slug and ensure it is correct. ")
        return JSONAnswer(template_json(template, caller))

    def tools(request: Request, caller: Caller) -> Response:
        return JSONAnswer(list(TOOLKITS.values()))

    def subagents(request: Request, caller: Caller) -> Response:
        return JSONAnswer(list(SUBAGENTS))

    def context(request: Request, caller: Caller) -> Response:
        project = request.query_params.get("project_name")
        if project is None:
            return cm.invalid(_missing("project_name"))
        visible = caller.is_admin or project in caller.projects
        return JSONAnswer([{"name": name, "context_type": kind, "id": id_}
                           for id_, name, kind, where in DATASOURCES if visible and where == project])

    if settings.broken("codemie.assistants.no_slug_route"):
        slug_routes: list[Route] = []
    else:
        slug_routes = [Route("/v1/assistants/slug/{slug:path}", _authenticated(cm, by_slug), methods=["GET"])]
    fixed = [
        Route("/v1/assistants/prebuilt", _authenticated(cm, prebuilt), methods=["GET"]),
        Route("/v1/assistants/prebuilt/{slug}", _authenticated(cm, prebuilt_by_slug), methods=["GET"]),
        Route("/v1/assistants/tools", _authenticated(cm, tools), methods=["GET"]),
        Route("/v1/assistants/builtin_subagents", _authenticated(cm, subagents), methods=["GET"]),
        Route("/v1/assistants/context", _authenticated(cm, context), methods=["GET"]),
    ]
    return [
        Route("/v1/assistants", _authenticated(cm, index), methods=["GET"]),
        *([] if settings.broken("codemie.assistants.fixed_paths_405") else
          [Route("/v1/assistants/users", _authenticated(cm, creators), methods=["GET"])]),
        Route("/v1/assistants/id/{assistant_id}", _authenticated(cm, by_id), methods=["GET"]),
        *slug_routes,
        *([] if settings.broken("codemie.assistants.fixed_paths_405") else fixed),
    ]


def neighbour_routes(cm: CodemieService) -> list[Route]:
    """Categories, models and the user (after the assistants' routes)."""

    async def categories(request: Request) -> Response:
        return JSONAnswer([category_json(c) for c in CATEGORIES])

    def models(request: Request, caller: Caller) -> Response:
        errors: list[dict[str, Any]] = []
        value = request.query_params.get("include_all")
        include_all = parse_bool(value, ("query", "include_all"), errors) if value is not None else False
        return cm.invalid(ValidationFailed(errors)) if errors else JSONAnswer(llm_models(include_all=include_all))

    def user(request: Request, caller: Caller) -> Response:
        return JSONAnswer(caller.profile(PROJECTS, null_strings=cm.settings.broken("codemie.user.null_strings")))

    return [
        Route("/v1/assistants/categories", categories, methods=["GET"]),
        Route("/v1/llm_models", _authenticated(cm, models), methods=["GET"]),
        Route("/v1/user", _authenticated(cm, user), methods=["GET"]),
    ]

