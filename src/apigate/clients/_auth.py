"""What the API clients need from an auth flow, and the one-retry-on-401 rule they share."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

import httpx

from apigate.errors import UnauthorizedError

__all__ = ["TokenProvider", "authed"]


class TokenProvider(Protocol):
    """A cached bearer token source (:class:`KeycloakAuth`, :class:`BasejumpAuth`)."""

    @property
    def generation(self) -> int:
        """How many tokens this provider has obtained (changes whenever a new one is fetched)."""
        ...

    def token(self) -> str:
        """A valid access token, fetched or renewed when needed (the revealed value: put it on the wire only)."""
        ...

    def invalidate(self, token: str) -> None:
        """The server rejected ``token``: drop it so that the next :meth:`token` re-authenticates."""
        ...


@contextlib.contextmanager
def authed(
    auth: TokenProvider, open_: Callable[[dict[str, str]], AbstractContextManager[httpx.Response]]
) -> Iterator[httpx.Response]:
    """Open an exchange with a bearer token; a 401 on a *cached* token re-authenticates once and retries once.

    A 401 on a token fetched for this very call is raised at once: the credentials are not the problem's age.
    """
    before = auth.generation
    token = auth.token()
    fresh = auth.generation != before
    with contextlib.ExitStack() as stack:
        try:
            response = stack.enter_context(open_({"Authorization": f"Bearer {token}"}))
        except UnauthorizedError:
            if fresh:
                raise
            auth.invalidate(token)
            response = stack.enter_context(open_({"Authorization": f"Bearer {auth.token()}"}))
        yield response
