"""DCSA callback authentication: the subscription a callback names and the signature of its body.

DCSA Track & Trace 2.2 signs each callback with `Notification-Signature: sha256=<hex>`, the
HMAC-SHA256 of the exact request body bytes under the subscription's shared secret, and names
the subscription in `Subscription-ID`. The secret is the Base64 text sent in the subscription;
its decoded bytes are the HMAC key. Checking happens in two steps so that a callback that
cannot be genuine is refused before its body is read:

    keys = SubscriptionKeys.from_subscriptions(site.terminal.callback.subscriptions)
    claim = keys.claim(headers.get(SUBSCRIPTION_HEADER), headers.get(SIGNATURE_HEADER))
    claim.verify(body)  # raises Refused unless the body is what was signed
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

from config.terminal import CallbackSubscription
from streams.terminal.metrics import Refusal

SIGNATURE_HEADER = "Notification-Signature"
SUBSCRIPTION_HEADER = "Subscription-ID"
SIGNATURE_TYPE = "sha256"
MIN_SECRET_BYTES = 32  # HMAC-SHA256 gains nothing from more, and is weakened by less
_DIGEST_HEX = hashlib.sha256().digest_size * 2


class Refused(Exception):
    """A callback that is not authentic; `str()` says what was wrong and what would be right."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class SecretError(ValueError):
    """A subscription's secret that cannot be used: missing, unreadable, not Base64, too short."""


def new_secret() -> str:
    """A fresh shared secret, as a subscription sends it (Base64 of 32 random bytes)."""
    return base64.b64encode(secrets.token_bytes(MIN_SECRET_BYTES)).decode()


def sign(body: bytes, secret: str) -> str:
    """The `Notification-Signature` value a publisher sends with `body`."""
    digest = hmac.new(_key(secret, "the secret"), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_TYPE}={digest}"


def _key(secret: str, where: str) -> bytes:
    try:
        key = base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SecretError(
            f"{where} is not Base64; it must be the secret sent in the subscription, "
            "e.g. from `openssl rand -base64 32`"
        ) from None
    if len(key) < MIN_SECRET_BYTES:
        raise SecretError(
            f"{where} decodes to {len(key)} bytes; a subscription secret needs at least "
            f"{MIN_SECRET_BYTES} (`openssl rand -base64 32`)"
        )
    return key


def read_secret(
    subscription: CallbackSubscription, environ: Mapping[str, str] = os.environ
) -> bytes:
    """The HMAC key of a subscription, from the variable or file the site names."""
    if subscription.secret_env is not None:
        where = f"subscription {subscription.id}: variable {subscription.secret_env}"
        text = environ.get(subscription.secret_env)
        if not text:
            raise SecretError(f"{where} is not set; set it to the subscription's secret")
        return _key(text, where)
    assert subscription.secret_file is not None  # the config demands one of the two
    where = f"subscription {subscription.id}: file {subscription.secret_file}"
    try:
        text = subscription.secret_file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise SecretError(f"{where} cannot be read ({error}); it must hold the secret") from None
    return _key(text, where)


@dataclass(frozen=True)
class Claim:
    """What a callback's headers claim: a known subscription and the digest of its body."""

    subscription_id: UUID
    key: bytes
    digest: bytes

    def verify(self, body: bytes) -> None:
        expected = hmac.new(self.key, body, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, self.digest):
            raise Refused(
                Refusal.bad_signature,
                f"{SIGNATURE_HEADER} does not match the body for subscription "
                f"{self.subscription_id}: sign the exact body bytes with HMAC-SHA256 under "
                "the subscription's secret",
            )


class SubscriptionKeys:
    """The HMAC key of every subscription whose callbacks are accepted."""

    def __init__(self, keys: Mapping[UUID, bytes]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_subscriptions(
        cls, subscriptions: Iterable[CallbackSubscription], environ: Mapping[str, str] = os.environ
    ) -> SubscriptionKeys:
        return cls({s.id: read_secret(s, environ) for s in subscriptions})

    def __len__(self) -> int:
        return len(self._keys)

    def claim(self, subscription_header: str | None, signature_header: str | None) -> Claim:
        """The claim of these header values, or Refused before any body is read."""
        try:
            subscription_id = UUID(subscription_header or "")
        except ValueError:
            subscription_id = None
        key = self._keys.get(subscription_id) if subscription_id else None
        if subscription_id is None or key is None:
            raise Refused(
                Refusal.unknown_subscription,
                f"{SUBSCRIPTION_HEADER} {subscription_header!r} is not a subscription of this "
                "endpoint; send the subscriptionID the endpoint's site lists",
            )
        return Claim(subscription_id, key, _digest(signature_header))


def _digest(signature_header: str | None) -> bytes:
    signature_type, _, digest = (signature_header or "").strip().partition("=")
    if signature_type.lower() != SIGNATURE_TYPE or len(digest) != _DIGEST_HEX:
        raise Refused(
            Refusal.unsigned,
            f"{SIGNATURE_HEADER} must be '{SIGNATURE_TYPE}=<64 hex digits>' (HMAC-SHA256 of "
            f"the body), got {(signature_header or '')[:80]!r}",
        )
    try:
        return bytes.fromhex(digest)
    except ValueError:
        raise Refused(
            Refusal.unsigned, f"{SIGNATURE_HEADER}: {digest[:80]!r} is not hexadecimal"
        ) from None
