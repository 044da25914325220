"""``GET /v1/assistants``: the query parameters, the scopes, the ``filters`` keys, sorting and pagination.

As the real server (its assistants router, repository and filter services):

* query parameters are validated first (422 with every error): ``scope`` enum, ``minimal_response`` bool,
  ``page`` / ``per_page`` ints, ``sort_by`` (``usage``, ``likes``, ``dislikes``, ``name``) and ``sort_order``
  (``asc``, ``desc``) — an unknown value is 422. Then ``filters`` must be a JSON text, else 400 "Invalid filters".
* scopes: ``visible_to_user`` the caller's non-global assistants (shared ones of its projects, the ones it manages);
  ``marketplace`` the global ones; ``all`` both; ``created_by_user`` its own; ``project_with_marketplace`` the
  non-global ones of ``filters.project`` plus every global one; ``templates`` the prebuilt assistants.
* ``filters`` keys (unknown keys ignored; empty values skipped): ``search`` (in name, description or id, name
  matches first), ``project``, ``created_by`` (the creator's name), ``id``, ``slug``, ``categories`` (any of) — a
  string or a list —, ``shared`` and ``is_global`` (bool), ``created_date`` (a date-time: equal, or an object of
  comparisons ``>=``, ``<=``, ``>``, ``<``, ``==``, ``!=``). In ``project_with_marketplace`` only ``project`` and
  ``search`` (on the name) apply; for ``templates``, ``search`` / ``name``, ``categories`` and ``created_by`` (name
  or username).
* order: ``marketplace`` by popularity (unique users), ``project_with_marketplace`` project assistants first then
  the global ones by popularity, otherwise the latest update first; ``sort_by`` orders by its field instead.

Where the real server fails (a ``filters`` JSON text that is not an object, a negative ``page``, ``per_page`` 0: it
answers 500) the mock answers what the contract states: 400 "Invalid filters", and 422 for the page numbers. A
filter value of the wrong type is 400 "Invalid filters" too (the real server's reaction is not observed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from apigate.mocks._caller import Caller
from apigate.mocks._catalog import Assistant, template_json
from apigate.mocks._chat_request import ValidationFailed, parse_bool, parse_int

__all__ = [
    "SCOPES", "SORT_FIELDS", "SORT_ORDERS", "InvalidFilters", "ListQuery", "matching", "page_of", "parse_list_query",
]

SCOPES: Final = ("project_with_marketplace", "visible_to_user", "created_by_user", "marketplace", "all", "templates")
SORT_FIELDS: Final[Mapping[str, Callable[[Assistant], Any]]] = {
    "usage": lambda a: a.users, "likes": lambda a: a.likes, "dislikes": lambda a: a.dislikes,
    "name": lambda a: a.name.casefold(),
}
SORT_ORDERS: Final = ("asc", "desc")
LIST_KEYS: Final = ("project", "created_by", "id", "slug", "categories")  # a string or a list of strings
BOOL_KEYS: Final = ("shared", "is_global")
COMPARISONS: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq, "!=": operator.ne,
}


class InvalidFilters(Exception):
    """``filters`` cannot be used: 400 "Invalid filters" with this text as details. ``not_an_object``: the text
    is JSON, but not an object (the case the real server fails on)."""

    def __init__(self, details: str, *, not_an_object: bool = False) -> None:
        super().__init__(details)
        self.not_an_object = not_an_object


@dataclass(frozen=True)
class ListQuery:
    scope: str = "visible_to_user"
    minimal: bool = False
    page: int = 0
    per_page: int = 12
    sort_by: str | None = None
    sort_order: str = "desc"
    filters: Mapping[str, Any] = field(default_factory=dict)


def _enum_error(name: str, value: str, allowed: Sequence[str]) -> dict[str, Any]:
    expected = ", ".join(f"'{v}'" for v in allowed[:-1]) + f" or '{allowed[-1]}'"
    return {"type": "enum", "loc": ["query", name], "msg": f"Input should be {expected}", "input": value,
            "ctx": {"expected": expected}}


def _at_least(name: str, value: int, minimum: int, errors: list[dict[str, Any]]) -> None:
    if value < minimum:
        errors.append({"type": "greater_than_equal", "loc": ["query", name],
                       "msg": f"Input should be greater than or equal to {minimum}", "input": str(value),
                       "ctx": {"ge": minimum}})


def parse_list_query(params: Mapping[str, str], *, validate_sort: bool = True, check_page: bool = True,
                     lenient: bool = False) -> ListQuery:
    """The list query; :class:`ValidationFailed` (422) for bad parameters, :class:`InvalidFilters` (400) after.

    ``validate_sort=False`` is a contract break (unknown sort values accepted); ``check_page=False`` lets a
    negative ``page`` through, for the break that answers it as the real server does. ``lenient`` (the mock's
    ``--variant independent``): page numbers out of bounds give the first page / the default size, and filter
    values of another type are skipped, instead of 422 / 400.
    """
    if lenient:
        params = _within_bounds(params)
    errors: list[dict[str, Any]] = []
    scope = params.get("scope", "visible_to_user")
    if scope not in SCOPES:
        errors.append(_enum_error("scope", scope, SCOPES))
    minimal = parse_bool(params["minimal_response"], ("query", "minimal_response"), errors) \
        if "minimal_response" in params else False
    page = parse_int(params["page"], ("query", "page"), errors) if "page" in params else 0
    per_page = parse_int(params["per_page"], ("query", "per_page"), errors) if "per_page" in params else 12
    if check_page:
        _at_least("page", page, 0, errors)
    _at_least("per_page", per_page, 1, errors)
    sort_by = params.get("sort_by")
    sort_order = params.get("sort_order", "desc")
    if validate_sort:
        if sort_by is not None and sort_by not in SORT_FIELDS:
            errors.append(_enum_error("sort_by", sort_by, tuple(SORT_FIELDS)))
        if sort_order not in SORT_ORDERS:
            errors.append(_enum_error("sort_order", sort_order, SORT_ORDERS))
    if errors:
        raise ValidationFailed(errors)
    filters: Any = {}
    if params.get("filters"):
        try:
            filters = json.loads(params["filters"])
        except ValueError:
            raise InvalidFilters("Filters must be a valid encoded JSON object.") from None
        if not isinstance(filters, dict):
            raise InvalidFilters("Filters must be a valid encoded JSON object.", not_an_object=True)
        if lenient:
            filters = {key: value for key, value in filters.items() if _usable({key: value})}
        _check_filter_types(filters)
    return ListQuery(scope, minimal, page, per_page, sort_by if sort_by in SORT_FIELDS else None,
                     sort_order if sort_order in SORT_ORDERS else "desc", filters)


def _within_bounds(params: Mapping[str, str]) -> dict[str, str]:
    out = dict(params)
    for name, least, default in (("page", 0, "0"), ("per_page", 1, "12")):
        with contextlib.suppress(ValueError):
            if int(out.get(name, default)) < least:
                out[name] = default
    return out


def _usable(filters: Mapping[str, Any]) -> bool:
    try:
        _check_filter_types(filters)
    except InvalidFilters:
        return False
    return True


def _is_text_list(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _check_filter_types(filters: Mapping[str, Any]) -> None:
    for key, value in filters.items():
        if value is None:
            continue
        if key == "search" and not isinstance(value, str):
            raise InvalidFilters(f"Filter '{key}' must be a string.")
        if key in LIST_KEYS and not _is_text_list(value):
            raise InvalidFilters(f"Filter '{key}' must be a string or a list of strings.")
        if key in BOOL_KEYS and not isinstance(value, bool):
            raise InvalidFilters(f"Filter '{key}' must be true or false.")
        if key == "created_date":
            comparisons = value if isinstance(value, dict) else {"==": value}
            for op, moment in comparisons.items():
                if op not in COMPARISONS:
                    raise InvalidFilters(f"Unsupported comparison operator: {op}")
                if _moment(moment) is None:
                    raise InvalidFilters(f"Filter 'created_date' needs ISO 8601 dates, not {moment!r}.")


def _moment(value: Any) -> dt.datetime | None:
    """An ISO 8601 date or date-time as a naive UTC datetime (the server stores naive UTC); None if it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip().upper().replace("Z", "+00:00")
    try:
        moment = dt.datetime.fromisoformat(text.replace(":60", ":59"))  # a leap second reads as its second before
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _wanted(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _used(value: Any) -> bool:
    """The server skips empty filter values (``""``, ``[]``, ``{}``, null) but not ``false``."""
    return bool(value) or value is False


def _search_rank(assistant: Assistant, text: str) -> int | None:
    """Where ``text`` occurs (case-insensitive): 0 the name, 1 the description, 2 the id; None: nowhere."""
    needle = text.casefold()
    for rank, haystack in enumerate((assistant.name, assistant.description, assistant.id)):
        if needle in haystack.casefold():
            return rank
    return None


def _matches(assistant: Assistant, filters: Mapping[str, Any]) -> bool:
    for key, value in filters.items():
        if not _used(value):
            continue
        if key == "search" and _search_rank(assistant, value) is None:
            return False
        if key in ("project", "id", "slug") and getattr(assistant, key) not in _wanted(value):
            return False
        if key == "created_by" and assistant.created_by.name not in _wanted(value):
            return False
        if key == "categories" and not set(_wanted(value)) & set(assistant.categories):
            return False
        if key in BOOL_KEYS and getattr(assistant, key) is not value:
            return False
        if key == "created_date":
            comparisons = value if isinstance(value, dict) else {"==": value}
            for op, moment in comparisons.items():
                if not COMPARISONS[op](assistant.created, _moment(moment)):
                    return False
    return True


def _in_scope(assistant: Assistant, scope: str, caller: Caller) -> bool:
    if scope == "marketplace":
        return assistant.is_global
    if scope == "created_by_user":
        return assistant.created_by.id == caller.id
    if scope == "all":
        return assistant.readable_by(caller)
    return not assistant.is_global and assistant.readable_by(caller)  # visible_to_user


def _project_with_marketplace(assistant: Assistant, filters: Mapping[str, Any], caller: Caller) -> bool:
    search = filters.get("search")
    if _used(search) and str(search).casefold() not in assistant.name.casefold():
        return False
    if assistant.is_global:
        return True
    project = filters.get("project")
    return assistant.readable_by(caller) and (not _used(project) or assistant.project in _wanted(project))


def _default_order(scope: str) -> Callable[[Assistant], tuple[Any, ...]]:
    def latest(a: Assistant) -> tuple[Any, ...]:
        return (-a.updated.timestamp(), a.id)

    if scope == "marketplace":
        return lambda a: (-a.users, *latest(a))
    if scope == "project_with_marketplace":
        return lambda a: (a.is_global, -a.users if a.is_global else 0, *latest(a))
    return latest


def _ordered(items: list[Assistant], query: ListQuery) -> list[Assistant]:
    ordered = sorted(items, key=_default_order(query.scope))
    search = query.filters.get("search")
    if isinstance(search, str) and search and query.scope != "project_with_marketplace":
        ordered.sort(key=lambda a: _search_rank(a, search) or 0)  # stable: name matches first
    if query.sort_by is not None:
        ordered.sort(key=SORT_FIELDS[query.sort_by], reverse=query.sort_order == "desc")
    return ordered


def _templates(templates: Sequence[Assistant], filters: Mapping[str, Any]) -> list[Assistant]:
    name = filters.get("search") or filters.get("name")
    categories = filters.get("categories")
    creator = filters.get("created_by")
    return [t for t in templates
            if (not name or str(name).casefold() in t.name.casefold())
            and (not categories or set(_wanted(categories)) & set(t.categories))
            and (not creator or creator in (t.created_by.name, t.created_by.username))]


def matching(query: ListQuery, caller: Caller, assistants: Sequence[Assistant], templates: Sequence[Assistant], *,
             apply_filters: bool = True) -> list[Assistant]:
    """Every assistant of the query's scope that its filters match, in the query's order (``apply_filters=False``:
    the contract break that ignores ``filters``)."""
    filters = query.filters if apply_filters else {}
    if query.scope == "templates":
        return _templates(templates, filters)
    if query.scope == "project_with_marketplace":
        chosen = [a for a in assistants if _project_with_marketplace(a, filters, caller)]
    else:
        chosen = [a for a in assistants if _in_scope(a, query.scope, caller) and _matches(a, filters)]
    return _ordered(chosen, dataclasses.replace(query, filters=filters))


def page_of(query: ListQuery, chosen: Sequence[Assistant], caller: Caller) -> dict[str, Any]:
    """The answer: ``{"data": [one page of items], "pagination": {page, per_page, total, pages}}``."""
    if query.scope == "templates":
        render: Callable[[Assistant], dict[str, Any]] = lambda t: template_json(t, caller)  # noqa: E731
    else:
        render = (lambda a: a.minimal(caller)) if query.minimal else (lambda a: a.full(caller))
    start = query.page * query.per_page
    return {"data": [render(a) for a in chosen[start:start + query.per_page]],
            "pagination": {"page": query.page, "per_page": query.per_page, "total": len(chosen),
                           "pages": math.ceil(len(chosen) / query.per_page)}}
