"""Geolocation of a visitor's IP with a MaxMind City database (geoip2)."""

from __future__ import annotations

import logging
from functools import lru_cache

import geoip2.database
import geoip2.errors

from ..models import Conversation, VisitorContext
from ..services.unit_of_work import unit_of_work
from ..services.widget.visitor_context import do_set_location
from . import job_state

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _reader(path: str) -> geoip2.database.Reader:
    return geoip2.database.Reader(path)


def lookup(path: str, ip: str) -> tuple[str | None, str | None, str | None]:
    """(country name, ISO code, city) or Nones; a private or unknown IP is not an error."""
    try:
        found = _reader(path).city(ip)
    except (geoip2.errors.AddressNotFoundError, ValueError):
        return None, None, None
    return found.country.name, found.country.iso_code, found.city.name


def locate(conversation_id: int) -> None:
    with job_state() as state:
        path = state.config.geoip_database
        if not path:
            return
        with unit_of_work(state.session):
            ctx = state.session.get(VisitorContext, conversation_id)
            conv = state.session.get(Conversation, conversation_id)
            if ctx is None or conv is None or not ctx.ip:
                return
            country, code, city = lookup(path, ctx.ip)
            do_set_location(state, conv, country=country, country_code=code, city=city)
