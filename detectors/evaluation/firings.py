"""Which rules one config has fired so far in a tune run, in the form the annotator shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from detectors.annotate import Firings
from detectors.events import AccessPhase, ZoneEvent

# A line crossing is one instant; its banner stays this many frames so the eye catches it.
FLASH_FRAMES = 5


@dataclass(frozen=True)
class _OpenIncident:
    zone_id: str
    rule: str
    track_id: int


@dataclass
class FiringBoard:
    """The open incidents and the recent firings of one config, frame by frame."""

    open_incidents: dict[str, _OpenIncident] = field(default_factory=dict)
    flashes: list[tuple[int, str]] = field(default_factory=list)  # frames left, banner text

    def update(self, events: Sequence[ZoneEvent]) -> Firings:
        """Take a frame's events; returns what to show on this frame."""
        self.flashes = [(left - 1, text) for left, text in self.flashes if left > 1]
        for event in events:
            text = f"{event.zone_id} {event.rule.value} {event.phase.value} #{event.track_id}"
            if event.phase is AccessPhase.start:
                self.flashes.append((FLASH_FRAMES, text))
                self.open_incidents[event.incident_id] = _OpenIncident(
                    event.zone_id, event.rule.value, event.track_id
                )
            elif event.phase is AccessPhase.end:
                self.open_incidents.pop(event.incident_id, None)
        tracks = {
            incident.track_id: f"{incident.zone_id} {incident.rule}"
            for incident in self.open_incidents.values()
        }
        return Firings(tuple(text for _, text in self.flashes), tracks)
