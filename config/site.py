"""The site configuration: the typed schema engineers edit as YAML, and its own documentation."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Identifier = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", description="Letters, digits, _ . -"),
]
Point = Annotated[tuple[int, int], Field(description="x, y in pixels of the camera image")]


class Strict(BaseModel):
    """Base of every config section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteInfo(Strict):
    id: Identifier = Field(title="Site id", description="Short id of the terminal, e.g. rtm-ect")
    name: str = Field(
        default="", max_length=200, title="Site name", description="Name shown to operators"
    )
    timezone: str = Field(
        default="Europe/Amsterdam",
        title="Time zone",
        description="IANA time zone that zone schedules are written in",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. 'Europe/Amsterdam'") from None
        return value


class Resolution(Strict):
    width: int = Field(gt=0, le=16384, title="Width", description="Frame width in pixels")
    height: int = Field(gt=0, le=16384, title="Height", description="Frame height in pixels")


class Camera(Strict):
    id: Identifier = Field(title="Camera id", description="Unique id, used as the Kafka key")
    source: str = Field(
        min_length=1,
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


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


class ActiveWindow(Strict):
    days: list[Weekday] = Field(
        default_factory=lambda: list(Weekday),
        min_length=1,
        title="Days",
        description="Days of the week the window opens on",
    )
    start: time = Field(title="Start", description="Local time HH:MM the rule becomes active")
    end: time = Field(
        title="End",
        description="Local time HH:MM it stops; an end before the start runs past midnight",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> ActiveWindow:
        if self.start == self.end:
            raise ValueError(f"start and end are both {self.start:%H:%M}: the window is empty")
        return self


class Anchor(StrEnum):
    bottom_center = "bottom_center"
    center = "center"


class CrossingDirection(StrEnum):
    left_to_right = "left_to_right"
    right_to_left = "right_to_left"
    both = "both"


class Line(Strict):
    start: Point = Field(title="Start", description="First end of the line, x y in pixels")
    end: Point = Field(title="End", description="Second end of the line, x y in pixels")
    direction: CrossingDirection = Field(
        default=CrossingDirection.both,
        title="Direction",
        description="Which crossing fires, seen looking from start to end: left_to_right "
        "fires for an anchor moving from the left side to the right side",
    )

    @model_validator(mode="after")
    def _has_length(self) -> Line:
        if self.start == self.end:
            raise ValueError("start and end are the same point: a line needs length")
        return self


class Zone(Strict):
    id: Identifier = Field(title="Zone id", description="Unique id, used as the Kafka key")
    camera: Identifier = Field(title="Camera", description="Id of the camera that sees it")
    polygon: list[Point] = Field(
        min_length=3,
        title="Polygon",
        description="Corners in pixels of the camera image, in order",
    )
    yard_blocks: list[Identifier] = Field(
        default_factory=list,
        title="Yard blocks",
        description="Terminal yard blocks this zone covers; containers there are joined",
    )
    classes: list[str] = Field(
        default_factory=lambda: ["person"],
        min_length=1,
        title="Object classes",
        description="Classes (after detector.class_aliases) that trigger the zone",
    )
    min_score: float = Field(
        default=0.4, ge=0, le=1, title="Minimum score", description="Detections below are ignored"
    )
    min_area: int = Field(
        default=400,
        ge=0,
        title="Minimum area",
        description="Boxes smaller than this many square pixels are ignored",
    )
    anchor: Anchor = Field(
        default=Anchor.bottom_center,
        title="Anchor",
        description="Point of a box tested against the zone (bottom_center: the feet)",
    )
    inertia_frames: int = Field(
        default=3,
        ge=1,
        le=1000,
        title="Inertia",
        description="Analysed frames a track must be in (or out) before entry (or exit) counts",
    )
    loitering_seconds: float | None = Field(
        default=None,
        gt=0,
        title="Loitering",
        description="Seconds a track stays inside before a loitering event fires",
    )
    line: Line | None = Field(
        default=None, title="Line", description="A line whose crossing fires an event"
    )
    schedule: list[ActiveWindow] = Field(
        default_factory=list,
        title="Active schedule",
        description="Windows when the zone is armed; empty means always",
    )

    @field_validator("polygon")
    @classmethod
    def _polygon_has_area(cls, polygon: list[tuple[int, int]]) -> list[tuple[int, int]]:
        doubled_area = sum(
            x0 * y1 - x1 * y0
            for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True)
        )
        if doubled_area == 0:
            raise ValueError("the corners lie on one line: the polygon has no area")
        return polygon


class ModelBackend(StrEnum):
    onnx = "onnx"
    pytorch = "pytorch"
    openvino = "openvino"


class Detector(Strict):
    model: str = Field(
        default="default",
        title="Model",
        description="'default' for the bundled person model, or a path to .pt, .onnx "
        "or an OpenVINO folder",
    )
    backend: ModelBackend = Field(
        default=ModelBackend.onnx,
        title="Backend",
        description="Which form of the default model to run; a path picks by its own suffix",
    )
    image_size: int = Field(
        default=640, ge=32, le=4096, multiple_of=32, title="Image size", description="Model input"
    )
    confidence: float = Field(
        default=0.25,
        ge=0,
        le=1,
        title="Model confidence",
        description="Lowest score the model reports (zones filter further)",
    )
    class_aliases: dict[str, str] = Field(
        default_factory=lambda: {"Normal": "person", "Fall": "person"},
        title="Class aliases",
        description="Model class name to the name zones use",
    )
    motion_gate: bool = Field(
        default=True, title="Motion gate", description="Run the model only where things move"
    )
    motion_min_area: int = Field(
        default=600,
        ge=0,
        title="Motion area",
        description="Square pixels of change below which a frame counts as still",
    )


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class Kafka(Strict):
    bootstrap_servers: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:9092"],
        min_length=1,
        title="Bootstrap servers",
        description="host:port of Kafka brokers",
    )
    topic_prefix: str = Field(
        default="quaywatch.",
        pattern=r"^[A-Za-z0-9._-]*$",
        max_length=100,
        title="Topic prefix",
        description="Put before every topic name",
    )
    partitions: int = Field(
        default=3, ge=1, le=1000, title="Partitions", description="Partitions per topic created"
    )
    replication_factor: int = Field(
        default=1, ge=1, le=10, title="Replication", description="Replicas per topic created"
    )
    security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", title="Security protocol", description="As kafka-python names it"
    )
    ssl_cafile: Path | None = Field(
        default=None, title="CA file", description="CA certificate (PEM)"
    )
    ssl_certfile: Path | None = Field(
        default=None, title="Client certificate", description="Client certificate (PEM)"
    )
    ssl_keyfile: Path | None = Field(
        default=None, title="Client key", description="Client private key (PEM)"
    )
    sasl_mechanism: SaslMechanism | None = Field(
        default=None, title="SASL mechanism", description="For SASL_* protocols"
    )
    sasl_username: str | None = Field(default=None, title="SASL user", description="SASL user")
    sasl_password: SecretStr | None = Field(
        default=None,
        title="SASL password",
        description="SASL password; prefer sasl_password_env",
    )
    sasl_password_env: str | None = Field(
        default=None,
        title="SASL password variable",
        description="Environment variable that holds the SASL password",
    )

    @model_validator(mode="after")
    def _sasl_complete(self) -> Kafka:
        if self.security_protocol.startswith("SASL") and not self.sasl_mechanism:
            raise ValueError(f"{self.security_protocol} needs sasl_mechanism")
        return self

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def client_kwargs(self) -> dict[str, object]:
        """Connection settings every kafka-python client (producer, consumer, admin) takes."""
        import os

        kwargs: dict[str, object] = {
            "bootstrap_servers": list(self.bootstrap_servers),
            "security_protocol": self.security_protocol,
        }
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = str(value)
        if self.sasl_mechanism:
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            password = self.sasl_password.get_secret_value() if self.sasl_password else None
            if self.sasl_password_env:
                password = os.environ.get(self.sasl_password_env, password)
            kwargs["sasl_plain_password"] = password
        return kwargs


class FeedFormat(StrEnum):
    dcsa = "dcsa"
    coarri = "coarri"


class YardArea(Strict):
    pattern: str = Field(
        min_length=1,
        title="Position pattern",
        description="Shell pattern over yard positions, e.g. 'Q3*' for positions in block Q3",
    )
    yard_block: Identifier = Field(title="Yard block", description="Block these positions are in")


class TerminalFeeds(Strict):
    facility_code: str = Field(
        default="",
        max_length=20,
        title="Facility",
        description="SMDG facility code of this terminal; events of other facilities are "
        "ignored when set",
    )
    yard_areas: list[YardArea] = Field(
        default_factory=list,
        title="Yard areas",
        description="Yard position patterns to yard blocks, first match wins",
    )
    callback_port: int = Field(
        default=8481,
        ge=0,
        le=65535,
        title="Callback port",
        description="Port of the HTTP endpoint that takes DCSA event callbacks",
    )


class Correlation(Strict):
    fresh_unload_minutes: float = Field(
        default=240,
        gt=0,
        title="Fresh unload window",
        description="Minutes after discharge a container counts as freshly unloaded",
    )
    grace_seconds: float = Field(
        default=120,
        ge=0,
        title="Grace period",
        description="Seconds late terminal events may still revise an alert",
    )
    inspection_bay_blocks: list[Identifier] = Field(
        default_factory=list,
        title="Inspection bays",
        description="Yard blocks where customs inspects; presence there during an inspection "
        "is expected",
    )


class Metrics(Strict):
    worker_port: int = Field(default=9101, ge=0, le=65535, title="Worker", description="0: off")
    correlator_port: int = Field(
        default=9102, ge=0, le=65535, title="Correlator", description="0: off"
    )
    terminal_port: int = Field(
        default=9103, ge=0, le=65535, title="Terminal feed", description="0: off"
    )
    console_port: int = Field(
        default=8480, ge=0, le=65535, title="Console", description="Console HTTP port"
    )


class Spool(Strict):
    max_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1024,
        title="Spool size",
        description="Bytes of events kept on disk while the broker is away",
    )


class SiteConfig(Strict):
    site: SiteInfo = Field(title="Site", description="The terminal this config describes")
    data_dir: Path = Field(
        default=Path(".data"),
        title="Data directory",
        description="Models, footage, snapshots, spool and broker storage (relative to the "
        "config file)",
    )
    detector: Detector = Field(default_factory=Detector, title="Detector", description="Model")
    cameras: list[Camera] = Field(min_length=1, title="Cameras", description="Cameras watched")
    zones: list[Zone] = Field(
        default_factory=list, title="Zones", description="Restricted areas in camera images"
    )
    kafka: Kafka = Field(default_factory=Kafka, title="Kafka", description="Broker settings")
    terminal: TerminalFeeds = Field(
        default_factory=TerminalFeeds, title="Terminal feeds", description="Container feeds"
    )
    correlation: Correlation = Field(
        default_factory=Correlation, title="Correlation", description="Alert windows"
    )
    metrics: Metrics = Field(default_factory=Metrics, title="Metrics", description="Ports")
    spool: Spool = Field(default_factory=Spool, title="Spool", description="Outage buffer")

    def reference_errors(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Errors between sections (unknown camera, duplicate ids), as (location, message)."""
        errors: list[tuple[tuple[str | int, ...], str]] = []
        camera_ids = [camera.id for camera in self.cameras]
        for section, ids in (("cameras", camera_ids), ("zones", [z.id for z in self.zones])):
            seen: set[str] = set()
            for index, item_id in enumerate(ids):
                if item_id in seen:
                    errors.append(((section, index, "id"), f"duplicate id {item_id!r}"))
                seen.add(item_id)
        for index, zone in enumerate(self.zones):
            if zone.camera not in camera_ids:
                errors.append(
                    (
                        ("zones", index, "camera"),
                        f"unknown camera {zone.camera!r}; cameras are {', '.join(camera_ids)}",
                    )
                )
        return errors

    def camera(self, camera_id: str) -> Camera:
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        raise KeyError(f"no camera {camera_id!r} in site {self.site.id}")

    def zones_of(self, camera_id: str) -> list[Zone]:
        return [zone for zone in self.zones if zone.camera == camera_id]

    def config_hash(self) -> str:
        """SHA-256 of the canonical JSON of the whole config: stamped on every event."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
