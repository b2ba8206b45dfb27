"""Sessions in signed, encrypted cookies (Litestar's client-side backend): no server state.

Litestar re-encrypts and re-sends the session cookie on every response. Ours only sends it when
the session changed (login, logout, flash messages), which saves work on every request; the
cookie then expires `max_age` after it was last written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.serialization import decode_json, encode_json

from ideas_platform.core.requests import AppConnection

if TYPE_CHECKING:
    from litestar.types import Message, ScopeSession

_LOADED = "_session_as_loaded"


class ChangedOnlySessionBackend(ClientSideSessionBackend):
    async def load_from_connection(self, connection: AppConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        if data:
            # A copy as JSON bytes (a flash message is appended to a list *inside* the session):
            # one C call, where copy.deepcopy walked the dict in Python on every request.
            connection.scope.setdefault("state", {})[_LOADED] = encode_json(data)
        return data

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: AppConnection,
    ) -> None:
        loaded = connection.scope.get("state", {}).get(_LOADED)
        if loaded and isinstance(scope_session, dict) and scope_session == decode_json(loaded):
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class SessionCookieConfig(CookieBackendConfig):
    _backend_class = ChangedOnlySessionBackend
