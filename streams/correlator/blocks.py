"""Yard blocks as of a moment, kept up to date as the moment moves instead of refolded.

A container's state depends only on which of its facts are visible, and its condition only
on that state and on whether its discharge is still fresh. Between two moments, then, only
containers with news or with a fresh-unload window ending in between can look different:
each block keeps the containers standing in it at its last moment, sorted by condition and
container number, and re-folds just those few when asked about another moment. Questions
come mostly forward in time and close together (access events and their grace periods), so
a move touches a handful of the hundreds of containers a block holds.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Iterable
from itertools import islice, repeat

from config.correlation import Correlation
from streams.alerts import ContainerCondition
from streams.correlator.classify import (
    CONDITION_RANK,
    MAX_LISTED_CONTAINERS,
    QUOTED_CONTAINERS,
    AssessedContainer,
    ZonePicture,
    assess,
)
from streams.correlator.table import ContainerTable

# A fresh-unload window ends at discharged_at + window; the condition compares
# `moment - discharged_at <= window`, which rounds differently within a few ulps of that
# sum (ulps of epoch seconds are ~1e-7 s), so windows ending this close to a move count as
# ending inside it. Looking again at a container too many is harmless; one too few is not.
WINDOW_END_MARGIN_S = 1e-3


class BlockSnapshot:
    """The containers standing in one yard block at `moment`, by condition."""

    __slots__ = ("yard_block", "moment", "containers", "by_condition", "stale")

    def __init__(self, yard_block: str) -> None:
        self.yard_block = yard_block
        self.moment: float | None = None
        self.containers: dict[str, AssessedContainer] = {}  # by container number
        self.by_condition: dict[ContainerCondition, list[str]] = {c: [] for c in CONDITION_RANK}
        self.stale: set[str] = set()  # containers with facts recorded since the last move

    def place(self, number: str, assessed: AssessedContainer | None) -> None:
        """Put the container under its condition, or take it out of the block (None)."""
        before = self.containers.get(number)
        if assessed is not None and assessed == before:
            return  # the same state: `before` keeps the description it may have built
        moved = assessed is None or before is None or assessed.condition is not before.condition
        if before is not None and moved:
            numbers = self.by_condition[before.condition]
            del numbers[bisect_left(numbers, number)]
        if assessed is None:
            self.containers.pop(number, None)
            return
        if moved:
            insort(self.by_condition[assessed.condition], number)
        self.containers[number] = assessed


class YardBlockView:
    """Zone pictures from per-block snapshots, moved between moments incrementally."""

    def __init__(self, table: ContainerTable, correlation: Correlation) -> None:
        self.table = table
        self.correlation = correlation
        self.fresh_seconds = correlation.fresh_unload_minutes * 60
        self._snapshots: dict[str, BlockSnapshot] = {}
        table.listen(self._recorded)

    def picture(self, yard_blocks: Iterable[str], moment: float) -> ZonePicture:
        """The containers standing in any of the blocks as known at `moment`."""
        snapshots = [self.snapshot(block, moment) for block in sorted(set(yard_blocks))]
        first: dict[ContainerCondition, list[AssessedContainer]] = {}
        counts: dict[ContainerCondition, int] = {}
        unlisted = MAX_LISTED_CONTAINERS  # places left in the alert's list, by rank
        for condition in CONDITION_RANK:
            lists = [(s.by_condition[condition], s.containers) for s in snapshots]
            count = sum(len(numbers) for numbers, _ in lists)
            if count:
                # A verdict reads the first few of a condition and lists the first by rank.
                first[condition] = _first_assessed(lists, max(unlisted, QUOTED_CONTAINERS))
                counts[condition] = count
                unlisted = max(0, unlisted - count)
        return ZonePicture(first, counts)

    def snapshot(self, yard_block: str, moment: float) -> BlockSnapshot:
        snapshot = self._snapshots.get(yard_block)
        if snapshot is None:
            snapshot = self._snapshots[yard_block] = BlockSnapshot(yard_block)
            changed: Iterable[str] = sorted(self.table.members(yard_block))
        elif snapshot.moment == moment and not snapshot.stale:
            return snapshot
        else:
            changed, windows_ending = self._changed(snapshot, moment)
            # No news in between: the same state, only the fresh-unload window has moved on.
            for number in windows_ending - changed:
                before = snapshot.containers.get(number)
                if before is not None:
                    snapshot.place(number, assess(before.state, moment, self.correlation))
        snapshot.stale = set()
        snapshot.moment = moment
        for number in changed:
            snapshot.place(number, self._assess(number, yard_block, moment))
        return snapshot

    def _changed(self, snapshot: BlockSnapshot, moment: float) -> tuple[set[str], set[str]]:
        """Containers whose state may differ at `moment` from the snapshot's moment (news
        visible in between, or recorded since), and those whose fresh-unload window ends in
        between."""
        assert snapshot.moment is not None
        low, high = sorted((snapshot.moment, moment))
        block = snapshot.yard_block
        changed = set(snapshot.stale)
        changed.update(self.table.news(block).between(low, high))
        windows_ending = set(
            self.table.discharges(block).around(
                low - self.fresh_seconds - WINDOW_END_MARGIN_S,
                high - self.fresh_seconds + WINDOW_END_MARGIN_S,
            )
        )
        return changed, windows_ending

    def _assess(self, number: str, yard_block: str, moment: float) -> AssessedContainer | None:
        state = self.table.state_as_of(number, moment)
        if not state.in_terminal or state.yard_block != yard_block:
            return None
        return assess(state, moment, self.correlation)

    def _recorded(self, number: str, yard_blocks: Iterable[str]) -> None:
        # A fact visible before a snapshot's moment changes what it should show.
        for block in yard_blocks:
            snapshot = self._snapshots.get(block)
            if snapshot is not None:
                snapshot.stale.add(number)


def _first_assessed(
    lists: list[tuple[list[str], dict[str, AssessedContainer]]], most: int
) -> list[AssessedContainer]:
    """The first `most` containers by number over blocks' sorted number lists."""
    if len(lists) == 1:
        numbers, containers = lists[0]
        return [containers[n] for n in numbers[:most]]
    # A container stands in one block at a time, so the lists are disjoint.
    merged = heapq.merge(*(zip(numbers, repeat(containers)) for numbers, containers in lists))
    return [containers[n] for n, containers in islice(merged, most)]
