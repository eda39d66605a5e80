"""Known rows for report tests (HTTP and browser): the figures each report must show.

Seven days, 2026-11-01 .. 2026-11-07 (UTC). Conversations 1-5 fall in the range, one visit
(nobody wrote) and one older conversation do not count.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST, LAST = "2026-11-01", "2026-11-07"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def seed(app: Any, mia: str, max_: str) -> dict[str, int]:
    """Sources "Shop" (widget) and "=Bot" (a name a spreadsheet would run as a formula)."""
    from gincore_chats.models import (
        Contact,
        Conversation,
        ConversationLabel,
        Label,
        ManagerProfile,
        Participant,
        Rating,
        Source,
    )
    from gincore_chats.services.unit_of_work import unit_of_work

    rows = [
        # (source, started, manager, first response s, resolved s, status, score)
        ("shop", at(2, 9), mia, 60, 600, "closed", 5),
        ("shop", at(2, 10), mia, 120, 1200, "closed", 4),
        ("shop", at(3, 9, 30), max_, 300, 1800, "closed", 2),
        ("bot", at(3, 14), None, None, 900, "closed", None),  # missed: closed, no reply
        ("bot", at(4, 14, 10), max_, 30, None, "open", None),
        ("shop", datetime(2026, 10, 20, 9, tzinfo=UTC), mia, 10, 20, "closed", 1),  # before
    ]
    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        session = state.session
        sources = {
            "shop": Source(kind="widget", name="Shop", public_key=secrets.token_hex(8)),
            "bot": Source(kind="telegram", name="=Bot", public_key=secrets.token_hex(8)),
        }
        session.add_all(sources.values())
        # The names the console cached when each manager last used it.
        for manager_id, name in ((mia, "Mia"), (max_, "Max")):
            if session.get(ManagerProfile, manager_id) is None:
                session.add(ManagerProfile(manager_id=manager_id, display_name=name))
        session.flush()

        def conversation(source: Source, started: datetime, **fields: Any) -> Conversation:
            contact = Contact(source_id=source.id, custom_fields={})
            session.add(contact)
            session.flush()
            conv = Conversation(
                source_id=source.id,
                contact_id=contact.id,
                created_at=started,
                last_activity_at=started,
                last_seq=0,
                visitor_nonce=secrets.token_hex(8),
                **fields,
            )
            session.add(conv)
            session.flush()
            return conv

        labels = {
            n: Label(name=n, name_key=n.casefold(), color="#1f4fc4") for n in ("VIP", "Billing")
        }
        session.add_all(labels.values())
        session.flush()
        # Labels of the rows above, by position: VIP on the 1st and 3rd, Billing on the 3rd.
        tagged = {0: ["VIP"], 2: ["VIP", "Billing"]}
        for index, (kind, started, manager, frt, resolved, status, score) in enumerate(rows):
            conv = conversation(
                sources[kind],
                started,
                status=status,
                first_customer_message_at=started,
                first_response_at=started + timedelta(seconds=frt) if frt else None,
                closed_at=started + timedelta(seconds=resolved) if resolved else None,
            )
            for name in tagged.get(index, []):
                session.add(ConversationLabel(conversation_id=conv.id, label_id=labels[name].id))
            if manager:
                # Joined twice: the reports count the conversation once for the manager.
                for minutes in (0, 5):
                    session.add(
                        Participant(
                            conversation_id=conv.id,
                            manager_id=manager,
                            joined_at=started + timedelta(minutes=minutes),
                            left_at=started + timedelta(minutes=minutes + 1),
                        )
                    )
            if score:
                session.add(
                    Rating(
                        conversation_id=conv.id,
                        channel=sources[kind].kind,
                        score=score,
                        requested_at=started,
                        rated_at=started + timedelta(seconds=resolved or 0),
                    )
                )
        conversation(sources["shop"], at(4, 11), status="open")  # a visit: nobody wrote
        return {k: s.id for k, s in sources.items()}
