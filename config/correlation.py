"""The time windows the correlator classifies access events with."""

from __future__ import annotations

from pydantic import Field

from config.base import Identifier, Margin, Period, Strict


class Correlation(Strict):
    """Time windows the correlator classifies access events with."""

    fresh_unload_minutes: Period = Field(
        default=240,
        title="Fresh unload window",
        description="Minutes after discharge a container counts as freshly unloaded",
    )
    grace_seconds: Margin = Field(
        default=120,
        title="Grace period",
        description="Seconds late terminal events may still revise an alert",
    )
    regroup_seconds: Margin = Field(
        default=300,
        le=3600,
        title="Regroup window",
        description="An access incident in a zone whose latest alert saw someone less than this "
        "many seconds before joins that alert instead of raising a new one (ISA-18.2: one alarm "
        "per situation, not per person); 0 raises one alert per incident",
    )
    quiet_partition_seconds: Margin = Field(
        default=1.0,
        le=60,
        title="Quiet partition",
        description="Seconds an access partition may stay quiet, read to its end, before its "
        "alerts are judged up to the latest terminal news; until then they are judged only up "
        "to the latest access event read from it, so every instance and every restart judges "
        "each moment knowing the same events",
    )
    forget_departed_days: Period = Field(
        default=7,
        title="Forget departed containers",
        description="Days after a container left the terminal (gated out or loaded) that its "
        "history leaves the correlator's memory, and after an alert's last sighting that its "
        "id does; late news or access events older than this are judged without them",
    )
    rebuild_hours: Period = Field(
        default=24,
        title="Rebuild window",
        description="An access partition that comes to a correlator has the episodes of its "
        "zones rebuilt from the alerts last seen at most this many hours before the latest "
        "terminal news; older ones are finished (a partition read this far behind the news is "
        "an outage to mend first)",
    )
    checkpoint_every_records: int = Field(
        default=100_000,
        gt=0,
        title="Checkpoint after records",
        description="Records learnt from terminal, alerts and dead-letter after which the "
        "correlator's state is checkpointed again: a restart reads about this many at most",
    )
    checkpoint_every_minutes: Period = Field(
        default=180,
        title="Checkpoint after minutes",
        description="Minutes after the last checkpoint of the correlator's state that the next is "
        "written, once anything new was learnt",
    )
    inspection_bay_blocks: list[Identifier] = Field(
        default_factory=list,
        title="Inspection bays",
        description="Yard blocks where customs inspects; presence there during an inspection "
        "is expected",
    )
