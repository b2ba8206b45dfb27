"""A Litestar `Store` kept in PostgreSQL, so rate limits hold across worker processes."""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar.stores.base import Store
from sqlalchemy import DateTime, LargeBinary, String, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.database import Base


class KeyValue(Base):
    __tablename__ = "kv_store"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class PostgresStore(Store):
    def __init__(self, engine: AsyncEngine, namespace: str = "") -> None:
        self.engine = engine
        self.namespace = namespace

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        if isinstance(value, str):
            value = value.encode()
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO kv_store (key, value, expires_at) VALUES (:k, :v, "
                    "CASE WHEN CAST(:s AS float8) IS NULL THEN NULL "
                    "ELSE now() + make_interval(secs => CAST(:s AS float8)) END) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
                    "expires_at = EXCLUDED.expires_at"
                ),
                {"k": self._key(key), "v": value, "s": seconds},
            )

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(KeyValue.value).where(
                        KeyValue.key == self._key(key),
                        (KeyValue.expires_at.is_(None)) | (KeyValue.expires_at > func.now()),
                    )
                )
            ).first()
        return None if row is None else bytes(row[0])

    async def delete(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(KeyValue).where(KeyValue.key == self._key(key)))

    async def delete_all(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(KeyValue).where(KeyValue.key.startswith(f"{self.namespace}:"))
            )

    async def delete_expired(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(KeyValue).where(KeyValue.expires_at <= func.now()))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(func.extract("epoch", KeyValue.expires_at - func.now())).where(
                        KeyValue.key == self._key(key)
                    )
                )
            ).first()
        if row is None or row[0] is None:
            return None
        return max(int(row[0]), 0)
