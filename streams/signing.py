"""Ed25519 signing: each producing role signs its chain links with its own key, consumers check
them against the keys the site config trusts for that role, and export bundles are signed too.

A hash chain alone cannot tell a forged message from a genuine one when the forger starts a
chain of their own; a signature can, as long as the private keys stay with the producers.
A producing process finds its role's key through `QUAYWATCH_SIGNING_KEY_<ROLE>` (e.g.
`QUAYWATCH_SIGNING_KEY_CAMERA`: a path to a PEM file, typically a mounted secret), so each
process holds only its own key. `QUAYWATCH_SIGNING_KEY` names the key export bundles are
signed with.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from config.signing import (
    Signing,
    SigningKeyError,
    TrustedKey,
    WriterRole,
    fingerprint,
    load_public_key,
)

__all__ = ["SigningKeyError", "fingerprint", "load_public_key"]

KEY_ENV = "QUAYWATCH_SIGNING_KEY"


def role_key_env(role: WriterRole) -> str:
    """The environment variable that names the private key of `role`'s processes."""
    return f"{KEY_ENV}_{role.value.upper()}"


@dataclass(frozen=True)
class Signer:
    """Signs bytes with one private key; `key_id` names it in every record it signs."""

    private_key: Ed25519PrivateKey

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @cached_property
    def key_id(self) -> str:
        # Named in every record it signs: worked out once, not per record.
        return fingerprint(self.public_key)


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


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


def ensure_key(path: Path) -> Signer:
    """The key in `path`, made (with its .pub) if there is none yet."""
    return load_signer(path) if path.exists() else generate_key(path)


def signer_for(role: WriterRole) -> Signer:
    """The signer of a process in `role`; SigningKeyError when the deployment gave it none."""
    variable = role_key_env(role)
    path = os.environ.get(variable)
    if not path:
        raise SigningKeyError(
            f"no signing key for the {role.value} role: set {variable} to its private key "
            "(make one with `quaywatch audit keygen`); consumers reject unsigned records"
        )
    try:
        return load_signer(Path(path))
    except SigningKeyError as error:
        raise SigningKeyError(f"{variable}: {error}") from None


def make_role_keys(directory: Path) -> Signing:
    """A key for every writer role under `directory` (`<role>.pem` and `.pub`, made where
    missing) and the site config section that trusts them: for the tests and the benches,
    which run every role on one machine. The demo keeps its keys where its site says
    (`quaywatch.demo.ensure_role_keys`); a deployment makes one per role with `audit keygen`."""
    trusted = []
    for role in WriterRole:
        path = directory / f"{role.value}.pem"
        signer = ensure_key(path)
        trusted.append(
            TrustedKey(role=role, key_id=signer.key_id, public_key=path.with_suffix(".pub"))
        )
    return Signing(keys=trusted)


def role_key_environment(directory: Path) -> dict[str, str]:
    """The variables that give each role's processes its key from `make_role_keys`."""
    return {role_key_env(role): str(directory / f"{role.value}.pem") for role in WriterRole}


def is_valid(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


class KeyRing:
    """The public keys a site trusts, by key id, each for one writer role."""

    def __init__(self, keys: Iterable[tuple[WriterRole, Ed25519PublicKey]] = ()) -> None:
        self._keys = {fingerprint(key): (role, key) for role, key in keys}

    @classmethod
    def from_config(cls, signing: Signing) -> KeyRing:
        return cls((trusted.role, trusted.load()) for trusted in signing.keys)

    def describe(self) -> str:
        """The keys, as a verdict names what it checked signatures against."""
        if not self._keys:
            return "checked against no trusted key (the site config lists none)"
        named = ", ".join(
            f"key {key_id} ({role.value})" for key_id, (role, _) in self._keys.items()
        )
        return f"checked against {named}"

    def __bool__(self) -> bool:
        """Whether the ring trusts any key: without one, no signature can be checked."""
        return bool(self._keys)

    def role_of(self, key_id: str | None) -> WriterRole | None:
        """The role a trusted key signs for; None for a key the ring does not trust."""
        known = self._keys.get(key_id) if key_id is not None else None
        return None if known is None else known[0]

    def public_keys(self) -> list[tuple[WriterRole, Ed25519PublicKey]]:
        return [(role, key) for role, key in self._keys.values()]

    def signature_problems(
        self,
        signed: Sequence[tuple[str | None, bytes | None, bytes]],
        roles: Iterable[WriterRole],
        attested: Sequence[bool] | None = None,
    ) -> list[str | None]:
        """Why each (key id, signature, data) is not a signature one of `roles` may write (None
        where it is), in order; a batch's signatures are verified on two threads at once (the
        check does not hold the GIL).

        Where `attested` is true, the caller knows the data to be what a trusted signer
        signed (a later link of the same chain covers it): the signature must be there, under
        a trusted key of an allowed role, but is not verified again.
        """
        allowed = sorted(role.value for role in roles)
        problems: list[str | None] = []
        to_verify: list[tuple[int, str, WriterRole]] = []  # (index, key id, role)
        jobs: list[tuple[Ed25519PublicKey, bytes, bytes]] = []
        for index, (key_id, signature, data) in enumerate(signed):
            problem = self._untrusted(key_id, signature, allowed)
            problems.append(problem)
            if problem is not None or (attested is not None and attested[index]):
                continue
            assert key_id is not None and signature is not None  # as _untrusted found
            role, key = self._keys[key_id]
            to_verify.append((index, key_id, role))
            jobs.append((key, signature, data))
        for (index, key_id, role), valid in zip(to_verify, _all_valid(jobs), strict=True):
            if not valid:
                problems[index] = f"signature does not verify under key {key_id} ({role.value})"
        return problems

    def _untrusted(
        self, key_id: str | None, signature: bytes | None, allowed: list[str]
    ) -> str | None:
        """Why a signature cannot count for the `allowed` roles before it is even verified."""
        if signature is None or key_id is None:
            return "not signed"
        known = self._keys.get(key_id)
        if known is None:
            return f"signed with key {key_id}, which the site does not trust"
        role = known[0]
        if role.value not in allowed:
            writers = ", ".join(allowed)
            return f"signed with key {key_id} of the {role.value} role; only {writers} may write"
        return None


# Fewer signatures than this are verified on the calling thread alone: handing work to the
# helper costs more than it saves.
PARALLEL_FROM = 16
_HELPERS: dict[int, ThreadPoolExecutor] = {}  # by process id: a forked child starts its own


def _helper() -> ThreadPoolExecutor:
    pid = os.getpid()
    if pid not in _HELPERS:
        _HELPERS[pid] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signature-check")
    return _HELPERS[pid]


def _all_valid(signed: Sequence[tuple[Ed25519PublicKey, bytes, bytes]]) -> list[bool]:
    """Whether each signature verifies, the calling thread and one helper taking the next
    unverified one in turn."""
    results = [False] * len(signed)
    pending = iter(range(len(signed)))  # next() on it is atomic: each index goes to one thread

    def verify() -> None:
        for index in pending:
            key, signature, data = signed[index]
            results[index] = is_valid(key, signature, data)

    if len(signed) < PARALLEL_FROM:
        verify()
        return results
    helping = _helper().submit(verify)
    verify()
    helping.result()
    return results
