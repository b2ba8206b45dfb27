"""Reading the outbox (the admins' mail viewer, `ideas-platform check`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.core.choices import N_
from ideas_platform.core.errors import NotFoundError
from ideas_platform.mail.models import OutboxMail


@dataclass(frozen=True)
class OutboxFigures:
    waiting: int
    sent: int
    failed: int


async def recent(session: AsyncSession, *, limit: int = 100, address: str = "") -> list[OutboxMail]:
    stmt = select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)
    if address:
        stmt = stmt.where(func.lower(OutboxMail.to_address) == address.strip().lower())
    return list(await session.scalars(stmt))


async def get(session: AsyncSession, mail_id: int) -> OutboxMail:
    mail = await session.get(OutboxMail, mail_id)
    if mail is None:
        raise NotFoundError(N_("This mail does not exist."), code="mail_not_found")
    return mail


async def figures(session: AsyncSession) -> OutboxFigures:
    row = (
        await session.execute(
            select(
                func.count().filter(OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None)),
                func.count().filter(OutboxMail.sent_at.is_not(None)),
                func.count().filter(OutboxMail.failed_at.is_not(None)),
            )
        )
    ).one()
    return OutboxFigures(*(int(value or 0) for value in row))
