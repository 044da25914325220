"""Plumbing shared by every scenario: the target, exact metrics, worker → master transfer, the journal, logins.

Exact metrics
    Every measurement goes into this process's :class:`apigate.metrics.Recording` as a raw float in ms
    (:func:`ok` / :func:`fail`); Locust's own ``events.request`` still fires for its UI, CSV and HTML.
    * local run: a greenlet writes a batch to the journal (``APIGATE_LOAD_JOURNAL``) every second;
    * worker: a greenlet sends a batch to the master every second (custom message ``apigate_batch``); when the
      worker stops, its ``test_stop`` sends the rest together with its own totals (``apigate_final``);
    * master: merges the batches and writes them to the journal; when it stops it first asks every worker to
      stop and flush (``apigate_flush``) and waits for their final batches, so nothing measured is lost.
    The runner (``apigate load``) reads the journal and writes summary.json. A plain ``locust -f load/...`` run
    without ``APIGATE_LOAD_JOURNAL`` prints the exact percentiles when it quits.

Credentials
    The master (or local process) logs in once at start-up with every credential the selected users need; a
    refusal prints one line, records it in the journal and exits with code 2 before any user starts.

Set-up that holds under faults
    Set-up calls (Basejump's user, tokens, team, connection and chat) go through :func:`with_retries`: a transient
    failure (no answer, 408, 425, 429, 5xx) is retried with bounded, jittered backoff like a real client would; each
    attempt is a request ``basejump.setup`` in the summary. What happens to a user whose set-up still fails, the
    users' activity over time and the open model's pacing are in ``lifecycle.py``.

Open model
    With ``APIGATE_LOAD_RATE`` set, requests are paced by arrival schedules (``lifecycle.py``); :func:`ok` and
    :func:`sample` then record each latency from the request's *intended* send time under the metric's own name and
    from its actual send time under ``<metric>.from_send``.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import gevent
import gevent.local
from gevent.lock import Semaphore
from locust import FastHttpUser, User, events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from apigate import config
from apigate.errors import ApigateError
from apigate.loadrun.journal import JournalWriter
from apigate.metrics import ActivityClock, Recording, summarize
from apigate.redact import redact
from rawhttp import HTTPParseError, request_once

__all__ = ["ACTIVITY", "FROM_SEND", "RECORDING", "TARGET", "BasejumpTokens", "KeycloakTokens", "LoginError",
           "SetupFailed", "auth_headers", "fail", "ok", "sample", "with_retries"]

FLUSH_INTERVAL_S = 1.0
FINAL_WAIT_S = 30.0
LOGIN_RETRY_S = 1.0  # a user whose token renewal failed waits this long before its next request
SETUP_BACKOFF_S = (0.2, 0.5, 1.0)  # pauses between the attempts of a set-up call (x 0.5..1.5 jitter): 4 attempts
SETUP_REQUEST = "basejump.setup"
FROM_SEND = ".from_send"  # open model: suffix of the metrics measured from the actual send time
T = TypeVar("T")


def _load_target() -> config.Target:
    try:
        return config.load_target(os.environ.get("APIGATE_MOCK_ORIGIN") or None)
    except ApigateError as exc:
        print(f"apigate load: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


TARGET = _load_target()
RECORDING = Recording()  # what this process measured (or, on the master, received) and has not passed on yet
ACTIVITY = ActivityClock()  # this process's users: active / starting, integrated per second into RECORDING
PACED = bool(os.environ.get("APIGATE_LOAD_RATE"))  # the open model (lifecycle.py paces the tasks)
_ARRIVAL = gevent.local.local()  # per user greenlet: ``intended`` send time of the arrival being sent (open model)


# ---- recording (hot path) ---------------------------------------------------------------------------------------
def sample(metric: str, ms: float, sent: float | None = None) -> None:
    """A latency ``ms`` measured from the request's send time ``sent`` (a ``perf_counter`` value; None: the
    measurement ends now). In the open model it is recorded from the arrival's *intended* send time under
    ``metric`` — so whatever delayed the send (a busy pool, a late wake-up, a token renewal) counts — and, as
    measured, under ``<metric>.from_send``."""
    intended = getattr(_ARRIVAL, "intended", None) if PACED else None
    if intended is None:
        RECORDING.add_sample(metric, ms)
        return
    start = sent if sent is not None else time.perf_counter() - ms / 1000.0
    RECORDING.add_sample(metric, ms + max(0.0, start - intended) * 1000.0)
    RECORDING.add_sample(metric + FROM_SEND, ms)


def ok(name: str, ms: float, sent: float | None = None) -> None:
    """A successful request ``name`` whose metric of the same name took ``ms`` (see :func:`sample`)."""
    sample(name, ms, sent)
    RECORDING.add_request(name, time.time())


def fail(name: str, reason: str) -> None:
    RECORDING.add_request(name, time.time(), reason)


def measured_post(user: FastHttpUser, url: str, body: bytes, headers: dict[str, str], name: str,
                  marker: bytes) -> None:
    """POST ``body`` as request ``name``: a 200 whose body holds ``marker`` is a success with its latency sample
    (ms, from just before the request to the whole answer read), anything else a failure with its reason."""
    t0 = time.perf_counter()
    with user.client.post(url, data=body, headers=headers, name=name, catch_response=True) as r:
        ms = (time.perf_counter() - t0) * 1000.0
        if r.status_code == 200 and marker in (r.content or b""):
            r.success()
            ok(name, ms, t0)
        else:
            reason = f"HTTP {r.status_code}" if r.status_code else "connection error"
            r.failure(reason)
            fail(name, reason)


def auth_headers(user: User, tokens: KeycloakTokens | BasejumpTokens, name: str) -> dict[str, str] | None:
    """``tokens.header()`` — or, when renewing the token failed, None after counting a failure of request ``name``
    (apigate's summary and Locust's stats) and pausing the user for :data:`LOGIN_RETRY_S` instead of letting it
    hammer the identity provider."""
    try:
        return tokens.header()
    except (LoginError, OSError, HTTPParseError) as exc:
        reason = f"login: {exc}" if isinstance(exc, LoginError) else f"login: connection error: {type(exc).__name__}"
        fail(name, reason)
        user.environment.events.request.fire(request_type="LOGIN", name=name, response_time=0.0, response_length=0,
                                             exception=exc, context={})
        gevent.sleep(LOGIN_RETRY_S)
        return None


# ---- logins and set-up calls -------------------------------------------------------------------------------------
class LoginError(Exception):
    """Credentials were refused, or a login or set-up call did not succeed; ``status`` is the HTTP status it got
    (0: no answer, None: not a call at all, e.g. missing configuration)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        """Whether a real client would try again (no answer, 408, 425, 429, 5xx)."""
        s = self.status
        return s is not None and (s == 0 or s in (408, 425, 429) or s >= 500)


class SetupFailed(Exception):
    """A set-up call still failed after its retries (``transient``: it might work later) or cannot work at all."""

    def __init__(self, reason: str, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


def with_retries(call: Callable[[], T], what: str, user: User | None = None) -> T:
    """``call()`` with up to :data:`SETUP_BACKOFF_S` + 1 attempts while it fails transiently; :class:`SetupFailed`
    when it still fails (or fails for good). With ``user``, every attempt is a request ``basejump.setup`` (apigate's
    summary and Locust's stats); without (the pre-run credential check) nothing is recorded."""
    for attempt in range(len(SETUP_BACKOFF_S) + 1):
        started = time.perf_counter()
        try:
            result = call()
        except (LoginError, OSError, HTTPParseError) as exc:
            transient = not isinstance(exc, LoginError) or exc.transient
            reason = f"{what}: {exc}" if isinstance(exc, LoginError) else f"{what}: connection error: {type(exc).__name__}"
            if user is not None:
                fail(SETUP_REQUEST, reason)
                user.environment.events.request.fire(
                    request_type="SETUP", name=SETUP_REQUEST, response_time=(time.perf_counter() - started) * 1000.0,
                    response_length=0, exception=exc, context={})
            if not transient or attempt == len(SETUP_BACKOFF_S):
                raise SetupFailed(reason, transient) from None
            gevent.sleep(SETUP_BACKOFF_S[attempt] * random.uniform(0.5, 1.5))
            continue
        if user is not None:
            ms = (time.perf_counter() - started) * 1000.0
            RECORDING.add_request(SETUP_REQUEST, time.time())
            user.environment.events.request.fire(request_type="SETUP", name=SETUP_REQUEST, response_time=ms,
                                                 response_length=0, exception=None, context={})
        return result
    raise AssertionError("unreachable")


class KeycloakTokens:
    """A Keycloak access token for one user: obtained once, renewed 30 s before it expires.

    :meth:`header` returns ``headers`` plus the Authorization header, one dict built per renewal (not per request).
    """

    def __init__(self, grant: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.form = keycloak_form(grant or TARGET.codemie.grant)
        self._base = dict(headers or {})
        self._token = ""
        self._refresh: str | None = None
        self._expires = 0.0
        self._header: dict[str, str] = {}

    def header(self) -> dict[str, str]:
        if time.monotonic() >= self._expires:
            self._login()
        return self._header

    def _login(self) -> None:
        form = self.form
        if self._refresh:
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh, "client_id": form["client_id"]}
            if "client_secret" in self.form:
                form["client_secret"] = self.form["client_secret"]
        status, body = request_once("POST", TARGET.keycloak.token_url, form=form)
        if status != 200 and self._refresh:  # refresh token expired: log in again
            self._refresh = None
            status, body = request_once("POST", TARGET.keycloak.token_url, form=self.form)
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise LoginError(_oauth_reason("keycloak", status, body), status)
        self._token = body["access_token"]
        self._refresh = body.get("refresh_token")
        lifetime = float(body.get("expires_in") or 60)
        self._expires = time.monotonic() + max(lifetime - 30.0, lifetime / 2)
        self._header = {**self._base, "Authorization": f"Bearer {self._token}"}


def keycloak_form(grant: str) -> dict[str, str]:
    """The token request form of ``grant`` (password / client_credentials) for the configured target."""
    cm = TARGET.codemie
    if grant == "password":
        if not cm.username or cm.password is None:
            raise LoginError("the password grant needs APIGATE_CODEMIE_USERNAME and APIGATE_CODEMIE_PASSWORD")
        form = {"grant_type": "password", "client_id": cm.client_id, "username": cm.username,
                "password": cm.password.reveal()}
        if cm.client_secret:
            form["client_secret"] = cm.client_secret.reveal()
        return form
    if not cm.live:  # the embedded Keycloak's confidential service-account client
        return {"grant_type": "client_credentials", "client_id": config.DEMO.confidential_client,
                "client_secret": config.DEMO.client_secret}
    if cm.client_secret is None:
        raise LoginError("the client_credentials grant needs APIGATE_CODEMIE_CLIENT_SECRET")
    return {"grant_type": "client_credentials", "client_id": cm.client_id, "client_secret": cm.client_secret.reveal()}


def keycloak_grants() -> list[str]:
    """The grants the tokens scenario can exercise against this target."""
    cm = TARGET.codemie
    grants = []
    if cm.username:
        grants.append("password")
    if not cm.live or cm.client_secret is not None:
        grants.append("client_credentials")
    return grants


_bj_lock = Semaphore()
_bj_user: str | None = None


def basejump_user(user: User | None = None) -> str:
    """The uuid of this process's Basejump load user (created once per process with the API key; set-up calls are
    retried, see :func:`with_retries`)."""
    global _bj_user
    with _bj_lock:
        if _bj_user is None:
            bj = TARGET.basejump

            def create() -> str:
                status, body = request_once(
                    "POST", f"{bj.url}/account/user/",
                    params={"username": f"apigate-load-{os.getpid()}-{int(time.time() * 1000)}", "role": "ADMIN"},
                    headers={"client-secret": bj.api_key.reveal()},
                )
                if status != 200 or not isinstance(body, dict) or "user_uuid" not in body:
                    raise LoginError(_oauth_reason("basejump (create user with the API key)", status, body), status)
                return str(body["user_uuid"])

            _bj_user = with_retries(create, "create the Basejump load user", user)
        return _bj_user


class BasejumpTokens:
    """A Basejump refresh token (90 days) and access token (15 minutes, renewed a minute before it expires).

    :meth:`header` returns ``headers`` plus the Authorization header, one dict built per renewal (not per request).
    Getting the tokens at creation is a set-up step (:func:`with_retries`, recorded for ``user`` when given);
    :class:`SetupFailed` when it cannot be done.
    """

    ACCESS_LIFETIME_S = 15 * 60.0

    def __init__(self, headers: dict[str, str] | None = None, user: User | None = None) -> None:
        self._base = dict(headers or {})
        self.user_uuid = basejump_user(user)
        bj = TARGET.basejump

        def refresh_token() -> str:
            status, body = request_once("POST", f"{bj.url}/auth/token/", params={"user_uuid": self.user_uuid},
                                        headers={"client-secret": bj.api_key.reveal()})
            if status != 200 or not isinstance(body, dict) or "refresh_token" not in body:
                raise LoginError(_oauth_reason("basejump refresh token", status, body), status)
            return str(body["refresh_token"])

        self.refresh_token = with_retries(refresh_token, "basejump refresh-token request", user)
        self._expires = 0.0
        self._header: dict[str, str] = {}

    def header(self) -> dict[str, str]:
        if time.monotonic() >= self._expires:
            status, body = request_once(
                "POST", f"{TARGET.basejump.url}/auth/access_token/", params={"user_uuid": self.user_uuid},
                headers={"Authorization": f"Bearer {self.refresh_token}"},
            )
            if status != 200 or not isinstance(body, dict) or "access_token" not in body:
                raise LoginError(_oauth_reason("basejump access token", status, body), status)
            self._expires = time.monotonic() + self.ACCESS_LIFETIME_S - 60.0
            self._header = {**self._base, "Authorization": f"Bearer {body['access_token']}"}
        return self._header


def _oauth_reason(what: str, status: int, body: Any) -> str:
    detail = ""
    if isinstance(body, dict):
        err = body.get("error_description") or body.get("error") or body.get("detail") or body.get("message")
        detail = f": {err}" if isinstance(err, str) else ""
    return redact(f"{what} refused the load credentials (HTTP {status}{detail})")


# ---- credential check before the run ------------------------------------------------------------------------
def _check_credentials(environment: Environment) -> str | None:
    """Log in once with every credential the selected users need; a one-line reason when one is refused."""
    needs: set[str] = set()
    for cls in environment.user_classes:
        needs.update(getattr(cls, "services", ()))
    try:
        if "keycloak" in needs:
            grants = keycloak_grants() if "keycloak.tokens" in needs else [TARGET.codemie.grant]
            if not grants:
                return "no Keycloak credentials configured for the tokens scenario"
            for grant in grants:
                tokens = KeycloakTokens(grant)
                with_retries(tokens.header, "keycloak login")  # a transient refusal is retried like a set-up call
        if "basejump" in needs:
            with_retries(BasejumpTokens().header, "basejump access-token request")
    except SetupFailed as exc:
        return redact(f"login check: {exc.reason}")
    except LoginError as exc:
        return str(exc)
    return None


# ---- event wiring -----------------------------------------------------------------------------------------------
_journal: JournalWriter | None = None
_pending_finals: set[str] = set()
_worker_totals: dict[str, Any] = {"samples": {}, "requests": {}}


def _count_into(totals: dict[str, Any], rec: Recording) -> None:
    for m, values in rec.samples.items():
        totals["samples"][m] = totals["samples"].get(m, 0) + len(values)
    for n, (c, f) in rec.requests.items():
        row = totals["requests"].setdefault(n, [0, 0])
        row[0] += c
        row[1] += f


def _users(environment: Environment) -> int:
    runner = environment.runner
    return int(runner.user_count) if runner is not None else 0


def _flush(environment: Environment) -> None:
    ACTIVITY.drain_into(RECORDING)
    if _journal is not None:
        _journal.batch(RECORDING.drain(), users=_users(environment))


def _periodic(action: Callable[[], None]) -> None:
    while True:
        gevent.sleep(FLUSH_INTERVAL_S)
        action()


@events.init.add_listener
def _on_init(environment: Environment, **_kw: Any) -> None:
    global _journal
    lifecycle.prepare(environment)
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.register_message("apigate_flush", _on_flush_request)

        def send() -> None:
            ACTIVITY.drain_into(RECORDING)
            if not RECORDING.is_empty():
                batch = RECORDING.drain()
                _count_into(_worker_totals, batch)
                runner.send_message("apigate_batch", batch.to_wire())

        gevent.spawn(_periodic, send)
        return
    path = os.environ.get("APIGATE_LOAD_JOURNAL")
    if path:
        _journal = JournalWriter(path)
    problem = _check_credentials(environment)
    if problem:
        if _journal is not None:
            _journal.abort(problem)
        print(f"apigate load: error: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(2)
    if isinstance(runner, MasterRunner):
        runner.register_message("apigate_batch", _on_batch)
        runner.register_message("apigate_final", _on_final)
    gevent.spawn(_periodic, lambda: _flush(environment))


def _on_batch(environment: Environment, msg: Any, **_kw: Any) -> None:
    RECORDING.merge(Recording.from_wire(msg.data))


def _on_final(environment: Environment, msg: Any, **_kw: Any) -> None:
    RECORDING.merge(Recording.from_wire(msg.data["r"]))
    _flush(environment)
    if _journal is not None:
        _journal.write("worker", id=msg.node_id, totals=msg.data["totals"])
    _pending_finals.discard(msg.node_id)


def _on_flush_request(environment: Environment, msg: Any, **_kw: Any) -> None:
    """Worker: the master is stopping; stop the users now (test_stop then sends the final batch)."""
    if environment.runner is not None:
        environment.runner.stop()
        _send_final(environment)


def _send_final(environment: Environment) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        ACTIVITY.drain_into(RECORDING)
        batch = RECORDING.drain()
        _count_into(_worker_totals, batch)
        runner.send_message("apigate_final", {"r": batch.to_wire(), "totals": _worker_totals})


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_kw: Any) -> None:
    lifecycle.started()
    if _journal is not None and not isinstance(environment.runner, WorkerRunner):
        _journal.write("start", node="master" if isinstance(environment.runner, MasterRunner) else "local")


@events.test_stopping.add_listener
def _on_test_stopping(environment: Environment, **_kw: Any) -> None:
    lifecycle.stopping()
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return
    ids = {c.id for c in runner.clients.all if c.state != "missing"}
    _pending_finals.update(ids)
    for cid in ids:
        runner.send_message("apigate_flush", None, client_id=cid)
    deadline = time.monotonic() + FINAL_WAIT_S
    while _pending_finals & ids and time.monotonic() < deadline:
        gevent.sleep(0.02)
    if _pending_finals & ids:
        print(f"apigate load: warning: no final batch from worker(s) {sorted(_pending_finals & ids)}", file=sys.stderr)


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_kw: Any) -> None:
    lifecycle.account_unsent()
    if isinstance(environment.runner, WorkerRunner):
        _send_final(environment)
        return
    _flush(environment)
    if _journal is not None:
        _journal.write("stop")


_printed = Recording()


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_kw: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    if _journal is not None:
        _flush(environment)
    else:  # plain locust run: print the exact figures
        _printed.merge(RECORDING.drain())
        print("\napigate exact metrics (ms, linear-interpolated percentiles)")
        for metric, values in sorted(_printed.samples.items()):
            s = summarize(values)
            print(f"  {metric:32s} n={s['count']:<7d} p50={s['p50']:9.3f} p95={s['p95']:9.3f} p99={s['p99']:9.3f}")


@events.quit.add_listener
def _on_quit(**_kw: Any) -> None:
    if _journal is not None:
        _journal.close()


import lifecycle  # noqa: E402 - last: it imports the names above
