"""Live updates between all app processes: Litestar channels on PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend

log = logging.getLogger(__name__)


class ResilientAsyncPgBackend(AsyncPgChannelsBackend):
    """A publish that fails (the database away for a moment) is logged, not raised: the plugin
    publishes from one task, and an exception there would end all live updates of the process."""

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            await super().publish(data, channels)
        except Exception:
            log.warning("live update not sent to %s", list(channels), exc_info=True)


def channels_plugin(dsn: str) -> ChannelsPlugin:
    return ChannelsPlugin(
        backend=ResilientAsyncPgBackend(dsn=dsn),
        arbitrary_channels_allowed=True,
        # A viewer that stops reading loses the oldest events, not the server its memory.
        subscriber_max_backlog=200,
        subscriber_backlog_strategy="dropleft",
    )
