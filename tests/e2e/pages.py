"""What a user does in the browser, shared by the browser tests (log in, register, drag): the
same steps as the walk-throughs in tools/ (`make board-check`, `make handover-check`)."""

from __future__ import annotations

from tools._common import SLUG, drag, log_in, register

__all__ = ["SLUG", "drag", "log_in", "register"]
