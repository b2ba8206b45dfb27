"""Build saxony_map.json, the dashboard's map: Saxony's 13 districts as SVG paths.

    python -m ideas_platform.dashboard.build_map SOURCE.geojson [--width 360] [--tolerance 0.5]

SOURCE is a GeoJSON FeatureCollection of German districts (Kreise) in WGS 84 longitude and
latitude, with the official key in the property "AGS" (or "RS"), as published from the BKG's
VG250/VG2500 (see SOURCES.md). The districts of Saxony (keys 145.., 146.., 147..) are
projected (equirectangular, true to scale at Saxony's middle latitude), fitted into a box
`width` units wide, simplified (Douglas-Peucker, `tolerance` in those units) and written as
SVG path data with one decimal, with a point well inside each district for its label.
Run it again whenever the source changes; the app only reads the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("saxony_map.json")
ATTRIBUTION = "© GeoBasis-DE / BKG 2013 (Daten verändert), dl-de/by-2-0"

# Official district key (AGS) -> ideas_platform.core.choices.Region value
DISTRICTS = {
    "14511": "chemnitz",
    "14521": "erzgebirgskreis",
    "14522": "mittelsachsen",
    "14523": "vogtlandkreis",
    "14524": "zwickau",
    "14612": "dresden",
    "14625": "bautzen",
    "14626": "goerlitz",
    "14627": "meissen",
    "14628": "saechsische_schweiz_osterzgebirge",
    "14713": "leipzig",
    "14729": "landkreis_leipzig",
    "14730": "nordsachsen",
}

Point = tuple[float, float]
Ring = list[Point]


def rings_of(geometry: dict[str, Any]) -> list[Ring]:
    """The outer rings (holes are left out: no Saxon district has one worth drawing)."""
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        raise ValueError(f"unexpected geometry {geometry['type']}")
    return [[(float(x), float(y)) for x, y, *_ in polygon[0]] for polygon in polygons]


def key_of(properties: dict[str, Any]) -> str:
    for name in ("AGS", "ags", "RS", "rs", "AGS_0"):
        if properties.get(name):
            return str(properties[name])[:5]
    return ""


def simplify(points: Ring, tolerance: float) -> Ring:
    """Douglas-Peucker on a closed ring (first point kept, and the point farthest from it)."""
    if len(points) < 5:
        return points
    if points[0] == points[-1]:
        points = points[:-1]
    far = max(range(len(points)), key=lambda i: math.dist(points[0], points[i]))
    first = _dp(points[: far + 1], tolerance)
    second = _dp([*points[far:], points[0]], tolerance)
    return first[:-1] + second[:-1]


def _dp(points: Ring, tolerance: float) -> Ring:
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        start, end = stack.pop()
        best, index = 0.0, 0
        for i in range(start + 1, end):
            d = _distance_to_segment(points[i], points[start], points[end])
            if d > best:
                best, index = d, i
        if best > tolerance:
            keep[index] = True
            stack += [(start, index), (index, end)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _distance_to_segment(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == dy == 0:
        return math.dist(p, a)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.dist(p, (ax + t * dx, ay + t * dy))


def _edges(ring: Ring) -> list[tuple[Point, Point]]:
    return list(zip(ring, ring[1:] + ring[:1], strict=True))


def area(ring: Ring) -> float:
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in _edges(ring))) / 2


def inside(point: Point, ring: Ring) -> bool:
    x, y = point
    result = False
    for (x1, y1), (x2, y2) in _edges(ring):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def label_point(ring: Ring, steps: int = 40) -> Point:
    """The grid point inside the ring farthest from its edge (room for a number)."""
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    best, spot = -1.0, (sum(xs) / len(xs), sum(ys) / len(ys))
    for i in range(1, steps):
        for j in range(1, steps):
            p = (
                min(xs) + (max(xs) - min(xs)) * i / steps,
                min(ys) + (max(ys) - min(ys)) * j / steps,
            )
            if inside(p, ring):
                d = min(_distance_to_segment(p, a, b) for a, b in _edges(ring))
                if d > best:
                    best, spot = d, p
    return spot


def path_data(rings: list[Ring]) -> str:
    """Absolute first point, then relative steps, one decimal: compact SVG path data."""
    parts = []
    for ring in rings:
        x0, y0 = round(ring[0][0], 1), round(ring[0][1], 1)
        steps = [f"M{x0:g} {y0:g}l"]
        px, py = x0, y0
        for x, y in ring[1:]:
            x, y = round(x, 1), round(y, 1)
            if (x, y) != (px, py):
                steps.append(f"{round(x - px, 1):g} {round(y - py, 1):g}")
            px, py = x, y
        parts.append(steps[0] + " ".join(steps[1:]).replace(" -", "-") + "z")
    return "".join(parts)


def build(source: Path, width: float, tolerance: float) -> dict[str, Any]:
    collection = json.loads(source.read_text(encoding="utf-8"))
    found: dict[str, list[Ring]] = {}
    for feature in collection["features"]:
        key = key_of(feature.get("properties") or {})
        if key in DISTRICTS:
            found.setdefault(key, []).extend(rings_of(feature["geometry"]))
    missing = sorted(set(DISTRICTS) - set(found))
    if missing:
        raise SystemExit(f"districts missing in {source}: {missing}")
    lons = [x for rings in found.values() for ring in rings for x, _ in ring]
    lats = [y for rings in found.values() for ring in rings for _, y in ring]
    squeeze = math.cos(math.radians((min(lats) + max(lats)) / 2))
    scale = width / ((max(lons) - min(lons)) * squeeze)
    height = math.ceil((max(lats) - min(lats)) * scale)

    def project(ring: Ring) -> Ring:
        return [((x - min(lons)) * squeeze * scale, (max(lats) - y) * scale) for x, y in ring]

    districts = []
    for key, region in DISTRICTS.items():
        rings = [simplify(project(r), tolerance) for r in found[key]]
        rings = sorted((r for r in rings if len(r) >= 3), key=area, reverse=True)
        rings = [r for r in rings if area(r) >= 2.0]  # specks vanish at this size
        x, y = label_point(rings[0])
        districts.append(
            {
                "ags": key,
                "region": region,
                "path": path_data(rings),
                "label": [round(x, 1), round(y, 1)],
            }
        )
    return {
        "attribution": ATTRIBUTION,
        "source": source.name,
        "width": width,
        "height": height,
        "districts": districts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--width", type=float, default=360)
    parser.add_argument("--tolerance", type=float, default=0.5)
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args()
    data = build(args.source, args.width, args.tolerance)
    args.output.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    points = sum(d["path"].count(" ") for d in data["districts"])
    print(f"{args.output}: {args.output.stat().st_size:,} bytes, about {points} points")


if __name__ == "__main__":
    main()
