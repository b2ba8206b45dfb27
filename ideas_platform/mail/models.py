from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column


class OutboxMail(Base):
    """A mail written in the same transaction as what caused it; the sender delivers it later.

    Pending: sent_at and failed_at are NULL. The sender takes pending rows whose
    next_attempt_at has come with FOR UPDATE SKIP LOCKED, so two workers never take the same.
    """

    __tablename__ = "outbox_mails"
    __table_args__ = (
        Index(
            "ix_outbox_mails_pending",
            "next_attempt_at",
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
        Index("ix_outbox_mails_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    to_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="de")
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    # Extra headers (List-Unsubscribe, List-Unsubscribe-Post); values checked for CR/LF.
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    message_id: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at_column()
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # "smtp" or "log" (no SMTP server configured: the mail is in the log and /admin/outbox).
    delivered_via: Mapped[str | None] = mapped_column(String(10))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The SMTP server refused the address for good (5xx); not retried.
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
