"""Paper cards of a workshop, captured by the moderation afterwards: typed one after another, or
imported from a CSV/XLSX file (preview first, then all rows or none).

A captured card is a published idea of the event without an author account: `captured_by_id`
is the moderator, `author_sector` the sector written on the card.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.accounts.permissions import require_moderator
from ideas_platform.audit.service import record as audit
from ideas_platform.core.choices import Sector
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import InvalidInput
from ideas_platform.core.validation import choice_problem, clean_text
from ideas_platform.events.models import Event
from ideas_platform.ideas import importer
from ideas_platform.ideas.models import Idea
from ideas_platform.ideas.service import IdeaForm, validate
from ideas_platform.processes.models import Process, Topic
from ideas_platform.processes.service import get_by_id as get_process
from ideas_platform.similarity.service import index_and_record

CARDS_SHOWN = 100


async def process_of(session: AsyncSession, event: Event) -> Process:
    return await get_process(session, event.process_id)


async def capture_card(
    session: AsyncSession,
    *,
    event: Event,
    moderator: User,
    title: str,
    body: str,
    author_sector: str,
    region: str,
    topic_id: str | int | None,
) -> Idea:
    """One paper card as an idea of the event, indexed for the duplicates queue. The rules of
    the idea form apply; InvalidInput maps each wrong field to its message."""
    require_moderator(moderator)
    process = await process_of(session, event)
    sector = clean_text(author_sector, max_length=40)
    errors: dict[str, str] = {}
    if sector and (problem := choice_problem(sector, Sector)):
        errors["author_sector"] = problem
    form = IdeaForm(title=title, body=body, topic_id=topic_id, region=region, event_id=event.id)
    try:
        clean = await validate(session, process, form)
    except InvalidInput as exc:
        raise InvalidInput({**exc.errors, **errors}) from exc
    if errors:
        raise InvalidInput(errors)
    async with transaction(session):
        idea = importer.card_idea(
            process.id,
            clean,
            author_sector=Sector(sector) if sector else None,
            event_id=event.id,
            captured_by_id=moderator.id,
        )
        session.add(idea)
        await session.flush()
        await index_and_record(session, idea)
        audit(
            session,
            actor_id=moderator.id,
            action="idea.capture",
            target_type="idea",
            target_id=idea.id,
            after={"event_id": event.id, "title": idea.title},
        )
    return idea


@dataclass
class CapturedCard:
    idea: Idea
    topic_name: str | None


@dataclass
class CapturedCards:
    total: int
    newest: list[CapturedCard]  # at most CARDS_SHOWN, newest first


async def captured_cards(
    session: AsyncSession, event_id: int, limit: int = CARDS_SHOWN
) -> CapturedCards:
    """The cards captured for the event so far (typed or imported), newest first."""
    captured = (Idea.event_id == event_id, Idea.captured_by_id.is_not(None))
    total = await session.scalar(select(func.count()).select_from(Idea).where(*captured))
    rows = await session.execute(
        select(Idea, Topic.name)
        .outerjoin(Topic, Topic.id == Idea.topic_id)
        .where(*captured)
        .order_by(Idea.created_at.desc(), Idea.id.desc())
        .limit(limit)
    )
    return CapturedCards(int(total or 0), [CapturedCard(*row) for row in rows])


async def preview_import(
    session: AsyncSession, event: Event, data: bytes, filename: str
) -> importer.Preview:
    """The file's rows, checked, as the import would create them; ImportFailed if the file as a
    whole cannot be used."""
    return await importer.preview(session, await process_of(session, event), data, filename)


async def import_cards(
    session: AsyncSession, *, event: Event, moderator: User, data: bytes, filename: str
) -> list[Idea]:
    """Every row of the file as an idea of the event captured by the moderator, in one
    transaction; or ImportFailed (with the checked rows) and nothing written."""
    require_moderator(moderator)
    return await importer.import_ideas(
        session,
        await process_of(session, event),
        data,
        filename,
        event_id=event.id,
        captured_by_id=moderator.id,
    )
