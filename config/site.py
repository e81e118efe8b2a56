"""The site configuration: the typed schema engineers edit as YAML, and its own documentation.

One file per section (cameras, zones, detector, kafka, terminal, correlation, metrics,
console, spool); this module holds the site as a whole and the checks between sections.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Self

from pydantic import Field, PrivateAttr, field_validator

from config.base import Identifier, SectionError, Strict
from config.cameras import Camera, Resolution
from config.console import Console
from config.correlation import Correlation
from config.detector import Detector
from config.kafka import Kafka
from config.metrics import Metrics
from config.signing import Signing
from config.spool import Spool
from config.terminal import TerminalFeeds
from config.zones import Zone


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


class UnknownCamera(LookupError):
    """A camera id the site config does not list."""


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
    console: Console = Field(
        default_factory=Console, title="Console", description="TLS, request limits, logins"
    )
    spool: Spool = Field(default_factory=Spool, title="Spool", description="Outage buffer")
    signing: Signing = Field(
        default_factory=Signing, title="Signing", description="Public keys trusted per writer role"
    )

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
        """The camera with this id; UnknownCamera, naming the site's cameras, when none has it."""
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        known = ", ".join(camera.id for camera in self.cameras)
        raise UnknownCamera(f"site {self.site.id} has no camera {camera_id!r}; cameras: {known}")

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
