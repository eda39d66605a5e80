"""Typed SQLAlchemy models. No Flask and no I/O here: services own every write."""

from .ai import AICall, AIConversationState, AIMode, AIOutcome, AISettings, AIStatus
from .api import ApiToken, DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .attachment import Attachment
from .audit import AuditEntry
from .base import Base, metadata, utcnow
from .contact import Contact, ContactNote
from .conversation import (
    Conversation,
    ConversationStatus,
    Participant,
    VisitorContext,
)
from .inbound_event import InboundEvent
from .knowledge import (
    EntryOrigin,
    EntryStatus,
    KnowledgeEntry,
    KnowledgeEntrySource,
    KnowledgeExtraction,
    KnowledgePhrasing,
    KnowledgeRun,
    KnowledgeSighting,
    KnowledgeTerm,
    SightingKind,
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
from .notification import NotificationKind, NotificationLog, PushSubscription
from .setting import Setting
from .source import Source, SourceEmployee, SourceKind, WidgetText

__all__ = [
    "AICall",
    "AIConversationState",
    "AIMode",
    "AIOutcome",
    "AISettings",
    "AIStatus",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Base",
    "Contact",
    "ContactNote",
    "Conversation",
    "ConversationEvent",
    "ConversationStatus",
    "DeliveryStatus",
    "Draft",
    "EntryOrigin",
    "EntryStatus",
    "InboundEvent",
    "KnowledgeEntry",
    "KnowledgeEntrySource",
    "KnowledgeExtraction",
    "KnowledgePhrasing",
    "KnowledgeRun",
    "KnowledgeSighting",
    "KnowledgeTerm",
    "ManagerProfile",
    "Message",
    "MessageKind",
    "MessageRevision",
    "NotificationKind",
    "NotificationLog",
    "Participant",
    "Presence",
    "PushSubscription",
    "ReadState",
    "Setting",
    "SightingKind",
    "Source",
    "SourceEmployee",
    "SourceKind",
    "Visibility",
    "VisitorContext",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WidgetText",
    "metadata",
    "utcnow",
]
