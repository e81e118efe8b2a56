"""The audit report: one self-contained HTML file (inline SVG, inline snapshots), CSV and JSON.

The HTML opens from disk with no server and no network: everything it shows is in the file.
"""

from __future__ import annotations

import base64
import csv
import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

from config.site import SiteConfig
from streams.alerts import Alert
from streams.audit.records import RecordedLog, TimeRange
from streams.audit.replay import recorded_alerts
from streams.audit.timeline import (
    SEVERITY_COLOURS,
    ContainerWindow,
    Mark,
    ZoneTimeline,
    render_svg,
)
from streams.audit.verify import IntegrityVerdict
from streams.operator_actions import OperatorAction
from streams.record_check import RecordCheck
from streams.terminal.events import ContainerActivity, ContainerEvent
from streams.topics import ACCESS, OPERATOR_ACTIONS, TERMINAL

PHASE_OF = {
    ContainerActivity.discharged: "discharged",
    ContainerActivity.selected_for_scan: "selected",
    ContainerActivity.selected_for_inspection: "selected",
    ContainerActivity.seal_removed: "inspected",
    ContainerActivity.seal_inspected: "inspected",
    ContainerActivity.released: "released",
}
MAX_CONTAINERS_PER_ZONE = 12
CSV_COLUMNS = (
    "alert_id",
    "zone_id",
    "seen_at",
    "severity",
    "last_revision",
    "revisions",
    "handled_by",
    "snapshot_sha256",
)


@dataclass(frozen=True)
class AlertRow:
    latest: Alert
    revisions: list[Alert]
    actions: list[OperatorAction]

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "alert_id": self.latest.alert_id,
            "zone_id": self.latest.zone_id,
            "seen_at": self.latest.event_time.isoformat(),
            "severity": str(self.latest.severity),
            "last_revision": self.latest.revision,
            "revisions": " -> ".join(f"{a.severity} (r{a.revision})" for a in self.revisions),
            "handled_by": "; ".join(_handled(action) for action in self.actions),
            "snapshot_sha256": self.latest.snapshot_sha256,
        }


def _handled(action: OperatorAction) -> str:
    return (
        f"{action.operator} ({action.role}) {action.action} r{action.alert_revision} "
        f"at {action.event_time:%Y-%m-%d %H:%M:%S}Z: {action.reason}"
    )


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


def zone_timelines(
    site: SiteConfig, log: RecordedLog, window: TimeRange, rows: list[AlertRow]
) -> list[ZoneTimeline]:
    access = [event for _, event in log.messages(ACCESS, window)]
    containers = [event for _, event in log.messages(TERMINAL)]
    histories: dict[str, list[ContainerEvent]] = {}
    for event in containers:
        histories.setdefault(event.container_number, []).append(event)
    blocks_of_zone = {zone.id: set(zone.yard_blocks) for zone in site.zones}
    zones = sorted({e.zone_id for e in access} | {r.latest.zone_id for r in rows})
    timelines = []
    for zone_id in zones:
        blocks = blocks_of_zone.get(zone_id, set())
        numbers = sorted(n for n, h in histories.items() if any(e.yard_block in blocks for e in h))
        zone_rows = [r for r in rows if r.latest.zone_id == zone_id]
        timelines.append(
            ZoneTimeline(
                zone_id=zone_id,
                access=[
                    Mark(e.event_time, f"{e.phase} {e.incident_id} {e.event_time:%H:%M:%S}")
                    for e in access
                    if e.zone_id == zone_id
                ],
                containers=[_window(n, histories[n]) for n in numbers[:MAX_CONTAINERS_PER_ZONE]],
                alerts=[
                    Mark(a.as_of, f"{a.alert_id} r{a.revision} {a.severity}", _colour(a))
                    for r in zone_rows
                    for a in r.revisions
                ],
                actions=[
                    Mark(action.event_time, _handled(action))
                    for r in zone_rows
                    for action in r.actions
                ],
            )
        )
    return timelines


def _colour(alert: Alert) -> str:
    return SEVERITY_COLOURS.get(str(alert.severity), "#000")


def _window(number: str, history: list[ContainerEvent]) -> ContainerWindow:
    phases = [
        (PHASE_OF[e.activity], e.event_time)
        for e in sorted(history, key=lambda e: e.event_time)
        if e.activity in PHASE_OF
    ]
    return ContainerWindow(number, phases)


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
    the others.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    log = log.passing(RecordCheck.for_site(site.signing))
    rows = alert_rows(log, window)
    timelines = zone_timelines(site, log, window, rows)
    with open(out_dir / "alerts.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(row.as_dict() for row in rows)
    summary = {
        "site": site.site.id,
        "range": {"from": window.start.isoformat(), "to": window.end.isoformat()},
        "config_hash": site.config_hash(),
        "alerts": [row.as_dict() for row in rows],
        "integrity": {
            "intact": verdict.clean,
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
    html_path = out_dir / "report.html"
    html_path.write_text(_html(site, window, rows, timelines, verdict, snapshot_dir))
    return html_path


def _html(
    site: SiteConfig,
    window: TimeRange,
    rows: list[AlertRow],
    timelines: list[ZoneTimeline],
    verdict: IntegrityVerdict,
    snapshot_dir: Path,
) -> str:
    state = "intact" if verdict.clean else "broken"
    sections = "\n".join(
        f'<section class="zone"><h3>{escape(t.zone_id)}</h3>{render_svg(t)}</section>'
        for t in timelines
    )
    table_rows = "\n".join(_table_row(row, snapshot_dir) for row in rows)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>quaywatch audit {escape(site.site.id)} {escape(str(window))}</title>
<style>
body {{ font-family: sans-serif; margin: 24px; color: #212121; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #bdbdbd; padding: 4px 8px; font-size: 13px; vertical-align: top; }}
th {{ background: #eceff1; }}
.sev-critical {{ background: #ffcdd2; }} .sev-high {{ background: #ffe0b2; }}
.sev-medium {{ background: #fff9c4; }} .sev-suppressed {{ background: #eceff1; }}
.verdict.intact {{ border-left: 8px solid #43a047; padding: 8px; }}
.verdict.broken {{ border-left: 8px solid #c62828; padding: 8px; }}
img.thumb {{ width: 96px; }}
</style></head><body>
<h1>Audit report: site {escape(site.site.id)}</h1>
<p>Records from {escape(window.start.isoformat())} to {escape(window.end.isoformat())};
config {escape(site.config_hash()[:16])}.</p>
<h2>Integrity</h2>
<div class="verdict {state}" id="verdict"><pre>{escape(verdict.render())}</pre></div>
<h2>Timelines</h2>
<p>Blue dots: people seen; bars: containers discharged (grey), selected (red), inspected
(amber), released (green); coloured dots: alert revisions by severity; purple: operator
actions. Hover for details.</p>
{sections}
<h2>Alerts</h2>
<table id="alerts"><thead><tr><th>Alert</th><th>Zone</th><th>Seen</th><th>Severity</th>
<th>Revisions</th><th>Handled by</th><th>Snapshot</th></tr></thead><tbody>
{table_rows}
</tbody></table>
</body></html>
"""


def _table_row(row: AlertRow, snapshot_dir: Path) -> str:
    values = row.as_dict()
    return (
        f'<tr class="sev-{escape(str(values["severity"]))}">'
        f"<td>{escape(str(values['alert_id']))}</td><td>{escape(str(values['zone_id']))}</td>"
        f"<td>{row.latest.event_time:%Y-%m-%d %H:%M:%S}Z</td>"
        f"<td>{escape(str(values['severity']))}</td><td>{escape(str(values['revisions']))}</td>"
        f"<td>{escape(str(values['handled_by'])) or '—'}</td>"
        f"<td>{_thumbnail(row.latest.snapshot_sha256, snapshot_dir)}</td></tr>"
    )


def _thumbnail(sha256: str | None, snapshot_dir: Path) -> str:
    if not sha256:
        return ""
    path = snapshot_dir / f"{sha256}.jpg"
    if not path.is_file():
        return f"missing {sha256[:12]}"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img class="thumb" alt="snapshot {sha256[:12]}" src="data:image/jpeg;base64,{data}">'
