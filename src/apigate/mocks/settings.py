"""Timing, behaviour and fault knobs of the embedded mocks: one immutable object, also built from CLI flags."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field, fields
from typing import Final, Literal

from apigate.errors import UsageError

__all__ = ["ALTERNATIVES", "BREAKS", "BREAK_GROUPS", "MockSettings", "parse_seed"]

StreamFormat = Literal["ndjson", "sse"]
StreamDeltas = Literal["thought", "generated_chunk"]
Variant = Literal["faithful", "independent"]

# Named contract breaks (issue 4's self-test switches them on one at a time). Each makes the mock deviate from
# its contract in exactly one way; the faithful mock has none switched on.
BREAKS: Final[dict[str, str]] = {
    # CodeMie
    "codemie.chat.wrong_type": "non-stream chat answers timeElapsed as a string",
    "codemie.chat.missing_key": "non-stream chat omits the required 'generated' key",
    "codemie.chat.status_201": "chat answers 201 instead of 200",
    "codemie.error.envelope": "error bodies are {'detail': ...} instead of {'error': {message, details, help}}",
    "codemie.auth.not_enforced": "requests without Authorization are served",
    "codemie.auth.expired_accepted": "expired tokens are accepted",
    "codemie.auth.any_issuer": "tokens from another issuer are accepted",
    "codemie.auth.any_key": "token signatures are not verified",
    "codemie.stream.no_terminal": "a stream ends without its last:true chunk",
    "codemie.stream.content_type": "streams are sent as text/plain",
    "codemie.stream.final_mismatch": "the final 'generated' differs from the concatenated thought deltas",
    "codemie.stream.after_end": "a chunk is sent after the terminal chunk",
    "codemie.chat.500_on_input": "chat answers 500 when text contains a non-ASCII character",
    "codemie.assistants.pagination": "the assistants list omits 'pagination'",
    "codemie.validation.lax": "any top_k is accepted (null, 10.5, 'ten', []) instead of 422",
    # CodeMie, the real server's rules (issue 10)
    "codemie.stream.delta_mismatch": "generated_chunk deltas whose concatenation differs from the final 'generated'",
    "codemie.stream.structured_prose": "a streamed ask with output_schema ends with prose, not the object's JSON text",
    "codemie.validation.strict": "lax values are refused: stream 0 or 'no', top_k '10' or 10.0 answer 422",
    "codemie.validation.snake_case_wins": "when both spellings of a field are sent, the snake_case one is read",
    "codemie.validation.empty_tool_creds": "tools_config with tool_creds {} is taken as credentials",
    "codemie.validation.history_message_required": "history items without a message answer 422",
    "codemie.body.after_auth": "the body is decoded after authentication (undecodable bytes without a token: 401)",
    # CodeMie: copies of the real server's genuine bugs (group codemie.real_server_bugs)
    "codemie.bug.malformed_json_500": "the real server's bug: a malformed JSON body answers 500",
    "codemie.bug.numeric_body_500": "the real server's bug: a JSON body that is a number or a boolean answers 500",
    "codemie.bug.content_type_500": "the real server's bug: a body without Content-Type or as text/plain answers 500",
    "codemie.bug.background_without_text_500": "the real server's bug: background_task true with text null answers 500",
    # CodeMie catalogue (issue 15): the old mock's differences from the real server ...
    "codemie.assistants.filters_ignored": "the assistants list ignores 'filters' (a search for nobody lists all)",
    "codemie.assistants.sort_unchecked": "an unknown sort_by / sort_order is accepted instead of 422",
    "codemie.assistants.fixed_paths_405": "GET /v1/assistants/tools, /prebuilt, /context, ... answer 405",
    "codemie.assistants.no_slug_route": "GET /v1/assistants/slug/{slug} does not exist (404 Not Found)",
    "codemie.user.null_strings": "/v1/user answers email and picture null instead of \"\"",
    # ... and the real server's known bugs (0.16.0), so that a run can stand in for a live server that has them
    "codemie.assistants.filters_500": "filters that is JSON but not an object answers 500 (the real server's bug)",
    "codemie.assistants.negative_page_500": "page=-1 answers 500 (the real server's bug)",
    # Keycloak
    "keycloak.token.no_expires_in": "token responses omit expires_in",
    "keycloak.error.status": "a wrong password answers 403 instead of 400 (Keycloak 26; older versions: 401)",
    "keycloak.error.body": "token errors answer a plain-text body",
    "keycloak.jwks.wrong_key": "the JWKS publishes a key other than the signing key",
    "keycloak.public_client_cc": "client_credentials on a public client issues a token",
    # Basejump
    "basejump.auth.refresh_as_access": "a refresh token is accepted where an access token is required",
    "basejump.auth.access_as_refresh": "an access token is accepted by the access-token endpoint",
    "basejump.roles.not_enforced": "a MEMBER key may create an ADMIN user",
    "basejump.user_uuid.unchecked": "a user_uuid that does not match the token is accepted",
    "basejump.message.bad_enum": "chat messages answer msg_type 'answer' (not in the enum)",
    "basejump.chat.not_member_ok": "a chat on a team the user has not joined is created",
    "basejump.error.envelope": "errors answer {'message': ...} instead of {'detail': ...}",
    "basejump.connection.bad_enum_ok": "database_type 'mssql' is accepted",
}

# Names that switch on several breaks at once. ``codemie.real_server_bugs``: the mock stands in for the real CodeMie
# backend (0.16.0) with its observed bugs — the chat path's and the assistants list's —, so that a test can show the
# suite reports exactly those.
BREAK_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "codemie.real_server_bugs": (*(name for name in BREAKS if name.startswith("codemie.bug.")),
                                 "codemie.assistants.filters_500", "codemie.assistants.negative_page_500"),
}


# What ``--variant independent`` changes: each an assumed behaviour (marked ``x-apigate-assumed`` in the contracts,
# listed in contracts/README.md) answered the other way, as an independent server written from the same public facts
# might. ``apigate contract`` must pass against it, with these differences reported as warnings.
ALTERNATIVES: Final[dict[str, str]] = {
    # every service (the framework's answer to an undeclared method)
    "any.undeclared_method": "a method the contract does not declare answers FastAPI's 405 {'detail': 'Method Not "
                             "Allowed'} (with Allow), not the service's error envelope",
    # Keycloak
    "keycloak.json_bearer_refusal": "a userinfo refusal carries a JSON body {'detail': ...} beside its Bearer "
                                    "challenge (Keycloak 26 sends none; the {error, error_description} form is "
                                    "assumed)",
    # CodeMie
    "codemie.thought_values": "thoughts carry author_type 'Assistant' and output_format 'html' (free strings in the "
                              "backend's model; the contract's enums are assumed)",
    "codemie.lenient_list_query": "GET /v1/assistants answers a negative page or per_page 0 with the first page / "
                                  "the default size, and skips filter values of another type (no 422 / 400)",
    "codemie.sort_ignored": "GET /v1/assistants ignores sort_by / sort_order it does not know (200), as CodeMie "
                            "0.16.0 does (current servers answer 422: version-dependent)",
    # Basejump
    "basejump.empty_names": "an empty username or team_name is accepted",
    "basejump.history_items": "chat history items may hold any JSON (content: {})",
    "basejump.empty_timestamp": "a chat prompt's timestamp '' is read as no timestamp",
    "basejump.lax_types": "port '5432' and include_default_schema 'true' / 1 are coerced (pydantic's lax mode)",
    "basejump.malformed_uuid_404": "a malformed uuid is looked up and not found (404), not refused (422)",
    "basejump.missing_credentials_403": "missing credentials answer 403 'Not authenticated' (FastAPI < 0.115)",
    "basejump.user_mismatch_403": "an access-token request for another user's uuid answers 403",
    "basejump.no_dashed_alias": "only /auth/access_token/ is served (no /auth/access-token/)",
    "basejump.creator_joins_team": "creating a team makes its creator a member",
    "basejump.bare_answers": "create_user answers only user_uuid, create_team only team_uuid, and attaching a "
                             "connection or adding a member answers null",
}


def parse_seed(text: str) -> int | str:
    """``--seed``: an integer, or ``random`` for fresh randomness."""
    if text.strip().lower() == "random":
        return "random"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'random', not {text!r}") from None


@dataclass(frozen=True)
class MockSettings:
    """Every knob of the mocks. Times are in milliseconds (seconds for token lifetimes); rates in [0, 1]."""

    stream_format: StreamFormat = "ndjson"
    # how a streamed answer's text travels: thought messages (the real server's default agent) or generated_chunk
    stream_deltas: StreamDeltas = "thought"
    first_chunk_ms: float = 100.0  # request received -> first stream chunk written
    chunk_interval_ms: float = 20.0  # between consecutive chunks, the terminal one included
    chunks: int | None = None  # progress chunks (text deltas) before the terminal one; None: one per word
    chat_latency_ms: float = 20.0  # non-streamed CodeMie answer
    basejump_message_latency_ms: float = 20.0  # Basejump chat message (the real one takes seconds)
    access_token_lifetime_s: int = 300  # Keycloak access tokens (provisioning scripts' value)
    refresh_token_lifetime_s: int = 1800
    basejump_access_lifetime_s: int = 900  # 15 minutes
    basejump_refresh_lifetime_s: int = 90 * 24 * 3600
    keycloak_url: str | None = None  # issuer base CodeMie trusts; None: its own origin + /auth
    # faults (operational, random per request; seeded)
    error_rate: float = 0.0  # fraction of API requests answered with error_status
    error_status: int = 503
    added_latency_ms: float = 0.0  # added before every API answer
    stream_cut_rate: float = 0.0  # fraction of streams cut off (connection closed) half-way
    reset_rate: float = 0.0  # fraction of requests whose connection is reset before any answer
    seed: int | None = None
    # a known capacity and periodic stalls of the AI answers (apigate.mocks.capacity)
    capacity: int = 0  # answers in service at a time, per service (0: unlimited)
    service_time_ms: float = 100.0  # how long each answer holds its slot (with a capacity)
    stall_every_s: float = 0.0  # period of the stalls (0: no stalls)
    stall_ms: float = 1000.0  # length of each stall, at the end of every period
    # contract breaks (names from BREAKS)
    breaks: frozenset[str] = field(default_factory=frozenset)
    # "independent": every assumed behaviour of ALTERNATIVES answered the other way
    variant: Variant = "faithful"

    def __post_init__(self) -> None:
        groups = set(self.breaks) & set(BREAK_GROUPS)
        if groups:
            members = {name for group in groups for name in BREAK_GROUPS[group]}
            object.__setattr__(self, "breaks", frozenset((set(self.breaks) - groups) | members))
        unknown = set(self.breaks) - set(BREAKS)
        if unknown:
            raise UsageError(f"unknown contract break(s): {', '.join(sorted(unknown))} (see apigate mock --list-breaks)")
        if self.variant not in ("faithful", "independent"):
            raise UsageError(f"--variant must be faithful or independent, not {self.variant!r}")
        if self.stream_format not in ("ndjson", "sse"):
            raise UsageError(f"--stream-format must be ndjson or sse, not {self.stream_format!r}")
        if self.stream_deltas not in ("thought", "generated_chunk"):
            raise UsageError(f"--stream-deltas must be thought or generated_chunk, not {self.stream_deltas!r}")
        for name in ("error_rate", "stream_cut_rate", "reset_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UsageError(f"{name} must be between 0 and 1")
        for name in ("first_chunk_ms", "chunk_interval_ms", "chat_latency_ms", "added_latency_ms",
                     "basejump_message_latency_ms"):
            if not 0 <= getattr(self, name) < math.inf:  # NaN and infinity too: a stream must end
                raise UsageError(f"{name} must be a finite number of ms, at least 0")
        if self.chunks is not None and self.chunks < 0:
            raise UsageError("chunks must not be negative")
        if self.access_token_lifetime_s < 1:
            raise UsageError("access_token_lifetime_s must be at least 1")
        if self.refresh_token_lifetime_s < 0:
            raise UsageError("refresh_token_lifetime_s must not be negative")
        if not 400 <= self.error_status <= 599:
            raise UsageError("error_status must be an HTTP error status (400-599)")
        self._check_capacity()

    def _check_capacity(self) -> None:
        if self.capacity < 0:
            raise UsageError("--capacity must not be negative (0: unlimited)")
        if self.capacity and not 0 < self.service_time_ms < math.inf:
            raise UsageError("--service-time-ms must be a positive, finite number of ms when --capacity is set")
        if not 0 <= self.stall_every_s < math.inf:
            raise UsageError("--stall-every-s must be a finite number of seconds, at least 0 (0: no stalls)")
        if self.stall_every_s and not 0 < self.stall_ms <= self.stall_every_s * 1000:
            raise UsageError("--stall-ms must be positive and at most the stall period (--stall-every-s)")

    def broken(self, name: str) -> bool:
        """True when contract break ``name`` is switched on."""
        return name in self.breaks

    def alternative(self, name: str) -> bool:
        """True when the assumed behaviour ``name`` (of :data:`ALTERNATIVES`) is answered the other way."""
        assert name in ALTERNATIVES, name
        return self.variant == "independent"

    # ---- command line -------------------------------------------------------------------------------------
    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """The mock's flags, shared by ``apigate mock``, ``apigate load`` and ``apigate run``."""
        g = parser.add_argument_group("embedded mock behaviour")
        d = MockSettings()
        g.add_argument("--stream-format", choices=["ndjson", "sse"], default=d.stream_format)
        g.add_argument("--stream-deltas", choices=["thought", "generated_chunk"], default=d.stream_deltas,
                       help="streamed answer text in thought messages (default, like the real server's default "
                            "agent) or in generated_chunk deltas (other agent types)")
        g.add_argument("--first-chunk-ms", type=float, default=d.first_chunk_ms, metavar="MS")
        g.add_argument("--chunk-interval-ms", type=float, default=d.chunk_interval_ms, metavar="MS")
        g.add_argument("--chunks", type=int, default=d.chunks, metavar="N",
                       help="text pieces before the terminal chunk (default: one per word of the answer)")
        g.add_argument("--chat-latency-ms", type=float, default=d.chat_latency_ms, metavar="MS")
        g.add_argument("--basejump-message-latency-ms", type=float, default=d.basejump_message_latency_ms,
                       metavar="MS")
        g.add_argument("--access-token-lifetime-s", type=int, default=d.access_token_lifetime_s, metavar="S")
        g.add_argument("--refresh-token-lifetime-s", type=int, default=d.refresh_token_lifetime_s, metavar="S",
                       help="Keycloak refresh tokens and sessions (the realm's SSO session idle timeout)")
        g.add_argument("--error-rate", type=float, default=d.error_rate, metavar="RATE")
        g.add_argument("--error-status", type=int, default=d.error_status, metavar="STATUS")
        g.add_argument("--added-latency-ms", type=float, default=d.added_latency_ms, metavar="MS")
        g.add_argument("--stream-cut-rate", type=float, default=d.stream_cut_rate, metavar="RATE")
        g.add_argument("--reset-rate", type=float, default=d.reset_rate, metavar="RATE")
        g.add_argument("--seed", type=parse_seed, default=d.seed, metavar="N|random",
                       help="seed of the random choices (apigate contract / run: of the property tests too; default "
                       "there: derived from the apigate version and the contracts; 'random': fresh randomness)")
        g.add_argument("--break", dest="breaks", action="append", default=[], metavar="NAME",
                       help="switch on a named contract break or group of breaks (repeatable; --list-breaks shows "
                            "them)")
        g.add_argument("--variant", choices=["faithful", "independent"], default=d.variant,
                       help="independent: answer every assumed behaviour the other way, as an independent "
                       "server written from the same public facts might (apigate contract must still pass)")
        c = parser.add_argument_group("embedded mock capacity and stalls (AI answers: CodeMie chat, Basejump message)")
        c.add_argument("--capacity", type=int, default=d.capacity, metavar="N",
                       help="each service answers at most N answers at a time, the rest queue (default 0: unlimited)")
        c.add_argument("--service-time-ms", type=float, default=d.service_time_ms, metavar="MS",
                       help="with --capacity: each answer holds its slot this long (capacity = N / service time; "
                            f"default {d.service_time_ms:g})")
        c.add_argument("--stall-every-s", type=float, default=d.stall_every_s, metavar="S",
                       help="stall the answers at the end of every S seconds (default 0: never)")
        c.add_argument("--stall-ms", type=float, default=d.stall_ms, metavar="MS",
                       help=f"length of each stall; answers arriving during it wait (default {d.stall_ms:g})")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> MockSettings:
        values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
        values["breaks"] = frozenset(values.get("breaks") or ())
        if values.get("seed") == "random":
            values["seed"] = None
        return cls(**values)

    def to_argv(self) -> list[str]:
        """Flags that recreate these settings in an ``apigate mock`` subprocess."""
        d = MockSettings()
        argv: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("breaks", "keycloak_url", "basejump_access_lifetime_s",
                          "basejump_refresh_lifetime_s") or value == getattr(d, f.name):
                continue
            argv += [f"--{f.name.replace('_', '-')}", str(value)]
        for name in sorted(self.breaks):
            argv += ["--break", name]
        return argv
