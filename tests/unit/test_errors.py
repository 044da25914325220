from __future__ import annotations

import pytest

from apigate import errors


@pytest.mark.parametrize(
    ("status", "cls", "family"),
    [
        (400, errors.BadRequestError, errors.ClientError),
        (401, errors.UnauthorizedError, errors.ClientError),
        (403, errors.ForbiddenError, errors.ClientError),
        (404, errors.NotFoundError, errors.ClientError),
        (409, errors.ConflictError, errors.ClientError),
        (422, errors.UnprocessableEntityError, errors.ClientError),
        (429, errors.TooManyRequestsError, errors.ClientError),
        (418, errors.ClientError, errors.ClientError),
        (500, errors.InternalServerError, errors.ServerError),
        (502, errors.BadGatewayError, errors.ServerError),
        (503, errors.ServiceUnavailableError, errors.ServerError),
        (504, errors.GatewayTimeoutError, errors.ServerError),
        (507, errors.ServerError, errors.ServerError),
    ],
)
def test_http_error_class_by_status(status: int, cls: type[errors.HTTPError], family: type) -> None:
    found = errors.http_error_class(status)
    assert found is cls
    assert issubclass(found, family)
    assert issubclass(found, errors.ApigateError)


def test_http_error_text_is_redacted() -> None:
    exc = errors.UnauthorizedError(
        "Authentication failed",
        status=401,
        method="POST",
        url="http://h/token?password=abc12345",
        text='{"access_token": "tok-abcdef"}',
        request_id="r-1",
    )
    for text in (str(exc), repr(exc), exc.text, exc.url):
        assert "abc12345" not in text
        assert "tok-abcdef" not in text
    assert "401" in str(exc) and "r-1" in str(exc)


def test_contract_violations_are_assertion_errors_not_apigate_errors() -> None:
    violation = errors.StreamViolation("no terminal chunk", offset=42, expected="last: true", actual="EOF")
    assert isinstance(violation, AssertionError)
    assert not isinstance(violation, errors.ApigateError)
    assert "byte 42" in str(violation)
    assert violation.expected == "last: true"
