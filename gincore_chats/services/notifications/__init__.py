"""Telling people: notification triggers, unread-message emails, browser push, the corporate
mailbox, and who receives what."""
