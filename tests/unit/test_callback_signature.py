"""The DCSA Notification-Signature check: HMAC-SHA256 of the exact body under the secret of
the subscription the callback names, secrets read from where the site says and never from it."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.loading import load_site
from config.terminal import CallbackSubscription, DcsaCallback
from streams.terminal.signature import (
    MIN_SECRET_BYTES,
    Refusal,
    Refused,
    SecretError,
    SubscriptionKeys,
    new_secret,
    read_secret,
    sign,
)
from tests.unit.test_config_loading import write_site

SUBSCRIPTION = uuid.UUID("8fbdc2d8-57c8-48b9-a04b-18fd8ec1d809")
BODY = b'[{"eventID": "e-1", "equipmentReference": "CSQU3054383"}]\n'
# RFC 4231 test case 6: HMAC-SHA256 with a 131-byte key.
RFC4231_KEY = b"\xaa" * 131
RFC4231_DATA = b"Test Using Larger Than Block-Size Key - Hash Key First"
RFC4231_MAC = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def keys_with(secret: str) -> SubscriptionKeys:
    subscription = CallbackSubscription(id=SUBSCRIPTION, secret_env="DCSA_SECRET")
    return SubscriptionKeys.from_subscriptions([subscription], {"DCSA_SECRET": secret})


def refusal(keys: SubscriptionKeys, subscription: str | None, signature: str | None, body: bytes):
    with pytest.raises(Refused) as refused:
        keys.claim(subscription, signature).verify(body)
    return refused.value


def test_the_signature_is_hmac_sha256_of_the_body_under_the_decoded_secret() -> None:
    secret = base64.b64encode(RFC4231_KEY).decode()
    assert sign(RFC4231_DATA, secret) == f"sha256={RFC4231_MAC}"
    keys_with(secret).claim(str(SUBSCRIPTION), f"sha256={RFC4231_MAC}").verify(RFC4231_DATA)


def test_a_correctly_signed_body_passes_with_the_header_written_either_case() -> None:
    secret = new_secret()
    signature = sign(BODY, secret)
    keys = keys_with(secret)
    keys.claim(str(SUBSCRIPTION), signature).verify(BODY)
    keys.claim(str(SUBSCRIPTION).upper(), f"  SHA256={signature[7:].upper()} ").verify(BODY)


@pytest.mark.parametrize(
    "altered",
    [BODY + b" ", BODY[:-1], BODY.replace(b"CSQU3054383", b"TCNU7200794"), b""],
    ids=["whitespace added", "newline removed", "container changed", "emptied"],
)
def test_a_body_changed_after_signing_is_refused(altered: bytes) -> None:
    secret = new_secret()
    refused = refusal(keys_with(secret), str(SUBSCRIPTION), sign(BODY, secret), altered)
    assert refused.reason is Refusal.bad_signature
    assert str(SUBSCRIPTION) in str(refused)


def test_a_body_signed_with_another_secret_is_refused() -> None:
    refused = refusal(keys_with(new_secret()), str(SUBSCRIPTION), sign(BODY, new_secret()), BODY)
    assert refused.reason is Refusal.bad_signature


@pytest.mark.parametrize("subscription", [None, "", "not-a-uuid", str(uuid.uuid4())], ids=repr)
def test_a_callback_of_no_listed_subscription_is_refused(subscription: str | None) -> None:
    secret = new_secret()
    refused = refusal(keys_with(secret), subscription, sign(BODY, secret), BODY)
    assert refused.reason is Refusal.unknown_subscription
    assert "Subscription-ID" in str(refused)


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha256", "sha1=" + "0" * 40, "sha256=" + "z" * 64, "sha256=" + "0" * 63],
    ids=repr,
)
def test_a_missing_or_malformed_signature_is_refused_as_unsigned(signature: str | None) -> None:
    refused = refusal(keys_with(new_secret()), str(SUBSCRIPTION), signature, BODY)
    assert refused.reason is Refusal.unsigned
    assert "Notification-Signature" in str(refused)


def test_the_secret_comes_from_the_named_variable_or_file(tmp_path: Path) -> None:
    secret = new_secret()
    (tmp_path / "dcsa.secret").write_text(secret + "\n")
    from_file = CallbackSubscription(id=SUBSCRIPTION, secret_file=tmp_path / "dcsa.secret")
    from_env = CallbackSubscription(id=SUBSCRIPTION, secret_env="DCSA_SECRET")
    assert read_secret(from_file) == read_secret(from_env, {"DCSA_SECRET": secret})
    assert len(read_secret(from_file)) == MIN_SECRET_BYTES


@pytest.mark.parametrize(
    "environ, wanted",
    [
        ({}, "variable DCSA_SECRET is not set"),
        ({"DCSA_SECRET": "not base64!"}, "is not Base64"),
        ({"DCSA_SECRET": base64.b64encode(b"short").decode()}, "decodes to 5 bytes"),
    ],
)
def test_an_unusable_secret_is_an_error_that_names_the_subscription(
    environ: dict[str, str], wanted: str
) -> None:
    subscription = CallbackSubscription(id=SUBSCRIPTION, secret_env="DCSA_SECRET")
    with pytest.raises(SecretError, match=wanted) as error:
        read_secret(subscription, environ)
    assert str(SUBSCRIPTION) in str(error.value)


def test_a_missing_secret_file_is_an_error_that_names_the_file(tmp_path: Path) -> None:
    subscription = CallbackSubscription(id=SUBSCRIPTION, secret_file=tmp_path / "absent")
    with pytest.raises(SecretError, match=f"file {tmp_path / 'absent'} cannot be read"):
        read_secret(subscription)


def test_a_subscription_names_exactly_one_place_for_its_secret() -> None:
    for places in ({}, {"secret_env": "A", "secret_file": "a"}):
        with pytest.raises(ValidationError, match="exactly one of secret_env or secret_file"):
            CallbackSubscription(id=SUBSCRIPTION, **places)
    with pytest.raises(ValidationError, match="extra"):
        CallbackSubscription(id=SUBSCRIPTION, secret_env="A", secret="in the site file")


def test_a_subscription_is_listed_once() -> None:
    subscription = {"id": str(SUBSCRIPTION), "secret_env": "A"}
    with pytest.raises(ValidationError, match="listed twice"):
        DcsaCallback(subscriptions=[subscription, subscription])


def test_the_endpoint_listens_on_loopback_unless_the_site_says_otherwise() -> None:
    assert DcsaCallback().host == "127.0.0.1"


def test_a_secret_file_is_relative_to_the_site_file(tmp_path: Path) -> None:
    path = write_site(
        tmp_path,
        f"""
        site: {{id: test-site}}
        cameras:
          - {{id: cam-1, source: footage.avi}}
        terminal:
          callback:
            subscriptions:
              - {{id: {SUBSCRIPTION}, secret_file: secrets/dcsa}}
        """,
    )
    [subscription] = load_site(path).terminal.callback.subscriptions
    assert subscription.secret_file == tmp_path.resolve() / "secrets" / "dcsa"
