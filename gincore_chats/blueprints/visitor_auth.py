"""How every visitor-facing request is authorised: the page's origin, then the bearer token.

Shared by the widget API, the widget WebSocket and the widget's file routes, so all refuse the
same things with the same words. The page's origin is decided in this order (docs/widget.rst,
"Where the widget may run"):

1. the ``Origin`` header when the browser sent one (every cross-origin request, every POST, every
   WebSocket); a value that is not ``scheme://host[:port]`` is refused;
2. else ``Sec-Fetch-Site: same-origin``: the page is on this server's own origin (browsers omit
   ``Origin`` on same-origin GETs, which is how a restored chat loads its history);
3. else the origin of the ``Referer``;
4. else, when the browser sent no Fetch Metadata either (older browsers, a page with
   ``Referrer-Policy: no-referrer``), this server's own origin.

A page on this server's own origin is the host's own site and may always run the widget; any
other origin must match one of the source's allowed domains. The check is what a browser
enforces on a page; it is not authentication (a script outside a browser can send any header):
the bearer token, bound to one conversation, is.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, request

from ..models import Conversation, Source
from ..origins import Origin, origin_of_url, parse_origin
from ..permissions import PermissionDenied
from ..services.conversations import lifecycle as conversations
from ..services.sources import origin_allowed
from ..state import ChatsState

#: A preflight's refusal: without a well-formed Origin there is nothing to allow.
ORIGIN_REQUIRED = "A cross-origin request needs an Origin header of the form scheme://host[:port]."


def own_origin() -> Origin | None:
    """This server's origin as the browser addresses it (``Host``, and the scheme)."""
    return parse_origin(f"{request.scheme}://{request.host}")


def is_own_origin(origin: Origin | None) -> bool:
    # Host and port only: behind a TLS proxy without ProxyFix, the scheme Flask sees is "http"
    # while the page's is "https"; the host and port are still the page's own.
    own = own_origin()
    return origin is not None and own is not None and origin.netloc == own.netloc


def page_origin() -> Origin | None:
    """The origin of the page that sent this request, or None when it cannot be a page's."""
    header = request.headers.get("Origin")
    if header is not None:
        return parse_origin(header)
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site == "same-origin":
        return own_origin()
    referer = request.headers.get("Referer")
    if referer:
        return origin_of_url(referer)
    return own_origin() if fetch_site is None else None


def check_origin(source: Source) -> str:
    """The page's origin, if it may run this source's widget; else PermissionDenied."""
    if not source.active:
        raise PermissionDenied("This chat is switched off.")
    origin = page_origin()
    if origin is None or not (is_own_origin(origin) or origin_allowed(source, origin)):
        shown = str(origin) if origin else (request.headers.get("Origin") or "this page")
        raise PermissionDenied(
            f"The chat is not enabled on {shown[:200]}: add the domain to the "
            "source's allowed domains in the chat settings."
        )
    return str(origin)


def visitor_conversation(state: ChatsState) -> tuple[Conversation, str]:
    """The conversation the bearer token opens, after the origin check."""
    auth = request.headers.get("Authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else None
    conv = conversations.access_by_visitor_token(state, token)
    return conv, check_origin(conv.source)


def cors_origin() -> str | None:
    """The ``Origin`` header to echo in CORS answers: only a well-formed one."""
    header = request.headers.get("Origin")
    return header if parse_origin(header) is not None else None


def with_cors(response: Response, origin: str) -> Response:
    # No Allow-Credentials: visitors have no cookies, only the bearer token.
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    return response


def preflight_response(origin: str, methods: str) -> Response:
    response = current_app.make_response(("", 204))
    response.headers["Access-Control-Allow-Methods"] = methods
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return with_cors(response, origin)


def preflight_hook(path_part: str, methods: str) -> Callable[[], Response | None]:
    """A ``before_request`` hook answering the CORS preflight of the visitor API paths (those
    containing ``path_part``). Flask answers OPTIONS itself, without CORS headers. The source is
    not known yet (no bearer token on a preflight) and the real request is checked, so the
    preflight answers any well-formed Origin."""

    def preflight() -> Response | None:
        if request.method != "OPTIONS" or path_part not in request.path:
            return None
        origin = cors_origin()
        if origin is None:
            return current_app.make_response(({"error": ORIGIN_REQUIRED}, 400))
        return preflight_response(origin, methods)

    return preflight
