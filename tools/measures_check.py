"""After the hand-over, in a real browser against the demo (issue 14).

A new participant registers and supports a nominated idea. The ministry accepts that
nomination, creates a measure for it from the Umsetzung page and posts an update with a PDF.
The participant then finds the update under the bell, on the Umsetzung page and on the idea
("Floss ein in die Maßnahme"). The demo's earlier cycle shows its measures, the carried ones
appear in this cycle, and the admin's next-cycle form lists them. The ministry's dashboard
shows the map. Writes docs/screenshots/{implementation,measure,next-cycle,dashboard}-*.png.

Usage: `make measures-check` (needs Debian's chromium and the `e2e` extra).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools._common import (
    SLUG,
    base_url,
    demo_server,
    embedded_database_url,
    launch,
    log_in,
    register,
    screenshot,
)

PORT = 8794
BASE = base_url(PORT)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def no_overflow(page: Page, name: str) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not wide, f"{name}: the page scrolls sideways"


def register_participant(page: Page, database_url: str) -> None:
    register(
        page,
        BASE,
        "umsetzung.probe@example.org",
        "Paula Probe",
        "Umsetzung-Probe-2026",
        database_url=database_url,
    )
    assert "/register" not in page.url, page.locator("main").inner_text()[:300]


def main() -> None:
    with demo_server(PORT, prefix="measures-e2e-", PUBLIC_URL=BASE) as data_dir:
        pdf_path = data_dir / "zwischenbericht.pdf"
        pdf_path.write_bytes(PDF)
        with sync_playwright() as p:
            browser = launch(p)
            ministry = browser.new_page(viewport={"width": 1280, "height": 900})
            log_in(ministry, BASE, "ministry@example.org")
            ministry.goto(f"{BASE}/processes/{SLUG}/shortlist")
            first = ministry.locator("section[aria-labelledby=pending-heading] li.card").first
            idea_href = first.locator("h3 a").get_attribute("href") or ""
            title = first.locator("h3 a").inner_text().strip()
            say(f"first nomination: {title!r} ({idea_href})")

            participant = browser.new_page(viewport={"width": 390, "height": 844})
            register_participant(participant, embedded_database_url(data_dir))
            participant.goto(BASE + idea_href)
            with participant.expect_response(lambda r: "/vote" in r.url):
                participant.locator(".vote button[aria-pressed=false]").click()
            say("participant registered and supports the idea")

            form = first.locator(".decide-form")
            form.locator("textarea").fill("Wird in die Umsetzungsplanung 2027 aufgenommen.")
            with ministry.expect_navigation():
                form.locator("button[value=accept]").click()
            ministry.goto(f"{BASE}/processes/{SLUG}/umsetzung")
            with ministry.expect_navigation():
                ministry.locator("a[href$='/measure/new']").first.click()
            ministry.fill("#title", "Lernfabriken für den Mittelstand")
            ministry.fill("#unit", "Referat 24 – Fachkräfte und Weiterbildung")
            ministry.fill("#description", "Drei **Lernfabriken** an Berufsschulzentren.")
            ministry.fill("#starts_on", "2027-02-01")
            ministry.fill("#target_on", "2028-12-31")
            with ministry.expect_navigation():
                ministry.click("form.form button[type=submit]")
            assert "/measures/" in ministry.url, ministry.locator("main").inner_text()[:300]
            measure_path = ministry.url.replace(BASE, "")
            ministry.fill("#update-body", "Standorte **Chemnitz** und Görlitz ausgewählt.")
            ministry.fill("#update-progress", "25")
            ministry.set_input_files("#update-attachment", str(pdf_path))
            with ministry.expect_navigation():
                ministry.locator("#updates form button[type=submit]").click()
            assert "Chemnitz" in ministry.locator("#updates").inner_text()
            say(f"ministry: measure {measure_path} created, update with PDF posted (25 %)")

            # The participant hears of it and finds it where they look.
            participant.goto(BASE + "/notifications")
            text = participant.locator("main").inner_text()
            assert "Lernfabriken für den Mittelstand" in text, text[:400]
            say("participant: the update is under the bell")
            participant.goto(f"{BASE}/processes/{SLUG}/umsetzung")
            listing = participant.locator("main").inner_text()
            assert "Lernfabriken für den Mittelstand" in listing and "Fortgeführt aus" in listing
            participant.goto(BASE + idea_href)
            assert "Floss ein in die Maßnahme" in participant.locator("main").inner_text()
            say("participant: on the Umsetzung page (with the carried measures) and on the idea")
            participant.goto(BASE + measure_path)
            pdf_link = participant.locator("a[href$='/attachment']").first
            pdf = participant.request.get(BASE + (pdf_link.get_attribute("href") or ""))
            assert pdf.body() == PDF
            say("participant: the PDF downloads unchanged")

            admin = browser.new_page(viewport={"width": 1280, "height": 900})
            log_in(admin, BASE, "admin@example.org")
            admin.goto(f"{BASE}/processes/{SLUG}")
            admin.goto(
                BASE + (admin.locator("a[href$='/next-cycle']").first.get_attribute("href") or "")
            )
            offered = admin.locator("input[name=measure]").count()
            say(f"admin: the next-cycle form offers {offered} open measures")
            assert offered >= 3

            pages = {
                "implementation": f"/processes/{SLUG}/umsetzung",
                "measure": measure_path,
                "implementation-earlier": "/processes/industriedialog-2025/umsetzung",
                "dashboard": f"/processes/{SLUG}/dashboard",
            }
            for size_name, (width, height) in SIZES.items():
                view = browser.new_page(viewport={"width": width, "height": height})
                log_in(view, BASE, "ministry@example.org")
                for name, path in pages.items():
                    response = view.goto(BASE + path)
                    assert response is not None and response.status == 200, (path, response)
                    no_overflow(view, f"{name} ({size_name})")
                    screenshot(view, f"{name}-{size_name}", full_page=True)
                if size_name == "desktop":
                    view.goto(BASE + pages["dashboard"])
                    districts = view.locator("svg path.district").count()
                    shaded = view.locator("svg path.district:not(.map-l0)").count()
                    say(f"dashboard: map with {districts} districts, {shaded} with participants")
                    assert districts == 13
                view.close()
            admin.goto(f"{BASE}/admin/processes/1/next-cycle")
            screenshot(admin, "next-cycle-desktop")
            browser.close()
        say("all steps passed; screenshots in docs/screenshots")


if __name__ == "__main__":
    main()
