"""Themes of the cluster board: create, move ideas, rename, lock, merge, undo a move.

Participants sort ideas during the cluster phase; moderators (and admins) at any time, also in
and out of locked themes. Every change is in the audit log; a move's entry is what "undo" uses.
Moves lock the idea row, so two people moving the same card end in one state, and the audit
log tells the moves in the order they happened (each entry's "before" is the previous "after").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.accounts.permissions import require_moderator
from ideas_platform.audit.models import AuditEntry
from ideas_platform.audit.service import record as audit
from ideas_platform.audit.service import record_change
from ideas_platform.core.choices import N_, Sector
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError, InvalidInput, NotFoundError, PermissionError_
from ideas_platform.core.validation import clean_text, length_problem
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.ideas.service import lock_idea
from ideas_platform.notifications import service as notifications
from ideas_platform.processes.models import PhaseKind, Process
from ideas_platform.processes.service import is_open_for
from ideas_platform.themes.models import Theme
from ideas_platform.votes.models import Vote

NOT_CLUSTER_PHASE = N_("Ideas can be sorted into themes only in the cluster phase.")
THEME_NOT_FOUND = N_("This theme does not exist.")
THEME_LOCKED = N_("This theme is locked. Only the moderation can move its ideas.")
OTHER_PROCESS = N_("The idea and the theme belong to different processes.")
NOT_SORTABLE = N_("Only published ideas can be sorted into themes.")
MERGE_INTO_ITSELF = N_("A theme cannot be merged into itself.")
MOVE_NOT_UNDOABLE = N_("The idea has been moved again since; this move can no longer be undone.")


def can_sort(process: Process, user: User | None) -> bool:
    return user is not None and (user.can_moderate or is_open_for(process, PhaseKind.CLUSTER))


def _require_sorting(process: Process, user: User) -> None:
    if not can_sort(process, user):
        raise PermissionError_(NOT_CLUSTER_PHASE, code="not_cluster_phase")


def clean_theme(title: str, description: str) -> tuple[str, str]:
    title = clean_text(title, max_length=120)
    description = clean_text(description, max_length=500)
    errors: dict[str, str] = {}
    if problem := length_problem(title, minimum=3, maximum=120):
        errors["title"] = problem if title else N_("Please give the theme a title.")
    if problem := length_problem(description, minimum=0, maximum=500):
        errors["description"] = problem
    if errors:
        raise InvalidInput(errors)
    return title, description


@dataclass
class Column:
    theme: Theme | None  # None: the "unsorted" column
    ideas: list[Idea] = field(default_factory=list)


@dataclass
class Board:
    process: Process
    unsorted: Column
    columns: list[Column]

    @property
    def themes(self) -> list[Theme]:
        return [column.theme for column in self.columns if column.theme is not None]


async def active_themes(session: AsyncSession, process_id: int) -> list[Theme]:
    return list(
        await session.scalars(
            select(Theme)
            .where(Theme.process_id == process_id, Theme.merged_into_id.is_(None))
            .order_by(Theme.created_at, Theme.id)
        )
    )


async def board(session: AsyncSession, process: Process) -> Board:
    themes = await active_themes(session, process.id)
    columns = {theme.id: Column(theme) for theme in themes}
    unsorted = Column(None)
    ideas = await session.scalars(
        select(Idea)
        .where(Idea.process_id == process.id, Idea.status == IdeaStatus.PUBLISHED)
        .order_by(Idea.vote_count.desc(), Idea.id)
    )
    for idea in ideas:
        columns.get(idea.theme_id or 0, unsorted).ideas.append(idea)
    return Board(process, unsorted, list(columns.values()))


async def _theme(
    session: AsyncSession, theme_id: int, *, lock: bool = False, share: bool = False
) -> Theme:
    """An active theme; `lock` to change it, `share` so that nobody merges it meanwhile."""
    stmt = select(Theme).where(Theme.id == theme_id, Theme.merged_into_id.is_(None))
    if lock:
        stmt = stmt.with_for_update(key_share=True)
    elif share:
        stmt = stmt.with_for_update(read=True)
    theme = await session.scalar(stmt.execution_options(populate_existing=True))
    if theme is None:
        raise NotFoundError(THEME_NOT_FOUND, code="theme_not_found")
    return theme


async def create_theme(
    session: AsyncSession, *, process: Process, user: User, title: str, description: str = ""
) -> Theme:
    _require_sorting(process, user)
    title, description = clean_theme(title, description)
    async with transaction(session):
        theme = Theme(
            process_id=process.id, title=title, description=description, created_by_id=user.id
        )
        session.add(theme)
        await session.flush()
        audit(
            session,
            actor_id=user.id,
            action="theme.create",
            target_type="theme",
            target_id=theme.id,
            after={"title": title, "description": description},
        )
    return theme


@dataclass(frozen=True)
class Move:
    idea_id: int
    process_id: int
    before: int | None
    after: int | None


async def move_idea(
    session: AsyncSession, *, idea_id: int, theme_id: int | None, user: User
) -> Move:
    """Put the idea into a theme (None: back to "unsorted")."""
    async with transaction(session):
        # Themes before ideas, as merging does: a theme being merged cannot receive the idea.
        target = await _theme(session, theme_id, share=True) if theme_id is not None else None
        idea = await lock_idea(session, idea_id)
        process = await session.get(Process, idea.process_id)
        assert process is not None
        _require_sorting(process, user)
        if idea.status != IdeaStatus.PUBLISHED:
            raise DomainError(NOT_SORTABLE, code="idea_not_sortable")
        if target is not None and target.process_id != idea.process_id:
            raise DomainError(OTHER_PROCESS, code="other_process")
        source = await session.get(Theme, idea.theme_id) if idea.theme_id else None
        if not user.can_moderate and any(t is not None and t.locked for t in (source, target)):
            raise PermissionError_(THEME_LOCKED, code="theme_locked")
        move = Move(idea.id, idea.process_id, idea.theme_id, theme_id)
        if move.before != move.after:
            idea.theme_id = theme_id
            audit(
                session,
                actor_id=user.id,
                action="idea.move",
                target_type="idea",
                target_id=idea.id,
                before={"theme_id": move.before},
                after={"theme_id": move.after},
            )
            if target is not None:
                await notifications.on_idea_into_theme(
                    session, idea, theme_id=target.id, theme_title=target.title, actor_id=user.id
                )
    return move


async def undo_move(session: AsyncSession, *, entry_id: int, moderator: User) -> Move:
    """Put the idea back where a logged move took it from, if nobody moved it since."""
    require_moderator(moderator)
    entry = await session.get(AuditEntry, entry_id)
    if entry is None or entry.action != "idea.move" or entry.target_id is None:
        raise NotFoundError(N_("This move is not in the log."), code="move_not_found")
    before = (entry.before or {}).get("theme_id")
    after = (entry.after or {}).get("theme_id")
    async with transaction(session):
        back = await destination(session, before)
        if back is not None:
            await _theme(session, back, share=True)
        idea = await lock_idea(session, entry.target_id)
        newest = await session.scalar(
            select(func.max(AuditEntry.id)).where(
                AuditEntry.target_type == "idea",
                AuditEntry.target_id == idea.id,
                AuditEntry.action.in_(("idea.move", "idea.move.undo")),
            )
        )
        if idea.theme_id != after or newest != entry.id:
            raise DomainError(MOVE_NOT_UNDOABLE, code="move_not_undoable")
        before = back
        idea.theme_id = before
        audit(
            session,
            actor_id=moderator.id,
            action="idea.move.undo",
            target_type="idea",
            target_id=idea.id,
            before={"theme_id": after, "undone_entry": entry.id},
            after={"theme_id": before},
        )
        return Move(idea.id, idea.process_id, after, before)


async def destination(session: AsyncSession, theme_id: int | None) -> int | None:
    """Where ideas of a theme are now: itself, or the theme it was merged into (a chain)."""
    for _ in range(50):
        if theme_id is None:
            return None
        theme = await session.get(Theme, theme_id)
        if theme is None:
            return None
        if theme.merged_into_id is None:
            return theme.id
        theme_id = theme.merged_into_id
    return None


async def rename_theme(
    session: AsyncSession, *, theme_id: int, moderator: User, title: str, description: str
) -> Theme:
    require_moderator(moderator)
    title, description = clean_theme(title, description)
    async with transaction(session):
        theme = await _theme(session, theme_id, lock=True)
        record_change(
            session,
            actor_id=moderator.id,
            action="theme.rename",
            target_type="theme",
            target_id=theme.id,
            before={"title": theme.title, "description": theme.description},
            after={"title": title, "description": description},
        )
        theme.title, theme.description = title, description
    return theme


async def set_locked(
    session: AsyncSession, *, theme_id: int, moderator: User, locked: bool
) -> Theme:
    require_moderator(moderator)
    async with transaction(session):
        theme = await _theme(session, theme_id, lock=True)
        record_change(
            session,
            actor_id=moderator.id,
            action="theme.lock" if locked else "theme.unlock",
            target_type="theme",
            target_id=theme.id,
            before={"locked": theme.locked},
            after={"locked": locked},
        )
        theme.locked = locked
    return theme


async def merge_themes(
    session: AsyncSession, *, source_id: int, target_id: int, moderator: User
) -> Theme:
    """All ideas of `source` go to `target`; `source` leaves the board."""
    require_moderator(moderator)
    if source_id == target_id:
        raise DomainError(MERGE_INTO_ITSELF, code="merge_into_itself")
    async with transaction(session):
        first, second = sorted((source_id, target_id))
        locked = {first: await _theme(session, first, lock=True)}
        locked[second] = await _theme(session, second, lock=True)
        source, target = locked[source_id], locked[target_id]
        if source.process_id != target.process_id:
            raise DomainError(OTHER_PROCESS, code="other_process")
        moved = list(
            await session.scalars(
                update(Idea)
                .where(Idea.theme_id == source.id)
                .values(theme_id=target.id)
                .returning(Idea.id)
            )
        )
        source.merged_into_id = target.id
        audit(
            session,
            actor_id=moderator.id,
            action="theme.merge",
            target_type="theme",
            target_id=source.id,
            before={"theme_id": source.id, "ideas": sorted(moved)},
            after={"merged_into": target.id},
        )
    return target


@dataclass
class ThemeView:
    theme: Theme
    ideas: list[Idea]
    supporters: int  # distinct people supporting at least one idea of the theme
    supporters_by_sector: dict[Sector, int]
    rank: int  # place among the process's themes by distinct supporters (1 = most)
    themes: int


async def supporters_per_theme(session: AsyncSession, process_id: int) -> dict[int, int]:
    rows = await session.execute(
        select(Idea.theme_id, func.count(func.distinct(Vote.user_id)))
        .join(Vote, Vote.idea_id == Idea.id)
        .join(Theme, Theme.id == Idea.theme_id)
        .where(
            Idea.process_id == process_id,
            Idea.status == IdeaStatus.PUBLISHED,
            Theme.merged_into_id.is_(None),
        )
        .group_by(Idea.theme_id)
    )
    return {theme_id: count for theme_id, count in rows if theme_id is not None}


async def theme_view(session: AsyncSession, theme_id: int) -> ThemeView:
    theme = await _theme(session, theme_id)
    ideas = list(
        await session.scalars(
            select(Idea)
            .where(Idea.theme_id == theme.id, Idea.status == IdeaStatus.PUBLISHED)
            .order_by(Idea.vote_count.desc(), Idea.id)
        )
    )
    by_sector_rows = await session.execute(
        select(User.sector, func.count(func.distinct(User.id)))
        .join(Vote, Vote.user_id == User.id)
        .join(Idea, Idea.id == Vote.idea_id)
        .where(Idea.theme_id == theme.id, Idea.status == IdeaStatus.PUBLISHED)
        .group_by(User.sector)
    )
    by_sector = {sector: count for sector, count in by_sector_rows}
    per_theme = await supporters_per_theme(session, theme.process_id)
    all_themes = await active_themes(session, theme.process_id)
    supporters = per_theme.get(theme.id, 0)
    rank = 1 + sum(1 for t in all_themes if per_theme.get(t.id, 0) > supporters)
    return ThemeView(
        theme=theme,
        ideas=ideas,
        supporters=supporters,
        supporters_by_sector={s: by_sector[s] for s in Sector if s in by_sector},
        rank=rank,
        themes=len(all_themes),
    )
