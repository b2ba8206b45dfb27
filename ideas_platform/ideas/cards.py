"""The idea list's cards: their viewer-independent part rendered once, then reused (issue 16).

A card of the idea list shows the idea's title, topic, region, the author's sector, the number
of comments and the day it was submitted, then the vote button. Everything but the vote button
is the same for every viewer, so `card_head` keeps that part's HTML, keyed by the language and
by every value it shows: when an idea's title, topic, region, sector or comment count changes,
its key changes and the card is rendered anew. A template calls it as a block:

    {% call card_head(view) %}...the HTML of the card's head...{% endcall %}

Jinja hands the block over as `caller`; it is only rendered when the key is new.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from markupsafe import Markup

from ideas_platform.core.i18n import get_locale

if TYPE_CHECKING:
    from ideas_platform.ideas.service import IdeaView

# Twenty cards a page; a few thousand ideas listed in two languages stay well within this (a
# card's head is about half a kilobyte: a few MB per worker). When full, the oldest entry goes.
# The cache holds rendered HTML: after editing the card's template, restart the server.
MAX_ENTRIES = 8192

_rendered: dict[tuple[object, ...], Markup] = {}


def card_key(view: IdeaView) -> tuple[object, ...]:
    """Everything the head of a card shows, and the language it shows it in."""
    idea = view.idea
    return (
        get_locale(),
        idea.id,
        idea.title,
        view.topic_name,
        idea.region,
        idea.author_sector,
        idea.comment_count,
        idea.created_at,
    )


def card_head(view: IdeaView, caller: Callable[[], str]) -> Markup:
    """The head of `view`'s card: `caller()`, rendered once per `card_key`."""
    key = card_key(view)
    html = _rendered.get(key)
    if html is None:
        if len(_rendered) >= MAX_ENTRIES:
            del _rendered[next(iter(_rendered))]  # dicts keep their order: the oldest
        html = _rendered[key] = Markup(caller())  # noqa: S704 -- our template's output
    return html
