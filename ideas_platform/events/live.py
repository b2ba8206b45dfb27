"""Live updates of an event (projector, phones): one channel per event on LISTEN/NOTIFY.

Messages are small JSON objects with a `kind`:
* `idea`  {idea_id, title}: a new idea of the event (submitted or captured);
* `vote`  {idea_id, vote_count}: an idea of the event got or lost a vote;
* `state` {}: mode, timer or joining changed; viewers fetch the state again;
* `join`  {}: somebody joined; viewers fetch the state (the people count) within a second or
  two, once for a burst of joins.
A projector that reconnects fetches the whole state, so nothing missed while away is lost.
"""

from __future__ import annotations

import json
import time
from typing import Any

from litestar.channels import ChannelsPlugin

from ideas_platform.ideas.models import Idea


def event_channel(event_id: int) -> str:
    return f"event_{event_id}"


def announce(channels: ChannelsPlugin, event_id: int, kind: str, **details: Any) -> None:
    """Publish after the change committed. `sent` (epoch seconds) lets a benchmark measure the
    delay from the change to the projector."""
    message = {"kind": kind, "sent": round(time.time(), 4), **details}
    channels.publish(json.dumps(message, separators=(",", ":")), event_channel(event_id))


def announce_idea(channels: ChannelsPlugin, idea: Idea) -> None:
    """A new idea of an event appears on its projector."""
    if idea.event_id is not None:
        announce(channels, idea.event_id, "idea", idea_id=idea.id, title=idea.title)
