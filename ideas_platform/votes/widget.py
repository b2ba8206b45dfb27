"""The vote widget of one idea: count, button and the voter's votes (or dots) left.

One function renders it everywhere: the answer to a vote (`votes.controllers`, the htmx
fragment swapped in place) and every page that shows the widget
(`templates/partials/vote.html`'s `vote_widget` macro calls it as the template global
`vote_widget_html`).

Python rather than Jinja because it is the answer to the platform's hottest request: the
macro cost ~40-60 us of CPU per vote (a macro call, two template contexts and three gettext
calls through Jinja), this ~5 us (issue 16, bench/README.md). It writes what the macro wrote:
the translations are ours and taken as markup (as Jinja's newstyle gettext does), every value
is escaped.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from ideas_platform.core.i18n import gettext, ngettext
from ideas_platform.votes.service import VoteState


def csrf_input(token: str) -> Markup:
    """The hidden CSRF field, as Litestar gives it to templates (`csrf_input`)."""
    return Markup(f'<input type="hidden" name="_csrf_token" value="{escape(token)}" />')  # noqa: S704


def _budget_line(vote: VoteState) -> str:
    if vote.dots:
        text = gettext("You have %(left)s of %(budget)s dots left at this event.")
    else:
        text = gettext("You have %(left)s of %(budget)s votes left.")
    line = text % {"left": vote.remaining, "budget": vote.budget}  # numbers: nothing to escape
    return f'      <span class="budget">{line}</span>\n'


def vote_widget_html(
    vote: VoteState | None,
    idea_id: int,
    error: str | None = None,
    *,
    vote_open: Any = False,
    signed_in: Any = False,
    csrf: Any = "",
    next_url: Any = None,
) -> Markup:
    """`<div class="vote" id="vote-ID">…</div>`, which htmx swaps whole (outerHTML).

    `vote` None: no votes and the "support" button. `vote_open` false: only the count.
    `signed_in` false: the login link instead of the button. `csrf`: the form's CSRF field
    (markup, `csrf_input`). `next_url`: where the form returns without JavaScript.
    Template values may be Jinja's Undefined: only their truth counts then.

    Plain f-strings (markupsafe's `%` wraps every argument): numbers need no escaping, the
    translations are ours and taken as markup (as Jinja's newstyle gettext does), and the
    strings from outside (`error`, `next_url`) are escaped."""
    idea = int(idea_id)
    count = int(vote.vote_count) if vote else 0
    voted = bool(vote and vote.voted)
    # gettext outside the f-strings: Babel does not extract calls inside them.
    supporters = ngettext("supporter", "supporters", count)
    html = (
        f'<div class="vote" id="vote-{idea}">\n  <span class="vote-count">\n'
        f"    <strong>{count}</strong>\n    {supporters}\n"
        "  </span>\n"
    )
    if vote_open and not signed_in:
        log_in = gettext("Log in to support")
        html += f'    <a class="button secondary" href="/login?next=/ideas/{idea}">{log_in}</a>\n'
    elif vote_open:
        target = f"/ideas/{idea}/{'unvote' if voted else 'vote'}"
        back = escape(next_url or f"/ideas/{idea}")
        html += (
            f'    <form method="post" action="{target}" hx-post="{target}"\n'
            f'          hx-target="#vote-{idea}" hx-swap="outerHTML">\n'
            f"      {csrf or ''}\n"
            f'      <input type="hidden" name="next" value="{back}">\n'
        )
        if voted:
            withdraw = gettext("Withdraw support")
            html += (
                f'        <button type="submit" id="vote-button-{idea}" class="button secondary"'
                f' aria-pressed="true">{withdraw}</button>\n'
            )
        else:
            support = gettext("Support")
            html += (
                f'        <button type="submit" id="vote-button-{idea}" class="button"'
                f' aria-pressed="false">{support}</button>\n'
            )
        html += "    </form>\n"
        if vote and vote.budget:
            html += _budget_line(vote)
    if error:
        html += f'<p class="field-error" role="alert">{escape(error)}</p>'
    return Markup(html + "</div>")  # noqa: S704 -- built above, every outside value escaped
