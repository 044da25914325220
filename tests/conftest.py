"""Root fixtures: only what several test folders share. Tests never reach beyond loopback."""

from __future__ import annotations

import pytest

from apigate.config import Target, mock_target

MOCK_ORIGIN = "http://mock.test"


@pytest.fixture
def demo_target() -> Target:
    """The embedded mock's target on an in-process origin (use with httpx.ASGITransport)."""
    return mock_target(MOCK_ORIGIN)
