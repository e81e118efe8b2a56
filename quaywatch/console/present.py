"""The console API's response models: declared once, read by attribute from the board, cut to
what the viewer's role may see."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AliasGenerator, AliasPath, BaseModel, ConfigDict, Field, PlainSerializer

from quaywatch.console.board import AlertState, Board, Revision
from quaywatch.console.users import Role
from streams.alerts import Alert, ContainerAtAlert, ContainerCondition, Severity
from streams.camera_health import CameraHealth
from streams.operator_actions import ActionKind, CloseOutcome

# The auditor's action log on the live page; the full log is at /api/actions.
LIVE_ACTION_LOG = 100

ALERT_ROLES = frozenset({Role.operator, Role.auditor})
ACTION_LOG_ROLES = frozenset({Role.auditor})
CONFIG_ROLES = frozenset({Role.engineer, Role.auditor})

# The console's own times have always reached the browser with a `+00:00` offset, not `Z`.
Moment = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]


class View(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class ActionView(View):
    """An operator action as the action log and an alert's history show it."""

    event_id: str
    alert_id: str
    alert_revision: int
    action: ActionKind
    reason: str
    operator: str
    role: str
    at: Moment = Field(validation_alias="event_time")
    shelved_until: Moment | None = None
    assignee: str | None = None
    outcome: CloseOutcome | None = Field(
        default=None, validation_alias="close_outcome", description="Closes: what it was"
    )


def _alert_or_entry(name: str) -> str | AliasPath:
    # A field named as one of the alert's is the latest revision's; the others are the board's.
    return AliasPath("alert", name) if name in Alert.model_fields else name


class AlertSummary(View):
    """A row of the alert list, read from the board's AlertEntry."""

    model_config = ConfigDict(alias_generator=AliasGenerator(validation_alias=_alert_or_entry))

    alert_id: str
    revision: int
    severity: Severity
    state: AlertState
    open: bool = Field(validation_alias=AliasPath("state", "open"))
    reason: str
    upgraded_from: Severity | None = Field(description="Severity before the latest rise, if any")
    raised_at: Moment = Field(description="Event time of the first revision seen")
    zone_id: str
    camera_id: str
    yard_blocks: list[str]
    containers_in_zone: int
    snapshot_sha256: str | None
    last_action: ActionView | None
    first_published_at: Moment = Field(description="When the alert reached the alerts topic")
    at_risk: ContainerAtAlert | None = Field(
        description="The container that decided the severity (the first listed), if any"
    )
    container_numbers: list[str] = Field(description="Every container the alert lists")
    assignee: str | None = Field(description="The operator it is assigned to, if any")
    shelved_until: Moment | None = Field(description="While shelved: when it returns")
    outcome: CloseOutcome | None = Field(description="Once closed: what it turned out to be")
    time_to_acknowledge_seconds: float | None = Field(
        description="From reaching the topic to the first response; None while nobody has"
    )


class SightingView(View):
    """An access event of an alert: when and by which camera, not just its id."""

    event_id: str
    event_time: Moment
    camera_id: str
    zone_id: str
    rule: str


class AlertDetail(AlertSummary):
    """An opened alert: its row, the evidence it rests on, its revisions and every action."""

    event_time: Moment
    as_of: Moment
    incident_id: str
    access_event_ids: list[str]
    containers: list[ContainerAtAlert]
    config_hash: str
    access_config_hash: str
    revisions: list[Revision]
    actions: list[ActionView] = Field(description="Oldest first")
    sightings: list[SightingView] = Field(
        description="The access events it rests on, as the camera reported them"
    )
    clip_sha256: str | None = Field(description="Clip around the first incident's start")


class Viewer(View):
    """Who is logged in, for the page header; `may_act` shows the action buttons."""

    name: str
    role: Role
    expires_at: float = Field(description="Session end, in seconds since the epoch")
    site: str = Field(description="The site's name, or its id when it has none")
    time_zone: str = Field(description="IANA time zone the page shows every time in")
    may_act: bool


class ZoneView(View):
    id: str
    camera: str
    yard_blocks: list[str]


class SiteView(View):
    """The configuration the console runs, for engineers checking a deployment."""

    site_id: str
    site_name: str
    config_hash: str
    cameras: list[str] = Field(description="Camera ids")
    zones: list[ZoneView]


# Left out of a push, rather than sent empty, when the viewer's role may not see it.
_UNSEEN = Field(default=None, exclude_if=lambda value: value is None)


class LiveState(View):
    """One push of the live page: everything it shows, cut to the role."""

    version: int = Field(description="The board's version; it grows with every change")
    cameras: list[CameraHealth]
    alerts: list[AlertSummary] | None = _UNSEEN
    actions: list[ActionView] | None = _UNSEEN
    config_hash: str | None = _UNSEEN

    @classmethod
    def of(cls, board: Board, role: Role, config_hash: str) -> LiveState:
        return cls(
            version=board.version,
            cameras=board.cameras(),
            alerts=board.entries() if role in ALERT_ROLES else None,
            actions=board.actions()[:LIVE_ACTION_LOG] if role in ACTION_LOG_ROLES else None,
            config_hash=config_hash if role in CONFIG_ROLES else None,
        )


class LiveFrame(View):
    """A camera's latest live frame, as the worker last wrote it."""

    camera_id: str
    written_at: Moment = Field(description="When the worker wrote the frame (wall clock)")
    url: str = Field(description="Where the page fetches it; changes with every new frame")


class ContainerOnMapView(View):
    container_number: str
    yard_block: str
    yard_position: str | None
    condition: ContainerCondition


class ZoneOnMapView(View):
    """A zone on the yard map: its outline in its camera's picture and its containers."""

    zone_id: str
    camera_id: str
    polygon: list[tuple[int, int]]
    yard_blocks: list[str]
    containers: list[ContainerOnMapView] = Field(description="Worst condition first")
    worst: ContainerCondition | None


class Assignee(View):
    """An operator an alert can be assigned to."""

    name: str
