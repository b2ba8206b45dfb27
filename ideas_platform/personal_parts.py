"""What differs between two logged-in people on a kept page (`core/page_cache.py`).

The idea list, the ranking and an idea's page show every participant the same, except for a
few parts: the account links in the header (name, unread notifications), the notice about new
terms of participation, the vote buttons (supported?, votes left) and whether they follow the
idea. Templates mark these parts with `<!--personal:NAME-->…<!--/personal-->`; a page kept for
one person gets them put in anew for each other person with the same role, so building it
(5-10 ms of CPU at 20,000 ideas) is done once per process and change, not per request
(issue 16). Visitors without a login get the vote buttons put in too: with the counts of now,
a vote need not drop a page that shows votes nowhere else (`page_cache.votes_only_in_buttons`).

An idea's page holds more of its viewer where they wrote the idea, a copy of it in another
cycle or a comment on it (the author's buttons, the edit buttons of their comments, what the
moderation hid of theirs): such a viewer is `related` and never gets a page kept for another.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import asyncpg
from litestar import Request
from markupsafe import Markup

from ideas_platform.accounts.auth import confirm_viewer
from ideas_platform.accounts.models import User
from ideas_platform.core.page_cache import SAME_FOR_THE_ROLE
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import UNREAD_STATE_KEY
from ideas_platform.votes.service import states_of
from ideas_platform.votes.widget import csrf_input, vote_widget_html

if TYPE_CHECKING:
    from litestar.types import Scope

# `nav`, `consent`, `follow:ID`, `vote:ID` (vote phase closed) or `vote:ID:open`.
_PART = re.compile(rb"<!--personal:([a-z]+)(?::(\d+))?(:open)?-->.*?<!--/personal-->", re.S)
_CLOSE = b"<!--/personal-->"
_VOTE_PART = b"<!--personal:vote:"
_VOTE_IDS = re.compile(re.escape(_VOTE_PART) + rb"(\d+)")
_TEMPLATES = {
    b"nav": "partials/account_nav.html",
    b"consent": "partials/consent_notice.html",
    b"follow": "partials/follow_button.html",
}

# Whether the viewer ($1) wrote the idea ($2), a copy of it in another cycle or a comment on it
# (or is a co-author), and whether they follow it.
_IDEA_RELATION = """
SELECT EXISTS (SELECT 1 FROM ideas i
               WHERE i.author_id = $1
                 AND (i.id = $2 OR i.carried_over_from_id = $2
                      OR i.id = (SELECT carried_over_from_id FROM ideas WHERE id = $2)))
       OR EXISTS (SELECT 1 FROM idea_coauthors c WHERE c.idea_id = $2 AND c.user_id = $1)
       OR EXISTS (SELECT 1 FROM comments c WHERE c.idea_id = $2 AND c.author_id = $1)
         AS related,
       EXISTS (SELECT 1 FROM follows f WHERE f.user_id = $1 AND f.idea_id = $2) AS following
"""


async def idea_relation(pool: asyncpg.Pool, user_id: int, idea_id: int) -> tuple[bool, bool]:
    """(related, following) of a viewer and an idea (see the module's docstring)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_IDEA_RELATION, user_id, idea_id)
    assert row is not None
    return bool(row["related"]), bool(row["following"])


class PersonalParts:
    """The page cache's hook for logged-in people (`PageCachePlugin(personal=...)`)."""

    async def viewer(self, scope: Scope) -> User | None:
        """The confirmed user of the request (None: serve no kept page)."""
        return await confirm_viewer(Request(scope))

    def kind(self, viewer: User) -> Hashable:
        """Who may see one kept page: what a page shows besides its personal parts may differ
        by role, never by person."""
        return ("role", viewer.role.value, viewer.is_guest)

    async def put_in(
        self, scope: Scope, viewer: User | None, body: bytes, csrf_token: str, about: Any
    ) -> bytes | None:
        """`body` with every personal part made for `viewer` (CSRF fields carry `csrf_token`);
        None if the page is about an idea the viewer is related to. For a visitor without a
        login only the vote buttons, so that they show the counts of now."""
        if viewer is None and _VOTE_PART not in body:
            return body
        request: AppRequest = Request(scope)
        pool = request.app.state.driver_pool
        following = False
        if viewer is not None and about != SAME_FOR_THE_ROLE:  # ("idea", id), an idea's page
            kind, idea_id = about
            assert kind == "idea"
            related, following = await idea_relation(pool, viewer.id, idea_id)
            if related:
                return None
        votes = {int(idea_id) for idea_id in _VOTE_IDS.findall(body)}
        states = await states_of(pool, viewer.id if viewer else None, sorted(votes))
        csrf = csrf_input(csrf_token)
        # Where a vote form returns without JavaScript: the list with its filters; an idea's
        # page gives none (the idea itself, as `ideas/detail.html` does).
        query = scope.get("query_string", b"").decode("latin-1")
        next_url: str | None = request.url.path + (f"?{query}" if query else "")
        if about != SAME_FOR_THE_ROLE:
            next_url = None
        engine = request.app.template_engine
        assert engine is not None  # the app is made with its templates (app.py)
        context = {
            "request": request,
            "user": viewer,
            "unread_notifications": scope["state"].get(UNREAD_STATE_KEY, 0),
            "consent_outdated": viewer is not None
            and not viewer.is_guest
            and viewer.consent_version != request.app.state.settings.consent_version,
            "csrf_input": csrf,
            "following": following,
        }

        def part(found: re.Match[bytes]) -> bytes:
            name, number, vote_open = found.groups()
            if name == b"vote" and number:
                html = vote_widget_html(
                    states.get(int(number)),
                    int(number),
                    vote_open=bool(vote_open),
                    signed_in=viewer is not None,
                    csrf=csrf,
                    next_url=next_url,
                )
            elif name in _TEMPLATES and viewer is not None:
                follow_url = (
                    request.app.route_reverse("idea_follow", idea_id=int(number))
                    if number
                    else None
                )
                template = engine.get_template(_TEMPLATES[name])
                html = Markup(template.render(**context, follow_url=follow_url))  # noqa: S704
            else:
                return found.group(0)
            opening = found.group(0)[: found.group(0).index(b"-->") + 3]
            return opening + html.encode() + _CLOSE

        return _PART.sub(part, body)
