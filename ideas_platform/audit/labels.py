"""The audit log in words: labels for action codes, object types and fields, and a readable diff.

Labels are marked with `N_` and translated where they are shown. A code without a label (a new
action nobody named yet) is shown as it is rather than hidden.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ideas_platform.core.choices import N_

ACTION_LABELS: dict[str, str] = {
    "comment.hide": N_("Comment hidden"),
    "comment.restore": N_("Comment shown again"),
    "duplicates.dismiss": N_("Duplicate suggestion dismissed"),
    "event.create": N_("Workshop created"),
    "event.update": N_("Workshop changed"),
    "event.joining_open": N_("Joining the workshop opened"),
    "event.joining_closed": N_("Joining the workshop closed"),
    "event.mode": N_("Projector view changed"),
    "event.timer": N_("Workshop timer set"),
    "export.download": N_("Export downloaded"),
    "idea.capture": N_("Idea captured at a workshop"),
    "idea.hide": N_("Idea hidden"),
    "idea.restore": N_("Idea shown again"),
    "idea.merge": N_("Ideas merged"),
    "idea.unmerge": N_("Merge undone"),
    "idea.move": N_("Idea moved to a theme"),
    "idea.move.undo": N_("Move to a theme undone"),
    "ideas.import": N_("Ideas imported"),
    "measure.create": N_("Measure created"),
    "measure.change": N_("Measure changed"),
    "measure.update": N_("Progress report on a measure"),
    "process.create": N_("Process created"),
    "process.update": N_("Process changed"),
    "process.next_cycle": N_("Next round of the process started"),
    "report.keep": N_("Reports closed, content kept"),
    "shortlist.nominate": N_("Nominated for the shortlist"),
    "shortlist.withdraw": N_("Nomination withdrawn"),
    "shortlist.accept": N_("Accepted for the shortlist"),
    "shortlist.decline": N_("Declined for the shortlist"),
    "shortlist.reorder": N_("Shortlist order changed"),
    "shortlist.freeze": N_("Shortlist frozen"),
    "shortlist.unfreeze": N_("Shortlist reopened"),
    "theme.create": N_("Theme created"),
    "theme.rename": N_("Theme renamed"),
    "theme.lock": N_("Theme locked"),
    "theme.unlock": N_("Theme unlocked"),
    "theme.merge": N_("Themes merged"),
    "theme.accept_suggestion": N_("Suggested theme accepted"),
    "theme.drop_suggestion": N_("Suggested theme dropped"),
    "themes.suggest": N_("Themes suggested"),
    "user.activate": N_("Account activated"),
    "user.deactivate": N_("Account deactivated"),
    "user.change_email": N_("Email address changed"),
    "user.change_role": N_("Role changed"),
    "user.create_with_role": N_("Account created with a role"),
    "user.delete": N_("Account deleted"),
    "user.full_account": N_("Guest account made a full account"),
    "user.promote_admin": N_("Made administrator"),
    "user.reset_password": N_("Password reset"),
    "user.send_reset": N_("Password reset link sent"),
}

# The object types a moderator can filter by, in the order of the filter.
TARGET_TYPE_LABELS: dict[str, str] = {
    "idea": N_("Idea"),
    "comment": N_("Comment"),
    "theme": N_("Theme"),
    "shortlist_entry": N_("Shortlist entry"),
    "measure": N_("Measure"),
    "event": N_("Workshop"),
    "process": N_("Process"),
    "user": N_("Account"),
}

FIELD_LABELS: dict[str, str] = {
    "active": N_("Active"),
    "attachment": N_("Attachment"),
    "capacity": N_("Capacity"),
    "carried_over_from": N_("Carried over from process"),
    "comment": N_("Comment of the ministry"),
    "decision": N_("Decision"),
    "description": N_("Description"),
    "dismissed": N_("Dismissed"),
    "dot_budget": N_("Votes per participant"),
    "dropped_double_votes": N_("Double votes counted once"),
    "email": N_("Email address"),
    "entry_id": N_("Shortlist entry"),
    "event_id": N_("Workshop"),
    "file": N_("File"),
    "format": N_("Format"),
    "frozen": N_("Frozen"),
    "frozen_at": N_("Frozen at"),
    "hidden": N_("Hidden"),
    "id": N_("Number"),
    "idea_id": N_("Idea"),
    "ideas": N_("Ideas"),
    "join_until": N_("Joining possible until"),
    "joining_open": N_("Joining open"),
    "k": N_("Number of themes"),
    "label": N_("Label"),
    "locked": N_("Locked"),
    "measures": N_("Measures"),
    "merge_record": N_("Merge record"),
    "merged_into": N_("Merged into"),
    "mode": N_("Projector view"),
    "moved_votes": N_("Votes moved"),
    "note": N_("Note"),
    "open_reports": N_("Open reports"),
    "pair": N_("Ideas"),
    "phases": N_("Phases"),
    "place": N_("Place"),
    "position": N_("Position"),
    "progress": N_("Progress"),
    "proposal": N_("Proposal"),
    "proposed_title": N_("Proposed title"),
    "rationale": N_("Rationale"),
    "reason": N_("Reason"),
    "reports_closed": N_("Reports closed"),
    "restored_double_votes": N_("Double votes restored"),
    "restored_votes": N_("Votes restored"),
    "role": N_("Role"),
    "score": N_("Similarity"),
    "sha256": N_("Checksum (SHA-256)"),
    "slug": N_("Short name in the address"),
    "source": N_("Merged idea"),
    "starts_at": N_("Start"),
    "starts_on": N_("Start"),
    "state": N_("State"),
    "status": N_("Status"),
    "status_reason": N_("Reason for the status"),
    "suggestion": N_("Suggestion"),
    "target": N_("Target idea"),
    "target_on": N_("Target date"),
    "theme_id": N_("Theme"),
    "timer_ends_at": N_("Timer ends at"),
    "title": N_("Title"),
    "topics": N_("Topics"),
    "undone_entry": N_("Undone entry"),
    "unit": N_("Responsible unit"),
    "update_id": N_("Progress report"),
    "votes": N_("Votes"),
    "votes_removed": N_("Votes removed"),
    "vote_budget": N_("Vote budget"),
}

MAX_VALUE = 80


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code, code)


def target_label(target_type: str) -> str:
    return TARGET_TYPE_LABELS.get(target_type, target_type)


@dataclass(frozen=True)
class Change:
    """One field as it was and as it became; a side is None when the field was not recorded."""

    key: str
    labels: tuple[str, ...]  # the field's label, preceded by its parent's for nested values
    before: object
    after: object


def shorten(value: object, limit: int = MAX_VALUE) -> object:
    """Text as people read it; long values end in an ellipsis. Booleans, moments and "nothing"
    stay as they are, for the page to show in the reader's language."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, list):
        text = ", ".join(str(item) for item in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """The fields that differ between before and after, nested objects one level deep."""
    return _changes(before or {}, after or {}, ())


def _changes(
    before: dict[str, Any], after: dict[str, Any], parents: tuple[str, ...]
) -> list[Change]:
    result: list[Change] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new or (shorten(old) is None and shorten(new) is None):
            continue
        labels = (*parents, FIELD_LABELS.get(key, key))
        nested = isinstance(old, dict) or isinstance(new, dict)
        if nested and not parents and isinstance(old, dict | None) and isinstance(new, dict | None):
            result.extend(_changes(old or {}, new or {}, labels))
            continue
        result.append(Change(key, labels, shorten(old), shorten(new)))
    return result
