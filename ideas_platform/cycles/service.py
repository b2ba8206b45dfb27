"""The next agenda cycle: a new process that carries on an earlier one. The admin picks open
measures and open ideas; measures keep their process and updates and are listed in the new
process too; ideas are copied with a link back, without votes (a fresh vote), and their own
history (votes, comments, decisions) stays with the original."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Select, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ideas_platform.audit import service as audit
from ideas_platform.core.choices import N_
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import InvalidInput, NotFoundError
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.ideas.service import lock_ideas
from ideas_platform.measures.models import CarriedMeasure, Measure, MeasureStatus
from ideas_platform.measures.service import list_measures
from ideas_platform.moderation.models import IdeaCoauthor
from ideas_platform.notifications.service import carry_followers
from ideas_platform.processes.models import Process, Topic
from ideas_platform.processes.service import ProcessForm, write_process
from ideas_platform.shortlists.models import ShortlistEntry
from ideas_platform.similarity.service import index_and_record

# The form lists the most supported open ideas; a process with more is rare and the rest can
# be brought in by hand.
MAX_IDEAS_OFFERED = 500
OPEN_MEASURES = (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS)
SELECTION_GONE = N_(
    "Some of the chosen measures or ideas can no longer be carried over (changed in the"
    " meantime). Please check the list and save again."
)
SLUG_TAKEN = N_("This short name is already in use.")


@dataclass
class Candidates:
    measures: list[Measure]
    ideas: list[Idea]
    # Ideas whose recommendation (or theme) already went into a measure: carried with it.
    in_measure: dict[int, Measure]
    more_ideas: bool


def _open_ideas(source: Process) -> Select[Idea]:
    later = aliased(Idea)
    return (
        select(Idea)
        .where(
            Idea.process_id == source.id,
            Idea.status == IdeaStatus.PUBLISHED,
            ~select(later.id).where(later.carried_over_from_id == Idea.id).exists(),
        )
        .order_by(Idea.vote_count.desc(), Idea.id)
    )


async def _ideas_in_measures(
    session: AsyncSession, measures: list[Measure], idea_ids: list[int]
) -> dict[int, Measure]:
    by_entry = {m.entry_id: m for m in measures}
    if not by_entry or not idea_ids:
        return {}
    entries = list(
        await session.scalars(select(ShortlistEntry).where(ShortlistEntry.id.in_(by_entry)))
    )
    by_idea = {e.idea_id: by_entry[e.id] for e in entries if e.idea_id is not None}
    by_theme = {e.theme_id: by_entry[e.id] for e in entries if e.theme_id is not None}
    found: dict[int, Measure] = {}
    for idea_id, theme_id in await session.execute(
        select(Idea.id, Idea.theme_id).where(Idea.id.in_(idea_ids))
    ):
        measure = by_idea.get(idea_id) or (by_theme.get(theme_id) if theme_id else None)
        if measure is not None:
            found[idea_id] = measure
    return found


async def candidates(session: AsyncSession, source: Process) -> Candidates:
    measures = [m for m in await list_measures(session, source) if m.status in OPEN_MEASURES]
    ideas = list(await session.scalars(_open_ideas(source).limit(MAX_IDEAS_OFFERED + 1)))
    more = len(ideas) > MAX_IDEAS_OFFERED
    ideas = ideas[:MAX_IDEAS_OFFERED]
    return Candidates(
        measures=measures,
        ideas=ideas,
        in_measure=await _ideas_in_measures(session, measures, [i.id for i in ideas]),
        more_ideas=more,
    )


def _ids(values: list[int | None]) -> list[int]:
    """The chosen ids in order, once each; None (not an id at all) is a stale form."""
    if None in values:
        raise InvalidInput({"selection": SELECTION_GONE})
    return list(dict.fromkeys(v for v in values if v is not None))


async def start_next_cycle(
    session: AsyncSession,
    *,
    actor_id: int,
    source: Process,
    form: ProcessForm,
    measure_ids: list[int | None],
    idea_ids: list[int | None],
) -> Process:
    """Create the new process and carry the chosen measures and ideas into it, all in one
    transaction: a wrong date or a short name in use leaves nothing behind."""
    chosen_measures, chosen_ideas = _ids(measure_ids), _ids(idea_ids)
    try:
        async with transaction(session):
            process = await write_process(
                session, actor_id=actor_id, form=form, carried_over_from_id=source.id
            )
            open_measures = {
                m.id for m in await list_measures(session, source) if m.status in OPEN_MEASURES
            }
            if not set(chosen_measures) <= open_measures:
                raise InvalidInput({"selection": SELECTION_GONE})
            for measure_id in chosen_measures:
                session.add(CarriedMeasure(process_id=process.id, measure_id=measure_id))
            copies = await _carry_ideas(session, source, process, chosen_ideas)
            audit.record(
                session,
                actor_id=actor_id,
                action="process.next_cycle",
                target_type="process",
                target_id=process.id,
                after={
                    "carried_over_from": source.id,
                    "measures": chosen_measures,
                    "ideas": {str(old): new for old, new in copies.items()},
                },
            )
    except IntegrityError as exc:
        if "uq_ideas_process_carried_over_from" in str(exc.orig):
            raise InvalidInput({"selection": SELECTION_GONE}) from exc
        raise InvalidInput({"slug": SLUG_TAKEN}) from exc
    return process


async def _carry_ideas(
    session: AsyncSession, source: Process, process: Process, idea_ids: list[int]
) -> dict[int, int]:
    """Copies of the ideas in the new process: same author, text, topic (by name) and region,
    no votes, no comments, no theme; followers and co-authors come along."""
    if not idea_ids:
        return {}
    try:
        originals = await lock_ideas(session, *idea_ids)
    except NotFoundError as exc:  # deleted in the meantime
        raise InvalidInput({"selection": SELECTION_GONE}) from exc
    # Read after the lock: an idea withdrawn or carried elsewhere in the meantime is refused.
    still_open = set(
        await session.scalars(
            _open_ideas(source).with_only_columns(Idea.id).where(Idea.id.in_(idea_ids))
        )
    )
    if still_open != set(idea_ids):
        raise InvalidInput({"selection": SELECTION_GONE})
    old_topics = dict(
        (
            await session.execute(select(Topic.id, Topic.name).where(Topic.process_id == source.id))
        ).all()
    )
    new_topics = {
        name: topic_id
        for topic_id, name in await session.execute(
            select(Topic.id, Topic.name).where(Topic.process_id == process.id)
        )
    }
    copies: dict[int, int] = {}
    for old_id in idea_ids:
        original = originals[old_id]
        copy = Idea(
            process_id=process.id,
            author_id=original.author_id,
            author_sector=original.author_sector,
            topic_id=new_topics.get(old_topics.get(original.topic_id or 0, "")),
            title=original.title,
            body=original.body,
            body_html=original.body_html,
            region=original.region,
            status=IdeaStatus.PUBLISHED,
            vote_count=0,
            comment_count=0,
            carried_over_from_id=original.id,
        )
        session.add(copy)
        await session.flush()
        copies[old_id] = copy.id
        await session.execute(
            pg_insert(IdeaCoauthor)
            .from_select(
                ["idea_id", "user_id"],
                select(literal(copy.id, BigInteger), IdeaCoauthor.user_id).where(
                    IdeaCoauthor.idea_id == original.id
                ),
            )
            .on_conflict_do_nothing()
        )
        await carry_followers(session, from_idea_id=original.id, to_idea_id=copy.id)
        await index_and_record(session, copy)
    return copies
