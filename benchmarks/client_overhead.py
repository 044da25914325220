"""Per-request overhead of the apigate clients next to a bare httpx request to the same endpoint, in one run.

The mock runs in its own process on loopback (``apigate mock``) with no artificial latency; both sides use one
keep-alive ``httpx.Client`` each and send the same requests, interleaved in rounds so that machine noise hits both
alike. "bare" is the least a Python client can do: ``client.post(url, json=..., headers=...)`` + ``.json()``.
The apigate side adds token caching, the 401 re-auth wrapper, retries bookkeeping, error mapping and typed
parsing. ``--in-process`` serves the mock through :class:`apigate.clients.SyncASGITransport` instead (no sockets).

    python benchmarks/client_overhead.py [--requests 300] [--rounds 5] [--in-process]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from apigate.clients import CodemieClient, KeycloakAuth, SyncASGITransport
from apigate.config import DEMO, Target, mock_target
from apigate.mocks import MockProcess, MockSettings, build_app

SETTINGS = MockSettings(chat_latency_ms=0.0, first_chunk_ms=0.0, chunk_interval_ms=0.0)


@contextlib.contextmanager
def mock(in_process: bool) -> Iterator[tuple[Target, httpx.BaseTransport | None]]:
    if in_process:
        with SyncASGITransport(build_app(SETTINGS)) as transport:
            yield mock_target("http://mock.test"), transport
    else:
        with MockProcess(SETTINGS) as process:
            yield mock_target(process.origin), None


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per side per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()

    with mock(args.in_process) as (target, transport):
        auth = KeycloakAuth.from_target(target, transport=transport)
        client = CodemieClient(target.codemie.url, auth, transport=transport)
        bare = httpx.Client(transport=transport, timeout=30)
        token = auth.token()
        headers = {"Authorization": f"Bearer {token}"}
        chat_url = f"{target.codemie.url}/v1/assistants/{DEMO.assistant_id}/model"
        user_url = f"{target.codemie.url}/v1/user"
        form = {"grant_type": "password", "client_id": DEMO.public_client, "username": DEMO.username,
                "password": DEMO.password}

        def bare_json(response: httpx.Response) -> Any:
            response.raise_for_status()
            return response.json()

        cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
            ("codemie.chat (POST, non-streamed)",
             lambda: bare_json(bare.post(chat_url, json={"text": "hi", "stream": False}, headers=headers)),
             lambda: client.ask(DEMO.assistant_id, "hi")),
            ("codemie GET /v1/user",
             lambda: bare_json(bare.get(user_url, headers=headers)),
             client.get_user),
            ("keycloak password grant",
             lambda: bare_json(bare.post(target.keycloak.token_url, data=form)),
             auth.issue),
        ]
        where = "in-process (SyncASGITransport)" if args.in_process else f"loopback mock process at {target.codemie.url}"
        print(f"client overhead vs bare httpx, {where}")
        print(f"{args.rounds} rounds x {args.requests} requests per side, interleaved; median / mean per request")
        print(f"{'endpoint':<36} {'bare med':>9} {'apigate med':>12} {'overhead':>9} {'bare mean':>10} {'apigate mean':>13} {'ratio':>6}")
        for name, bare_call, client_call in cases:
            bare_call()
            client_call()  # warm both connections
            bare_times: list[float] = []
            client_times: list[float] = []
            for _ in range(args.rounds):
                bare_times += timed(bare_call, args.requests)
                client_times += timed(client_call, args.requests)
            bm, cm = statistics.median(bare_times) * 1e6, statistics.median(client_times) * 1e6
            ba, ca = statistics.fmean(bare_times) * 1e6, statistics.fmean(client_times) * 1e6
            print(f"{name:<36} {bm:>7.0f}µs {cm:>10.0f}µs {cm - bm:>+7.0f}µs {ba:>8.0f}µs {ca:>11.0f}µs {cm / bm:>6.2f}")
        bare.close()
        client.close()
        auth.close()


if __name__ == "__main__":
    main()
