"""Throughput of the mock's non-streamed CodeMie chat next to a bare Starlette JSON endpoint, served the same way.

Both servers run in their own process with the mock's uvicorn settings (uvloop + httptools, no access log); the
mock answers with chat_latency_ms=0. Each is loaded for the same time by the same generator: ``wrk`` when it is on
PATH, else keep-alive HTTP/1.1 connections driven by raw sockets (epoll, pre-built request bytes) in worker processes.
Rounds alternate (bare, mock, bare, mock, ...) so that machine noise hits both alike.

    python benchmarks/mock_throughput.py [--duration 5] [--rounds 2] [--connections 32] [--workers 1]

Target: mock >= 0.5 x bare. Exit code 0 when met, 1 otherwise. On a busy machine throughput swings with the
neighbours' load, so the server processes' CPU time per request is printed too (less sensitive to noise).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

from apigate.config import DEMO

CHAT_BODY = json.dumps({"text": "hi", "stream": False}).encode()


# ---- servers (each in its own process) ----------------------------------------------------------------------------

def bare_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse({"generated": "hello", "text": body.get("text")})

    return Starlette(routes=[Route("/chat", chat, methods=["POST"])])


def serve(kind: str, port: int) -> None:
    from apigate.mocks import MockSettings, build_app
    from apigate.mocks.serve import uvicorn_server

    app = build_app(MockSettings(chat_latency_ms=0)) if kind == "mock" else bare_app()
    uvicorn_server(app, "127.0.0.1", port).run()


def start_server(kind: str) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)])
    probe = f"http://127.0.0.1:{port}" + ("/code-assistant-api/v1/info" if kind == "mock" else "/nothing")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(probe, timeout=1)
            return proc, port
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{kind} server did not start")


def request_bytes(kind: str, port: int) -> bytes:
    headers = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json", "Content-Length": str(len(CHAT_BODY))}
    if kind == "mock":
        token = httpx.post(f"http://127.0.0.1:{port}/auth/realms/{DEMO.realm}/protocol/openid-connect/token",
                           data={"grant_type": "password", "client_id": DEMO.public_client,
                                 "username": DEMO.username, "password": DEMO.password}).json()["access_token"]
        headers["Authorization"] = f"Bearer {token}"
        path = f"/code-assistant-api/v1/assistants/{DEMO.assistant_id}/model"
    else:
        path = "/chat"
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + CHAT_BODY


# ---- load generator -----------------------------------------------------------------------------------------------

_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


def _worker(port: int, request: bytes, connections: int, duration: float, out: Any) -> None:
    """Keep ``connections`` keep-alive connections busy for ``duration`` s; report (ok, errors, cpu seconds)."""
    sel = selectors.DefaultSelector()
    buffers: dict[socket.socket, bytearray] = {}
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        buffers[sock] = bytearray()
        sel.register(sock, selectors.EVENT_READ)
        sock.send(request)
    ok = errors = 0
    cpu0 = time.process_time()
    end = time.perf_counter() + duration
    while time.perf_counter() < end:
        for key, _ in sel.select(timeout=0.1):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            data = sock.recv(65536)
            if not data:
                raise SystemExit("server closed a connection")
            buf = buffers[sock]
            buf += data
            while True:
                head_end = buf.find(b"\r\n\r\n")
                if head_end < 0:
                    break
                match = _LENGTH.search(buf, 0, head_end)
                total = head_end + 4 + (int(match.group(1)) if match else 0)
                if len(buf) < total:
                    break
                if buf.startswith(b"HTTP/1.1 200"):
                    ok += 1
                else:
                    errors += 1
                del buf[:total]
                sock.send(request)
    out.put((ok, errors, time.process_time() - cpu0))
    for sock in buffers:
        sock.close()


def load(port: int, request: bytes, *, duration: float, connections: int, workers: int) -> tuple[float, float, float]:
    """(requests per second, errors, generator CPU use as a fraction of its cores)."""
    if shutil.which("wrk"):
        return _wrk(port, request, duration=duration, connections=connections)
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(port, request, connections // workers, duration, out))
             for _ in range(workers)]
    for p in procs:
        p.start()
    results = [out.get(timeout=duration + 30) for _ in procs]
    for p in procs:
        p.join()
    ok = sum(r[0] for r in results)
    return ok / duration, sum(r[1] for r in results), sum(r[2] for r in results) / (duration * workers)


def _wrk(port: int, request: bytes, *, duration: float, connections: int) -> tuple[float, float, float]:
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    method, path, _ = lines[0].split(" ")
    headers = {k: v for k, v in (line.split(": ", 1) for line in lines[1:])}
    script = (f"wrk.method = {json.dumps(method)}\nwrk.body = {json.dumps(body.decode())}\n"
              + "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items()
                        if k not in ("Host", "Content-Length")))
    path_lua = f"/tmp/apigate-bench-{os.getpid()}.lua"
    with open(path_lua, "w") as f:
        f.write(script)
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", path_lua,
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    return rps, float(non2xx.group(1)) if non2xx else 0.0, float("nan")


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the machine was around the measurement."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="load generator processes (default 1)")
    parser.add_argument("--serve", choices=["mock", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0

    generator = "wrk" if shutil.which("wrk") else f"raw-socket keep-alive generator ({args.workers} process)"
    print(f"load generator: {generator}; {args.connections} connections; {args.duration:.0f} s x {args.rounds} "
          "rounds each; servers: uvicorn uvloop+httptools, 1 process each")
    print(f"load average before: {load_average()}")
    servers = {kind: start_server(kind) for kind in ("bare", "mock")}
    try:
        requests = {kind: request_bytes(kind, port) for kind, (_, port) in servers.items()}
        rates: dict[str, list[float]] = {"bare": [], "mock": []}
        cpu_per_request: dict[str, list[float]] = {"bare": [], "mock": []}
        for kind, (_, port) in servers.items():  # warm-up
            load(port, requests[kind], duration=1.0, connections=args.connections, workers=args.workers)
        for round_no in range(args.rounds):
            for kind in ("bare", "mock"):
                proc, port = servers[kind]
                before = server_cpu(proc.pid)
                rps, errors, cpu = load(port, requests[kind], duration=args.duration, connections=args.connections,
                                        workers=args.workers)
                per_request = (server_cpu(proc.pid) - before) / max(rps * args.duration, 1)
                rates[kind].append(rps)
                cpu_per_request[kind].append(per_request)
                print(f"round {round_no + 1}  {kind:<4}  {rps:9.0f} req/s  errors {errors:.0f}  "
                      f"server CPU {per_request * 1e6:5.0f} us/request  generator CPU {cpu:.0%}")
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait()
    bare, mock = statistics.mean(rates["bare"]), statistics.mean(rates["mock"])
    ratio = mock / bare
    cpu_ratio = statistics.median(cpu_per_request["bare"]) / statistics.median(cpu_per_request["mock"])
    print(f"bare Starlette JSON endpoint : {bare:9.0f} req/s")
    print(f"mock CodeMie non-stream chat : {mock:9.0f} req/s")
    print(f"ratio mock / bare            : {ratio:9.2f}   (target >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'})")
    print(f"capacity ratio by server CPU : {cpu_ratio:9.2f}   (bare CPU per request / mock CPU per request)")
    print(f"load average after: {load_average()}  ({os.cpu_count()} CPUs)")
    return 0 if ratio >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
