"""What a diff finds: :class:`Finding` objects, their severities and the catalogue of rule ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["RULES", "SEVERITIES", "Finding", "Severity", "severity_rank"]

Severity = Literal["breaking", "warning", "compatible"]

# most severe first
SEVERITIES: Final[tuple[Severity, ...]] = ("breaking", "warning", "compatible")


def severity_rank(severity: str) -> int:
    """0 for breaking, 1 for warning, 2 for compatible (lower is worse)."""
    return SEVERITIES.index(severity)  # type: ignore[arg-type,unused-ignore]


# rule id -> (severity, what it means). Severities are from a client's point of view: a client written against the
# OLD document keeps working against the NEW one (compatible), may misbehave (warning) or fails (breaking).
RULES: Final[dict[str, tuple[Severity, str]]] = {
    # paths and operations
    "path-removed": ("breaking", "a path and all its operations were removed"),
    "operation-removed": ("breaking", "an operation was removed"),
    "path-added": ("compatible", "a new path"),
    "operation-added": ("compatible", "a new operation"),
    # security
    "security-added": ("breaking", "an operation that needed no credentials now requires them"),
    "security-changed": ("breaking", "the credentials an operation accepts changed"),
    "security-removed": ("compatible", "an operation no longer requires credentials"),
    "security-alternative-added": ("compatible", "an operation accepts an additional kind of credentials"),
    # parameters
    "request-parameter-added-required": ("breaking", "a new required parameter"),
    "request-parameter-added-optional": ("compatible", "a new optional parameter"),
    "request-parameter-became-required": ("breaking", "an optional parameter became required"),
    "request-parameter-became-optional": ("compatible", "a required parameter became optional"),
    "request-parameter-removed": ("warning", "a parameter was removed (clients that send it are ignored or refused)"),
    # request body
    "request-body-added-required": ("breaking", "an operation now requires a request body"),
    "request-body-added-optional": ("compatible", "an operation accepts an optional request body"),
    "request-body-became-required": ("breaking", "the request body became required"),
    "request-body-became-optional": ("compatible", "the request body became optional"),
    "request-body-removed": ("warning", "the request body was removed"),
    "request-media-type-removed": ("breaking", "a request media type is no longer accepted"),
    "request-media-type-added": ("compatible", "a new request media type is accepted"),
    # request schemas (body properties and parameter values)
    "request-property-type-changed": ("breaking", "a request value's type changed or narrowed"),
    "request-property-type-widened": ("compatible", "a request value accepts more types"),
    "request-property-became-non-nullable": ("breaking", "a request value no longer accepts null"),
    "request-property-became-nullable": ("compatible", "a request value now accepts null"),
    "request-property-added-required": ("breaking", "a new required request property"),
    "request-property-added-optional": ("compatible", "a new optional request property"),
    "request-property-became-required": ("breaking", "an optional request property became required"),
    "request-property-became-optional": ("compatible", "a required request property became optional"),
    "request-property-removed": ("warning", "a request property was removed"),
    "request-enum-value-removed": ("breaking", "a request enum value is no longer accepted"),
    "request-enum-value-added": ("compatible", "a request enum accepts a new value"),
    "request-enum-added": ("breaking", "a request value is now restricted to an enum"),
    "request-enum-removed": ("compatible", "a request value is no longer restricted to an enum"),
    "request-max-tightened": ("breaking", "a request upper bound (maxLength, maximum, maxItems, ...) was tightened"),
    "request-max-loosened": ("compatible", "a request upper bound was loosened"),
    "request-min-tightened": ("breaking", "a request lower bound (minLength, minimum, minItems, ...) was tightened"),
    "request-min-loosened": ("compatible", "a request lower bound was loosened"),
    "request-pattern-changed": ("warning", "a request value's pattern was added or changed"),
    "request-format-changed": ("warning", "a request value's format was added or changed"),
    "request-default-changed": ("warning", "a request value's default changed (clients that omit it get another behaviour)"),
    "request-additional-properties-disallowed": ("breaking", "a request object no longer accepts extra properties"),
    "request-additional-properties-allowed": ("compatible", "a request object accepts extra properties"),
    "request-alternative-removed": ("breaking", "a oneOf/anyOf alternative of a request value was removed"),
    "request-alternative-added": ("compatible", "a request value accepts a new oneOf/anyOf alternative"),
    # responses
    "success-status-removed": ("breaking", "a success status was removed"),
    "success-status-changed": ("breaking", "the success status changed"),
    "response-status-removed": ("warning", "a non-success status was removed"),
    "response-status-added": ("compatible", "a new response status"),
    "response-media-type-removed": ("breaking", "a response media type is no longer sent"),
    "response-media-type-added": ("compatible", "a new response media type"),
    # response schemas
    "response-property-type-changed": ("breaking", "a response value's type changed or widened"),
    "response-property-type-narrowed": ("compatible", "a response value has fewer possible types"),
    "response-property-became-nullable": ("breaking", "a response value may now be null"),
    "response-property-became-non-nullable": ("compatible", "a response value is no longer null"),
    "response-required-property-removed": ("breaking", "a required response property was removed (or renamed)"),
    "response-optional-property-removed": ("warning", "an optional response property was removed"),
    "response-property-became-optional": ("breaking", "a required response property became optional"),
    "response-property-became-required": ("compatible", "an optional response property became required"),
    "response-property-added": ("compatible", "a new response property"),
    "response-enum-value-added": ("warning", "a response enum may carry a new value"),
    "response-enum-value-removed": ("compatible", "a response enum carries fewer values"),
    "response-enum-removed": ("warning", "a response value is no longer restricted to an enum"),
    "response-enum-added": ("compatible", "a response value is now restricted to an enum"),
    "response-max-loosened": ("warning", "a response upper bound (maxLength, maximum, maxItems, ...) was loosened"),
    "response-max-tightened": ("compatible", "a response upper bound was tightened"),
    "response-min-loosened": ("warning", "a response lower bound (minLength, minimum, minItems, ...) was loosened"),
    "response-min-tightened": ("compatible", "a response lower bound was tightened"),
    "response-format-changed": ("warning", "a response value's format was added or changed"),
    "response-additional-properties-allowed": ("warning", "a response object may carry extra properties"),
    "response-additional-properties-disallowed": ("compatible", "a response object no longer carries extra properties"),
    "response-alternative-added": ("warning", "a response value may match a new oneOf/anyOf alternative"),
    "response-alternative-removed": ("compatible", "a oneOf/anyOf alternative of a response value was removed"),
    # drift of a live Keycloak's OpenID discovery document from what the pinned contract needs
    "discovery-field-missing": ("breaking", "the discovery document lacks a field the contract requires"),
    "discovery-value-missing": ("breaking", "a value the contract needs (a grant type, a signing algorithm) is not listed"),
    "discovery-endpoint-moved": ("breaking", "an endpoint (issuer, token, JWKS, userinfo) is not where the contract has it"),
    "discovery-value-added": ("compatible", "the server lists values the contract does not use"),
}


@dataclass(frozen=True, order=True)
class Finding:
    """One classified change. ``where`` says where inside the operation, e.g.
    ``response 200 application/json: body.generated``; ``old``/``new`` are short printable values (``None`` when
    absent on that side)."""

    severity: Severity
    rule: str
    path: str
    method: str
    where: str
    old: str | None
    new: str | None
    message: str

    @property
    def location(self) -> str:
        parts = [p for p in (self.method.upper(), self.path, self.where) if p]
        return " ".join(parts)

    def sort_key(self) -> tuple[Any, ...]:
        return (severity_rank(self.severity), self.path, self.method, self.where, self.rule, self.old or "", self.new or "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "rule": self.rule,
            "path": self.path,
            "method": self.method.upper(),
            "where": self.where,
            "location": self.location,
            "old": self.old,
            "new": self.new,
            "message": self.message,
        }
