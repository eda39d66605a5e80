"""The three adapters against the contract in base.py and the registry, and one end-to-end
delivery: signed bytes in, verified, parsed."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from gincore_chats.channels import base, registry
from gincore_chats.channels.instagram import InstagramChannel
from gincore_chats.channels.messenger import MessengerChannel
from gincore_chats.channels.whatsapp import WhatsAppChannel

from .helpers import APP_SECRET, raw, signature

EXPECTED_FIELDS = {
    "whatsapp": {
        "access_token": True,
        "app_secret": True,
        "verify_token": True,  # a secret: the connection card reveals it on request
        "phone_number_id": False,
        "business_account_id": False,
    },
    "messenger": {
        "page_access_token": True,
        "app_secret": True,
        "verify_token": True,  # a secret: the connection card reveals it on request
        "page_id": False,
        "human_agent_tag": False,
    },
    "instagram": {
        "access_token": True,
        "app_secret": True,
        "verify_token": True,  # a secret: the connection card reveals it on request
        "instagram_account_id": False,
        "page_id": False,
        "human_agent_tag": False,
    },
}
ACCOUNT_CREDENTIAL = {
    "whatsapp": "phone_number_id",
    "messenger": "page_id",
    "instagram": "instagram_account_id",
}
ADAPTERS = [WhatsAppChannel, MessengerChannel, InstagramChannel]


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.kind)
def test_class_attributes(cls: Any) -> None:
    assert cls.supports_edit is False and cls.supports_delete is False
    fields = {name: secret for name, (_, secret) in cls.credential_fields.items()}
    assert fields == EXPECTED_FIELDS[cls.kind]
    assert cls.generated_credentials == {"verify_token": True}
    assert cls.account_credential == ACCOUNT_CREDENTIAL[cls.kind]
    assert cls.account_credential in cls.credential_fields
    assert set(cls.optional_credentials) <= set(cls.credential_fields)


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.kind)
@pytest.mark.parametrize(
    "protocol",
    [base.Channel, base.MediaFetchingChannel, base.ConnectableChannel, base.CheckableChannel],
)
def test_methods_match_the_protocols(cls: Any, protocol: Any) -> None:
    for name, member in vars(protocol).items():
        if name.startswith("_") or not callable(member):
            continue
        ours = inspect.signature(getattr(cls, name))
        theirs = inspect.signature(member)
        # Same parameters in the same order; ours may add keyword-only ones with defaults.
        required = [
            p.name
            for p in ours.parameters.values()
            if p.kind is not p.KEYWORD_ONLY or p.default is p.empty
        ]
        assert required == list(theirs.parameters), (cls.kind, name)


@pytest.mark.parametrize("kind", ["whatsapp", "messenger", "instagram"])
def test_registered_in_the_registry(kind: str) -> None:
    adapter = registry.get_adapter(kind)
    assert adapter is not None and adapter.kind == kind
    assert registry.can_connect(adapter)
    assert kind in registry.channel_kinds()


@pytest.mark.parametrize(
    ("cls", "payload", "count"),
    [
        (WhatsAppChannel, "meta_signature_body.txt", 1),
        (MessengerChannel, "ms_attachments.json", 1),
        (InstagramChannel, "ig_image.json", 1),
    ],
    ids=["whatsapp", "messenger", "instagram"],
)
def test_signed_delivery_round_trip(cls: Any, payload: str, count: int) -> None:
    body = raw(payload)
    adapter = cls()
    headers = base.HeaderDict({"X-Hub-Signature-256": signature(body)})
    assert adapter.verify({"app_secret": APP_SECRET}, headers, body)
    assert len(adapter.parse(body).messages) == count
