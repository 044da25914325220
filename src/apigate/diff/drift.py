"""Drift: how a running service's own published description differs from its pinned contract.

* CodeMie and Basejump (and the mock's Keycloak): ``<base>/openapi.json`` diffed against the pinned contract
  (pinned = OLD, live = NEW), so a finding says what the live service added, removed or changed.
* A live Keycloak publishes no OpenAPI document; its OpenID discovery document
  (``<realm>/.well-known/openid-configuration``) is checked against what the pinned contract needs: the fields its
  discovery schema requires, the values its ``contains`` constraints ask for (grant types, signing algorithms) and
  where the issuer and the token, JWKS and userinfo endpoints live.
* A service that answers 404 for ``openapi.json`` publishes none: the report says so and has no findings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from apigate.config import KeycloakTarget, Target
from apigate.diff.cause import Cause
from apigate.diff.compare import diff_documents
from apigate.diff.loader import Document, fetch_text, load_document, parse_document
from apigate.diff.model import Finding
from apigate.diff.rules import RULES, explain
from apigate.errors import DocumentError, NotFoundError
from apigate.resources import contract_path

__all__ = ["APIS", "DriftReport", "check_discovery", "check_drift"]

APIS: Final = ("codemie", "keycloak", "basejump")
_DISCOVERY_PATH: Final = "/realms/{realm}/.well-known/openid-configuration"
# discovery field -> the contract path (suffix) of the endpoint it must point at
_ENDPOINTS: Final = {
    "token_endpoint": "/protocol/openid-connect/token",
    "jwks_uri": "/protocol/openid-connect/certs",
    "userinfo_endpoint": "/protocol/openid-connect/userinfo",
}
_NO_DOCUMENT: Final = {
    "basejump": "Basejump publishes no OpenAPI document ({url} answered 404); nothing to diff — "
                "the contract suite (`apigate contract --api basejump`) is the check for it",
    "codemie": "CodeMie publishes no OpenAPI document at {url} (404); nothing to diff — "
               "run `apigate contract --api codemie`",
    "keycloak": "Keycloak publishes no OpenAPI document at {url} (404); nothing to diff",
}


@dataclass
class DriftReport:
    api: str
    pinned: str  # path of the pinned contract
    live: str  # URL of what was fetched
    findings: list[Finding] = field(default_factory=list)
    note: str | None = None  # why nothing was compared, when nothing was


def _strip_base_path(live: Document, pinned: Document, base_url: str) -> None:
    """A live document whose paths carry the service's mount point (``/code-assistant-api/v1/...``) while the
    contract's paths are relative to it (``/v1/...``): strip the mount point."""
    prefix = urlsplit(base_url).path.rstrip("/")
    paths = live.paths
    if not prefix or not paths or any(str(p).startswith(prefix + "/") for p in pinned.paths):
        return
    if all(str(p).startswith(prefix + "/") for p in paths):
        live.data["paths"] = {str(p)[len(prefix):]: item for p, item in paths.items()}


def drift_openapi(api: str, pinned_path: Path, base_url: str) -> DriftReport:
    url = f"{base_url.rstrip('/')}/openapi.json"
    pinned = load_document(str(pinned_path))
    report = DriftReport(api, str(pinned_path), url)
    try:
        text = fetch_text(url)
    except NotFoundError:
        report.note = _NO_DOCUMENT[api].format(url=url)
        return report
    live = parse_document(text, url)
    _strip_base_path(live, pinned, base_url)
    report.findings = diff_documents(pinned, live)
    return report


def _finding(url: str, rule: str, field_name: str, old: str | None, new: str | None, message: str) -> Finding:
    """A discovery finding; its cause is the field of the live discovery document (``url``)."""
    cause = Cause("new", url, f"/{field_name}", None, field_name)
    return Finding(RULES[rule].severity, rule, _DISCOVERY_PATH, "get", field_name, old, new, message, cause,
                   explain(rule, f"`{field_name}`", old, new, message))


def _needed_members(schema: Any, document: Document) -> list[Any]:
    """Values a ``contains`` (directly or inside ``allOf``) asks an array to hold."""
    schema, _ref = document.deref(schema)
    if not isinstance(schema, Mapping):
        return []
    out: list[Any] = []
    contains, _ref = document.deref(schema.get("contains"))
    if isinstance(contains, Mapping):
        if "const" in contains:
            out.append(contains["const"])
        elif isinstance(contains.get("enum"), list) and len(contains["enum"]) == 1:
            out.append(contains["enum"][0])
    for part in schema.get("allOf") or []:
        out.extend(_needed_members(part, document))
    return out


def check_discovery(pinned: Document, discovery: Mapping[str, Any], keycloak: KeycloakTarget) -> list[Finding]:
    """What a live discovery document lacks (or has beyond) what the pinned Keycloak contract needs."""
    item, _ref = pinned.deref(pinned.paths.get(_DISCOVERY_PATH, {}))
    try:
        media = item["get"]["responses"]["200"]
        media, _ref = pinned.deref(media)
        schema, _ref = pinned.deref(media["content"]["application/json"]["schema"])
    except (KeyError, TypeError):
        raise DocumentError(f"{pinned.source}: no GET {_DISCOVERY_PATH} 200 application/json schema") from None
    url = keycloak.well_known_url
    findings: list[Finding] = []
    properties = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if name not in discovery:
            findings.append(_finding(url, "discovery-field-missing", name, "required", None, "required field missing"))
    for name, prop in sorted(properties.items()):
        needed = _needed_members(prop, pinned)
        value = discovery.get(name)
        if not needed or not isinstance(value, list):
            continue
        listed = [json.dumps(v) if not isinstance(v, str) else v for v in value]
        wanted = [json.dumps(v) if not isinstance(v, str) else v for v in needed]
        missing = [v for v in wanted if v not in listed]
        if missing:
            findings.append(_finding(url, "discovery-value-missing", name, ", ".join(wanted), ", ".join(listed),
                                     f"missing: {', '.join(missing)}"))
        extra = [v for v in listed if v not in wanted]
        if extra:
            findings.append(_finding(url, "discovery-value-added", name, ", ".join(wanted), ", ".join(listed),
                                     f"also lists: {', '.join(extra)}"))
    expected = {"issuer": keycloak.realm_url}
    server_path = urlsplit(keycloak.url).path.rstrip("/")
    for name, suffix in _ENDPOINTS.items():
        path = next((p for p in pinned.paths if str(p).endswith(suffix)), None)
        if path is not None:
            expected[name] = server_path + str(path).replace("{realm}", keycloak.realm)
    for name, want in sorted(expected.items()):
        value = discovery.get(name)
        if not isinstance(value, str):
            continue  # a missing required one was reported above
        want_path = urlsplit(want).path.rstrip("/") if "://" in want else want.rstrip("/")
        if urlsplit(value).path.rstrip("/") != want_path:
            findings.append(_finding(url, "discovery-endpoint-moved", name, want_path, value,
                                     "not where the contract has it"))
    findings.sort(key=Finding.sort_key)
    return findings


def drift_discovery(pinned_path: Path, keycloak: KeycloakTarget) -> DriftReport:
    pinned = load_document(str(pinned_path))
    url = keycloak.well_known_url
    report = DriftReport("keycloak", str(pinned_path), url)
    try:
        discovery = json.loads(fetch_text(url, accept="application/json"))
    except ValueError:
        raise DocumentError(f"{url}: the discovery document is not JSON") from None
    if not isinstance(discovery, Mapping):
        raise DocumentError(f"{url}: the discovery document is not a JSON object")
    report.findings = check_discovery(pinned, discovery, keycloak)
    return report


def check_drift(api: str, target: Target) -> DriftReport:
    """The drift of one API of ``target`` from its pinned contract."""
    pinned = contract_path(api)
    if not pinned.is_file():
        raise DocumentError(f"the pinned {api} contract is missing: {pinned}")
    if api == "codemie":
        return drift_openapi(api, pinned, target.codemie.url)
    if api == "basejump":
        return drift_openapi(api, pinned, target.basejump.url)
    if api == "keycloak":
        if target.keycloak.live:
            return drift_discovery(pinned, target.keycloak)
        return drift_openapi(api, pinned, target.keycloak.url)
    raise ValueError(f"unknown API {api!r}")
