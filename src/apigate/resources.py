"""Files shipped with apigate: the pinned contracts and the Locust scenarios.

In a source checkout they are the top-level ``contracts/`` and ``load/`` folders; in an installed wheel they are
packaged under ``apigate/_data/``. Code never edits them.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["contract_path", "contracts_dir", "load_dir"]

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent.parent  # src/apigate -> repository root


def _data_dir(name: str) -> Path:
    checkout = _CHECKOUT / name
    if checkout.is_dir() and (_CHECKOUT / "pyproject.toml").is_file():
        return checkout
    return _PACKAGE / "_data" / name


def contracts_dir() -> Path:
    return _data_dir("contracts")


def load_dir() -> Path:
    return _data_dir("load")


def contract_path(api: str) -> Path:
    """The pinned OpenAPI document of ``api`` (``codemie``, ``keycloak`` or ``basejump``)."""
    return contracts_dir() / f"{api}.openapi.yaml"
