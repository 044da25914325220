"""Keeping secrets out of everything apigate prints or writes.

Two mechanisms, both needed:

* :class:`Secret` wraps a credential so that ``str``/``repr``/f-strings show ``***``; the value is only reachable
  through :meth:`Secret.reveal`, which the HTTP layer calls at the last moment.
* :func:`redact` scrubs text: every value ever wrapped in a ``Secret`` or passed to :func:`register_secret`
  (issued tokens are registered by the auth flows), JWT-shaped strings, ``Bearer``/``client-secret`` header values
  and ``password=``/``client_secret=``/``*token=`` form or query values. Report writers and the CLI pass all text
  through it; :class:`RedactingFilter` does it for :mod:`logging`.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Final

__all__ = ["REDACTED", "RedactingFilter", "Secret", "install_log_redaction", "redact", "register_secret"]

REDACTED: Final = "***"

_lock = threading.Lock()
# known values bucketed by length: registering is O(1) (auth flows register every token they are issued, thousands
# per second in a token-issuance load run), and redact() replaces longer values before shorter ones.
_known: dict[int, set[str]] = {}

_PATTERNS: Final = [
    # JWTs (Keycloak access/refresh/id tokens, Basejump tokens if they are JWTs).
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    # Authorization / client-secret header values, in HTTP dumps, curl lines and Python reprs.
    re.compile(
        r"(?i)((?<![\w.-])(?:authorization|client-secret|x-api-key|cookie)['\"]?\s*[:=]\s*['\"]?)"
        r"(?:bearer\s+|basic\s+)?(?![{\[])[^\s'\",}\]]+"
    ),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+"),
    # Form bodies, query strings, JSON keys.
    re.compile(
        # a key of its own (not the tail of a name such as the metric "keycloak.token.password") whose value is a
        # scalar (a JSON object or array after the key is structure, not a secret)
        r"(?i)((?<![\w.-])(?:password|client_secret|secret|api_key|apikey|access_token|refresh_token|id_token|token)"
        r"['\"]?\s*[:=]\s*['\"]?)(?![{\[]|null\b)[^\s&'\",}\]]+"
    ),
]


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


def register_secret(value: str | None) -> None:
    """Remember a secret value (a password, an issued token) so that :func:`redact` removes it everywhere."""
    if not value or len(value) < 4:
        return  # too short to scrub without destroying ordinary text
    with _lock:
        _known.setdefault(len(value), set()).add(value)


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
    text = _PATTERNS[0].sub(REDACTED, text)
    for p in _PATTERNS[1:]:
        text = p.sub(lambda m: m.group(1) + REDACTED, text)
    return text


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
