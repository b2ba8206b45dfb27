"""Events: pages, joining by code, projector (placeholder, being written)."""

from __future__ import annotations

from litestar import Controller


class EventController(Controller):
    include_in_schema = False
