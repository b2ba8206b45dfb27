"""Live updates between all app processes: Litestar channels on PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterable

import anyio
import asyncpg
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from litestar.response.sse import ServerSentEventMessage

log = logging.getLogger(__name__)


RESYNC = b'{"kind":"resync"}'
HEARTBEAT_SECONDS = 20


class ResilientAsyncPgBackend(AsyncPgChannelsBackend):
    """Litestar's LISTEN/NOTIFY backend, made to survive the database going away.

    * Publishing keeps one connection open (Litestar's backend opens a new one for every
      message: 3-4 ms each on an idle machine, hundreds under load, and the plugin publishes
      from one task, so updates queued behind it; see bench/README.md, workshop load).
    * A publish that fails (the database away for a moment) is logged, not raised: the plugin
      publishes from one task, and an exception there would end all live updates of the process.
      The kept connection is dropped then and opened again on the next publish.
    * When the listening connection is lost (a restart, a failover, a killed backend), it is
      opened again and every channel listened to again; subscribers then get a "resync" event,
      since changes in between were not heard (the board reloads itself on it).
    """

    _closing = False
    _publisher: asyncpg.Connection | None = None

    async def on_startup(self) -> None:
        self._closing = False
        self._publish_lock = asyncio.Lock()
        await super().on_startup()
        self._listener_conn.add_termination_listener(self._connection_lost)

    async def on_shutdown(self) -> None:
        self._closing = True
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None
        await super().on_shutdown()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        payload = data.decode()
        try:
            async with self._publish_lock:
                if self._publisher is None or self._publisher.is_closed():
                    self._publisher = await self._connect()
                for channel in channels:
                    await self._publisher.execute("SELECT pg_notify($1, $2)", channel, payload)
        except Exception:
            log.warning("live update not sent to %s", list(channels), exc_info=True)
            if self._publisher is not None:
                self._publisher.terminate()
                self._publisher = None

    def _connection_lost(self, _connection: object) -> None:
        if not self._closing:
            log.warning("live updates: listening connection lost; reconnecting")
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.5
        while not self._closing:
            try:
                async with self._listener_lock:
                    connection = await self._connect()
                    for channel in self._subscribed_channels:
                        await connection.add_listener(channel, self._listener)
                    connection.add_termination_listener(self._connection_lost)
                    self._listener_conn = connection
                    if self._queue is not None:
                        for channel in self._subscribed_channels:
                            self._queue.put_nowait((channel, RESYNC))
                log.info("live updates: listening again")
                return
            except Exception:
                log.warning("live updates: database not reachable yet", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


def channels_plugin(dsn: str) -> ChannelsPlugin:
    return ChannelsPlugin(
        backend=ResilientAsyncPgBackend(dsn=dsn),
        arbitrary_channels_allowed=True,
        # A viewer that stops reading loses the oldest events, not the server its memory.
        subscriber_max_backlog=200,
        subscriber_backlog_strategy="dropleft",
    )


async def subscription_stream(
    channels: ChannelsPlugin, channel: str, *, heartbeat: float = HEARTBEAT_SECONDS
) -> AsyncGenerator[ServerSentEventMessage, None]:
    """Server-sent events of one channel: each published message as `data`, and a keep-alive
    comment on quiet streams (so that proxies do not close them)."""
    subscriber = await channels.subscribe([channel])
    waiting: asyncio.Future[bytes] | None = None
    try:
        yield ServerSentEventMessage(comment="connected", retry=2000)
        messages = subscriber.iter_events()
        while True:
            waiting = waiting or asyncio.ensure_future(anext(messages))
            done, _ = await asyncio.wait({waiting}, timeout=heartbeat)
            if not done:
                yield ServerSentEventMessage(comment="keep-alive")
                continue
            message, waiting = waiting.result(), None
            yield ServerSentEventMessage(data=message.decode(), event="message")
    finally:
        if waiting is not None:
            waiting.cancel()
        # Shielded: a disconnect cancels this stream, but the backend must finish its
        # UNLISTEN bookkeeping, or the next viewer of this channel would hear nothing.
        with anyio.CancelScope(shield=True):
            await channels.unsubscribe(subscriber)
