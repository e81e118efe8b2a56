"""Camera health messages on `camera-health`: a camera went offline, came back, froze, was
covered or turned. Keyed by camera id, so one camera's history stays in order."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from detectors.events import derived_id
from ingest.frames import CameraStatus, HealthObservation
from streams.messages import Message


class CameraHealth(Message):
    SCHEMA_NAME: ClassVar[str] = "camera-health"
    SCHEMA_VERSION: ClassVar[int] = 1

    site_id: str = Field(min_length=1, description="Site the camera belongs to")
    camera_id: str = Field(min_length=1, description="Camera observed (the Kafka key)")
    status: CameraStatus = Field(description="What the camera delivers now")
    detail: str = Field(description="Why, in words for the operator")

    @classmethod
    def from_observation(cls, site_id: str, observation: HealthObservation) -> CameraHealth:
        """The message for a change the capture saw; its id derives from camera, status and
        time, so the same observation published twice is recognised as one."""
        return cls.create(
            event_id=derived_id(
                observation.camera_id, observation.status.value, observation.at.isoformat()
            ),
            event_time=observation.at,
            site_id=site_id,
            camera_id=observation.camera_id,
            status=observation.status,
            detail=observation.detail,
        )
