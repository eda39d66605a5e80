"""Notification controls and the push service worker in Chromium.

Chromium here has no push service to subscribe with (no network), so the test drives what a
browser does on its own: the console's email switch, the service worker's registration at the
console's scope (refused by the browser without the ``Service-Worker-Allowed`` header), and a
push delivered to that worker through the DevTools protocol, which must show one notification
per conversation.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import create_source, make_staff
from .conftest import BrowserSide

pytestmark = pytest.mark.e2e


def test_console_registers_the_worker_and_it_shows_pushes(
    app: Any, live_server: Any, chats_url: str, open_browser: Any
) -> None:
    from gincore_chats.models import ManagerProfile
    from gincore_chats.services.notifications import web_push
    from gincore_chats.services.unit_of_work import unit_of_work

    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        web_push.do_create_keys(state, "mailto:ops@shop.example")
    manager_id = make_staff(app, "Mia", "chats.view,chats.reply", email="mia@shop.example")
    create_source(app, ["shop.example.com"], [manager_id])

    side: BrowserSide = open_browser()
    side.context.grant_permissions(["notifications"], origin=chats_url)
    page = side.page
    page.goto(f"{chats_url}/test-login/{manager_id}?next=/chats/console")
    expect(page.get_by_role("button", name="Enable notifications")).to_be_visible()

    switch = page.get_by_role("checkbox", name="Email me about unread chats")
    expect(switch).to_be_checked()
    switch.uncheck()
    expect(page.locator("#gc-notify-status")).to_have_text("Unread-chat emails are off.")
    with app.app_context():
        assert state.session.get(ManagerProfile, manager_id).email_notifications is False
        state.session.remove()

    # What "Enable notifications" registers: the worker at <prefix>/console/sw.js controlling
    # <prefix>/console, which the browser allows only because of Service-Worker-Allowed.
    scope = page.evaluate(
        """async () => {
            const reg = await navigator.serviceWorker.register(
                "/chats/console/sw.js", {scope: "/chats/console"});
            await navigator.serviceWorker.ready;
            return reg.scope;
        }"""
    )
    assert scope == f"{chats_url}/chats/console"

    cdp = side.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")  # reports the existing registrations as events
    for _ in range(100):
        found = [r for r in registrations if r["scopeURL"] == scope and not r["isDeleted"]]
        if found:
            break
        page.wait_for_timeout(50)
    registration = found[0]

    def deliver(payload: dict[str, Any]) -> None:
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": chats_url,
                "registrationId": registration["registrationId"],
                "data": json.dumps(payload),
            },
        )

    for body in ("Hello", "Hello?"):
        deliver(
            {
                "title": "New message from Olena",
                "body": body,
                "url": "/chats/console?c=7",
                "tag": "gincore-chats-7",
                "conversation_id": 7,
            }
        )
    deliver({"title": "New chat from Petro", "body": "Hi", "tag": "gincore-chats-8"})
    shown = page.wait_for_function(
        """async () => {
            const reg = await navigator.serviceWorker.getRegistration("/chats/console");
            const list = await reg.getNotifications();
            return list.length === 2 && list.map(n => [n.tag, n.title, n.body]);
        }"""
    ).json_value()
    # One notification per conversation: the second push to chat 7 replaced the first.
    assert sorted(shown) == [
        ["gincore-chats-7", "New message from Olena", "Hello?"],
        ["gincore-chats-8", "New chat from Petro", "Hi"],
    ]
