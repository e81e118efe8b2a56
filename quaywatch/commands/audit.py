"""`quaywatch audit`: replay a range through the correlator, verify integrity, report, export."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from config.signing import WriterRole
from quaywatch.commands import Run, command_group, site_option, subcommand

RELATIVE_TIME = re.compile(r"^-\d+\s*[smhdw]?$")


def register(subparsers: argparse._SubParsersAction) -> None:
    actions = command_group(
        subparsers, "audit", help="replay, verify, report and export event logs"
    )

    def ranged(name: str, run: Run, help_text: str) -> argparse.ArgumentParser:
        sub = subcommand(actions, name, run, help=help_text)
        # `--from -1h`: argparse takes a value starting with "-" for an option unless it looks
        # like a negative number; relative times are such numbers here (no option is one).
        sub._negative_number_matcher = RELATIVE_TIME
        site_option(sub, "site YAML file in force")
        forms = "site time unless an offset is given: 2026-12-01 23:00, yesterday, -1h, now"
        sub.add_argument("--from", dest="start", required=True, metavar="TIME", help=forms)
        sub.add_argument("--to", dest="end", required=True, metavar="TIME", help="as --from")
        sub.add_argument(
            "--embedded-broker",
            action="store_true",
            help="start the embedded broker over the site's recorded log (data_dir/broker, "
            "what `make demo` keeps) for this command, instead of connecting to kafka.*",
        )
        return sub

    replay = ranged(
        "replay", run_replay, "replay a range through the correlator; exit 1 if it differs"
    )
    replay.add_argument("--with", dest="other", type=Path, help="replay with this config instead")
    replay.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    ranged(
        "verify",
        run_verify,
        "check every partition's chains and heads, the range's snapshots, clips and references "
        "against the site's trusted keys; exit 1 unless INTACT",
    )
    report = ranged("report", run_report, "write report.html, alerts.csv and report.json")
    report.add_argument("--out", type=Path, required=True, help="directory")
    export = ranged("export", run_export, "write a signed bundle of the range")
    export.add_argument("--out", type=Path, required=True, help="bundle file (.zip)")
    export.add_argument("--key", type=Path, help="private key (default: $QUAYWATCH_SIGNING_KEY)")
    check = subcommand(
        actions, "verify-bundle", run_verify_bundle, help="check a bundle; exit 1 unless INTACT"
    )
    check.add_argument("bundle", type=Path)
    check.add_argument("--public-key", type=Path, help="trusted PEM public key of the site")
    check.add_argument(
        "--pin",
        action="append",
        default=[],
        metavar="FINGERPRINT",
        help="fingerprint of a trusted export key (as keygen prints it); may be repeated. "
        "Without --public-key or --pin the bundle is UNVERIFIED",
    )
    keygen = subcommand(actions, "keygen", run_keygen, help="make a signing key, KEY.pub")
    keygen.add_argument("--out", type=Path, required=True, help="private key file to create")
    keygen.add_argument(
        "--role",
        type=WriterRole,
        choices=list(WriterRole),
        help="the writer role whose processes sign with it (default: the export key)",
    )


class AuditRefused(ValueError):
    """What an audit command refuses before reading any record: --from/--to that cannot be
    read or end before they start, an --embedded-broker that cannot be had."""


def _window(args: argparse.Namespace, site):
    """The audited range, from --from/--to as typed, in the site's zone: refused here, before
    any broker is asked."""
    from config.clock import parse_moment, site_time, zone_of
    from streams.audit.records import TimeRange

    zone, now = zone_of(site.site.timezone), datetime.now(UTC)
    try:
        start = parse_moment(args.start, zone, now)
        end = parse_moment(args.end, zone, now, end=True)
    except ValueError as error:
        raise AuditRefused(f"--from/--to: {error}") from None
    if end < start:
        raise AuditRefused(
            f"--from/--to: the range ends before it starts: {site_time(end, zone)} is before "
            f"{site_time(start, zone)}"
        )
    return TimeRange(start, end)


@contextmanager
def _site_kafka(args: argparse.Namespace, site) -> Iterator:
    """The Kafka settings to read the site's log with: the site's broker once it answers, or
    with --embedded-broker one started for this command over the site's recorded log."""
    from streams.broker.embedded import BrokerError, EmbeddedBroker
    from streams.kafka import BrokerUnreachable, require_broker

    if not args.embedded_broker:
        require_broker(site.kafka)
        yield site.kafka
        return
    storage = Path(site.data_dir) / "broker"
    if not (storage / "s3").is_dir():
        raise AuditRefused(
            f"--embedded-broker: no recorded log in {storage} (data_dir of {args.config}); "
            "`make demo` records there"
        )
    try:
        require_broker(site.kafka, timeout_ms=1000)
    except BrokerUnreachable:
        pass
    else:
        servers = ", ".join(site.kafka.bootstrap_servers)
        raise AuditRefused(
            f"--embedded-broker: a broker already answers at {servers}, and may "
            f"be writing to {storage}; stop it (Ctrl-C the demo) or leave out --embedded-broker"
        )
    broker = EmbeddedBroker(data_dir=storage, port=0)
    try:
        broker.start()
    except BrokerError as error:
        raise AuditRefused(f"--embedded-broker: {error}") from None
    try:
        yield site.kafka.model_copy(update={"bootstrap_servers": [broker.bootstrap]})
    finally:
        broker.stop()


def _refused(error: AuditRefused) -> int:
    print(f"quaywatch audit: {error}", file=sys.stderr)
    return 2


def _site_range_log(args: argparse.Namespace):
    """The site, the range asked for and the whole recorded log (every partition from its
    start: the range only chooses what is reported). Raises AuditRefused, said in one line."""
    from config.loading import load_site
    from streams.audit.records import read_log

    site = load_site(args.config)
    window = _window(args, site)
    with _site_kafka(args, site) as kafka:
        return site, window, read_log(kafka)


def _verified(site, log, window):
    """The integrity verdict over the log, with the site's trusted keys and evidence files."""
    from streams.audit.verify import verify

    data_dir = Path(site.data_dir)
    return verify(
        log, window, data_dir / "snapshots", _writer_keys(site), clip_dir=data_dir / "clips"
    )


def _writer_keys(site):
    """The keys the site config trusts per writer role: what record signatures are checked with."""
    from streams.signing import KeyRing

    return KeyRing.from_config(site.signing)


def run_replay(args: argparse.Namespace) -> int:
    from config.clock import zone_of
    from config.loading import load_site
    from streams.audit.replay import replay

    replayed_with = load_site(args.other) if args.other else None
    try:
        site, window, log = _site_range_log(args)
    except AuditRefused as error:
        return _refused(error)
    replayed_with = replayed_with or site

    diff = replay(replayed_with, log, window, args.progress)
    # The recorded alerts' cameras replaying footage stamped it from their start_time.
    replaying = frozenset(c.id for c in site.cameras if c.start_time is not None)
    print(diff.render(zone_of(site.site.timezone), replaying))
    return 0 if diff.matches else 1


def run_verify(args: argparse.Namespace) -> int:
    try:
        site, window, log = _site_range_log(args)
    except AuditRefused as error:
        return _refused(error)
    verdict = _verified(site, log, window)
    print(verdict.render())
    return 0 if verdict.clean else 1


def run_report(args: argparse.Namespace) -> int:
    from streams.audit.report import RangeContents, write_report

    try:
        site, window, log = _site_range_log(args)
    except AuditRefused as error:
        return _refused(error)
    verdict = _verified(site, log, window)
    path = write_report(site, log, window, verdict, Path(site.data_dir) / "snapshots", args.out)
    contents = RangeContents.of(log, window)
    print(f"report written to {path}: {contents.render()}; integrity {verdict.integrity.value}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from streams.audit.bundle import export_bundle
    from streams.signing import KEY_ENV, load_signer

    key = args.key or (Path(os.environ[KEY_ENV]) if os.environ.get(KEY_ENV) else None)
    if key is None:
        print(f"audit export: no signing key: pass --key or set {KEY_ENV}")
        return 2
    try:
        site, window, log = _site_range_log(args)
    except AuditRefused as error:
        return _refused(error)
    out = export_bundle(
        log,
        window,
        args.config,
        Path(site.data_dir) / "snapshots",
        load_signer(key),
        args.out,
        _writer_keys(site),
    )
    print(f"bundle written to {out}")
    return 0


def run_verify_bundle(args: argparse.Namespace) -> int:
    from streams.audit.bundle import verify_bundle
    from streams.signing import load_public_key

    trusted = (
        load_public_key(args.public_key.read_bytes(), str(args.public_key))
        if args.public_key
        else None
    )
    check = verify_bundle(args.bundle, trusted, frozenset(args.pin))
    print(check.render())
    return 0 if check.verdict.clean else 1


def run_keygen(args: argparse.Namespace) -> int:
    from streams.signing import KEY_ENV, generate_key, role_key_env

    signer = generate_key(args.out)
    public = args.out.with_suffix(".pub")
    if args.role is None:
        print(
            f"export key {signer.key_id} written to {args.out} (public key {public}); "
            f"give `audit export` {KEY_ENV}={args.out}"
        )
        return 0
    role = args.role
    print(
        f"{role.value} key {signer.key_id} written to {args.out}; give its processes "
        f"{role_key_env(role)}={args.out} and trust it in the site config:\n"
        f"signing:\n  keys:\n    - {{role: {role.value}, key_id: {signer.key_id}, "
        f"public_key: {public}}}"
    )
    return 0
