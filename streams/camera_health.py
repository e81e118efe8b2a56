"""Camera health messages on `camera-health`: a camera went offline, came back, froze, was
covered or turned. Keyed by camera id, so one camera's history stays in order."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ingest.frames import CameraStatus
from streams.messages import Message


class CameraHealth(Message):
    SCHEMA_NAME: ClassVar[str] = "camera-health"
    SCHEMA_VERSION: ClassVar[int] = 1

    site_id: str = Field(min_length=1, description="Site the camera belongs to")
    camera_id: str = Field(min_length=1, description="Camera observed (the Kafka key)")
    status: CameraStatus = Field(description="What the camera delivers now")
    detail: str = Field(description="Why, in words for the operator")
