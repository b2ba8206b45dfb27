"""Stored XSS: script tags, attribute break-outs and javascript: links in every text field are
rendered inert on every page that shows them; Markdown links get rel="nofollow noopener"."""

from __future__ import annotations

import base64
import html
from datetime import timedelta
from html.parser import HTMLParser

from markupsafe import escape
from sqlalchemy import select

from ideas_platform.core.choices import Role
from ideas_platform.core.markdown import render_markdown
from ideas_platform.events.models import Event
from ideas_platform.ideas.models import Idea
from ideas_platform.processes.service import now_utc
from ideas_platform.themes.models import Theme
from tests.helpers import (
    PASSWORD,
    login,
    mailed_path,
    make_process,
    make_user,
    post_form,
    prime_csrf,
)

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
MARKDOWN = (
    "Mehr dazu [hier](https://example.org/mehr) und [klick](javascript:alert(1)) "
    'oder [auch](JaVaScRiPt:alert(1)) und <a href="javascript:alert(1)">roh</a>.\n\n'
    f"{SCRIPT}\n\n{BREAKOUT}"
)


class _Findings(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if (
                name in {"href", "src", "action", "formaction", "hx-get", "hx-post"}
                and value
                and value.strip().lower().startswith("javascript:")
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.problems.append("<img src=x>")
        if tag == "a":
            self.links.append(dict(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_script = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and "alert" in data:
            self.problems.append(f"script: {data[:60]!r}")


def inert(text: str) -> _Findings:
    """Parses a page; fails on any script with the payload, on* attribute or javascript: URL."""
    findings = _Findings()
    findings.feed(text)
    findings.close()
    assert not findings.problems, findings.problems
    assert "<script>alert(1)" not in text and "<img src=x" not in text
    return findings


def shown_escaped(text: str, raw: str) -> bool:
    """The payload is on the page as text (so the check above looked at the real thing)."""
    return any(
        form in text for form in (html.escape(raw, quote=False), html.escape(raw), escape(raw))
    )


# --- Markdown ---------------------------------------------------------------------------------


def test_markdown_links_are_nofollow_noopener_and_javascript_is_dropped():
    out = render_markdown(MARKDOWN)
    findings = inert(out)
    hrefs = [link.get("href") for link in findings.links]
    assert hrefs.count("https://example.org/mehr") == 1
    assert all(h is None or not h.lower().startswith("javascript") for h in hrefs)
    for link in findings.links:
        assert {"nofollow", "noopener"} <= set((link.get("rel") or "").split())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out  # raw HTML is text, not markup
    assert "<img" not in out


def test_markdown_has_no_way_to_images_or_attributes():
    for source in (
        "![x](javascript:alert(1))",
        '[a](https://example.org "t\\" onmouseover=\\"alert(1)")',
        "<img src=x onerror=alert(1)>",
        "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[a](vbscript:msgbox(1))",
        "<svg onload=alert(1)>",
    ):
        out = render_markdown(source)
        findings = inert(out)
        assert "<img" not in out and "<svg" not in out
        for link in findings.links:
            href = (link.get("href") or "").lower()
            assert not href.startswith(("javascript:", "data:", "vbscript:")), out


# --- every field on every page ----------------------------------------------------------------


async def test_stored_payloads_are_inert_on_every_page(client, session_factory, db):
    process = await make_process(session_factory, slug="xss", cluster="open")
    slug = process.slug
    moderator = await make_user(session_factory, role=Role.ADMIN)

    # Registration: display name.
    name = f"Eva {SCRIPT}"[:80]
    registered = await post_form(
        client,
        "/register",
        {
            "email": "eva@example.org",
            "display_name": name,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "sector": "industry",
            "region": "dresden",
            "organisation": BREAKOUT,
            "consent": "on",
            "accepted_terms": "1",
        },
    )
    assert registered.status_code == 303, registered.text
    link = await mailed_path(db, "eva@example.org", "/account/confirm/")
    assert (await post_form(client, link, {"password": PASSWORD})).status_code == 303  # logs in
    # Idea: title and Markdown body.
    title = f"Idee {BREAKOUT} {SCRIPT}"
    made = await post_form(
        client, f"/processes/{slug}/ideas", {"title": title, "body": MARKDOWN, "region": "dresden"}
    )
    assert made.status_code == 303, made.text
    idea = await db.scalar(select(Idea).where(Idea.title == title))
    assert idea is not None
    idea_id = idea.id
    # Comment.
    comment = f"Kommentar {SCRIPT} {BREAKOUT} [klick](javascript:alert(1))"
    commented = await post_form(client, f"/ideas/{idea_id}/comments", {"body": comment})
    assert commented.status_code in (200, 303), commented.text
    # A report (moderation queue).
    report = f"Grund {SCRIPT} {BREAKOUT}"
    reported = await post_form(
        client, f"/ideas/{idea_id}/report", {"reason": "spam", "details": report}
    )
    assert reported.status_code in (200, 303), reported.text
    profile = await client.get("/profile")

    # As moderator: theme, event, nomination, import.
    client.cookies.clear()
    await login(client, moderator.email)
    theme_title = f"Thema {SCRIPT}"[:120]
    theme_description = f"Beschreibung {BREAKOUT} {SCRIPT}"
    created = await post_form(
        client,
        f"/processes/{slug}/themes",
        {"title": theme_title, "description": theme_description},
    )
    assert created.status_code in (200, 303), created.text
    theme = await db.scalar(select(Theme).where(Theme.title == theme_title))
    assert theme is not None
    theme_id = theme.id
    moved = await post_form(client, f"/ideas/{idea_id}/theme", {"theme_id": str(theme_id)})
    assert moved.status_code in (200, 303), moved.text
    event_title = f"Werkstatt {SCRIPT}"
    event_place = f"Ort {BREAKOUT}"
    event_made = await post_form(
        client,
        f"/processes/{slug}/events",
        {
            "title": event_title,
            "place": event_place,
            "starts_at": (now_utc() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert event_made.status_code == 303, event_made.text
    event_url = event_made.headers["location"]
    event_id = int(event_url.rstrip("/").rsplit("/", 1)[1])
    csv_title = f"Karte {SCRIPT}"
    csv_body = f"Text der Karte {BREAKOUT} und [klick](javascript:alert(1)) lang genug."
    csv = f'title;body;topic;region;author_sector\n"{csv_title}";"{csv_body}";;Dresden (Stadt);\n'
    imported = await post_form(
        client,
        f"/events/{event_id}/import",
        {"content": base64.b64encode(csv.encode()).decode(), "filename": "karten.csv"},
    )
    assert imported.status_code == 303, imported.text
    rationale = f"Weil {SCRIPT} {BREAKOUT}"
    nominated = await post_form(
        client,
        f"/processes/{slug}/shortlist/nominations",
        {"idea_id": str(idea_id), "rationale": rationale},
    )
    assert nominated.status_code in (200, 303), nominated.text

    # A guest joins with a payload as name and submits an idea from the room.
    event = await db.get(Event, event_id)
    assert event is not None
    code = event.join_code
    guest_name = f"Gast {SCRIPT}"[:80]
    guest = client
    guest.cookies.clear()
    await prime_csrf(guest)
    joined = await post_form(
        guest,
        f"/join/{code}",
        {"display_name": guest_name, "sector": "industry", "region": "zwickau"},
    )
    assert joined.status_code == 303, joined.text
    guest_idea = f"Gastidee {BREAKOUT}"
    submitted = await post_form(
        guest,
        f"/events/{event_id}/ideas",
        {"title": guest_idea, "body": "Eine Idee aus dem Raum, lang genug.", "region": "zwickau"},
    )
    assert submitted.status_code in (200, 303), submitted.text

    # Read everything back, as a moderator (sees most) and anonymously.
    client.cookies.clear()
    await login(client, moderator.email)
    pages = {
        "home": "/",
        "process": f"/processes/{slug}",
        "idea list": f"/processes/{slug}/ideas",
        "idea list htmx": f"/processes/{slug}/ideas?page=1",
        "idea": f"/ideas/{idea_id}",
        "board": f"/processes/{slug}/board",
        "theme": f"/themes/{theme_id}",
        "ranking": f"/processes/{slug}/ranking",
        "shortlist": f"/processes/{slug}/shortlist",
        "event": event_url,
        "event capture": f"/events/{event_id}/capture",
        "projector": f"/events/{event_id}/live",
        "projector state": f"/events/{event_id}/live/state",
        "moderation": "/moderation/",
        "reports": "/moderation/reports",
        "audit log": "/moderation/audit",
        "duplicates": f"/moderation/processes/{slug}/duplicates",
        "admin users": "/admin",
    }
    expected = {
        "idea": [title, SCRIPT, name, comment],
        "idea list": [title],
        "board": [title, theme_title],
        "theme": [theme_title, theme_description, title],
        "shortlist": [rationale],
        "event": [event_title, event_place],
        "projector state": [guest_idea],
        "reports": [report],
        "admin users": [name, guest_name],
    }
    checked = {}
    for label, url in pages.items():
        response = await client.get(url, headers={"HX-Request": "true"} if "htmx" in label else {})
        assert response.status_code == 200, (label, url, response.status_code)
        inert(response.text)
        shown = [
            raw
            for raw in (
                title,
                name,
                comment,
                report,
                theme_title,
                theme_description,
                event_title,
                event_place,
                csv_title,
                rationale,
                guest_name,
                guest_idea,
            )
            if shown_escaped(response.text, raw)
        ]
        checked[label] = len(shown)
        for raw in expected.get(label, []):
            assert shown_escaped(response.text, raw), (label, raw[:40])
    inert(profile.text)
    assert shown_escaped(profile.text, name)
    # Markdown on the idea page: links nofollow noopener, javascript: gone.
    findings = inert((await client.get(f"/ideas/{idea_id}")).text)
    body_links = [a for a in findings.links if a.get("href") == "https://example.org/mehr"]
    assert body_links and all(
        {"nofollow", "noopener"} <= set((a.get("rel") or "").split()) for a in body_links
    )
    # The JSON API hands the text back as data (escaped by whoever renders it).
    api = await client.get(f"/api/ideas/{idea_id}")
    assert api.headers["content-type"].startswith("application/json")
    assert api.json()["title"] == title
    inert(api.json()["body_html"])
    # Anonymous visitors see the same pages inert.
    client.cookies.clear()
    for label in ("home", "process", "idea list", "idea", "board", "theme", "event"):
        inert((await client.get(pages[label])).text)
    print("XSS fields shown per page:", checked, sum(checked.values()))
    assert sum(checked.values()) >= 25, checked
