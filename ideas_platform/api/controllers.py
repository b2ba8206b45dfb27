"""The JSON API under /api: the same services as the HTML pages.

Authentication: the session cookie (with the CSRF header on writes) or a personal API token
(`Authorization: Bearer ...`, created on the profile page).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from litestar import Controller, Response, delete, get, post
from litestar.background_tasks import BackgroundTask
from litestar.channels import ChannelsPlugin
from litestar.exceptions import NotAuthorizedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
    SecurityRequirement,
)
from litestar.params import Parameter
from litestar.response import File
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import (
    VOTER_CHECKED_BY_STATEMENT,
    load_user,
    login_required,
    ministry_required,
)
from ideas_platform.accounts.models import User
from ideas_platform.api.schemas import (
    CommentIn,
    CommentOut,
    ErrorResponse,
    IdeaIn,
    IdeaOut,
    IdeaPageOut,
    MeOut,
    PhaseOut,
    ProcessDetailOut,
    ProcessOut,
    RankedIdeaOut,
    RankingOut,
    ShortlistEntryOut,
    ShortlistOut,
    SimilarIdeaOut,
    TopicOut,
    VoteOut,
)
from ideas_platform.comments import service as comments_service
from ideas_platform.core.errors import PermissionError_
from ideas_platform.core.rate_limits import SUBMIT_RATE_LIMIT
from ideas_platform.core.requests import AppRequest, Principal, principal_of
from ideas_platform.core.validation import clean_text
from ideas_platform.events import live
from ideas_platform.exports import service as exports_service
from ideas_platform.exports.guards import same_origin_download
from ideas_platform.ideas import service as ideas_service
from ideas_platform.ideas import visibility
from ideas_platform.processes import service as processes_service
from ideas_platform.processes.models import Process
from ideas_platform.ranking import service as ranking_service
from ideas_platform.ranking.formula import MIN_SECTOR_PARTICIPANTS
from ideas_platform.ranking.tally import tally_cache
from ideas_platform.shortlists import service as shortlists_service
from ideas_platform.shortlists.service import EntryView
from ideas_platform.similarity import service as similarity_service
from ideas_platform.votes import service as votes_service
from ideas_platform.votes.service import VoteState

SECURITY: list[SecurityRequirement] = [{"bearer": []}, {"session": []}]

# Per status: what it means and the `error` codes a client may meet there. The codes are
# stable; DomainErrors carry theirs (`core.errors`), the others come from `core.exception_handlers`.
_ERROR_DESCRIPTIONS = {
    400: (
        "Malformed request or a rule of the process refused it",
        "validation_error (body or parameters do not fit; `fields` names them), bad_request, "
        "not_collect_phase, not_vote_phase, idea_not_votable, votes_frozen, "
        "vote_budget_exhausted, dot_budget_exhausted, idea_not_commentable",
    ),
    401: ("Not authenticated", "not_authenticated"),
    403: (
        "Not allowed (role, phase, or a cookie write without the CSRF header)",
        "forbidden, csrf_failed, guest_other_event (a workshop guest "
        "supports only the ideas of its own workshop), cross_site_download",
    ),
    404: (
        "No such process, idea or export format",
        "not_found, process_not_found, idea_not_found, measure_not_found, unknown_export_format",
    ),
    409: (
        "Conflicts with the current state",
        "conflict, already_voted, not_voted, measure_exists, shortlist_frozen",
    ),
    422: ("Invalid input; `fields` names the fields", "invalid_input"),
    429: ("Too many requests; see Retry-After", "rate_limited"),
    503: ("Database briefly unavailable; see Retry-After", "service_unavailable"),
}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """The JSON error answers (ErrorResponse) a route can give; 400 and 503 every route can."""
    specs = {}
    for code in sorted({400, *codes, 503}):
        meaning, error_codes = _ERROR_DESCRIPTIONS[code]
        specs[code] = ResponseSpec(
            data_container=ErrorResponse,
            description=f"{meaning}. Codes include: {error_codes}.",
            generate_examples=False,
        )
    return specs


@dataclass
class _ExportOperation(Operation):
    """The export's 200: one content type per format; Last-Modified is an HTTP date."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if ok is None or isinstance(ok, Reference) or ok.content is None:
            return
        ok.content = {
            media_type: OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.STRING, content_media_type=media_type)
            )
            for media_type in exports_service.MEDIA_TYPES.values()
        }
        for name, header in (ok.headers or {}).items():
            if name.lower() == "last-modified" and isinstance(header, OpenAPIHeader):
                header.schema = Schema(type=OpenAPIType.STRING)


def _process_out(process: Process) -> dict[str, Any]:
    return {
        "slug": process.slug,
        "title": process.title,
        "description": process.description,
        "vote_budget": process.vote_budget,
        "state": processes_service.phase_state(process),
        "active_phases": [k.value for k in processes_service.active_phases(process)],
        "phases": [PhaseOut(p.kind.value, p.starts_at, p.ends_at) for p in process.phases],
    }


def _idea_out(view: ideas_service.IdeaView, process_slug: str) -> IdeaOut:
    idea = view.idea
    return IdeaOut(
        id=idea.id,
        process=process_slug,
        title=idea.title,
        body=idea.body,
        body_html=idea.body_html,
        topic=view.topic_name,
        topic_id=idea.topic_id,
        region=idea.region.value,
        event_id=idea.event_id,
        status=idea.status.value,
        vote_count=idea.vote_count,
        comment_count=idea.comment_count,
        author=view.author_name,
        author_sector=view.idea.author_sector.value if view.idea.author_sector else None,
        created_at=idea.created_at,
        url=f"/ideas/{idea.id}",
    )


def _vote_out(state: VoteState) -> VoteOut:
    return VoteOut(state.idea_id, state.voted, state.vote_count, state.budget, state.remaining)


async def _voted(
    request: AppRequest,
    idea_id: int,
    action: Callable[[asyncpg.Pool, Principal, int], Awaitable[VoteState]],
) -> VoteOut:
    """A vote or its withdrawal; the live pages are told. A session that ended (the vote
    statement finds out) answers 401 like every other API route behind a login."""
    try:
        state = await action(request.app.state.driver_pool, principal_of(request), idea_id)
    except PermissionError_ as exc:
        if exc.code == "session_expired":
            raise NotAuthorizedException("Login required.") from exc
        raise
    votes_service.announce_vote(request.app, state)
    return _vote_out(state)


def _entry_out(view: EntryView) -> ShortlistEntryOut:
    entry = view.entry
    return ShortlistEntryOut(
        id=entry.id,
        kind="idea" if entry.idea_id else "theme",
        idea_id=entry.idea_id,
        theme_id=entry.theme_id,
        title=view.title,
        status=entry.decision.value,
        position=view.place,
        rationale=view.rationale,
        ministry_comment=entry.decision_comment,
        url=view.url,
    )


async def _export_file(
    request: AppRequest, db_session: AsyncSession, slug: str, fmt: str
) -> exports_service.ExportFile:
    process = await processes_service.get_by_slug(db_session, slug)
    user = await load_user(request)
    assert user is not None
    return await exports_service.export_to_file(
        db_session,
        process=process,
        fmt=exports_service.parse_format(fmt),
        base_url=request.app.state.settings.public_url,
        actor=user,
    )


class ApiController(Controller):
    path = "/api"
    tags = ["API"]

    @get(
        "/me",
        guards=[login_required],
        security=SECURITY,
        responses=errors(401),
        summary="The authenticated user",
    )
    async def me(self, request: AppRequest, viewer: User | None) -> MeOut:
        user = viewer
        assert user is not None
        return MeOut(
            user.id,
            user.email,
            user.display_name,
            user.sector.value,
            user.organisation,
            user.region.value,
            user.role.value,
            user.locale,
        )

    @get("/processes", responses=errors(), summary="All processes")
    async def processes(self, db_session: AsyncSession) -> list[ProcessOut]:
        return [
            ProcessOut(**_process_out(p))
            for p in await processes_service.list_processes(db_session)
        ]

    @get("/processes/{slug:str}", responses=errors(404), summary="One process with its figures")
    async def process(self, db_session: AsyncSession, slug: str) -> ProcessDetailOut:
        process = await processes_service.get_by_slug(db_session, slug)
        figures = await processes_service.figures(db_session, process.id)
        topics = await processes_service.list_topics(db_session, process.id)
        return ProcessDetailOut(
            **_process_out(process),
            ideas=figures.ideas,
            votes=figures.votes,
            comments=figures.comments,
            participants=figures.participants,
            participants_by_sector=figures.participants_by_sector,
            topics=[TopicOut(t.id, t.name) for t in topics],
        )

    @get(
        "/processes/{slug:str}/ideas",
        responses=errors(404),
        summary="Published ideas, filtered, sorted and paginated",
    )
    async def ideas(
        self,
        db_session: AsyncSession,
        slug: str,
        sort: str = Parameter(
            default="votes", description="votes, newest, comments, random, relevance"
        ),
        seed: int = Parameter(
            default=1, ge=0, le=2**31 - 1, description="seed of the random order"
        ),
        topic: int | None = Parameter(default=None, ge=1, le=2**31 - 1),
        region: str | None = None,
        sector: str | None = None,
        event: int | None = Parameter(default=None, ge=1, le=2**31 - 1),
        q: str = Parameter(default="", max_length=200, description="German full-text search"),
        page: int = Parameter(default=1, ge=1, le=100000),
    ) -> IdeaPageOut:
        process = await processes_service.get_by_slug(db_session, slug)
        query = ideas_service.ListQuery.from_params(
            {
                "sort": sort,
                "seed": seed,
                "topic": topic or "",
                "region": region or "",
                "sector": sector or "",
                "event": event or "",
                "q": q,
                "page": page,
            }
        )
        result = await ideas_service.list_ideas(db_session, process.id, query)
        return IdeaPageOut(
            [_idea_out(v, slug) for v in result.items], result.total, result.page, result.pages
        )

    @get(
        "/processes/{slug:str}/similar-ideas",
        responses=errors(404),
        summary="Published ideas similar to a text (duplicate check), best first, at most 5",
    )
    async def similar_ideas(
        self,
        db_session: AsyncSession,
        slug: str,
        text: str = Parameter(
            min_length=1, max_length=10000, description="title and/or description of an idea"
        ),
    ) -> list[SimilarIdeaOut]:
        process = await processes_service.get_by_slug(db_session, slug)
        similar = await similarity_service.similar_ideas(
            db_session, process.id, clean_text(text, max_length=10000)
        )
        return [SimilarIdeaOut(s.id, s.title, round(s.score, 4)) for s in similar]

    @post(
        "/processes/{slug:str}/ideas",
        guards=[login_required],
        security=SECURITY,
        middleware=[SUBMIT_RATE_LIMIT],
        responses=errors(401, 403, 404, 409, 422, 429),
        summary="Submit an idea (collect phase)",
    )
    async def create_idea(
        self,
        request: AppRequest,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        slug: str,
        data: IdeaIn,
    ) -> IdeaOut:
        process = await processes_service.get_by_slug(db_session, slug)
        idea = await ideas_service.submit(
            db_session,
            process=process,
            author_id=principal_of(request).user_id,
            form=ideas_service.IdeaForm(
                data.title, data.body, data.topic_id, data.region, data.event_id
            ),
        )
        live.announce_idea(channels, idea)
        return _idea_out(await ideas_service.get_view(db_session, idea.id), slug)

    @get("/ideas/{idea_id:int}", responses=errors(404), summary="One idea")
    async def idea(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, idea_id: int
    ) -> IdeaOut:
        view = await ideas_service.get_visible_view(db_session, idea_id, viewer)
        process = await processes_service.get_by_id(db_session, view.idea.process_id)
        return _idea_out(view, process.slug)

    # The two vote routes, the hot path of the API, as the HTML vote controller: no guard (the
    # vote statement checks the session or the token and its account against the database,
    # and principal_of answers 401 without one; a token this process found active in the last
    # minute is not looked up first), and the pool and the channels from the app rather than
    # injected (issue 16, bench/README.md).
    @post(
        "/ideas/{idea_id:int}/vote",
        security=SECURITY,
        responses=errors(401, 403, 404, 409),
        summary="Support an idea (vote phase)",
        opt={VOTER_CHECKED_BY_STATEMENT: True},
    )
    async def vote(self, request: AppRequest, idea_id: int) -> VoteOut:
        return await _voted(request, idea_id, votes_service.cast_vote)

    @delete(
        "/ideas/{idea_id:int}/vote",
        security=SECURITY,
        status_code=200,
        responses=errors(401, 403, 404, 409),
        summary="Withdraw the support",
        opt={VOTER_CHECKED_BY_STATEMENT: True},
    )
    async def withdraw(self, request: AppRequest, idea_id: int) -> VoteOut:
        return await _voted(request, idea_id, votes_service.withdraw_vote)

    @get(
        "/ideas/{idea_id:int}/comments",
        responses=errors(404),
        summary="Comments on an idea, oldest first",
    )
    async def comments(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, idea_id: int
    ) -> list[CommentOut]:
        await visibility.get_readable_idea(db_session, idea_id, viewer)
        return [
            CommentOut(c.id, c.body_html, c.author_name, c.created_at)
            for c in comments_service.flatten(
                await comments_service.list_comments(db_session, idea_id)
            )
        ]

    @post(
        "/ideas/{idea_id:int}/comments",
        guards=[login_required],
        security=SECURITY,
        middleware=[SUBMIT_RATE_LIMIT],
        responses=errors(401, 403, 404, 409, 422, 429),
        summary="Comment on an idea",
    )
    async def add_comment(
        self,
        request: AppRequest,
        viewer: User | None,
        db_session: AsyncSession,
        idea_id: int,
        data: CommentIn,
    ) -> CommentOut:
        await visibility.get_readable_idea(db_session, idea_id, viewer)
        comment = await comments_service.add_comment(
            db_session, idea_id=idea_id, author_id=principal_of(request).user_id, body=data.body
        )
        user = viewer
        return CommentOut(
            comment.id, comment.body_html, user.display_name if user else None, comment.created_at
        )

    @get(
        "/processes/{slug:str}/ranking",
        responses=errors(404),
        summary="Published ideas ranked by votes or by breadth of support across sectors",
        description=(
            "breadth: for each sector with at least 5 participants (people who voted in the "
            "process), the rate (supporters from the sector + 1) / (participants + 1); the "
            "score is the geometric mean of these rates."
        ),
    )
    async def ranking(
        self,
        request: AppRequest,
        db_session: AsyncSession,
        slug: str,
        method: str = Parameter(default="votes", pattern="^(votes|breadth)$"),
        limit: int = Parameter(default=100, ge=1, le=1000),
    ) -> RankingOut:
        process = await processes_service.get_by_slug(db_session, slug)
        result = await ranking_service.rank(
            db_session,
            process,
            ranking_service.Method(method),
            count=limit,
            tally=await tally_cache(request.app.state).tally(db_session, process.id),
        )
        return RankingOut(
            method=method,
            participants_by_sector=result.participants,
            counted_sectors=result.counted,
            min_sector_participants=MIN_SECTOR_PARTICIPANTS,
            ideas=[
                RankedIdeaOut(
                    rank=r.rank,
                    id=r.idea.id,
                    title=r.idea.title,
                    theme_id=r.idea.theme_id,
                    votes=r.idea.vote_count,
                    votes_by_sector=r.by_sector,
                    breadth=round(r.breadth, 6),
                    url=f"/ideas/{r.idea.id}",
                )
                for r in result.ideas
            ],
        )

    @get(
        "/processes/{slug:str}/shortlist",
        responses=errors(404),
        summary="The ministry's decisions (staff: with the pending nominations)",
    )
    async def shortlist(
        self, viewer: User | None, db_session: AsyncSession, slug: str
    ) -> ShortlistOut:
        """Public: decided nominations of ideas everybody may read, the moderation's reason only
        for accepted ones. Moderators and the ministry: every nomination, as on their page."""
        process = await processes_service.get_by_slug(db_session, slug)
        view = await shortlists_service.view(db_session, process, viewer)
        return ShortlistOut(
            process=slug,
            frozen=view.frozen,
            frozen_at=view.frozen_at,
            entries=[_entry_out(v) for v in (*view.accepted, *view.pending, *view.declined)],
        )

    @get(
        "/processes/{slug:str}/exports/{fmt:str}",
        name="api_export",
        guards=[ministry_required, same_origin_download],  # logged: no cross-site links
        security=SECURITY,
        summary="Export for the ministry: csv, xlsx, json (all published ideas) or pdf (dossier)",
        description=(
            "The same data gives the same bytes. The SHA-256 of the file is in the header "
            "X-Content-SHA256; /manifest gives it in the sha256sum format. JSON follows "
            "docs/export-schema.json."
        ),
        media_type="application/octet-stream",
        responses=errors(401, 403, 404),
        operation_class=_ExportOperation,
    )
    async def export(
        self, request: AppRequest, db_session: AsyncSession, slug: str, fmt: str
    ) -> File:
        file = await _export_file(request, db_session, slug, fmt)
        return File(
            path=file.path,
            filename=file.name,
            media_type=file.media_type,
            headers={"X-Content-SHA256": file.sha256},
            background=BackgroundTask(file.path.unlink, missing_ok=True),
        )

    @get(
        "/processes/{slug:str}/exports/{fmt:str}/manifest",
        name="api_export_manifest",
        guards=[ministry_required, same_origin_download],  # logged: no cross-site links
        security=SECURITY,
        responses=errors(401, 403, 404),
        summary="SHA-256 manifest of an export (sha256sum format; check with verify-export)",
        media_type="text/plain",
    )
    async def export_manifest(
        self, request: AppRequest, db_session: AsyncSession, slug: str, fmt: str
    ) -> Response[str]:
        file = await _export_file(request, db_session, slug, fmt)
        file.path.unlink(missing_ok=True)
        return Response(
            exports_service.manifest_line(file.sha256, file.name),
            media_type="text/plain; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{file.name}.sha256"'},
        )
