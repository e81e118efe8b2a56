"""The yard map's knowledge: where each container stands and what state it is in, from the
terminal feed, judged by the correlator's own rules (its container table and conditions),
so the map and the alerts never disagree about a container."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from config.site import SiteConfig
from streams.alerts import ContainerCondition
from streams.correlator.classify import condition_of
from streams.correlator.table import ContainerTable
from streams.terminal.events import ContainerEvent

# Worst first: the order a zone's containers are listed in, and the one that colours it.
CONDITION_ORDER = (
    ContainerCondition.selected_not_inspected,
    ContainerCondition.under_inspection,
    ContainerCondition.freshly_discharged,
    ContainerCondition.inspected_not_released,
    ContainerCondition.released,
    ContainerCondition.in_yard,
)


@dataclass(frozen=True)
class ContainerOnMap:
    container_number: str
    yard_block: str
    yard_position: str | None
    condition: ContainerCondition


@dataclass(frozen=True)
class ZoneOnMap:
    """A zone, where it lies in its camera's picture, and the containers in its yard blocks."""

    zone_id: str
    camera_id: str
    polygon: list[tuple[int, int]]
    yard_blocks: list[str]
    containers: list[ContainerOnMap]

    @property
    def worst(self) -> ContainerCondition | None:
        return self.containers[0].condition if self.containers else None


class Yard:
    """Thread-safe: the reader thread adds terminal events, request handlers read the map."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._table = ContainerTable()

    def apply_container(self, event: ContainerEvent) -> bool:
        """Record a terminal event; False when it changes nothing (planned, already seen)."""
        with self._lock:
            return self._table.add(event) is not None

    def zones(self, site: SiteConfig) -> list[ZoneOnMap]:
        """Every zone of the site with its containers, as the terminal last told (the latest
        time the feed made known, not the wall clock: a replayed night shows its own yard)."""
        with self._lock:
            moment = self._table.latest_visible_at
            placed = []
            for zone in site.zones:
                states = (
                    self._table.containers_in(zone.yard_blocks, moment)
                    if moment != float("-inf")
                    else []
                )
                containers = [
                    ContainerOnMap(
                        state.container_number,
                        state.yard_block or "",
                        state.yard_position,
                        condition_of(state, moment, site.correlation),
                    )
                    for state in states
                ]
                containers.sort(
                    key=lambda c: (CONDITION_ORDER.index(c.condition), c.container_number)
                )
                placed.append(
                    ZoneOnMap(
                        zone.id,
                        zone.camera,
                        [(int(x), int(y)) for x, y in zone.polygon],
                        list(zone.yard_blocks),
                        containers,
                    )
                )
        return placed
