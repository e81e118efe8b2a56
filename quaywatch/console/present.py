"""What the browser gets: board entries as JSON, cut to what the viewer's role may see."""

from __future__ import annotations

from datetime import datetime

from quaywatch.console.board import AlertEntry, Board
from quaywatch.console.users import Role
from streams.camera_health import CameraHealth
from streams.operator_actions import OperatorAction

# The auditor's action log on the live page; the full log is at /api/actions.
LIVE_ACTION_LOG = 100

ALERT_ROLES = frozenset({Role.operator, Role.auditor})
ACTION_LOG_ROLES = frozenset({Role.auditor})
CONFIG_ROLES = frozenset({Role.engineer, Role.auditor})


def alert_summary(entry: AlertEntry) -> dict[str, object]:
    alert = entry.alert
    upgraded_from = entry.upgraded_from
    return {
        "alert_id": alert.alert_id,
        "revision": alert.revision,
        "severity": alert.severity.value,
        "state": entry.state.value,
        "open": entry.state.open,
        "reason": alert.reason,
        "upgraded_from": upgraded_from.value if upgraded_from else None,
        "raised_at": _time(entry.raised_at),
        "zone_id": alert.zone_id,
        "camera_id": alert.camera_id,
        "yard_blocks": list(alert.yard_blocks),
        "containers_in_zone": alert.containers_in_zone,
        "snapshot_sha256": alert.snapshot_sha256,
        "last_action": action_json(entry.actions[-1]) if entry.actions else None,
    }


def alert_detail(entry: AlertEntry) -> dict[str, object]:
    alert = entry.alert
    return {
        **alert_summary(entry),
        "event_time": _time(alert.event_time),
        "as_of": _time(alert.as_of),
        "incident_id": alert.incident_id,
        "access_event_ids": list(alert.access_event_ids),
        "containers": [container.model_dump(mode="json") for container in alert.containers],
        "config_hash": alert.config_hash,
        "access_config_hash": alert.access_config_hash,
        "revisions": [
            {"revision": revision, "severity": severity.value}
            for revision, severity in sorted(entry.severities.items())
        ],
        "actions": [action_json(action) for action in entry.actions],
    }


def action_json(action: OperatorAction) -> dict[str, object]:
    return {
        "event_id": action.event_id,
        "alert_id": action.alert_id,
        "alert_revision": action.alert_revision,
        "action": action.action.value,
        "reason": action.reason,
        "operator": action.operator,
        "role": action.role,
        "at": _time(action.event_time),
    }


def camera_json(health: CameraHealth) -> dict[str, object]:
    return health.model_dump(mode="json")


def live_state(board: Board, role: Role, config_hash: str) -> dict[str, object]:
    """One push of the live page: everything it shows, cut to the role."""
    state: dict[str, object] = {
        "version": board.version,
        "cameras": [camera_json(health) for health in board.cameras()],
    }
    if role in ALERT_ROLES:
        state["alerts"] = [alert_summary(entry) for entry in board.entries()]
    if role in ACTION_LOG_ROLES:
        state["actions"] = [action_json(action) for action in board.actions()[:LIVE_ACTION_LOG]]
    if role in CONFIG_ROLES:
        state["config_hash"] = config_hash
    return state


def _time(moment: datetime) -> str:
    return moment.isoformat()
