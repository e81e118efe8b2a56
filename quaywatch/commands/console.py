"""`quaywatch console`: the operator console for a site, on loopback by default."""

from __future__ import annotations

import argparse
import sys

from quaywatch.commands import require_signing, site_option, subcommand


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subcommand(subparsers, "console", run_console, help="serve the operator console")
    site_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=None, help="port (default: the site's metrics.console_port)"
    )
    parser.add_argument(
        "--session-minutes",
        type=float,
        default=8 * 60,
        help="minutes a login lasts before it has to be repeated (480, one shift)",
    )


def run_console(args: argparse.Namespace) -> int:
    from config.loading import load_site
    from config.signing import WriterRole
    from quaywatch.console.server import BOARD_FEEDS, ConsoleServer

    site = load_site(args.config)
    require_signing(site, args.config, WriterRole.console, BOARD_FEEDS)
    if args.session_minutes <= 0:
        print(f"quaywatch console: --session-minutes must be above 0, got {args.session_minutes}")
        return 2
    try:
        server = ConsoleServer(
            site, host=args.host, port=args.port, session_seconds=args.session_minutes * 60
        )
    except OSError as error:
        print(f"quaywatch {error}", file=sys.stderr)
        return 1
    print(f"quaywatch console: {server.url} (Ctrl-C stops)", flush=True)
    server.serve()
    return 0
