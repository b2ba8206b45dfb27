"""Staff pages: the audit log in words with a readable diff, votes and breadth on the shortlist's
nomination cards, and the admin's user list in pages."""

from __future__ import annotations

import html
import pathlib
import re

import pytest

from ideas_platform.audit import service as audit
from ideas_platform.audit.labels import ACTION_LABELS, changes
from ideas_platform.core.choices import Role
from ideas_platform.core.requests import Principal
from ideas_platform.moderation import reports
from ideas_platform.shortlists import service as shortlists
from ideas_platform.themes import service as themes
from ideas_platform.votes import service as votes
from tests.helpers import login, make_idea, make_process, make_user, make_users_fast


def diff_blocks(page: str) -> list[str]:
    """The text of each entry's list of changes, tags removed."""
    blocks = re.findall(r'<dl class="audit-diff">(.*?)</dl>', page, flags=re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", b)).split()) for b in blocks]


# --- audit log ------------------------------------------------------------------------------


def test_the_diff_leaves_out_unchanged_fields_and_shortens_long_values():
    long_reason = "Beleidigend " * 20
    result = changes(
        {"title": "Alt", "description": "gleich", "hidden": False},
        {"title": "Neu", "description": "gleich", "hidden": True, "reason": long_reason},
    )
    assert [(c.key, c.before, c.after) for c in result[:2]] == [
        ("hidden", False, True),
        ("reason", None, result[1].after),
    ]
    assert [c.key for c in result] == ["hidden", "reason", "title"]
    assert len(str(result[1].after)) <= 80 and str(result[1].after).endswith("…")
    # nested states (a merge) show per field, labelled with their parent
    nested = changes(
        {"source": {"status": "published", "votes": 3}},
        {"source": {"status": "merged", "votes": 3}},
    )
    assert [(c.labels, c.before, c.after) for c in nested] == [
        (("Merged idea", "Status"), "published", "merged")
    ]


def test_every_action_the_code_records_has_a_label():
    recorded: set[str] = set()
    for path in pathlib.Path("ideas_platform").rglob("*.py"):
        text = path.read_text()
        recorded |= set(re.findall(r'action=f?"([a-z_{}]+\.[a-z_.{}]+)"', text))  # "theme.rename"
        recorded |= set(re.findall(r'action="[a-z_.]+" if [\w ]+ else "([a-z_.]+)"', text))
    assert "user.deactivate" in recorded and "{target_type}.hide" in recorded
    recorded = {a.replace("{target_type}", t) for a in recorded for t in ("idea", "comment")}
    assert sorted(a for a in recorded if a not in ACTION_LABELS) == []


@pytest.fixture
async def logged(session_factory, db):
    process = await make_process(session_factory, slug="protokoll", cluster="open")
    author = await make_user(session_factory)
    mod = await make_user(session_factory, role=Role.MODERATOR, name="Mo Deration")
    idea = await make_idea(session_factory, process, author, title="Lernfabrik Chemnitz")
    reason = "Enthält personenbezogene Daten einer dritten Person, " * 6
    await reports.hide(db, idea_id=idea.id, moderator_id=mod.id, reason=reason)
    theme = await themes.create_theme(
        db, process=process, user=mod, title="Energie", description="Bleibt gleich"
    )
    await themes.rename_theme(
        db,
        theme_id=theme.id,
        moderator=mod,
        title="Energie und Wasserstoff",
        description="Bleibt gleich",
    )
    async with db.begin():
        audit.record(db, actor_id=mod.id, action="brand.new", target_type="idea", target_id=idea.id)
    return {"mod": mod, "idea": idea, "reason": reason}


async def test_the_audit_log_speaks_words_not_codes(logged, client):
    await login(client, logged["mod"].email)
    page = (await client.get("/moderation/audit")).text
    # the object filter in German, not the stored codes
    assert ">Idee</option>" in page and ">Thema</option>" in page
    assert ">idea</option>" not in page and ">theme</option>" not in page
    # actions in words (the German text comes with the catalogue), an unknown code as it is
    for code in ("idea.hide", "theme.rename", "theme.create"):
        assert f"<code>{code}</code>" not in page
    assert re.search(
        r'class="audit-action" title="idea.hide">[^<]*(Idea hidden|Idee ausgeblendet)', page
    )
    assert 'title="brand.new">brand.new<' in page
    # no raw JSON
    assert '{"title"' not in page and "&#34;title&#34;" not in page and '"hidden": true' not in page


async def test_the_audit_log_shows_only_what_changed(logged, client):
    await login(client, logged["mod"].email)
    blocks = diff_blocks((await client.get("/moderation/audit")).text)
    rename = next(b for b in blocks if "Energie und Wasserstoff" in b)
    assert "Titel Energie → Energie und Wasserstoff" in rename
    assert "Bleibt gleich" not in rename  # the description did not change
    hide = next(b for b in blocks if "personenbezogene" in b)
    assert "nein → ja" in hide  # hidden: False -> True, in words
    assert logged["reason"].strip() not in hide and "…" in hide


# --- nomination cards -----------------------------------------------------------------------


async def test_nomination_cards_show_votes_and_breadth(session_factory, driver_pool, db, client):
    process = await make_process(session_factory, slug="auswahl", cluster="open")
    author = await make_user(session_factory, sector="other")
    mod = await make_user(session_factory, role=Role.MODERATOR)
    ministry = await make_user(session_factory, role=Role.MINISTRY)
    broad = await make_idea(session_factory, process, author, title="Transferzentrum Leichtbau")
    narrow = await make_idea(session_factory, process, author, title="Steuerbonus für Roboter")
    industry = await make_users_fast(session_factory, 3, sector="industry")
    science = await make_users_fast(session_factory, 2, sector="science")
    for user_id in industry + science:
        await votes.cast_vote(driver_pool, Principal(user_id, None), broad.id)
    for user_id in industry[:2]:
        await votes.cast_vote(driver_pool, Principal(user_id, None), narrow.id)
    theme = await themes.create_theme(db, process=process, user=mod, title="Leichtbau")
    for idea in (broad, narrow):
        await themes.move_idea(db, idea_id=idea.id, theme_id=theme.id, user=mod)
    entry = await shortlists.nominate(
        db, process=process, moderator=mod, rationale="Breit getragen.", idea_id=narrow.id
    )
    theme_entry = await shortlists.nominate(
        db, process=process, moderator=mod, rationale="Ein Schwerpunkt.", theme_id=theme.id
    )
    await login(client, ministry.email)
    page = (await client.get("/processes/auswahl/shortlist")).text

    def card(entry_id: int) -> str:
        found = re.search(rf'<li class="card" id="entry-{entry_id}">(.*?)</li>', page, flags=re.S)
        assert found, page
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())

    assert "2 Stimmen" in card(entry.id)
    assert re.search(r"\b1 (of|von) 6\b", card(entry.id))
    # a theme: the totals of its ideas (5 + 2 votes; industry and science)
    assert "7 Stimmen" in card(theme_entry.id)
    assert re.search(r"\b2 (of|von) 6\b", card(theme_entry.id))


# --- admin: users in pages ------------------------------------------------------------------


async def test_the_user_list_comes_in_pages_keeping_the_search(session_factory, client):
    admin = await make_user(session_factory, role=Role.ADMIN, name="Ada Admin")
    await make_users_fast(session_factory, 120, sector="science")  # "Bulk …"
    await login(client, admin.email)

    first = (await client.get("/admin")).text
    assert first.count('id="role-') == 50
    assert "Seite 1 von 3" in first
    assert 'href="/admin?page=2#admin-users"' in first

    found = (await client.get("/admin", params={"q": "bulk", "page": "3"})).text
    assert found.count('id="role-') == 20
    assert "Seite 3 von 3" in found
    assert 'href="/admin?q=bulk&amp;page=2#admin-users"' in found
    assert "<td>Ada Admin</td>" not in found  # the search applies to every page

    # a page beyond the last shows the last; nonsense shows the first
    assert "Seite 3 von 3" in (await client.get("/admin", params={"q": "bulk", "page": "99"})).text
    assert "Seite 1 von 3" in (await client.get("/admin", params={"page": "x"})).text
