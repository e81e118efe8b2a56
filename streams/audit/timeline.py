"""An inline SVG timeline of one zone: people seen, container windows, alerts, operator actions.

Drawing only; what to draw comes in as plain lists from the report. The time axis is event
time (when things happened), the one clock every message shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

WIDTH, LEFT, ROW = 960, 150, 26
SEVERITY_COLOURS = {
    "critical": "#c62828",
    "high": "#ef6c00",
    "medium": "#f9a825",
    "suppressed": "#78909c",
}
# Container phases: in the yard, selected by customs, being inspected, released.
PHASE_COLOURS = {
    "discharged": "#90a4ae",
    "selected": "#d32f2f",
    "inspected": "#ffb300",
    "released": "#43a047",
}


@dataclass(frozen=True)
class ContainerWindow:
    container_number: str
    phases: list[tuple[str, datetime]]  # (phase, from), in time order; each lasts to the next


@dataclass(frozen=True)
class Mark:
    at: datetime
    label: str
    colour: str = "#1565c0"


@dataclass(frozen=True)
class ZoneTimeline:
    zone_id: str
    access: list[Mark]
    containers: list[ContainerWindow]
    alerts: list[Mark]
    actions: list[Mark]


def render_svg(timeline: ZoneTimeline) -> str:
    moments = [m.at for m in (*timeline.access, *timeline.alerts, *timeline.actions)]
    if not moments:
        return ""
    start, end = min(moments), max(moments)
    span = max((end - start).total_seconds(), 60.0)
    pad = span * 0.1
    first, last = start.timestamp() - pad, end.timestamp() + pad

    def x(moment: datetime) -> float:
        seconds = min(max(moment.timestamp(), first), last)
        return LEFT + (seconds - first) / (last - first) * (WIDTH - LEFT - 10)

    rows = ["people", *[c.container_number for c in timeline.containers], "alerts", "operators"]
    height = ROW * len(rows) + 30
    parts = [
        f'<svg class="timeline" data-zone="{escape(timeline.zone_id)}" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" '
        'font-family="sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fafafa"/>',
    ]
    for index, name in enumerate(rows):
        y = ROW * index + ROW / 2
        parts.append(f'<text x="4" y="{y + 4:.0f}">{escape(name)}</text>')
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{y}" y2="{y}" stroke="#e0e0e0"/>')
    for mark in timeline.access:
        parts.append(_dot(x(mark.at), ROW / 2, 5, "#1565c0", mark.label, "access"))
    for row, window in enumerate(timeline.containers, start=1):
        y = ROW * row + 5
        ends = [*[at for _, at in window.phases[1:]], None]
        for (phase, since), until in zip(window.phases, ends, strict=True):
            left = x(since)
            right = x(until) if until is not None else WIDTH - 10
            parts.append(
                f'<rect class="window {phase}" x="{left:.1f}" y="{y}" '
                f'width="{max(right - left, 2):.1f}" height="{ROW - 10}" '
                f'fill="{PHASE_COLOURS[phase]}"><title>{escape(window.container_number)} '
                f"{phase} from {since:%H:%M:%S}</title></rect>"
            )
    alert_y = ROW * (len(rows) - 2) + ROW / 2
    for mark in timeline.alerts:
        parts.append(_dot(x(mark.at), alert_y, 6, mark.colour, mark.label, "alert"))
    action_y = ROW * (len(rows) - 1) + ROW / 2
    for mark in timeline.actions:
        cx = x(mark.at)
        parts.append(
            f'<polygon class="action" points="{cx:.1f},{action_y - 7} {cx - 6:.1f},'
            f'{action_y + 5} {cx + 6:.1f},{action_y + 5}" fill="#6a1b9a">'
            f"<title>{escape(mark.label)}</title></polygon>"
        )
    axis_y = ROW * len(rows) + 14
    for step in range(6):
        seconds = first + (last - first) * step / 5
        tick = LEFT + (WIDTH - LEFT - 10) * step / 5
        label = datetime.fromtimestamp(seconds, start.tzinfo).strftime("%H:%M:%S")
        parts.append(f'<text x="{tick:.0f}" y="{axis_y}" text-anchor="middle">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _dot(cx: float, cy: float, radius: int, colour: str, label: str, kind: str) -> str:
    return (
        f'<circle class="{kind}" cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" fill="{colour}">'
        f"<title>{escape(label)}</title></circle>"
    )
