"""The clients, unchanged, against the embedded mock apps served in-process (no sockets)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

from apigate import errors
from apigate.clients import (
    BasejumpClient,
    CodemieClient,
    DatabaseSpec,
    KeycloakAuth,
    RetryPolicy,
    SyncASGITransport,
)
from apigate.config import DEMO, Target, mock_target
from apigate.mocks import MockSettings, build_app
from apigate.redact import Secret

FAST = MockSettings(first_chunk_ms=5, chunk_interval_ms=1, chat_latency_ms=0, basejump_message_latency_ms=0)
ORIGIN = "http://mock.test"


@pytest.fixture(scope="module")
def target() -> Target:
    return mock_target(ORIGIN)


@pytest.fixture(scope="module")
def transport() -> Iterator[SyncASGITransport]:
    with SyncASGITransport(build_app(FAST)) as transport:
        yield transport


def serve(settings: MockSettings) -> SyncASGITransport:
    return SyncASGITransport(build_app(settings))


@pytest.fixture(scope="module")
def codemie(target: Target, transport: SyncASGITransport) -> Iterator[CodemieClient]:
    with CodemieClient.from_target(target, transport=transport) as client:
        yield client


# -- Keycloak ------------------------------------------------------------------------------------------------


def test_password_grant_refresh_and_cache(target: Target, transport: SyncASGITransport) -> None:
    with KeycloakAuth.from_target(target, transport=transport) as auth:
        first = auth.token_set()
        assert first.refresh_token is not None and first.lifetime == pytest.approx(FAST.access_token_lifetime_s)
        assert auth.token() == first.access_token.reveal()
        renewed = auth.refresh()
        assert renewed.access_token != first.access_token
        assert auth.requests == 2


def test_client_credentials_grant(target: Target, transport: SyncASGITransport) -> None:
    with KeycloakAuth(
        target.keycloak.token_url, DEMO.confidential_client, client_secret=DEMO.client_secret, transport=transport
    ) as auth:
        tokens = auth.issue()
    assert tokens.refresh_token is None and tokens.lifetime > 0


@pytest.mark.parametrize(
    ("kwargs", "cls", "code"),
    [
        ({"username": DEMO.username, "password": "wrong-password"}, errors.UnauthorizedError, "invalid_grant"),
        ({"client_secret": "wrong-secret-value"}, errors.UnauthorizedError, "unauthorized_client"),
    ],
)
def test_keycloak_errors_are_typed(
    target: Target, transport: SyncASGITransport, kwargs: dict[str, str], cls: type[errors.HTTPError], code: str
) -> None:
    client_id = DEMO.public_client if "username" in kwargs else DEMO.confidential_client
    with KeycloakAuth(target.keycloak.token_url, client_id, transport=transport, **kwargs) as auth, \
            pytest.raises(cls) as info:
        auth.token()
    assert info.value.code == code and info.value.service == "keycloak"
    assert "wrong-password" not in str(info.value) and "wrong-secret-value" not in str(info.value)


# -- CodeMie -------------------------------------------------------------------------------------------------


def test_ask_by_id_and_slug(codemie: CodemieClient, target: Target) -> None:
    answer = codemie.ask(target.codemie.assistant_id, "hi")
    assert isinstance(answer.generated, str) and "hi" in answer.generated and answer.success
    assert answer.time_elapsed is not None and answer.thoughts
    assert codemie.ask_slug(DEMO.assistant_slug, "hello").generated


@pytest.mark.parametrize("stream_format", ["ndjson", "sse"])
def test_stream_both_framings(target: Target, stream_format: str) -> None:
    settings = dataclasses.replace(FAST, stream_format=stream_format, first_chunk_ms=30)
    with serve(settings) as transport, CodemieClient.from_target(target, transport=transport) as client:
        with client.stream(target.codemie.assistant_id, "stream me") as chunks:
            result = chunks.result()
        assert chunks.framing == stream_format
    assert isinstance(result.generated, str) and "stream me" in result.generated
    pieces = len(result.generated.split())  # one piece per word: the mock's default, like the real server's
    assert len(result.chunks) == pieces + 1
    assert result.style == "thought" and result.text == result.generated
    assert result.ttfc >= 0.025  # the mock's first chunk comes 30 ms after the request arrived
    assert result.total >= result.ttfc and len(result.inter_chunk) == pieces
    assert all(c.data["x_apigate_mock"]["seq"] == i for i, c in enumerate(result.chunks))


def test_stream_with_tool_errors(codemie: CodemieClient, target: Target) -> None:
    with codemie.stream(target.codemie.assistant_id, "hi", include_tool_errors=True) as chunks:
        result = chunks.result()
    assert result.final["last"] is True


def test_neighbours(codemie: CodemieClient, target: Target) -> None:
    page = codemie.list_assistants()
    assert any(a.id == target.codemie.assistant_id for a in page.items) and page.total
    assert codemie.get_assistant(target.codemie.assistant_id).slug == DEMO.assistant_slug
    assert codemie.get_assistant_by_slug(DEMO.assistant_slug, project="demo").id == target.codemie.assistant_id
    market = codemie.list_assistants(scope="marketplace", sort_by="name", sort_order="asc", per_page=50).items
    assert len(market) > 3 and [a.name for a in market] == sorted((a.name for a in market), key=str.casefold)
    assert all(p["slug"] and p["id"] is None for p in codemie.list_prebuilt())
    assert codemie.list_models()
    assert codemie.get_user().username == DEMO.username
    assert codemie.info()["message"] == "Codemie"


def test_codemie_errors_carry_the_envelope(codemie: CodemieClient) -> None:
    with pytest.raises(errors.NotFoundError) as info:
        codemie.ask(str(uuid.uuid4()), "hi")
    assert info.value.message == "Assistant not found" and info.value.help is not None
    with pytest.raises(errors.UnprocessableEntityError) as info422:
        codemie.ask(DEMO.assistant_id, "hi", extra={"top_k": None})
    assert "top_k" in info422.value.message


@pytest.mark.parametrize(
    ("contract_break", "message"),
    [
        ("codemie.stream.no_terminal", "without a terminal"),
        ("codemie.stream.content_type", "Content-Type"),
        ("codemie.stream.final_mismatch", "differs"),
        ("codemie.stream.after_end", "after the terminal"),
    ],
)
def test_stream_contract_breaks_are_violations(target: Target, contract_break: str, message: str) -> None:
    settings = dataclasses.replace(FAST, breaks=frozenset({contract_break}))
    with serve(settings) as transport, CodemieClient.from_target(target, transport=transport) as client, \
            pytest.raises(errors.StreamViolation, match=message), \
            client.stream(target.codemie.assistant_id, "hi") as chunks:
        chunks.result()


def test_a_cut_stream_is_a_cut_off(target: Target) -> None:
    settings = dataclasses.replace(FAST, stream_cut_rate=1.0, seed=1)
    with serve(settings) as transport, CodemieClient.from_target(target, transport=transport) as client, \
            pytest.raises(errors.StreamCutOffError) as info, \
            client.stream(target.codemie.assistant_id, "hi") as chunks:
        chunks.result()
    assert info.value.offset > 0


def test_injected_503s_are_retried_on_reads_only(target: Target) -> None:
    settings = dataclasses.replace(FAST, error_rate=1.0, error_status=503, seed=2)
    sleeps: list[float] = []
    with serve(settings) as transport, CodemieClient.from_target(
        target, transport=transport, retry=RetryPolicy(max_attempts=3), sleep=sleeps.append
    ) as client:
        with pytest.raises(errors.ServiceUnavailableError) as info:
            client.get_user()  # the token request fails first: retried, then raised
        assert info.value.attempts == 3 and len(sleeps) == 2


# -- Basejump ------------------------------------------------------------------------------------------------

SPEC = DatabaseSpec(
    database_type="postgres",
    host="db.example.com",
    port=5432,
    database_name="hr",
    username="reader",
    password=Secret("db-integration-pw"),
    schemas=[{"schema_nm": "public"}],
    data_source_desc="HR data",
    database_desc="employees",
)


def test_basejump_quickstart_and_message(target: Target, transport: SyncASGITransport) -> None:
    with BasejumpClient.from_target(target, transport=transport) as client:
        qs = client.quickstart(f"user-{uuid.uuid4().hex[:8]}", SPEC, role="ADMIN")
        message = qs.client.send_message(qs.chat.chat_uuid, "How many employees are there?")
    assert message.msg_type in {"response", "error", "thought", "status", "solution", "initial"}
    assert message.content


def test_basejump_token_chain_and_roles(target: Target, transport: SyncASGITransport) -> None:
    with BasejumpClient.from_target(target, transport=transport) as client:
        user = client.create_user(f"member-{uuid.uuid4().hex[:8]}", "MEMBER")
        refresh = client.issue_refresh_token(user.user_uuid)
        access = client.issue_access_token(user.user_uuid, refresh.access_token)
        assert access.access_token != refresh.access_token
    with BasejumpClient(target.basejump.url, DEMO.basejump_member_key, transport=transport) as member, \
            pytest.raises(errors.ForbiddenError) as info:
        member.create_user("would-be-admin", "ADMIN")
    assert info.value.service == "basejump" and info.value.message
