"""The settings pages of API tokens and webhooks, through HTTP as an admin's browser sends
them (session cookie, CSRF token in the form)."""

from __future__ import annotations

import re
from typing import Any

from ..conftest import ALL_PERMS, Console, make_staff
from .conftest import Client

ADMIN_PERMS = ALL_PERMS + ",chats.admin"


def form_post(console: Console, path: str, data: dict[str, Any]) -> Any:
    return console.http.post(
        f"{console.server.url}/chats{path}",
        data={"csrf_token": console.csrf, **data},
        allow_redirects=False,
    )


def test_an_admin_creates_a_token_copies_it_once_and_revokes_it(app, pro_server):
    admin = make_staff(app, "Ada Admin", ADMIN_PERMS)
    bot = make_staff(app, "Shop Bot", "chats.view,chats.reply")
    console = Console(pro_server, admin)
    page = console.http.get(f"{pro_server.url}/chats/settings/api-tokens")
    assert (
        page.status_code == 200 and "Shop Bot" in page.text and 'aria-current="page"' in page.text
    )

    # More rights than the user has: refused, with the reason.
    refused = form_post(
        console,
        "/settings/api-tokens",
        {"name": "CRM", "manager_id": bot, "scopes": ["chats.view", "customers.view"]},
    )
    assert refused.status_code == 400 and "lacks customers.view" in refused.text

    created = form_post(
        console,
        "/settings/api-tokens",
        {"name": "CRM", "manager_id": bot, "scopes": ["chats.view"], "expires": "2099-01-31"},
    )
    assert created.status_code == 201
    [token] = re.findall(r'value="(gcc_[^"]+)"', created.text)
    me = Client(pro_server, token).get("/me").json()
    assert me["name"] == "Shop Bot" and me["permissions"] == ["chats.view"]
    assert me["expires_at"].startswith("2099-01-31")
    listing = console.http.get(f"{pro_server.url}/chats/settings/api-tokens").text
    assert token not in listing and token[:12] in listing  # shown once; the prefix stays

    without_csrf = console.http.post(f"{pro_server.url}/chats/settings/api-tokens/1/revoke")
    assert without_csrf.status_code == 400
    revoked = form_post(console, "/settings/api-tokens/1/revoke", {})
    assert revoked.status_code == 302
    assert Client(pro_server, token).get("/me").status_code == 401
    assert "revoked" in console.http.get(f"{pro_server.url}/chats/settings/api-tokens").text


def test_webhook_pages_register_show_the_secret_once_and_list_deliveries(app, pro_server):
    admin = make_staff(app, "Ada Admin", ADMIN_PERMS)
    console = Console(pro_server, admin)
    bad = form_post(console, "/settings/webhooks", {"url": "ftp://example.com/"})
    assert bad.status_code == 400 and "http:// or https://" in bad.text
    created = form_post(
        console,
        "/settings/webhooks",
        {"url": "http://127.0.0.1:9/hooks", "events": ["message.created"], "active": "on"},
    )
    assert created.status_code == 201
    assert re.search(r'value="whsec_[^"]+"', created.text)
    detail = console.http.get(f"{pro_server.url}/chats/settings/webhooks/1")
    assert "whsec_" not in detail.text and "Nothing delivered yet" in detail.text
    saved = form_post(
        console,
        "/settings/webhooks/1",
        {"url": "http://127.0.0.1:9/other", "events": [], "description": "CRM"},
    )
    assert saved.status_code == 302
    listing = console.http.get(f"{pro_server.url}/chats/settings/webhooks").text
    assert "http://127.0.0.1:9/other" in listing and "All events" in listing and "off" in listing


def test_pages_need_admin_and_say_when_the_plan_is_free(app, live_server, pro_server):
    agent = make_staff(app, "Mia", ALL_PERMS)
    assert (
        Console(pro_server, agent)
        .http.get(f"{pro_server.url}/chats/settings/api-tokens")
        .status_code
        == 403
    )
    admin = make_staff(app, "Ada Admin", ADMIN_PERMS)
    free = Console(live_server, admin)
    for page in ("api-tokens", "webhooks"):
        text = free.http.get(f"{live_server.url}/chats/settings/{page}").text
        assert "Needs the Pro plan" in text and 'method="post"' not in text
