"""The shortlist: moderators nominate ideas or themes, the ministry decides, orders, freezes.

Every change takes the process's `shortlists` row FOR UPDATE first, so that a freeze and a
decision never interleave, and positions stay 1..n without gaps. Everything is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, Select, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.accounts.permissions import require_ministry, require_moderator
from ideas_platform.audit.service import record as audit
from ideas_platform.audit.service import record_change
from ideas_platform.core.choices import N_, Role
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import (
    ConflictError,
    DomainError,
    InvalidInput,
    NotFoundError,
    PermissionError_,
)
from ideas_platform.core.validation import clean_text, length_problem
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.ideas.visibility import public_condition
from ideas_platform.notifications import service as notifications
from ideas_platform.processes.models import Process
from ideas_platform.processes.service import now_utc
from ideas_platform.ranking.tally import votes_by_sector
from ideas_platform.shortlists.models import Decision, Shortlist, ShortlistEntry
from ideas_platform.themes.models import Theme

ENTRY_NOT_FOUND = N_("This nomination does not exist.")
FROZEN = N_("The shortlist is frozen. Only an administrator can unfreeze it.")
NOT_FROZEN = N_("The shortlist is not frozen.")
ALREADY_NOMINATED = N_("This is already nominated for the shortlist.")
ONLY_MODERATION = N_("Only the moderation can nominate for the shortlist.")
ONLY_MINISTRY = N_("Only the ministry can decide on the shortlist.")
ONLY_ADMIN = N_("Only an administrator can unfreeze the shortlist.")
NOT_NOMINABLE = N_("Only published ideas and active themes of this process can be nominated.")
PENDING_LEFT = N_("Decide on every nomination before freezing the shortlist.")
NOTHING_ACCEPTED = N_("Accept at least one nomination before freezing the shortlist.")
DECIDED_ALREADY = N_("The ministry has decided on this nomination; it can no longer be withdrawn.")


@dataclass
class EntryView:
    entry: ShortlistEntry
    idea: Idea | None
    theme: Theme | None
    theme_ideas: list[Idea]
    nominated_by: str | None
    # Support at a glance for the ministry: votes (a theme: summed over its ideas) and the number
    # of sectors among the supporters (a theme: among the supporters of any of its ideas).
    votes: int = 0
    sectors: int = 0
    # The place among the accepted entries shown (1..n without gaps), and the moderation's
    # reason where this view may show it (public views: accepted entries only).
    place: int | None = None
    rationale: str | None = None

    @property
    def title(self) -> str:
        return self.idea.title if self.idea else self.theme.title if self.theme else ""

    @property
    def url(self) -> str:
        return f"/ideas/{self.idea.id}" if self.idea else f"/themes/{self.entry.theme_id}"


@dataclass
class ShortlistView:
    process: Process
    frozen_at: datetime | None
    accepted: list[EntryView]  # in the ministry's order
    pending: list[EntryView]  # empty in the public view
    declined: list[EntryView]
    # Staff (moderators, the ministry, admins) see every nomination with the moderation's
    # reasons; everybody else only decided ones, never an idea that was hidden or withdrawn.
    staff: bool = False

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


def clean_note(value: str, *, required: bool, field: str) -> str:
    text = clean_text(value, max_length=2000)
    if problem := length_problem(text, minimum=3 if required else 0, maximum=2000):
        raise InvalidInput({field: problem if text else N_("Please give a reason in a few words.")})
    return text


async def _lock_shortlist(session: AsyncSession, process_id: int) -> Shortlist:
    """The process's shortlist row, created on first use, locked for this transaction."""
    await session.execute(insert(Shortlist).values(process_id=process_id).on_conflict_do_nothing())
    shortlist = await session.scalar(
        select(Shortlist)
        .where(Shortlist.process_id == process_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert shortlist is not None
    return shortlist


async def _locked_open(session: AsyncSession, process_id: int) -> Shortlist:
    shortlist = await _lock_shortlist(session, process_id)
    if shortlist.frozen_at is not None:
        raise ConflictError(FROZEN, code="shortlist_frozen")
    return shortlist


async def entry_by_id(session: AsyncSession, entry_id: int) -> ShortlistEntry:
    entry = await session.get(ShortlistEntry, entry_id, populate_existing=True)
    if entry is None:
        raise NotFoundError(ENTRY_NOT_FOUND, code="entry_not_found")
    return entry


def _state(entry: ShortlistEntry) -> dict[str, Any]:
    return {
        "decision": entry.decision.value,
        "comment": entry.decision_comment,
        "position": entry.position,
    }


async def nominate(
    session: AsyncSession,
    *,
    process: Process,
    moderator: User,
    rationale: str,
    idea_id: int | None = None,
    theme_id: int | None = None,
) -> ShortlistEntry:
    require_moderator(moderator, ONLY_MODERATION)
    rationale = clean_note(rationale, required=True, field="rationale")
    if (idea_id is None) == (theme_id is None):
        raise DomainError(NOT_NOMINABLE, code="not_nominable")
    async with transaction(session):
        await _locked_open(session, process.id)
        idea: Idea | None = None
        theme: Theme | None = None
        if idea_id is not None:
            idea = await session.get(Idea, idea_id)
            if idea is None or idea.process_id != process.id or idea.status != IdeaStatus.PUBLISHED:
                raise DomainError(NOT_NOMINABLE, code="not_nominable")
            existing = ShortlistEntry.idea_id == idea_id
        else:
            theme = await session.get(Theme, theme_id)
            if theme is None or theme.process_id != process.id or theme.merged_into_id:
                raise DomainError(NOT_NOMINABLE, code="not_nominable")
            existing = ShortlistEntry.theme_id == theme_id
        if await session.scalar(select(ShortlistEntry.id).where(existing)) is not None:
            raise ConflictError(ALREADY_NOMINATED, code="already_nominated")
        entry = ShortlistEntry(
            process_id=process.id,
            idea_id=idea_id,
            theme_id=theme_id,
            rationale=rationale,
            nominated_by_id=moderator.id,
            decision=Decision.PENDING,
            decision_comment="",
        )
        session.add(entry)
        await session.flush()
        audit(
            session,
            actor_id=moderator.id,
            action="shortlist.nominate",
            target_type="shortlist_entry",
            target_id=entry.id,
            after={"idea_id": idea_id, "theme_id": theme_id, "rationale": rationale},
        )
        await notifications.on_shortlist(
            session,
            "nominated",
            actor_id=moderator.id,
            idea=idea,
            theme_id=theme.id if theme else None,
            theme_title=theme.title if theme else "",
            process_id=process.id,
        )
    return entry


async def withdraw_nomination(session: AsyncSession, *, entry_id: int, moderator: User) -> int:
    """Takes back a nomination the ministry has not decided on; answers the process id."""
    require_moderator(moderator, ONLY_MODERATION)
    async with transaction(session):
        process_id = (await entry_by_id(session, entry_id)).process_id
        await _locked_open(session, process_id)
        entry = await entry_by_id(session, entry_id)
        if entry.decision != Decision.PENDING:
            raise ConflictError(DECIDED_ALREADY, code="already_decided")
        audit(
            session,
            actor_id=moderator.id,
            action="shortlist.withdraw",
            target_type="shortlist_entry",
            target_id=entry.id,
            before={
                "idea_id": entry.idea_id,
                "theme_id": entry.theme_id,
                "rationale": entry.rationale,
            },
        )
        await session.delete(entry)
    return process_id


async def _close_gap(session: AsyncSession, process_id: int, position: int) -> None:
    await session.execute(
        update(ShortlistEntry)
        .where(ShortlistEntry.process_id == process_id, ShortlistEntry.position > position)
        .values(position=ShortlistEntry.position - 1)
    )


async def decide(
    session: AsyncSession, *, entry_id: int, official: User, accept: bool, comment: str
) -> ShortlistEntry:
    """Accept (appended at the end of the order) or decline, with a comment for the public.
    A decision may be changed until the shortlist is frozen."""
    require_ministry(official, ONLY_MINISTRY)
    comment = clean_note(comment, required=not accept, field="comment")
    async with transaction(session):
        process_id = (await entry_by_id(session, entry_id)).process_id
        await _locked_open(session, process_id)
        entry = await entry_by_id(session, entry_id)
        before = _state(entry)
        if accept and entry.decision != Decision.ACCEPTED:
            last = await session.scalar(
                select(func.max(ShortlistEntry.position)).where(
                    ShortlistEntry.process_id == process_id
                )
            )
            entry.position = (last or 0) + 1
        gap = entry.position if not accept else None
        if gap is not None:
            entry.position = None
        entry.decision = Decision.ACCEPTED if accept else Decision.DECLINED
        entry.decision_comment = comment
        entry.decided_by_id = official.id
        entry.decided_at = now_utc()
        await session.flush()
        if gap is not None:
            await _close_gap(session, process_id, gap)
        record_change(
            session,
            actor_id=official.id,
            action="shortlist.accept" if accept else "shortlist.decline",
            target_type="shortlist_entry",
            target_id=entry.id,
            before=before,
            after=_state(entry),
        )
        if before.get("decision") != entry.decision.value:
            theme = await session.get(Theme, entry.theme_id) if entry.theme_id else None
            await notifications.on_shortlist(
                session,
                "accepted" if accept else "declined",
                actor_id=official.id,
                idea=await session.get(Idea, entry.idea_id) if entry.idea_id else None,
                theme_id=entry.theme_id,
                theme_title=theme.title if theme else "",
                process_id=process_id,
                note=comment,
            )
    return await entry_by_id(session, entry_id)


async def move(session: AsyncSession, *, entry_id: int, official: User, up: bool) -> ShortlistEntry:
    """One place up or down in the order of the accepted entries."""
    require_ministry(official, ONLY_MINISTRY)
    async with transaction(session):
        process_id = (await entry_by_id(session, entry_id)).process_id
        await _locked_open(session, process_id)
        entry = await entry_by_id(session, entry_id)
        if entry.position is None:
            raise DomainError(
                N_("Only accepted entries have a place in the order."), code="entry_not_accepted"
            )
        other = await session.scalar(
            select(ShortlistEntry).where(
                ShortlistEntry.process_id == process_id,
                ShortlistEntry.position == entry.position + (-1 if up else 1),
            )
        )
        if other is not None:
            old = entry.position
            assert other.position is not None
            entry.position, other.position = other.position, old
            record_change(
                session,
                actor_id=official.id,
                action="shortlist.reorder",
                target_type="shortlist_entry",
                target_id=entry.id,
                before={"position": old},
                after={"position": entry.position},
            )
    return entry


async def freeze(session: AsyncSession, *, process: Process, official: User) -> Shortlist:
    require_ministry(official, ONLY_MINISTRY)
    async with transaction(session):
        shortlist = await _locked_open(session, process.id)
        decisions = dict(
            (
                await session.execute(
                    select(ShortlistEntry.decision, func.count())
                    .where(ShortlistEntry.process_id == process.id)
                    .group_by(ShortlistEntry.decision)
                )
            ).all()
        )
        if decisions.get(Decision.PENDING):
            raise ConflictError(PENDING_LEFT, code="decisions_pending")
        if not decisions.get(Decision.ACCEPTED):
            raise ConflictError(NOTHING_ACCEPTED, code="nothing_accepted")
        shortlist.frozen_at = now_utc()
        shortlist.frozen_by_id = official.id
        record_change(
            session,
            actor_id=official.id,
            action="shortlist.freeze",
            target_type="process",
            target_id=process.id,
            before={"frozen_at": None},
            after={"frozen_at": shortlist.frozen_at},
        )
    return shortlist


async def unfreeze(
    session: AsyncSession, *, process: Process, admin: User, reason: str
) -> Shortlist:
    if admin.role != Role.ADMIN:
        raise PermissionError_(ONLY_ADMIN, code="admin_only")
    reason = clean_note(reason, required=True, field="reason")
    async with transaction(session):
        shortlist = await _lock_shortlist(session, process.id)
        if shortlist.frozen_at is None:
            raise ConflictError(NOT_FROZEN, code="shortlist_not_frozen")
        before = {"frozen_at": shortlist.frozen_at.isoformat()}
        shortlist.frozen_at = None
        shortlist.frozen_by_id = None
        audit(
            session,
            actor_id=admin.id,
            action="shortlist.unfreeze",
            target_type="process",
            target_id=process.id,
            before=before,
            after={"frozen_at": None, "reason": reason},
        )
    return shortlist


async def frozen_at(session: AsyncSession, process_id: int) -> datetime | None:
    return await session.scalar(
        select(Shortlist.frozen_at).where(Shortlist.process_id == process_id)
    )


def is_staff(viewer: User | None) -> bool:
    """Who sees the whole shortlist: pending nominations, reasons, hidden ideas."""
    return viewer is not None and (viewer.can_moderate or viewer.is_ministry)


def _shown_entries(staff: bool) -> Select[ShortlistEntry]:
    """The entries of the shortlist the staff (`is_staff`) or the public may see (a SELECT, in
    the ministry's order)."""
    stmt = select(ShortlistEntry).order_by(
        ShortlistEntry.position.nulls_last(), ShortlistEntry.created_at
    )
    if staff:
        return stmt
    # Public: decided only, and an idea's entry only while everybody may read the idea.
    public_idea = select(Idea.id).where(Idea.id == ShortlistEntry.idea_id, public_condition())
    return stmt.where(
        ShortlistEntry.decision != Decision.PENDING,
        ShortlistEntry.idea_id.is_(None) | public_idea.exists(),
    )


# Built once (issue 16: building a statement per request cost more CPU than running it).
# staff? -> the entries shown.
_SHOWN_ENTRIES = {staff: _shown_entries(staff) for staff in (False, True)}
_PROCESS_ID = bindparam("process_id", type_=BigInteger())
# The public place of an accepted entry: the shown entries up to its position.
_PUBLIC_PLACE = select(func.count()).select_from(
    _SHOWN_ENTRIES[False]
    .where(
        ShortlistEntry.process_id == _PROCESS_ID,
        ShortlistEntry.position <= bindparam("position", type_=Integer()),
    )
    .subquery()
)
_SHOWN_ENTRIES_OF_PROCESS = {
    staff: stmt.where(ShortlistEntry.process_id == _PROCESS_ID)
    for staff, stmt in _SHOWN_ENTRIES.items()
}
_IDEA_ID = bindparam("idea_id", type_=BigInteger())
# The nomination covering an idea: its own (first), else its theme's.
_ENTRY_OF_IDEA = (
    select(ShortlistEntry)
    .where(ShortlistEntry.idea_id == _IDEA_ID)
    .order_by(ShortlistEntry.theme_id.nulls_first())
    .limit(1)
)
_ENTRY_OF_IDEA_OR_THEME = (
    select(ShortlistEntry)
    .where(
        (ShortlistEntry.idea_id == _IDEA_ID)
        | (ShortlistEntry.theme_id == bindparam("theme_id", type_=BigInteger()))
    )
    .order_by(ShortlistEntry.theme_id.nulls_first())
    .limit(1)
)


async def view(
    session: AsyncSession, process: Process, viewer: User | None = None
) -> ShortlistView:
    """The shortlist as `viewer` may see it (None: the public view)."""
    staff = is_staff(viewer)
    entries = list(
        await session.scalars(_SHOWN_ENTRIES_OF_PROCESS[staff], {"process_id": process.id})
    )
    idea_ids = [e.idea_id for e in entries if e.idea_id]
    theme_ids = [e.theme_id for e in entries if e.theme_id]
    ideas = {i.id: i for i in await session.scalars(select(Idea).where(Idea.id.in_(idea_ids)))}
    themes = {t.id: t for t in await session.scalars(select(Theme).where(Theme.id.in_(theme_ids)))}
    members: dict[int, list[Idea]] = {}
    for idea in await session.scalars(
        # a theme's published ideas count (a business rule, for staff too)
        select(Idea)
        .where(Idea.theme_id.in_(theme_ids), Idea.status == IdeaStatus.PUBLISHED)
        .order_by(Idea.vote_count.desc(), Idea.id)
    ):
        assert idea.theme_id is not None
        members.setdefault(idea.theme_id, []).append(idea)
    names = dict(
        (
            await session.execute(
                select(User.id, User.display_name).where(
                    User.id.in_([e.nominated_by_id for e in entries if e.nominated_by_id])
                )
            )
        ).all()
    )
    by_sector = await votes_by_sector(session, process.id)
    views = []
    for e in entries:
        own = ideas.get(e.idea_id) if e.idea_id else None
        theme_ideas = members.get(e.theme_id, []) if e.theme_id else []
        counted = [own] if own else theme_ideas
        sectors = {s for i in counted for s, n in by_sector.get(i.id, {}).items() if n}
        views.append(
            EntryView(
                entry=e,
                idea=own,
                theme=themes.get(e.theme_id) if e.theme_id else None,
                theme_ideas=theme_ideas,
                nominated_by=names.get(e.nominated_by_id) if e.nominated_by_id else None,
                votes=sum(i.vote_count for i in counted),
                sectors=len(sectors),
                rationale=e.rationale if staff or e.decision == Decision.ACCEPTED else None,
            )
        )
    accepted = [v for v in views if v.entry.decision == Decision.ACCEPTED]
    for place, accepted_view in enumerate(accepted, start=1):
        accepted_view.place = place
    return ShortlistView(
        process=process,
        frozen_at=await frozen_at(session, process.id),
        accepted=accepted,
        pending=[v for v in views if v.entry.decision == Decision.PENDING],
        declined=[v for v in views if v.entry.decision == Decision.DECLINED],
        staff=staff,
    )


async def place_of(session: AsyncSession, entry: ShortlistEntry, viewer: User | None) -> int | None:
    """An accepted entry's place as `viewer` sees the shortlist (the public list has no gaps
    where an idea was hidden or withdrawn)."""
    if entry.position is None or is_staff(viewer):
        return entry.position
    before = await session.scalar(
        _PUBLIC_PLACE, {"process_id": entry.process_id, "position": entry.position}
    )
    return int(before or 0) or None


async def entry_for_idea(session: AsyncSession, idea: Idea) -> ShortlistEntry | None:
    """The nomination that covers an idea: its own, else its theme's."""
    if idea.theme_id is None:
        return await session.scalar(_ENTRY_OF_IDEA, {"idea_id": idea.id})
    return await session.scalar(
        _ENTRY_OF_IDEA_OR_THEME, {"idea_id": idea.id, "theme_id": idea.theme_id}
    )


async def theme_entry(session: AsyncSession, theme_id: int) -> ShortlistEntry | None:
    return await session.scalar(select(ShortlistEntry).where(ShortlistEntry.theme_id == theme_id))
