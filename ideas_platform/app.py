"""The application factory: `uvicorn --factory ideas_platform.app:create_app`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from jinja2 import Environment
from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform import __version__
from ideas_platform.accounts.auth import (
    AuthenticationMiddleware,
    TokenAwareCSRFMiddleware,
    load_user_for_pages,
    provide_current_user,
    provide_viewer,
)
from ideas_platform.accounts.controllers import AccountController
from ideas_platform.accounts.lifecycle_controllers import AccountLifecycleController
from ideas_platform.admin.controllers import AdminController
from ideas_platform.api.controllers import ApiController
from ideas_platform.comments.controllers import CommentController
from ideas_platform.core.body_limits import BodyLimitMiddleware
from ideas_platform.core.channels import channels_plugin
from ideas_platform.core.config import PROJECT_ROOT, Settings, get_settings
from ideas_platform.core.database import (
    asyncpg_dsn,
    create_driver_pool,
    create_engine,
    create_session_factory,
    resolve_database_url,
)
from ideas_platform.core.exception_handlers import exception_handlers
from ideas_platform.core.kv_store import PostgresStore
from ideas_platform.core.page_cache import NOT_ON_PAGES, PageCachePlugin
from ideas_platform.core.rate_limits import RATE_LIMIT_STORE
from ideas_platform.core.request_context import RequestContextMiddleware
from ideas_platform.core.security_headers import SecurityHeaders
from ideas_platform.core.sessions import SessionCookieConfig
from ideas_platform.core.templating import template_config
from ideas_platform.cycles.controllers import NextCycleController
from ideas_platform.dashboard.controllers import DashboardController
from ideas_platform.events.capture_controllers import CaptureController
from ideas_platform.events.controllers import EventController
from ideas_platform.ideas.controllers import IdeaController
from ideas_platform.legal.controllers import LegalController
from ideas_platform.mail.sender import run_sender
from ideas_platform.measures.api import MeasureApiController
from ideas_platform.measures.controllers import MeasureController
from ideas_platform.moderation.controllers import ModerationController, ReportController
from ideas_platform.notifications.controllers import NotificationController
from ideas_platform.notifications.digest import notification_mails
from ideas_platform.personal_parts import PersonalParts
from ideas_platform.processes.controllers import ProcessController
from ideas_platform.ranking import templating as ranking_templating
from ideas_platform.shortlists.controllers import ShortlistController
from ideas_platform.similarity.embedder import get_embedder
from ideas_platform.themes import jobs as theme_jobs
from ideas_platform.themes.controllers import (
    SuggestionController,
    ThemeController,
    ThemeModerationController,
)
from ideas_platform.votes.controllers import VoteController
from ideas_platform.votes.widget import vote_widget_html

SESSION_COOKIE = "session"
CSRF_COOKIE = "csrftoken"


def _derive(secret: str, purpose: str, length: int = 32) -> bytes:
    return hashlib.sha256(f"{purpose}:{secret}".encode()).digest()[:length]


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    async with state.session_factory() as session:
        yield session


def template_globals(env: Environment) -> dict[str, Any]:
    """What the domains add to the pages' templates."""
    # The vote widget's markup is Python (the answer to a vote renders it, issue 16); pages
    # reach it through `partials/vote.html`'s macro.
    return {**ranking_templating.template_globals(env), "vote_widget_html": vote_widget_html}


def provide_driver_pool(state: State) -> asyncpg.Pool:
    return state.driver_pool


def create_app(settings: Settings | None = None, database_url: str | None = None) -> Litestar:
    settings = settings or get_settings()
    settings.validate()
    database_url = database_url or resolve_database_url(settings)
    engine = create_engine(settings, database_url)
    session_factory = create_session_factory(engine)

    session_config = SessionCookieConfig(
        secret=_derive(settings.secret_key, "session"),
        key=SESSION_COOKIE,
        max_age=14 * 24 * 3600,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        exclude=["^/static/"],
    )
    csrf_config = CSRFConfig(
        secret=_derive(settings.secret_key, "csrf").hex(),
        cookie_name=CSRF_COOKIE,
        header_name="x-csrftoken",
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        cookie_httponly=True,  # pages hand the token to htmx in a <meta> tag
        # RFC 8058 one-click unsubscribe: mail programs POST without cookies; a signed token.
        exclude=["^/static/", "^/unsubscribe/"],
    )
    rate_limit_store = PostgresStore(engine, "ratelimit")
    templates = template_config(
        auto_reload=settings.environment == "development", domain_globals=template_globals
    )

    async def open_driver_pool(app: Litestar) -> None:
        app.state.driver_pool = await create_driver_pool(database_url, settings.db_pool_size)
        await rate_limit_store.delete_expired()
        # The sentence model loads once per process (~1 s), before the first participant types.
        await asyncio.to_thread(get_embedder)
        # What start-up loaded (libraries, the model, templates) lives as long as the process:
        # kept out of the collector, a full collection no longer walks it (40 ms pauses in the
        # middle of a request otherwise; bench-similar's p95).
        gc.freeze()
        if settings.mail_sender_enabled:
            app.state.mail_sender = asyncio.create_task(
                run_sender(
                    # Mails, notifications and phase announcements show on no page.
                    create_session_factory(engine, info=NOT_ON_PAGES),
                    settings,
                    prepare=notification_mails(settings),
                ),
                name="mail-sender",
            )

    async def close_pools(app: Litestar) -> None:
        sender = getattr(app.state, "mail_sender", None)
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        theme_jobs.shutdown()
        await app.state.driver_pool.close()
        await app.state.engine.dispose()

    return Litestar(
        route_handlers=[
            ProcessController,
            AccountController,
            AccountLifecycleController,
            NotificationController,
            IdeaController,
            VoteController,
            CommentController,
            AdminController,
            NextCycleController,
            ModerationController,
            ReportController,
            ThemeController,
            ThemeModerationController,
            SuggestionController,
            ShortlistController,
            EventController,
            # The workshop import carries a whole file (and sends it back to confirm): its own,
            # larger body limit; everything else has `max_body_bytes` (core.body_limits).
            Router(
                path="/",
                route_handlers=[CaptureController],
                request_max_body_size=settings.import_max_body_bytes,
            ),
            ApiController,
            LegalController,
            MeasureController,
            MeasureApiController,
            DashboardController,
            create_static_files_router(
                path="/static", directories=[PROJECT_ROOT / "static"], include_in_schema=False
            ),
        ],
        state=State(
            {
                "engine": engine,
                "session_factory": session_factory,
                "settings": settings,
                "database_url": database_url,
            }
        ),
        dependencies={
            "db_session": Provide(provide_db_session),
            "driver_pool": Provide(provide_driver_pool, sync_to_thread=False),
            "current_user": Provide(provide_current_user),
            "viewer": Provide(provide_viewer),
        },
        # Security headers on every response, also 404s without a route (see security_headers).
        before_request=load_user_for_pages,
        before_send=[SecurityHeaders(settings)],
        middleware=[
            DefineMiddleware(RequestContextMiddleware, default_locale=settings.default_locale),
            # Before anything reads the body (the CSRF check parses every form): size and fields.
            DefineMiddleware(BodyLimitMiddleware, max_fields=settings.max_form_fields),
            session_config.middleware,
            AuthenticationMiddleware,
            DefineMiddleware(TokenAwareCSRFMiddleware, config=csrf_config),
        ],
        stores={RATE_LIMIT_STORE: rate_limit_store},
        template_config=templates,
        plugins=[
            FlashPlugin(config=FlashConfig(template_config=templates)),
            # Live updates (cluster board) between all app processes via LISTEN/NOTIFY.
            channels_plugin(asyncpg_dsn(database_url)),
            # Pages kept per process (for logged-in people with their own personal parts put
            # in); dropped on every write.
            PageCachePlugin(
                settings.page_cache_seconds,
                show_header=settings.page_cache_header,
                personal=PersonalParts(),
            ),
        ],
        exception_handlers=exception_handlers,
        request_max_body_size=settings.max_body_bytes,
        multipart_form_part_limit=settings.max_form_fields,
        openapi_config=OpenAPIConfig(
            title="Ideas platform API",
            version=__version__,
            path="/schema",
            # Swagger UI served from static/ (swagger-ui-dist 5.35.0), no CDN.
            render_plugins=[
                SwaggerRenderPlugin(
                    js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                    css_url="/static/vendor/swagger-ui/swagger-ui.css",
                    standalone_preset_js_url="/static/vendor/swagger-ui/swagger-ui-standalone-preset.js",
                    favicon="",
                )
            ],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="Personal API token from the profile page",
                    ),
                    "session": SecurityScheme(
                        type="apiKey",
                        name=SESSION_COOKIE,
                        security_scheme_in="cookie",
                        description="Session cookie; writes need the X-CSRFToken header",
                    ),
                }
            ),
        ),
        on_startup=[open_driver_pool],
        on_shutdown=[close_pools],
        debug=False,
    )


def app_for_uvicorn() -> Litestar:
    """Entry point for `uvicorn --factory` (reads the settings from the environment)."""
    return create_app()
