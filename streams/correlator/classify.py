"""Classification: how worrying a person in a zone is, given the containers around them.

- critical: a container selected by customs, in the yard, not yet inspected nor released;
- suppressed: an inspection in progress at a container in the zone (customs are there). In an
  inspection bay block it outranks waiting selected containers, which are brought there and
  guarded; elsewhere a selected container waiting next to it still makes the alert critical;
- high: a container discharged within the fresh-unload window and not released;
- medium: a restricted zone with no container at risk (none, released, or long in the yard).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from config.site import Correlation
from streams.alerts import ContainerAtAlert, ContainerCondition, Severity
from streams.correlator.table import ContainerState

MAX_LISTED_CONTAINERS = 25

# Most worrying first: it orders the containers an alert lists.
CONDITION_RANK = {
    ContainerCondition.selected_not_inspected: 0,
    ContainerCondition.under_inspection: 1,
    ContainerCondition.freshly_discharged: 2,
    ContainerCondition.inspected_not_released: 3,
    ContainerCondition.released: 4,
    ContainerCondition.in_yard: 5,
}


@dataclass(frozen=True)
class Verdict:
    severity: Severity
    reason: str
    containers: tuple[ContainerAtAlert, ...]
    containers_in_zone: int

    def same_as(self, other: Verdict | None) -> bool:
        """Whether a revision is due: only a change of severity or reason is news to operators."""
        return other is not None and (self.severity, self.reason) == (other.severity, other.reason)


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


def classify(
    zone_id: str,
    yard_blocks: Sequence[str],
    containers: Sequence[ContainerState],
    moment: float,
    correlation: Correlation,
) -> Verdict:
    """The verdict for a person in `zone_id` at `moment`, next to `containers` as of then."""
    conditions = [(condition_of(s, moment, correlation), s) for s in containers]
    conditions.sort(key=lambda pair: (CONDITION_RANK[pair[0]], pair[1].container_number))
    by_condition: dict[ContainerCondition, list[ContainerState]] = {}
    for condition, state in conditions:
        by_condition.setdefault(condition, []).append(state)
    waiting = by_condition.get(ContainerCondition.selected_not_inspected, [])
    inspecting = by_condition.get(ContainerCondition.under_inspection, [])
    fresh = by_condition.get(ContainerCondition.freshly_discharged, [])
    in_bay = bool(set(yard_blocks) & set(correlation.inspection_bay_blocks))
    where = f"person in zone {zone_id}"
    if inspecting and (in_bay or not waiting):
        severity = Severity.suppressed
        reason = (
            f"{where} during the customs inspection of {_numbers(inspecting)} "
            f"(started {_clock(inspecting[0].inspection_started_at)}): expected presence"
        )
    elif waiting:
        severity = Severity.critical
        reason = (
            f"{where} next to {_numbers(waiting)}, selected by customs "
            f"{_clock(waiting[0].selected_at)} and not yet inspected"
        )
    elif fresh:
        severity = Severity.high
        reason = (
            f"{where} next to {_numbers(fresh)}, discharged {_clock(fresh[0].discharged_at)}, "
            f"within {correlation.fresh_unload_minutes:g} min of unloading"
        )
    elif containers:
        released = by_condition.get(ContainerCondition.released, [])
        reason = f"{where}: restricted zone; no container at risk among {len(containers)}" + (
            f" ({_numbers(released)} released by customs)" if released else ""
        )
        severity = Severity.medium
    else:
        severity = Severity.medium
        reason = f"{where}: restricted zone; no containers in its yard blocks"
    listed = tuple(
        describe(state, condition) for condition, state in conditions[:MAX_LISTED_CONTAINERS]
    )
    return Verdict(severity, reason, listed, len(containers))


def describe(state: ContainerState, condition: ContainerCondition) -> ContainerAtAlert:
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


def _numbers(states: Sequence[ContainerState], most: int = 3) -> str:
    numbers = [s.container_number for s in states[:most]]
    more = f" and {len(states) - most} more" if len(states) > most else ""
    return ", ".join(numbers) + more


def _clock(moment: float | None) -> str:
    # Reasons quote event times, never the wall clock, so a replay words them the same way.
    return "at an unknown time" if moment is None else f"at {_datetime(moment):%Y-%m-%d %H:%M:%S}Z"


def _datetime(moment: float | None) -> datetime | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC)
