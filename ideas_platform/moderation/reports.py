"""Reports of ideas and comments, and what moderators decide: hide (with a reason) or keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.audit.service import record as audit
from ideas_platform.comments import service as comments_service
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import N_
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import ConflictError, DomainError, InvalidInput, NotFoundError
from ideas_platform.core.validation import choice_problem, clean_text, length_problem
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.ideas.service import lock_idea
from ideas_platform.ideas.visibility import idea_not_found
from ideas_platform.moderation.models import Report, ReportReason, ReportStatus
from ideas_platform.notifications import service as notifications

COMMENT_NOT_FOUND = N_("This comment does not exist.")
ALREADY_REPORTED = N_("You have already reported this. The moderators will look at it.")
REASON_NEEDED = N_("Please give a reason. The author will see it.")
NOT_HIDDEN = N_("This content is not hidden.")
ALREADY_HIDDEN = N_("This content is already hidden.")
CANNOT_HIDE = N_("Only published ideas can be hidden.")


async def _content(
    session: AsyncSession, idea_id: int, comment_id: int | None, lock: bool
) -> tuple[Idea, Comment | None]:
    idea = await lock_idea(session, idea_id) if lock else await session.get(Idea, idea_id)
    if idea is None:
        raise idea_not_found()
    comment = None
    if comment_id is not None:
        comment = await session.scalar(
            select(Comment).where(Comment.id == comment_id, Comment.idea_id == idea_id)
        )
        if comment is None:
            raise NotFoundError(COMMENT_NOT_FOUND, code="comment_not_found")
    return idea, comment


async def report(
    session: AsyncSession,
    *,
    reporter_id: int,
    idea_id: int,
    comment_id: int | None = None,
    reason: str,
    details: str = "",
) -> Report:
    reason = clean_text(reason, max_length=40)
    details = clean_text(details, max_length=2000)
    errors: dict[str, str] = {}
    if problem := choice_problem(reason, ReportReason):
        errors["reason"] = problem
    if problem := length_problem(details, minimum=0, maximum=2000):
        errors["details"] = problem
    if reason == ReportReason.OTHER and not details:
        errors["details"] = N_("Please tell the moderators what is wrong.")
    if errors:
        raise InvalidInput(errors)
    async with transaction(session):
        idea, comment = await _content(session, idea_id, comment_id, lock=False)
        if idea.status != IdeaStatus.PUBLISHED or (
            comment is not None and (comment.hidden or comment.deleted_at is not None)
        ):
            if comment is not None:
                raise NotFoundError(COMMENT_NOT_FOUND, code="comment_not_found")
            raise idea_not_found()
        report_id = await session.scalar(
            pg_insert(Report)
            .values(
                idea_id=idea_id,
                comment_id=comment_id,
                reporter_id=reporter_id,
                reason=ReportReason(reason),
                details=details,
                status=ReportStatus.OPEN,
            )
            .on_conflict_do_nothing()
            .returning(Report.id)
        )
        if report_id is None:
            raise ConflictError(ALREADY_REPORTED, code="already_reported")
        created = await session.get(Report, report_id)
        assert created is not None
    return created


@dataclass
class ReportGroup:
    """The open reports of one idea or comment, as the moderation queue shows them."""

    idea: Idea
    comment: Comment | None
    reports: list[Report] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return sorted({r.reason.value for r in self.reports})


async def open_reports(session: AsyncSession, limit: int = 100) -> list[ReportGroup]:
    rows = await session.execute(
        select(Report, Idea, Comment)
        .join(Idea, Idea.id == Report.idea_id)
        .outerjoin(Comment, Comment.id == Report.comment_id)
        .where(Report.status == ReportStatus.OPEN)
        .order_by(Report.created_at, Report.id)
        .limit(limit)
    )
    groups: dict[tuple[int, int | None], ReportGroup] = {}
    for report_row, idea, comment in rows:
        key = (idea.id, comment.id if comment else None)
        groups.setdefault(key, ReportGroup(idea, comment)).reports.append(report_row)
    return list(groups.values())


async def count_open(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Report).where(Report.status == ReportStatus.OPEN)
        )
        or 0
    )


async def _close_reports(
    session: AsyncSession,
    idea_id: int,
    comment_id: int | None,
    status: ReportStatus,
    moderator_id: int,
    note: str,
) -> int:
    condition = (
        Report.comment_id.is_(None) if comment_id is None else Report.comment_id == comment_id
    )
    closed = await session.scalars(
        update(Report)
        .where(Report.idea_id == idea_id, condition, Report.status == ReportStatus.OPEN)
        .values(
            status=status,
            decided_by_id=moderator_id,
            decided_at=datetime.now(UTC),
            decision_note=note or None,
        )
        .returning(Report.id)
    )
    return len(list(closed))


async def hide(
    session: AsyncSession,
    *,
    idea_id: int,
    comment_id: int | None = None,
    moderator_id: int,
    reason: str,
) -> None:
    """Hide an idea (gone from lists and search, votes frozen) or a comment, with a reason."""
    reason = clean_text(reason, max_length=2000)
    if not reason:
        raise InvalidInput({"reason": REASON_NEEDED})
    async with transaction(session):
        idea, comment = await _content(session, idea_id, comment_id, lock=True)
        if comment is not None:
            if comment.hidden:
                raise DomainError(ALREADY_HIDDEN, code="already_hidden")
            comment.hidden, comment.moderation_note = True, reason
            await session.flush()
            await comments_service.recount(session, idea)
            target_type, target_id = "comment", comment.id
        else:
            if idea.status == IdeaStatus.HIDDEN:
                raise DomainError(ALREADY_HIDDEN, code="already_hidden")
            if idea.status != IdeaStatus.PUBLISHED:
                raise DomainError(CANNOT_HIDE, code="idea_not_hideable")
            idea.status, idea.moderation_note = IdeaStatus.HIDDEN, reason
            target_type, target_id = "idea", idea.id
            await notifications.on_moderation(
                session, idea, "hidden", actor_id=moderator_id, note=reason
            )
        closed = await _close_reports(
            session, idea_id, comment_id, ReportStatus.HIDDEN, moderator_id, reason
        )
        audit(
            session,
            actor_id=moderator_id,
            action=f"{target_type}.hide",
            target_type=target_type,
            target_id=target_id,
            before={"hidden": False},
            after={"hidden": True, "reason": reason, "reports_closed": closed},
        )


async def restore(
    session: AsyncSession,
    *,
    idea_id: int,
    comment_id: int | None = None,
    moderator_id: int,
    reason: str = "",
) -> None:
    reason = clean_text(reason, max_length=2000)
    async with transaction(session):
        idea, comment = await _content(session, idea_id, comment_id, lock=True)
        if comment is not None:
            if not comment.hidden:
                raise DomainError(NOT_HIDDEN, code="not_hidden")
            before_note = comment.moderation_note
            comment.hidden, comment.moderation_note = False, None
            await session.flush()
            await comments_service.recount(session, idea)
            target_type, target_id = "comment", comment.id
        else:
            if idea.status != IdeaStatus.HIDDEN:
                raise DomainError(NOT_HIDDEN, code="not_hidden")
            before_note = idea.moderation_note
            idea.status, idea.moderation_note = IdeaStatus.PUBLISHED, None
            target_type, target_id = "idea", idea.id
            await notifications.on_moderation(session, idea, "restored", actor_id=moderator_id)
        audit(
            session,
            actor_id=moderator_id,
            action=f"{target_type}.restore",
            target_type=target_type,
            target_id=target_id,
            before={"hidden": True, "reason": before_note},
            after={"hidden": False, "reason": reason},
        )


async def keep(
    session: AsyncSession,
    *,
    idea_id: int,
    comment_id: int | None = None,
    moderator_id: int,
    reason: str = "",
) -> int:
    """The reported content stays; its open reports are closed with the moderator's reason."""
    reason = clean_text(reason, max_length=2000)
    async with transaction(session):
        await _content(session, idea_id, comment_id, lock=False)
        closed = await _close_reports(
            session, idea_id, comment_id, ReportStatus.KEPT, moderator_id, reason
        )
        if not closed:
            raise NotFoundError(
                N_("There are no open reports on this content."), code="no_open_reports"
            )
        audit(
            session,
            actor_id=moderator_id,
            action="report.keep",
            target_type="comment" if comment_id is not None else "idea",
            target_id=comment_id if comment_id is not None else idea_id,
            before={"open_reports": closed},
            after={"open_reports": 0, "reason": reason},
        )
    return closed
