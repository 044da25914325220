"""CodeMie's view of Keycloak tokens: RS256 signature against the realm's JWKS, expiry and issuer.

The JWKS is parsed once into key objects; a verified token is remembered (token -> claims) until it expires, so a
request with a known token costs a dictionary lookup, not an RSA verification.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

import jwt

from apigate.mocks.settings import MockSettings

__all__ = ["InvalidToken", "TokenVerifier"]

_now = time.time  # the clock of expiry checks (tests move it)
CACHE_LIMIT: Final = 100_000  # verified tokens kept; the cache is emptied when it grows past this


class InvalidToken(Exception):
    """The token's signature, expiry, issuer or shape is wrong."""


class TokenVerifier:
    def __init__(self, jwks: Mapping[str, Any], settings: MockSettings) -> None:
        self._keys: dict[str, Any] = {}
        for jwk in jwks.get("keys", ()):
            if jwk.get("use", "sig") != "sig":  # Keycloak publishes its encryption key beside the signing key
                continue
            parsed = jwt.PyJWK(dict(jwk))
            self._keys[str(jwk.get("kid"))] = parsed.key
        self._cache: dict[str, dict[str, Any]] = {}
        self._check_signature = not settings.broken("codemie.auth.any_key")
        self._check_expiry = not settings.broken("codemie.auth.expired_accepted")
        self._check_issuer = not settings.broken("codemie.auth.any_issuer")

    def verify(self, token: str, issuer: str) -> dict[str, Any]:
        """The claims of a valid access token issued by ``issuer``; :class:`InvalidToken` otherwise."""
        claims = self._cache.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[token] = claims
        if self._check_expiry and claims["exp"] <= _now():
            raise InvalidToken("expired")
        if self._check_issuer and claims.get("iss") != issuer:
            raise InvalidToken("wrong issuer")
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            if self._check_signature:
                key = self._keys.get(str(header.get("kid")))
                if key is None:
                    raise InvalidToken("unknown key")
                claims: dict[str, Any] = jwt.decode(
                    token, key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False}
                )
            else:
                claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        if not isinstance(claims.get("exp"), int) or not isinstance(claims.get("sub"), str):
            raise InvalidToken("exp and sub are required")
        if claims.get("typ") not in (None, "Bearer"):
            raise InvalidToken("not an access token")
        return claims
