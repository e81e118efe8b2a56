"""The container table: each container's history of actual events, and its state as of any time.

Times are epoch seconds (floats) inside the table: 100k containers with a few events each
must fit comfortably in memory, and comparisons are the hot path of every join.

A fact counts from its `visible_at`, the later of when it happened and when the terminal
recorded it: a discharge at 09:00 that the feed reported at 10:00 was not known at 09:30.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from streams.terminal.events import Classifier, ContainerActivity, ContainerEvent


class ContainerFact(NamedTuple):
    """One actual container event, as the table keeps it (sorted by event time)."""

    event_time: float
    visible_at: float
    event_id: str
    activity: ContainerActivity
    yard_block: str | None
    yard_position: str | None


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
        times = [t for t in (self.selected_for_scan_at, self.selected_for_inspection_at) if t]
        return min(times) if times else None


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


class ContainerTable:
    """Every container's actual events, indexed by the yard blocks they have stood in."""

    def __init__(self) -> None:
        self._histories: dict[str, list[ContainerFact]] = {}
        self._event_ids: set[str] = set()
        self._by_block: dict[str, set[str]] = {}
        self.latest_visible_at: float = float("-inf")

    def __len__(self) -> int:
        return len(self._histories)

    def add(self, event: ContainerEvent) -> ContainerFact | None:
        """Record an event; planned, estimated and already-seen events change nothing."""
        if event.classifier is not Classifier.actual or event.event_id in self._event_ids:
            return None
        event_time = event.event_time.timestamp()
        fact = ContainerFact(
            event_time=event_time,
            visible_at=max(event_time, event.recorded_at.timestamp()),
            event_id=event.event_id,
            activity=event.activity,
            yard_block=event.yard_block,
            yard_position=event.yard_position,
        )
        self._event_ids.add(event.event_id)
        insort(self._histories.setdefault(event.container_number, []), fact)
        if fact.yard_block is not None:
            self._by_block.setdefault(fact.yard_block, set()).add(event.container_number)
        self.latest_visible_at = max(self.latest_visible_at, fact.visible_at)
        return fact

    def blocks_of(self, container_number: str) -> set[str]:
        return {f.yard_block for f in self._histories.get(container_number, ()) if f.yard_block}

    def state_as_of(self, container_number: str, moment: float) -> ContainerState:
        state = ContainerState(container_number)
        for fact in self._histories.get(container_number, ()):
            if fact.event_time > moment:
                break
            if fact.visible_at <= moment:
                apply(state, fact)
        return state

    def containers_in(self, yard_blocks: Iterable[str], moment: float) -> list[ContainerState]:
        """Containers standing in any of the blocks as known at `moment`, by container number."""
        blocks = set(yard_blocks)
        candidates = set().union(*(self._by_block.get(block, set()) for block in blocks))
        states = (self.state_as_of(number, moment) for number in sorted(candidates))
        return [s for s in states if s.in_terminal and s.yard_block in blocks]

    def change_points(self, yard_blocks: Iterable[str], after: float, until: float) -> list[float]:
        """Distinct times in (after, until] when news about containers in the blocks appeared."""
        blocks = set(yard_blocks)
        candidates = set().union(*(self._by_block.get(block, set()) for block in blocks))
        return sorted(
            {
                fact.visible_at
                for number in candidates
                for fact in self._histories[number]
                if after < fact.visible_at <= until
            }
        )
