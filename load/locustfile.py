"""apigate's Locust scenarios, all in one locustfile.

    locust -f load/locustfile.py                       # every scenario, web UI
    locust -f load/locustfile.py CodemieStreamUser     # pick user classes by name
    locust -f load/stream.py --headless -u 20 -t 30s   # one scenario file
    apigate load --scenario stream -u 20 -t 30s        # headless, embedded mock, summary.json

Scenarios: tokens (KeycloakTokenUser, BasejumpTokenUser), chat (CodemieChatUser, BasejumpChatUser),
stream (CodemieStreamUser). ``APIGATE_LOAD_SHAPE`` = ramp | step | spike selects a load shape;
``APIGATE_LOAD_RATE`` (requests/s) switches to the open model (``lifecycle.py``).
See load/README.md for the target settings and the distributed mode.
"""

from __future__ import annotations

import os

import shapes
from chat import BasejumpChatUser, CodemieChatUser
from stream import CodemieStreamUser
from tokens import BasejumpTokenUser, KeycloakTokenUser

__all__ = ["BasejumpChatUser", "BasejumpTokenUser", "CodemieChatUser", "CodemieStreamUser", "KeycloakTokenUser"]

_shape = os.environ.get("APIGATE_LOAD_SHAPE", "steady")
if _shape in shapes.SHAPES:
    SelectedShape = shapes.SHAPES[_shape]
elif _shape != "steady":
    raise SystemExit(f"apigate load: error: unknown APIGATE_LOAD_SHAPE {_shape!r} (steady, ramp, step, spike)")
