"""Admin settings pages: create a widget source, domains, employees, snippet; admin only."""

from __future__ import annotations

import re

from .conftest import ALL_PERMS, Console, make_staff


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "settings forms carry a CSRF token"
    return match.group(1)


def test_admin_creates_a_widget_source_and_assigns_employees(
    app, live_server, admin_id, manager_id
):
    Console(live_server, manager_id)  # the manager opened the console once: now a candidate
    Console(live_server, manager_id).http.get(f"{live_server.url}/chats/console")
    admin = Console(live_server, admin_id)
    page = admin.http.get(f"{live_server.url}/chats/settings")
    assert page.status_code == 200 and "New website widget" in page.text
    token = form_token(page.text)

    r = admin.http.post(
        f"{live_server.url}/chats/settings/sources",
        data={
            "csrf_token": token,
            "name": "Main shop",
            "domains": "https://shop.example.com/\n*.brand.example",
        },
    )
    assert r.status_code == 200 and "Main shop" in r.text, r.text[:500]
    assert "shop.example.com" in r.text and "*.brand.example" in r.text
    snippet = re.search(
        r"&lt;script src=&#34;(.+?)&#34; data-key=&#34;(.+?)&#34; async&gt;&lt;/script&gt;", r.text
    )
    assert snippet and snippet.group(1).endswith("/chats/widget.js")
    assert "Mia Manager" in r.text  # listed as a candidate employee

    source_url = r.url
    r = admin.http.post(
        source_url,
        data={
            "csrf_token": token,
            "name": "Main shop",
            "domains": "shop.example.com",
            "active": "on",
            "employees": [manager_id],
        },
    )
    assert r.status_code == 200 and "Saved." in r.text
    with app.app_context():
        from gincore_chats.models import Source

        source = app.extensions["gincore_chats"].session.query(Source).one()
        assert source.allowed_domains == ["shop.example.com"]
        assert source.employee_ids == {manager_id}
        assert source.public_key == snippet.group(2)


def test_bad_domains_are_refused_and_nothing_is_stored(app, live_server, admin_id):
    admin = Console(live_server, admin_id)
    token = form_token(admin.http.get(f"{live_server.url}/chats/settings").text)
    r = admin.http.post(
        f"{live_server.url}/chats/settings/sources",
        data={"csrf_token": token, "name": "X", "domains": "not a domain!"},
    )
    assert r.status_code == 400 and "is not a domain" in r.text
    assert 'value="X"' in r.text  # what the admin typed is kept
    with app.app_context():
        from gincore_chats.models import Source

        assert app.extensions["gincore_chats"].session.query(Source).count() == 0


def test_settings_need_admin_and_csrf(app, live_server, admin_id):
    manager = Console(live_server, make_staff(app, "Non Admin", ALL_PERMS))
    assert manager.http.get(f"{live_server.url}/chats/settings").status_code == 403
    admin = Console(live_server, admin_id)
    r = admin.http.post(
        f"{live_server.url}/chats/settings/sources", data={"name": "X", "domains": "a.example"}
    )
    assert r.status_code == 400
    import requests

    assert requests.get(f"{live_server.url}/chats/settings").status_code == 401


def test_user_strings_are_escaped_in_settings(app, live_server, admin_id):
    admin = Console(live_server, admin_id)
    token = form_token(admin.http.get(f"{live_server.url}/chats/settings").text)
    r = admin.http.post(
        f"{live_server.url}/chats/settings/sources",
        data={"csrf_token": token, "name": "<script>alert(1)</script>", "domains": "a.example"},
    )
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
