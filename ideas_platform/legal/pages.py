"""The legal pages the operator writes: Impressum, privacy notice, accessibility statement and
terms of participation, as Markdown files in `LEGAL_PAGES_DIR` (German templates ship in
`ideas_platform/legal/pages/` for the demo).

A file `<name>.md` is the German page; `<name>.en.md`, where present, the English one.
"""

from __future__ import annotations

import logging
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ideas_platform.core.choices import N_
from ideas_platform.core.errors import NotFoundError
from ideas_platform.core.markdown import render_markdown

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).with_name("pages")

# URL name -> the page's title (translated on display); the footer lists them in this order.
PAGES: dict[str, str] = {
    "impressum": N_("Legal notice"),
    "datenschutz": N_("Privacy notice"),
    "barrierefreiheit": N_("Accessibility statement"),
    "teilnahmebedingungen": N_("Terms of participation"),
}
PAGE_NOT_FOUND = N_("This page does not exist.")


@dataclass(frozen=True)
class LegalPage:
    name: str
    title: str
    html: str


@lru_cache(maxsize=64)
def _rendered(path: Path, _mtime_ns: int, _size: int) -> str:
    """The file as HTML; rendered again when the operator changes it (time or size differ)."""
    return render_markdown(path.read_text(encoding="utf-8"))


def load(folder: Path, name: str, locale: str) -> LegalPage:
    """The page in the reader's language if the operator wrote one, else the German one."""
    if name not in PAGES:
        raise NotFoundError(PAGE_NOT_FOUND, code="page_not_found")
    candidates = [folder / f"{name}.{locale}.md"] if locale != "de" else []
    candidates.append(folder / f"{name}.md")
    for path in candidates:
        try:
            found = path.stat()
        except OSError:
            continue
        if stat.S_ISREG(found.st_mode):
            return LegalPage(name, PAGES[name], _rendered(path, found.st_mtime_ns, found.st_size))
    log.warning("legal page %s is missing: write %s", name, folder / f"{name}.md")
    raise NotFoundError(PAGE_NOT_FOUND, code="page_not_found")
