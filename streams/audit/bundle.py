"""Export bundles: the records of a range, their snapshots and the config in force, with a manifest
of hashes signed by the export key, checkable elsewhere with nothing but this tool.

A bundle is a zip file:

- ``records.jsonl``: every record of the range (and the terminal history before it, which a
  replay needs), byte-exact (base64), with topic (and its full name), partition, offset and
  timestamp, all of which the records' link hashes cover;
- ``snapshots/<sha256>.jpg``: the evidence the range refers to;
- ``config/site.yaml``: the site config file in force;
- ``manifest.json``: the range, the SHA-256 of every other file, the public key, and the
  writer roles' public keys the site trusted (the records' signatures are checked with them);
- ``manifest.sig``: the Ed25519 signature of manifest.json.

A bundle vouches for itself only through its export key: `verify_bundle` trusts the key inside
it only when it is the key given or its fingerprint is pinned; otherwise the verdict is
UNVERIFIED, whatever else holds (anyone can sign a bundle with a key of their own).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from config.signing import WriterRole
from streams.audit.records import LoggedRecord, RecordedLog, TimeRange
from streams.audit.verdict import Finding, IntegrityVerdict
from streams.audit.verify import check_chains, check_references, records_in_range
from streams.signing import (
    KeyRing,
    Signer,
    fingerprint,
    is_valid,
    load_public_key,
    public_pem,
)
from streams.topics import TERMINAL

FORMAT = "quaywatch-audit-bundle/2"  # /2: link hashes cover topic, timestamp, headers
RECORDS, MANIFEST, SIGNATURE, CONFIG = (
    "records.jsonl",
    "manifest.json",
    "manifest.sig",
    "config/site.yaml",
)


def bundle_records(log: RecordedLog, window: TimeRange) -> list[LoggedRecord]:
    """The range's records plus the terminal history before it (container state a replay needs)."""
    end_ms = window.end.timestamp() * 1000
    return [
        record
        for record in log.all_records()
        if window.holds(record.timestamp_ms)
        or (record.topic == TERMINAL.name and record.timestamp_ms <= end_ms)
    ]


def export_bundle(
    log: RecordedLog,
    window: TimeRange,
    config_file: Path,
    snapshot_dir: Path,
    signer: Signer,
    out: Path,
    writer_keys: KeyRing,
) -> Path:
    records = bundle_records(log, window)
    _, referenced = check_references(RecordedLog.of(records), window)
    files: dict[str, bytes] = {
        RECORDS: "".join(json.dumps(r.to_json()) + "\n" for r in records).encode(),
        CONFIG: config_file.read_bytes(),
    }
    for sha256 in sorted(referenced):
        path = snapshot_dir / f"{sha256}.jpg"
        if path.is_file():  # a missing one is what verify reports; the bundle says so below
            files[f"snapshots/{sha256}.jpg"] = path.read_bytes()
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "range": {"from": window.start.isoformat(), "to": window.end.isoformat()},
        "records": len(records),
        "snapshots_referenced": sorted(referenced),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "public_key": public_pem(signer.public_key).decode(),
        "key_fingerprint": fingerprint(signer.public_key),
        "writer_keys": [
            {"role": role.value, "public_key": public_pem(key).decode()}
            for role, key in writer_keys.public_keys()
        ],
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
        bundle.writestr(MANIFEST, manifest_bytes)
        bundle.writestr(SIGNATURE, signer.sign(manifest_bytes))
    return out


@dataclass
class BundleCheck:
    verdict: IntegrityVerdict
    key_fingerprint: str
    trusted_key: bool  # the bundle's key is the one given, or pinned
    window: TimeRange | None

    def render(self) -> str:
        trust = (
            "a trusted key (given or pinned)"
            if self.trusted_key
            else "only the key inside the bundle, which proves nothing (pass --public-key "
            "or --pin with the site's export key)"
        )
        return f"bundle signed by key {self.key_fingerprint}, checked against {trust}\n" + (
            self.verdict.render()
        )


def verify_bundle(
    path: Path, trusted_key: Ed25519PublicKey | None = None, pins: frozenset[str] = frozenset()
) -> BundleCheck:
    """Signature of the manifest, hash of every file, then the chains and references inside.

    The trust anchor is `trusted_key`, or a fingerprint in `pins` that the bundle's own key
    must have; without either the verdict is UNVERIFIED.
    """
    findings: list[Finding] = []
    with zipfile.ZipFile(path) as bundle:
        names = set(bundle.namelist())
        missing = {MANIFEST, SIGNATURE} - names
        if missing:
            verdict = IntegrityVerdict(
                [Finding("not a bundle", str(path), f"no {', '.join(missing)}")]
            )
            return BundleCheck(verdict, "-", False, None)
        manifest_bytes = bundle.read(MANIFEST)
        manifest = json.loads(manifest_bytes)
        embedded = load_public_key(manifest["public_key"].encode(), f"{path}:{MANIFEST}")
        key = trusted_key or embedded
        anchored = trusted_key is not None or fingerprint(embedded) in pins
        if pins and trusted_key is None and not anchored:
            findings.append(
                Finding(
                    "bundle key not pinned",
                    f"{path}:{MANIFEST}",
                    f"signed by key {fingerprint(embedded)}, not by a pinned one "
                    f"({', '.join(sorted(pins))})",
                )
            )
        if manifest.get("format") != FORMAT:
            findings.append(
                Finding("unknown bundle format", f"{path}:{MANIFEST}", str(manifest.get("format")))
            )
        if not is_valid(key, bundle.read(SIGNATURE), manifest_bytes):
            findings.append(
                Finding("manifest signature invalid", f"{path}:{MANIFEST}", "not signed by the key")
            )
        listed: dict[str, str] = manifest["files"]
        for name, sha256 in sorted(listed.items()):
            if name not in names:
                findings.append(Finding("file missing", f"{path}:{name}", "listed, not in bundle"))
            elif hashlib.sha256(bundle.read(name)).hexdigest() != sha256:
                findings.append(Finding("file modified", f"{path}:{name}", "hash differs"))
        for name in sorted(names - set(listed) - {MANIFEST, SIGNATURE}):
            findings.append(Finding("file not in manifest", f"{path}:{name}", "added afterwards"))
        for name in sorted(n for n in listed if n.startswith("snapshots/")):
            if name in names and hashlib.sha256(bundle.read(name)).hexdigest() != Path(name).stem:
                findings.append(
                    Finding("snapshot modified", f"{path}:{name}", "hash differs from name")
                )
        records = [
            LoggedRecord.from_json(json.loads(line))
            for line in bundle.read(RECORDS).decode().splitlines()
            if line
        ]
    window = TimeRange(
        datetime.fromisoformat(manifest["range"]["from"]),
        datetime.fromisoformat(manifest["range"]["to"]),
    )
    log = RecordedLog.of(records, partial=True)
    # The writer roles' keys are as trustworthy as the manifest that lists them.
    writer_keys = KeyRing(
        (WriterRole(entry["role"]), load_public_key(entry["public_key"].encode(), MANIFEST))
        for entry in manifest.get("writer_keys", [])
    )
    findings += check_chains(log, window, writer_keys)
    findings += check_references(log, window)[0]
    referenced = manifest["snapshots_referenced"]
    for sha256 in referenced:
        if f"snapshots/{sha256}.jpg" not in listed:
            findings.append(Finding("snapshot missing", f"{path}:snapshots/{sha256}.jpg", "absent"))
    verdict = IntegrityVerdict(
        findings=findings,
        window=window,
        records_in_range=records_in_range(log, window),
        records_checked=len(records),
        snapshots_referenced=len(referenced),
        signatures=f"manifest checked against key {fingerprint(key)}; records "
        + writer_keys.describe(),
        anchored=anchored,
    )
    return BundleCheck(verdict, fingerprint(embedded), anchored, window)
