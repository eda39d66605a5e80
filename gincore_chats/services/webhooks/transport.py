"""One signed POST to a receiver, with the SSRF guard: no private addresses, no DNS rebinding.

The URL's host is resolved here, every address is checked (private, loopback, link-local,
shared, reserved and multicast ranges are refused unless ``allow_private``), and the connection
goes to the address that was checked: a DNS answer that changes between the check and the
connect (rebinding) cannot redirect it. TLS still verifies the certificate for the host name
(SNI and hostname checking use the name, not the address). Redirects are not followed.

No Flask and no database here: the caller reads, commits, calls this, and stores the outcome.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

#: The receiver's answer kept for the delivery log.
EXCERPT = 2000
MAX_URL = 2000
USER_AGENT = "gincore-chats-webhooks/1"


class UnsafeUrl(ValueError):
    """The URL may not be called (scheme, credentials, or an address that is not public)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    address: str


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no HTTP answer (refused, timeout, TLS error)
    latency_ms: int
    error: str | None
    excerpt: str | None
    #: Retrying cannot help (the address is refused): the delivery fails at once.
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, str, int, str]:
    """The URL's parts, or UnsafeUrl for anything but plain http(s) to a named host."""
    if not isinstance(url, str) or len(url) > MAX_URL:
        raise UnsafeUrl(f"Enter an http:// or https:// URL of at most {MAX_URL} characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"That URL cannot be read: {exc}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("Enter an http:// or https:// URL.")
    if parts.username or parts.password:
        raise UnsafeUrl("Put no user name or password in the URL; verify the signature instead.")
    if parts.fragment:
        raise UnsafeUrl("A webhook URL has no #fragment.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve and check every address of the URL's host; the first one is the one to use."""
    scheme, host, port, path = check_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"{host} cannot be resolved ({exc}).") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeUrl(f"{host} has no address.")
    if not allow_private:
        for address in addresses:
            if not _public(address):
                raise UnsafeUrl(
                    f"{host} resolves to {address}, which is not a public address "
                    "(private, loopback and link-local addresses are refused; see "
                    "CHATS_WEBHOOKS_ALLOW_PRIVATE)."
                )
    return Target(scheme, host, port, path, addresses[0])


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=`` + hex HMAC-SHA256 of ``"<timestamp>." + body`` (docs/api.rst shows the check)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    secret: str,
    *,
    timeout: float,
    allow_private: bool,
) -> Outcome:
    """Sign and send; every failure is an Outcome (never an exception)."""
    started = time.monotonic()

    def done(status: int | None, error: str | None, excerpt: str | None = None) -> Outcome:
        return Outcome(status, int((time.monotonic() - started) * 1000), error, excerpt)

    try:
        target = resolve(url, allow_private=allow_private)
    except UnsafeUrl as exc:
        return Outcome(None, int((time.monotonic() - started) * 1000), str(exc), None, True)
    timestamp = int(time.time())
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host and target.port == default_port:
        host_header = f"[{target.host}]"
    sent = {
        **headers,
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Chats-Webhook-Timestamp": str(timestamp),
        "Chats-Webhook-Signature": signature(secret, timestamp, body),
    }
    limit = urllib3.Timeout(total=timeout)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=limit,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=limit, retries=False)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=sent,
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            head = response.read(EXCERPT, decode_content=True)
        finally:
            response.release_conn()
        excerpt = head.decode("utf-8", "replace") if head else None
        status = response.status
        error = None if 200 <= status < 300 else f"The receiver answered HTTP {status}."
        if 300 <= status < 400:
            error = f"The receiver redirected (HTTP {status}); redirects are not followed."
        return done(status, error, excerpt)
    except urllib3.exceptions.TimeoutError:
        return done(None, f"No answer within {timeout:g} seconds.")
    except urllib3.exceptions.SSLError as exc:
        return done(None, f"TLS failed: {exc}")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return done(None, f"Could not deliver: {exc}")
    finally:
        pool.close()
