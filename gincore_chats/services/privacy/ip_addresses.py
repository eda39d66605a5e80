"""Truncated IP addresses: enough for a country and a rate limit, not enough to name a line."""

from __future__ import annotations

import ipaddress
from typing import Any


def truncate_ip(value: str | None) -> str | None:
    """IPv4 loses its last octet, IPv6 its last 80 bits (a /48 stays); other text is dropped,
    so nothing that is not an address survives a truncation."""
    if not value:
        return value
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return str(network.network_address)


def is_truncated(value: str | None) -> bool:
    return not value or truncate_ip(value) == value


def ip_for_storage(source_settings: dict[str, Any] | None, ip: str | None) -> str | None:
    """The IP as the source's retention policy lets it be stored: truncated, or whole."""
    rules = (source_settings or {}).get("retention") or {}
    return truncate_ip(ip) if ip and rules.get("truncate_ips") else ip
