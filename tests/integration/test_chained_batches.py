"""A batch of records is chained and signed before any is sent; where a send fails after
others of the batch were handed to Kafka, the chains start again under a new producer id,
since the fate of those is unknown. Every record that reaches the topic checks."""

from __future__ import annotations

import pytest
from kafka.errors import MessageSizeTooLargeError

from config.kafka import Kafka
from config.signing import Signing, WriterRole
from streams.audit.records import read_log
from streams.broker.embedded import EmbeddedBroker
from streams.chain import ChainedProducer, ChainLink
from streams.chained_producer import Outgoing
from streams.record_check import RecordCheck
from streams.terminal.events import ContainerEvent
from streams.topics import TERMINAL
from tests.fixtures.broker import fresh_topics
from tests.fixtures.port_story import night_yard

pytestmark = pytest.mark.integration


def too_big(event: ContainerEvent) -> ContainerEvent:
    """An event over the producer's 1 MiB request limit: its send fails before it is sent."""
    return event.model_copy(update={"yard_position": "x" * (2 << 20)})


def links_on_the_topic(kafka: Kafka, signing: Signing) -> list[tuple[str, int]]:
    """(producer id, sequence) of every record on the terminal topic, each one checked."""
    check, links = RecordCheck.for_site(signing), []
    for record in read_log(kafka, [TERMINAL]).topic(TERMINAL):
        check.placed_message(TERMINAL, record.placed())
        link = ChainLink.from_headers(dict(record.placed().headers))
        assert link is not None
        links.append((link.producer_id, link.sequence))
    return links


def test_a_send_failing_inside_a_batch_starts_new_chains(
    broker: EmbeddedBroker, role_keys: Signing
) -> None:
    kafka = fresh_topics(broker.bootstrap, partitions=1)  # one chain
    feed = ChainedProducer(kafka, WriterRole.terminal)
    first, second, third = (event.stamped() for event in night_yard()[:3])
    try:
        before = feed.chain.producer_id
        with pytest.raises(MessageSizeTooLargeError):
            feed.send_all([Outgoing(TERMINAL, first), Outgoing(TERMINAL, too_big(second))])
        feed.flush(30)
        after = feed.chain.producer_id
        feed.send(TERMINAL, third).get(timeout=30)
    finally:
        feed.close()

    assert after != before
    assert links_on_the_topic(kafka, role_keys) == [(before, 0), (after, 0)]


def test_a_batch_whose_first_send_fails_leaves_the_chain_as_it_was(
    broker: EmbeddedBroker, role_keys: Signing
) -> None:
    kafka = fresh_topics(broker.bootstrap, partitions=1)  # one chain
    feed = ChainedProducer(kafka, WriterRole.terminal)
    first, second = (event.stamped() for event in night_yard()[:2])
    before = feed.chain.producer_id
    try:
        with pytest.raises(MessageSizeTooLargeError):
            feed.send_all([Outgoing(TERMINAL, too_big(first)), Outgoing(TERMINAL, second)])
        feed.send_all([Outgoing(TERMINAL, first), Outgoing(TERMINAL, second)])
        feed.flush(30)
    finally:
        feed.close()

    assert feed.chain.producer_id == before  # nothing of the failed batch was sent
    assert links_on_the_topic(kafka, role_keys) == [(before, 0), (before, 1)]
