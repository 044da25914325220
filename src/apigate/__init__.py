"""apigate: contract tests and load benchmarks for the CodeMie and Basejump AI APIs.

The public surface is grouped by concern; sub-packages (``apigate.clients``, ``apigate.mocks``) have their own.
"""

from __future__ import annotations

from apigate._version import __version__
from apigate.config import DEMO, Target, load_target, mock_target
from apigate.errors import ApigateError, ConfigError, ContractViolation, HTTPError, StreamViolation, TransportError
from apigate.redact import Secret, redact

__all__ = [
    # configuration
    "DEMO",
    # errors and failures
    "ApigateError",
    "ConfigError",
    "ContractViolation",
    "HTTPError",
    # secrets
    "Secret",
    "StreamViolation",
    "Target",
    "TransportError",
    "__version__",
    "load_target",
    "mock_target",
    "redact",
]
