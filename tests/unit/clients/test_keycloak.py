from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from apigate import errors
from apigate.clients import KeycloakAuth, RetryPolicy, TokenSet
from apigate.config import mock_target

from ._support import CLASSES, RETRIED, STATUSES, Clock, Sleeper, assert_no_secret, error_response

TOKEN_URL = "https://kc.test/auth/realms/codemie-prod/protocol/openid-connect/token"
PASSWORD = "pw-Sup3r-s3cret"
CLIENT_SECRET = "cs-Sup3r-s3cret"


def token_body(n: int = 1, *, expires_in: int = 300, refresh: bool = True, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": f"access-token-{n:04d}-xyz",
        "expires_in": expires_in,
        "refresh_expires_in": 1800 if refresh else 0,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "scope": "profile email",
        **extra,
    }
    if refresh:
        body["refresh_token"] = f"refresh-token-{n:04d}-xyz"
    return body


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def password_auth(transport: httpx.BaseTransport, clock: Clock, sleeper: Sleeper, **kw: Any) -> KeycloakAuth:
    return KeycloakAuth(
        TOKEN_URL, "codemie-sdk", username="alice", password=PASSWORD, clock=clock, sleep=sleeper, transport=transport,
        rng=lambda: 0.0, **kw,
    )


def cc_auth(transport: httpx.BaseTransport, clock: Clock, sleeper: Sleeper, **kw: Any) -> KeycloakAuth:
    return KeycloakAuth(
        TOKEN_URL, "api-demo", client_secret=CLIENT_SECRET, clock=clock, sleep=sleeper, transport=transport,
        rng=lambda: 0.0, **kw,
    )


# -- grants' form bodies ---------------------------------------------------------------------------------------


def test_password_grant_on_a_public_client_sends_no_secret(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).respond(json=token_body())
    auth = password_auth(transport, clock, sleeper)
    assert auth.token() == "access-token-0001-xyz"
    request = route.calls.last.request
    assert form(request) == {"grant_type": "password", "client_id": "codemie-sdk", "username": "alice", "password": PASSWORD}
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"


def test_password_grant_with_a_secret_and_scope(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).respond(json=token_body(id_token="eyJhbGciOi.eyJzdWIiOi.sig"))
    auth = password_auth(transport, clock, sleeper, client_secret=CLIENT_SECRET, scope="openid")
    tokens = auth.token_set()
    assert form(route.calls.last.request) == {
        "grant_type": "password",
        "client_id": "codemie-sdk",
        "username": "alice",
        "password": PASSWORD,
        "client_secret": CLIENT_SECRET,
        "scope": "openid",
    }
    assert tokens.id_token is not None and tokens.scope == "profile email"
    assert tokens.expires_at == clock.now + 300 and tokens.refresh_expires_at == clock.now + 1800


def test_client_credentials_grant(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).respond(json=token_body(expires_in=28500, refresh=False))
    auth = cc_auth(transport, clock, sleeper)
    assert auth.grant == "client_credentials"
    tokens = auth.token_set()
    assert form(route.calls.last.request) == {
        "grant_type": "client_credentials",
        "client_id": "api-demo",
        "client_secret": CLIENT_SECRET,
    }
    assert tokens.refresh_token is None and tokens.refresh_expires_at is None
    assert tokens.raw["not-before-policy"] == 0 and "access_token" not in tokens.raw


def test_refresh_grant(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).mock(side_effect=[httpx.Response(200, json=token_body(1)), httpx.Response(200, json=token_body(2))])
    auth = password_auth(transport, clock, sleeper)
    auth.token()
    assert auth.refresh().access_token.reveal() == "access-token-0002-xyz"
    assert form(route.calls.last.request) == {
        "grant_type": "refresh_token",
        "client_id": "codemie-sdk",
        "refresh_token": "refresh-token-0001-xyz",
    }


def test_missing_credentials_are_config_errors() -> None:
    with pytest.raises(errors.ConfigError):
        KeycloakAuth(TOKEN_URL, "codemie-sdk", username="alice")
    with pytest.raises(errors.ConfigError):
        KeycloakAuth(TOKEN_URL, "api-demo")


def test_from_target_uses_the_mock_demo_user(router: respx.MockRouter, transport) -> None:
    target = mock_target("http://mock.test")
    route = router.post("http://mock.test/auth/realms/codemie-prod/protocol/openid-connect/token").respond(json=token_body())
    auth = KeycloakAuth.from_target(target, transport=transport)
    auth.token()
    assert form(route.calls.last.request)["username"] == "demo"
    assert auth.grant == "password"


# -- cache, early refresh, fallback ----------------------------------------------------------------------------


def test_token_is_cached_and_refreshed_30s_before_expiry(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).mock(
        side_effect=[httpx.Response(200, json=token_body(1)), httpx.Response(200, json=token_body(2))]
    )
    auth = password_auth(transport, clock, sleeper)
    assert auth.token() == "access-token-0001-xyz"
    clock.advance(269.9)  # 30.1 s before expiry: still cached
    assert auth.token() == "access-token-0001-xyz"
    assert route.call_count == 1
    clock.advance(0.2)  # 29.9 s before expiry: renewed with the refresh token
    assert auth.token() == "access-token-0002-xyz"
    assert route.call_count == 2
    assert form(route.calls.last.request)["grant_type"] == "refresh_token"
    assert auth.generation == 2


def test_short_lived_tokens_refresh_at_half_their_lifetime(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).mock(
        side_effect=[httpx.Response(200, json=token_body(1, expires_in=20)), httpx.Response(200, json=token_body(2))]
    )
    auth = password_auth(transport, clock, sleeper)
    auth.token()
    clock.advance(9.9)
    auth.token()
    assert route.call_count == 1
    clock.advance(0.2)
    assert auth.token() == "access-token-0002-xyz"


def test_client_credentials_tokens_are_renewed_by_a_new_grant(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=token_body(1, refresh=False)),
            httpx.Response(200, json=token_body(2, refresh=False)),
        ]
    )
    auth = cc_auth(transport, clock, sleeper)
    auth.token()
    clock.advance(300)
    assert auth.token() == "access-token-0002-xyz"
    assert [form(c.request)["grant_type"] for c in route.calls] == ["client_credentials"] * 2


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "invalid_grant", "error_description": "Token is not active"}),
        (400, {"error": "invalid_grant", "error_description": "Session not active"}),
        (401, {"error": "invalid_grant", "error_description": "Invalid refresh token"}),
    ],
)
def test_rejected_refresh_falls_back_to_a_new_login(
    router: respx.MockRouter, transport, clock, sleeper, status: int, body: dict[str, str]
) -> None:
    route = router.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=token_body(1)),
            httpx.Response(status, json=body),
            httpx.Response(200, json=token_body(3)),
        ]
    )
    auth = password_auth(transport, clock, sleeper)
    auth.token()
    clock.advance(290)
    assert auth.token() == "access-token-0003-xyz"
    assert [form(c.request)["grant_type"] for c in route.calls] == ["password", "refresh_token", "password"]


def test_expired_refresh_token_goes_straight_to_login(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).mock(
        side_effect=[httpx.Response(200, json=token_body(1)), httpx.Response(200, json=token_body(2))]
    )
    auth = password_auth(transport, clock, sleeper)
    auth.token()
    clock.advance(1800)
    auth.token()
    assert [form(c.request)["grant_type"] for c in route.calls] == ["password", "password"]


def test_refresh_failing_for_another_reason_is_raised(router: respx.MockRouter, transport, clock, sleeper) -> None:
    router.post(TOKEN_URL).mock(
        side_effect=[httpx.Response(200, json=token_body(1)), httpx.Response(500, json={"error": "unknown_error"})]
    )
    auth = password_auth(transport, clock, sleeper)
    auth.token()
    clock.advance(290)
    with pytest.raises(errors.InternalServerError):
        auth.token()


def test_invalidate_forces_one_renewal(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).mock(
        side_effect=[httpx.Response(200, json=token_body(1)), httpx.Response(200, json=token_body(2))]
    )
    auth = password_auth(transport, clock, sleeper)
    first = auth.token()
    auth.invalidate("some-other-token")  # not the cached one: no effect
    assert auth.token() == first
    auth.invalidate(first)
    assert auth.token() == "access-token-0002-xyz"
    assert route.call_count == 2


def test_many_threads_cause_exactly_one_token_request(router: respx.MockRouter, transport, clock, sleeper) -> None:
    threads_n = 16
    release = threading.Event()
    calls = 0

    def issue(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls > 1:
            release.wait(10)
        return httpx.Response(200, json=token_body(calls))

    router.post(TOKEN_URL).mock(side_effect=issue)
    auth = password_auth(transport, clock, sleeper)
    auth.token()
    clock.advance(300)  # expired: every caller needs a renewal
    reads = clock.reads
    results: list[str] = []
    start = threading.Barrier(threads_n)

    def worker() -> None:
        start.wait()
        results.append(auth.token())

    workers = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in workers:
        t.start()
    with clock.cond:  # all 16 saw an expired token (fast path), the winner is inside its refresh (3 reads)
        assert clock.cond.wait_for(lambda: clock.reads >= reads + threads_n + 3, timeout=10)
    release.set()
    for t in workers:
        t.join(10)
    assert calls == 2  # the first login, then one renewal for all sixteen callers
    assert results == ["access-token-0002-xyz"] * threads_n


# -- every error status ----------------------------------------------------------------------------------------

KEYCLOAK_BODIES = {
    400: {"error": "invalid_request", "error_description": "Missing form parameter: grant_type"},
    401: {"error": "invalid_grant", "error_description": "Invalid user credentials"},
    403: {"error": "access_denied", "error_description": "Forbidden"},
    404: {"error": "Realm does not exist"},
    409: {"error": "conflict", "error_description": "Conflict"},
    422: {"error": "invalid_request", "error_description": "Unprocessable"},
    429: {"error": "too_many_requests", "error_description": "Slow down"},
    500: {"error": "unknown_error", "error_description": "Internal error"},
    502: {"error": "bad_gateway", "error_description": "Upstream"},
    503: {"error": "temporarily_unavailable", "error_description": "Try later"},
    504: {"error": "gateway_timeout", "error_description": "Upstream timeout"},
}


@pytest.mark.parametrize("grant", ["password", "client_credentials", "refresh_token"])
@pytest.mark.parametrize("status", STATUSES)
def test_every_error_status_on_every_grant(
    router: respx.MockRouter, transport, clock, sleeper, status: int, grant: str
) -> None:
    body = KEYCLOAK_BODIES[status]
    route = router.post(TOKEN_URL).respond(status, json=body, headers={"x-request-id": "kc-1"})
    auth = (cc_auth if grant == "client_credentials" else password_auth)(transport, clock, sleeper)
    call = (lambda: auth.refresh_grant("refresh-token-abcdef")) if grant == "refresh_token" else auth.issue
    with pytest.raises(errors.HTTPError) as info:
        call()
    exc = info.value
    assert type(exc) is CLASSES[status]
    assert exc.status == status and exc.service == "keycloak" and exc.request_id == "kc-1"
    assert exc.code == body["error"]
    assert exc.message == body.get("error_description", body["error"])
    assert exc.body == body
    assert exc.method == "POST" and exc.url == TOKEN_URL
    expected_attempts = 4 if status in RETRIED else 1  # token requests are safe to retry
    assert route.call_count == expected_attempts == exc.attempts
    assert sleeper.delays == ([0.25, 0.5, 1.0] if status in RETRIED else [])
    assert_no_secret(exc, PASSWORD, CLIENT_SECRET, "refresh-token-abcdef")


@pytest.mark.parametrize(("error", "description"), [
    ("invalid_grant", "Invalid user credentials"),  # wrong password / unknown user: Keycloak 26 answers 400
    ("invalid_grant", "Account disabled"),
    ("unauthorized_client", "Client not allowed for direct access grants"),
    ("invalid_client", "Invalid client or Invalid client credentials"),  # older versions: no client_id -> 400
])
@pytest.mark.parametrize("grant", ["password", "client_credentials"])
def test_a_login_refused_with_400_is_an_unauthorized_error(
    router: respx.MockRouter, transport, clock, sleeper, grant: str, error: str, description: str
) -> None:
    router.post(TOKEN_URL).respond(400, json={"error": error, "error_description": description})
    auth = (cc_auth if grant == "client_credentials" else password_auth)(transport, clock, sleeper)
    with pytest.raises(errors.UnauthorizedError) as info:
        auth.token()
    exc = info.value
    assert exc.status == 400 and exc.code == error and exc.message == description and exc.service == "keycloak"
    assert isinstance(exc.__cause__, errors.BadRequestError)
    assert_no_secret(exc, PASSWORD, CLIENT_SECRET)


def test_a_400_that_is_not_a_refusal_stays_a_bad_request(router: respx.MockRouter, transport, clock, sleeper) -> None:
    router.post(TOKEN_URL).respond(400, json={"error": "invalid_scope", "error_description": "Invalid scopes: x"})
    with pytest.raises(errors.BadRequestError) as info:
        password_auth(transport, clock, sleeper).token()
    assert type(info.value) is errors.BadRequestError


def test_retry_after_seconds_is_honoured_then_success(router: respx.MockRouter, transport, clock, sleeper) -> None:
    router.post(TOKEN_URL).mock(
        side_effect=[
            error_response(503, {"error": "temporarily_unavailable"}, headers={"Retry-After": "3"}),
            error_response(429, {"error": "too_many_requests"}, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
            httpx.Response(200, json=token_body()),
        ]
    )
    auth = password_auth(transport, clock, sleeper)
    assert auth.token() == "access-token-0001-xyz"
    assert sleeper.delays == [3.0, 0.0]  # a date in the past means "now"


def test_retry_after_beyond_the_cap_is_not_waited_for(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).respond(429, json={"error": "too_many_requests"}, headers={"Retry-After": "3600"})
    auth = password_auth(transport, clock, sleeper)
    with pytest.raises(errors.TooManyRequestsError) as info:
        auth.token()
    assert info.value.retry_after == 3600.0
    assert route.call_count == 1 and sleeper.delays == []


def test_retry_policy_is_configurable(router: respx.MockRouter, transport, clock, sleeper) -> None:
    route = router.post(TOKEN_URL).respond(503, json={"error": "x"})
    auth = password_auth(transport, clock, sleeper, retry=RetryPolicy(max_attempts=2, base_delay=1.0))
    with pytest.raises(errors.ServiceUnavailableError):
        auth.token()
    assert route.call_count == 2 and sleeper.delays == [1.0]


@pytest.mark.parametrize(
    ("failure", "cls"),
    [
        (httpx.ConnectError("connection refused"), errors.ConnectError),
        (httpx.ConnectTimeout("connect timed out"), errors.TransportTimeoutError),
        (httpx.ReadTimeout("read timed out"), errors.TransportTimeoutError),
        (httpx.RemoteProtocolError("peer closed connection"), errors.ConnectionLostError),
        (httpx.ReadError("connection reset by peer"), errors.ConnectionLostError),
    ],
)
def test_transport_failures_are_retried_then_translated(
    router: respx.MockRouter, transport, clock, sleeper, failure: Exception, cls: type[errors.TransportError]
) -> None:
    route = router.post(TOKEN_URL).mock(side_effect=failure)
    auth = password_auth(transport, clock, sleeper)
    with pytest.raises(cls) as info:
        auth.token()
    assert route.call_count == 4 and len(sleeper.delays) == 3
    assert isinstance(info.value.__cause__, httpx.TransportError)
    assert info.value.url == TOKEN_URL
    assert_no_secret(info.value, PASSWORD)


def test_an_html_gateway_page_is_a_readable_error(router: respx.MockRouter, transport, clock, sleeper) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
    router.post(TOKEN_URL).respond(502, text=page, headers={"content-type": "text/html"})
    auth = password_auth(transport, clock, sleeper, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(errors.BadGatewayError) as info:
        auth.token()
    assert info.value.body is None and "nginx" in info.value.text
    assert "'502 Bad Gateway'" in info.value.message and "text/html" in info.value.message


@pytest.mark.parametrize(
    "body", [{"access_token": "tok-abcdef123", "token_type": "Bearer"}, {"expires_in": 300}, {"access_token": "t-123456", "expires_in": 0}]
)
def test_incomplete_success_bodies_are_contract_violations(router: respx.MockRouter, transport, clock, sleeper, body) -> None:
    router.post(TOKEN_URL).respond(json=body)
    with pytest.raises(errors.ContractViolation):
        password_auth(transport, clock, sleeper).token()


def test_a_non_json_success_body_is_a_contract_violation(router: respx.MockRouter, transport, clock, sleeper) -> None:
    router.post(TOKEN_URL).respond(200, text="<html>login page</html>", headers={"content-type": "text/html"})
    with pytest.raises(errors.ContractViolation, match="not JSON"):
        password_auth(transport, clock, sleeper).token()


def test_nothing_secret_in_reprs_or_logs(router: respx.MockRouter, transport, clock, sleeper, caplog) -> None:
    router.post(TOKEN_URL).respond(json=token_body())
    auth = password_auth(transport, clock, sleeper, client_secret=CLIENT_SECRET)
    with caplog.at_level(logging.DEBUG, logger="apigate.clients"):
        tokens = auth.token_set()
        logging.getLogger("apigate.clients").info("sending Authorization: Bearer %s", tokens.access_token.reveal())
    shown = repr(auth) + str(auth) + repr(tokens) + str(tokens) + caplog.text
    for secret in (PASSWORD, CLIENT_SECRET, "access-token-0001-xyz", "refresh-token-0001-xyz"):
        assert secret not in shown
    assert isinstance(tokens, TokenSet) and "alice" in repr(auth)
