"""Password hashing (argon2id) and the strength rules shown to users."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ideas_platform.core.choices import N_

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as one for a known email.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")

MIN_LENGTH = 10
COMMON_PASSWORDS = {
    "passwort123",
    "password123",
    "1234567890",
    "qwertz1234",
    "qwerty1234",
    "passwort1!",
    "hallo12345",
    "sommer2024",
    "sommer2025",
    "sommer2026",
    "winter2026",
    "abcdefghij",
    "123456789a",
    "iloveyou12",
    "willkommen",
    "willkommen1",
    "geheimnis1",
    "0123456789",
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """The (untranslated) reason a password is too weak, or None."""
    if len(password) < MIN_LENGTH:
        return N_("The password must be at least 10 characters long.")
    if len(password) > 1024:
        return N_("The password is too long.")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 5:
        return N_("This password is too easy to guess. Please choose another one.")
    local_part = email.split("@", 1)[0].lower()
    if (local_part and len(local_part) >= 4 and local_part in lowered) or (
        display_name and display_name.lower() == lowered
    ):
        return N_("The password must not contain your email address or name.")
    return None
