"""Defaults of a contract run (a module of constants, cheap to import for the CLI's parser)."""

from __future__ import annotations

from typing import Final

__all__ = ["CONTRACT_MOCK", "DEFAULT_MAX_EXAMPLES", "DEFAULT_WORKERS"]

DEFAULT_MAX_EXAMPLES: Final = 25  # per operation and generation phase
DEFAULT_WORKERS: Final = 1  # schemathesis workers: hypothesis' lambda introspection is not thread-safe on 3.11

# The embedded mock a contract run starts (``apigate contract`` and ``apigate run``): short-lived Keycloak tokens, so
# that an expired token (and refresh token) signed by the realm's real key exists by the time the probes run (the
# suite renews its own tokens), and no artificial latency; a stream still waits 50 ms for its first chunk so that
# "headers arrive before the first chunk" can be judged. MockSettings field -> value.
CONTRACT_MOCK: Final = {
    "access_token_lifetime_s": 5,
    "refresh_token_lifetime_s": 6,
    "first_chunk_ms": 50.0,
    "chunk_interval_ms": 5.0,
    "chat_latency_ms": 0.0,
    "basejump_message_latency_ms": 0.0,
}
