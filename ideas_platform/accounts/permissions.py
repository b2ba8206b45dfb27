"""Role checks inside services (the route guards check too; a service must not rely on them)."""

from __future__ import annotations

from ideas_platform.accounts.models import User
from ideas_platform.core.choices import N_
from ideas_platform.core.errors import PermissionError_

ONLY_MODERATION = N_("Only the moderation can do this.")


def require_moderator(user: User, message: str = ONLY_MODERATION) -> None:
    """Moderators and admins."""
    if not user.can_moderate:
        raise PermissionError_(message)


def require_ministry(user: User, message: str) -> None:
    """The ministry and admins."""
    if not user.is_ministry:
        raise PermissionError_(message)
