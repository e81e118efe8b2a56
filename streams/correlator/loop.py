"""The correlator process: consume -> decode -> join -> classify -> publish -> commit.

Access events are shared among instances by the consumer group; every instance reads the
whole `terminal` topic (its container table), the whole `alerts` topic (what any instance
already published) and its own dead letters on its own, so a restart rebuilds all three: from
the latest checkpoint of them (`checkpoint.py`) and what follows it, or from the beginning.
Only the owner of an access partition publishes revisions of the episodes from it
(`ownership.py`); the others learn them. A partition that comes to an instance in a rebalance
has its episodes rebuilt from the recent alerts read from the alerts topic, then its access
events are read again from the committed offset, so the new owner continues the same
revision sequence.

Offsets of access events are committed only after their alerts are acknowledged by the broker,
and never past an access event that joined an episode without a revision: the alerts topic
does not know it yet, so a restart must read it again to rebuild the episode. A crash between
publishing and committing repeats nothing: the alerts and dead letters already on the topics
are read back first, and their ids derive from the inputs.

Every record is checked (chain, signature of the topic's writer role, JSON Schema, schema name
and version) before it is learnt or correlated: one that fails is dead-lettered and changes
nothing, so an alert the correlator did not verify is never revised and republished by it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError

from config.kafka import Kafka
from config.signing import WriterRole
from config.site import SiteConfig
from streams.access import AccessEvent
from streams.alerts import Alert
from streams.chained_producer import ChainedProducer, Outgoing
from streams.collector import collector_paused, settle_after_start_up
from streams.correlator.checkpoint import (
    CheckpointSchedule,
    load_latest,
    write_checkpoint,
)
from streams.correlator.engine import CorrelationEngine
from streams.correlator.knowledge import DeadLetters, read_through
from streams.correlator.metrics import CorrelatorMetrics
from streams.correlator.ownership import Ownership
from streams.dead_letter import DeadLetter
from streams.kafka import BURST_PRODUCER, consumer, stable_generation
from streams.reader import Received, TopicReader, lag, unread
from streams.record_check import RecordCheck, RecordRejected
from streams.topics import ACCESS, ALERTS, CHECKPOINTS, DEAD_LETTER, TERMINAL, TOPIC_NAMED, Topic

log = logging.getLogger(__name__)

GROUP_ID = "quaywatch-correlator"
# Every instance reads these whole, on its own: the container table, what any instance
# already published, and the dead letters already sent. Access events are shared out by the
# consumer group.
KNOWLEDGE = (TERMINAL, ALERTS, DEAD_LETTER)
READS = (ACCESS, *KNOWLEDGE, CHECKPOINTS)  # the checkpoints at start-up
DEAD_LETTER_SOURCE = "correlator"
# Asked to stop, an instance reads its partitions to their end for at most this long: a
# stop (a supervisor's SIGTERM) usually allows 10 s or more before it kills.
DRAIN_SECONDS = 5


@dataclass
class Decoded:
    access_events: list[AccessEvent] = field(default_factory=list)
    # Where each access event was read: (partition, offset), same order.
    positions: list[tuple[TopicPartition, int]] = field(default_factory=list)
    rejects: list[DeadLetter] = field(default_factory=list)


class Correlator:
    def __init__(
        self,
        site: SiteConfig,
        kafka: Kafka | None = None,
        group_id: str = GROUP_ID,
        metrics: CorrelatorMetrics | None = None,
        max_records: int = 1000,
    ) -> None:
        self.kafka = kafka or site.kafka
        self.metrics = metrics or CorrelatorMetrics()
        self.engine = CorrelationEngine.for_site(site)
        self.max_records = max_records
        self.producer = ChainedProducer(self.kafka, WriterRole.correlator, **BURST_PRODUCER)
        self.check = RecordCheck.for_site(site.signing)
        self.dead_letters = DeadLetters(DEAD_LETTER_SOURCE)
        self.knowledge = TopicReader(self.kafka, KNOWLEDGE, self.check)
        self.knowledge.start_at = self.restore_checkpoint()
        self.knowledge.wait_for_partitions()
        correlation = site.correlation
        self.checkpoints = CheckpointSchedule(
            correlation.checkpoint_every_records, correlation.checkpoint_every_minutes * 60
        )
        self.learn = {
            TERMINAL: self.engine.on_container_event,
            ALERTS: self.engine.on_published,
            DEAD_LETTER: self.dead_letters.seen,
        }
        self.ownership = Ownership(site.correlation.quiet_partition_seconds)
        self.engine.judged_up_to = self.ownership.judged_up_to
        self.group_id = group_id
        self.access = self.subscribed()
        self.started = False  # the first catch-up (the start-up read) is done
        # Bodies of our own alerts sent and not yet read back: a record holding one of them
        # byte for byte is the alert itself, learnt without checking and parsing it again.
        self.sent: dict[bytes, Alert] = {}

    def run(self, stop: threading.Event) -> None:
        self.catch_up()
        while not stop.is_set():
            self.step(self.poll())
        self.drain()

    def poll(self) -> Mapping[TopicPartition, Sequence[ConsumerRecord]]:
        return self.access.poll(timeout_ms=200, max_records=self.max_records)

    def drain(self, within_s: float = DRAIN_SECONDS) -> None:
        """Asked to stop: first correlate what the owned partitions hold now, such as the ends
        a camera sent as it stopped, up to their ends as the knowledge read finds them
        (`streams.reader.unread`), or for `within_s` at most. An audit replay of the log then
        judges nothing this instance had not read."""
        deadline = time.monotonic() + within_s
        try:
            ends = self.access.end_offsets(list(self.access.assignment()))
        except KafkaError as error:
            log.warning("stopping without reading to the end: no end offsets (%s)", error)
            return
        while not self.ownership.rebalancing and unread(self.access, ends):
            if time.monotonic() > deadline:
                log.warning("stopping with access records not read after %.0f s", within_s)
                return
            self.step(self.poll())

    def step(self, records: Mapping[TopicPartition, Sequence[ConsumerRecord]]) -> None:
        """One turn of the loop; every name below is a function testable on its own."""
        self.catch_up()  # the container table, published alerts and dead letters, as of now
        if self.ownership.rebalancing:
            # Between a revoke and the next assignment polls bring no records: nothing is
            # judged, settled or committed until the group has agreed who owns what.
            return
        if gained := self.ownership.take_gained():
            self.rebuild(gained)
            records = self.read_again_from_committed(records, gained)
        decoded = decode_access(self.check, (r for batch in records.values() for r in batch))
        alerts = []
        for event, position in zip(decoded.access_events, decoded.positions, strict=True):
            self.ownership.read(position[0].partition, event.event_time.timestamp())
            alerts += self.engine.on_access(event, position)
        self.ownership.quiet(self.read_to_end(), self.engine.table.latest_visible_at)
        alerts += self.engine.revise()  # late terminal news on open alerts
        rejects = self.dead_letters.due(decoded.rejects, self.sends_for)
        if (alerts or rejects) and not self.still_owner():
            self.rejoin()  # publishes nothing: whoever owns the partitions now does
            return
        self.publish(alerts, rejects)  # returns once the broker acknowledged all
        self.dead_letters.sent_now(rejects)
        self.commit(records)
        self.engine.settle()
        self.observe(records, decoded)
        self.checkpoint_if_due()

    def catch_up(self) -> None:
        if self.started:
            self.learn_news()
            return
        # What start-up reads (the container table, the alerts published) lives as long as
        # the process: read with the cyclic collector paused, then moved out of its way.
        with collector_paused():
            read = self.learn_news()
        log.info("start-up read: %s", ", ".join(f"{read[t.name]} {t.name}" for t in KNOWLEDGE))
        settle_after_start_up()
        self.started = True

    def learn_news(self) -> Counter[str]:
        """Learn what was published on the knowledge topics since the last call; how many
        records of each were read."""
        read: Counter[str] = Counter()
        for batch in read_through(self.knowledge, "terminal, alerts and dead letters"):
            for received, checked in zip(batch, self.checked(batch), strict=True):
                topic = received.topic.name
                self.metrics.events_consumed.labels(topic).inc()
                read[topic] += 1
                if isinstance(checked, RecordRejected):
                    # Every instance rejects it, on every restart; its dead letter's id derives
                    # from where the record is, and one instance sends it (see DeadLetters).
                    self.metrics.rejected.labels(topic).inc()
                    log.warning("%s rejected: %s", received.where, checked)
                    letter = received.dead_letter(DEAD_LETTER_SOURCE, str(checked))
                    self.dead_letters.wait(received.record.partition, letter)
                    continue
                self.learn[received.topic](checked)
            self.checkpoints.count(len(batch))
        return read

    def checked(self, batch: Sequence[Received[Any]]) -> list[Any]:
        """The message of each record read, or the RecordRejected saying why it is none: our
        own alerts by their bytes as sent, the others checked a topic at a time, with their
        signatures verified together."""
        messages: list[Any] = [self.sent.pop(received.record.value, None) for received in batch]
        unchecked: dict[Topic[Any], list[int]] = {}
        for index, received in enumerate(batch):
            if messages[index] is None:
                unchecked.setdefault(received.topic, []).append(index)
        for topic, indexes in unchecked.items():
            records = [batch[index].record for index in indexes]
            for index, checked in zip(indexes, self.check.messages(topic, records), strict=True):
                messages[index] = checked
        return messages

    def restore_checkpoint(self) -> dict[TopicPartition, int]:
        """The state as of the latest checkpoint, and where each topic it reflects is to be read
        on from; from their beginnings when there is none."""
        with collector_paused():  # what it restores lives as long as the process
            loaded = load_latest(self.kafka, self.check)
            if loaded is None:
                log.info("no checkpoint of the correlator's state: reading its topics whole")
                return {}
            loaded.restore(self.engine, self.dead_letters)
        offsets = loaded.offsets
        log.info(
            "state restored from checkpoint %s: %d containers, %d recent alerts, offsets %s",
            loaded.checkpoint_id,
            len(self.engine.table),
            len(self.engine.recent),
            offsets,
        )
        return {
            TopicPartition(self.kafka.topic(TOPIC_NAMED[name]), int(number)): offset
            for name, by_partition in offsets.items()
            for number, offset in by_partition.items()
        }

    def checkpoint_if_due(self) -> None:
        """The owner of access partition 0 checkpoints the state now and then; not while a
        rejected record waits for its dead letter, which a restart from the checkpoint would
        not read again."""
        if 0 not in self.ownership.owned or not self.checkpoints.due() or self.dead_letters.waiting:
            return
        offsets: dict[str, dict[int, int]] = {topic.name: {} for topic in KNOWLEDGE}
        for partition in self.knowledge.partitions:
            name = self.knowledge.topics[partition.topic].name
            offsets[name][partition.partition] = self.knowledge.consumer.position(partition)
        write_checkpoint(self.producer, self.engine, self.dead_letters, offsets)
        self.checkpoints.done()

    def rebuild(self, partitions: set[int]) -> None:
        """Episodes of access partitions another instance may have owned, built again from the
        latest revisions on the alerts topic (the catch-up just read it to its end) of their
        recent alerts; their access events after the committed offset follow in the next polls."""

        def gained(zone_id: str) -> bool:
            return self.ownership.partition_of(zone_id) in partitions

        # A start-up read goes through weeks of alerts before the first settle(): the finished
        # ones are not rebuilt (nor judged again) any more than after a checkpoint.
        self.engine.forget_finished_alerts()
        alerts = [alert for alert in self.engine.recent.latest.values() if gained(alert.zone_id)]
        zones = {zone for zone in self.engine.zone_ids() if gained(zone)}
        self.engine.rebuild(zones | {alert.zone_id for alert in alerts}, alerts)
        log.info("rebuilt %d alerts of access partitions %s", len(alerts), sorted(partitions))

    def read_again_from_committed(
        self, records: Mapping[TopicPartition, Sequence[ConsumerRecord]], gained: set[int]
    ) -> Mapping[TopicPartition, Sequence[ConsumerRecord]]:
        """Gained partitions are read again from their committed offsets, and what this poll
        brought of them is left: a partition kept through a generation this instance missed
        still has its old position, not where the owner in between left it."""
        for partition in self.access.assignment():
            if partition.partition in gained:
                committed = self.access.committed(partition)
                if committed is None:
                    self.access.seek_to_beginning(partition)
                else:
                    self.access.seek(partition, committed)
        return {p: batch for p, batch in records.items() if p.partition not in gained}

    def still_owner(self) -> bool:
        """Whether the group generation that gave this instance its partitions still stands."""
        generation = stable_generation(self.access)
        return generation is not None and generation == self.ownership.generation

    def rejoin(self) -> None:
        """Join the group again as a new member: what it is given then is rebuilt from the
        recent alerts and read again from the committed offsets, like a restart's."""
        self.ownership.distrust()
        self.access.close(autocommit=False)
        self.access = self.subscribed()

    def subscribed(self) -> KafkaConsumer:
        access = consumer(self.kafka, self.group_id)
        self.ownership.consumer = access
        access.subscribe([self.kafka.topic(ACCESS)], listener=self.ownership)
        return access

    def sends_for(self, record_partition: int) -> bool:
        """Whether this instance sends the dead letters of records on partitions so numbered."""
        count = self.ownership.partition_count
        return bool(count) and record_partition % count in self.ownership.owned

    def read_to_end(self) -> list[int]:
        """The owned access partitions whose records have all been read, as far as their
        latest fetches know."""
        return [partition for partition, behind in lag(self.access).items() if behind == 0]

    def publish(self, alerts: Sequence[Alert], rejects: Sequence[DeadLetter]) -> None:
        """Send a poll's worth, flush once, and return only when the broker acknowledged every
        record: the caller commits the access offsets after this, never before."""
        outgoing = []
        for alert in alerts:
            stamped = alert.stamped()
            body = stamped.to_bytes()
            outgoing.append(Outgoing(ALERTS, stamped, body))
            self.sent[body] = stamped
        outgoing += [Outgoing(DEAD_LETTER, reject) for reject in rejects]
        futures = self.producer.send_all(outgoing)
        self.producer.flush()
        for future in futures:
            future.get(timeout=30)
        published_at = time.time()
        for alert in alerts:
            self.metrics.alerts.labels(alert.severity.value).inc()
            self.metrics.latency.observe(max(0.0, published_at - alert.as_of.timestamp()))
            if alert.revision > 1:
                self.metrics.revisions.inc()

    def commit(self, records: Mapping[TopicPartition, Sequence[ConsumerRecord]]) -> None:
        if not records:
            return
        held: dict[TopicPartition, int] = {}
        for partition, offset in self.engine.held_positions():
            held[partition] = min(offset, held.get(partition, offset))
        offsets = {
            partition: OffsetAndMetadata(
                min(self.access.position(partition), held.get(partition, 1 << 62)), "", -1
            )
            for partition in self.access.assignment()
        }
        try:
            self.access.commit(offsets)
        except CommitFailedError as error:
            # A rebalance took the partitions away; their next owner redoes the records and
            # finds our alerts on the alerts topic, so none is sent twice in a different form.
            log.warning("commit refused after a rebalance: %s", error)

    def observe(self, records: Mapping[TopicPartition, Sequence[ConsumerRecord]], decoded) -> None:
        self.metrics.events_consumed.labels(ACCESS.name).inc(sum(len(r) for r in records.values()))
        self.metrics.rejected.labels(ACCESS.name).inc(len(decoded.rejects))
        for partition, behind in lag(self.access).items():
            self.metrics.consumer_lag.labels(str(partition)).set(behind)
        self.metrics.containers.set(len(self.engine.table))
        self.metrics.open_alerts.set(len(self.engine.open_episodes))

    def close(self) -> None:
        self.access.close()
        self.knowledge.close()
        self.producer.close()


def decode_access(check: RecordCheck, records: Iterable[ConsumerRecord]) -> Decoded:
    """Access events that pass the check, in record order; the others become dead letters."""
    decoded = Decoded()
    records = list(records)
    for record, checked in zip(records, check.messages(ACCESS, records), strict=True):
        if isinstance(checked, ValueError):
            received = Received(ACCESS, record, check)
            decoded.rejects.append(received.dead_letter(DEAD_LETTER_SOURCE, str(checked)))
            continue
        decoded.access_events.append(checked)
        decoded.positions.append((TopicPartition(record.topic, record.partition), record.offset))
    return decoded
