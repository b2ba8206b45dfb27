"""Short HMAC signatures for values the platform hands out and must recognise again (a mailed
unsubscribe link, a known-device cookie): one key per purpose, derived from SECRET_KEY."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret_key: str, purpose: str, message: str) -> str:
    key = hashlib.sha256(f"{purpose}:{secret_key}".encode()).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]


def is_signed(secret_key: str, purpose: str, message: str, given: str) -> bool:
    """Whether `given` is the signature of `message` (compared in constant time)."""
    return hmac.compare_digest(signature(secret_key, purpose, message).encode(), given.encode())
