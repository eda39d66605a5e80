"""What a file really is, from its first bytes (never from its name or the declared type)."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import BinaryIO

#: Markup that could run script in our origin: refused whatever the configuration allows.
NEVER_ALLOWED = frozenset({"text/html"})

#: Images shown inline (and thumbnailed). SVG is deliberately absent: it can carry script.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

DEFAULT_ALLOWED = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "audio/mpeg",
    "audio/ogg",
    "video/mp4",
)

_OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


@dataclass(frozen=True)
class Detected:
    mime_type: str
    extension: str


def _zip_kind(stream: BinaryIO) -> Detected:
    stream.seek(0)
    try:
        names = zipfile.ZipFile(stream).namelist()
    except zipfile.BadZipFile:
        return Detected("application/octet-stream", "bin")
    for prefix, mime in _OOXML.items():
        if any(n.startswith(prefix) for n in names):
            return Detected(mime, {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}[prefix])
    return Detected("application/zip", "zip")


def _looks_like_markup(text: str) -> bool:
    head = text.lstrip()[:512].lower()
    return head.startswith(("<!doctype", "<html", "<svg", "<?xml", "<script", "<head", "<body"))


def detect(stream: BinaryIO) -> Detected:
    """Sniff the type. Markup (HTML, SVG, XML) is reported as such so policy can refuse it."""
    stream.seek(0)
    head = stream.read(4096)
    stream.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Detected("image/png", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return Detected("image/jpeg", "jpg")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Detected("image/gif", "gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Detected("image/webp", "webp")
    if head.startswith(b"%PDF-"):
        return Detected("application/pdf", "pdf")
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(stream)
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return Detected("audio/mpeg", "mp3")
    if head.startswith(b"OggS"):
        return Detected("audio/ogg", "ogg")
    if head[4:8] == b"ftyp":
        return Detected("video/mp4", "mp4")
    if b"\x00" not in head:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            # A multi-byte character cut at the 4 KB boundary is still text.
            try:
                text = head[:-3].decode("utf-8")
            except UnicodeDecodeError:
                return Detected("application/octet-stream", "bin")
        if _looks_like_markup(text):
            return Detected("text/html", "html")
        return Detected("text/plain", "txt")
    return Detected("application/octet-stream", "bin")
