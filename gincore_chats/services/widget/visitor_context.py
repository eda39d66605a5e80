"""What the widget reports about the visitor's browser, and what the server adds (IP, UA, geo)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from user_agents import parse as parse_user_agent

from ...local_time import valid_zone
from ...models import Conversation, Visibility, VisitorContext, utcnow
from ...queue import enqueue
from ...serialize import visitor_context_dict
from ...state import ChatsState
from ..conversations.events import append_event
from ..privacy.ip_addresses import ip_for_storage
from ..unit_of_work import after_commit

MAX_PAGES = 50
#: Longest page or referrer URL kept: the request-line limit of common HTTP servers, which a
#: page the visitor could open never exceeds.
MAX_URL = 8192


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] or None


def describe_user_agent(ua: str | None) -> dict[str, str | None]:
    if not ua:
        return {"browser": None, "os": None, "device": None}
    parsed = parse_user_agent(ua)
    if parsed.is_bot:
        device = "bot"
    elif parsed.is_tablet:
        device = "tablet"
    elif parsed.is_mobile:
        device = "mobile"
    else:
        device = "desktop"
    browser = " ".join(filter(None, [parsed.browser.family, parsed.browser.version_string]))
    os_name = " ".join(filter(None, [parsed.os.family, parsed.os.version_string]))
    return {"browser": browser or None, "os": os_name or None, "device": device}


def _tz_offset(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    minutes = int(value)
    return minutes if -14 * 60 <= minutes <= 14 * 60 else None


def do_record_context(
    state: ChatsState,
    conv: Conversation,
    reported: dict[str, Any],
    *,
    ip: str | None,
    user_agent: str | None,
) -> VisitorContext:
    """Create or refresh the context; a page change appends to the navigation history."""
    ip = ip_for_storage(conv.source.settings, ip)
    ctx = state.session.get(VisitorContext, conv.id)
    if ctx is None:
        ctx = VisitorContext(conversation_id=conv.id, pages=[])
        state.session.add(ctx)
    ip_changed = ip is not None and ip != ctx.ip
    ctx.ip = ip or ctx.ip
    if user_agent:
        ctx.user_agent = user_agent[:1000]
        for key, value in describe_user_agent(user_agent).items():
            setattr(ctx, key, value)
    page = _text(reported.get("url"), MAX_URL)
    title = _text(reported.get("title"), 500)
    if page and page != ctx.current_page:
        pages = list(ctx.pages or [])
        pages.append({"url": page, "title": title, "at": utcnow().isoformat()})
        ctx.pages = pages[-MAX_PAGES:]
        ctx.current_page, ctx.page_title = page, title
    ctx.referrer = _text(reported.get("referrer"), MAX_URL) or ctx.referrer
    ctx.language = _text(reported.get("language"), 35) or ctx.language
    zone = valid_zone(reported.get("time_zone"))
    if zone is not None:
        ctx.time_zone = zone
    offset = _tz_offset(reported.get("tz_offset"))
    if offset is not None:
        ctx.tz_offset_minutes = offset
    ctx.updated_at = utcnow()
    state.session.flush()
    append_event(
        state, conv, "visitor.context", {"context": visitor_context_dict(ctx)}, Visibility.PII
    )
    if ip_changed and state.config.geoip_database:
        conv_id = conv.id
        after_commit(
            state.session, lambda: enqueue(state, "gincore_chats.jobs.geo.locate", conv_id)
        )
    return ctx


def do_set_location(
    state: ChatsState,
    conv: Conversation,
    *,
    country: str | None,
    country_code: str | None,
    city: str | None,
    at: datetime | None = None,
) -> None:
    ctx = state.session.get(VisitorContext, conv.id)
    if ctx is None:
        return
    ctx.country, ctx.country_code, ctx.city = country, country_code, city
    ctx.updated_at = at or utcnow()
    append_event(
        state, conv, "visitor.context", {"context": visitor_context_dict(ctx)}, Visibility.PII
    )
