"""gincore-chats: live chat and an omnichannel customer inbox for any Flask app."""

from .extension import Chats
from .permissions import Permission
from .signals import (
    contact_created,
    contact_merged,
    contact_updated,
    conversation_opened,
    message_created,
)

__all__ = [
    "Chats",
    "Permission",
    "contact_created",
    "contact_merged",
    "contact_updated",
    "conversation_opened",
    "message_created",
]
__version__ = "0.1.0"
