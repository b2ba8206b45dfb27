"""Geometry of the dashboard's charts, drawn as inline SVG by the templates (no JavaScript).

Every chart is in a fixed coordinate system (`viewBox`) that the page scales to its width; a
phone (390 px) shows it at about its natural size. Labels stay message ids (the templates
translate them), values stay numbers (the templates format them).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ideas_platform.dashboard.service import Counts, Figures, Group, Week, Workshop

WIDTH = 360  # viewBox width of every chart
LEVELS = 5  # colour classes of the map (0 is "nobody")
MAP_FILE = Path(__file__).with_name("saxony_map.json")
OUTSIDE = ("berlin", "brussels", "elsewhere")  # shown as tiles beside the map


@dataclass(frozen=True)
class Bar:
    key: str | None  # sector or region value (None: not known); the CSS class follows it
    value: int
    y: float  # top of the row: the label sits on it, the bar below it
    width: float


BAR_ROW = 34  # label 14, bar 14, gap 6
ROOM = WIDTH - 60  # the longest bar; its number follows it


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: float
    bar_height: float = 14
    label_height: float = 14


def bar_chart(groups: list[Group], measure: str = "participants") -> BarChart:
    """Horizontal bars, one per group, its label above it (long German names fit a phone).
    The "not known" group (no account) has no participants: it is left out of the chart."""
    groups = [g for g in groups if g.key is not None]
    values = [getattr(g.counts, measure) for g in groups]
    top = max(values, default=0) or 1
    bars = [
        Bar(g.key, value, n * BAR_ROW, round(ROOM * value / top, 1))
        for n, (g, value) in enumerate(zip(groups, values, strict=True))
    ]
    return BarChart(bars=bars, height=len(bars) * BAR_ROW)


@dataclass(frozen=True)
class Column:
    week: Week
    value: int
    x: float
    y: float
    width: float
    height: float


PLOT_TOP, PLOT_BOTTOM = 16, 100  # the scale's top and the axis; week labels below it


@dataclass(frozen=True)
class ColumnChart:
    measure: str  # ideas, votes or comments
    columns: list[Column]
    top: int  # the value at the top of the scale
    height: int = 120
    plot_top: int = PLOT_TOP
    plot_bottom: int = PLOT_BOTTOM


def week_charts(weeks: list[Week]) -> list[ColumnChart]:
    """One column chart per measure, each on its own scale (votes outnumber ideas by far)."""
    charts = []
    step = WIDTH / max(len(weeks), 1)
    gap = min(2.0, step / 4)
    for measure in ("ideas", "votes", "comments"):
        values = [getattr(w, measure) for w in weeks]
        top = _nice(max(values, default=0))
        columns = []
        for n, (week, value) in enumerate(zip(weeks, values, strict=True)):
            height = (PLOT_BOTTOM - PLOT_TOP) * value / top if top else 0
            columns.append(
                Column(
                    week=week,
                    value=value,
                    x=round(n * step + gap / 2, 2),
                    y=round(PLOT_BOTTOM - height, 2),
                    width=round(step - gap, 2),
                    height=round(height, 2),
                )
            )
        charts.append(ColumnChart(measure=measure, columns=columns, top=top))
    return charts


def _nice(value: int) -> int:
    """A round number at or above `value` for the top of a scale (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if factor * power >= value:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class WorkshopRow:
    workshop: Workshop
    y: float
    widths: dict[str, float]  # attendees, ideas, votes -> bar width


WORKSHOP_MEASURES = ("attendees", "ideas", "votes")
WORKSHOP_ROW = 50  # title 14, three bars of 8 with 3 between, gap 8


@dataclass(frozen=True)
class WorkshopChart:
    rows: list[WorkshopRow]
    height: float
    tops: dict[str, int]
    bar_height: float = 8


def workshop_chart(workshops: list[Workshop]) -> WorkshopChart:
    """Per workshop three thin bars (attendees, ideas, votes), each measure on its own scale."""
    tops = {m: max((getattr(w, m) for w in workshops), default=0) for m in WORKSHOP_MEASURES}
    rows = [
        WorkshopRow(
            workshop=w,
            y=n * WORKSHOP_ROW,
            widths={
                m: round(ROOM * getattr(w, m) / tops[m], 1) if tops[m] else 0.0
                for m in WORKSHOP_MEASURES
            },
        )
        for n, w in enumerate(workshops)
    ]
    return WorkshopChart(rows=rows, height=len(rows) * WORKSHOP_ROW, tops=tops)


# --------------------------------------------------------------------------- the map


@dataclass(frozen=True)
class District:
    region: str
    ags: str
    path: str
    label_x: float
    label_y: float
    counts: Counts
    level: int


@dataclass(frozen=True)
class Tile:
    region: str
    counts: Counts
    level: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class LegendEntry:
    level: int
    low: int
    high: int


TILE_HEIGHT, TILE_GAP = 44.0, 8.0


@dataclass(frozen=True)
class MapView:
    width: float
    height: float  # the districts and, below them, the tiles
    map_height: float  # the districts alone
    districts: list[District]
    tiles: list[Tile]
    legend: list[LegendEntry]
    attribution: str


@cache
def map_data() -> dict[str, Any]:
    """The districts as SVG paths (built by build_map.py from open boundary data)."""
    data: dict[str, Any] = json.loads(MAP_FILE.read_text(encoding="utf-8"))
    return data


def level(count: int, top: int) -> int:
    """Colour class 0 (nobody) or 1..LEVELS in equal steps up to the largest count."""
    if count <= 0 or top <= 0:
        return 0
    return min(LEVELS, math.ceil(count * LEVELS / top))


def legend(top: int) -> list[LegendEntry]:
    entries = [LegendEntry(0, 0, 0)]
    for k in range(1, LEVELS + 1):
        low, high = (k - 1) * top // LEVELS + 1, k * top // LEVELS
        if top > 0 and low <= high:
            entries.append(LegendEntry(k, low, high))
    return entries


def saxony_map(figures: Figures) -> MapView:
    """Saxony's 13 districts shaded by participants; Berlin, Brussels and elsewhere as tiles."""
    data = map_data()
    width, height = float(data["width"]), float(data["height"])
    counts = {g.key: g.counts for g in figures.by_region if g.key}
    top = max((c.participants for c in counts.values()), default=0)
    districts = [
        District(
            region=d["region"],
            ags=d["ags"],
            path=d["path"],
            label_x=d["label"][0],
            label_y=d["label"][1],
            counts=counts.get(d["region"], Counts()),
            level=level(counts.get(d["region"], Counts()).participants, top),
        )
        for d in data["districts"]
    ]
    tile_width = (width - TILE_GAP * (len(OUTSIDE) - 1)) / len(OUTSIDE)
    tiles = [
        Tile(
            region=region,
            counts=counts.get(region, Counts()),
            level=level(counts.get(region, Counts()).participants, top),
            x=round(n * (tile_width + TILE_GAP), 1),
            y=height + 12,
            width=round(tile_width, 1),
            height=TILE_HEIGHT,
        )
        for n, region in enumerate(OUTSIDE)
    ]
    return MapView(
        width=width,
        height=height + 12 + TILE_HEIGHT,
        map_height=height,
        districts=districts,
        tiles=tiles,
        legend=legend(top),
        attribution=str(data["attribution"]),
    )
