"""The bound socket a quaywatch HTTP endpoint serves on, bound before serving so that a taken
port or a wrong address is one clear error rather than a traceback from inside uvicorn."""

from __future__ import annotations

import socket


def listening_socket(host: str, port: int, endpoint: str) -> socket.socket:
    """A TCP socket bound to `host:port` (0: any free port), for `uvicorn.Server.run(sockets=)`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bound = socket.socket(family, socket.SOCK_STREAM)
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        bound.bind((host, port))
    except OSError as error:
        bound.close()
        raise OSError(
            f"{endpoint}: cannot listen on {host}:{port}: {error.strerror}; "
            "pick another with --port (0 for any free port)"
        ) from error
    return bound
