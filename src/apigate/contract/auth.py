"""Schemathesis auth hooks built on apigate's clients: each operation gets the credential its contract names.

The contract's security requirement decides, per operation, which credential goes on the wire: CodeMie's
``BearerAuth`` and Keycloak's ``KeycloakBearer`` carry a Keycloak access token; Basejump's ``ClientSecret`` the API
key (header ``client-secret``), ``RefreshToken`` the fixture user's refresh token, ``AccessToken`` its access token.
Tokens come from the clients' auth flows (:class:`~apigate.clients.KeycloakAuth`, ``BasejumpAuth``), which cache
them and renew them before they expire; schemathesis' own caching is off so a renewal is never hidden behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from apigate.contract.documents import Contract

__all__ = ["CredentialSource", "install_auth", "security_headers"]

# scheme name (as in the contract) -> a function giving (header name, header value) at request time
CredentialSource = Mapping[str, Callable[[], tuple[str, str]]]


def security_headers(contract: Contract, method: str, path: str, credentials: CredentialSource) -> dict[str, str]:
    """The headers satisfying the first security requirement of the operation that ``credentials`` can fill."""
    op = contract.operation(method, path)
    requirements = op.definition.get("security", contract.document.get("security") or [])
    for requirement in requirements or []:
        if not requirement:
            return {}
        if all(name in credentials for name in requirement):
            return dict(credentials[name]() for name in requirement)
    return {}


_REGISTERED: dict[int, tuple[Contract, CredentialSource]] = {}  # id(raw schema) -> its credentials
_lock = threading.Lock()
_hook_installed = False


def _refresh_before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Put current credentials on a case just before it is sent.

    Schemathesis applies auth when it *generates* a case, and generates some phases' cases in bulk; with
    short-lived tokens a case could otherwise go out with a token that expired while it waited.
    Only credentials the suite put there itself are renewed: a case whose auth schemathesis removed or mutated
    on purpose (negative testing) has no explicit auth and is left alone.
    """
    entry = _REGISTERED.get(id(case.operation.schema.raw_schema))
    if entry is None or not case._has_explicit_auth or not case.headers:
        return
    contract, credentials = entry
    fresh = security_headers(contract, case.operation.method, case.operation.path, credentials)
    headers = dict(case.headers)
    for name, value in fresh.items():
        for key in [k for k in headers if k.lower() == name.lower()]:
            headers[key] = value
    case.headers = headers


def install_auth(schema: Any, contract: Contract, credentials: CredentialSource) -> None:
    """Register an auth provider on ``schema`` (a schemathesis ``BaseSchema``) that fills every secured operation."""
    global _hook_installed
    import schemathesis

    with _lock:
        _REGISTERED[id(schema.raw_schema)] = (contract, credentials)
        if not _hook_installed:
            schemathesis.hook("before_call")(_refresh_before_call)
            _hook_installed = True

    class ContractAuth:
        def get(self, case: Any, context: Any) -> dict[str, str] | None:
            operation = context.operation
            headers = security_headers(contract, operation.method, operation.path, credentials)
            return headers or None

        def set(self, case: Any, data: dict[str, str], context: Any) -> None:
            headers = dict(case.headers or {})
            headers.update(data)
            case.headers = headers

    schema.auth(refresh_interval=None)(ContractAuth)


def bearer(token: Callable[[], str]) -> Callable[[], tuple[str, str]]:
    return lambda: ("Authorization", f"Bearer {token()}")


def header(name: str, value: Callable[[], str]) -> Callable[[], tuple[str, str]]:
    return lambda: (name, value())
