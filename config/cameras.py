"""Cameras: the sources a worker watches and how their frames are timed."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from config.base import Identifier, ImageSide, NonEmptyText, Strict


class Resolution(Strict):
    """A frame size in pixels."""

    width: ImageSide = Field(title="Width", description="Frame width in pixels")
    height: ImageSide = Field(title="Height", description="Frame height in pixels")


class Camera(Strict):
    """One camera (or recorded file) a worker watches."""

    id: Identifier = Field(title="Camera id", description="Unique id, used as the Kafka key")
    source: NonEmptyText = Field(
        title="Source",
        description="rtsp://, http(s):// URL, or a video file path (relative to the config file)",
    )
    target_fps: float = Field(
        default=5.0, gt=0, le=60, title="Target fps", description="Frames per second analysed"
    )
    resolution: Resolution | None = Field(
        default=None,
        title="Resolution hint",
        description="Expected frame size; zone polygons are drawn in these pixels",
    )
    loop: bool = Field(
        default=False, title="Loop file", description="Start a video file again at its end"
    )
    realtime: bool = Field(
        default=True,
        title="Play files at real time",
        description="False plays a file as fast as the detector takes frames",
    )
    start_time: datetime | None = Field(
        default=None,
        title="File start time",
        description="Capture time of a file's first frame (ISO 8601 with offset); "
        "frame times are this plus the media position. Default: when the worker starts",
    )
    enabled: bool = Field(default=True, title="Enabled", description="False leaves it unwatched")
