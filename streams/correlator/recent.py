"""What the correlator keeps of the alerts topic: the latest revision of every recent alert,
which a new owner of an access partition rebuilds the episodes of its zones from
(`CorrelationEngine.rebuild`), and the ids of the settled ones. A checkpoint holds both.

Recent and old are by an alert's last sighting against the latest terminal news, not the wall
clock, so every instance, a restart and a replay keep the same ones.
"""

from __future__ import annotations

import heapq

from streams.alerts import Alert


class RecentAlerts:
    def __init__(self) -> None:
        self.latest: dict[str, Alert] = {}  # by alert id
        self._order: list[tuple[float, str]] = []  # (last sighting, alert id), earliest first

    def __len__(self) -> int:
        return len(self.latest)

    def remember(self, alert: Alert) -> None:
        known = self.latest.get(alert.alert_id)
        if known is None or alert.revision > known.revision:
            self.latest[alert.alert_id] = alert
            heapq.heappush(self._order, (sighting(alert), alert.alert_id))

    def forget_before(self, moment: float) -> None:
        """Alerts last seen before `moment` are finished: none is rebuilt any more."""
        order = self._order
        while order and order[0][0] < moment:
            last_seen_at, alert_id = heapq.heappop(order)
            known = self.latest.get(alert_id)
            if known is not None and sighting(known) == last_seen_at:
                del self.latest[alert_id]


def sighting(alert: Alert) -> float:
    return (alert.last_seen_at or alert.event_time).timestamp()


class SettledAlerts(dict[str, int]):
    """Alert id -> last published revision of the settled alerts; each id is forgotten some
    days after its last sighting (`forget_before`)."""

    def __init__(self) -> None:
        super().__init__()
        self._sighting: dict[str, float] = {}
        self._order: list[tuple[float, str]] = []  # (last sighting, alert id), earliest first

    def settle(self, alert_id: str, revision: int, last_seen_at: float) -> None:
        self[alert_id] = revision
        self._sighting[alert_id] = last_seen_at
        heapq.heappush(self._order, (last_seen_at, alert_id))

    def entries(self) -> dict[str, tuple[int, float]]:
        """Alert id -> (last revision, last sighting)."""
        sighting = self._sighting
        return {a: (revision, sighting[a]) for a, revision in self.items() if a in sighting}

    def forget_before(self, moment: float) -> None:
        order = self._order
        while order and order[0][0] < moment:
            last_seen_at, alert_id = heapq.heappop(order)
            # An episode open again, or settled again since, has a later sighting.
            if self._sighting.get(alert_id) == last_seen_at:
                del self._sighting[alert_id]
                self.pop(alert_id, None)
