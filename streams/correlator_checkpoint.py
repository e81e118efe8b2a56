"""Parts of a checkpoint of the correlator's state, on `correlator-checkpoints` (written and
read by `streams.correlator.checkpoint`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from streams.alerts import Alert
from streams.messages import Message
from streams.terminal.events import ContainerActivity

# event_time, visible_at, event_id, activity, yard_block, yard_position
Fact = tuple[float, float, str, ContainerActivity, str | None, str | None]


class CorrelatorCheckpoint(Message):
    """One part of a checkpoint: some of its containers, recent alerts and settled alert ids;
    every part names the whole checkpoint's offsets."""

    SCHEMA_NAME: ClassVar[str] = "correlator-checkpoint"
    SCHEMA_VERSION: ClassVar[int] = 1

    checkpoint_id: str = Field(min_length=1, description="The checkpoint the part belongs to")
    part: int = Field(ge=0, description="Number of this part, from 0")
    parts: int = Field(ge=1, description="How many parts the checkpoint has")
    offsets: dict[str, dict[str, int]] = Field(
        description="Topic (without the site's prefix) -> partition number -> the first offset "
        "the checkpoint does not reflect"
    )
    latest_visible_at: float = Field(description="Latest visible_at of any fact learnt (epoch s)")
    containers: dict[str, list[Fact]] = Field(
        description="Container number -> its facts: event time and visible_at (epoch seconds), "
        "event id, activity, yard block, yard position"
    )
    alerts: list[Alert] = Field(
        description="The latest revision of each alert recent enough to be rebuilt"
    )
    settled: dict[str, tuple[int, float]] = Field(
        description="Settled alert id -> its last revision and last sighting (epoch seconds)"
    )
    dead_letters_sent: list[str] = Field(description="Ids of the correlator's dead letters sent")
