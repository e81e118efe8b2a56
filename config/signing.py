"""Which public keys the site trusts for which writer role: consumers accept a record only when
it is signed by a trusted key of the role allowed to write its topic.

Public keys are not secrets, so they live in the site config (a PEM file per key, relative to
the config file); the private keys stay with the producing processes. A role may list several
keys at once, which is how a key is rotated: add the new one, move the producers over, then
remove the old one.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import Field

from config.base import SectionError, Strict

# A kind of producing process; each has its own signing key and its own topics. Member
# values are their names: camera, terminal, correlator, console.
WriterRole = StrEnum("WriterRole", ["camera", "terminal", "correlator", "console"])


class SigningKeyError(RuntimeError):
    """A key file is missing or is not an Ed25519 key."""


def fingerprint(key: Ed25519PublicKey) -> str:
    """Short id of a public key: records name the key they are signed with by it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


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


class TrustedKey(Strict):
    """One public key and the role whose records it signs."""

    role: WriterRole = Field(title="Role", description="camera, terminal, correlator or console")
    key_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{16}$",
        title="Key id",
        description="The key's fingerprint, as `quaywatch audit keygen` prints it; when given, "
        "the file must hold that key (a guard against a swapped file)",
    )
    public_key: Path = Field(
        title="Public key", description="Ed25519 public key (PEM), relative to the config file"
    )

    def load(self) -> Ed25519PublicKey:
        """The key in the file; SigningKeyError when it is unreadable or not the key_id given."""
        try:
            data = self.public_key.read_bytes()
        except OSError as error:
            raise SigningKeyError(f"cannot read {self.public_key}: {error.strerror}") from None
        key = load_public_key(data, str(self.public_key))
        if self.key_id is not None and fingerprint(key) != self.key_id:
            raise SigningKeyError(
                f"{self.public_key} holds key {fingerprint(key)}, not {self.key_id}; "
                "fix key_id or point public_key at the right file"
            )
        return key


class Signing(Strict):
    """The keys consumers trust, per writer role; a role without keys is trusted by nobody."""

    keys: list[TrustedKey] = Field(
        default_factory=list,
        title="Trusted keys",
        description="Public keys of the producing roles; records signed otherwise are rejected",
    )

    def key_errors(self) -> list[SectionError]:
        """Key files that cannot be read or do not hold the key their key_id names."""
        errors: list[SectionError] = []
        for index, trusted in enumerate(self.keys):
            try:
                trusted.load()
            except SigningKeyError as error:
                errors.append((("signing", "keys", index, "public_key"), str(error)))
        return errors
