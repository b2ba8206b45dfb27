"""Password hashing (argon2id) and the strength rules shown to users."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from ideas_platform.core.choices import N_

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as one for a known email.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")

MIN_LENGTH = 10
# zxcvbn's score 0-4; 3 means more than 10^8 guesses (its list of common passwords, words,
# names, keyboard rows, sequences, repeats and dates taken into account).
MIN_SCORE = 3
# zxcvbn refuses longer input (and gets slow); the first 72 characters decide.
_ZXCVBN_MAX_LENGTH = 72
# Words every participant sees here count as easy to guess, like a name or the address.
PLATFORM_WORDS = ("ideenplattform", "ideen", "plattform", "beteiligung", "workshop")

TOO_EASY = N_("This password is too easy to guess. Please choose another one.")
# Why a weak password is weak, by the kind of pattern zxcvbn found in it (first that applies).
_REASONS: tuple[tuple[str, str], ...] = (
    (
        "passwords",
        N_(
            "This password is on a list of commonly used passwords (or close to one). "
            "Please choose another one."
        ),
    ),
    (
        "user_inputs",
        N_(
            "Your name, your email address or the name of this platform are easy to guess. "
            "Please choose another password."
        ),
    ),
    (
        "spatial",
        N_("Rows of keys such as “qwertz” are easy to guess. Please choose another password."),
    ),
    (
        "repeat",
        N_("Repeated characters such as “aaa” are easy to guess. Please choose another password."),
    ),
    (
        "sequence",
        N_("Sequences such as “abc” or “6543” are easy to guess. Please choose another password."),
    ),
    (
        "date",
        N_("Years and dates are easy to guess. Please choose another password."),
    ),
    (
        "dictionary",
        N_(
            "A single word or name with a few digits is easy to guess. "
            "Add another uncommon word or two."
        ),
    ),
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _kinds(match: dict[str, object]) -> set[str]:
    """The kinds of pattern one zxcvbn match stands for (see _REASONS)."""
    pattern = str(match.get("pattern", ""))
    kinds = {pattern}
    if pattern == "dictionary":
        kinds.add(str(match.get("dictionary_name", "")))
    if pattern == "regex" and match.get("regex_name") == "recent_year":
        kinds.add("date")
    return kinds


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """The (untranslated) reason a password is too weak, or None.

    The one check for registration, reset, change of password and a guest's full account."""
    if len(password) < MIN_LENGTH:
        return N_("The password must be at least 10 characters long.")
    if len(password) > 1024:
        return N_("The password is too long.")
    lowered = password.lower()
    local_part = email.split("@", 1)[0].lower()
    if (local_part and len(local_part) >= 4 and local_part in lowered) or (
        display_name and display_name.lower() == lowered
    ):
        return N_("The password must not contain your email address or name.")
    personal = [word for word in (email, local_part, *display_name.split()) if len(word) >= 3]
    result = zxcvbn(
        password[:_ZXCVBN_MAX_LENGTH],
        user_inputs=[*personal, *PLATFORM_WORDS],
        max_length=_ZXCVBN_MAX_LENGTH,
    )
    if result["score"] >= MIN_SCORE:
        return None
    kinds = set().union(*(_kinds(match) for match in result["sequence"]))
    return next((reason for kind, reason in _REASONS if kind in kinds), TOO_EASY)
