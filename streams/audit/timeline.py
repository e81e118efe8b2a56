"""Inline SVG timelines: rows of marks (people seen, alert revisions, operator actions) and bars
(container states) over one stretch of time.

Drawing only; what to draw comes in as plain rows from the report, which chooses the stretch:
the whole range for the overview, one alert's episode for its own timeline, so that what
happened seconds apart is not drawn on one pixel. A mark outside the stretch is drawn at its
edge as an arrow, its hover label saying when it was. Every time shown is the site's
(config.clock).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from html import escape

from config.clock import clock_time, site_time

WIDTH, LEFT, RIGHT, ROW = 960, 150, 14, 26
TICKS = 6
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
SIGHTING_COLOUR = "#1565c0"
ACTION_COLOUR = "#6a1b9a"


@dataclass(frozen=True)
class Mark:
    at: datetime
    label: str
    colour: str = SIGHTING_COLOUR
    kind: str = "access"  # the SVG class: access, alert or action (drawn as a triangle)


@dataclass(frozen=True)
class Bar:
    """A state from `since` until the next one (None: still so at the end)."""

    since: datetime
    until: datetime | None
    label: str
    colour: str
    kind: str


@dataclass(frozen=True)
class Row:
    name: str
    marks: Sequence[Mark] = ()
    bars: Sequence[Bar] = ()


@dataclass(frozen=True)
class Timeline:
    """`kind` (overview or episode) and `key` (what it is of) end up as SVG attributes."""

    kind: str
    key: str
    rows: Sequence[Row]
    start: datetime
    end: datetime
    attributes: dict[str, str] = field(default_factory=dict)


def stretch(moments: Iterable[datetime], least_s: float = 60.0) -> tuple[datetime, datetime]:
    """The stretch to draw `moments` over: from the first to the last, at least `least_s`
    long, with a tenth of it to spare on each side."""
    ordered = sorted(moments)
    if not ordered:
        raise ValueError("a timeline needs at least one moment")
    first, last = ordered[0], ordered[-1]
    span = max((last - first).total_seconds(), least_s)
    middle = first + (last - first) / 2
    half = timedelta(seconds=span * 0.6)
    return middle - half, middle + half


def render_svg(timeline: Timeline, zone: tzinfo) -> str:
    first, last = timeline.start.timestamp(), timeline.end.timestamp()
    inner = WIDTH - LEFT - RIGHT

    def x(moment: datetime) -> float:
        seconds = min(max(moment.timestamp(), first), last)
        return LEFT + (seconds - first) / (last - first) * inner

    height = ROW * len(timeline.rows) + 34
    extra = "".join(f' {name}="{escape(value)}"' for name, value in timeline.attributes.items())
    parts = [
        f'<svg class="timeline {escape(timeline.kind)}" data-of="{escape(timeline.key)}"'
        f'{extra} width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fafafa"/>',
    ]
    for index, row in enumerate(timeline.rows):
        y = ROW * index + ROW / 2
        parts.append(f'<text x="4" y="{y + 4:.0f}">{escape(row.name[:24])}</text>')
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="#e0e0e0"/>')
        for bar in row.bars:
            parts.append(_bar(bar, x, ROW * index + 5, zone))
        for mark in row.marks:
            parts.append(_mark(mark, x(mark.at), y, _outside(mark.at, timeline), zone))
    axis_y = ROW * len(timeline.rows) + 14
    for step in range(TICKS):
        moment = timeline.start + (timeline.end - timeline.start) * step / (TICKS - 1)
        tick = LEFT + inner * step / (TICKS - 1)
        anchor = "start" if step == 0 else "end" if step == TICKS - 1 else "middle"
        parts.append(
            f'<text class="tick" x="{tick:.0f}" y="{axis_y}" text-anchor="{anchor}">'
            f"{escape(clock_time(moment, zone))}</text>"
        )
    parts.append(
        f'<text class="span" x="{LEFT}" y="{axis_y + 14}">{escape(site_time(timeline.start, zone))}'
        f" to {escape(site_time(timeline.end, zone))}</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _outside(moment: datetime, timeline: Timeline) -> str:
    if moment < timeline.start:
        return "before"
    return "after" if moment > timeline.end else ""


def _mark(mark: Mark, cx: float, cy: float, outside: str, zone: tzinfo) -> str:
    title = f"{site_time(mark.at, zone)} {mark.label}"
    if outside:
        # Off the stretch (an action hours later, on the wall clock): an arrow at the edge.
        title += f" ({outside} this timeline)"
        tip = cx - 8 if outside == "before" else cx + 8
        return (
            f'<polygon class="{mark.kind} outside" points="{tip:.1f},{cy} {cx:.1f},{cy - 6} '
            f'{cx:.1f},{cy + 6}" fill="{mark.colour}"><title>{escape(title)}</title></polygon>'
        )
    if mark.kind == "action":
        return (
            f'<polygon class="action" points="{cx:.1f},{cy - 7} {cx - 6:.1f},{cy + 5} '
            f'{cx + 6:.1f},{cy + 5}" fill="{mark.colour}"><title>{escape(title)}</title></polygon>'
        )
    radius = 6 if mark.kind == "alert" else 4
    return (
        f'<circle class="{mark.kind}" cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" '
        f'fill="{mark.colour}"><title>{escape(title)}</title></circle>'
    )


def _bar(bar: Bar, x, y: float, zone: tzinfo) -> str:
    left = x(bar.since)
    right = x(bar.until) if bar.until is not None else WIDTH - RIGHT
    until = f" until {site_time(bar.until, zone)}" if bar.until is not None else ""
    title = f"{bar.label} from {site_time(bar.since, zone)}{until}"
    return (
        f'<rect class="window {bar.kind}" x="{left:.1f}" y="{y}" '
        f'width="{max(right - left, 2):.1f}" height="{ROW - 10}" fill="{bar.colour}">'
        f"<title>{escape(title)}</title></rect>"
    )
