"""Runs a whole console (its board following the topics, action publisher, web app under
uvicorn) for a site.

`quaywatch console` calls `serve`; a process that runs several parts (the demo) calls
`ConsoleServer(site).start()`, reads `.url`, and calls `.stop()` on the way out.
"""

from __future__ import annotations

import logging
import ssl
import threading
from functools import partial
from pathlib import Path

import uvicorn
from kafka.errors import KafkaError

from config.console import Console
from config.kafka import Kafka
from config.site import SiteConfig
from quaywatch.console.actions import ActionPublisher
from quaywatch.console.app import ConsoleParts, create_app
from quaywatch.console.board import Board
from quaywatch.console.metrics import ConsoleMetrics
from quaywatch.console.sessions import SessionStore, sessions_path
from quaywatch.console.snapshots import SnapshotStore
from quaywatch.console.users import UserStore, users_path
from streams.health import BrokerProbe
from streams.kafka import TAILING_READER
from streams.listening import listening_socket
from streams.reader import Follower, Received
from streams.record_check import RecordCheck
from streams.topics import ALERTS, CAMERA_HEALTH, OPERATOR_ACTIONS

log = logging.getLogger(__name__)

# What the board is made of, topic by topic; a console reads these and nothing else.
BOARD_FEEDS = {
    ALERTS: Board.apply_alert,
    OPERATOR_ACTIONS: Board.apply_action,
    CAMERA_HEALTH: Board.apply_health,
}

DEFAULT_SESSION_SECONDS = 8 * 3600  # one control-room shift
LOOPBACK = "127.0.0.1"
DEAD_LETTER_SOURCE = "console"


def board_feed(
    kafka: Kafka,
    board: Board,
    check: RecordCheck,
    publisher: ActionPublisher,
    metrics: ConsoleMetrics,
) -> Follower:
    """The board follows the alerts, operator-actions and camera-health topics.

    Every console reads every record of them itself (a follower is no consumer group: every
    console must see every alert), from the beginning; the board makes that idempotent.
    A record that fails its check never reaches the board; it goes to `dead-letter`.
    """
    handlers = {topic: partial(apply, board) for topic, apply in BOARD_FEEDS.items()}

    def dead_letter(received: Received, reason: str) -> None:
        metrics.rejected.labels(topic=received.topic.name).inc()
        letter = received.dead_letter(DEAD_LETTER_SOURCE, reason)
        try:
            publisher.reject(letter)
        except KafkaError as error:  # a broker problem must not stop the reader
            log.warning("console: cannot dead-letter %s: %s", received.where, error)

    return Follower(kafka, handlers, "console-reader", check, dead_letter, **TAILING_READER)


def check_tls_files(console: Console) -> None:
    """An unreadable certificate or key, or a key of another certificate, as one OSError naming
    both files, before serving, rather than a traceback from inside uvicorn."""
    if console.tls_certfile is None or console.tls_keyfile is None:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            console.tls_certfile, console.tls_keyfile
        )
    except OSError as error:
        raise OSError(
            f"console: cannot serve TLS with certificate {console.tls_certfile} and key "
            f"{console.tls_keyfile} (site console.tls_certfile / tls_keyfile): {error}"
        ) from error


class ConsoleServer:
    """One console on `host:port` (port 0 picks a free one); start() returns once it answers."""

    def __init__(
        self,
        site: SiteConfig,
        host: str = LOOPBACK,
        port: int | None = None,
        session_seconds: float = DEFAULT_SESSION_SECONDS,
    ) -> None:
        check_tls_files(site.console)
        self.site = site
        self.board = Board()
        self.parts = ConsoleParts(
            site=site,
            board=self.board,
            users=UserStore(users_path(Path(site.data_dir))),
            sessions=SessionStore(sessions_path(Path(site.data_dir)), session_seconds),
            publisher=ActionPublisher(site.kafka),
            snapshots=SnapshotStore(Path(site.data_dir) / "snapshots"),
            broker_problem=BrokerProbe(site.kafka),
        )
        self.reader = board_feed(
            site.kafka,
            self.board,
            RecordCheck.for_site(site.signing),
            self.parts.publisher,
            self.parts.metrics,
        )
        self.parts.metrics.watch_board(self.board)
        self.app = create_app(self.parts)
        port = site.metrics.console_port if port is None else port
        self._socket = listening_socket(host, port, "console")
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                # Live streams stay open; they end on `stopping`, so a short grace suffices.
                timeout_graceful_shutdown=3,
                access_log=False,
                # The app has no startup or shutdown hooks; with lifespan on, uvicorn's re-raised
                # Ctrl-C cancels the idle lifespan task and logs that as an error traceback.
                lifespan="off",
                # TLS from the site's console section; without it the console speaks plain HTTP
                # (loopback, or behind a proxy that terminates TLS).
                ssl_certfile=site.console.tls_certfile,
                ssl_keyfile=site.console.tls_keyfile,
            )
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.site.console.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self, timeout_seconds: float = 15.0) -> ConsoleServer:
        """Serve on a background thread (no signal handling: the caller owns Ctrl-C)."""
        self.reader.start()
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="console-http"
        )
        self._thread.start()
        started = threading.Event()
        for _ in range(int(timeout_seconds * 20)):
            if self._server.started:
                started.set()
                break
            if not self._thread.is_alive():
                break
            started.wait(0.05)
        if not started.is_set():
            self.stop()
            raise RuntimeError(
                f"console: did not start serving on {self.url} in {timeout_seconds} s"
            )
        log.info("console serving on %s", self.url)
        return self

    def serve(self) -> None:
        """Serve on this thread until SIGINT/SIGTERM, then stop everything."""
        self.reader.start()
        log.info("console serving on %s", self.url)
        try:
            self._server.run(sockets=[self._socket])
        except KeyboardInterrupt:
            # uvicorn shuts down on the signal, then raises it again for the caller: Ctrl-C
            # is the normal way to stop, not an error.
            pass
        finally:
            self._shutdown()

    def stop(self) -> None:
        self.parts.stopping.set()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._shutdown()

    def _shutdown(self) -> None:
        self.parts.stopping.set()
        self.reader.stop()
        self.parts.publisher.close()
        self._socket.close()

    def __enter__(self) -> ConsoleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
