"""X-Hub-Signature-256 checks (reference §2.1, §6) and the GET handshake, for all three adapters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gincore_chats.channels.base import HeaderDict
from gincore_chats.channels.instagram import InstagramChannel
from gincore_chats.channels.messenger import MessengerChannel
from gincore_chats.channels.meta import signature as signature_module
from gincore_chats.channels.whatsapp import WhatsAppChannel

from .helpers import APP_SECRET, raw, signature

ADAPTERS = [WhatsAppChannel(), MessengerChannel(), InstagramChannel()]
VECTOR_BODY = raw("meta_signature_body.txt")
VECTOR_HEADER = "sha256=ded1d1d9621cffa39832ccf2b330fa476b4dc8ec2a5d102e1e554312b3f21d42"
CREDENTIALS = {"app_secret": APP_SECRET, "verify_token": "my-verify-token"}


def test_generic_hmac_vector() -> None:
    assert signature_module.expected_signature("secret", b"test") == (
        "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    )


def test_meta_vector_body_is_the_documented_bytes() -> None:
    # Guards the fixture itself: one line, no trailing newline, the documented signature.
    assert not VECTOR_BODY.endswith(b"\n")
    assert signature(VECTOR_BODY) == VECTOR_HEADER


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.kind)
@pytest.mark.parametrize(
    "headers",
    [
        {"X-Hub-Signature-256": VECTOR_HEADER},
        {"x-hub-signature-256": VECTOR_HEADER},
        HeaderDict({"X-HUB-SIGNATURE-256": VECTOR_HEADER, "Content-Type": "application/json"}),
    ],
    ids=["canonical", "lower-case", "HeaderDict"],
)
def test_valid_signature(adapter: Any, headers: dict[str, str]) -> None:
    assert adapter.verify(CREDENTIALS, headers, VECTOR_BODY) is True


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.kind)
@pytest.mark.parametrize(
    ("credentials", "headers", "body"),
    [
        # one hex digit changed
        (CREDENTIALS, {"X-Hub-Signature-256": VECTOR_HEADER[:-1] + "3"}, VECTOR_BODY),
        # a different app secret
        (
            {**CREDENTIALS, "app_secret": "other"},
            {"X-Hub-Signature-256": VECTOR_HEADER},
            VECTOR_BODY,
        ),
        # no header at all
        (CREDENTIALS, {}, VECTOR_BODY),
        # only the legacy SHA-1 header, which must be ignored
        (CREDENTIALS, {"X-Hub-Signature": "sha1=" + "0" * 40}, VECTOR_BODY),
        # the digest without the sha256= prefix
        (CREDENTIALS, {"X-Hub-Signature-256": VECTOR_HEADER.removeprefix("sha256=")}, VECTOR_BODY),
        # no app secret configured: nothing can be trusted
        ({"app_secret": ""}, {"X-Hub-Signature-256": signature(VECTOR_BODY, "")}, VECTOR_BODY),
        # body changed by one byte
        (CREDENTIALS, {"X-Hub-Signature-256": VECTOR_HEADER}, VECTOR_BODY + b" "),
    ],
    ids=["tampered", "wrong-secret", "missing", "sha1-only", "no-prefix", "no-secret", "body"],
)
def test_invalid_signature(
    adapter: Any, credentials: dict[str, str], headers: dict[str, str], body: bytes
) -> None:
    assert adapter.verify(credentials, headers, body) is False


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.kind)
def test_signature_over_reserialised_json_fails(adapter: Any) -> None:
    # Meta escapes "/" and non-ASCII; the HMAC is over those exact bytes.
    sent = (
        b'{"object":"page","entry":[{"id":"1","messaging":'
        b'[{"message":{"text":"caf\\u00e9 \\/ ok"}}]}]}'
    )
    headers = {"X-Hub-Signature-256": signature(sent)}
    assert adapter.verify(CREDENTIALS, headers, sent) is True
    for reencoded in (
        json.dumps(json.loads(sent)).encode(),
        json.dumps(json.loads(sent), separators=(",", ":"), ensure_ascii=False).encode(),
    ):
        assert adapter.verify(CREDENTIALS, headers, reencoded) is False
    vector_reencoded = json.dumps(json.loads(VECTOR_BODY)).encode()
    assert (
        adapter.verify(CREDENTIALS, {"X-Hub-Signature-256": VECTOR_HEADER}, vector_reencoded)
        is False
    )


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = signature_module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signature_module.hmac, "compare_digest", spy)
    assert WhatsAppChannel().verify(
        CREDENTIALS, {"X-Hub-Signature-256": VECTOR_HEADER}, VECTOR_BODY
    )
    assert calls and calls[0][0] == VECTOR_HEADER.encode()


# --- GET verification handshake (§2.1) ------------------------------------------------------

GOOD_QUERY = {
    "hub.mode": "subscribe",
    "hub.challenge": "1158201444",
    "hub.verify_token": "my-verify-token",
}


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.kind)
def test_handshake_returns_the_challenge(adapter: Any) -> None:
    assert adapter.handshake(CREDENTIALS, GOOD_QUERY) == "1158201444"


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.kind)
@pytest.mark.parametrize(
    ("credentials", "query"),
    [
        (CREDENTIALS, {**GOOD_QUERY, "hub.verify_token": "wrong"}),
        (CREDENTIALS, {**GOOD_QUERY, "hub.mode": "unsubscribe"}),
        (CREDENTIALS, {k: v for k, v in GOOD_QUERY.items() if k != "hub.mode"}),
        (CREDENTIALS, {k: v for k, v in GOOD_QUERY.items() if k != "hub.verify_token"}),
        (CREDENTIALS, {k: v for k, v in GOOD_QUERY.items() if k != "hub.challenge"}),
        # PHP-style names are not Meta's names
        (CREDENTIALS, {k.replace(".", "_"): v for k, v in GOOD_QUERY.items()}),
        # an unconfigured token must not match an empty one
        ({"verify_token": ""}, {**GOOD_QUERY, "hub.verify_token": ""}),
        ({}, {**GOOD_QUERY, "hub.verify_token": ""}),
    ],
    ids=[
        "wrong-token",
        "wrong-mode",
        "no-mode",
        "no-token",
        "no-challenge",
        "underscores",
        "empty-token",
        "no-config",
    ],
)
def test_handshake_refused(
    adapter: Any, credentials: dict[str, str], query: dict[str, str]
) -> None:
    assert adapter.handshake(credentials, query) is None
