"""What differs between two logged-in people on a kept page (`core/page_cache.py`).

The idea list and the ranking show every participant the same ideas, except for a few parts:
the account links in the header (name, unread notifications), the notice about new terms of
participation and the vote buttons (supported?, votes left). Templates mark these parts with
`<!--personal:NAME-->…<!--/personal-->`; a page kept for one person gets them put in anew for
each other person with the same role, so building it (5-10 ms of CPU at 20,000 ideas) is done
once per process and change, not per request (issue 16).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from litestar import Request
from markupsafe import Markup

from ideas_platform.accounts.auth import confirm_viewer
from ideas_platform.accounts.models import User
from ideas_platform.core.web import UNREAD_STATE_KEY
from ideas_platform.votes.service import states_of
from ideas_platform.votes.widget import csrf_input, vote_widget_html

if TYPE_CHECKING:
    from litestar.types import Scope

# `vote:ID` (vote phase closed) or `vote:ID:open`; `nav`; `consent`.
_PART = re.compile(rb"<!--personal:([a-z]+)(?::(\d+))?(:open)?-->.*?<!--/personal-->", re.S)
NAV_TEMPLATE = "partials/account_nav.html"
CONSENT_TEMPLATE = "partials/consent_notice.html"


class PersonalParts:
    """The page cache's hook for logged-in people (`PageCachePlugin(personal=...)`)."""

    async def viewer(self, scope: Scope) -> User | None:
        """The confirmed user of the request (None: serve no kept page)."""
        return await confirm_viewer(Request(scope))

    def kind(self, viewer: User) -> Hashable:
        """Who may see one kept page: what a page shows besides its personal parts may differ
        by role, never by person."""
        return ("role", viewer.role.value, viewer.is_guest)

    async def put_in(self, scope: Scope, viewer: User, body: bytes, csrf_token: str) -> bytes:
        """`body` with every personal part made for `viewer` (CSRF fields carry `csrf_token`)."""
        request: Request[Any, Any, Any] = Request(scope)
        votes = {int(found.group(2)) for found in _PART.finditer(body) if found.group(2)}
        states = await states_of(request.app.state.driver_pool, viewer.id, sorted(votes))
        csrf = csrf_input(csrf_token)
        query = scope.get("query_string", b"").decode("latin-1")
        next_url = request.url.path + (f"?{query}" if query else "")
        engine = request.app.template_engine
        assert engine is not None  # the app is made with its templates (app.py)
        context = {
            "request": request,
            "user": viewer,
            "unread_notifications": scope["state"].get(UNREAD_STATE_KEY, 0),
            "consent_outdated": not viewer.is_guest
            and viewer.consent_version != request.app.state.settings.consent_version,
            "csrf_input": csrf,
        }
        rendered: dict[bytes, bytes] = {}

        def part(found: re.Match[bytes]) -> bytes:
            name, idea_id, vote_open = found.groups()
            if name == b"vote" and idea_id:
                widget = vote_widget_html(
                    states.get(int(idea_id)),
                    int(idea_id),
                    vote_open=bool(vote_open),
                    signed_in=True,
                    csrf=csrf,
                    next_url=next_url,
                )
                return _marked(found, widget)
            if name not in rendered:
                template = NAV_TEMPLATE if name == b"nav" else CONSENT_TEMPLATE
                html = engine.get_template(template).render(**context)
                rendered[name] = html.encode()
            return rendered[name]

        return _PART.sub(part, body)


def _marked(found: re.Match[bytes], html: Markup) -> bytes:
    opening = found.group(0)[: found.group(0).index(b"-->") + 3]
    return opening + html.encode() + b"<!--/personal-->"
