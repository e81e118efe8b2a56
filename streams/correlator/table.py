"""The container table: each container's history of actual events, and its state as of any time.

Times are epoch seconds (floats) inside the table: 100k containers with a few events each
must fit comfortably in memory, and comparisons are the hot path of every join.

A fact counts from its `visible_at`, the later of when it happened and when quaywatch ingested
it (`ContainerEvent.known_from`): a discharge at 09:00 that the feed reported at 10:00 was not
known at 09:30.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

from sortedcontainers import SortedKeyList

from streams.terminal.events import Classifier, ContainerActivity, ContainerEvent


class ContainerFact(NamedTuple):
    """One actual container event, as the table keeps it (sorted by event time)."""

    event_time: float
    visible_at: float
    event_id: str
    activity: ContainerActivity
    yard_block: str | None
    yard_position: str | None
    container_number: str  # last: a history's order is by time, then the rest


@dataclass(slots=True)
class ContainerState:
    """A container as of one moment; None means it has not happened (this visit)."""

    container_number: str
    in_terminal: bool = False
    yard_block: str | None = None
    yard_position: str | None = None
    discharged_at: float | None = None
    selected_for_scan_at: float | None = None
    selected_for_inspection_at: float | None = None
    inspection_started_at: float | None = None
    inspection_finished_at: float | None = None
    released_at: float | None = None
    left_at: float | None = None

    def start_visit(self) -> None:
        # A new visit: what customs decided on an earlier visit no longer holds.
        self.in_terminal = True
        self.discharged_at = self.left_at = None
        self.selected_for_scan_at = self.selected_for_inspection_at = None
        self.inspection_started_at = self.inspection_finished_at = self.released_at = None

    @property
    def selected_at(self) -> float | None:
        # The earlier selection, either when only one was made (read for every assessment).
        scan, inspection = self.selected_for_scan_at, self.selected_for_inspection_at
        if scan and inspection:
            return min(scan, inspection)
        return scan or inspection or None


ARRIVALS = {ContainerActivity.discharged, ContainerActivity.gated_in}
DEPARTURES = {ContainerActivity.loaded, ContainerActivity.gated_out}


def apply(state: ContainerState, fact: ContainerFact) -> None:
    """Move `state` on by one fact; facts must come in event-time order."""
    activity, moment = fact.activity, fact.event_time
    if activity in ARRIVALS:
        state.start_visit()
        if activity is ContainerActivity.discharged:
            state.discharged_at = moment
    elif activity in DEPARTURES:
        state.in_terminal = False
        state.left_at = moment
    elif activity is ContainerActivity.dropped_off:
        state.in_terminal = True
    elif activity in (
        ContainerActivity.selected_for_scan,
        ContainerActivity.selected_for_inspection,
    ):
        # A new selection (an additional inspection) opens a new customs window.
        if activity is ContainerActivity.selected_for_scan:
            state.selected_for_scan_at = moment
        else:
            state.selected_for_inspection_at = moment
        state.inspection_started_at = state.inspection_finished_at = state.released_at = None
    elif activity in (ContainerActivity.seal_removed, ContainerActivity.seal_inspected):
        if state.inspection_started_at is None or state.inspection_finished_at is not None:
            state.inspection_started_at = moment
            state.inspection_finished_at = None
    elif activity is ContainerActivity.resealed:
        state.inspection_finished_at = moment
    elif activity is ContainerActivity.released:
        state.released_at = moment
    if fact.yard_block is not None or fact.yard_position is not None:
        state.yard_block, state.yard_position = fact.yard_block, fact.yard_position


class TimeIndex:
    """Facts sorted by one of their times: which containers have news in a window.

    Facts come mostly in time order (news by the moment it became visible), some late (a
    discharge reported hours after it happened, a container's history brought into a block it
    moved to). The in-order ones are appended to a run that stays sorted; the late ones go to a
    sorted list of sublists, where an insert is logarithmic and not a move of every later
    entry. A window is looked up in both; callers take the numbers as a set. Entries are the
    table's own fact tuples, so an entry costs a reference or two.
    """

    __slots__ = ("time_of", "run", "run_times", "late")

    def __init__(self, time_of: Callable[[ContainerFact], float]) -> None:
        self.time_of = time_of
        self.run: list[ContainerFact] = []
        self.run_times: list[float] = []
        self.late: SortedKeyList = SortedKeyList(key=time_of)

    def add(self, fact: ContainerFact) -> None:
        moment = self.time_of(fact)
        if not self.run_times or moment >= self.run_times[-1]:
            self.run.append(fact)
            self.run_times.append(moment)
        else:
            self.late.add(fact)

    def _window(self, low: float, high: float, low_included: bool) -> Iterator[ContainerFact]:
        first = (bisect_left if low_included else bisect_right)(self.run_times, low)
        yield from self.run[first : bisect_right(self.run_times, high)]
        if self.late:
            yield from self.late.irange_key(low, high, inclusive=(low_included, True))

    def between(self, after: float, until: float) -> Iterator[str]:
        """Numbers with a time in (after, until]."""
        return (fact.container_number for fact in self._window(after, until, False))

    def times_between(self, after: float, until: float) -> list[float]:
        time_of = self.time_of
        return [time_of(fact) for fact in self._window(after, until, False)]

    def around(self, low: float, high: float) -> Iterator[str]:
        """Numbers with a time in [low, high]."""
        return (fact.container_number for fact in self._window(low, high, True))

    def drop(self, numbers: set[str]) -> None:
        """Forget the facts of these containers (a pass over the index: done in batches)."""
        kept = [fact for fact in self.run if fact.container_number not in numbers]
        self.run, self.run_times = kept, [self.time_of(fact) for fact in kept]
        late = [fact for fact in self.late if fact.container_number not in numbers]
        self.late = SortedKeyList(late, key=self.time_of)


VISIBLE_AT = itemgetter(1)
EVENT_TIME = itemgetter(0)


class ContainerTable:
    """Every container's actual events, indexed by the yard blocks they have stood in.

    Per yard block the table also keeps, sorted by time, when news about each container that
    ever stood there became visible, and when each of its discharges happened: a question
    about a block at another moment then only has to look again at the containers with
    something in between, not at the hundreds that stand there idle.
    """

    def __init__(self) -> None:
        self._histories: dict[str, list[ContainerFact]] = {}
        self._by_block: dict[str, set[str]] = {}
        self._news: dict[str, TimeIndex] = {}  # block -> visible_at of its containers' facts
        self._discharges: dict[str, TimeIndex] = {}  # block -> event_time of discharges
        self._listeners: list[Callable[[str, set[str]], None]] = []
        self.latest_visible_at: float = float("-inf")
        # (visible_at, number) of every departure recorded, earliest first: who may be
        # forgotten once the news has moved far enough past it.
        self._departures: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._histories)

    def listen(self, listener: Callable[[str, set[str]], None]) -> None:
        """Call `listener(container_number, its yard blocks)` after every fact recorded."""
        self._listeners.append(listener)

    def add(self, event: ContainerEvent) -> ContainerFact | None:
        """Record an event; planned, estimated and already-seen events change nothing."""
        if event.classifier is not Classifier.actual or self._knows(event):
            return None
        event_time = event.event_time.timestamp()
        fact = ContainerFact(
            event_time=event_time,
            visible_at=max(event_time, event.known_from.timestamp()),  # one float when equal
            event_id=event.event_id,
            activity=event.activity,
            yard_block=event.yard_block,
            yard_position=event.yard_position,
            container_number=event.container_number,
        )
        self._record(fact)
        return fact

    def restore(self, facts: Iterable[ContainerFact], latest_visible_at: float) -> None:
        """Take in a checkpoint's facts (streams.correlator.checkpoint), in any order."""
        for fact in sorted(facts, key=VISIBLE_AT):  # so the block indexes stay sorted runs
            history = self._histories.get(fact.container_number, ())
            if all(known.event_id != fact.event_id for known in history):
                self._record(fact)
        self.latest_visible_at = max(self.latest_visible_at, latest_visible_at)

    def _knows(self, event: ContainerEvent) -> bool:
        """Whether the event was recorded already: an event is about its own container, so
        its few facts are all there is to look at (a set of every event id would cost more
        than the facts themselves)."""
        history = self._histories.get(event.container_number, ())
        return any(fact.event_id == event.event_id for fact in history)

    def histories(self) -> Iterator[tuple[str, list[ContainerFact]]]:
        """Every remembered container's facts, in event-time order."""
        return iter(self._histories.items())

    def _record(self, fact: ContainerFact) -> None:
        number = fact.container_number
        history = self._histories.setdefault(number, [])
        if not history or history[-1] <= fact:
            history.append(fact)
        else:
            insort(history, fact)  # a container's own few facts, rarely out of order
        blocks = self.blocks_of(number)
        for block in blocks:
            members = self._by_block.setdefault(block, set())
            # A container new to a block brings its whole history into the block's index.
            for known in (fact,) if number in members else history:
                self._index(block, known)
            members.add(number)
        self.latest_visible_at = max(self.latest_visible_at, fact.visible_at)
        if fact.activity in DEPARTURES:
            heapq.heappush(self._departures, (fact.visible_at, number))
        for listener in self._listeners:
            listener(number, blocks)

    def forget_departed(self, before: float, batch_seconds: float = 3600.0) -> int:
        """Forget the containers whose last fact is a departure, with everything about them
        visible before `before`; returns how many. Their facts leave the block indexes in one
        pass per block, so this waits until the earliest is `batch_seconds` overdue."""
        departures = self._departures
        if not departures or departures[0][0] >= before - batch_seconds:
            return 0
        gone: dict[str, set[str]] = {}
        while departures and departures[0][0] < before:
            _, number = heapq.heappop(departures)
            history = self._histories.get(number)
            # Back for another visit, or news visible since: it stays (a later departure
            # has its own entry).
            if not history or history[-1].activity not in DEPARTURES:
                continue
            if (latest := max(fact.visible_at for fact in history)) >= before:
                heapq.heappush(departures, (latest, number))  # looked at again after it
                continue
            gone[number] = self.blocks_of(number)
            del self._histories[number]
        numbers = set(gone)
        for block in set().union(*gone.values()):
            self._by_block[block] -= numbers
            for index in (self._news.get(block), self._discharges.get(block)):
                if index is not None:
                    index.drop(numbers)
        for number, blocks in gone.items():
            for listener in self._listeners:
                listener(number, blocks)  # a snapshot still showing it looks again
        return len(gone)

    def _index(self, block: str, fact: ContainerFact) -> None:
        _index_of(self._news, block, VISIBLE_AT).add(fact)
        if fact.activity is ContainerActivity.discharged:
            _index_of(self._discharges, block, EVENT_TIME).add(fact)

    def blocks_of(self, container_number: str) -> set[str]:
        return {f.yard_block for f in self._histories.get(container_number, ()) if f.yard_block}

    def members(self, yard_block: str) -> set[str]:
        """Every container that has ever stood in the block."""
        return self._by_block.get(yard_block, set())

    def news(self, yard_block: str) -> TimeIndex:
        return self._news.get(yard_block, _NO_NEWS)

    def discharges(self, yard_block: str) -> TimeIndex:
        return self._discharges.get(yard_block, _NO_NEWS)

    def state_as_of(self, container_number: str, moment: float) -> ContainerState:
        state = ContainerState(container_number)
        for fact in self._histories.get(container_number, ()):
            if fact.event_time > moment:
                break
            if fact.visible_at <= moment:
                apply(state, fact)
        return state

    def containers_in(self, yard_blocks: Iterable[str], moment: float) -> list[ContainerState]:
        """Containers standing in any of the blocks as known at `moment`, by container number.

        The plain fold over every candidate: the reference the block views are tested against.
        """
        blocks = set(yard_blocks)
        candidates = set().union(*(self._by_block.get(block, set()) for block in blocks))
        states = (self.state_as_of(number, moment) for number in sorted(candidates))
        return [s for s in states if s.in_terminal and s.yard_block in blocks]

    def change_points(self, yard_blocks: Iterable[str], after: float, until: float) -> list[float]:
        """Distinct times in (after, until] when news about containers in the blocks appeared."""
        return sorted(
            {
                moment
                for block in set(yard_blocks)
                for moment in self.news(block).times_between(after, until)
            }
        )


_NO_NEWS = TimeIndex(VISIBLE_AT)  # what a block without facts answers; never added to


def _index_of(
    indexes: dict[str, TimeIndex], block: str, time_of: Callable[[ContainerFact], float]
) -> TimeIndex:
    index = indexes.get(block)
    if index is None:
        index = indexes[block] = TimeIndex(time_of)
    return index
