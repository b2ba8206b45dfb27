"""The ministry's hand-over in a real browser, against the demo.

The ministry logs in, accepts five nominations (one with a comment), declines one with a
reason, moves one up, freezes the shortlist and downloads all four formats with their
manifests through the page's links. Each file is checked against its manifest and parsed as a
ministry officer's software would (csv, openpyxl, json, pypdf). A participant then sees the
decisions. Writes docs/screenshots/{ranking,shortlist}-{desktop,phone}.png and the files to
docs/handover-sample/ (not committed).

Usage: `make handover-check` (needs Debian's chromium and the `e2e` and `test` extras).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Page, sync_playwright
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools._common import SLUG, base_url, demo_server, launch, log_in, screenshot

PORT = 8792
BASE = base_url(PORT)
SAMPLE = Path(tempfile.mkdtemp(prefix="handover-"))


def decide(page: Page, index: int, decision: str, comment: str) -> None:
    form = page.locator(".decide-form").nth(index)
    form.locator("textarea").fill(comment)
    with page.expect_navigation():
        form.locator(f"button[value={decision}]").click()


def download(page: Page, fmt: str) -> tuple[bytes, str]:
    link = page.locator(f'a[href="/api/processes/{SLUG}/exports/{fmt}"]')
    with page.expect_download() as info:
        link.click()
    target = SAMPLE / info.value.suggested_filename
    info.value.save_as(target)
    manifest = page.request.get(f"{BASE}/api/processes/{SLUG}/exports/{fmt}/manifest").text()
    return target.read_bytes(), manifest


def check_files(files: dict[str, tuple[bytes, str]]) -> None:
    for fmt, (raw, manifest) in files.items():
        digest, name = manifest.split()
        assert hashlib.sha256(raw).hexdigest() == digest, f"{fmt}: manifest mismatch"
        print(f"{fmt}: {len(raw):,} bytes, {name}, SHA-256 matches the manifest")
    rows = list(csv.reader(io.StringIO(files["csv"][0].decode("utf-8-sig")), delimiter=";"))
    print(f"csv: {len(rows) - 1} ideas; first: {rows[1][4]!r} ({rows[1][1]})")
    book = load_workbook(io.BytesIO(files["xlsx"][0]), read_only=True)
    print("xlsx sheets:", ", ".join(f"{s.title} ({s.max_row - 1} rows)" for s in book))
    document = json.loads(files["json"][0])
    accepted = [i for i in document["ideas"] if (i["shortlist"] or {}).get("status") == "accepted"]
    print(f"json: {len(document['ideas'])} ideas, {len(accepted)} accepted")
    pdf = PdfReader(io.BytesIO(files["pdf"][0]))
    print(f"pdf: {len(pdf.pages)} pages; page 3 starts: {pdf.pages[2].extract_text()[:80]!r}")
    assert len(accepted) == 5


def main() -> None:
    with demo_server(PORT, prefix="handover-e2e-", PUBLIC_URL="https://ideen.example.org"):
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            log_in(page, BASE, "ministry@example.org")
            page.goto(f"{BASE}/processes/{SLUG}/shortlist")
            decide(page, 0, "accept", "Wird in die Umsetzungsplanung 2027 aufgenommen.")
            for _ in range(4):
                page.goto(f"{BASE}/processes/{SLUG}/shortlist")
                # accepted entries keep their form at the top; the next pending one follows
                decide(page, page.locator(".shortlist .decide-form").count(), "accept", "")
            page.goto(f"{BASE}/processes/{SLUG}/shortlist")
            decide(
                page,
                page.locator(".shortlist .decide-form").count(),
                "decline",
                "Wird bereits über das Bundesprogramm gefördert.",
            )
            for _ in range(2):
                page.goto(f"{BASE}/processes/{SLUG}/shortlist")
                decide(
                    page,
                    page.locator(".shortlist .decide-form").count(),
                    "decline",
                    "Im Rahmen dieses Prozesses nicht umsetzbar.",
                )
            page.goto(f"{BASE}/processes/{SLUG}/shortlist")
            with page.expect_navigation():
                page.locator(".shortlist form[action$='/move'] button").nth(1).click()
            with page.expect_navigation():
                page.locator("form[action$='/freeze'] button").click()
            assert "eingefroren" in page.content(), "freeze not confirmed"
            files = {fmt: download(page, fmt) for fmt in ("csv", "xlsx", "json", "pdf")}
            check_files(files)
            again = download(page, "xlsx")
            print("xlsx downloaded again, same bytes:", again[0] == files["xlsx"][0])
            for width_name, size in (("desktop", (1280, 900)), ("phone", (390, 844))):
                view = browser.new_page(viewport={"width": size[0], "height": size[1]})
                log_in(view, BASE, "moderator@example.org")
                for name, path in (
                    ("ranking", f"/processes/{SLUG}/ranking?method=breadth"),
                    ("shortlist", f"/processes/{SLUG}/shortlist"),
                ):
                    view.goto(BASE + path)
                    screenshot(view, f"{name}-{width_name}")
                view.close()
            browser.close()
        print(f"files in {SAMPLE}")


if __name__ == "__main__":
    main()
