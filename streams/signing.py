"""Ed25519 signing with the site's key: chain links and export bundles are signed with it.

A hash chain alone cannot tell a forged message from a genuine one when the forger starts a
chain of their own; a signature can, as long as the private key stays with the producers.
Producers find the key through the `QUAYWATCH_SIGNING_KEY` environment variable (a path to a
PEM file, typically a mounted secret) so no process needs extra wiring; auditors only need the
public key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_ENV = "QUAYWATCH_SIGNING_KEY"


class SigningKeyError(RuntimeError):
    """A key file is missing or is not an Ed25519 key."""


@dataclass(frozen=True)
class Signer:
    """Signs bytes with the site's private key."""

    private_key: Ed25519PrivateKey

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: Ed25519PublicKey) -> str:
    """Short id of a public key, to name it in reports."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(path: Path) -> Signer:
    """Write a new private key (mode 0600) to `path` and its public key next to it (.pub)."""
    if path.exists():
        raise SigningKeyError(f"{path}: exists already; refusing to replace a signing key")
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(pem)
    path.with_suffix(".pub").write_bytes(public_pem(private_key.public_key()))
    return Signer(private_key)


def load_signer(path: Path) -> Signer:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise SigningKeyError(f"{path}: cannot read the signing key: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an Ed25519 private key ({type(key).__name__})")
    return Signer(key)


def signer_from_env() -> Signer | None:
    """The producers' signer, when the deployment gives them a key."""
    path = os.environ.get(KEY_ENV)
    return load_signer(Path(path)) if path else None


def load_public_key(data: bytes, where: str) -> Ed25519PublicKey:
    """A public key from PEM bytes; a private key PEM gives its public half."""
    try:
        if b"PRIVATE KEY" in data:
            private_key = serialization.load_pem_private_key(data, password=None)
            key = private_key.public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError as error:
        raise SigningKeyError(f"{where}: not a PEM key: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{where}: not an Ed25519 key ({type(key).__name__})")
    return key


def is_valid(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
