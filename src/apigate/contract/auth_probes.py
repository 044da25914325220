"""Auth enforcement, for every protected operation: bad credentials must get 401 with the documented body.

For each operation the contract protects, one request that succeeded with the suite's credentials (remembered
during the schemathesis run, or built from the fixtures) is replayed with each kind of bad credential:

* bearer schemes: none at all, malformed values, a token signed by another key, ``alg: none``, a genuinely issued
  but expired token, a token from another issuer (both skipped, with a note, when the target cannot produce one),
  and — Basejump — the other kind of token (a refresh token where an access token is required, and vice versa);
* API-key schemes: no key, a wrong key.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from apigate.contract import tokens
from apigate.contract.documents import Contract
from apigate.contract.probe import Prober
from apigate.contract.state import RecordedRequest
from apigate.redact import register_secret

__all__ = ["ApiKeyKit", "BearerKit", "probe_auth"]


@dataclass
class BearerKit:
    """Token sources for one bearer scheme. Optional sources return ``(None, why)`` when they have nothing."""

    valid: Callable[[], str]
    expired: Callable[[], tuple[str | None, str]] | None = None
    foreign_issuer: Callable[[], tuple[str | None, str]] | None = None
    wrong_kind: Mapping[str, Callable[[], str]] = field(default_factory=dict)  # check name -> token


@dataclass
class ApiKeyKit:
    header: str


Kit = BearerKit | ApiKeyKit


def _without(headers: Mapping[str, str], *names: str) -> dict[str, str]:
    lowered = {n.lower() for n in (*names, "content-length")}
    return {k: v for k, v in headers.items() if k.lower() not in lowered}


def _jwt_like(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def _bearer_variants(kit: BearerKit, notes: list[str], op_label: str) -> list[tuple[str, str | None]]:
    """(check name, Authorization value or None for "no header")."""
    variants: list[tuple[str, str | None]] = [("auth.no_credentials", None), ("auth.not_bearer", "Basic ZGVtbzpkZW1v")]
    valid = kit.valid()
    if _jwt_like(valid):
        for name, value in tokens.malformed(valid).items():
            variants.append((f"auth.malformed_token.{name}", f"Bearer {value}"))
        variants.append(("auth.other_signing_key", f"Bearer {tokens.resign(valid)}"))
        variants.append(("auth.alg_none", f"Bearer {tokens.unsigned(valid)}"))
    else:
        garbled = valid[:-6] + secrets.token_hex(3) if len(valid) > 8 else secrets.token_hex(16)
        register_secret(garbled)
        variants.append(("auth.malformed_token.not_a_token", "Bearer not-a-token"))
        variants.append(("auth.malformed_token.garbled", f"Bearer {garbled}"))
    for name, source in (("auth.expired_token", kit.expired), ("auth.wrong_issuer", kit.foreign_issuer)):
        if source is None:
            continue
        token, why = source()
        if token is None:
            notes.append(f"{op_label}: {name} skipped: {why}")
        else:
            variants.append((name, f"Bearer {token}"))
    for name, wrong in kit.wrong_kind.items():
        variants.append((name, f"Bearer {wrong()}"))
    return variants


def probe_auth(
    prober: Prober,
    contract: Contract,
    good: Mapping[str, RecordedRequest],
    kits: Mapping[str, Kit],
    notes: list[str],
) -> None:
    """Replay every protected operation's good request with each kind of bad credential."""
    for op in contract.operations():
        if not op.secured:
            continue
        base = good.get(op.label)
        if base is None:
            prober.record(op.label, "auth.baseline", AssertionError(
                "no request with the suite's valid credentials succeeded, so auth enforcement could not be probed"))
            continue
        requirements = op.definition.get("security", contract.document.get("security") or [])
        schemes = [name for requirement in requirements for name in requirement]
        for scheme in schemes:
            kit = kits.get(scheme)
            if isinstance(kit, BearerKit):
                for check, value in _bearer_variants(kit, notes, op.label):
                    headers = _without(base.headers, "authorization")
                    if value is not None:
                        headers["Authorization"] = value
                    _replay(prober, op.label, check, base, headers)
            elif isinstance(kit, ApiKeyKit):
                _replay(prober, op.label, "auth.no_credentials", base, _without(base.headers, kit.header))
                wrong = _without(base.headers, kit.header)
                wrong[kit.header] = "apigate-wrong-" + secrets.token_hex(8)
                _replay(prober, op.label, "auth.wrong_api_key", base, wrong)


def _replay(prober: Prober, label: str, check: str, base: RecordedRequest, headers: dict[str, str]) -> None:
    prober.check(
        label,
        check,
        lambda: prober.send(base.method, base.url, headers=headers, body=base.body),
        prober.expect_error(401),
    )
