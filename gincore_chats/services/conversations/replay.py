"""The answer to a socket's ``sync`` op: follow a conversation, then replay what was missed.

Here rather than in ``realtime``: the replay reads the event log, and the realtime layer sits
below the services (it only moves frames).
"""

from __future__ import annotations

import json
from typing import Any

from ...models import Conversation
from ...realtime.hub import Subscriber
from ...state import ChatsState
from .events import events_after


def sync_reply(
    state: ChatsState, sub: Subscriber, conversation_id: int, after: Any, *, staff: bool
) -> dict[str, Any]:
    """Follow the conversation first, then replay: an event committed in between arrives live
    or in the replay (or both; the client drops the duplicate), never neither."""
    try:
        after_seq = max(0, int(after or 0))
    except (TypeError, ValueError):
        after_seq = 0
    state.hub.follow(sub, conversation_id)
    # Read the high-water mark before the replay: an event committed after this read has a
    # higher number and is either in the replay or arrives live; one committed before it is
    # in the replay. Reading it after the replay could skip an event.
    conv = state.session.get(Conversation, conversation_id)
    upto = conv.last_seq if conv is not None else after_seq
    limit = state.config.replay_limit
    events = events_after(
        state, conversation_id, after_seq, staff=staff, limit=limit + 1, pii=sub.can_view_customers
    )
    more = len(events) > limit
    events = events[:limit]
    for event in events:
        sub.send(json.dumps(event, default=str))
    if more:
        upto = events[-1]["seq"]
    return {"type": "synced", "conversation_id": conversation_id, "upto": upto, "more": more}
