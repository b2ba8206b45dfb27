"""Capturing paper cards after a workshop (placeholder until it lands)."""

from __future__ import annotations

from litestar import Controller


class CaptureController(Controller):
    include_in_schema = False
