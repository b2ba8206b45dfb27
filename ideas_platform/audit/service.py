"""Writes audit entries inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.audit.labels import (
    TARGET_TYPE_LABELS,
    Change,
    action_label,
    changes,
    target_label,
)
from ideas_platform.audit.models import AuditEntry


def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
        )
    )


def json_safe(value: Any) -> Any:
    """A value as the log stores it: moments as ISO text in UTC (so the same instant given in
    another time zone is no change), dates as ISO text, choices as their value."""
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(json_safe(item) for item in value)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def _same(old: Any, new: Any) -> bool:
    # Through JSON, so that True and 1 (equal in Python) count as a change.
    return json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True)


def record_change(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> bool:
    """Audit an edit: only the fields whose values differ, each with both sides (a field missing
    on one side counts as None). Writes nothing when nothing changed; answers whether it wrote."""
    old, new = json_safe(before), json_safe(after)
    keys = [*old, *(key for key in new if key not in old)]
    changed = [key for key in keys if not _same(old.get(key), new.get(key))]
    if not changed:
        return False
    record(
        session,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before={key: old.get(key) for key in changed},
        after={key: new.get(key) for key in changed},
    )
    return True


AUDIT_PAGE = 50


@dataclass
class AuditQuery:
    target_type: str | None = None
    target_id: int | None = None
    actor_id: int | None = None
    page: int = 1

    def to_params(self, **overrides: Any) -> dict[str, Any]:
        params = {
            "target_type": self.target_type,
            "target_id": self.target_id,
            "actor_id": self.actor_id,
            "page": self.page if self.page > 1 else None,
        }
        params.update(overrides)
        return {key: value for key, value in params.items() if value is not None}


@dataclass(frozen=True)
class AuditRow:
    """One entry as the log page shows it: labels to translate and only what changed."""

    entry: AuditEntry
    actor_name: str | None
    action_label: str
    target_label: str
    changes: list[Change]


@dataclass
class AuditPage:
    entries: list[tuple[AuditEntry, str | None]]
    query: AuditQuery
    has_next: bool

    @property
    def target_types(self) -> list[tuple[str, str]]:
        """The object filter's choices: (value, label to translate)."""
        return list(TARGET_TYPE_LABELS.items())

    @property
    def rows(self) -> list[AuditRow]:
        return [
            AuditRow(
                entry,
                actor_name,
                action_label(entry.action),
                target_label(entry.target_type),
                changes(entry.before, entry.after),
            )
            for entry, actor_name in self.entries
        ]

    @property
    def next_page_query(self) -> str:
        return urlencode(self.query.to_params(page=self.query.page + 1)) if self.has_next else ""

    @property
    def previous_page_query(self) -> str:
        if self.query.page <= 1:
            return ""
        return urlencode(self.query.to_params(page=self.query.page - 1))


async def list_entries(session: AsyncSession, query: AuditQuery) -> AuditPage:
    """Newest first, filtered by object and actor. Read only: there is no way to change one."""
    stmt = select(AuditEntry, User.display_name).outerjoin(User, User.id == AuditEntry.actor_id)
    if query.target_type:
        stmt = stmt.where(AuditEntry.target_type == query.target_type)
    if query.target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == query.target_id)
    if query.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == query.actor_id)
    rows = await session.execute(
        stmt.order_by(AuditEntry.id.desc())
        .limit(AUDIT_PAGE + 1)
        .offset((query.page - 1) * AUDIT_PAGE)
    )
    entries: list[tuple[AuditEntry, str | None]] = [(row[0], row[1]) for row in rows]
    return AuditPage(entries[:AUDIT_PAGE], query, len(entries) > AUDIT_PAGE)


async def actors(session: AsyncSession) -> list[tuple[int, str]]:
    """Everybody who appears in the log as an actor, for the filter."""
    rows = await session.execute(
        select(User.id, User.display_name)
        .where(User.id.in_(select(AuditEntry.actor_id).distinct()))
        .order_by(User.display_name)
    )
    return [(row[0], row[1]) for row in rows]
