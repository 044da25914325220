"""``apigate mock``: serve the embedded Keycloak, CodeMie and Basejump mocks until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import sys

from apigate.mocks.settings import BREAK_GROUPS, BREAKS, MockSettings

HELP = "serve the embedded Keycloak, CodeMie and Basejump mocks (demo credentials printed at start)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--split-ports", action="store_true",
                        help="serve Keycloak on PORT (at its root), CodeMie on PORT+1 and Basejump on PORT+2, "
                             "like separately deployed live services")
    parser.add_argument("--list-breaks", action="store_true", help="list the named contract breaks and exit")
    MockSettings.add_arguments(parser)


def _banner(server: object, settings: MockSettings) -> str:
    from apigate.config import DEMO
    from apigate.mocks.serve import MockServer

    assert isinstance(server, MockServer)
    urls = server.urls
    realm = f"{urls['keycloak']}/realms/{DEMO.realm}"
    lines = [
        f"apigate mock: serving on {server.origin}" + (" (+1, +2: split ports)" if server.split_ports else ""),
        f"  Keycloak   {urls['keycloak']}   (realm {DEMO.realm}; token endpoint {realm}/protocol/openid-connect/token)",
        f"  CodeMie    {urls['codemie']}",
        f"  Basejump   {urls['basejump']}",
        "Demo credentials (documented demo values, not secrets):",
        f"  password grant      client {DEMO.public_client}, user {DEMO.username} / {DEMO.password}",
        f"  client credentials  client {DEMO.confidential_client} / {DEMO.client_secret}",
        f"  assistant           {DEMO.assistant_id} (slug {DEMO.assistant_slug})",
        f"  Basejump API keys   OWNER {DEMO.basejump_owner_key}, ADMIN {DEMO.basejump_admin_key}, "
        f"MEMBER {DEMO.basejump_member_key}",
    ]
    lines.append("Point a run at it as at live services:")
    lines += [f"  export {k}={v}" for k, v in server.environment().items()]
    if settings.breaks:
        lines.append(f"CONTRACT BREAKS ON: {', '.join(sorted(settings.breaks))}")
    lines.append("Ctrl-C or SIGTERM stops it.")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from apigate.errors import UsageError

    if args.list_breaks:
        width = max(map(len, [*BREAKS, *BREAK_GROUPS]))
        for name, description in BREAKS.items():
            print(f"{name:<{width}}  {description}")
        for name, members in BREAK_GROUPS.items():
            print(f"{name:<{width}}  group: {', '.join(members)}")
        return 0
    if not 0 <= args.port <= 65535 - (2 if args.split_ports else 0):
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    settings = MockSettings.from_args(args)
    from apigate.mocks.serve import serve_forever

    def ready(server: object) -> None:
        print(_banner(server, settings), flush=True)

    serve_forever(settings, host=args.host, port=args.port, split_ports=args.split_ports, on_ready=ready)
    print("apigate mock: stopped", file=sys.stderr, flush=True)
    return 0
