"""Test connection for the Meta channels against the fake Graph API: ``GET /me`` with the
source's token says whether Meta takes it and whose it is, and a mismatch with the configured
ids is named."""

from __future__ import annotations

from gincore_chats.channels.base import ChannelConfig
from gincore_chats.channels.instagram import InstagramChannel
from gincore_chats.channels.messenger import MessengerChannel
from gincore_chats.channels.whatsapp import WhatsAppChannel

from .fake_graph import TOKEN, FakeGraph

HOOK = "https://chat.example.test/chats/webhooks/abc"
PAGE = "106540352242922"
IG = "17841405822304914"


def test_messenger_page_token_and_page_id(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.me = {"id": PAGE, "name": "Acme Shop"}
    creds = {"page_access_token": TOKEN, "page_id": PAGE}
    result = MessengerChannel().check(config, creds, HOOK)
    assert result.ok and result.account == f"Page Acme Shop ({PAGE})"
    assert ("Callback URL for the App Dashboard", HOOK) in result.facts
    [call] = graph.calls("GET", "/me")
    assert call.query == {"fields": "id,name", "access_token": TOKEN}

    wrong = MessengerChannel().check(config, {**creds, "page_id": "111"}, HOOK)
    assert wrong.problems == (
        f"The access token belongs to Page Acme Shop (Page ID {PAGE}), but this source's "
        "Page ID is 111: enter the matching token or ID.",
    )
    bad = MessengerChannel().check(config, {**creds, "page_access_token": "EAAGold"}, HOOK)
    assert bad.account is None and len(bad.problems) == 1
    assert bad.problems[0].startswith("Meta refused the Messenger access token (")
    assert "EAAGold" not in bad.problems[0]


def test_whatsapp_token_and_phone_number(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.profiles["106540352242922"] = {
        "display_phone_number": "+1 555-078-3881",
        "verified_name": "Acme Support",
    }
    creds = {"access_token": TOKEN, "phone_number_id": "106540352242922"}
    result = WhatsAppChannel().check(config, creds, HOOK)
    assert result.ok and result.account == "Acme Support (+1 555-078-3881)"
    [call] = graph.calls("GET", "/106540352242922")
    assert call.headers["authorization"] == f"Bearer {TOKEN}"

    other = WhatsAppChannel().check(config, {**creds, "phone_number_id": "999"}, HOOK)
    assert len(other.problems) == 1
    assert other.problems[0].startswith(
        "The token works (user Acme system user), but Meta does not give it the phone number "
        "ID 999: Could not ask Meta about the WhatsApp account:"
    )
    bad = WhatsAppChannel().check(config, {**creds, "access_token": "nope"}, HOOK)
    assert bad.problems[0].startswith("Meta refused the WhatsApp access token")


def test_instagram_both_setups(
    config: ChannelConfig, graph: FakeGraph, ig_graph: FakeGraph
) -> None:
    ig_graph.me = {"user_id": IG, "username": "acme.shop"}
    creds = {"access_token": TOKEN, "instagram_account_id": IG}
    assert InstagramChannel().check(config, creds, HOOK).account == f"@acme.shop ({IG})"
    assert graph.calls("GET", "/me") == []  # Instagram Login asks graph.instagram.com
    wrong = InstagramChannel().check(config, {**creds, "instagram_account_id": "1"}, HOOK)
    assert "belongs to @acme.shop (Instagram account ID " + IG in wrong.problems[0]

    graph.me = {"id": PAGE, "name": "Acme Shop", "instagram_business_account": {"id": IG}}
    facebook = {**creds, "page_id": PAGE}
    result = InstagramChannel().check(config, facebook, HOOK)
    assert result.ok and result.account == f"Page Acme Shop ({PAGE})"
    [call] = graph.calls("GET", "/me")
    assert call.query["fields"] == "id,name,instagram_business_account"
    unlinked = InstagramChannel().check(config, {**facebook, "instagram_account_id": "2"}, HOOK)
    assert unlinked.problems == (
        f"The access token belongs to Page Acme Shop (Instagram account ID {IG}), but this "
        "source's Instagram account ID is 2: enter the matching token or ID.",
    )
