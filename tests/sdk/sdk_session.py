"""A session with the official CodeMie SDK (``codemie-sdk-python``), as its README shows it, against a CodeMie.

Run by ``test_official_sdk.py`` with the Python of the SDK's own virtual environment (Python >= 3.12; this file
must not import apigate). Argument: a JSON object with the services' URLs, the demo credentials and the demo
assistant. Output: one JSON line per step, ``{"step", "ok", "detail", "seconds"}``; a step that raises is a
failed step with the exception as its detail. The steps run in order and each one stands on its own.
"""

from __future__ import annotations

import codecs
import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from codemie_sdk import CodeMieClient
from codemie_sdk.models.assistant import AssistantChatRequest
from pydantic import BaseModel

STRUCTURED = {
    "type": "object",
    "properties": {"summary": {"type": "string"}, "risks": {"type": "array", "items": {"type": "string"}}},
    "required": ["summary", "risks"],
}


class Requirements(BaseModel):
    requirements: list[str]


def chunks(response: Any) -> Iterator[dict[str, Any]]:
    """The JSON objects of a streamed answer as they arrive: written back to back (``{...}{...}``), sometimes
    with a newline after one, and split anywhere across reads."""
    decoder, text, buffer = json.JSONDecoder(), codecs.getincrementaldecoder("utf-8")(), ""
    for piece in response.iter_content(chunk_size=None):  # bytes as they arrive
        buffer += text.decode(piece)
        while True:
            buffer = buffer.lstrip()
            try:
                obj, end = decoder.raw_decode(buffer)
            except json.JSONDecodeError:
                break  # an incomplete object: wait for more
            yield obj
            buffer = buffer[end:]
    if buffer.strip():
        raise ValueError(f"the stream ended inside an object: {buffer[:80]!r}")


def check(condition: bool, detail: str) -> None:
    if not condition:
        raise AssertionError(detail)


def streamed(client: CodeMieClient, assistant_id: str, request: AssistantChatRequest) -> tuple[list[dict[str, Any]],
                                                                                              str]:
    response = client.assistants.chat(assistant_id, request)
    check(response.status_code == 200, f"status {response.status_code}")
    content_type = response.headers.get("content-type", "")
    try:
        return list(chunks(response)), content_type
    finally:
        response.close()


def one_terminal_chunk(items: list[dict[str, Any]]) -> dict[str, Any]:
    lasts = [i for i, c in enumerate(items) if c.get("last") is True]
    check(len(items) >= 2, f"{len(items)} chunk(s)")
    check(lasts == [len(items) - 1], f"last:true at {lasts} of {len(items)} chunks")
    return items[-1]


def main(config: dict[str, Any]) -> None:
    base = config["codemie_url"]
    assistant_id, slug = config["assistant_id"], config["assistant_slug"]
    clients: dict[str, CodeMieClient] = {}

    def user_client() -> CodeMieClient:
        if "user" not in clients:
            clients["user"] = CodeMieClient(
                auth_server_url=config["keycloak_url"], auth_realm_name=config["realm"], codemie_api_domain=base,
                username=config["username"], password=config["password"])
        return clients["user"]

    def login() -> str:
        client = user_client()
        check(not getattr(client, "_is_localhost", False), "the SDK chose its local-development login")
        token = client.token
        check(token.count(".") == 2, "the token is not a JWT")
        return f"password grant through Keycloak, client codemie-sdk, token of {len(token)} characters"

    def llms() -> str:
        models = user_client().llms.list()
        check(len(models) >= 10, f"{len(models)} models")
        check(all(isinstance(m.is_premium, bool) for m in models), "a model without is_premium")
        premium = sorted(m.base_name for m in models if m.is_premium)
        check(premium and len(premium) < len(models), f"premium models: {premium}")
        return f"{len(models)} models, premium: {', '.join(premium)}"

    def about_me() -> str:
        me = user_client().users.about_me()
        check(me.username == config["username"] and me.email and isinstance(me.picture, str), repr(me))
        return f"{me.username} <{me.email}>, picture {me.picture!r}, projects {[p.name for p in me.projects]}"

    def about_service_account() -> str:
        client = CodeMieClient(auth_server_url=config["keycloak_url"], auth_realm_name=config["realm"],
                               codemie_api_domain=base, auth_client_id=config["client_id"],
                               auth_client_secret=config["client_secret"])
        me = client.users.about_me()
        check(me.email == "" and me.picture == "", f"email {me.email!r}, picture {me.picture!r}")
        return f"client credentials: {me.username}, email {me.email!r}, picture {me.picture!r}"

    def list_default() -> str:
        found = user_client().assistants.list()
        check(any(a.id == assistant_id for a in found), "the demo assistant is not listed")
        return f"{len(found)} assistants (minimal)"

    def list_filters() -> str:
        client = user_client()
        reviewers = client.assistants.list(scope="marketplace", filters={"search": "review"})
        check(reviewers and all("review" in (a.name + a.description).lower() for a in reviewers),
              f"search 'review': {[a.name for a in reviewers]}")
        nobody = client.assistants.list(filters={"search": f"nobody-{uuid.uuid4().hex}"})
        check(nobody == [], f"a search for nobody found {[a.name for a in nobody]}")
        devops = client.assistants.list(scope="marketplace", minimal_response=False,
                                        filters={"categories": ["devops"]})
        check(devops and all("devops" in (a.categories or []) for a in devops), "category filter")
        return (f"search 'review' -> {[a.name for a in reviewers]}; search for nobody -> []; "
                f"category devops -> {len(devops)}")

    def list_sorted() -> str:
        found = user_client().assistants.list(scope="marketplace", minimal_response=False, sort_by="name",
                                              sort_order="asc", per_page=50)
        names = [a.name for a in found]
        check(len(names) > 3 and names == sorted(names, key=str.casefold), f"not sorted: {names}")
        check(all(a.is_global for a in found), "a non-global assistant in the marketplace")
        return f"marketplace by name: {names[0]} ... {names[-1]} ({len(names)})"

    def get() -> str:
        assistant = user_client().assistants.get(assistant_id)
        check(assistant.slug == slug and assistant.system_prompt, repr(assistant)[:200])
        return f"{assistant.name} ({assistant.slug}), model {assistant.llm_model_type}"

    def get_by_slug() -> str:
        assistant = user_client().assistants.get_by_slug(slug)
        check(assistant.id == assistant_id, f"slug {slug} -> {assistant.id}")
        return f"{slug} -> {assistant.id}"

    def fixed_paths() -> str:
        client = user_client()
        tools = client.assistants.get_tools()
        prebuilt = client.assistants.get_prebuilt()
        template = client.assistants.get_prebuilt_by_slug(prebuilt[0].slug or "")
        context = client.assistants.get_context(project_name="demo")
        subagents = client.assistants.get_builtin_subagents()
        categories = client.categories.get_categories()
        check(tools and prebuilt and context and subagents and categories, "an empty list")
        check(template.name == prebuilt[0].name, "prebuilt by slug")
        return (f"tools {len(tools)}, prebuilt {len(prebuilt)}, context {len(context)}, "
                f"builtin_subagents {len(subagents)}, categories {len(categories)}")

    def chat() -> str:
        answer = user_client().assistants.chat(assistant_id, AssistantChatRequest(text="hi from the SDK"))
        check(isinstance(answer.generated, str) and answer.generated and answer.success, repr(answer)[:200])
        return f"generated {answer.generated[:60]!r}, {answer.time_elapsed:.3f} s"

    def chat_by_slug() -> str:
        answer = user_client().assistants.chat_by_slug(slug, AssistantChatRequest(text="hi by slug"))
        check(isinstance(answer.generated, str) and answer.generated, repr(answer)[:200])
        return f"generated {answer.generated[:60]!r}"

    def chat_structured() -> str:
        request = AssistantChatRequest(text="list the requirements", output_schema=Requirements)
        answer = user_client().assistants.chat(assistant_id, request)
        check(isinstance(answer.generated, Requirements), f"generated {answer.generated!r}")
        return f"generated {answer.generated!r}"

    def chat_stream() -> str:
        items, content_type = streamed(user_client(), assistant_id,
                                       AssistantChatRequest(text="stream a short answer", stream=True))
        final = one_terminal_chunk(items)
        check(isinstance(final.get("generated"), str) and final["generated"], f"final chunk {final}")
        return f"{len(items)} chunks ({content_type}), final {final['generated'][:60]!r}"

    def chat_stream_structured() -> str:
        items, _ = streamed(user_client(), assistant_id,
                            AssistantChatRequest(text="summarise the risks", stream=True, output_schema=STRUCTURED))
        final = one_terminal_chunk(items)
        structured = json.loads(final["generated"])  # the JSON text of the structured answer
        check(isinstance(structured, dict) and set(STRUCTURED["required"]) <= set(structured),
              f"final generated {final['generated']!r}")
        return f"final generated parses to {structured!r}"

    steps: list[tuple[str, Callable[[], str]]] = [
        ("login.password", login), ("llms.list", llms), ("users.about_me", about_me),
        ("users.about_me.service_account", about_service_account), ("assistants.list", list_default),
        ("assistants.list.filters", list_filters), ("assistants.list.sorted", list_sorted),
        ("assistants.get", get), ("assistants.get_by_slug", get_by_slug),
        ("assistants.fixed_paths", fixed_paths), ("chat.plain", chat), ("chat.by_slug", chat_by_slug),
        ("chat.structured", chat_structured), ("chat.stream", chat_stream),
        ("chat.stream.structured", chat_stream_structured),
    ]
    for name, step in steps:
        started = time.perf_counter()
        try:
            detail, ok = step(), True
        except Exception as exc:  # noqa: BLE001 - every failure of the SDK or of the server is this step's result
            detail, ok = f"{type(exc).__name__}: {exc}"[:800] + "\n" + traceback.format_exc(limit=3)[-800:], False
        print(json.dumps({"step": name, "ok": ok, "detail": detail, "seconds": time.perf_counter() - started}),
              flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
