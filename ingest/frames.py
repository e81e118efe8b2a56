"""A frame as the detectors receive it: the picture, its camera, and when it was captured."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np


@dataclass(frozen=True)
class Frame:
    camera_id: str
    image: np.ndarray  # BGR, as OpenCV decodes it
    captured_at: datetime  # wall clock for live sources; start time + media position for files
    sequence: int  # frames read from the source before this one (across reconnects and loops)
    # time.monotonic() when the capture had it: where frame-to-event latency starts, also for
    # files, whose captured_at is media time
    received_s: float = field(default_factory=time.monotonic)


class CameraStatus(StrEnum):
    online = "online"
    offline = "offline"
    frozen = "frozen"
    blacked_out = "blacked_out"
    moved = "moved"


@dataclass(frozen=True)
class HealthObservation:
    """A change in what a camera delivers; `detail` says why, for the operator."""

    camera_id: str
    status: CameraStatus
    at: datetime
    detail: str
