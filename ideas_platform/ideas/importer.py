"""Import ideas from CSV (title, body, topic, region, author_sector): every row or none."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.core.choices import REGION_LABELS, SECTOR_LABELS, Region, Sector
from ideas_platform.core.database import transaction
from ideas_platform.core.markdown import render_markdown
from ideas_platform.core.validation import clean_text, length_problem
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.processes.models import Process, Topic
from ideas_platform.similarity.service import rebuild as rebuild_similarity

REQUIRED_COLUMNS = ("title", "body", "region")


class ImportFailed(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _lookup(value: str, choices: type[Region] | type[Sector], labels: dict[str, str]) -> str | None:
    """Accept the code ('dresden') or the English label, case-insensitively."""
    wanted = value.strip().lower()
    for member in choices:
        if wanted in (member.value, labels[member].lower()):
            return member.value
    return None


def parse_rows(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8-sig")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed([f"missing column(s): {', '.join(missing)}"])
    return [{(k or "").strip(): (v or "") for k, v in row.items()} for row in reader]


async def import_csv(session: AsyncSession, process_slug: str, data: bytes) -> int:
    try:
        rows = parse_rows(data)
    except UnicodeDecodeError as exc:
        raise ImportFailed(["the file is not UTF-8 encoded"]) from exc
    async with transaction(session):
        process = await session.scalar(select(Process).where(Process.slug == process_slug))
        if process is None:
            raise ImportFailed([f"process {process_slug!r} does not exist"])
        topics = {
            t.name.lower(): t
            for t in await session.scalars(select(Topic).where(Topic.process_id == process.id))
        }
        problems: list[str] = []
        ideas: list[Idea] = []
        for number, row in enumerate(rows, start=2):  # row 1 is the header
            title = clean_text(row.get("title"), max_length=200)
            body = clean_text(row.get("body"), max_length=10000)
            region = _lookup(row.get("region", ""), Region, REGION_LABELS)
            sector_raw = row.get("author_sector") or row.get("sector") or ""
            sector = _lookup(sector_raw, Sector, SECTOR_LABELS) if sector_raw.strip() else None
            topic_name = clean_text(row.get("topic"), max_length=120)
            row_problems = []
            if length_problem(title, minimum=5, maximum=200):
                row_problems.append("title must have 5-200 characters")
            if length_problem(body, minimum=20, maximum=10000):
                row_problems.append("body must have 20-10000 characters")
            if region is None:
                row_problems.append(f"unknown region {row.get('region', '')!r}")
            if sector_raw.strip() and sector is None:
                row_problems.append(f"unknown sector {sector_raw!r}")
            if row_problems:
                problems.append(f"row {number}: " + "; ".join(row_problems))
                continue
            topic = None
            if topic_name:
                topic = topics.get(topic_name.lower())
                if topic is None:
                    topic = Topic(process_id=process.id, name=topic_name)
                    session.add(topic)
                    await session.flush()
                    topics[topic_name.lower()] = topic
            ideas.append(
                Idea(
                    process_id=process.id,
                    author_id=None,
                    author_sector=Sector(sector) if sector else None,
                    title=title,
                    body=body,
                    body_html=render_markdown(body),
                    topic_id=topic.id if topic else None,
                    region=Region(region),  # type: ignore[arg-type]
                    status=IdeaStatus.PUBLISHED,
                    vote_count=0,
                    comment_count=0,
                )
            )
        if problems:
            raise ImportFailed(problems)  # rolls the transaction back: nothing is written
        session.add_all(ideas)
        await session.flush()
        await rebuild_similarity(session, process.id)
    return len(ideas)
