"""The catalogue of diff rules: each rule id's default severity, what it means, and what breaks for a client.

Severities are from a client's point of view: a client written against the OLD document keeps working against the
NEW one (compatible), may misbehave (warning) or fails (breaking). A team that judges a rule differently raises or
lowers its severity with a policy file (:mod:`apigate.diff.policy`).

The ``consequence`` of a rule is one sentence, with ``{subject}`` (the property, parameter or operation concerned),
``{old}``, ``{new}`` (the printed old and new values) and ``{detail}`` (the finding's own message) filled in by
:func:`explain`.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

__all__ = ["RULES", "SEVERITIES", "Rule", "Severity", "explain", "severity_rank"]

Severity = Literal["breaking", "warning", "compatible"]

# most severe first
SEVERITIES: Final[tuple[Severity, ...]] = ("breaking", "warning", "compatible")


def severity_rank(severity: str) -> int:
    """0 for breaking, 1 for warning, 2 for compatible (lower is worse)."""
    return SEVERITIES.index(severity)  # type: ignore[arg-type,unused-ignore]


class Rule(NamedTuple):
    severity: Severity
    summary: str
    consequence: str


_B: Final = "breaking"
_W: Final = "warning"
_C: Final = "compatible"

RULES: Final[dict[str, Rule]] = {
    # paths and operations
    "path-removed": Rule(_B, "a path and all its operations were removed",
                         "Every call to {subject} now fails (404)."),
    "operation-removed": Rule(_B, "an operation was removed", "Calls to {subject} now fail (404 or 405)."),
    "path-added": Rule(_C, "a new path", "Nothing breaks: {subject} is new."),
    "operation-added": Rule(_C, "a new operation", "Nothing breaks: {subject} is new."),
    # security
    "security-added": Rule(_B, "an operation that needed no credentials now requires them",
                           "Clients that call {subject} without credentials are refused (401): it now needs {new}."),
    "security-changed": Rule(_B, "the credentials an operation accepts changed",
                             "Clients that call {subject} with the old credentials are refused (401): it accepted "
                             "{old}, it now needs {new}."),
    "security-removed": Rule(_C, "an operation no longer requires credentials",
                             "Nothing breaks: {subject} no longer requires credentials."),
    "security-alternative-added": Rule(_C, "an operation accepts an additional kind of credentials",
                                       "Nothing breaks: {subject} also accepts {new}."),
    # parameters
    "request-parameter-added-required": Rule(_B, "a new required parameter",
                                             "Requests without {subject} are refused."),
    "request-parameter-added-optional": Rule(_C, "a new optional parameter",
                                             "Nothing breaks: {subject} is new and optional."),
    "request-parameter-became-required": Rule(_B, "an optional parameter became required",
                                              "Requests that omit {subject} are refused."),
    "request-parameter-became-optional": Rule(_C, "a required parameter became optional",
                                              "Nothing breaks: {subject} may now be omitted."),
    "request-parameter-removed": Rule(_W, "a parameter was removed (clients that send it are ignored or refused)",
                                      "Clients that send {subject} have it ignored, or refused by a strict server."),
    # request body
    "request-body-added-required": Rule(_B, "an operation now requires a request body",
                                        "Requests to {subject} without a body are refused."),
    "request-body-added-optional": Rule(_C, "an operation accepts an optional request body",
                                        "Nothing breaks: {subject} accepts an optional body."),
    "request-body-became-required": Rule(_B, "the request body became required",
                                         "Requests to {subject} without a body are refused."),
    "request-body-became-optional": Rule(_C, "the request body became optional",
                                         "Nothing breaks: the body of {subject} may now be omitted."),
    "request-body-removed": Rule(_W, "the request body was removed",
                                 "Clients that send a body to {subject} have it ignored, or refused by a strict server."),
    "request-media-type-removed": Rule(_B, "a request media type is no longer accepted",
                                       "Requests to {subject} sent as {old} are refused (415)."),
    "request-media-type-added": Rule(_C, "a new request media type is accepted",
                                     "Nothing breaks: {subject} also accepts {new}."),
    # request schemas (body properties and parameter values)
    "request-property-type-changed": Rule(_B, "a request value's type changed or narrowed",
                                          "Requests that send {subject} as {old} are refused (now {new})."),
    "request-property-type-widened": Rule(_C, "a request value accepts more types",
                                          "Nothing breaks: {subject} accepts {new} (was {old})."),
    "request-property-became-non-nullable": Rule(_B, "a request value no longer accepts null",
                                                 "Requests that send null for {subject} are refused."),
    "request-property-became-nullable": Rule(_C, "a request value now accepts null",
                                             "Nothing breaks: {subject} also accepts null."),
    "request-property-added-required": Rule(_B, "a new required request property",
                                            "Requests without {subject} are refused."),
    "request-property-added-optional": Rule(_C, "a new optional request property",
                                            "Nothing breaks: {subject} is new and optional."),
    "request-property-became-required": Rule(_B, "an optional request property became required",
                                             "Requests that omit {subject} are refused."),
    "request-property-became-optional": Rule(_C, "a required request property became optional",
                                             "Nothing breaks: {subject} may now be omitted."),
    "request-property-removed": Rule(_W, "a request property was removed",
                                     "Clients that send {subject} have it ignored, or refused by a strict server."),
    "request-enum-value-removed": Rule(_B, "a request enum value is no longer accepted",
                                       "Requests that send a removed value of {subject} are refused ({detail})."),
    "request-enum-value-added": Rule(_C, "a request enum accepts a new value",
                                     "Nothing breaks: {subject} accepts more values ({detail})."),
    "request-enum-added": Rule(_B, "a request value is now restricted to an enum",
                               "Requests that send {subject} outside {new} are refused."),
    "request-enum-removed": Rule(_C, "a request value is no longer restricted to an enum",
                                 "Nothing breaks: {subject} accepts any value, not only {old}."),
    "request-max-tightened": Rule(_B, "a request upper bound (maxLength, maximum, maxItems, ...) was tightened",
                                  "Requests whose {subject} fit the old bound but not the new one are refused "
                                  "({old} → {new})."),
    "request-max-loosened": Rule(_C, "a request upper bound was loosened",
                                 "Nothing breaks: {subject} accepts more ({old} → {new})."),
    "request-min-tightened": Rule(_B, "a request lower bound (minLength, minimum, minItems, ...) was tightened",
                                  "Requests whose {subject} fit the old bound but not the new one are refused "
                                  "({old} → {new})."),
    "request-min-loosened": Rule(_C, "a request lower bound was loosened",
                                 "Nothing breaks: {subject} accepts more ({old} → {new})."),
    "request-pattern-changed": Rule(_W, "a request value's pattern was added or changed",
                                    "Requests whose {subject} does not match the new pattern {new} may be refused."),
    "request-format-changed": Rule(_W, "a request value's format was added or changed",
                                   "Requests whose {subject} is not in format {new} may be refused."),
    "request-default-changed": Rule(_W, "a request value's default changed (clients that omit it get another behaviour)",
                                    "Requests that omit {subject} now get {new} instead of {old}."),
    "request-additional-properties-disallowed": Rule(_B, "a request object no longer accepts extra properties",
                                                     "Requests that send properties {subject} does not list are "
                                                     "refused."),
    "request-additional-properties-allowed": Rule(_C, "a request object accepts extra properties",
                                                  "Nothing breaks: {subject} accepts extra properties."),
    "request-alternative-removed": Rule(_B, "a oneOf/anyOf alternative of a request value was removed",
                                        "Requests that send {subject} as {old} are refused."),
    "request-alternative-added": Rule(_C, "a request value accepts a new oneOf/anyOf alternative",
                                      "Nothing breaks: {subject} also accepts {new}."),
    # responses
    "success-status-removed": Rule(_B, "a success status was removed",
                                   "Clients of {subject} that expect status {old} get another one."),
    "success-status-changed": Rule(_B, "the success status changed",
                                   "Clients of {subject} that check for status {old} get {new}."),
    "response-status-removed": Rule(_W, "a non-success status was removed",
                                    "Clients of {subject} that handle status {old} get another status in that case."),
    "response-status-added": Rule(_C, "a new response status",
                                  "Nothing breaks for clients that handle unknown statuses: {subject} may answer {new}."),
    "response-media-type-removed": Rule(_B, "a response media type is no longer sent",
                                        "Clients of {subject} that accept only {old} no longer get it."),
    "response-media-type-added": Rule(_C, "a new response media type",
                                      "Nothing breaks: {subject} can also answer {new}."),
    # response schemas
    "response-property-type-changed": Rule(_B, "a response value's type changed or widened",
                                           "Clients that read {subject} as {old} get {new}."),
    "response-property-type-narrowed": Rule(_C, "a response value has fewer possible types",
                                            "Nothing breaks: {subject} is only {new} (was {old})."),
    "response-property-became-nullable": Rule(_B, "a response value may now be null",
                                              "Clients that read {subject} may get null."),
    "response-property-became-non-nullable": Rule(_C, "a response value is no longer null",
                                                  "Nothing breaks: {subject} is never null."),
    "response-required-property-removed": Rule(_B, "a required response property was removed (or renamed)",
                                               "Clients that read {subject} no longer find it."),
    "response-optional-property-removed": Rule(_W, "an optional response property was removed",
                                               "Clients that read {subject} no longer find it (it was optional)."),
    "response-property-became-optional": Rule(_B, "a required response property became optional",
                                              "Clients that read {subject} may find it missing."),
    "response-property-became-required": Rule(_C, "an optional response property became required",
                                              "Nothing breaks: {subject} is always present."),
    "response-property-added": Rule(_C, "a new response property",
                                    "Nothing breaks for clients that ignore unknown properties: {subject} is new."),
    "response-enum-value-added": Rule(_W, "a response enum may carry a new value",
                                      "Clients that switch on {subject} may get a value they do not know ({detail})."),
    "response-enum-value-removed": Rule(_C, "a response enum carries fewer values",
                                        "Nothing breaks: {subject} has fewer possible values ({detail})."),
    "response-enum-removed": Rule(_W, "a response value is no longer restricted to an enum",
                                  "Clients that switch on {subject} may get values other than {old}."),
    "response-enum-added": Rule(_C, "a response value is now restricted to an enum",
                                "Nothing breaks: {subject} is one of {new}."),
    "response-max-loosened": Rule(_W, "a response upper bound (maxLength, maximum, maxItems, ...) was loosened",
                                  "Clients that rely on the old bound of {subject} may get more ({old} → {new})."),
    "response-max-tightened": Rule(_C, "a response upper bound was tightened",
                                   "Nothing breaks: {subject} stays within a tighter bound ({old} → {new})."),
    "response-min-loosened": Rule(_W, "a response lower bound (minLength, minimum, minItems, ...) was loosened",
                                  "Clients that rely on the old bound of {subject} may get less ({old} → {new})."),
    "response-min-tightened": Rule(_C, "a response lower bound was tightened",
                                   "Nothing breaks: {subject} stays within a tighter bound ({old} → {new})."),
    "response-format-changed": Rule(_W, "a response value's format was added or changed",
                                    "Clients that parse {subject} as format {old} may fail on format {new}."),
    "response-additional-properties-allowed": Rule(_W, "a response object may carry extra properties",
                                                   "Clients that validate {subject} strictly may reject the extra "
                                                   "properties it may now carry."),
    "response-additional-properties-disallowed": Rule(_C, "a response object no longer carries extra properties",
                                                      "Nothing breaks: {subject} carries no extra properties."),
    "response-alternative-added": Rule(_W, "a response value may match a new oneOf/anyOf alternative",
                                       "Clients that handle each known shape of {subject} may get {new}, which they "
                                       "do not know."),
    "response-alternative-removed": Rule(_C, "a oneOf/anyOf alternative of a response value was removed",
                                         "Nothing breaks: {subject} is no longer {old}."),
    # drift of a live Keycloak's OpenID discovery document from what the pinned contract needs
    "discovery-field-missing": Rule(_B, "the discovery document lacks a field the contract requires",
                                    "Clients that read {subject} from the discovery document do not find it."),
    "discovery-value-missing": Rule(_B, "a value the contract needs (a grant type, a signing algorithm) is not listed",
                                    "Clients that need {subject} to list {old} are refused or cannot verify ({detail})."),
    "discovery-endpoint-moved": Rule(_B, "an endpoint (issuer, token, JWKS, userinfo) is not where the contract has it",
                                     "Clients that call {subject} at {old} reach the wrong place (the server has {new})."),
    "discovery-value-added": Rule(_C, "the server lists values the contract does not use",
                                  "Nothing breaks: {subject} also lists other values ({detail})."),
}


def explain(rule: str, subject: str, old: str | None, new: str | None, detail: str) -> str:
    """The rule's consequence sentence for one finding."""
    return RULES[rule].consequence.format(
        subject=subject, old="nothing" if old is None else old, new="nothing" if new is None else new, detail=detail
    )
