"""CodeMie's explicit checks on the assistant catalogue: what a fuzzer cannot judge from one answer alone.

* ``assistants.search_filter`` — ``filters.search`` for a name nobody has gives an empty page (a server that
  ignores ``filters`` lists everything);
* ``assistants.unknown_sort_by`` — an unknown ``sort_by`` is 422 with the envelope (version-dependent: 0.16.0
  ignores ``sort_by``, so a 200 is a warning naming the contract's mark, a failure only with ``--strict``);
* ``assistants.filters_not_object`` — ``filters`` that is JSON but not an object is 400 "Invalid filters" (the
  real server 0.16.0 answers 500: a genuine bug this check reports);
* ``assistants.negative_page`` — ``page=-1`` is not a server error (0.16.0 answers 500; which 4xx or 200 a fixed
  server answers is not known, so any non-5xx answer passes);
* ``assistant.by_slug`` — the configured assistant is found by its slug (``GET /v1/assistants/slug/{slug}``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import quote

from apigate.config import Target
from apigate.contract.probe import Exchange, Prober
from apigate.errors import ContractViolation

__all__ = ["probe_catalogue"]

LIST_OP: Final = "GET /v1/assistants"
SLUG_OP: Final = "GET /v1/assistants/slug/{slug}"


def _snippet(exchange: Exchange) -> str:
    return exchange.content[:200].decode("utf-8", "replace")


def _empty_page(exchange: Exchange) -> None:
    if exchange.status != 200:
        raise ContractViolation(f"answered {exchange.status}", expected=200, actual=_snippet(exchange))
    body = exchange.json()
    data = body.get("data") if isinstance(body, dict) else None
    if data != []:
        count = len(data) if isinstance(data, list) else data
        raise ContractViolation("a search for a name no assistant has was not empty: the filters were ignored",
                                expected="data: []", actual=f"{count} assistant(s)")


def _not_a_server_error(exchange: Exchange) -> None:
    if exchange.status >= 500:
        raise ContractViolation(f"answered {exchange.status}", expected="not a server error (< 500)",
                                actual=_snippet(exchange))


def probe_catalogue(prober: Prober, target: Target, auth_headers: Callable[[], Mapping[str, str]]) -> None:
    base = target.codemie.url
    url = f"{base}/v1/assistants"

    def listing(**params: str) -> Callable[[], Exchange]:
        return lambda: prober.send("GET", url, headers=auth_headers(), params=params)

    nobody = f"apigate-no-such-assistant-{secrets.token_hex(6)}"
    prober.check(LIST_OP, "assistants.search_filter",
                 listing(scope="all", filters=json.dumps({"search": nobody})), _empty_page)
    prober.check(LIST_OP, "assistants.unknown_sort_by", listing(sort_by="apigate-unknown-field"),
                 prober.expect_error(422), cites=prober.parameter_places(LIST_OP, "sort_by"))
    prober.check(LIST_OP, "assistants.filters_not_object", listing(filters="[1]"), prober.expect_error(400))
    prober.check(LIST_OP, "assistants.negative_page", listing(page="-1"), _not_a_server_error)

    try:
        found = prober.send("GET", f"{base}/v1/assistants/id/{quote(target.codemie.assistant_id, safe='')}",
                            headers=auth_headers())
        assistant = found.json() if found.status == 200 else None
    except ContractViolation:  # not JSON, or the connection failed: GET .../id/{id} reports that itself
        assistant = None
    slug = assistant.get("slug") if isinstance(assistant, dict) else None
    if not isinstance(slug, str) or not slug:
        prober.notes.append(f"{SLUG_OP}: assistant.by_slug not judged: the configured assistant has no slug")
        return
    project = assistant.get("project") if isinstance(assistant, dict) else None
    params = {"project": project} if isinstance(project, str) and project else None

    def same_assistant(exchange: Exchange) -> None:
        if exchange.status != 200:
            raise ContractViolation(f"answered {exchange.status}", expected=200, actual=_snippet(exchange))
        body = exchange.json()
        if not isinstance(body, dict) or body.get("id") != target.codemie.assistant_id:
            raise ContractViolation("the slug's assistant is another one", expected=target.codemie.assistant_id,
                                    actual=body.get("id") if isinstance(body, dict) else body)

    prober.check(SLUG_OP, "assistant.by_slug",
                 lambda: prober.send("GET", f"{base}/v1/assistants/slug/{quote(slug, safe='')}",
                                     headers=auth_headers(), params=params),
                 same_assistant)
