"""Parts of a checkpoint of the correlator's container table, on `correlator-checkpoints`
(written and read by `streams.correlator.checkpoint`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from streams.messages import Message
from streams.terminal.events import ContainerActivity

FACTS_PER_PART = 4000  # about half a megabyte of JSON: well under a record's size limit

# event_time, visible_at, event_id, activity, yard_block, yard_position
Fact = tuple[float, float, str, ContainerActivity, str | None, str | None]


class TableCheckpoint(Message):
    """One part of a checkpoint of the correlator's container table."""

    SCHEMA_NAME: ClassVar[str] = "table-checkpoint"
    SCHEMA_VERSION: ClassVar[int] = 1

    checkpoint_id: str = Field(min_length=1, description="The checkpoint the part belongs to")
    part: int = Field(ge=0, description="Number of this part, from 0")
    parts: int = Field(ge=1, description="How many parts the checkpoint has")
    terminal_offsets: dict[str, int] = Field(
        description="Per terminal partition (its number), the first offset not reflected"
    )
    latest_visible_at: float = Field(description="Latest visible_at of any fact learnt (epoch s)")
    containers: dict[str, list[Fact]] = Field(
        description="Container number -> its facts: event time and visible_at (epoch seconds), "
        "event id, activity, yard block, yard position"
    )
