"""Embedded mock servers of Keycloak, CodeMie and Basejump (ASGI apps), and the plumbing that serves them.

Public surface::

    MockSettings, BREAKS                     knobs, faults and named contract breaks (apigate.mocks.settings)
    build_app(settings) -> ASGI app          the combined origin: /auth, /code-assistant-api, /api/v1
    build_split_apps(settings, keycloak_url) one app per service, for three ports
    running_mock(settings, host=, port=)     context manager: uvicorn in a background thread -> MockServer
    MockProcess(settings, host=, port=)      context manager: ``python -m apigate mock`` in its own process
    MockServer                               where a running mock answers (.origin, .urls)

The servers and apps are imported on first use, so that importing the settings stays cheap (CLI start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from apigate.mocks.settings import BREAKS, MockSettings

if TYPE_CHECKING:
    from apigate.mocks.app import build_app, build_split_apps
    from apigate.mocks.serve import MockProcess, MockServer, running_mock

__all__ = ["BREAKS", "MockProcess", "MockServer", "MockSettings", "build_app", "build_split_apps", "running_mock"]

_LAZY = {
    "build_app": "apigate.mocks.app",
    "build_split_apps": "apigate.mocks.app",
    "MockProcess": "apigate.mocks.serve",
    "MockServer": "apigate.mocks.serve",
    "running_mock": "apigate.mocks.serve",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'apigate.mocks' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
