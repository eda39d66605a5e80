"""A channel source's secrets and Test connection, through HTTP and the CLI, against the fakes.

Secrets are revealed only by an admin's POST (CSRF-checked), every reveal/set/rotation lands in
the audit log, rotating Telegram's secret registers the webhook again (``setWebhook`` with the
new ``secret_token``), and the check reports what the platform itself says: the bot behind the
token, the URL it delivers to, and its last delivery error.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import requests
from sqlalchemy import select

from ..conftest import Console
from .conftest import make_channel_source, stored_credentials, webhook_url
from .fakes import TELEGRAM_TOKEN, VIBER_TOKEN, telegram_update
from .payloads import TEXT

WRONG_TOKEN = "654321:ZZZ-DEF1234ghIkl-zyx57W2v1u123ew99"


def audit(app: Any, source_id: int) -> list[tuple[str | None, str, dict[str, Any]]]:
    from gincore_chats.models import AuditEntry

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            rows = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.target_type == "source", AuditEntry.target_id == str(source_id))
                .order_by(AuditEntry.id)
            )
            return [(r.manager_id, r.action, dict(r.details)) for r in rows]
        finally:
            session.remove()


def page_of(admin: Console, source_id: int) -> str:
    r = admin.http.get(f"{admin.server.url}/chats/settings/channels/{source_id}")
    assert r.status_code == 200, r.text[:300]
    return r.text


def flashes(html: str) -> str:
    found = re.search(r'<div class="gc-flash" role="status">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""


def reveal(console: Console, source_id: int, name: str, csrf: str | None = "") -> Any:
    url = f"{console.server.url}/chats/settings/channels/{source_id}/connection/secrets/{name}"
    headers = {"Accept": "application/json"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf or console.csrf
    return console.http.post(f"{url}/reveal", headers=headers, allow_redirects=False)


def change(console: Console, source_id: int, name: str, **form: str) -> requests.Response:
    url = f"{console.server.url}/chats/settings/channels/{source_id}/connection/secrets/{name}"
    return console.http.post(url, data={"csrf_token": console.csrf, **form})


def deliver(url: str, secret: str, update_id: int) -> int:
    update = copy.deepcopy(TEXT)
    update["update_id"] = update_id
    return telegram_update(url, update, secret).status_code


def test_telegram_secret_is_revealed_rotated_and_set_by_admins_only(
    app, live_server, channels, admin_id, manager_id, fake_telegram
):
    source_id, key = make_channel_source(app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [])
    hook = webhook_url(live_server, key)
    first = stored_credentials(app, source_id)["webhook_secret"]
    admin, manager = Console(live_server, admin_id), Console(live_server, manager_id)

    html = page_of(admin, source_id)
    assert first not in html and TELEGRAM_TOKEN not in html  # nothing secret before a reveal
    assert 'id="secret-webhook_secret"' in html and ">Reveal</button>" in html
    assert "Webhook secret (Telegram sends it in X-Telegram-Bot-Api-Secret-Token)" in html

    # Not without the CSRF token, not for a manager, not for a name the source has not.
    assert reveal(admin, source_id, "webhook_secret", csrf=None).status_code == 400
    assert reveal(manager, source_id, "webhook_secret").status_code == 403
    assert reveal(admin, source_id, "bot_token").status_code == 404
    assert audit(app, source_id) == []

    r = reveal(admin, source_id, "webhook_secret")
    assert r.status_code == 200 and r.json() == {"name": "webhook_secret", "value": first}
    assert r.headers["Cache-Control"] == "no-store"
    # Without JavaScript the form opens a page with the value.
    url = f"{live_server.url}/chats/settings/channels/{source_id}/connection/secrets"
    plain = admin.http.post(f"{url}/webhook_secret/reveal", data={"csrf_token": admin.csrf})
    assert plain.status_code == 200 and f'value="{first}"' in plain.text

    # Rotation: a new secret, registered with Telegram at once; the old one is refused.
    r = change(admin, source_id, "webhook_secret", action="rotate")
    assert r.status_code == 200
    assert "was rotated and the webhook registered again" in flashes(r.text)
    second = stored_credentials(app, source_id)["webhook_secret"]
    assert second != first and len(second) >= 32
    assert fake_telegram.webhook is not None
    assert (fake_telegram.webhook["url"], fake_telegram.webhook["secret_token"]) == (hook, second)
    assert deliver(hook, first, 815600001) == 403
    assert deliver(hook, second, 815600002) == 200

    # Setting one: the platform's rules and ours are checked, nothing changes on a refusal.
    r = change(admin, source_id, "webhook_secret", action="set", value="short")
    assert "Not changed: Use at least 16 characters" in flashes(r.text)
    r = change(admin, source_id, "webhook_secret", action="set", value="has spaces in it, see")
    assert "Not changed: Telegram accepts only the letters" in flashes(r.text)
    assert stored_credentials(app, source_id)["webhook_secret"] == second
    mine = "proxy-checks_this-secret-0123456789"
    r = change(admin, source_id, "webhook_secret", action="set", value=mine)
    assert "was saved and the webhook registered again" in flashes(r.text)
    assert fake_telegram.webhook["secret_token"] == mine
    assert deliver(hook, mine, 815600003) == 200
    assert change(manager, source_id, "webhook_secret", action="rotate").status_code == 403
    no_csrf = admin.http.post(f"{url}/webhook_secret", data={"action": "rotate"})
    assert no_csrf.status_code == 400
    assert stored_credentials(app, source_id)["webhook_secret"] == mine

    # Telegram refusing the new registration: stored, said plainly, logged as failed.
    refusal = {"ok": False, "error_code": 400, "description": "Bad Request: bad webhook"}
    fake_telegram.fail_next("setWebhook", 400, refusal)
    r = change(admin, source_id, "webhook_secret", action="rotate")
    assert "registering the webhook failed: Telegram refused: Bad Request: bad webhook" in (
        flashes(r.text)
    )

    log = audit(app, source_id)
    assert [action for _, action, _ in log] == [
        "source.secret.revealed",
        "source.secret.revealed",
        "source.secret.rotated",
        "source.webhook.registered",
        "source.secret.set",
        "source.webhook.registered",
        "source.secret.rotated",
        "source.webhook.registered",
    ]
    assert {who for who, _, _ in log} == {admin_id}
    assert log[0][2] == {"secret": "webhook_secret", "empty": False}
    assert log[3][2] == {"url": hook, "ok": True, "error": None}
    assert log[-1][2]["ok"] is False and "bad webhook" in log[-1][2]["error"]
    assert not any(first in str(d) or second in str(d) or mine in str(d) for _, _, d in log)


def test_meta_verify_token_is_shown_on_request_and_rotated(app, live_server, channels, admin_id):
    creds = {
        "page_access_token": "EAAGtestToken123",
        "app_secret": "test_app_secret",
        "page_id": "106540352242922",
    }
    source_id, key = make_channel_source(app, "messenger", creds, [])
    token = stored_credentials(app, source_id)["verify_token"]
    admin = Console(live_server, admin_id)
    html = page_of(admin, source_id)
    assert token not in html and "test_app_secret" not in html
    assert "App secret (checks the X-Hub-Signature-256 of every delivery)" in html
    assert reveal(admin, source_id, "verify_token").json()["value"] == token
    assert reveal(admin, source_id, "app_secret").json()["value"] == "test_app_secret"

    r = change(admin, source_id, "verify_token", action="rotate")
    assert "Enter the new one in the Meta App Dashboard" in flashes(r.text)
    new = stored_credentials(app, source_id)["verify_token"]
    hook = webhook_url(live_server, key)

    def handshake(verify_token: str) -> requests.Response:
        query = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": "42"}
        return requests.get(hook, params=query, timeout=10)

    assert handshake(token).status_code == 403
    r = handshake(new)
    assert r.status_code == 200 and r.text == "42"
    # The app secret is Meta's: set, never rotated here.
    r = change(admin, source_id, "app_secret", action="rotate")
    assert "comes from Facebook Messenger: enter the new one instead" in flashes(r.text)
    r = change(admin, source_id, "app_secret", action="set", value="new_app_secret_from_meta")
    assert "The app secret was saved" in flashes(r.text)
    assert stored_credentials(app, source_id)["app_secret"] == "new_app_secret_from_meta"


def check_cli(app: Any, source_id: int) -> Any:
    return app.test_cli_runner().invoke(args=["chats", "check-source", str(source_id)])


def test_check_source_reports_token_webhook_and_last_error(
    app, live_server, channels, admin_id, fake_telegram
):
    source_id, key = make_channel_source(app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [])
    hook = webhook_url(live_server, key)

    result = check_cli(app, source_id)
    assert result.exit_code == 1, result.output
    assert f"Source {source_id}: Bot (telegram)" in result.output
    assert "Account: @acme_support_bot (Acme Support)" in result.output
    assert (
        "PROBLEM: Telegram has no webhook registered for this bot: "
        f"press Connect to register {hook}."
    ) in result.output

    assert app.test_cli_runner().invoke(args=["chats", "connect", str(source_id)]).exit_code == 0
    result = check_cli(app, source_id)
    assert result.exit_code == 0, result.output
    assert f"Platform's webhook URL: {hook}" in result.output
    assert "Pending updates: 0" in result.output
    assert "OK: the platform accepts the credentials and delivers to this source." in result.output

    # Telegram's own report of failing deliveries (a proxy answering 502).
    fake_telegram.webhook_status = {
        "pending_update_count": 3,
        "last_error_date": 1764770400,
        "last_error_message": "Wrong response from the webhook: 502 Bad Gateway",
    }
    result = check_cli(app, source_id)
    assert result.exit_code == 1
    assert (
        "PROBLEM: Telegram's last delivery to the webhook failed at 2025-12-03 14:00:00 UTC: "
        "Wrong response from the webhook: 502 Bad Gateway. 3 updates are waiting"
    ) in result.output

    # Another system took the bot over.
    fake_telegram.webhook_status = {"pending_update_count": 0}
    fake_telegram.webhook = {**(fake_telegram.webhook or {}), "url": "https://old.example/tg"}
    result = check_cli(app, source_id)
    assert result.exit_code == 1
    assert (
        f"PROBLEM: Telegram delivers to https://old.example/tg, not to this source's webhook "
        f"URL {hook}: press Connect"
    ) in result.output

    # The Test connection button says the same on the page, for admins only.
    admin = Console(live_server, admin_id)
    check_url = f"{live_server.url}/chats/settings/channels/{source_id}/connection/check"
    assert admin.http.post(check_url, data={}).status_code == 400  # no CSRF token
    r = admin.http.post(check_url, data={"csrf_token": admin.csrf})
    assert r.status_code == 200 and r.url.endswith("#connection-check")
    assert "1 problem found:" in r.text and "delivers to https://old.example/tg" in r.text
    assert "@acme_support_bot (Acme Support)" in r.text
    answer = admin.http.post(
        check_url, headers={"X-CSRF-Token": admin.csrf, "Accept": "application/json"}
    ).json()
    assert answer["ok"] is False and answer["webhook_url"] == "https://old.example/tg"

    # A token Telegram does not know.
    bad_id, _ = make_channel_source(app, "telegram", {"bot_token": WRONG_TOKEN}, [], name="Old")
    result = check_cli(app, bad_id)
    assert result.exit_code == 1
    assert "PROBLEM: Telegram refused the bot token (Unauthorized): copy it again from" in (
        result.output
    )
    assert "Account: unknown" in result.output and WRONG_TOKEN not in result.output
    assert check_cli(app, 999999).output.strip() == "Error: There is no channel source 999999."


def test_viber_auth_token_set_registers_again_and_check_says_why(
    app, live_server, channels, admin_id, manager_id, fake_viber
):
    source_id, key = make_channel_source(app, "viber", {"auth_token": VIBER_TOKEN}, [])
    hook = webhook_url(live_server, key)
    admin = Console(live_server, admin_id)
    result = check_cli(app, source_id)
    assert "Account: Acme Support (viber://pa?chatURI=acmesupport)" in result.output
    assert "Subscribers: 35" in result.output
    assert "PROBLEM: Viber has no webhook registered" in result.output

    r = change(admin, source_id, "auth_token", action="set", value="445da6az1s345z78-wrong")
    assert "registering the webhook failed: Viber refused: Viber: invalidAuthToken (status 2)" in (
        flashes(r.text)
    )
    result = check_cli(app, source_id)
    assert "PROBLEM: Viber refused the auth token (Viber: invalidAuthToken (status 2))" in (
        result.output
    )
    r = change(admin, source_id, "auth_token", action="set", value=VIBER_TOKEN)
    assert "The auth token was saved and the webhook registered again." in flashes(r.text)
    assert fake_viber.webhook_url == hook
    result = check_cli(app, source_id)
    assert result.exit_code == 0, result.output
    assert f"Platform's webhook URL: {hook}" in result.output
    manager = Console(live_server, manager_id)
    check_url = f"{live_server.url}/chats/settings/channels/{source_id}/connection/check"
    assert manager.http.post(check_url, data={"csrf_token": manager.csrf}).status_code == 403
