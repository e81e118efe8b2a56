"""The audit report: one self-contained HTML file (inline SVG, inline snapshots), CSV and JSON.

The HTML opens from disk with no server and no network: everything it shows is in the file.
Every time in it, and in the CSV, is the site's (config.clock); sightings replayed from
footage carry the footage's clock and say so.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from datetime import tzinfo
from pathlib import Path

from config.clock import FOOTAGE_LABEL, site_time, zone_of
from config.site import SiteConfig
from streams.alerts import Alert
from streams.audit.handling import assignee, final_outcome, handled, who_did_what
from streams.audit.records import RecordedLog, TimeRange
from streams.audit.replay import recorded_alerts
from streams.audit.report_page import ReportPage
from streams.audit.timeline import (
    ACTION_COLOUR,
    PHASE_COLOURS,
    SEVERITY_COLOURS,
    Bar,
    Mark,
    Row,
    Timeline,
    stretch,
)
from streams.audit.verify import IntegrityVerdict
from streams.operator_actions import OperatorAction
from streams.record_check import RecordCheck
from streams.terminal.events import ContainerActivity, ContainerEvent
from streams.topics import ACCESS, ALERTS, OPERATOR_ACTIONS, TERMINAL, TOPICS

PHASE_OF = {
    ContainerActivity.discharged: "discharged",
    ContainerActivity.selected_for_scan: "selected",
    ContainerActivity.selected_for_inspection: "selected",
    ContainerActivity.seal_removed: "inspected",
    ContainerActivity.seal_inspected: "inspected",
    ContainerActivity.released: "released",
}
MAX_CONTAINERS_PER_ALERT = 12
WALL_CLOCK = "wall clock"
CSV_COLUMNS = (
    "alert_id",
    "zone_id",
    "seen_at",
    "seen_clock",
    "severity",
    "last_revision",
    "revisions",
    "handled_by",
    "outcome",
    "assignee",
    "snapshot_sha256",
)


@dataclass(frozen=True)
class AlertRow:
    latest: Alert
    revisions: list[Alert]
    actions: list[OperatorAction]
    seen_clock: str = WALL_CLOCK  # FOOTAGE_LABEL when its camera replays footage

    def as_dict(self, zone: tzinfo) -> dict[str, str | int | None]:
        return {
            "alert_id": self.latest.alert_id,
            "zone_id": self.latest.zone_id,
            "seen_at": site_time(self.latest.event_time, zone),
            "seen_clock": self.seen_clock,
            "severity": str(self.latest.severity),
            "last_revision": self.latest.revision,
            "revisions": " -> ".join(f"{a.severity} (r{a.revision})" for a in self.revisions),
            "handled_by": "; ".join(handled(action, zone) for action in self.actions),
            "outcome": final_outcome(self.actions),
            "assignee": assignee(self.actions),
            "snapshot_sha256": self.latest.snapshot_sha256,
        }


@dataclass(frozen=True)
class RangeContents:
    """What the audited range holds: its records (every topic) and the distinct snapshots
    its access events and alerts refer to."""

    records: int
    snapshots: frozenset[str]

    @classmethod
    def of(cls, log: RecordedLog, window: TimeRange) -> RangeContents:
        records = sum(len(log.in_range(topic, window)) for topic in TOPICS)
        referred = {
            message.snapshot_sha256
            for topic in (ACCESS, ALERTS)
            for _, message in log.messages(topic, window)
            if message.snapshot_sha256
        }
        return cls(records, frozenset(referred))

    def render(self) -> str:
        return f"{self.records} records, {len(self.snapshots)} snapshots referred to"


def alert_rows(log: RecordedLog, window: TimeRange) -> list[AlertRow]:
    by_id: dict[str, dict[int, Alert]] = {}
    for alert in recorded_alerts(log, window):
        by_id.setdefault(alert.alert_id, {})[alert.revision] = alert
    actions: dict[str, list[OperatorAction]] = {}
    for _, action in log.messages(OPERATOR_ACTIONS):
        actions.setdefault(action.alert_id, []).append(action)
    rows = []
    for alert_id, revisions in by_id.items():
        ordered = [revisions[n] for n in sorted(revisions)]
        handled = sorted(actions.get(alert_id, []), key=lambda a: a.event_time)
        rows.append(AlertRow(ordered[-1], ordered, handled))
    return sorted(rows, key=lambda row: (row.latest.event_time, row.latest.alert_id))


def timelines(
    site: SiteConfig, log: RecordedLog, window: TimeRange, rows: list[AlertRow], zone: tzinfo
) -> tuple[Timeline | None, list[Timeline]]:
    """The overview of the whole range (a row per zone) and a timeline per alert, each
    scaled to its alert's episode: sightings, revisions and the listed containers' states,
    with operator actions at an edge when they came later than the episode."""
    access = [event for _, event in log.messages(ACCESS, window)]
    histories: dict[str, list[ContainerEvent]] = {}
    for _, event in log.messages(TERMINAL):
        histories.setdefault(event.container_number, []).append(event)
    by_id = {event.event_id: event for event in access}
    episodes = []
    for row in rows:
        # The alert's incidents (the people it joined), each from its start to its end.
        ids = {i for revision in row.revisions for i in revision.access_event_ids}
        incidents = {row.latest.incident_id} | {by_id[i].incident_id for i in ids if i in by_id}
        people = [
            Mark(e.event_time, f"{e.phase} {e.incident_id}")
            for e in access
            if e.incident_id in incidents
        ]
        revisions = [_revision_mark(revision) for revision in row.revisions]
        start, end = stretch([m.at for m in (*people, *revisions)])
        numbers = [c.container_number for c in row.latest.containers][:MAX_CONTAINERS_PER_ALERT]
        episodes.append(
            Timeline(
                "episode",
                row.latest.alert_id,
                [
                    Row("people", people),
                    *[Row(n, bars=_phases(n, histories.get(n, []))) for n in numbers],
                    Row("alert revisions", revisions),
                    Row("operators", [_action_mark(a, zone) for a in row.actions]),
                ],
                start,
                end,
                {"data-zone": row.latest.zone_id},
            )
        )
    return _overview(access, rows, zone), episodes


def _overview(access: list, rows: list[AlertRow], zone: tzinfo) -> Timeline | None:
    zones = sorted({e.zone_id for e in access} | {r.latest.zone_id for r in rows})
    marks = {
        zone_id: [
            *[
                Mark(e.event_time, f"{e.phase} {e.incident_id}")
                for e in access
                if e.zone_id == zone_id
            ],
            *[_revision_mark(a) for r in rows if r.latest.zone_id == zone_id for a in r.revisions],
        ]
        for zone_id in zones
    }
    moments = [mark.at for each in marks.values() for mark in each]
    if not moments:
        return None
    start, end = stretch(moments)
    actions = [_action_mark(a, zone) for r in rows for a in r.actions]
    return Timeline(
        "overview",
        "range",
        [*[Row(zone_id, marks[zone_id]) for zone_id in zones], Row("operators", actions)],
        start,
        end,
    )


def _revision_mark(alert: Alert) -> Mark:
    colour = SEVERITY_COLOURS.get(str(alert.severity), "#000")
    return Mark(
        alert.as_of, f"{alert.alert_id} r{alert.revision} {alert.severity}", colour, "alert"
    )


def _action_mark(action: OperatorAction, zone: tzinfo) -> Mark:
    return Mark(action.event_time, who_did_what(action, zone), ACTION_COLOUR, "action")


def _phases(number: str, history: list[ContainerEvent]) -> list[Bar]:
    phases = [
        (PHASE_OF[e.activity], e.event_time)
        for e in sorted(history, key=lambda e: e.event_time)
        if e.activity in PHASE_OF
    ]
    ends = [*[at for _, at in phases[1:]], None]
    return [
        Bar(since, until, f"{number} {phase}", PHASE_COLOURS[phase], phase)
        for (phase, since), until in zip(phases, ends, strict=True)
    ]


def write_report(
    site: SiteConfig,
    log: RecordedLog,
    window: TimeRange,
    verdict: IntegrityVerdict,
    snapshot_dir: Path,
    out_dir: Path,
) -> Path:
    """Write report.html, alerts.csv and report.json into `out_dir`; return the HTML path.

    Only records that pass the record check are reported as what happened; the verdict names
    the others. A range with no records is reported as such, never as an intact one.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    zone = zone_of(site.site.timezone)
    contents = RangeContents.of(log, window)
    log = log.passing(RecordCheck.for_site(site.signing))
    # A camera replaying footage stamps it from its start_time, not from the wall clock.
    replaying = {camera.id for camera in site.cameras if camera.start_time is not None}
    rows = [
        replace(row, seen_clock=FOOTAGE_LABEL) if row.latest.camera_id in replaying else row
        for row in alert_rows(log, window)
    ]
    with open(out_dir / "alerts.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(row.as_dict(zone) for row in rows)
    summary = {
        "site": site.site.id,
        "timezone": site.site.timezone,
        "range": {"from": window.start.isoformat(), "to": window.end.isoformat()},
        "config_hash": site.config_hash(),
        "records": contents.records,
        "snapshots_referred_to": sorted(contents.snapshots),
        "alerts": [row.as_dict(zone) for row in rows],
        "integrity": {
            "intact": verdict.clean and contents.records > 0,
            "verdict": verdict.integrity.value,
            "signatures": verdict.signatures,
            "records_in_range": verdict.records_in_range,
            "records_checked": verdict.records_checked,
            "snapshots_referenced": verdict.snapshots_referenced,
            "findings": [
                {"kind": f.kind, "where": f.where, "detail": f.detail, "tampering": f.tampering}
                for f in verdict.findings
            ],
        },
    }
    (out_dir / "report.json").write_text(json.dumps(summary, indent=2))
    overview, episodes = timelines(site, log, window, rows, zone)
    page = ReportPage(
        site, window, contents.records, contents.render(), verdict, zone, snapshot_dir
    )
    html_path = out_dir / "report.html"
    html_path.write_text(page.html(rows, overview, episodes))
    return html_path
