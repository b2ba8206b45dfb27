"""Engine and session factory. PostgreSQL only: DATABASE_URL, else the embedded server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from ideas_platform.core.config import Settings
from ideas_platform.core.embedded_pg import start_embedded

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sqlalchemy_url(url: str) -> str:
    """`postgresql://…` or `postgres://…` (as operators write it) -> the asyncpg dialect."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def resolve_database_url(settings: Settings) -> str:
    """The URL the app uses; starts the embedded PostgreSQL when none is configured."""
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    return start_embedded(settings.data_dir / "pgdata")


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    return create_async_engine(
        url or resolve_database_url(settings),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


def create_session_factory(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """`info`: given to every session (e.g. `core.page_cache.NOT_ON_PAGES`)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info)


def asyncpg_dsn(url: str) -> str:
    """`postgresql+asyncpg://…` (SQLAlchemy) -> `postgresql://…` (asyncpg)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _reset_if_needed(conn: asyncpg.Connection) -> None:
    # asyncpg's default reset costs a round trip per release; the driver pool never keeps
    # session state, so only an unfinished transaction needs undoing.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_driver_pool(url: str, size: int) -> asyncpg.Pool:
    """A plain asyncpg pool for the hottest paths (voting), where SQLAlchemy's per-statement
    work would cost more than the statement: one vote is one round trip on it."""
    return await asyncpg.create_pool(
        asyncpg_dsn(url), min_size=1, max_size=size, reset=_reset_if_needed
    )


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """One write transaction. Ends a read transaction the session may have begun implicitly."""
    if session.in_transaction():
        await session.commit()
    async with session.begin():
        yield session
