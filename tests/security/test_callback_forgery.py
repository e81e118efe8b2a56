"""Forging a terminal event through the DCSA callback endpoint: every way a POST without the
subscription's signature over its exact body could get an event onto `terminal` answers 401,
publishes nothing and is counted; the genuine publisher's post is published."""

from __future__ import annotations

import uuid

from streams.terminal.signature import SIGNATURE_HEADER, SUBSCRIPTION_HEADER, new_secret
from tests.security.conftest import Target, discharge_batch, new_container_number


def refused_and_not_published(target: Target, status: int, forged_container: str) -> None:
    assert status == 401
    # A genuine post after the forgery: once it is on the topic, the forgery would be too.
    sentinel = new_container_number()
    assert target.endpoint.post_signed(discharge_batch(sentinel)).status == 200
    assert forged_container not in target.published_until(sentinel)


def test_an_unsigned_post_is_refused(target: Target) -> None:
    forged = new_container_number()
    body = discharge_batch(forged)
    headers = {SUBSCRIPTION_HEADER: str(target.endpoint.subscription_id)}
    before = target.refusals().get("unsigned", 0)
    answer = target.endpoint.request("POST", body, headers)
    assert "Notification-Signature" in answer.json()["error"]
    refused_and_not_published(target, answer.status, forged)
    assert target.refusals()["unsigned"] == before + 1


def test_a_post_signed_with_another_secret_is_refused(target: Target) -> None:
    forged = new_container_number()
    body = discharge_batch(forged)
    headers = target.endpoint.signed_headers(body, secret=new_secret())
    before = target.refusals().get("bad_signature", 0)
    answer = target.endpoint.request("POST", body, headers)
    refused_and_not_published(target, answer.status, forged)
    assert target.refusals()["bad_signature"] == before + 1


def test_a_signed_post_altered_on_the_way_is_refused(target: Target) -> None:
    genuine, forged = new_container_number(), new_container_number()
    headers = target.endpoint.signed_headers(discharge_batch(genuine))
    answer = target.endpoint.request("POST", discharge_batch(forged), headers)
    refused_and_not_published(target, answer.status, forged)


def test_a_signature_with_a_byte_of_whitespace_added_to_the_body_is_refused(
    target: Target,
) -> None:
    forged = new_container_number()
    body = discharge_batch(forged)
    answer = target.endpoint.request("POST", body + b" ", target.endpoint.signed_headers(body))
    refused_and_not_published(target, answer.status, forged)


def test_a_post_of_a_subscription_the_site_does_not_list_is_refused(target: Target) -> None:
    forged = new_container_number()
    body = discharge_batch(forged)
    headers = {**target.endpoint.signed_headers(body), SUBSCRIPTION_HEADER: str(uuid.uuid4())}
    before = target.refusals().get("unknown_subscription", 0)
    answer = target.endpoint.request("POST", body, headers)
    refused_and_not_published(target, answer.status, forged)
    assert target.refusals()["unknown_subscription"] == before + 1


def test_a_post_without_a_subscription_is_refused(target: Target) -> None:
    forged = new_container_number()
    body = discharge_batch(forged)
    headers = target.endpoint.signed_headers(body)
    del headers[SUBSCRIPTION_HEADER]
    answer = target.endpoint.request("POST", body, headers)
    refused_and_not_published(target, answer.status, forged)


def test_other_signature_types_and_malformed_signatures_are_refused(target: Target) -> None:
    body = discharge_batch(new_container_number())
    digest = target.endpoint.signed_headers(body)[SIGNATURE_HEADER].partition("=")[2]
    for signature in (f"sha1={digest[:40]}", f"md5={digest[:32]}", digest, "sha256=", "sha256=zz"):
        headers = {**target.endpoint.signed_headers(body), SIGNATURE_HEADER: signature}
        assert target.endpoint.request("POST", body, headers).status == 401, signature


def test_the_publishers_signed_post_is_published_and_counted(target: Target) -> None:
    container = new_container_number()
    answer = target.endpoint.post_signed(discharge_batch(container))
    assert answer.status == 200 and answer.json() == {"accepted": 1, "rejected": 0}
    assert container in target.published_until(container)


def test_signature_header_values_are_read_as_the_standard_writes_them(target: Target) -> None:
    container = new_container_number()
    body = discharge_batch(container)
    headers = target.endpoint.signed_headers(body)
    headers[SIGNATURE_HEADER] = (
        f"  {headers[SIGNATURE_HEADER].upper().replace('SHA256', 'sha256')} "
    )
    headers[SUBSCRIPTION_HEADER] = headers[SUBSCRIPTION_HEADER].upper()
    assert target.endpoint.request("POST", body, headers).status == 200


def test_only_the_callback_path_answers(target: Target) -> None:
    body = discharge_batch(new_container_number())
    headers = target.endpoint.signed_headers(body)
    for path in ("/", "/callback", f"{target.endpoint.path}/x", "/docs", "/openapi.json"):
        assert target.endpoint.request("POST", body, headers, path=path).status == 404, path
        assert target.endpoint.request("GET", path=path).status == 404, path


def test_the_dcsa_head_check_of_the_callback_url_answers(target: Target) -> None:
    assert target.endpoint.request("HEAD").status == 204


def test_a_signed_body_that_is_not_text_is_refused_whole(target: Target) -> None:
    container = new_container_number()
    body = discharge_batch(container) + b"\x00\xff"
    answer = target.endpoint.post_signed(body)
    assert answer.status == 400 and "not text" in answer.json()["error"]
    assert target.refusals().get("not_text") == 1
    sentinel = new_container_number()
    assert target.endpoint.post_signed(discharge_batch(sentinel)).status == 200
    assert container not in target.published_until(sentinel)
