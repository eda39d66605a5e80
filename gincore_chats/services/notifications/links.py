"""Absolute links into the console for emails, which are built in a worker without a request."""

from __future__ import annotations

import logging

from ...host import Host
from ...state import ChatsState

log = logging.getLogger(__name__)


def console_path(state: ChatsState, conversation_id: int) -> str:
    """The console with one conversation open (what push notifications open, same origin)."""
    return f"{state.config.url_prefix}/console?c={conversation_id}"


def absolute(state: ChatsState, path: str, host: Host) -> str:
    """``CHATS_PUBLIC_URL`` + path; else the host's root URL (a request's host, else
    ``SERVER_NAME``).

    A worker has no request, so without either setting an email could only carry a relative
    link: that is logged, since the link will not work from a mail client.
    """
    if state.config.public_url:
        return state.config.public_url + path
    if host.root_url:
        return host.root_url.rstrip("/") + path
    log.warning(
        "gincore_chats: set CHATS_PUBLIC_URL (or SERVER_NAME) so emails carry absolute links"
    )
    return path


def console_url(state: ChatsState, conversation_id: int, host: Host) -> str:
    return absolute(state, console_path(state, conversation_id), host)
