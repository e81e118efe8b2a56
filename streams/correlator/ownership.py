"""Which access partitions this correlator owns, and how far in event time each has been read.

The consumer group shares the `access` partitions out; an episode belongs to the partition its
zone's access events are keyed to. Only the owner of that partition publishes the episode's
revisions: the others learn them from the alerts topic, so no two instances ever publish their
own versions of one (alert id, revision).

The owner judges an episode only up to the moment its partition has been read to (the event
time of the latest access event read from it): the access events of a partition come in
event-time order, so by then every access event of the zone up to that moment is known, and
the terminal news visible by then (stamped when ingested) is on the terminal topic already.
Every instance, a restart or a replay then judges each moment from the same inputs, however
the records were cut into polls. A partition read to its end at `QUIET_POLLS` polls in a row
and quiet for `correlation.quiet_partition_seconds` is judged up to the terminal news known
before those polls instead: a zone where nobody walks must not hold the revisions of its last
alert back, and an access event sent before that news has had those polls to be fetched (the
high-water mark one fetch brings back can be older than the records just written).

An instance that fell out of the group (its heartbeats stopped for longer than the session
timeout: a stalled machine, a long pause) has lost its partitions to the others, who may have
published revisions meanwhile: whatever the group gives it next is rebuilt, even the partitions
it had before. The loop asks `distrust` for the same when it finds its membership in doubt
before publishing.

A rebalance is told in two calls, and the client's polls return between them: the revoke, as
the instance rejoins, and the assignment once the group has agreed, often several polls later.
Meanwhile `rebalancing` is true and the loop decides nothing: judged as another instance's
then, an episode of a partition the instance keeps would settle without its last revisions.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from functools import lru_cache

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition

from streams.chain import partition_for

log = logging.getLogger(__name__)

QUIET_POLLS = 3


class Ownership(ConsumerRebalanceListener):
    """The access partitions this instance owns, told by the consumer group's rebalances."""

    def __init__(self, quiet_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet_seconds = quiet_seconds
        self.clock = clock
        self.partition_count = 0  # of the access topic, known once partitions are assigned
        self.owned: set[int] = set()
        # Partitions assigned since the last `take_gained`, that another instance may have
        # owned meanwhile: their episodes must be rebuilt before their records are correlated.
        # The first assignment too: until then every episode was another instance's, learnt
        # and settled as that instance's, while it may still have been judging them.
        self.gained: set[int] = set()
        self._before_revoke: set[int] = set()
        self._read_up_to: dict[int, float] = {}
        self._last_record: dict[int, float] = {}
        self._news: deque[tuple[float, float]] = deque()  # per poll: when, latest news then
        self._at_end: dict[int, int] = {}  # polls in a row a partition was read to its end
        self.consumer: KafkaConsumer | None = None
        self.generation: int | None = None  # of the group, as of the latest assignment
        self.rebalancing = False  # revoked or lost, and not assigned again yet

    # -- the consumer group's calls -------------------------------------------------------------

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.rebalancing = True
        self._before_revoke = set(self.owned)
        self.owned -= {partition.partition for partition in revoked}

    def on_partitions_lost(self, lost: Iterable[TopicPartition]) -> None:
        """Out of the group: another instance had these partitions since, so none of them is
        kept through to the next assignment (unlike a revoke, which hands them over only in
        the next generation, maybe to this instance again)."""
        log.warning("lost access partitions %s: out of the consumer group", sorted(self.owned))
        self.rebalancing = True
        self.owned -= {partition.partition for partition in lost}
        self._before_revoke = set(self.owned)

    def assigned_in(self, generation: int | None) -> None:
        """The group's generation of this assignment: one after a generation this instance
        was not part of (it did not rejoin in time, and the client took that for a revoke)
        keeps nothing, as after a fall out of the group."""
        before, self.generation = self.generation, generation
        if before is not None and generation is not None and generation != before + 1:
            log.warning(
                "generation %d after %d: the partitions kept are rebuilt", generation, before
            )
            self.owned, self._before_revoke = set(), set()

    def distrust(self) -> None:
        """Own nothing until the next assignment, and rebuild all of it then."""
        log.warning("membership of the consumer group in doubt: owning nothing until it rejoins")
        self._keep_nothing()

    def _keep_nothing(self) -> None:
        """Nothing owned now is kept through to the next assignment: all of it is rebuilt."""
        self.owned, self._before_revoke = set(), set()

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        numbers = {partition.partition for partition in assigned}
        self.rebalancing = False
        if self.consumer is not None:
            self.assigned_in(self.consumer.group_metadata().generation_id)
            if names := {p.topic for p in assigned}:
                self.partition_count = len(self.consumer.partitions_for_topic(names.pop()) or ())
        new = numbers - self._before_revoke - self.owned
        self.gained |= new
        for number in new:
            self._read_up_to[number] = float("-inf")
            self._last_record[number] = self.clock()
            self._at_end[number] = 0
        self.owned |= numbers
        log.info("owning access partitions %s (new: %s)", sorted(self.owned), sorted(new))

    # -- what the loop asks -------------------------------------------------------------------

    def partition_of(self, zone_id: str) -> int:
        return _partition_of(zone_id, self.partition_count) if self.partition_count else -1

    def take_gained(self) -> set[int]:
        gained, self.gained = self.gained, set()
        return gained

    def read(self, partition: int, event_time: float) -> None:
        """An access event of `partition` read: the partition is known up to its time."""
        self._read_up_to[partition] = max(self._read_up_to.get(partition, event_time), event_time)
        self._last_record[partition] = self.clock()

    def quiet(self, read_to_end: Collection[int], latest_news: float) -> None:
        """Partitions read to their end and quiet long enough are judged up to the news known
        `quiet_seconds` ago."""
        now = self.clock()
        self._news.append((now, latest_news))
        for number in self.owned:
            self._at_end[number] = self._at_end.get(number, 0) + 1 if number in read_to_end else 0
        # The oldest sample kept is the latest one at least QUIET_POLLS polls and
        # quiet_seconds old (once there is one).
        while len(self._news) > QUIET_POLLS + 1 and now - self._news[1][0] >= self.quiet_seconds:
            self._news.popleft()
        when, settled_news = self._news[0]
        if len(self._news) <= QUIET_POLLS or now - when < self.quiet_seconds:
            return
        for number in read_to_end:
            quiet_for = now - self._last_record[number]
            if self._at_end[number] >= QUIET_POLLS and quiet_for >= self.quiet_seconds:
                self._read_up_to[number] = max(self._read_up_to[number], settled_news)

    def judged_up_to(self, zone_id: str) -> float | None:
        """How far the zone's episodes may be judged; None where another instance owns them."""
        number = self.partition_of(zone_id)
        if number not in self.owned:
            return None
        return self._read_up_to.get(number, float("-inf"))


@lru_cache(maxsize=4096)  # asked for every episode judged; a site has a few hundred zones
def _partition_of(zone_id: str, partition_count: int) -> int:
    return partition_for(zone_id.encode(), partition_count)
