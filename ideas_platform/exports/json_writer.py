"""JSON, streamed: the document described by docs/export-schema.json (schema "v1")."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, BinaryIO

from ideas_platform.exports.dataset import ExportData, IdeaRow, Progress

SCHEMA = "ideas-platform/export/v1"


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=None).encode()


def idea_object(row: IdeaRow, base_url: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "url": base_url + row.path,
        "theme_id": row.theme_id,
        "theme": row.theme or None,
        "topic": row.topic or None,
        "region": row.region,
        "author": row.author,
        "coauthors": row.coauthors,
        "event": (
            {"title": row.event, "place": row.event_place, "starts_at": _time(row.event_starts_at)}
            if row.event
            else None
        ),
        "created_at": _time(row.created_at),
        "votes": row.vote_count,
        "comments": row.comment_count,
        "votes_by_sector": row.votes_by_sector,
        "votes_by_region": row.votes_by_region,
        "breadth": round(row.breadth, 6),
        "shortlist": (
            {
                "status": row.decision_code,
                "position": row.position,
                "via_theme": row.via_theme,
                "rationale": row.rationale,
                "ministry_comment": row.ministry_comment,
            }
            if row.decision_code
            else None
        ),
        "merged": [
            {
                "id": m.id,
                "title": m.title,
                "author": m.author,
                "votes": m.votes,
                "merged_at": _time(m.merged_at),
                "note": m.note,
            }
            for m in row.merged
        ],
    }


async def write_json(
    data: ExportData, out: BinaryIO, base_url: str, progress: Progress | None = None
) -> None:
    head = {
        "schema": SCHEMA,
        "process": {"slug": data.process.slug, "title": data.process.title},
        "shortlist": {
            "frozen": data.frozen,
            "frozen_at": _time(data.as_of) if data.frozen else None,
        },
        "ranking_method": {
            "name": "breadth_of_support",
            "description": data.method_text,
            "min_sector_participants": data.min_sector_participants,
            "participants_by_sector": data.participants,
            "counted_sectors": data.counted_sectors,
        },
        "themes": [
            {
                "id": t.id,
                "title": t.title,
                "description": t.description,
                "ideas": t.ideas,
                "supporters": t.supporters,
                "rank": t.rank,
                "locked": t.locked,
            }
            for t in data.themes
        ],
    }
    # The head's keys sort before "ideas" would not hold ("process" > "ideas"), so the ideas
    # array is written last by hand; the head stays a valid, sorted object without it.
    out.write(_dump(head)[:-1] + b', "ideas": [')
    first = True
    async for row in data.ideas(progress):
        out.write((b"\n" if first else b",\n") + _dump(idea_object(row, base_url)))
        first = False
    out.write(b"\n]}\n")
