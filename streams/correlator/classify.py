"""Classification: how worrying a person in a zone is, given the containers around them.

- critical: a container selected by customs, in the yard, not yet inspected nor released;
- suppressed: an inspection in progress at a container in the zone (customs are there). In an
  inspection bay block it outranks waiting selected containers, which are brought there and
  guarded; elsewhere a selected container waiting next to it still makes the alert critical;
- high: a container discharged within the fresh-unload window and not released;
- medium: a restricted zone with no container at risk (none, released, or long in the yard).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from itertools import islice

from config.clock import site_time
from config.correlation import Correlation
from streams.alerts import ContainerAtAlert, ContainerCondition, Severity
from streams.correlator.table import ContainerState

MAX_LISTED_CONTAINERS = 25
QUOTED_CONTAINERS = 3  # a reason names this many containers of a condition, then "and N more"

# Most worrying first: it orders the containers an alert lists.
CONDITION_RANK = {
    ContainerCondition.selected_not_inspected: 0,
    ContainerCondition.under_inspection: 1,
    ContainerCondition.freshly_discharged: 2,
    ContainerCondition.inspected_not_released: 3,
    ContainerCondition.released: 4,
    ContainerCondition.in_yard: 5,
}


@dataclass(frozen=True, slots=True)
class AssessedContainer:
    """A container's state as of one moment, and the condition it is in then.

    The yard block views keep one per container until its state or condition changes, so its
    description, built the first time an alert lists it, serves every later alert too.
    """

    condition: ContainerCondition
    state: ContainerState
    _description: ContainerAtAlert | None = field(
        default=None, init=False, compare=False, repr=False
    )

    @property
    def description(self) -> ContainerAtAlert:
        if self._description is None:
            object.__setattr__(self, "_description", _described(self.condition, self.state))
        assert self._description is not None
        return self._description


@dataclass(frozen=True)
class Verdict:
    severity: Severity
    reason: str
    listed: tuple[AssessedContainer, ...]
    containers_in_zone: int

    @property
    def containers(self) -> tuple[ContainerAtAlert, ...]:
        # Built only for verdicts that are published: most points re-judged change nothing.
        return tuple(assessed.description for assessed in self.listed)


def assess(state: ContainerState, moment: float, correlation: Correlation) -> AssessedContainer:
    return AssessedContainer(condition_of(state, moment, correlation), state)


def condition_of(
    state: ContainerState, moment: float, correlation: Correlation
) -> ContainerCondition:
    selected = state.selected_at is not None and state.released_at is None
    if selected and state.inspection_started_at is None:
        return ContainerCondition.selected_not_inspected
    if selected and state.inspection_finished_at is None:
        return ContainerCondition.under_inspection
    if state.released_at is not None:
        return ContainerCondition.released
    fresh_seconds = correlation.fresh_unload_minutes * 60
    if state.discharged_at is not None and moment - state.discharged_at <= fresh_seconds:
        return ContainerCondition.freshly_discharged
    if selected:
        return ContainerCondition.inspected_not_released
    return ContainerCondition.in_yard


@dataclass(frozen=True)
class ZonePicture:
    """The containers in a zone's yard blocks at one moment, as far as a verdict looks at them:
    per condition the first few by container number, and how many there are."""

    first: Mapping[ContainerCondition, Sequence[AssessedContainer]]
    counts: Mapping[ContainerCondition, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @classmethod
    def of(
        cls, containers: Iterable[ContainerState], moment: float, correlation: Correlation
    ) -> ZonePicture:
        """The picture of every container given: the plain way, one condition at a time."""
        grouped: dict[ContainerCondition, list[AssessedContainer]] = {}
        for state in containers:
            assessed = assess(state, moment, correlation)
            grouped.setdefault(assessed.condition, []).append(assessed)
        for group in grouped.values():
            group.sort(key=lambda assessed: assessed.state.container_number)
        return cls(
            first={c: group[:MAX_LISTED_CONTAINERS] for c, group in grouped.items()},
            counts={c: len(group) for c, group in grouped.items()},
        )


def classify(
    zone_id: str,
    yard_blocks: Sequence[str],
    containers: Sequence[ContainerState],
    moment: float,
    correlation: Correlation,
    zone: tzinfo = UTC,
) -> Verdict:
    """The verdict for a person in `zone_id` at `moment`, next to `containers` as of then."""
    picture = ZonePicture.of(containers, moment, correlation)
    return judge(zone_id, yard_blocks, picture, correlation, zone)


def judge(
    zone_id: str,
    yard_blocks: Sequence[str],
    picture: ZonePicture,
    correlation: Correlation,
    zone: tzinfo = UTC,
) -> Verdict:
    """The verdict for a person in `zone_id`, next to the containers `picture` shows; the
    reason quotes times in the site's `zone`."""

    def group(condition: ContainerCondition) -> tuple[Sequence[AssessedContainer], int]:
        return picture.first.get(condition, ()), picture.counts.get(condition, 0)

    waiting, waiting_count = group(ContainerCondition.selected_not_inspected)
    inspecting, inspecting_count = group(ContainerCondition.under_inspection)
    fresh, fresh_count = group(ContainerCondition.freshly_discharged)
    in_bay = bool(set(yard_blocks) & set(correlation.inspection_bay_blocks))
    total = picture.total
    where = f"person in zone {zone_id}"
    if inspecting and (in_bay or not waiting):
        severity = Severity.suppressed
        reason = (
            f"{where} during the customs inspection of {_numbers(inspecting, inspecting_count)} "
            f"(started {_clock(inspecting[0].state.inspection_started_at, zone)}): "
            "expected presence"
        )
    elif waiting:
        severity = Severity.critical
        reason = (
            f"{where} next to {_numbers(waiting, waiting_count)}, selected by customs "
            f"{_clock(waiting[0].state.selected_at, zone)} and not yet inspected"
        )
    elif fresh:
        severity = Severity.high
        reason = (
            f"{where} next to {_numbers(fresh, fresh_count)}, "
            f"discharged {_clock(fresh[0].state.discharged_at, zone)}, "
            f"within {correlation.fresh_unload_minutes:g} min of unloading"
        )
    elif total:
        released, released_count = group(ContainerCondition.released)
        reason = f"{where}: restricted zone; no container at risk among {total}" + (
            f" ({_numbers(released, released_count)} released by customs)" if released else ""
        )
        severity = Severity.medium
    else:
        severity = Severity.medium
        reason = f"{where}: restricted zone; no containers in its yard blocks"
    ranked = (
        assessed
        for condition in CONDITION_RANK  # most worrying first
        for assessed in picture.first.get(condition, ())
    )
    return Verdict(severity, reason, tuple(islice(ranked, MAX_LISTED_CONTAINERS)), total)


def _described(condition: ContainerCondition, state: ContainerState) -> ContainerAtAlert:
    return ContainerAtAlert(
        container_number=state.container_number,
        condition=condition,
        yard_block=state.yard_block,
        yard_position=state.yard_position,
        discharged_at=_datetime(state.discharged_at),
        selected_for_scan_at=_datetime(state.selected_for_scan_at),
        selected_for_inspection_at=_datetime(state.selected_for_inspection_at),
        inspection_started_at=_datetime(state.inspection_started_at),
        inspection_finished_at=_datetime(state.inspection_finished_at),
        released_at=_datetime(state.released_at),
    )


def _numbers(group: Sequence[AssessedContainer], count: int, most: int = QUOTED_CONTAINERS) -> str:
    numbers = [assessed.state.container_number for assessed in group[:most]]
    more = f" and {count - most} more" if count > most else ""
    return ", ".join(numbers) + more


@lru_cache(maxsize=4096)  # the same few selections and discharges, quoted in every verdict
def _clock(moment: float | None, zone: tzinfo) -> str:
    # Reasons quote event times, never the wall clock, so a replay words them the same way.
    return "at an unknown time" if moment is None else f"at {site_time(moment, zone)}"


def _datetime(moment: float | None) -> datetime | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC)
