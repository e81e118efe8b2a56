"""`quaywatch audit`: replay a range through the correlator, verify integrity, report, export."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from config.signing import WriterRole
from quaywatch.commands import Run, command_group, site_option, subcommand


def register(subparsers: argparse._SubParsersAction) -> None:
    actions = command_group(
        subparsers, "audit", help="replay, verify, report and export event logs"
    )

    def ranged(name: str, run: Run, help_text: str) -> argparse.ArgumentParser:
        sub = subcommand(actions, name, run, help=help_text)
        site_option(sub, "site YAML file in force")
        sub.add_argument("--from", dest="start", type=_moment, required=True, help="ISO time")
        sub.add_argument("--to", dest="end", type=_moment, required=True, help="ISO time")
        return sub

    replay = ranged(
        "replay", run_replay, "replay a range through the correlator; exit 1 if it differs"
    )
    replay.add_argument("--with", dest="other", type=Path, help="replay with this config instead")
    replay.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    ranged(
        "verify",
        run_verify,
        "check every partition's chains and heads, the range's snapshots and references "
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


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    # A time without a zone is read as UTC, the clock every message carries.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _window(args: argparse.Namespace):
    from streams.audit.records import TimeRange

    return TimeRange(args.start, args.end)


def _writer_keys(site):
    """The keys the site config trusts per writer role: what record signatures are checked with."""
    from streams.signing import KeyRing

    return KeyRing.from_config(site.signing)


def run_replay(args: argparse.Namespace) -> int:
    from config.loading import load_site
    from streams.audit.records import read_log
    from streams.audit.replay import replay

    site = load_site(args.config)
    replayed_with = load_site(args.other) if args.other else site
    log = read_log(site.kafka)
    diff = replay(replayed_with, log, _window(args), args.progress)
    print(diff.render())
    return 0 if diff.matches else 1


def run_verify(args: argparse.Namespace) -> int:
    from config.loading import load_site
    from streams.audit.records import read_log
    from streams.audit.verify import verify

    site = load_site(args.config)
    verdict = verify(
        read_log(site.kafka),
        _window(args),
        Path(site.data_dir) / "snapshots",
        _writer_keys(site),
    )
    print(verdict.render())
    return 0 if verdict.clean else 1


def run_report(args: argparse.Namespace) -> int:
    from config.loading import load_site
    from streams.audit.records import read_log
    from streams.audit.report import write_report
    from streams.audit.verify import verify

    site = load_site(args.config)
    window, snapshots = _window(args), Path(site.data_dir) / "snapshots"
    log = read_log(site.kafka)
    verdict = verify(log, window, snapshots, _writer_keys(site))
    path = write_report(site, log, window, verdict, snapshots, args.out)
    print(f"report written to {path}; integrity {verdict.integrity.value}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from config.loading import load_site
    from streams.audit.bundle import export_bundle
    from streams.audit.records import read_log
    from streams.signing import KEY_ENV, load_signer

    key = args.key or (Path(os.environ[KEY_ENV]) if os.environ.get(KEY_ENV) else None)
    if key is None:
        print(f"audit export: no signing key: pass --key or set {KEY_ENV}")
        return 2
    site = load_site(args.config)
    out = export_bundle(
        read_log(site.kafka),
        _window(args),
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
