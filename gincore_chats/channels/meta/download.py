"""Fetching inbound media bytes, with a size cap so a huge file cannot exhaust a worker."""

from __future__ import annotations

import re
from email.message import Message
from typing import Any
from urllib.parse import unquote, urlsplit

from .. import http
from ..base import ChannelConfig, ChannelError, FetchedMedia
from .graph import PLATFORM

_CHUNK = 64 * 1024


def _filename_from(response: Any, url: str) -> str | None:
    disposition = response.headers.get("Content-Disposition")
    if disposition:
        header = Message()
        header["Content-Disposition"] = disposition
        name = header.get_filename()
        if name:
            return name
    last = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    # CDN paths end in a real file name ("invoice-5521.pdf") or in an opaque id; keep names only.
    return last if re.fullmatch(r"[^/\\]+\.[A-Za-z0-9]{1,8}", last) else None


def too_large(limit: int) -> ChannelError:
    return ChannelError(f"The file is larger than {limit} bytes; not downloaded.", permanent=True)


def fetch_bytes(
    config: ChannelConfig, url: str, *, limit: int, bearer: str | None = None
) -> FetchedMedia:
    """GET ``url``; ``bearer`` only for WhatsApp's lookaside URLs, never for CDN links."""
    response = http.call(
        "GET",
        url,
        platform=PLATFORM,
        timeout=config.timeout,
        headers={"Authorization": f"Bearer {bearer}"} if bearer else None,
        stream=True,
    )
    with response:
        if response.status_code >= 400:
            # Expired CDN links answer 403/404/410 and never come back; 429/5xx may.
            raise http.status_error(
                PLATFORM,
                response,
                f"The media could not be downloaded (HTTP {response.status_code}).",
            )
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_content(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise too_large(limit)
            chunks.append(chunk)
        mime = response.headers.get("Content-Type")
        return FetchedMedia(
            data=b"".join(chunks),
            mime_type=mime.split(";", 1)[0].strip() if mime else None,
            filename=_filename_from(response, url),
        )
