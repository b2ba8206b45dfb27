"""JSON shapes of the API (documented in the OpenAPI schema at /schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec


class PhaseOut(msgspec.Struct):
    kind: str
    starts_at: datetime
    ends_at: datetime


class ProcessOut(msgspec.Struct):
    slug: str
    title: str
    description: str
    vote_budget: int | None
    state: str
    active_phases: list[str]
    phases: list[PhaseOut]


class ProcessDetailOut(ProcessOut, kw_only=True):
    ideas: int
    votes: int
    comments: int
    participants: int
    participants_by_sector: dict[str, int]
    topics: list[TopicOut]


class TopicOut(msgspec.Struct):
    id: int
    name: str


class IdeaOut(msgspec.Struct):
    id: int
    process: str
    title: str
    body: str
    body_html: str
    topic: str | None
    topic_id: int | None
    region: str
    event_id: int | None
    status: str
    vote_count: int
    comment_count: int
    author: str | None
    author_sector: str | None
    created_at: datetime
    url: str


class IdeaPageOut(msgspec.Struct):
    items: list[IdeaOut]
    total: int
    page: int
    pages: int


class SimilarIdeaOut(msgspec.Struct):
    id: int
    title: str
    score: float


class IdeaIn(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    body: str
    region: str
    topic_id: int | None = None
    event_id: int | None = None


class VoteOut(msgspec.Struct):
    idea_id: int
    voted: bool
    vote_count: int
    budget: int | None
    votes_left: int | None


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    body: str


class CommentOut(msgspec.Struct):
    id: int
    body_html: str
    author: str | None
    created_at: datetime


class MeOut(msgspec.Struct):
    id: int
    email: str
    display_name: str
    sector: str
    organisation: str
    region: str
    role: str
    locale: str


class ErrorResponse(msgspec.Struct):
    """Every error of the API. Decide by `error`, show `detail` (and `fields`) to people."""

    error: Annotated[
        str,
        msgspec.Meta(
            description="Stable machine code (snake_case English, never translated).",
            examples=["already_voted"],
        ),
    ]
    detail: Annotated[
        str,
        msgspec.Meta(
            description="What went wrong, in the request's language (the `lang` cookie: "
            "de or en; German by default)."
        ),
    ]
    status_code: Annotated[int, msgspec.Meta(description="The HTTP status, repeated.")]
    fields: (
        Annotated[
            dict[str, str],
            msgspec.Meta(
                description="Per invalid field (or parameter), a translated message: with "
                "invalid_input (422) and validation_error (400)."
            ),
        ]
        | None
    ) = None


class RankedIdeaOut(msgspec.Struct):
    rank: int
    id: int
    title: str
    theme_id: int | None
    votes: int
    votes_by_sector: dict[str, int]
    breadth: float
    url: str


class RankingOut(msgspec.Struct):
    method: str
    participants_by_sector: dict[str, int]
    counted_sectors: list[str]
    min_sector_participants: int
    ideas: list[RankedIdeaOut]


class ShortlistEntryOut(msgspec.Struct):
    id: int
    kind: str  # "idea" or "theme"
    idea_id: int | None
    theme_id: int | None
    title: str
    status: str  # pending, accepted, declined
    position: int | None  # place among the accepted entries shown, 1..n
    rationale: str | None  # the moderation's reason; for the public only once accepted
    ministry_comment: str
    url: str


class ShortlistOut(msgspec.Struct):
    process: str
    frozen: bool
    frozen_at: datetime | None
    entries: list[ShortlistEntryOut]
