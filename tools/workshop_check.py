"""A workshop in real browsers, against the demo served by 2 worker processes.

The moderator opens the projector of the next workshop; a phone (another browser context,
phone-sized) joins with the code as a guest, sends an idea and gives it a dot. The projector
must show both without a reload. Then the projector loses its network for a few seconds while
the phone gives another dot; when the network is back, the projector must show it (it
reconnects and fetches the state again). Writes docs/screenshots/{projector-desktop,
join-phone,event-phone}.png.

Usage: `make workshop-check` (needs Debian's chromium and the `e2e` extra).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools._common import SLUG, base_url, demo_server, launch, log_in, screenshot

PORT = 8793
BASE = base_url(PORT)
PROXY_PORT = 8794  # the projector's way to the app, with a switch to cut it


class FlakyNetwork:
    """A TCP proxy in front of the app for the projector: `drop()` cuts every connection and
    refuses new ones until `restore()` (a Wi-Fi outage, as the projector laptop sees it)."""

    def __init__(self, target_port: int, port: int) -> None:
        self.target_port, self.port = target_port, port
        self.up = threading.Event()
        self.up.set()
        self.connections: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(10)

    async def _serve(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up.is_set():
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        self.connections |= {writer, upstream_writer}
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    def drop(self) -> None:
        self.up.clear()
        for writer in list(self.connections):
            self.loop.call_soon_threadsafe(writer.transport.abort)
        self.connections.clear()

    def restore(self) -> None:
        self.up.set()


def count_of(projector: Page, title: str) -> str:
    return projector.locator(".live-ideas li", has_text=title).locator(".count").inner_text()


def main() -> None:
    with (
        demo_server(PORT, prefix="workshop-e2e-", workers=2, PUBLIC_URL=BASE),
        sync_playwright() as p,
    ):
        browser = launch(p)
        moderator = browser.new_context(viewport={"width": 1280, "height": 800})
        desk = moderator.new_page()
        log_in(desk, BASE, "moderator@example.org")
        desk.goto(f"{BASE}/processes/{SLUG}")
        desk.locator("ul.events a").first.click()
        event_url = desk.url
        code = desk.locator(".join-code").inner_text().strip()
        with desk.expect_navigation():
            desk.locator("button[name=mode][value=vote]").click()
        network = FlakyNetwork(PORT, PROXY_PORT)
        projector = moderator.new_page()
        projector.goto(event_url.replace(str(PORT), str(PROXY_PORT)) + "/live")
        print(f"projector open for {event_url} (code {code})")

        phone_context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        phone = phone_context.new_page()
        phone.goto(f"{BASE}/join")
        phone.fill("#code", code.lower())
        with phone.expect_navigation():
            phone.click('form[action="/join"] button[type=submit]')
        phone.fill("#display_name", "Jana aus Bautzen")
        phone.select_option("#sector", "civil_society")
        phone.select_option("#region", "bautzen")
        screenshot(phone, "join-phone")
        with phone.expect_navigation():
            phone.click('form[action^="/join/"] button[type=submit]')
        title = "Reparaturcafés in Gewerbehöfen fördern"
        phone.fill("#title", title)
        phone.fill("#body", "Werkstätten teilen Räume mit Reparaturinitiativen aus dem Ort.")
        started = time.monotonic()
        with phone.expect_navigation():
            phone.click("#submit-heading ~ form button[type=submit]")
        expect(projector.locator(".live-ideas li", has_text=title)).to_be_visible(timeout=5000)
        print(f"idea on the projector after {time.monotonic() - started:.2f} s, no reload")

        card = phone.locator("li.card", has_text=title)
        started = time.monotonic()
        card.locator("button[aria-pressed=false]").click()
        expect(projector.locator(".live-ideas li", has_text=title).locator(".count")).to_have_text(
            "1", timeout=5000
        )
        print(f"dot counted on the projector after {time.monotonic() - started:.2f} s")
        screenshot(projector, "projector-desktop")
        screenshot(phone, "event-phone")

        # The projector's network drops; a dot is given meanwhile; the network comes back.
        network.drop()
        expect(projector.locator("#live-status")).to_be_visible(timeout=10000)
        other = browser.new_context(viewport={"width": 390, "height": 844})
        second = other.new_page()
        second.goto(f"{BASE}/join/{code}")
        second.fill("#display_name", "Tom aus Görlitz")
        second.select_option("#sector", "industry")
        second.select_option("#region", "goerlitz")
        with second.expect_navigation():
            second.click('form[action^="/join/"] button[type=submit]')
        second.locator("li.card", has_text=title).locator("button[aria-pressed=false]").click()
        second.wait_for_timeout(1500)
        assert count_of(projector, title) == "1", "the offline projector cannot know yet"
        network.restore()
        expect(projector.locator(".live-ideas li", has_text=title).locator(".count")).to_have_text(
            "2", timeout=15000
        )
        print("after the network drop the projector caught up: 2 dots")
        browser.close()


if __name__ == "__main__":
    main()
