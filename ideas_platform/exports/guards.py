"""Exports are downloaded from the platform's own pages only.

An export is a GET that writes "the ministry downloaded this" to the audit log. A link on
another site (or an `<img src>` there) would make a logged-in ministry browser download it, and
the audit log would say so. Browsers tell where a request comes from: `Sec-Fetch-Site` (all
current browsers), else `Origin` or `Referer`. A download started on another site (also a
sibling subdomain: `same-site`) is refused; one from our own pages (`same-origin`), typed into
the address bar or opened from a bookmark (`none`) goes through, as do programs that send none
of these headers. A personal API token cannot be sent by another site, so token requests pass.

Turning the exports into POST forms would have served the same end, but the buttons are plain
links with `download` today, scripts fetch them with GET, and the API documents them as GETs:
this check changes nothing a ministry user or a script notices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ideas_platform.core.choices import N_
from ideas_platform.core.errors import PermissionError_

if TYPE_CHECKING:
    from litestar.handlers.base import BaseRouteHandler

    from ideas_platform.core.requests import AppConnection

CROSS_SITE_DOWNLOAD = N_(
    "Exports can only be downloaded from the platform's own pages. "
    "Please use the buttons on the shortlist page."
)
ALLOWED_FETCH_SITES = {"same-origin", "none"}


def _our_hosts(connection: AppConnection) -> set[str]:
    hosts = {urlsplit(connection.app.state.settings.public_url).netloc.lower()}
    if host := connection.headers.get("host"):
        hosts.add(host.strip().lower())
    return hosts


def _is_ours(url: str, connection: AppConnection) -> bool:
    return urlsplit(url.strip()).netloc.lower() in _our_hosts(connection)


def started_here(connection: AppConnection) -> bool:
    """Did the request come from one of our pages (or from no page at all)?"""
    if connection.scope.get("auth") == "token":
        return True
    site = connection.headers.get("sec-fetch-site")
    if site is not None:
        return site.strip().lower() in ALLOWED_FETCH_SITES
    for header in ("origin", "referer"):
        value = connection.headers.get(header)
        if value and not _is_ours(value, connection):  # "null" (an opaque origin) is not ours
            return False
    return True


async def same_origin_download(connection: AppConnection, _: BaseRouteHandler) -> None:
    """Guard of the logged downloads (after the role guard)."""
    if not started_here(connection):
        raise PermissionError_(CROSS_SITE_DOWNLOAD, code="cross_site_download")
