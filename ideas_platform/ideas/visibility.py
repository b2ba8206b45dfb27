"""Who may read which idea: the one rule, as a SQL condition and as a check.

Published and merged ideas are for everybody (a merged one redirects to where it went). Hidden
and withdrawn ones only for their author (who sees why it was hidden) and for the moderators.
To anybody else such an idea does not exist: every route that takes an idea id asks
`get_readable_idea` before it validates input or renders anything, so that the answer (status
and body) is the one of a missing idea.

Lists are narrower: they show published ideas only (`listed_condition`), also to moderators.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from sqlalchemy import BigInteger, Select, bindparam, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ideas_platform.accounts.models import User
from ideas_platform.core.choices import N_
from ideas_platform.core.errors import NotFoundError
from ideas_platform.ideas.models import Idea, IdeaStatus

IDEA_NOT_FOUND = N_("This idea does not exist.")
PUBLIC_STATUSES = (IdeaStatus.PUBLISHED, IdeaStatus.MERGED)


def idea_not_found() -> NotFoundError:
    """The error of a missing idea; a hidden one answers with exactly this."""
    return NotFoundError(IDEA_NOT_FOUND, code="idea_not_found")


Reader = Literal["anonymous", "participant", "moderator"]


def readable_condition(viewer: User | None) -> ColumnElement[bool]:
    """The WHERE clause: the ideas `viewer` (None: an anonymous visitor) may read. The same
    rule as `readable_by` with the viewer's id filled in (tests/test_ideas.py holds them equal)."""
    if viewer is not None and viewer.can_moderate:
        return true()
    public = Idea.status.in_(PUBLIC_STATUSES)
    return public if viewer is None else public | (Idea.author_id == viewer.id)


def reader_of(viewer: User | None) -> Reader:
    """Which form of `readable_condition` applies to `viewer`."""
    if viewer is None:
        return "anonymous"
    return "moderator" if viewer.can_moderate else "participant"


def readable_by(reader: Reader) -> ColumnElement[bool]:
    """The rule as SQL, for a statement built once per kind of reader (issue 16: building a
    statement per request costs more CPU than running it): the viewer's id is the bound
    parameter "viewer_id" (`reader_params`)."""
    if reader == "moderator":
        return true()
    public = Idea.status.in_(PUBLIC_STATUSES)
    if reader == "anonymous":
        return public
    return public | (Idea.author_id == bindparam("viewer_id", type_=BigInteger()))


def reader_params(viewer: User | None) -> dict[str, Any]:
    """The bound parameters of `readable_by(reader_of(viewer))`."""
    return {"viewer_id": viewer.id} if viewer is not None else {}


def public_condition() -> ColumnElement[bool]:
    """What everybody may read, whoever asks (public views: the shortlist, exports of it)."""
    return readable_condition(None)


def listed_condition() -> ColumnElement[bool]:
    """The ideas lists, search and counts show (to everybody alike): the published ones."""
    return Idea.status == IdeaStatus.PUBLISHED


def readable_ideas(viewer: User | None) -> Select[Idea]:
    """SELECT of the ideas `viewer` may read; add further conditions with `.where`."""
    return select(Idea).where(readable_condition(viewer))


def can_read(idea: Idea, viewer: User | None) -> bool:
    """`readable_condition` for an idea already loaded."""
    if idea.status in PUBLIC_STATUSES:
        return True
    if viewer is None:
        return False
    return viewer.can_moderate or idea.author_id == viewer.id


@cache
def _readable_statements(reader: Reader) -> tuple[Select[Idea], Select[int]]:
    """(the idea, its id) by the bound "idea_id" if the reader may read it: built once."""
    condition = readable_by(reader)
    by_id = Idea.id == bindparam("idea_id", type_=BigInteger())
    return select(Idea).where(condition, by_id), select(Idea.id).where(by_id, condition)


async def get_readable_idea(session: AsyncSession, idea_id: int, viewer: User | None) -> Idea:
    """The idea if `viewer` may read it; else NotFoundError, as for an idea that does not exist."""
    stmt = _readable_statements(reader_of(viewer))[0]
    idea = await session.scalar(stmt, {"idea_id": idea_id, **reader_params(viewer)})
    if idea is None:
        raise idea_not_found()
    return idea


async def may_read(session: AsyncSession, idea_id: int, viewer: User | None) -> bool:
    """Whether the idea exists for `viewer` (one indexed look-up, nothing loaded)."""
    stmt = _readable_statements(reader_of(viewer))[1]
    found = await session.scalar(stmt, {"idea_id": idea_id, **reader_params(viewer)})
    return found is not None
