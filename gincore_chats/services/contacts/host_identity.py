"""Host identities: a host user's signed profile in the widget, and hosts importing customers.

The signed string is the payload itself, so a host in any language reproduces it without a
canonical JSON encoder (docs/identity.rst)::

    payload   = base64url(utf8(json({"user_id": "42", "name": ..., "email": ..., "phone": ...,
                                     "attributes": {...}, "exp": 1767225600})))
    signature = hex(hmac_sha256(source_identity_secret, payload))

Only ``user_id`` is required; ``exp`` (Unix seconds) is optional. The server checks the
signature over the exact characters it received, with a constant-time compare.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...models import Contact, Source, utcnow
from ...signals import contact_created, contact_updated
from ...state import ChatsState
from ..secrets import SecretUnreadable, decrypt, encrypt
from ..unit_of_work import after_commit
from .customers import clean_contact_fields
from .errors import ContactError
from .fields import merged_custom_fields
from .merges import do_suggest

#: Longest payload accepted: the fullest profile (50 custom fields of 1000 characters, the
#: longest name, email and phone) fits even as ASCII-escaped JSON (Python's default, six
#: characters per non-Latin letter), base64url-encoded; well under CHATS_JSON_MAX_BODY.
MAX_PAYLOAD = 512 * 1024
MAX_USER_ID = 255
SECRET_KEY = "identity_secret"


class IdentityError(ValueError):
    """Why a claimed identity was not accepted; ``code`` is stable for scripts."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class VerifiedIdentity:
    user_id: str
    fields: dict[str, str | None]
    attributes: dict[str, Any] = field(default_factory=dict)


# -- the per-source secret ---------------------------------------------------------------------


def identity_secret(state: ChatsState, source: Source) -> str | None:
    try:
        value = decrypt(state, source.credentials_encrypted).get(SECRET_KEY)
    except SecretUnreadable:
        return None
    return value if isinstance(value, str) and value else None


def do_rotate_identity_secret(state: ChatsState, source: Source) -> str:
    """A new secret; identities signed with the old one stop verifying at once."""
    try:
        stored = decrypt(state, source.credentials_encrypted)
    except SecretUnreadable:
        stored = {}
    stored[SECRET_KEY] = secrets.token_urlsafe(32)
    source.credentials_encrypted = encrypt(state, stored)
    return str(stored[SECRET_KEY])


def sign(secret: str, payload: str) -> str:
    """What the host computes (also used by the CLI and tests)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def encode_payload(claims: dict[str, Any]) -> str:
    raw = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# -- verification ------------------------------------------------------------------------------


def _decode(payload: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise IdentityError(
            "The identity payload is not base64url-encoded JSON.", "identity_malformed"
        ) from exc
    if not isinstance(claims, dict):
        raise IdentityError("The identity payload must be a JSON object.", "identity_malformed")
    return claims


def _claims_to_identity(claims: dict[str, Any]) -> VerifiedIdentity:
    user_id = claims.get("user_id")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > MAX_USER_ID:
        raise IdentityError(
            f"user_id must be text of 1-{MAX_USER_ID} characters.", "identity_malformed"
        )
    try:
        fields = clean_contact_fields(
            {k: claims[k] for k in ("name", "email", "phone") if k in claims}
        )
        attributes = claims.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise ContactError("attributes must be a JSON object.")
        attributes = merged_custom_fields({}, attributes)
    except ContactError as exc:
        raise IdentityError(str(exc), "identity_malformed") from exc
    return VerifiedIdentity(user_id=user_id.strip(), fields=fields, attributes=attributes)


def verify(
    state: ChatsState, source: Source, raw: Any, now: float | None = None
) -> VerifiedIdentity:
    """The identity if the host's signature holds; IdentityError says why not."""
    if not isinstance(raw, dict):
        raise IdentityError(
            "identity must be an object {payload, signature}.", "identity_malformed"
        )
    payload, signature = raw.get("payload"), raw.get("signature")
    if not isinstance(payload, str) or not isinstance(signature, str) or not payload:
        raise IdentityError(
            "identity needs a payload and a signature (both text).", "identity_missing"
        )
    if len(payload) > MAX_PAYLOAD:
        raise IdentityError(
            f"The identity payload is too long (at most {MAX_PAYLOAD} characters).",
            "identity_malformed",
        )
    secret = identity_secret(state, source)
    if secret is None:
        raise IdentityError(
            "Identity verification is not set up for this source: create the secret in its "
            "settings.",
            "identity_not_configured",
        )
    if not hmac.compare_digest(sign(secret, payload).encode(), signature.strip().lower().encode()):
        raise IdentityError(
            "The identity signature does not match (signed with another secret, or the payload "
            "changed).",
            "identity_invalid",
        )
    claims = _decode(payload)
    exp = claims.get("exp")
    if exp is not None:
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise IdentityError("exp must be Unix seconds.", "identity_malformed")
        if exp < (now if now is not None else time.time()):
            raise IdentityError(
                "The signed identity has expired: sign it again.", "identity_expired"
            )
    return _claims_to_identity(claims)


# -- the contact bound to a host user ---------------------------------------------------------


def resolve(state: ChatsState, contact: Contact) -> Contact:
    """Follow merges: the contact that now holds a merged-away contact's conversations."""
    seen = {contact.id}
    while contact.merged_into_id is not None:
        target = state.session.get(Contact, contact.merged_into_id)
        if target is None or target.id in seen:
            break
        seen.add(target.id)
        contact = target
    return contact


def find_by_host_user(state: ChatsState, host_user_id: str) -> Contact | None:
    found = state.session.scalar(select(Contact).where(Contact.host_user_id == host_user_id))
    return resolve(state, found) if found is not None else None


def _apply(
    contact: Contact, fields: dict[str, str | None], attributes: dict[str, Any]
) -> list[str]:
    """The host vouches for these values: they replace what is there (None clears nothing:
    a field the host leaves out of the payload keeps its value)."""
    changed = []
    for key, value in fields.items():
        if value is not None and getattr(contact, key) != value:
            setattr(contact, key, value)
            changed.append(key)
    if attributes:
        merged = merged_custom_fields(contact.custom_fields or {}, attributes)
        if merged != (contact.custom_fields or {}):
            contact.custom_fields = merged
            changed.append("custom_fields")
    return changed


def do_link_contact(
    state: ChatsState,
    host_user_id: str,
    fields: Mapping[str, str | None] | None = None,
    attributes: Mapping[str, Any] | None = None,
    source: Source | None = None,
) -> tuple[Contact, bool]:
    """The one contact of this host user, created or updated with the verified fields."""
    user_id = (host_user_id or "").strip()
    if not user_id or len(user_id) > MAX_USER_ID:
        raise ContactError(f"host_user_id must be text of 1-{MAX_USER_ID} characters.")
    clean = clean_contact_fields(dict(fields or {}))
    extra = merged_custom_fields({}, dict(attributes or {}))
    contact = find_by_host_user(state, user_id)
    created = False
    if contact is None:
        contact = Contact(
            source_id=source.id if source is not None else None,
            host_user_id=user_id,
            custom_fields={},
        )
        _apply(contact, clean, extra)
        contact.verified_at = utcnow()
        try:
            with state.session.begin_nested():
                state.session.add(contact)
                state.session.flush()
            created = True
        except IntegrityError:
            # The same user opened the chat in two tabs at once: use the other's contact.
            contact = find_by_host_user(state, user_id)  # type: ignore[assignment]
            if contact is None:
                raise
    changed = [] if created else _apply(contact, clean, extra)
    contact.verified_at = utcnow()
    state.session.flush()
    app, contact_id = state.app, contact.id
    if created:
        after_commit(
            state.session,
            lambda: contact_created.send(app, contact_id=contact_id, host_user_id=user_id),
        )
    elif changed:
        after_commit(
            state.session,
            lambda: contact_updated.send(
                app, contact_id=contact_id, host_user_id=user_id, fields=changed
            ),
        )
    return contact, created


def answer(verified: VerifiedIdentity | None, error: IdentityError | None) -> dict[str, Any]:
    """What the widget is told (it logs the error in the browser console)."""
    if verified is not None:
        return {"verified": True, "user_id": verified.user_id}
    return {
        "verified": False,
        "code": error.code if error else "identity_missing",
        "error": str(error) if error else "No identity was given.",
    }


def do_claim(state: ChatsState, conv: Any, verified: VerifiedIdentity) -> str:
    """A signed identity arrives for a conversation already open in this browser.

    ``same``: it is already this user's; ``suggested``: an anonymous visitor who now signed
    in is offered to managers as "same person?"; ``other_user``: the conversation belongs to
    another host user (the browser is shared), so the widget starts a new one."""
    contact = conv.contact
    if contact.host_user_id == verified.user_id:
        do_link_contact(state, verified.user_id, verified.fields, verified.attributes)
        return "same"
    if contact.host_user_id:
        return "other_user"
    target, _created = do_link_contact(
        state, verified.user_id, verified.fields, verified.attributes, conv.source
    )
    if target.id != contact.id:
        do_suggest(state, contact, target, "same_identity")
    return "suggested"
