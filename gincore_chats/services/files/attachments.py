"""Attachments: checked, thumbnailed and stored uploads, the storage quota, and who may read them.

An upload is read with a size cap, its type is taken from its content (services.file_types), images
are opened with Pillow under a pixel limit (decompression bombs are refused) and get a thumbnail
re-encoded without metadata (no EXIF/GPS). The quota is checked and the bytes stored inside the
same transaction, under a row lock, so two uploads cannot both squeeze into the last megabyte;
if the transaction rolls back the stored objects are removed again.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import re
import secrets
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ...channels.base import OutboundAttachment
from ...file_types import INLINE_IMAGES, NEVER_ALLOWED, Detected, detect
from ...models import Attachment, Conversation, Message, Setting, utcnow
from ...state import ChatsState
from ...storage import LocalStorage, Storage
from ..unit_of_work import after_commit, on_rollback

THUMBNAIL_SIZE = (320, 320)
_QUOTA_LOCK = "storage_quota_lock"


class UploadError(ValueError):
    status = 400


class UploadTooLarge(UploadError):
    status = 413


class UploadTypeRefused(UploadError):
    status = 415


class QuotaExceeded(UploadError):
    status = 507


@dataclass(frozen=True)
class Usage:
    used: int
    quota: int | None

    @property
    def percent(self) -> float | None:
        return None if not self.quota else round(100 * self.used / self.quota, 1)


def storage(state: ChatsState) -> Storage:
    backend = state.extras.get("storage")
    if backend is None:
        backend = LocalStorage(state.config.storage_path)
        state.extras["storage"] = backend
    return backend  # type: ignore[no-any-return]


def usage(state: ChatsState) -> Usage:
    used = state.session.scalar(
        select(func.coalesce(func.sum(Attachment.size + Attachment.thumbnail_size), 0)).where(
            Attachment.deleted_at.is_(None)
        )
    )
    return Usage(int(used or 0), state.config.storage_quota)


def clean_filename(name: str | None, detected: Detected) -> str:
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable())
    base = re.sub(r"\s+", " ", base).strip(" .") or "file"
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    # The name must not claim another type than the content has (invoice.pdf that is a PNG).
    if ext.lower() not in _ALIASES.get(detected.extension, {detected.extension}):
        ext = detected.extension
    # File systems allow 255-byte names, so a real name keeps its whole stem.
    return f"{stem[:MAX_STEM]}.{ext}"


MAX_STEM = 255
_ALIASES = {"jpg": {"jpg", "jpeg", "jpe"}, "txt": {"txt", "text", "log", "csv", "md"}}


def _spool(stream: BinaryIO, limit: int) -> BinaryIO:
    # Returned open to the caller, which closes it (do_store_upload's finally).
    spooled = tempfile.SpooledTemporaryFile(max_size=2 * 1024 * 1024)  # noqa: SIM115
    total = 0
    while chunk := stream.read(256 * 1024):
        total += len(chunk)
        if total > limit:
            spooled.close()
            raise too_large(limit)
        spooled.write(chunk)
    if total == 0:
        spooled.close()
        raise UploadError("The file is empty.")
    spooled.seek(0)
    return spooled  # type: ignore[return-value]


def too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(f"The file is too large (the limit is {human_size(limit)}).")


def human_size(size: int) -> str:
    """1024-based, as file managers show it: "0 bytes", "950 KB", "12.3 MB", "1 GB"."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    if unit == "bytes":
        return f"{size} byte" if size == 1 else f"{size} bytes"
    text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return f"{text.removesuffix('.0')} {unit}"


def _thumbnail(state: ChatsState, data: BinaryIO) -> tuple[int, int, bytes]:
    """(width, height, thumbnail bytes); refuses broken images and decompression bombs."""
    limit = state.config.max_image_pixels
    try:
        with Image.open(data) as probe:
            width, height = probe.size
            if width * height > limit:
                raise UploadError("The image is too large to process (too many pixels).")
            probe.verify()
        data.seek(0)
        with Image.open(data) as opened:
            opened.seek(0)  # the first frame of an animation
            image: Image.Image = ImageOps.exif_transpose(opened)
            image.thumbnail(THUMBNAIL_SIZE)
            has_alpha = image.mode in ("RGBA", "LA", "P")
            pixels = image.convert("RGBA" if has_alpha else "RGB")
            out = io.BytesIO()
            # Re-encoded from pixels only: no EXIF, GPS or other metadata is carried over.
            pixels.save(out, "PNG" if has_alpha else "JPEG", quality=85, optimize=True)
    except Image.DecompressionBombError:
        raise UploadError("The image is too large to process (too many pixels).") from None
    except UploadError:
        raise
    except Exception:
        raise UploadError("The image could not be read; it may be damaged.") from None
    finally:
        data.seek(0)
    return width, height, out.getvalue()


def _lock_quota(state: ChatsState) -> None:
    """Serialise quota checks across uploads (a PostgreSQL row lock; SQLite has one writer)."""
    session = state.session
    if session.get(Setting, _QUOTA_LOCK) is None:
        try:
            with session.begin_nested():
                session.add(Setting(key=_QUOTA_LOCK, value={}))
                session.flush()
        except IntegrityError:
            pass  # a concurrent first upload created the row; the update below waits for it
    session.execute(update(Setting).where(Setting.key == _QUOTA_LOCK).values(updated_at=utcnow()))


def do_store_upload(
    state: ChatsState,
    conv: Conversation,
    *,
    uploaded_by: str,
    filename: str | None,
    stream: BinaryIO,
) -> Attachment:
    """Check and store one upload for ``conv``; the caller attaches it to a message."""
    config = state.config
    data = _spool(stream, config.max_upload_size)
    try:
        detected = detect(data)
        if (
            detected.mime_type in NEVER_ALLOWED
            or detected.mime_type not in config.allowed_upload_types
        ):
            raise UploadTypeRefused(
                f"Files of this type ({detected.mime_type}) cannot be sent here."
            )
        width = height = None
        thumb: bytes | None = None
        if detected.mime_type in INLINE_IMAGES:
            width, height, thumb = _thumbnail(state, data)
        data.seek(0, os.SEEK_END)
        size = data.tell()
        data.seek(0)
        _lock_quota(state)
        if config.storage_quota is not None:
            current = usage(state).used
            if current + size + len(thumb or b"") > config.storage_quota:
                raise QuotaExceeded(
                    "The storage quota is full; ask your administrator to expand it."
                )
        public_id = secrets.token_urlsafe(24)
        key = f"{conv.source_id}/{public_id}"
        backend = storage(state)
        backend.save(key, data)
        on_rollback(state.session, lambda: backend.delete(key))
        thumb_key = None
        if thumb is not None:
            thumb_key = f"{key}.thumb"
            backend.save(thumb_key, io.BytesIO(thumb))
            on_rollback(state.session, lambda: backend.delete(thumb_key))
        attachment = Attachment(
            conversation_id=conv.id,
            public_id=public_id,
            uploaded_by=uploaded_by[:64],
            filename=clean_filename(filename, detected),
            content_type=detected.mime_type,
            size=size,
            storage_key=key,
            width=width,
            height=height,
            thumbnail_key=thumb_key,
            thumbnail_size=len(thumb or b""),
            created_at=utcnow(),
        )
        state.session.add(attachment)
        state.session.flush()
        return attachment
    finally:
        data.close()


def do_free_for_message(state: ChatsState, message: Message) -> int:
    """A deleted message frees its files: marked now, bytes removed after commit."""
    rows = list(
        state.session.scalars(
            select(Attachment).where(
                Attachment.message_id == message.id, Attachment.deleted_at.is_(None)
            )
        )
    )
    return do_free_attachments(state, rows)


def do_free_attachments(state: ChatsState, rows: list[Attachment]) -> int:
    """Mark files deleted (freed from the quota now), remove their bytes after commit; returns
    the bytes freed."""
    keys: list[str] = []
    freed = 0
    for row in rows:
        if row.deleted_at is not None:
            continue
        row.deleted_at = utcnow()
        freed += row.size + row.thumbnail_size
        keys += [k for k in (row.storage_key, row.thumbnail_key) if k]
    if keys:
        backend = storage(state)

        def remove() -> None:
            for key in keys:
                backend.delete(key)

        after_commit(state.session, remove)
    return freed


def find(state: ChatsState, public_id: str) -> Attachment | None:
    row = state.session.scalar(select(Attachment).where(Attachment.public_id == public_id))
    return row if row is not None and row.deleted_at is None else None


def is_inline_image(attachment: Attachment) -> bool:
    return attachment.content_type in INLINE_IMAGES


# -- messenger channels ----------------------------------------------------------------------

PUBLIC_LINK_SECONDS = 3600


def public_link_signature(state: ChatsState, public_id: str, expires: int) -> str:
    key = (state.config.encryption_key or state.secret_key).encode()
    msg = f"gincore-chats/file/{public_id}/{expires}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]


def public_url(state: ChatsState, attachment: Attachment) -> str | None:
    """A time-limited link a messenger platform can fetch (needs ``CHATS_PUBLIC_URL``)."""
    base = state.config.public_url
    if not base:
        return None
    expires = int(time.time()) + PUBLIC_LINK_SECONDS
    sig = public_link_signature(state, attachment.public_id, expires)
    return f"{base}{state.config.url_prefix}/files/p/{attachment.public_id}/{expires}/{sig}"


def outbound_attachment(state: ChatsState, attachment: Attachment) -> OutboundAttachment:
    """A stored file as an adapter sends it: its bytes, and a signed link where one can be made."""
    with storage(state).open(attachment.storage_key) as stream:
        data = stream.read()
    return OutboundAttachment(
        kind="image" if is_inline_image(attachment) else "file",
        url=public_url(state, attachment) or "",
        filename=attachment.filename,
        mime_type=attachment.content_type,
        data=data,
        size=attachment.size,
    )


def do_attach_inbound(
    state: ChatsState, message: Message, conv: Conversation, data: bytes, filename: str | None
) -> Attachment:
    """Store a file a customer sent through a messenger and attach it to their message."""
    attachment = do_store_upload(
        state, conv, uploaded_by="channel", filename=filename, stream=io.BytesIO(data)
    )
    attachment.message_id = message.id
    state.session.flush()
    state.session.expire(message, ["attachments"])
    return attachment
