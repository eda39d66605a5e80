"""Typed SQLAlchemy models. No Flask and no I/O here: services own every write."""

from .ai import AICall, AIConversationState, AIMode, AIOutcome, AISettings, AIStatus
from .api import ApiToken, DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .attachment import Attachment
from .audit import AuditEntry
from .base import Base, metadata, utcnow
from .canned import CannedResponse
from .contact import Contact, ContactMerge, ContactMergeSuggestion, ContactNote, MergeReason
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
from .label import ConversationLabel, Label
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
from .rating import Rating
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
    "CannedResponse",
    "Contact",
    "ContactMerge",
    "ContactMergeSuggestion",
    "ContactNote",
    "Conversation",
    "ConversationEvent",
    "ConversationLabel",
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
    "Label",
    "ManagerProfile",
    "MergeReason",
    "Message",
    "MessageKind",
    "MessageRevision",
    "NotificationKind",
    "NotificationLog",
    "Participant",
    "Presence",
    "PushSubscription",
    "Rating",
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
