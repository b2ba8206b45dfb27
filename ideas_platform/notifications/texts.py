"""The sentence of each notification (in the current locale), and where it leads."""

from __future__ import annotations

from ideas_platform.core.choices import N_
from ideas_platform.core.i18n import gettext
from ideas_platform.notifications.models import Frequency, Notification, NotificationKind
from ideas_platform.processes.models import PHASE_LABELS

KIND_LABELS: dict[str, str] = NotificationKind.labels()

FREQUENCY_LABELS: dict[str, str] = Frequency.labels()

_SENTENCES: dict[tuple[str, str], str] = {
    ("comment", "new"): N_("%(actor)s commented on “%(idea)s”: %(excerpt)s"),
    ("reply", "new"): N_("%(actor)s replied to your comment on “%(idea)s”: %(excerpt)s"),
    ("moderation", "merged"): N_("“%(idea)s” was merged into “%(target)s” by the moderation."),
    ("moderation", "unmerged"): N_(
        "The merge of “%(idea)s” was undone; it stands on its own again."
    ),
    ("moderation", "hidden"): N_("“%(idea)s” was hidden by the moderation. Reason: %(note)s"),
    ("moderation", "restored"): N_("“%(idea)s” is visible again."),
    ("shortlist", "nominated"): N_("“%(idea)s” was nominated for the ministry's shortlist."),
    ("shortlist", "accepted"): N_("The ministry accepted “%(idea)s”: %(note)s"),
    ("shortlist", "declined"): N_("The ministry declined “%(idea)s”: %(note)s"),
    ("phase", "started"): N_("A new phase has begun in “%(process)s”: %(phase)s."),
    ("theme", "idea_added"): N_("New in the theme “%(theme)s”: “%(idea)s”."),
    ("measure", "update"): N_("News on the measure “%(measure)s” (from “%(idea)s”): %(excerpt)s"),
}


def sentence(notification: Notification) -> str:
    data = dict(notification.data or {})
    template = _SENTENCES.get((notification.kind.value, notification.event))
    if template is None:
        return gettext("Something happened on the platform.")
    params = {
        "actor": data.get("actor") or gettext("Somebody"),
        "idea": data.get("idea", ""),
        "target": data.get("target", ""),
        "excerpt": data.get("excerpt", ""),
        "note": data.get("note") or "—",
        "process": data.get("process", ""),
        "theme": data.get("theme", ""),
        "measure": data.get("measure", ""),
        "phase": gettext(PHASE_LABELS.get(data.get("phase", ""), data.get("phase", ""))),
    }
    return gettext(template, **params)


def data_measure(notification: Notification) -> int | None:
    value = (notification.data or {}).get("measure_id")
    return int(value) if isinstance(value, int) else None


def link(notification: Notification) -> str:
    """The page the notification is about (a path)."""
    if notification.kind == NotificationKind.MEASURE and data_measure(notification):
        return f"/measures/{data_measure(notification)}"
    if notification.kind == NotificationKind.THEME and notification.theme_id:
        return f"/themes/{notification.theme_id}"
    if notification.idea_id:
        anchor = f"#comment-{notification.comment_id}" if notification.comment_id else ""
        return f"/ideas/{notification.idea_id}{anchor}"
    if notification.theme_id:
        return f"/themes/{notification.theme_id}"
    slug = (notification.data or {}).get("process_slug")
    return f"/processes/{slug}" if slug else "/"


def group_key(notification: Notification) -> tuple[str, int]:
    """Digests group by idea (else theme, else process)."""
    if notification.idea_id:
        return ("idea", notification.idea_id)
    if notification.theme_id:
        return ("theme", notification.theme_id)
    return ("process", notification.process_id or 0)


def group_title(notification: Notification) -> str:
    data = notification.data or {}
    if notification.idea_id:
        return str(data.get("idea", ""))
    if notification.theme_id:
        return str(data.get("theme", ""))
    return str(data.get("process", ""))
