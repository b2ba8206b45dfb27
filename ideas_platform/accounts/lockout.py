"""Account lockout after failed logins, without letting a stranger lock the owner out.

Three counters, each a growing, capped lock (the state machine below), in the PostgreSQL
key-value store (`kv_store`):

* per account and client address (the email as typed, also for unknown addresses, so that a
  lock does not tell whether an account exists): LOCKOUT_THRESHOLD failed logins within
  LOCKOUT_WINDOW seconds lock that account *for that address* (issue 17: ten wrong passwords
  from anywhere used to lock the owner out, repeatable forever);
* per account, from all strangers together: ACCOUNT_LOCKOUT_THRESHOLD failures lock the account
  for every browser that is not known to it. This keeps password guessing from many addresses
  (a botnet) as bounded as before;
* a browser that logged in to the account before (or set a new password by its mailed link)
  carries a signed "known device" cookie for it (`DEVICE_COOKIE`): it is counted on its own
  (LOCKOUT_THRESHOLD, per account and device) and the strangers' lock does not apply to it.
  The owner's usual browser therefore gets in during any attack; on a new device the owner
  proves herself by the password-reset mail.

The per-address limit of attempts across accounts (core.rate_limits.limit_attempt) bounds a
single address trying many accounts.

The lock: at the threshold the counter locks for LOCKOUT_FIRST_DELAY seconds; every further
lock doubles the delay up to LOCKOUT_MAX_DELAY. Attempts during a lock are refused without
checking the password and neither count nor extend the lock, so nobody can lock an account
for longer than the cap at a time. A successful login resets the counter of its own address or
device; a counter is forgotten LOCKOUT_MEMORY seconds after its last failure.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError
from ideas_platform.core.i18n import ngettext
from ideas_platform.core.signing import is_signed, signature

LOCKOUT_THRESHOLD = 10
# Well above what the owner and one address produce (a lock at 10): reached only when failures
# come from several addresses at once.
ACCOUNT_LOCKOUT_THRESHOLD = 100
LOCKOUT_WINDOW = 15 * 60
LOCKOUT_FIRST_DELAY = 60
LOCKOUT_MAX_DELAY = 15 * 60
LOCKOUT_MEMORY = 24 * 3600

DEVICE_COOKIE = "known_login"
DEVICE_PURPOSE = "known-device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600


class AccountLocked(DomainError):
    """Too many failed logins for one account: refused for a while (HTTP 429)."""

    status_code = 429
    code = "account_locked"

    def __init__(self, seconds: float) -> None:
        self.minutes = max(1, -(-int(seconds) // 60))  # rounded up
        self.retry_after = max(1, int(seconds + 0.999))
        super().__init__("Too many failed login attempts for this account.", field="email")

    def translated(self) -> str:
        return ngettext(
            "Too many failed login attempts for this account. Please try again in %(num)s minute.",
            "Too many failed login attempts for this account. Please try again in %(num)s minutes.",
            self.minutes,
        )


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _account(email: str) -> str:
    return _digest((email or "").strip().lower())


def lockout_key(email: str, address: str = "") -> str:
    """The counter of an account at one client address ("" : the service called directly)."""
    key = f"lockout:{_account(email)}"
    return f"{key}:{_digest(address)[:32]}" if address else key


def account_lockout_key(email: str) -> str:
    """The counter of an account's failed logins from all browsers not known to it."""
    return f"lockout-account:{_account(email)}"


@dataclass(frozen=True)
class Counter:
    key: str
    threshold: int


def counters(email: str, *, address: str = "", device: str | None = None) -> list[Counter]:
    """The counters a login attempt meets: its own (known device, else address), and for a
    stranger also the account's."""
    if device:
        return [Counter(lockout_key(email, f"device:{device}"), LOCKOUT_THRESHOLD)]
    return [
        Counter(lockout_key(email, address), LOCKOUT_THRESHOLD),
        Counter(account_lockout_key(email), ACCOUNT_LOCKOUT_THRESHOLD),
    ]


_READ = "SELECT value FROM kv_store WHERE key = :k AND (expires_at IS NULL OR expires_at > now())"
_READ_FOR_UPDATE = _READ + " FOR UPDATE"


async def _state(
    session: AsyncSession, key: str, *, for_update: bool
) -> tuple[float, dict[str, float]]:
    """(the database's now as epoch seconds, the stored state or {})."""
    now = float(await session.scalar(text("SELECT extract(epoch FROM now())")) or 0)
    value = await session.scalar(text(_READ_FOR_UPDATE if for_update else _READ), {"k": key})
    return now, (json.loads(bytes(value)) if value is not None else {})


async def check_not_locked(session: AsyncSession, keys: list[Counter]) -> None:
    """Raises AccountLocked while any of the counters is locked."""
    left = 0.0
    async with transaction(session):
        for counter in keys:
            now, state = await _state(session, counter.key, for_update=False)
            left = max(left, state.get("locked_until", 0) - now)
    if left > 0:
        raise AccountLocked(left)


async def _record(session: AsyncSession, counter: Counter) -> float | None:
    """Counts a failed login; answers the seconds of the lock it started, if it started one."""
    async with transaction(session):
        await session.execute(
            text(
                "INSERT INTO kv_store (key, value, expires_at) VALUES (:k, '{}', NULL) "
                "ON CONFLICT (key) DO NOTHING"
            ),
            {"k": counter.key},
        )
        now, state = await _state(session, counter.key, for_update=True)
        locked_for: float | None = None
        if state.get("locked_until", 0) > now:
            # A parallel request locked it meanwhile: this attempt does not count.
            locked_for = state["locked_until"] - now
        else:
            if now - state.get("window_start", 0) > LOCKOUT_WINDOW:
                state["window_start"], state["failures"] = now, 0
            state["failures"] = state.get("failures", 0) + 1
            if state["failures"] >= counter.threshold:
                level = int(state.get("level", 0))
                locked_for = float(min(LOCKOUT_FIRST_DELAY * 2**level, LOCKOUT_MAX_DELAY))
                state.update(
                    locked_until=now + locked_for, level=level + 1, failures=0, window_start=now
                )
        await session.execute(
            text(
                "UPDATE kv_store SET value = :v, "
                "expires_at = now() + make_interval(secs => :s) WHERE key = :k"
            ),
            {"k": counter.key, "v": json.dumps(state).encode(), "s": float(LOCKOUT_MEMORY)},
        )
    return locked_for


async def record_failure(session: AsyncSession, keys: list[Counter]) -> float | None:
    """Counts a failed login on every counter; the longest lock it started, if any."""
    started = [seconds for counter in keys if (seconds := await _record(session, counter))]
    return max(started) if started else None


async def forget(session: AsyncSession, counter: Counter) -> None:
    """A successful login: its own counter starts afresh (the account's stays: the owner's
    success says nothing about the strangers' guessing)."""
    async with transaction(session):
        await session.execute(text("DELETE FROM kv_store WHERE key = :k"), {"k": counter.key})


async def forget_account(session: AsyncSession, email: str) -> None:
    """Every counter of the account (in the caller's transaction): it was deleted."""
    base = lockout_key(email)
    await session.execute(
        text("DELETE FROM kv_store WHERE key = :k OR key LIKE :p OR key = :a"),
        {"k": base, "p": base + ":%", "a": account_lockout_key(email)},
    )


# --- known devices ---


def device_token(secret_key: str, email: str, device: str | None = None) -> str:
    """The cookie's value: this browser logged in to the account (signed; nothing stored)."""
    device = device or secrets.token_urlsafe(12)
    return f"{device}.{signature(secret_key, DEVICE_PURPOSE, f'{_account(email)}:{device}')}"


def known_device(secret_key: str, email: str, token: str | None) -> str | None:
    """The device id if `token` is this account's known-device cookie, else None."""
    device, _, signed = (token or "").partition(".")
    if not device or len(token or "") > 120:
        return None
    ok = is_signed(secret_key, DEVICE_PURPOSE, f"{_account(email)}:{device}", signed)
    return device if ok else None
