"""An episode's timeline, judged once per point and kept between calls.

Every access event that joins an episode moves its end (the last sighting plus the grace
period) and asks again for the revisions due. The points already judged have not changed
unless news became visible at or before them, or a rule first fired by then: so an episode
keeps its judgements by point, an access event judges only the points it adds, and news
visible at `t` (or a first firing at `t`) forgets the judgements from `t` on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from detectors.events import AccessRule
from streams.alerts import Alert
from streams.correlator.classify import Verdict
from streams.correlator.episode import Episode, Standing


@dataclass(frozen=True, slots=True)
class Judgement:
    """The episode judged at one event time: what a revision as of then would say."""

    as_of: float
    verdict: Verdict
    rules: tuple[AccessRule, ...]

    @property
    def standing(self) -> Standing:
        return Standing(self.verdict.severity, self.verdict.reason, self.rules)


def revision_of(
    episode: Episode, revision: int, judgement: Judgement, revised_because: str, config_hash: str
) -> Alert:
    """The alert revision that publishes a judgement of the episode."""
    point, verdict = judgement.as_of, judgement.verdict
    return Alert.create(
        event_id=f"{episode.alert_id}:r{revision}",
        event_time=datetime.fromtimestamp(episode.seen_at, UTC),
        alert_id=episode.alert_id,
        revision=revision,
        severity=verdict.severity,
        reason=verdict.reason,
        revised_because=None if revision == 1 else revised_because,
        as_of=datetime.fromtimestamp(point, UTC),
        site_id=episode.site_id,
        zone_id=episode.zone_id,
        camera_id=episode.camera_id,
        yard_blocks=list(episode.yard_blocks),
        incident_id=episode.incident_id,
        access_event_ids=episode.access_event_ids_at(point),
        rules=list(judgement.rules),
        last_seen_at=datetime.fromtimestamp(episode.last_seen_at_or_before(point), UTC),
        containers=list(verdict.containers),
        containers_in_zone=verdict.containers_in_zone,
        snapshot_sha256=episode.snapshot_sha256,
        access_config_hash=episode.access_config_hash,
        config_hash=config_hash,
    )


class JudgedPoints:
    """Judgements of one episode by point in event time; a handful, those still ahead of the
    last published revision."""

    __slots__ = ("_by_point", "through")

    def __init__(self) -> None:
        self._by_point: dict[float, Judgement] = {}
        # Every point up to this moment has been judged, and nothing since changed one: asked
        # again up to the same moment, the timeline is the same.
        self.through: float | None = None

    def get(self, point: float) -> Judgement | None:
        return self._by_point.get(point)

    def keep(self, judgement: Judgement) -> None:
        self._by_point[judgement.as_of] = judgement

    def forget_from(self, moment: float) -> None:
        """News visible at `moment` (or a rule first fired then) changes what comes after."""
        self._drop([point for point in self._by_point if point >= moment])
        self.through = None

    def forget_before(self, moment: float) -> None:
        """Points before the last published revision are never asked about again."""
        self._drop([point for point in self._by_point if point < moment])

    def _drop(self, points: list[float]) -> None:
        for point in points:
            del self._by_point[point]
