"""Merging a duplicate idea into another, and undoing it (DESIGN.md invariants 3 and 4).

Locks, in the same order as every other writer, so that nothing deadlocks and nothing slips
through: voters' user rows first (only unmerge needs them, as budget voting does), then the idea
rows in id order (casting, withdrawing and commenting lock the idea row before touching its votes
or comments), then the votes and comments.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import case, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.audit.service import record as audit
from ideas_platform.comments import service as comments_service
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import N_
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError
from ideas_platform.core.validation import clean_text
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.ideas.service import lock_ideas
from ideas_platform.moderation.models import IdeaCoauthor, MergeRecord, Report
from ideas_platform.notifications import service as notifications
from ideas_platform.processes.models import Process
from ideas_platform.votes.models import Vote

INTO_ITSELF = N_("An idea cannot be merged into itself.")
INTO_MERGED = N_(
    "The chosen idea has itself been merged into another one. Merge into that idea instead."
)
TARGET_NOT_PUBLISHED = N_("Ideas can only be merged into a published idea.")
SOURCE_NOT_MERGEABLE = N_(
    "Only published ideas can be merged. A hidden idea stays hidden (or is shown again first)."
)
OTHER_PROCESS = N_("Only ideas of the same process can be merged.")
NOT_MERGED = N_("This idea is not merged into another one.")
UNMERGE_TARGET_FIRST = N_(
    "The idea this one was merged into has since been merged itself. Undo that merge first."
)
MAX_CHAIN = 50

_RESTORE_DROPPED = """
INSERT INTO votes (idea_id, user_id, process_id, created_at)
SELECT :source, dropped.user_id, :process, dropped.created_at
FROM unnest(CAST(:users AS bigint[]), CAST(:times AS timestamptz[])) AS dropped(user_id, created_at)
WHERE EXISTS (SELECT 1 FROM votes v WHERE v.idea_id = :target AND v.user_id = dropped.user_id
              AND v.created_at < :merged_at)
  AND (CAST(:budget AS integer) IS NULL
       OR (SELECT count(*) FROM votes v WHERE v.user_id = dropped.user_id
           AND v.process_id = :process) < :budget)
RETURNING user_id
"""


async def _recount(session: AsyncSession, *ideas: Idea) -> None:
    """Counts from the rows, under the ideas' locks: exact whatever moved."""
    for idea in ideas:
        votes = await session.scalar(
            select(func.count()).select_from(Vote).where(Vote.idea_id == idea.id)
        )
        idea.vote_count = int(votes or 0)
        await session.flush()
        await comments_service.recount(session, idea)


async def _authors(session: AsyncSession, idea: Idea) -> set[int]:
    coauthors = set(
        await session.scalars(select(IdeaCoauthor.user_id).where(IdeaCoauthor.idea_id == idea.id))
    )
    return coauthors | ({idea.author_id} if idea.author_id is not None else set())


async def merge(
    session: AsyncSession, *, source_id: int, target_id: int, moderator_id: int, note: str = ""
) -> MergeRecord:
    """Merge idea `source_id` into `target_id` in one transaction; returns what moved."""
    if source_id == target_id:
        raise DomainError(INTO_ITSELF, code="merge_into_itself")
    note = clean_text(note, max_length=2000)
    async with transaction(session):
        ideas = await lock_ideas(session, source_id, target_id)
        source, target = ideas[source_id], ideas[target_id]
        if source.process_id != target.process_id:
            raise DomainError(OTHER_PROCESS, code="other_process")
        if target.status == IdeaStatus.MERGED:
            raise DomainError(INTO_MERGED, code="merge_into_merged")
        if target.status != IdeaStatus.PUBLISHED:
            raise DomainError(TARGET_NOT_PUBLISHED, code="merge_target_not_published")
        if source.status != IdeaStatus.PUBLISHED:
            raise DomainError(SOURCE_NOT_MERGEABLE, code="not_mergeable")

        target_voters = select(Vote.user_id).where(Vote.idea_id == target.id)
        moved_votes = list(
            await session.scalars(
                update(Vote)
                .where(Vote.idea_id == source.id, Vote.user_id.not_in(target_voters))
                .values(idea_id=target.id)
                .returning(Vote.user_id)
            )
        )
        # Whoever supported both keeps one vote; the other one goes, and its budget with it.
        dropped_rows = await session.execute(
            delete(Vote).where(Vote.idea_id == source.id).returning(Vote.user_id, Vote.created_at)
        )
        dropped = sorted((row[0], row[1]) for row in dropped_rows)
        dropped_votes = [user_id for user_id, _ in dropped]
        moved_comments = list(
            await session.scalars(
                update(Comment)
                .where(Comment.idea_id == source.id)
                .values(
                    idea_id=target.id,
                    moved_from_idea_id=func.coalesce(Comment.moved_from_idea_id, source.id),
                )
                .returning(Comment.id)
            )
        )
        # Reports on the moved comments follow them (the moderators find them on the target).
        await session.execute(
            update(Report).where(Report.comment_id.in_(moved_comments)).values(idea_id=target.id)
        )
        new_coauthors = sorted(await _authors(session, source) - await _authors(session, target))
        merge_record = MergeRecord(
            process_id=source.process_id,
            source_id=source.id,
            target_id=target.id,
            merged_by_id=moderator_id,
            note=note,
            source_status=source.status.value,
            moved_vote_user_ids=sorted(moved_votes),
            dropped_vote_user_ids=dropped_votes,
            dropped_vote_created_at=[created_at for _, created_at in dropped],
            moved_comment_ids=sorted(moved_comments),
            added_coauthor_ids=new_coauthors,
            # The moment the locks were held, not the transaction's start: votes older than this
            # existed before the merge (see unmerge).
            created_at=func.clock_timestamp(),
        )
        session.add(merge_record)
        await session.flush()
        await session.refresh(merge_record, ["created_at"])
        if new_coauthors:
            await session.execute(
                insert(IdeaCoauthor),
                [
                    {"idea_id": target.id, "user_id": user_id, "merge_id": merge_record.id}
                    for user_id in new_coauthors
                ],
            )
        before = _state(source, target)
        source.status = IdeaStatus.MERGED
        source.merged_into_id = target.id
        source.moderation_note = note or None
        await _recount(session, source, target)
        await notifications.on_moderation(
            session, source, "merged", actor_id=moderator_id, note=note, target=target
        )
        await notifications.carry_followers(session, from_idea_id=source.id, to_idea_id=target.id)
        audit(
            session,
            actor_id=moderator_id,
            action="idea.merge",
            target_type="idea",
            target_id=source.id,
            before=before,
            after={
                **_state(source, target),
                "merge_record": merge_record.id,
                "note": note,
                "moved_votes": len(moved_votes),
                "dropped_double_votes": len(dropped_votes),
                "moved_comments": len(moved_comments),
                "added_coauthors": new_coauthors,
            },
        )
    return merge_record


def _state(source: Idea, target: Idea) -> dict[str, object]:
    return {
        "source": {"id": source.id, "status": source.status.value, "votes": source.vote_count},
        "target": {"id": target.id, "status": target.status.value, "votes": target.vote_count},
    }


async def unmerge(session: AsyncSession, *, source_id: int, moderator_id: int) -> MergeRecord:
    """Undo the last merge of `source_id`, keeping what users did since."""
    async with transaction(session):
        merge_record = await session.scalar(
            select(MergeRecord)
            .where(MergeRecord.source_id == source_id, MergeRecord.undone_at.is_(None))
            .order_by(MergeRecord.id.desc())
            .limit(1)
            .with_for_update()
        )
        if merge_record is None:
            raise DomainError(NOT_MERGED, code="not_merged")
        # Users before ideas, as budget voting does: restoring a dropped vote checks the budget.
        await session.execute(
            select(User.id)
            .where(User.id.in_(merge_record.dropped_vote_user_ids))
            .order_by(User.id)
            .with_for_update(key_share=True)
        )
        ideas = await lock_ideas(session, merge_record.source_id, merge_record.target_id)
        source, target = ideas[merge_record.source_id], ideas[merge_record.target_id]
        if source.status != IdeaStatus.MERGED or source.merged_into_id != target.id:
            raise DomainError(NOT_MERGED, code="not_merged")
        if target.status == IdeaStatus.MERGED:
            raise DomainError(UNMERGE_TARGET_FIRST, code="unmerge_target_first")
        merged_at = merge_record.created_at
        before = _state(source, target)

        # Votes that moved and are still there go back; one withdrawn since stays withdrawn,
        # one cast on the target since the merge (created after it) stays on the target.
        restored = list(
            await session.scalars(
                update(Vote)
                .where(
                    Vote.idea_id == target.id,
                    Vote.user_id.in_(merge_record.moved_vote_user_ids),
                    Vote.created_at < merged_at,
                )
                .values(idea_id=source.id)
                .returning(Vote.user_id)
            )
        )
        # Double supporters get their vote on the source back (with its first timestamp) if they
        # still support the target as before the merge and the budget allows it (they may have
        # spent the freed vote since).
        process = await session.get(Process, source.process_id)
        assert process is not None
        restored_doubles = list(
            await session.scalars(
                text(_RESTORE_DROPPED),
                {
                    "source": source.id,
                    "target": target.id,
                    "process": process.id,
                    "users": merge_record.dropped_vote_user_ids,
                    "times": merge_record.dropped_vote_created_at,
                    "merged_at": merged_at,
                    "budget": process.vote_budget,
                },
            )
        )
        # Replies written on the target to a moved comment go back with their thread.
        going_back = list(merge_record.moved_comment_ids) + list(
            await session.scalars(
                select(Comment.id).where(
                    Comment.parent_id.in_(merge_record.moved_comment_ids),
                    Comment.idea_id == target.id,
                )
            )
        )
        await session.execute(
            update(Comment)
            .where(Comment.id.in_(going_back), Comment.idea_id == target.id)
            .values(
                idea_id=source.id,
                moved_from_idea_id=case(
                    (Comment.moved_from_idea_id == source.id, None),
                    else_=Comment.moved_from_idea_id,
                ),
            )
        )
        await session.execute(
            update(Report).where(Report.comment_id.in_(going_back)).values(idea_id=source.id)
        )
        await session.execute(
            delete(IdeaCoauthor).where(
                IdeaCoauthor.idea_id == target.id, IdeaCoauthor.merge_id == merge_record.id
            )
        )
        source.status = IdeaStatus(merge_record.source_status)
        source.merged_into_id = None
        source.moderation_note = None
        await _recount(session, source, target)
        await notifications.on_moderation(session, source, "unmerged", actor_id=moderator_id)
        merge_record.undone_at = datetime.now(UTC)
        merge_record.undone_by_id = moderator_id
        audit(
            session,
            actor_id=moderator_id,
            action="idea.unmerge",
            target_type="idea",
            target_id=source.id,
            before=before,
            after={
                **_state(source, target),
                "merge_record": merge_record.id,
                "restored_votes": len(restored),
                "restored_double_votes": len(restored_doubles),
            },
        )
    return merge_record


async def final_destination(session: AsyncSession, idea: Idea) -> int:
    """Where a merged idea's URL leads: along the chain (A into B, B into C) to the live idea."""
    current = idea
    for _ in range(MAX_CHAIN):
        if current.merged_into_id is None:
            return current.id
        following = await session.get(Idea, current.merged_into_id)
        if following is None:
            return current.id
        current = following
    return current.id


async def merges_into(session: AsyncSession, idea_id: int) -> list[tuple[MergeRecord, Idea]]:
    """The ideas merged into this one (active merges), for the idea page and the dossier."""
    rows = await session.execute(
        select(MergeRecord, Idea)
        .join(Idea, Idea.id == MergeRecord.source_id)
        .where(MergeRecord.target_id == idea_id, MergeRecord.undone_at.is_(None))
        .order_by(MergeRecord.id)
    )
    return [(row[0], row[1]) for row in rows]


async def merge_leading_to(
    session: AsyncSession, source_id: int | None, idea_id: int
) -> MergeRecord | None:
    """The merge that sent a visitor of `source_id`'s URL here (also along a chain), if any."""
    source = await session.get(Idea, source_id) if source_id else None
    if source is None or source.merged_into_id is None:
        return None
    if await final_destination(session, source) != idea_id:
        return None
    return await last_merge_of(session, source.id)


async def last_merge_of(session: AsyncSession, idea_id: int) -> MergeRecord | None:
    """The merge in force of this idea, if any."""
    return await session.scalar(
        select(MergeRecord)
        .where(MergeRecord.source_id == idea_id, MergeRecord.undone_at.is_(None))
        .order_by(MergeRecord.id.desc())
        .limit(1)
    )
