"""Bad credentials for the auth-enforcement checks, made from a real token without the issuer's private key.

* :func:`resign` — the same header and claims (optionally changed) signed by a fresh RSA key the server has never
  seen: "a token signed by another key". With changed ``exp``/``iss`` it is also what a careless server that skips
  signature checks would accept, so a suite that only sends these cannot tell *why* a server rejects them; the
  expired and wrong-issuer checks therefore use genuinely issued tokens (see :mod:`apigate.contract.probes`).
* :func:`malformed` — strings that are not JWTs at all, or JWTs with a broken structure.
* :func:`unsigned` — ``alg: none``, the classic bypass.

Every forged value is JWT-shaped (or registered), so :func:`apigate.redact.redact` scrubs it from reports.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from apigate.redact import register_secret

__all__ = ["claims", "header", "malformed", "resign", "unsigned"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def header(token: str) -> dict[str, Any]:
    value: dict[str, Any] = jwt.get_unverified_header(token)
    return value


def claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, not verified (for reading ``exp``, ``iss``, ``sub`` of a token we were issued)."""
    value: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return value


@lru_cache(maxsize=1)
def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def resign(token: str, **changes: Any) -> str:
    """``token``'s header and claims (with ``changes``) signed RS256 by a key its issuer never published."""
    head = header(token)
    payload = {**claims(token), **changes}
    kid = head.get("kid")
    forged = jwt.encode(payload, _other_key(), algorithm="RS256", headers={"kid": kid} if kid else None)
    register_secret(forged)
    return forged


def unsigned(token: str) -> str:
    """``token``'s claims with ``alg: none`` and an empty signature."""
    head = {**header(token), "alg": "none"}
    forged = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(claims(token)).encode())}."
    register_secret(forged)
    return forged


def malformed(token: str) -> dict[str, str]:
    """Named bearer values that are not valid JWTs (the key says how)."""
    head, payload, signature = token.split(".")
    values = {
        "not_a_jwt": "not-a-jwt",
        "two_segments": f"{head}.{payload}",
        "garbled_payload": f"{head}.{payload[:-4]}!!!!.{signature}",
        "truncated_signature": f"{head}.{payload}.{signature[: len(signature) // 2]}",
    }
    for name, value in values.items():
        if name != "not_a_jwt":
            register_secret(value)
    _unb64(payload)  # the source token itself must be well formed
    return values
