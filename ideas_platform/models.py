"""Imports every model so that `Base.metadata` is complete (Alembic, tests)."""

from ideas_platform.accounts.models import AccountToken, ApiToken, User
from ideas_platform.audit.models import AuditEntry
from ideas_platform.comments.models import Comment
from ideas_platform.core.database import Base
from ideas_platform.core.kv_store import KeyValue
from ideas_platform.events.models import Event, EventAttendee
from ideas_platform.ideas.models import Idea
from ideas_platform.mail.models import OutboxMail
from ideas_platform.measures.models import CarriedMeasure, Measure, MeasureUpdate
from ideas_platform.moderation.models import IdeaCoauthor, MergeRecord, Report
from ideas_platform.notifications.models import (
    Follow,
    Notification,
    NotificationPreference,
    PhaseAnnouncement,
)
from ideas_platform.processes.models import Process, ProcessPhase, Topic
from ideas_platform.shortlists.models import Shortlist, ShortlistEntry
from ideas_platform.similarity.models import DuplicatePair, IdeaEmbedding, IdeaTerm
from ideas_platform.themes.models import Theme, ThemeSuggestion
from ideas_platform.votes.models import Vote

__all__ = [
    "AccountToken",
    "ApiToken",
    "AuditEntry",
    "Base",
    "CarriedMeasure",
    "Comment",
    "DuplicatePair",
    "Event",
    "EventAttendee",
    "Follow",
    "Idea",
    "IdeaCoauthor",
    "IdeaEmbedding",
    "IdeaTerm",
    "KeyValue",
    "Measure",
    "MeasureUpdate",
    "MergeRecord",
    "Notification",
    "NotificationPreference",
    "OutboxMail",
    "PhaseAnnouncement",
    "Process",
    "ProcessPhase",
    "Report",
    "Shortlist",
    "ShortlistEntry",
    "Theme",
    "ThemeSuggestion",
    "Topic",
    "User",
    "Vote",
]
