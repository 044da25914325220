"""Fixtures of the mock tests."""

from __future__ import annotations

import pytest

from apigate.mocks.settings import MockSettings


@pytest.fixture
def settings() -> MockSettings:
    return MockSettings(chat_latency_ms=0, first_chunk_ms=0, chunk_interval_ms=0)
