"""The combined mock origin: Keycloak at ``/auth``, CodeMie at ``/code-assistant-api``, Basejump at ``/api/v1``.

One RSA key is made per origin; the Keycloak app signs with it and the CodeMie app trusts its JWKS. With
``split_ports`` the three services get an app each (Keycloak at the root, as a modern Keycloak without the legacy
``/auth`` path), to be served on three ports like separately deployed live services.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from apigate.config import DEMO
from apigate.mocks import codemie, keycloak
from apigate.mocks._alternatives import with_alternatives
from apigate.mocks._common import JSONAnswer, stamp_entry
from apigate.mocks.capacity import with_answer_gate
from apigate.mocks.faults import with_faults
from apigate.mocks.settings import MockSettings

__all__ = ["SERVICES", "PrefixRouter", "build_app", "build_split_apps"]

SERVICES: Final = ("keycloak", "codemie", "basejump")


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await JSONAnswer({"detail": "Not Found"}, status_code=404)(scope, receive, send)


class PrefixRouter:
    """Dispatch on fixed path prefixes (cheaper than Starlette's Mount regexes: every request passes here).

    As a Starlette ``Mount`` does, the prefix is appended to ``root_path`` and ``path`` is left whole.
    """

    def __init__(self, mounts: dict[str, ASGIApp]) -> None:
        self.mounts = [(prefix.rstrip("/"), app) for prefix, app in mounts.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return  # no lifespan: the mocks keep no resources
        path: str = scope["path"]
        for prefix, app in self.mounts:
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                scope["root_path"] = scope.get("root_path", "") + prefix
                await app(scope, receive, send)
                return
        await _not_found(scope, receive, send)


def _basejump(settings: MockSettings) -> ASGIApp | None:
    """The Basejump app, or None while ``apigate.mocks.basejump`` does not exist (it is built separately)."""
    try:
        module = importlib.import_module("apigate.mocks.basejump")
    except ModuleNotFoundError as exc:
        if exc.name != "apigate.mocks.basejump":
            raise
        return None
    app: ASGIApp = module.create_app(settings)
    return app


def build_app(settings: MockSettings | None = None, *, key: keycloak.RealmKey | None = None) -> ASGIApp:
    """The three mocks on one origin, under the real path prefixes, each behind its fault injector (and the AI
    answers behind their capacity/stall gate, when switched on)."""
    settings = settings or MockSettings()
    key = key or keycloak.RealmKey()
    mounts = {
        DEMO.codemie_prefix: with_answer_gate(with_faults(
            codemie.create_app(settings, jwks=key.jwks, keycloak_prefix=DEMO.keycloak_prefix), settings, "codemie"),
            settings, "codemie"),
        DEMO.keycloak_prefix: with_faults(keycloak.create_app(settings, key=key), settings, "keycloak"),
    }
    basejump = _basejump(settings)
    if basejump is not None:
        mounts[DEMO.basejump_prefix] = with_answer_gate(with_faults(basejump, settings, "basejump"), settings,
                                                        "basejump")
    return stamp_entry(with_alternatives(PrefixRouter(mounts), settings))


def build_split_apps(
    settings: MockSettings | None, keycloak_url: str, *, key: keycloak.RealmKey | None = None
) -> dict[str, ASGIApp]:
    """One app per service (``keycloak``, ``codemie``, ``basejump`` when built) for serving on separate ports.

    ``keycloak_url`` is where the Keycloak app will be reachable (its root): the issuer CodeMie trusts.
    """
    settings = dataclasses.replace(settings or MockSettings(), keycloak_url=keycloak_url)
    key = key or keycloak.RealmKey()
    apps: dict[str, ASGIApp] = {
        "keycloak": with_faults(keycloak.create_app(settings, key=key), settings, "keycloak"),
        "codemie": PrefixRouter({DEMO.codemie_prefix: with_answer_gate(with_faults(
            codemie.create_app(settings, jwks=key.jwks, keycloak_prefix=""), settings, "codemie"), settings,
            "codemie")}),
    }
    basejump = _basejump(settings)
    if basejump is not None:
        apps["basejump"] = PrefixRouter({DEMO.basejump_prefix: with_answer_gate(
            with_faults(basejump, settings, "basejump"), settings, "basejump")})
    return {name: stamp_entry(with_alternatives(app, settings)) for name, app in apps.items()}
