"""The vote widget: one function renders the answer to a vote and the widget on every page."""

from __future__ import annotations

from ideas_platform.core.i18n import using_locale
from ideas_platform.votes.service import VoteState
from ideas_platform.votes.widget import csrf_input, vote_widget_html
from tests.helpers import htmx_headers


async def test_the_answer_to_a_vote_is_the_widget_the_idea_page_shows(client, own_idea):
    _, _, idea = await own_idea(budget=3)
    await client.get(f"/ideas/{idea.id}")
    fragment = await client.post(f"/ideas/{idea.id}/vote", headers=htmx_headers(client))
    assert fragment.status_code == 200
    assert fragment.headers["content-type"].startswith("text/html")
    page = await client.get(f"/ideas/{idea.id}")
    assert fragment.text in page.text, "the page must show the same widget as the vote answers"
    assert "Sie haben noch 2 von 3 Stimmen." in fragment.text
    assert 'aria-pressed="true"' in fragment.text


def test_values_are_escaped_and_the_csrf_field_is_kept():
    html = vote_widget_html(
        VoteState(7, False, 3),
        7,
        'Fehler <script>alert("x")</script>',
        vote_open=True,
        signed_in=True,
        csrf=csrf_input('a"b<c'),
        next_url='/x?"><script>',
    )
    assert "<script>" not in html
    assert "Fehler &lt;script&gt;" in html
    assert 'value="/x?&#34;&gt;&lt;script&gt;"' in html
    assert '<input type="hidden" name="_csrf_token" value="a&#34;b&lt;c" />' in html
    assert 'action="/ideas/7/vote"' in html and 'aria-pressed="false"' in html


def test_states_of_the_widget():
    with using_locale("de"):
        closed = vote_widget_html(VoteState(7, True, 1), 7)
        anonymous = vote_widget_html(None, 7, vote_open=True, signed_in=None)
        dots = vote_widget_html(
            VoteState(7, True, 2, 5, 2, dots=True), 7, vote_open=True, signed_in=1
        )
    assert "<strong>1</strong>" in closed and "<form" not in closed and "/login" not in closed
    assert '<a class="button secondary" href="/login?next=/ideas/7">' in anonymous
    assert "<strong>0</strong>" in anonymous and "<form" not in anonymous
    assert 'action="/ideas/7/unvote"' in dots
    assert "Sie haben in diesem Workshop noch 3 von 5 Punkten." in dots
    # Every label in German (the catalogue must carry the widget's words).
    assert ">Stimme zurückziehen</button>" in dots and "Stimmen\n" in dots
    assert ">Zum Abstimmen anmelden</a>" in anonymous and "Stimme\n" in closed
    with using_locale("de"):
        support = vote_widget_html(VoteState(7, False, 1), 7, vote_open=True, signed_in=True)
    assert ">Stimme geben</button>" in support
    with using_locale("en"):
        english = vote_widget_html(VoteState(7, False, 1), 7, vote_open=True, signed_in=True)
    assert "supporter\n" in english and ">Support</button>" in english
