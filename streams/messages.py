"""The envelope all quaywatch messages share: schema name and version, id, event/publish time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_HEADER = "schema"


def utc_now() -> datetime:
    return datetime.now(UTC)


class Message(BaseModel):
    """Base of every message on a quaywatch topic.

    Subclasses set SCHEMA_NAME and SCHEMA_VERSION; the JSON Schema file
    `streams/schemas/<SCHEMA_NAME>.v<SCHEMA_VERSION>.json` describes the body.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    SCHEMA_NAME: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int]

    schema_name: str = Field(description="Name of the message schema")
    schema_version: int = Field(ge=1, description="Version of the message schema")
    event_id: str = Field(min_length=1, description="Unique id of this event; kept on redelivery")
    event_time: datetime = Field(description="When the thing happened (UTC)")
    published_at: datetime | None = Field(
        default=None, description="When it was handed to Kafka (UTC); set by the publisher"
    )

    @classmethod
    def create(cls, **fields: object) -> Self:
        return cls(schema_name=cls.SCHEMA_NAME, schema_version=cls.SCHEMA_VERSION, **fields)

    def stamped(self, published_at: datetime | None = None) -> Self:
        return self.model_copy(update={"published_at": published_at or utc_now()})

    def to_bytes(self) -> bytes:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()

    def headers(self) -> list[tuple[str, bytes]]:
        return [(SCHEMA_HEADER, f"{self.SCHEMA_NAME}/{self.SCHEMA_VERSION}".encode())]

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        return cls.model_validate_json(raw)


# Any one message type, in signatures that keep it: `Topic[M].decode` returns that M.
M = TypeVar("M", bound=Message)
