"""Accounts, notifications and mail in a real browser, against the demo.

Five people's ways through the account and mail features, with the mails read in the admins'
outbox viewer (no SMTP_HOST, so nothing leaves the machine):

1. Forgotten password: "Passwort vergessen?" on /login, the neutral answer (also for an unknown
   address), the mail in /admin/outbox, its link, the new password; the old one fails.
2. Follow an idea: A follows, B comments; A's bell and /notifications show it; the bundled
   mail "Neues zu „…“" names the idea and B's comment. Then A chooses the daily digest for
   comments, B comments again, `ideas-platform send-mail --now` (the CLI, on the server's
   database) writes "Ihre tägliche Zusammenfassung: …", grouped by idea.
3. The profile: display name, organisation, region saved; the header shows the new name.
4. The four legal pages of the footer open (200, an <h1>).
5. Registration needs the consent box; the new account is "noch nicht bestätigt" until the
   link of the confirmation mail is followed and its button pressed.
6. Screenshots (1280x900 and 390x844) into docs/: notifications-*, notifications-settings-*,
   profile-*, outbox-mail-*, outbox-list-*, password-reset-*.

Along the way every response with a status >= 500, a page wider than the phone's screen and
English words on a German page are collected and printed at the end (the 500s fail the run).

The server runs with MAIL_POLL_SECONDS=0.5 and NOTIFICATION_BUNDLE_SECONDS=2 on a fresh
embedded PostgreSQL, or, when DATABASE_URL is set, on a fresh database created on that server
(dropped at the end).

Usage: `make mail-check` (needs Debian's chromium and the `e2e` extra).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Response, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ideas_platform.demo.seed import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from tools._common import ROOT, SLUG, base_url, launch, serve_command, stop_postgres, wait_until_up
from tools._common import log_in as fill_in_login

DOCS = ROOT / "docs"
PORT = 8793
BASE = base_url(PORT)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MAIL_WAIT_SECONDS = 30

# Found along the way; printed at the end.
SERVER_ERRORS: list[str] = []
WARNINGS: list[str] = []
SUMMARY: list[tuple[str, float, str]] = []


# --- printing ---------------------------------------------------------------------------------


def say(text: str) -> None:
    print(f"    {text}", flush=True)


@contextmanager
def step(name: str) -> Iterator[None]:
    print(f"\n=== {name}", flush=True)
    started = time.monotonic()
    try:
        yield
    except BaseException:
        SUMMARY.append((name, time.monotonic() - started, "FAILED"))
        raise
    SUMMARY.append((name, time.monotonic() - started, "ok"))


def print_summary() -> None:
    print("\n=== Summary")
    for name, seconds, outcome in SUMMARY:
        print(f"{outcome:>6}  {seconds:6.1f} s  {name}")
    for warning in dict.fromkeys(WARNINGS):
        print(f"  warning: {warning}")
    for error in SERVER_ERRORS:
        print(f"  SERVER ERROR: {error}")


# --- the server -------------------------------------------------------------------------------


def fresh_database(url: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database on the server of `url`; answers its URL and how to drop it."""
    import asyncpg
    from sqlalchemy.engine import make_url

    from ideas_platform.core.database import asyncpg_dsn, sqlalchemy_url

    base = make_url(sqlalchemy_url(url))
    name = f"ideas_mailcheck_{secrets.token_hex(4)}"
    admin_dsn = asyncpg_dsn(base.render_as_string(hide_password=False))

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return base.set(database=name).render_as_string(hide_password=False), drop


def embedded_url(pgdata: Path) -> str:
    """The URL of the embedded PostgreSQL that `serve` started (from its postmaster.pid)."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    port, socket_dir = lines[3].strip(), lines[4].strip()
    return f"postgresql+asyncpg://postgres@/postgres?host={socket_dir}&port={port}"


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("ideas-platform")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "ideas_platform.cli"]


# --- the browser ------------------------------------------------------------------------------

ENGLISH = re.compile(
    r"\b(the|your|you|with|this|been|please|have|yet|from|for|and|of|is|are|here|link to)\b"
)


def watch(page: Page, who: str) -> Page:
    def on_response(response: Response) -> None:
        if response.status >= 500:
            SERVER_ERRORS.append(f"{response.status} {response.request.method} {response.url}")

    page.on("response", on_response)
    page.on(
        "pageerror", lambda exc: WARNINGS.append(f"JavaScript error on {page.url} ({who}): {exc}")
    )
    return page


def new_page(browser: Browser, who: str, viewport: dict[str, int] = DESKTOP) -> Page:
    context: BrowserContext = browser.new_context(viewport=viewport, locale="de-DE")  # type: ignore[arg-type]
    return watch(context.new_page(), who)


def german_only(page: Page, where: str) -> None:
    """English words in the page's own text (the demo's contents are German)."""
    text = page.locator("body").inner_text()
    hits = sorted({m.group(0) for m in ENGLISH.finditer(text)})
    if hits:
        lines = [line for line in text.splitlines() if ENGLISH.search(line)]
        WARNINGS.append(f"English on the German page {where} ({page.url}): {lines[:3]}")


def fits_phone(page: Page, where: str) -> None:
    wide = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if wide[0] > wide[1] + 1:
        WARNINGS.append(
            f"{where} ({page.url}) is {wide[0]} px wide on a {wide[1]} px phone screen "
            "(scrolls sideways)"
        )


# Words of headings wider than their heading (broken inside the word), and check boxes or radio
# buttons stretched to the width of a text field.
LAYOUT_JS = """() => {
  const found = [];
  const canvas = document.createElement("canvas").getContext("2d");
  for (const h of document.querySelectorAll("main h1, main h2")) {
    const style = getComputedStyle(h);
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    for (const word of h.innerText.split(/\\s+/)) {
      if (canvas.measureText(word).width > h.clientWidth + 1) {
        found.push(`the word "${word}" of the heading "${h.innerText}" is wider than the`
          + ` heading (${h.clientWidth} px at ${style.fontSize}) and is broken inside`);
      }
    }
  }
  for (const box of document.querySelectorAll("input[type=checkbox], input[type=radio]")) {
    const width = box.getBoundingClientRect().width;
    if (width > 48) {
      const label = ((box.labels[0] || {}).innerText || "").trim().slice(0, 40);
      found.push(`the ${box.type} #${box.id || box.name} is ${Math.round(width)} px wide `
        + `(its label "${label}" is pushed aside)`);
    }
  }
  return found;
}"""


def layout(page: Page, where: str) -> None:
    found = page.evaluate(LAYOUT_JS)
    boxes = [f for f in found if " px wide " in f]
    if len(boxes) > 1:
        boxes = [f"{boxes[0]} (and {len(boxes) - 1} more like it)"]
    for finding in [f for f in found if " px wide " not in f] + boxes:
        WARNINGS.append(f"{where} ({page.url.replace(BASE, '')}): {finding}")


def shoot(page: Page, name: str, viewport: dict[str, int]) -> None:
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    page.reload()
    kind = "phone" if viewport == PHONE else "desktop"
    layout(page, f"{name}-{kind}")
    if kind == "phone":
        fits_phone(page, name)
    german_only(page, name)
    target = DOCS / f"{name}-{kind}.png"
    page.screenshot(path=str(target), full_page=False)
    say(f"screenshot {target.relative_to(ROOT)}")


def shoot_both(page: Page, name: str) -> None:
    for viewport in (DESKTOP, PHONE):
        shoot(page, name, viewport)
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    fill_in_login(page, BASE, email, password)
    assert "/login" not in page.url, f"login of {email} failed: {page.url}"
    if "/consent" in page.url:  # new terms since the seed: agree, as a person would
        page.check("#accepted_terms")
        with page.expect_navigation():
            page.click("main form button[type=submit]")


def header_name(page: Page) -> str:
    return page.locator('header a[href="/profile"]').inner_text().strip()


def flash_text(page: Page) -> str:
    flashes = page.locator("#flash-area .flash")
    return " | ".join(t.strip() for t in flashes.all_inner_texts())


# --- the outbox -------------------------------------------------------------------------------


def outbox_rows(admin: Page, to: str) -> list[tuple[int, str]]:
    """(id, subject) of the mails to `to`, newest first."""
    admin.goto(f"{BASE}/admin/outbox?to={to}")
    rows = []
    for link in admin.locator("table tbody a[href^='/admin/outbox/']").all():
        mail_id = int(str(link.get_attribute("href")).rsplit("/", 1)[1])
        rows.append((mail_id, link.inner_text().strip()))
    return rows


def newest_id(admin: Page, to: str) -> int:
    rows = outbox_rows(admin, to)
    return rows[0][0] if rows else 0


def wait_for_mail(
    admin: Page, to: str, matches: Callable[[str], bool], *, after: int = 0, what: str = ""
) -> tuple[int, str]:
    """The newest mail to `to` with a matching subject and an id above `after`."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while True:
        for mail_id, subject in outbox_rows(admin, to):
            if mail_id > after and matches(subject):
                return mail_id, subject
        if time.monotonic() > deadline:
            seen = outbox_rows(admin, to)
            raise AssertionError(f"no mail {what!r} to {to} after #{after}; outbox: {seen}")
        time.sleep(0.5)


def open_mail(admin: Page, mail_id: int) -> str:
    admin.goto(f"{BASE}/admin/outbox/{mail_id}")
    body = admin.locator("pre.mail-text")
    assert body.count() == 1, "the mail's text is not shown in the outbox viewer"
    return body.inner_text()


def show_mail(text: str, lines: int = 30) -> None:
    """The mail's text, indented, without the footer."""
    body = text.split("\n-- \n", 1)[0].split("\n--\n", 1)[0].strip().splitlines()
    for line in body[:lines]:
        print(f"      | {line}")
    if len(body) > lines:
        print(f"      | … ({len(body) - lines} more lines)")


def click_mail_link(admin: Page, mail_id: int, path_part: str) -> str:
    """Clicks the link of the mail's text (in the admin's window) and answers where it led;
    the addressee then opens the same address in their own browser."""
    open_mail(admin, mail_id)
    link = admin.locator(f"pre.mail-text a[href*='{path_part}']")
    assert link.count() >= 1, f"no clickable link with {path_part} in mail #{mail_id}"
    href = str(link.first.get_attribute("href"))
    assert href.startswith(BASE), f"the link points elsewhere: {href} (PUBLIC_URL?)"
    with admin.expect_navigation():
        link.first.click()
    assert path_part in admin.url, admin.url
    return admin.url


# --- the steps --------------------------------------------------------------------------------


def pick_participants(admin: Page, count: int) -> list[tuple[str, str]]:
    """(email, display name) of demo participants, from the admins' user list."""
    admin.goto(BASE + "/admin")
    people = []
    pattern = re.compile(rf"^[a-z0-9.-]+\.\d+@{re.escape(DEMO_EMAIL_DOMAIN)}$")
    for row in admin.locator("#admin-users ~ * table tbody tr, section table tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        if len(cells) >= 2 and pattern.match(cells[1].strip()):
            people.append((cells[1].strip(), cells[0].strip()))
        if len(people) == count:
            return people
    raise AssertionError(f"only {len(people)} demo participants in the admins' list")


def forgotten_password(browser: Browser, admin: Page, email: str) -> None:
    person = new_page(browser, "forgetful participant")
    old_id = newest_id(admin, email)

    # the neutral answer, first for an address without account
    answers = []
    for address in (f"niemand.{secrets.token_hex(3)}@{DEMO_EMAIL_DOMAIN}", email):
        person.goto(BASE + "/login")
        with person.expect_navigation():
            person.get_by_role("link", name="Passwort vergessen?").click()
        assert person.url.endswith("/password/forgot"), person.url
        assert person.locator("h1").inner_text().strip() == "Passwort vergessen?"
        person.fill("#email", address)
        with person.expect_navigation() as nav:
            person.get_by_role("button", name="Link senden").click()
        assert nav.value and nav.value.status == 200, nav.value and nav.value.status
        answers.append(person.locator("main .flash-success").inner_text().strip())
    assert answers[0] == answers[1], f"the answer tells whether an account exists: {answers}"
    assert answers[1].startswith("Falls zu dieser Adresse ein Konto besteht"), answers[1]
    say(f"neutral confirmation (same for an unknown address): {answers[1][:70]}…")

    mail_id, subject = wait_for_mail(
        admin, email, lambda s: s == "Neues Passwort setzen", after=old_id, what="reset"
    )
    text = open_mail(admin, mail_id)
    assert text.startswith("Hallo "), text[:80]
    say(f"outbox #{mail_id} to {email}: {subject!r}")
    show_mail(text)
    shoot_both(admin, "outbox-mail")
    reset_url = click_mail_link(admin, mail_id, "/password/reset/")
    assert admin.locator("h1").inner_text().strip() == "Neues Passwort setzen"
    say(f"the link in the mail opens {reset_url.replace(BASE, '')[:40]}…")

    person.goto(reset_url)
    assert person.locator("h1").inner_text().strip() == "Neues Passwort setzen"
    shoot_both(person, "password-reset")
    # too short first: the error is shown on the form
    person.fill("#password", "kurz")
    with person.expect_navigation():
        person.get_by_role("button", name="Neues Passwort speichern").click()
    error = person.locator(".field-error").inner_text().strip()
    say(f"a too short password is refused: {error!r}")
    new_password = "Neues-Passwort-" + secrets.token_hex(4)
    person.fill("#password", new_password)
    with person.expect_navigation():
        person.get_by_role("button", name="Neues Passwort speichern").click()
    assert person.url.endswith("/login"), person.url
    assert "Ihr neues Passwort ist gesetzt" in flash_text(person), flash_text(person)
    say(f"new password saved: {flash_text(person)!r}")

    # the link works once
    person.goto(reset_url)
    assert person.locator("h1").inner_text().strip() == "Dieser Link kann nicht verwendet werden"
    say("the link used a second time: 'Dieser Link kann nicht verwendet werden'")

    person.goto(BASE + "/login")
    person.fill("#email", email)
    person.fill("#password", DEMO_PASSWORD)
    with person.expect_navigation():
        person.click("form.form button[type=submit]")
    assert person.url.startswith(BASE + "/login"), "the old password still works"
    assert person.locator('header a[href="/profile"]').count() == 0
    say(f"old password refused: {person.locator('main .flash-error').inner_text().strip()!r}")
    log_in(person, email, new_password)
    assert person.locator('header a[href="/profile"]').count() == 1
    say(f"logged in with the new password as {header_name(person)!r}")
    person.context.close()


def an_idea_of_somebody_else(page: Page, names: set[str]) -> tuple[str, str]:
    """(path, title) of a published idea whose author is none of `names`."""
    page.goto(f"{BASE}/processes/{SLUG}/ideas")
    hrefs = []
    for link in page.locator("main a[href^='/ideas/']").all():
        href = str(link.get_attribute("href"))
        if re.fullmatch(r"/ideas/\d+", href) and href not in hrefs:
            hrefs.append(href)
    for href in hrefs:
        page.goto(BASE + href)
        meta = page.locator(".idea-detail > p.meta").first.inner_text()
        if not any(name in meta for name in names) and "Status:" not in page.content():
            return href, page.locator("h1").inner_text().strip()
    raise AssertionError("no idea of somebody else found")


def comment(page: Page, path: str, text: str) -> None:
    page.goto(BASE + path)
    page.fill("#comment-body", text)
    page.locator("form:has(#comment-body) button[type=submit]").click()
    page.locator("#comments .comment .prose", has_text=text).wait_for(timeout=10_000)


def follow_and_digest(
    browser: Browser, admin: Page, a: tuple[str, str], b: tuple[str, str]
) -> Page:
    a_page, b_page = new_page(browser, "participant A"), new_page(browser, "participant B")
    log_in(a_page, a[0])
    log_in(b_page, b[0])
    path, title = an_idea_of_somebody_else(a_page, {a[1], b[1]})
    say(f"A = {a[1]} <{a[0]}>, B = {b[1]} <{b[0]}>, idea {path}: {title!r}")

    a_page.goto(BASE + path)
    button = a_page.locator(".follow-form button")
    assert button.inner_text().strip() == "Folgen", button.inner_text()
    with a_page.expect_navigation():
        button.click()
    button = a_page.locator(".follow-form button")
    assert "Sie folgen" in button.inner_text(), button.inner_text()
    assert button.get_attribute("aria-pressed") == "true"
    say(f"A follows: button {button.inner_text().strip()!r}, flash {flash_text(a_page)!r}")

    a_page.goto(BASE + "/")
    before = a_page.locator("header .bell .badge-count")
    unread_before = int(before.inner_text()) if before.count() else 0
    last_mail = newest_id(admin, a[0])

    first = f"Gute Idee, in unserem Betrieb würden wir mitmachen ({secrets.token_hex(2)})."
    comment(b_page, path, first)
    say(f"B commented: {first!r}")

    a_page.goto(BASE + "/")
    badge = a_page.locator("header .bell .badge-count")
    assert badge.count() == 1, "no unread count at A's bell"
    unread = int(badge.inner_text())
    assert unread == unread_before + 1, (unread_before, unread)
    label = a_page.locator("header .bell").get_attribute("aria-label")
    say(f"A's bell: {unread} unread (was {unread_before}); aria-label {label!r}")

    a_page.goto(BASE + "/notifications")
    item = a_page.locator(".notification-list li", has_text=first[:40])
    assert item.count() == 1, a_page.locator("main").inner_text()[:500]
    entry = item.inner_text().strip().replace("\n", " · ")
    assert b[1] in entry and title[:30] in entry, entry
    say(f"/notifications: {entry[:150]!r}")

    mail_id, subject = wait_for_mail(
        admin,
        a[0],
        lambda s: s.startswith("Neues zu „") or "Neuigkeiten" in s,
        after=last_mail,
        what="Neues zu",
    )
    text = open_mail(admin, mail_id)
    assert title in text or title in subject, text
    assert first in text, text
    assert b[1] in text, text
    say(f"outbox #{mail_id} to A: {subject!r}; names the idea and B's comment")
    show_mail(text)
    last_mail = mail_id

    # the daily digest
    a_page.goto(BASE + "/notifications/settings")
    comments = a_page.locator("fieldset:has(input[name=comment])")
    legend = comments.locator("legend").inner_text().strip()
    comments.get_by_label("Tägliche Zusammenfassung").check()
    with a_page.expect_navigation():
        a_page.get_by_role("button", name="Speichern").click()
    assert "Benachrichtigungseinstellungen wurden gespeichert" in flash_text(a_page)
    assert a_page.locator("input[name=comment][value=daily]").is_checked()
    say(f"settings: {legend!r} -> 'Tägliche Zusammenfassung' saved")

    second = f"Nachtrag: Wir könnten Räume zur Verfügung stellen ({secrets.token_hex(2)})."
    comment(b_page, path, second)
    say(f"B commented again: {second!r}")
    time.sleep(4)  # twice the bundle time: an immediate mail would be there by now
    early = [r for r in outbox_rows(admin, a[0]) if r[0] > last_mail]
    assert not early, f"a mail came before the digest: {early}"
    say("no immediate mail for the second comment (A chose the daily digest)")

    started = time.monotonic()
    cli = subprocess.run(  # noqa: S603 - our own CLI
        [*cli_command(), "send-mail", "--now"],
        env=CLI_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = (cli.stdout + cli.stderr).strip()
    assert cli.returncode == 0, output
    say(f"`ideas-platform send-mail --now` ({time.monotonic() - started:.1f} s): {output!r}")
    mail_id, subject = wait_for_mail(
        admin,
        a[0],
        lambda s: s.startswith("Ihre tägliche Zusammenfassung"),
        after=last_mail,
        what="daily digest",
    )
    text = open_mail(admin, mail_id)
    assert f"== {title} ==" in text, text
    group = text.split(f"== {title} ==", 1)[1]
    assert second in group.split("==", 1)[0], text
    say(f"outbox #{mail_id} to A: {subject!r}; grouped under '== {title[:40]}… =='")
    show_mail(text)
    if re.search(r"\b1 Neuigkeiten\b", subject):
        WARNINGS.append(
            f"digest subject {subject!r}: '1 Neuigkeiten' (one item, plural; "
            "ideas_platform/notifications/digest.py _subject uses no ngettext)"
        )
    b_page.context.close()
    return a_page


def edit_profile(a_page: Page) -> tuple[str, str]:
    a_page.goto(BASE + "/profile")
    old_name = header_name(a_page)
    new_name = f"{old_name.split()[0]} Probe-{secrets.token_hex(2)}"
    organisation = "Genossenschaft Erzgebirge Digital eG"
    a_page.fill("#display_name", new_name)
    a_page.fill("#organisation", organisation)
    a_page.select_option("#region", label="Erzgebirgskreis")
    with a_page.expect_navigation():
        a_page.get_by_role("button", name="Profil speichern").click()
    assert a_page.url.endswith("/profile"), a_page.url
    assert "Ihr Profil wurde gespeichert." in flash_text(a_page), flash_text(a_page)
    assert header_name(a_page) == new_name, header_name(a_page)
    assert a_page.input_value("#organisation") == organisation
    region = a_page.locator("#region option:checked").inner_text().strip()
    assert region == "Erzgebirgskreis", region
    say(f"{old_name!r} -> {new_name!r}, {organisation!r}, {region!r}; header: {new_name!r}")
    return new_name, organisation


def legal_pages(browser: Browser) -> None:
    page = new_page(browser, "visitor")
    for name in (
        "Impressum",
        "Datenschutzerklärung",
        "Erklärung zur Barrierefreiheit",
        "Teilnahmebedingungen",
    ):
        page.goto(BASE + "/")
        link = page.locator("footer .legal-links").get_by_role("link", name=name, exact=True)
        with page.expect_navigation() as nav:
            link.click()
        status = nav.value.status if nav.value else 0
        assert status == 200, f"{name}: {status}"
        h1 = page.locator("main h1")
        assert h1.count() == 1, f"{name}: {h1.count()} <h1>"
        say(f"{name}: {page.url.replace(BASE, '')} 200, <h1> {h1.inner_text().strip()!r}")
        german_only(page, name)
    page.context.close()


def register_with_consent(browser: Browser, admin: Page) -> None:
    page = new_page(browser, "new participant")
    email = f"neu.{secrets.token_hex(3)}@{DEMO_EMAIL_DOMAIN}"
    page.goto(BASE + "/")
    with page.expect_navigation():
        page.locator("header").get_by_role("link", name="Registrieren").click()
    page.fill("#email", email)
    page.fill("#display_name", "Neue Teilnehmerin")
    page.fill("#password", "Zustimmung-Probe-2026")
    page.select_option("#sector", index=2)
    page.fill("#organisation", "Hochschule Mittweida")
    page.select_option("#region", label="Landkreis Mittelsachsen")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Konto erstellen").click()
    status = nav.value.status if nav.value else 0
    error = page.locator(".field:has(#accepted_terms) .field-error")
    assert status == 422 and error.count() == 1, (status, page.locator("main").inner_text()[:300])
    say(f"without the consent box: {status}, {error.inner_text().strip()!r}")
    layout(page, "register")
    german_only(page, "register")
    assert page.input_value("#email") == email, "the form forgot the address"
    page.fill("#password", "Zustimmung-Probe-2026")
    page.check("#accepted_terms")
    with page.expect_navigation():
        page.get_by_role("button", name="Konto erstellen").click()
    # Not logged in before the mailed link (the form answers the same for a taken address).
    assert page.locator('header a[href="/profile"]').count() == 0, page.url
    say(f"with it: {flash_text(page)!r} (not logged in yet)")

    mail_id, subject = wait_for_mail(admin, email, lambda s: "bestätigen" in s, what="confirmation")
    text = open_mail(admin, mail_id)
    assert "/account/confirm/" in text, text
    say(f"outbox #{mail_id}: {subject!r}")
    show_mail(text)
    confirm_url = click_mail_link(admin, mail_id, "/account/confirm/")
    page.goto(confirm_url)
    h1 = page.locator("h1").inner_text().strip()
    button = page.locator("main form button[type=submit]")
    say(f"the link opens {h1!r} with the button {button.inner_text().strip()!r}")
    page.fill("#password", "Zustimmung-Probe-2026")
    with page.expect_navigation():
        button.click()
    assert page.url.endswith("/profile"), page.url
    assert header_name(page) == "Neue Teilnehmerin", page.url
    badge = page.locator("#profile-heading ~ p .badge").inner_text().strip()
    assert badge == "bestätigt", badge
    say(f"after the button: {flash_text(page)!r}; logged in; profile: {badge!r}")
    page.context.close()


# --- main -------------------------------------------------------------------------------------


CLI_ENV: dict[str, str] = {}


def main() -> None:
    started = time.monotonic()
    data_dir = tempfile.mkdtemp(prefix="mail-check-")
    env = {
        **os.environ,
        "DATA_DIR": data_dir,
        "PUBLIC_URL": BASE,  # the links in the mails lead to this server
        "MAIL_POLL_SECONDS": "0.5",
        "NOTIFICATION_BUNDLE_SECONDS": "2",
        "DEFAULT_LOCALE": "de",
    }
    for name in ("SMTP_HOST", "MAIL_SENDER_ENABLED"):
        env.pop(name, None)
    drop_database: Callable[[], None] | None = None
    if env.get("DATABASE_URL"):
        env["DATABASE_URL"], drop_database = fresh_database(env["DATABASE_URL"])
        print(f"fresh database on DATABASE_URL's server: {env['DATABASE_URL'].split('?')[0]}")
    log_path = Path(data_dir) / "server.log"
    log = log_path.open("w")
    server = subprocess.Popen(  # noqa: S603 - our own app
        serve_command(PORT),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    ok = False
    try:
        with step("0. serve the demo (fresh database, seed)"):
            wait_until_up(BASE + "/", seconds=180)
            CLI_ENV.update(env)
            if "DATABASE_URL" not in CLI_ENV:
                CLI_ENV["DATABASE_URL"] = embedded_url(Path(data_dir) / "pgdata")
            say(f"{BASE} up (the server's log is printed if a step fails)")
        DOCS.mkdir(exist_ok=True)
        with sync_playwright() as p:
            browser = launch(p)
            admin = new_page(browser, "admin")
            log_in(admin, "admin@example.org")
            forgetful, a, b = pick_participants(admin, 3)
            seeded = outbox_rows(admin, "")
            say(f"the outbox holds {len(seeded)} mails after seeding the demo")

            with step("1. forgotten password"):
                forgotten_password(browser, admin, forgetful[0])
            with step("2. follow an idea, immediate mail and daily digest"):
                a_page = follow_and_digest(browser, admin, a, b)
            with step("3. edit the profile"):
                edit_profile(a_page)
            with step("4. legal pages of the footer"):
                legal_pages(browser)
            with step("5. registration with consent, confirmation mail"):
                register_with_consent(browser, admin)
            with step("6. screenshots (desktop 1280x900, phone 390x844)"):
                for name, path in (
                    ("notifications", "/notifications"),
                    ("notifications-settings", "/notifications/settings"),
                    ("profile", "/profile"),
                ):
                    a_page.goto(BASE + path)
                    shoot_both(a_page, name)
                admin.goto(BASE + "/admin/outbox")
                shoot_both(admin, "outbox-list")
                say("(outbox-mail-* and password-reset-* were taken in step 1)")
            browser.close()
        assert not SERVER_ERRORS, SERVER_ERRORS
        ok = True
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        server_log = log_path.read_text(errors="replace")
        tracebacks = server_log.count("Traceback (most recent call last)")
        if tracebacks or not ok:
            SERVER_ERRORS.extend(
                f"log: {line.strip()}"
                for line in server_log.splitlines()
                if "Error" in line or "Traceback" in line
            )
            print("\n--- server log (last 60 lines) ---")
            print("\n".join(server_log.splitlines()[-60:]))
        if drop_database is None:
            stop_postgres(Path(data_dir) / "pgdata")
        shutil.rmtree(data_dir, ignore_errors=True)
        if drop_database is not None:
            drop_database()
        print_summary()
        print(f"{'passed' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
