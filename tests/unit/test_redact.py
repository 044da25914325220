from __future__ import annotations

import html
import json
import logging
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apigate.redact import RedactingFilter, Secret, dumps_redacted, redact, redact_json, register_secret

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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a quoted value is replaced up to its closing quote (a passphrase with spaces, an escaped quote)
        ('{"password": "correct horse battery staple"}', '{"password": "***"}'),
        ('{"password":"a\\"b", "x": 1}', '{"password":"***", "x": 1}'),
        ('{"client_secret" : "abc123def"}', '{"client_secret" : "***"}'),
        ("curl -d '{\"password\": \"a b c\"}' http://x", "curl -d '{\"password\": \"***\"}' http://x"),
        # header values whatever their scheme or spacing, in dumps, curl lines and reprs
        ("Authorization:Bearer abc123def", "Authorization:***"),
        ("authorization: Token abc123def", "authorization: ***"),
        ("Proxy-Authorization: Basic dXNlcjpwYXNz", "Proxy-Authorization: ***"),
        ("curl -H 'client-secret: abc123def' http://x", "curl -H 'client-secret: ***' http://x"),
        ("[('authorization', 'Bearer abc123def'), ('client-secret', 'abc123def')]",
         "[('authorization', '***'), ('client-secret', '***')]"),
        ("Cookie: a=b; session=abc123def", "Cookie: ***"),
        # credential-named keys other than the exact spellings
        ('{"db_password": "abc123def"}', '{"db_password": "***"}'),
        ('{"accessToken": "abc123def", "refreshToken": "abc123def"}', '{"accessToken": "***", "refreshToken": "***"}'),
        ('{"clientSecret": "abc123def", "api-key": "abc123def"}', '{"clientSecret": "***", "api-key": "***"}'),
        # JSON inside a JSON string, HTML-escaped quotes, URL-encoded forms, URL userinfo
        ('"{\\"password\\": \\"abc123def\\"}"', '"{\\"password\\": \\"***\\"}"'),
        ("{&quot;password&quot;: &quot;abc 123def&quot;}", "{&quot;password&quot;: &quot;***&quot;}"),
        ("next=%2Fcb%3Faccess_token%3Dabc123def%26state%3D1", "next=%2Fcb%3Faccess_token%3D***%26state%3D1"),
        ("postgresql://admin:abc123def@db:5432/x", "postgresql://admin:***@db:5432/x"),
    ],
)
def test_redact_false_negatives(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a bare value after a JSON key becomes a JSON string: the document stays valid JSON
        ('{"token": 12345, "x": 1}', '{"token": "***", "x": 1}'),
        # markup after a value is never swallowed
        ("<td>token=abc123def</td>", "<td>token=***</td>"),
        ("<pre>Authorization: Basic dXNlcjpwYXNz</pre>", "<pre>Authorization: ***</pre>"),
        # a challenge's parameters are not a token; a list of field names is not a secret
        ('WWW-Authenticate: Bearer realm="x", error="invalid_token"',
         'WWW-Authenticate: Bearer realm="x", error="invalid_token"'),
        ('{"required": ["username", "password", "host"]}', '{"required": ["username", "password", "host"]}'),
        ('{"auth.expired_token": 3, "check": "auth.expired_token"}',
         '{"auth.expired_token": 3, "check": "auth.expired_token"}'),
        ("http://127.0.0.1:8080/x@y", "http://127.0.0.1:8080/x@y"),
    ],
)
def test_redact_keeps_structure(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redacted_json_stays_json() -> None:
    doc = {"password": "a \"quoted\" pass", "token": 42, "refresh_token": None, "metrics": {"keycloak.token.password": {"p50": 1}}}
    out = json.loads(redact(json.dumps(doc)))
    assert out == {"password": "***", "token": "***", "refresh_token": None,
                   "metrics": {"keycloak.token.password": {"p50": 1}}}


def test_registered_secret_is_scrubbed_in_its_escaped_spellings() -> None:
    value = 'p@ss "w0rd"&<x>'
    register_secret(value)
    for text in (value, json.dumps(value), f"a={quote_plus(value)}", f"/{quote(value, safe='')}", html.escape(value)):
        assert "w0rd" not in redact(f"sent {text} here"), text



def test_redact_json_scrubs_strings_and_credential_named_scalars() -> None:
    register_secret("registered-4e1c")
    body = {
        "detail": [{"loc": ["body", "password"], "input": {"db_password": "never-registered", "port": 5432,
                                                           "note": "uses registered-4e1c", "token": None}}],
        "token_type": "Bearer",
        "apiKey": 12345,
        "secret": {"nested": "Bearer abc123def"},
    }
    assert redact_json(body) == {
        "detail": [{"loc": ["body", "password"], "input": {"db_password": "***", "port": 5432,
                                                           "note": "uses ***", "token": None}}],
        "token_type": "Bearer",
        "apiKey": "***",
        "secret": {"nested": "Bearer ***"},
    }


_FRAGMENTS = st.sampled_from(["password", "token", ": ", "=", '"', "\\", "Bearer ", "Authorization: ", "abc", " ",
                              "{", "}", ",", "'", "eyJabcd.efgh.ij", "https://u:p@h/", "\n", "x-api-key"])


@settings(max_examples=300, database=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(["note", "token", "body", "password_hint"]),
                       st.lists(_FRAGMENTS, max_size=12).map("".join), max_size=3))
def test_a_redacted_document_stays_valid_json(doc: dict[str, str]) -> None:
    # redacting the serialized text ate a closing quote: {"note": "Authorization: "} became {"note": "Authorization: "***
    assert isinstance(json.loads(dumps_redacted(doc)), dict)


def test_a_document_is_redacted_as_data() -> None:
    register_secret("s3cret-Value!")
    doc = {"note": "Authorization: ", "reason": "login with s3cret-Value! failed", "s3cret-Value!": 1,
           "access_token": 12345, "keycloak.token.password": {"p50": 2.0}}
    text = dumps_redacted(doc, indent=2)
    assert "s3cret-Value!" not in text and "12345" not in text
    assert json.loads(text)["keycloak.token.password"] == {"p50": 2.0}
