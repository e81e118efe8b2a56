"""The audit report's HTML page: range, contents, verdict, timelines and the alert table."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import tzinfo
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from config.clock import FOOTAGE_LABEL, site_time
from config.site import SiteConfig
from streams.audit.records import TimeRange
from streams.audit.timeline import Timeline, render_svg
from streams.audit.verify import IntegrityVerdict

if TYPE_CHECKING:  # the report builds the rows and hands them to its page
    from streams.audit.report import AlertRow


def verdict_state(verdict: IntegrityVerdict, records: int) -> str:
    """intact, broken, unverified or empty: a range with no records has nothing to be intact,
    and without a trust anchor nothing is vouched for."""
    if records == 0 and not verdict.broken:
        return "empty"
    return verdict.integrity.value.lower()


@dataclass(frozen=True)
class ReportPage:
    """The HTML of a report: what the range holds (`records`, `contents` in words), the
    verdict, and the alerts with their timelines, every time in the site's `zone`."""

    site: SiteConfig
    window: TimeRange
    records: int
    contents: str
    verdict: IntegrityVerdict
    zone: tzinfo
    snapshot_dir: Path

    @property
    def sighting_clock(self) -> str:
        # A camera replaying footage stamps it from its start_time: not the wall clock.
        replayed = any(camera.start_time is not None for camera in self.site.cameras)
        return f" ({FOOTAGE_LABEL} where a camera replays footage)" if replayed else ""

    def html(
        self, rows: list[AlertRow], overview: Timeline | None, episodes: list[Timeline]
    ) -> str:
        site, window, zone = self.site, self.window, self.zone
        state = verdict_state(self.verdict, self.records)
        verdict_text = (
            f"No records between {site_time(window.start, zone)} and "
            f"{site_time(window.end, zone)}: nothing was checked, so nothing is shown as intact."
            if state == "empty"
            else self.verdict.render()
        )
        by_id = {row.latest.alert_id: row for row in rows}
        sections = "\n".join(
            f'<section class="episode" id="episode-{escape(t.key)}"><h3>{escape(t.key)} in '
            f"{escape(by_id[t.key].latest.zone_id)}, {escape(str(by_id[t.key].latest.severity))}"
            f"</h3>{render_svg(t, zone)}</section>"
            for t in episodes
        )
        overview_svg = render_svg(overview, zone) if overview else "<p>Nothing was seen.</p>"
        table_rows = "\n".join(self._table_row(row) for row in rows)
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>quaywatch audit {escape(site.site.id)} {escape(site_time(window.start, zone))}</title>
<style>
body {{ font-family: sans-serif; margin: 24px; color: #212121; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #bdbdbd; padding: 4px 8px; font-size: 13px; vertical-align: top; }}
th {{ background: #eceff1; }}
.sev-critical {{ background: #ffcdd2; }} .sev-high {{ background: #ffe0b2; }}
.sev-medium {{ background: #fff9c4; }} .sev-suppressed {{ background: #eceff1; }}
.verdict {{ padding: 8px; }} .verdict pre {{ white-space: pre-wrap; margin: 0; }}
.verdict.intact {{ border-left: 8px solid #43a047; }}
.verdict.broken {{ border-left: 8px solid #c62828; }}
.verdict.empty {{ border-left: 8px solid #9e9e9e; background: #f5f5f5; }}
.verdict.unverified {{ border-left: 8px solid #f9a825; background: #fffde7; }}
img.thumb {{ width: 96px; }}
</style></head><body>
<h1>Audit report: site {escape(site.site.id)}</h1>
<p id="range">Records from {escape(site_time(window.start, zone))} to
{escape(site_time(window.end, zone))}; all times in {escape(site.site.timezone)}; config
{escape(site.config_hash()[:16])}.</p>
<p id="contents">The range holds {escape(self.contents)}.</p>
<h2>Integrity</h2>
<div class="verdict {state}" id="verdict" data-state="{state}">
<pre>{escape(verdict_text)}</pre></div>
<h2>Timelines</h2>
<p>Blue dots: people seen{escape(self.sighting_clock)}; bars: containers discharged (grey),
selected (red), inspected (amber), released (green); coloured dots: alert revisions by
severity; purple: operator actions (an arrow at the edge: outside the timeline). Hover for
details.</p>
<h3>The whole range</h3>
{overview_svg}
{sections}
<h2>Alerts</h2>
<table id="alerts"><thead><tr><th>Alert</th><th>Zone</th><th>Seen</th>
<th>Severity</th><th>Revisions</th><th>Handled by</th><th>Outcome</th><th>Assigned to</th>
<th>Snapshot</th></tr></thead><tbody>
{table_rows}
</tbody></table>
</body></html>
"""

    def _table_row(self, row: AlertRow) -> str:
        values = row.as_dict(self.zone)
        return (
            f'<tr class="sev-{escape(str(values["severity"]))}">'
            f'<td><a href="#episode-{escape(str(values["alert_id"]))}">'
            f"{escape(str(values['alert_id']))}</a></td>"
            f"<td>{escape(str(values['zone_id']))}</td><td>{escape(str(values['seen_at']))}{self._clock_note(row)}</td>"
            f"<td>{escape(str(values['severity']))}</td><td>{escape(str(values['revisions']))}</td>"
            f"<td>{escape(str(values['handled_by'])) or '—'}</td>"
            f"<td>{escape(str(values['outcome'])) or '—'}</td>"
            f"<td>{escape(str(values['assignee'])) or '—'}</td>"
            f"<td>{_thumbnail(row.latest.snapshot_sha256, self.snapshot_dir)}</td></tr>"
        )

    @staticmethod
    def _clock_note(row: AlertRow) -> str:
        if row.seen_clock == FOOTAGE_LABEL:
            return f' <span class="clock">({escape(FOOTAGE_LABEL)})</span>'
        return ""


def _thumbnail(sha256: str | None, snapshot_dir: Path) -> str:
    if not sha256:
        return ""
    path = snapshot_dir / f"{sha256}.jpg"
    if not path.is_file():
        return f"missing {sha256[:12]}"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img class="thumb" alt="snapshot {sha256[:12]}" src="data:image/jpeg;base64,{data}">'
