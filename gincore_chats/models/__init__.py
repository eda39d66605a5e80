"""Typed SQLAlchemy models. No Flask and no I/O here: services own every write."""

from .base import Base, metadata, utcnow
from .contact import Contact, ContactNote
from .conversation import (
    Conversation,
    ConversationStatus,
    Participant,
    VisitorContext,
)
from .manager import ManagerProfile, Presence
from .message import (
    ConversationEvent,
    Draft,
    Message,
    MessageKind,
    MessageRevision,
    ReadState,
    Visibility,
)
from .source import Source, SourceEmployee, SourceKind, WidgetText

__all__ = [
    "Base",
    "Contact",
    "ContactNote",
    "Conversation",
    "ConversationEvent",
    "ConversationStatus",
    "Draft",
    "ManagerProfile",
    "Message",
    "MessageKind",
    "MessageRevision",
    "Participant",
    "Presence",
    "ReadState",
    "Source",
    "SourceEmployee",
    "SourceKind",
    "Visibility",
    "VisitorContext",
    "WidgetText",
    "metadata",
    "utcnow",
]
