"""Web origins (RFC 6454): what an ``Origin`` header may hold, and the origin of a URL.

Pure functions, no Flask: the widget's checks (``blueprints.visitor_auth``), the allowed
domains of a source (``services.sources``) and the console's WebSocket check use them alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# scheme "://" host [ ":" port ], and nothing else: no user info, path, query, fragment, or even
# a trailing slash. An IPv6 host is bracketed.
_ORIGIN_RE = re.compile(
    rf"^(https?)://({_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])(?::([0-9]{{1,5}}))?$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    #: None for the scheme's default port (a browser never writes 80 or 443 in an Origin).
    port: int | None = None

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}"


def parse_origin(value: str | None) -> Origin | None:
    """A serialised http(s) origin, ``scheme://host[:port]``, else None.

    ``null`` (an opaque origin: sandboxed frames, ``file:`` pages, some redirects) and anything
    with more than the three parts is not an origin a page can have.
    """
    match = _ORIGIN_RE.match(value or "")
    if match is None:
        return None
    scheme, host, port_text = match.group(1).lower(), match.group(2).lower(), match.group(3)
    port = int(port_text) if port_text else None
    if port is not None and not 0 < port < 65536:
        return None
    if port == DEFAULT_PORTS[scheme]:
        port = None
    return Origin(scheme, host, port)


def origin_of_url(url: str | None) -> Origin | None:
    """The origin of a full http(s) URL (a ``Referer``), else None."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:  # a port that is not a number, or an unbalanced IPv6 bracket
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    return parse_origin(f"{parts.scheme}://{host}" + (f":{port}" if port else ""))
