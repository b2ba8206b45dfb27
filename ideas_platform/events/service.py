"""Events of a process (workshops). Managing them comes with the workshop issue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.events.models import Event


async def list_events(session: AsyncSession, process_id: int) -> list[Event]:
    return list(
        await session.scalars(
            select(Event).where(Event.process_id == process_id).order_by(Event.starts_at)
        )
    )
