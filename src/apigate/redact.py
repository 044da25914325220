"""Keeping secrets out of everything apigate prints or writes.

Two mechanisms, both needed:

* :class:`Secret` wraps a credential so that ``str``/``repr``/f-strings show ``***``; the value is only reachable
  through :meth:`Secret.reveal`, which the HTTP layer calls at the last moment.
* :func:`redact` scrubs text: every value ever wrapped in a ``Secret`` or passed to :func:`register_secret`
  (issued tokens are registered by the auth flows; also in their JSON-, URL- and HTML-escaped spellings), JWT-shaped
  strings, ``Bearer`` values, credential headers (``Authorization``, ``client-secret``, ``X-Api-Key``, cookies),
  the password of a URL's userinfo, and the value of any key named like a credential (``password``,
  ``db_password``, ``client_secret``, ``apiKey``, ``accessToken``, ``refresh_token``, ...) in form bodies, query
  strings, JSON (also JSON inside a JSON string), Python reprs and HTML-escaped text. Quoted values are replaced up
  to their closing quote (a password with spaces), and the surrounding structure is kept: a redacted JSON
  document stays valid JSON, and markup after a value is never swallowed. Report writers and the CLI pass all text
  through it; :class:`RedactingFilter` does it for :mod:`logging`.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from typing import Any, Final
from urllib.parse import quote, quote_plus

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "Secret",
    "dumps_redacted",
    "install_log_redaction",
    "redact",
    "redact_json",
    "register_secret",
]

REDACTED: Final = "***"

_lock = threading.Lock()
# known values bucketed by length: registering is O(1) (auth flows register every token they are issued, thousands
# per second in a token-issuance load run), and redact() replaces longer values before shorter ones.
_known: dict[int, set[str]] = {}

# a quote as it appears around a key or a value: plain, JSON-escaped (JSON inside a JSON string) or HTML-escaped
_QUOTE: Final = r"""(?:\\?["']|&quot;|&\#34;|&\#39;|&\#x27;|&apos;)"""
# a quoted value, by its opening quote, up to (not including) its closing quote or the end of the line
_QUOTED_VALUE: Final = (
    r""""(?P<dq>(?:[^"\\\r\n]|\\.)+)"""  # "JSON or Python string", escapes included
    r"""|'(?P<sq>(?:[^'\\\r\n]|\\.)+)"""  # 'Python string'
    r"""|\\["'](?P<eq>[^"'\\\r\n]+)"""  # \"a string in JSON inside a JSON string\"
    r"""|(?:&quot;|&\#34;|&\#39;|&\#x27;|&apos;)(?P<hq>[^&<\r\n]+)"""  # &quot;HTML-escaped&quot;
)
_VALUE_GROUPS: Final = ("dq", "sq", "eq", "hq", "bare")
_PLAIN: Final = re.compile(r"[A-Za-z0-9._~-]+")  # spelled the same escaped or not (JWTs, most opaque tokens)

_JWT: Final = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_URL_PASSWORD: Final = re.compile(r"(?i)(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}://[^\s/?#@:'\"<>]*:(?P<bare>[^\s/?#@'\"<>]+)@")
# Authorization / client-secret / API-key / cookie header values, in HTTP dumps, curl lines, JSON and Python reprs
# (also ('name', 'value') tuples): the whole value, whatever its scheme ("Bearer x", "Token x", "a=b; c=d").
_HEADER: Final = re.compile(
    r"(?i)(?<![\w.-])(?:proxy-)?(?:authorization|client-secret|x-api-key|api-key|x-auth-token|(?:set-)?cookie)"
    rf"(?P<kq>{_QUOTE})?(?(kq)\s*[:=,]\s*b?|\s*[:=]\s*)"
    rf"(?:{_QUOTED_VALUE}|(?![{{\[]|null\b)(?P<bare>[^\s'\"<>&\\}}\]][^\r\n'\"<>&\\}}\]]*))"
)
_BEARER: Final = re.compile(r"(?i)\bbearer\s+(?![a-z_]+=\")(?P<bare>[A-Za-z0-9._~+/=-]+)")
# a key named like a credential: password, db_password, client_secret, apiKey, accessToken, refresh_token, ...
_CREDENTIAL_NAME: Final = r"[a-z0-9_-]*?(?:password|passwd|passphrase|secret|api_?key|private_?key|token)"
_CREDENTIAL_KEY: Final = re.compile(rf"(?i){_CREDENTIAL_NAME}")
# A key of its own (not the tail of a dotted name such as the metric "keycloak.token.password") named like a
# credential, then its value. A JSON object, array or null after the key is structure, not a secret.
_KEY_VALUE: Final = re.compile(
    rf"(?i)(?<![\w.-]){_CREDENTIAL_NAME}"
    rf"(?P<kq>{_QUOTE})?\s*(?:[:=]|%3d)\s*"  # %3D: a form or query inside a URL-encoded parameter
    rf"(?:{_QUOTED_VALUE}|(?![{{\[]|null\b)(?P<bare>(?:[^\s&'\",;}}\]<>\\%]|%(?!26)[0-9a-f]{{2}})+))"
)


class Secret:
    """A credential that never shows itself in ``str``, ``repr`` or formatting."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def _spellings(value: str) -> set[str]:
    """``value`` as it may appear in text: raw, inside a JSON string, URL-encoded (path/query or form), HTML-escaped."""
    return {value, json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe=""), quote_plus(value),
            html.escape(value)}


def register_secret(value: str | None) -> None:
    """Remember a secret value (a password, an issued token) so that :func:`redact` removes it everywhere."""
    if not value or len(value) < 4:
        return  # too short to scrub without destroying ordinary text
    spellings = (value,) if _PLAIN.fullmatch(value) else _spellings(value)
    with _lock:
        for spelling in spellings:
            _known.setdefault(len(spelling), set()).add(spelling)


def _scrub(match: re.Match[str]) -> str:
    """The match with its value group replaced by ``***`` (a bare value after a JSON key becomes ``"***"``)."""
    groups = match.re.groupindex
    for name in _VALUE_GROUPS:
        start = match.start(name) if name in groups else -1
        if start >= 0:
            end = match.end(name)
            break
    else:  # pragma: no cover - every pattern has exactly one value group that matched
        return match.group(0)
    whole = match.group(0)
    base = match.start()
    replacement = REDACTED
    if name == "bare" and "kq" in groups and match.group("kq") == '"':
        replacement = f'"{REDACTED}"'  # keep JSON valid: {"token": 12345} -> {"token": "***"}
    return whole[: start - base] + replacement + whole[end - base :]


def redact(text: str) -> str:
    """``text`` with every known secret and every secret-shaped value replaced by ``***``."""
    if not text:
        return text
    if _known:
        with _lock:
            buckets = [tuple(_known[n]) for n in sorted(_known, reverse=True)]
        for bucket in buckets:
            for value in bucket:
                if value in text:
                    text = text.replace(value, REDACTED)
    text = _JWT.sub(REDACTED, text)
    for pattern in (_URL_PASSWORD, _HEADER, _BEARER, _KEY_VALUE):
        text = pattern.sub(_scrub, text)
    return text


def redact_json(value: Any) -> Any:
    """A copy of a decoded JSON value with every string redacted and the scalar under a credential-named key replaced.

    For bodies kept as data (an error body may echo the request: FastAPI's ``input`` holds the rejected body).
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    if isinstance(value, dict):
        return {
            redact(key) if isinstance(key, str) else key: REDACTED
            if isinstance(key, str) and _CREDENTIAL_KEY.fullmatch(key) and isinstance(item, str | int | float)
            and not isinstance(item, bool)
            else redact_json(item)
            for key, item in value.items()
        }
    return value


def dumps_redacted(value: Any, **options: Any) -> str:
    """``json.dumps`` of ``value`` redacted as data (:func:`redact_json`): the text is valid JSON whatever the secrets.

    Redacting the serialized text instead can cut a value's closing quote (a secret-shaped value ending in an
    escaped character), leaving a document no reader can parse.
    """
    return json.dumps(redact_json(value), **options)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Attach :class:`RedactingFilter` to every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
