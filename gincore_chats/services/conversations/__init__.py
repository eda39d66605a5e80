"""Conversations and what happens in them: opening and closing, messages and their events,
participants, drafts, read state, who is viewing or typing, replay after a reconnect, and
the retention of visits."""
