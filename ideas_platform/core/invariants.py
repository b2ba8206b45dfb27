"""The invariants of DESIGN.md as queries: each answers the rows that break one."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHECKS: list[tuple[str, str]] = [
    (
        "idea {0}: vote_count {1} but {2} votes",
        """SELECT i.id, i.vote_count, count(v.user_id) FROM ideas i
           LEFT JOIN votes v ON v.idea_id = i.id
           GROUP BY i.id HAVING i.vote_count <> count(v.user_id)""",
    ),
    (
        "idea {0}: comment_count {1} but {2} visible comments",
        """SELECT i.id, i.comment_count, count(c.id) FROM ideas i
           LEFT JOIN comments c ON c.idea_id = i.id AND NOT c.hidden AND c.deleted_at IS NULL
           GROUP BY i.id HAVING i.comment_count <> count(c.id)""",
    ),
    (
        "user {0}: {2} votes in process {1}, above its budget",
        """SELECT v.user_id, v.process_id, count(*) FROM votes v
           JOIN processes p ON p.id = v.process_id
           JOIN ideas i ON i.id = v.idea_id
           LEFT JOIN events e ON e.id = i.event_id
           WHERE p.vote_budget IS NOT NULL AND e.dot_budget IS NULL
           GROUP BY v.user_id, v.process_id, p.vote_budget HAVING count(*) > p.vote_budget""",
    ),
    (
        "user {0}: {2} dots at event {1}, above its dot budget",
        """SELECT v.user_id, e.id, count(*) FROM votes v
           JOIN ideas i ON i.id = v.idea_id JOIN events e ON e.id = i.event_id
           WHERE e.dot_budget IS NOT NULL
           GROUP BY v.user_id, e.id, e.dot_budget HAVING count(*) > e.dot_budget""",
    ),
    (
        "vote of user {1} on idea {0}: process {2} is not the idea's process",
        """SELECT v.idea_id, v.user_id, v.process_id FROM votes v
           JOIN ideas i ON i.id = v.idea_id WHERE v.process_id <> i.process_id""",
    ),
    (
        "idea {0}: status {1} does not match merged_into {2}",
        """SELECT id, status, merged_into_id FROM ideas
           WHERE (status = 'merged') <> (merged_into_id IS NOT NULL)""",
    ),
    (
        "idea {0}: {1} votes although it is merged",
        """SELECT v.idea_id, count(*), 0 FROM votes v JOIN ideas i ON i.id = v.idea_id
           WHERE i.status = 'merged' GROUP BY v.idea_id""",
    ),
    (
        "process {0}: accepted shortlist places {1} are not 1..{2}",
        """SELECT process_id, array_agg(position ORDER BY position), count(*)
           FROM shortlist_entries WHERE decision = 'accepted' GROUP BY process_id
           HAVING min(position) <> 1 OR max(position) <> count(*)
               OR count(DISTINCT position) <> count(*)""",
    ),
]


async def find_violations(session: AsyncSession, limit: int = 50) -> list[str]:
    problems: list[str] = []
    for message, sql in CHECKS:
        rows = await session.execute(text(f"{sql} LIMIT {int(limit)}"))
        problems.extend(message.format(*row) for row in rows)
    return problems
