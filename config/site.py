"""The site configuration: the typed schema engineers edit as YAML, and its own documentation."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN, description="Letters, digits, _ . -")]
Pixel = Annotated[int, Field(ge=0, le=16384)]
Point = Annotated[tuple[Pixel, Pixel], Field(description="x, y in pixels of the camera image")]

# Schedules are written HH:MM; JSON Schema's "time" format would demand seconds and an
# offset, so editors get the pattern the loader actually accepts.
LocalTime = Annotated[
    time,
    WithJsonSchema({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}),
]

# A config error between sections: the location in the YAML (keys and list indexes) and why.
SectionError = tuple[tuple[str | int, ...], str]


class Strict(BaseModel):
    """Base of every config section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteInfo(Strict):
    """The terminal: its id, the name operators see, and the time zone of schedules."""

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
    """A frame size in pixels."""

    width: int = Field(gt=0, le=16384, title="Width", description="Frame width in pixels")
    height: int = Field(gt=0, le=16384, title="Height", description="Frame height in pixels")


class Camera(Strict):
    """One camera (or recorded file) a worker watches."""

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
    """A day of the week, as zone schedules name it."""

    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


class ActiveWindow(Strict):
    """A daily window (local time) when a zone is armed."""

    days: list[Weekday] = Field(
        default_factory=lambda: list(Weekday),
        min_length=1,
        title="Days",
        description="Days of the week the window opens on",
    )
    start: LocalTime = Field(title="Start", description="Local time HH:MM the rule becomes active")
    end: LocalTime = Field(
        title="End",
        description="Local time HH:MM it stops; an end before the start runs past midnight",
    )

    @field_validator("end")
    @classmethod
    def _not_empty(cls, end: time, info: ValidationInfo) -> time:
        # A field validator rather than a model one, so the error points at `end`.
        if info.data.get("start") == end:
            raise ValueError(f"end equals start ({end:%H:%M}): the window would be empty")
        return end


class Anchor(StrEnum):
    """The point of a detection box tested against zones and lines."""

    bottom_center = "bottom_center"
    center = "center"


class CrossingDirection(StrEnum):
    """Which way across a line fires."""

    left_to_right = "left_to_right"
    right_to_left = "right_to_left"
    both = "both"


class Line(Strict):
    """A tripwire in a camera image; crossing it fires an event."""

    start: Point = Field(title="Start", description="First end of the line, x y in pixels")
    end: Point = Field(title="End", description="Second end of the line, x y in pixels")
    direction: CrossingDirection = Field(
        default=CrossingDirection.both,
        title="Direction",
        description="Which crossing fires, seen looking from start to end: left_to_right "
        "fires for an anchor moving from the left side to the right side",
    )

    @field_validator("end")
    @classmethod
    def _has_length(cls, end: tuple[int, int], info: ValidationInfo) -> tuple[int, int]:
        if info.data.get("start") == end:
            raise ValueError(f"end equals start {list(end)}: a line needs length")
        return end


class Zone(Strict):
    """A restricted area in one camera's image, joined to the yard blocks it covers."""

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
    """The runtime form of the default detection model."""

    onnx = "onnx"
    pytorch = "pytorch"
    openvino = "openvino"


class Detector(Strict):
    """The detection model and the motion gate in front of it."""

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
    """Where events go: broker addresses, topic names and client security."""

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
    retention_hours: float | None = Field(
        default=None,
        gt=0,
        title="Retention",
        description="Hours records are kept in each topic created (retention.ms); empty keeps "
        "the broker's default. Audits replay from the topics, so keep it at least as long as "
        "an investigation may look back",
    )
    security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", title="Security protocol", description="As kafka-python names it"
    )
    ssl_cafile: Path | None = Field(
        default=None,
        title="CA file",
        description="CA certificate (PEM), relative to the config file",
    )
    ssl_certfile: Path | None = Field(
        default=None,
        title="Client certificate",
        description="Client certificate (PEM), relative to the config file",
    )
    ssl_keyfile: Path | None = Field(
        default=None,
        title="Client key",
        description="Client private key (PEM), relative to the config file",
    )
    sasl_mechanism: SaslMechanism | None = Field(
        default=None,
        validate_default=True,
        title="SASL mechanism",
        description="Required by the SASL_PLAINTEXT and SASL_SSL protocols",
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

    @field_validator("sasl_mechanism")
    @classmethod
    def _sasl_complete(cls, mechanism: str | None, info: ValidationInfo) -> str | None:
        # Checked on the field (validate_default) so the error is named kafka.sasl_mechanism.
        protocol = info.data.get("security_protocol", "")
        if protocol.startswith("SASL") and not mechanism:
            raise ValueError(
                f"security_protocol {protocol} needs sasl_mechanism: "
                "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
            )
        return mechanism

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
    """A terminal or customs feed format."""

    dcsa = "dcsa"
    coarri = "coarri"


class YardArea(Strict):
    """Yard positions (a pattern) that lie in one yard block."""

    pattern: str = Field(
        min_length=1,
        title="Position pattern",
        description="Shell pattern over yard positions, e.g. 'Q3*' for positions in block Q3",
    )
    yard_block: Identifier = Field(title="Yard block", description="Block these positions are in")


class TerminalFeeds(Strict):
    """How container events from the terminal and customs are read."""

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
    """Time windows the correlator classifies access events with."""

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
    regroup_seconds: float = Field(
        default=300,
        ge=0,
        le=3600,
        title="Regroup window",
        description="An access incident in a zone whose latest alert saw someone less than this "
        "many seconds before joins that alert instead of raising a new one (ISA-18.2: one alarm "
        "per situation, not per person); 0 raises one alert per incident",
    )
    inspection_bay_blocks: list[Identifier] = Field(
        default_factory=list,
        title="Inspection bays",
        description="Yard blocks where customs inspects; presence there during an inspection "
        "is expected",
    )


class Metrics(Strict):
    """Ports of the Prometheus endpoints and the console."""

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        title="Listen address",
        description="Address the /metrics and /healthz endpoints of the worker, correlator and "
        "terminal feed listen on; 0.0.0.0 in a container, so Prometheus and probes reach them",
    )
    worker_port: int = Field(
        default=9101,
        ge=0,
        le=65535,
        title="Worker",
        description="Prometheus port of the camera worker; 0 turns it off",
    )
    correlator_port: int = Field(
        default=9102,
        ge=0,
        le=65535,
        title="Correlator",
        description="Prometheus port of the correlator; 0 turns it off",
    )
    terminal_port: int = Field(
        default=9103,
        ge=0,
        le=65535,
        title="Terminal feed",
        description="Prometheus port of the terminal feed adapters; 0 turns it off",
    )
    console_port: int = Field(
        default=8480, ge=0, le=65535, title="Console", description="Console HTTP port"
    )


class Spool(Strict):
    """The disk buffer that keeps events while the broker is unreachable."""

    max_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1024,
        title="Spool size",
        description="Bytes of events kept on disk while the broker is away",
    )


class SiteConfig(Strict):
    """A quaywatch site: cameras, zones and how events reach the control room."""

    _written_hash: str | None = PrivateAttr(default=None)

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

    def reference_errors(self) -> list[SectionError]:
        """Errors between sections (unknown camera, duplicate ids, zones off the image)."""
        errors = id_reference_errors(
            [camera.id for camera in self.cameras],
            [zone.id for zone in self.zones],
            [zone.camera for zone in self.zones],
        )
        for index, zone in enumerate(self.zones):
            resolution = next((c.resolution for c in self.cameras if c.id == zone.camera), None)
            if resolution is not None:
                errors.extend(_points_off_image(("zones", index), zone, resolution))
        return errors

    def camera(self, camera_id: str) -> Camera:
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        raise KeyError(f"no camera {camera_id!r} in site {self.site.id}")

    def zones_of(self, camera_id: str) -> list[Zone]:
        return [zone for zone in self.zones if zone.camera == camera_id]

    def config_hash(self) -> str:
        """SHA-256 of the canonical JSON of the config as written: stamped on every event.

        A config read from a file hashes as written, before its relative paths were made
        absolute, so the same file gives the same hash in any checkout or on any host.
        """
        if self._written_hash is not None:
            return self._written_hash
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def pin_written_hash(self, written_hash: str) -> SiteConfig:
        """This config, reporting the hash of the file it was read from (see config_hash)."""
        self._written_hash = written_hash
        return self

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Self:
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._written_hash = None  # a changed config is no longer the file's
        return copy


def id_reference_errors(
    camera_ids: list[object], zone_ids: list[object], zone_cameras: list[object]
) -> list[SectionError]:
    """Duplicate camera or zone ids and zones naming an unknown camera, as (location, message).

    Takes plain values so a loader can also check a config that failed validation elsewhere;
    entries that are not strings (already reported as type errors) are skipped.
    """
    errors: list[SectionError] = []
    for section, ids in (("cameras", camera_ids), ("zones", zone_ids)):
        seen: set[str] = set()
        for index, item_id in enumerate(ids):
            if not isinstance(item_id, str):
                continue
            if item_id in seen:
                errors.append(((section, index, "id"), f"duplicate {section[:-1]} id {item_id!r}"))
            seen.add(item_id)
    known = [camera_id for camera_id in camera_ids if isinstance(camera_id, str)]
    for index, camera_id in enumerate(zone_cameras):
        if isinstance(camera_id, str) and camera_id not in known:
            errors.append(
                (
                    ("zones", index, "camera"),
                    f"unknown camera {camera_id!r}; cameras are {', '.join(known) or 'none'}",
                )
            )
    return errors


def _points_off_image(
    location: tuple[str | int, ...], zone: Zone, resolution: Resolution
) -> list[SectionError]:
    # A corner beyond the camera's resolution hint is almost always a polygon drawn for
    # another camera or another image size; it would silently clip the zone.
    errors: list[SectionError] = []
    size = f"{resolution.width}x{resolution.height}"
    for index, (x, y) in enumerate(zone.polygon):
        if x > resolution.width or y > resolution.height:
            errors.append(
                (
                    (*location, "polygon", index),
                    f"corner [{x}, {y}] lies outside the camera image ({size})",
                )
            )
    if zone.line is not None:
        for end in ("start", "end"):
            x, y = getattr(zone.line, end)
            if x > resolution.width or y > resolution.height:
                errors.append(
                    (
                        (*location, "line", end),
                        f"point [{x}, {y}] lies outside the camera image ({size})",
                    )
                )
    return errors
