"""What a user does in the browser, shared by the browser tests (log in, register, drag)."""

from __future__ import annotations

import time

from playwright.sync_api import Locator, Page

from tools.handover_check import log_in as _demo_log_in

DEMO_PASSWORD = "demo-passwort-2026"
SLUG = "industrie-der-zukunft"


def log_in(page: Page, base_url: str, email: str) -> None:
    """A demo account logs in (the same steps as `make handover-check`)."""
    _demo_log_in(page, email, base=base_url)


def register(page: Page, base_url: str, email: str, name: str, password: str) -> None:
    """A new participant registers (first sector and region) and is logged in."""
    page.goto(base_url + "/register")
    page.fill("#email", email)
    page.fill("#display_name", name)
    page.fill("#password", password)
    page.select_option("#sector", index=1)
    page.select_option("#region", index=1)
    page.check("#accepted_terms")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")


def drag(page: Page, card: Locator, target: Locator) -> None:
    """A drag as a hand makes it: press, move in steps, release (as `make board-check`)."""
    start, end = card.bounding_box(), target.bounding_box()
    assert start and end
    x0, y0 = start["x"] + 20, start["y"] + 10
    x1, y1 = end["x"] + 30, end["y"] + 20
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x0 + (x1 - x0) * step / 20, y0 + (y1 - y0) * step / 20)
        time.sleep(0.02)
    page.mouse.up()
