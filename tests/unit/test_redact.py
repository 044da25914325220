from __future__ import annotations

import logging

import pytest

from apigate.redact import RedactingFilter, Secret, redact, register_secret

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl"


def test_secret_never_formats_itself() -> None:
    secret = Secret("hunter2-password")
    assert "hunter2" not in str(secret)
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in f"{secret} {secret!r} {secret:>20}"
    assert secret.reveal() == "hunter2-password"


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {JWT}",
        "curl -H 'Authorization: Bearer opaque-token-value' http://x",
        "client-secret: abc123def",
        "grant_type=password&username=demo&password=abc123def&client_id=x",
        '{"access_token": "opaque-token-value", "expires_in": 300}',
        "client_secret=abc123def",
        f"token {JWT} inside text",
    ],
)
def test_redact_scrubs_secret_shaped_values(text: str) -> None:
    out = redact(text)
    for value in ("opaque-token-value", "abc123def", JWT):
        assert value not in out


def test_redact_scrubs_registered_values_anywhere() -> None:
    register_secret("sentinel-7f3a9")
    assert redact("the key sentinel-7f3a9 leaked") == "the key *** leaked"


def test_redact_keeps_ordinary_text() -> None:
    text = '{"token_type": "Bearer", "expires_in": 300, "tokensUsed": null}'
    assert redact(text) == text


def test_logging_filter_redacts_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("apigate.test")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="apigate.test"):
        logger.info("sending %s", f"Authorization: Bearer {JWT}")
    assert JWT not in caplog.text
    assert "***" in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        '{"keycloak.token.password": {"unit": "ms", "p50": 2.9}}',
        '"metrics": {"keycloak.token.password": {"count": 3}}',
        "keycloak.token.password: p95 6.7 ms",
        '{"refresh_token": null, "password": [1, 2]}',
        '{"authorization": {"scheme": "bearer"}}',
    ],
)
def test_redact_leaves_structure_and_metric_names_alone(text: str) -> None:
    assert redact(text) == text
