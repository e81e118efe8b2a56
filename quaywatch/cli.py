"""The one `quaywatch` command: each subcommand lives in its own module under quaywatch.commands."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from kafka.errors import KafkaError

from config.loading import ConfigError
from config.signing import SigningKeyError
from streams.kafka import BrokerUnreachable, bootstrap_failed

# Exit status of a command whose output reader went away (`quaywatch config schema | head`):
# what a process killed by SIGPIPE reports to its shell.
READER_GONE = 128 + 13

# Each module has register(subparsers), declaring its commands with
# quaywatch.commands.subcommand; a command's run function returns the exit code. Modules import
# heavy packages (torch, cv2) inside their handlers so `quaywatch config check` stays quick.
COMMAND_MODULES = [
    "quaywatch.commands.config",
    "quaywatch.commands.broker",
    "quaywatch.commands.topics",
    "quaywatch.commands.resources",
    "quaywatch.commands.terminal",
    "quaywatch.commands.correlate",
    "quaywatch.commands.console",
    "quaywatch.commands.users",
    "quaywatch.commands.worker",
    "quaywatch.commands.audit",
    "quaywatch.commands.tune",
    "quaywatch.commands.zones",
    "quaywatch.commands.demo",
]


class _LogFormat(logging.Formatter):
    """Log lines stamped as every time people read is written (config.clock): date, time and
    offset, in this machine's zone, which is the site's where its processes run."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        from datetime import datetime

        from config.clock import site_time

        zone = datetime.now().astimezone().tzinfo
        assert zone is not None
        return site_time(record.created, zone)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quaywatch",
        description="Camera events joined with container unload and customs inspection windows.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        code = _run(argv)
        # Output still buffered is written here, where a reader that went away is handled.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Stop quietly, as `cat` does; stdout goes to /dev/null so that the interpreter's own
        # flush at exit does not complain about the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return READER_GONE


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_LogFormat())
    if not args.verbose:
        # kafka-python logs every connection and reconnect, at ERROR during a broker outage
        # that the publisher's spool already handles; our own modules say what matters.
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    try:
        return int(args.run(args) or 0)
    except ConfigError as error:
        # Every command that reads a site config reports a bad one the same way.
        print("\n".join(error.messages), file=sys.stderr)
        return 2
    except SigningKeyError as error:
        # A process without its key, or trusting none of its inputs' writers, must not run.
        print(f"quaywatch {args.command}: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except BrokerUnreachable as error:
        print(f"quaywatch {args.command}: {error}; {_start_a_broker(args)}", file=sys.stderr)
        return 1
    except KafkaError as error:
        if not bootstrap_failed(error):
            raise
        # A service's own client gave up on the broker: the same one line, not a traceback.
        print(
            f"quaywatch {args.command}: no Kafka broker answered ({type(error).__name__}: "
            f"{error}); {_start_a_broker(args)}",
            file=sys.stderr,
        )
        return 1


def _start_a_broker(args: argparse.Namespace) -> str:
    config = getattr(args, "config", None)
    site = f" --config {config}" if config else ""
    hint = f"start one with `quaywatch broker{site}` (the embedded broker, durable under the "
    hint += "site's data_dir)"
    if args.command == "audit":
        hint += ", or add --embedded-broker to read what `make demo` recorded"
    return hint


if __name__ == "__main__":
    sys.exit(main())
