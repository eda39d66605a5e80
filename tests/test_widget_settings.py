"""Admin pages for a widget source's texts and consent, and what the widget API makes of them."""

from __future__ import annotations

import dataclasses
import re

import pytest

from .conftest import ALL_PERMS, Console, Visitor, create_source, make_staff


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "settings forms carry a CSRF token"
    return match.group(1)


@pytest.fixture
def shop(app, live_server, admin_id, manager_id):
    source_id, key = create_source(app, ["shop.example.com"], [manager_id])
    admin = Console(live_server, admin_id)
    base = f"{live_server.url}/chats/settings/sources/{source_id}/widget"
    token = form_token(admin.http.get(base).text)
    return source_id, key, admin, base, token


def catalog(app, key, language):
    from gincore_chats.services.widget import texts as widget_texts

    with app.test_request_context():
        return widget_texts.catalog_text(key, language)


def test_only_admins_see_the_pages(app, live_server, shop):
    _source_id, _key, _admin, base, _token = shop
    worker = make_staff(app, "Wes Worker", ALL_PERMS)
    r = Console(live_server, worker).http.get(base)
    assert r.status_code == 403
    import requests

    r = requests.get(base, allow_redirects=False)
    assert r.status_code == 401  # the test host has no login view
    r = requests.post(f"{base}/consent", data={"privacy_url": ""}, allow_redirects=False)
    assert r.status_code == 401


def test_the_source_page_links_to_the_widget_page(live_server, shop):
    source_id, _key, admin, _base, _token = shop
    page = admin.http.get(f"{live_server.url}/chats/settings/sources/{source_id}").text
    assert f'href="/chats/settings/sources/{source_id}/widget"' in page


def test_languages_are_listed_with_the_catalog_ones(shop):
    _source_id, _key, admin, base, _token = shop
    page = admin.http.get(base).text
    for name, tag in [("English", "en"), ("Ukrainian", "uk"), ("Portuguese (Brazil)", "pt-br")]:
        assert f'/widget/texts/{tag}">{name}</a>' in page
    assert "Required before the first message" in page


def test_an_override_wins_over_the_catalog_and_an_empty_text_restores_it(app, shop, live_server):
    _source_id, key, admin, base, token = shop
    page = admin.http.get(f"{base}/texts/uk").text
    # Each field shows the catalog's wording as its placeholder and as the default.
    assert f'placeholder="{catalog(app, "title", "uk")}"' in page
    r = admin.http.post(
        f"{base}/texts/uk", data={"csrf_token": token, "text_title": "  Питайте!  "}
    )
    assert r.status_code == 200 and "Saved 1 text for Ukrainian (uk)." in r.text
    assert 'value="Питайте!"' in r.text

    visitor = Visitor(live_server, key)
    data = visitor.open(languages=["uk-UA", "en"]).json()
    assert data["language"] == "uk"
    assert data["texts"]["title"] == "Питайте!"
    assert data["texts"]["send"] == catalog(app, "send", "uk")

    r = admin.http.post(f"{base}/texts/uk", data={"csrf_token": token, "text_title": ""})
    assert "Ukrainian (uk) uses the catalog&#39;s texts again." in r.text
    data = Visitor(live_server, key).open(languages=["uk"]).json()
    assert data["texts"]["title"] == catalog(app, "title", "uk")


def test_a_text_too_long_is_refused_and_nothing_is_saved(shop):
    _source_id, _key, admin, base, token = shop
    r = admin.http.post(
        f"{base}/texts/de",
        data={"csrf_token": token, "text_send": "Los", "text_title": "x" * 2001},
    )
    assert r.status_code == 400 and "too long" in r.text
    assert 'value="Los"' in r.text  # the admin's input is kept
    assert "Saved" not in admin.http.get(f"{base}/texts/de").text


def test_adding_a_language_the_catalog_lacks(app, live_server, shop):
    _source_id, key, admin, base, token = shop
    r = admin.http.post(f"{base}/languages", data={"csrf_token": token, "language": "Dutch!"})
    assert r.status_code == 400 and "is not a language tag" in r.text
    r = admin.http.post(f"{base}/languages", data={"csrf_token": token, "language": "NL"})
    assert r.url.endswith("/widget/texts/nl")
    assert "The catalogs have no Dutch" in r.text
    # Not offered to visitors until a text exists.
    assert Visitor(live_server, key).open(languages=["nl-NL"]).json()["language"] == "en"

    r = admin.http.post(
        f"{base}/texts/nl", data={"csrf_token": token, "text_title": "Chat met ons"}
    )
    assert "Saved 1 text for Dutch (nl)." in r.text
    assert "no (yours only)" in admin.http.get(base).text
    data = Visitor(live_server, key).open(languages=["nl-NL", "de"]).json()
    assert data["language"] == "nl"
    assert data["texts"]["title"] == "Chat met ons"
    assert data["texts"]["send"] == "Send"  # English where the admin wrote nothing

    r = admin.http.post(f"{base}/texts/nl", data={"csrf_token": token, "reset": "1"})
    assert "visitors are not offered this language" in r.text
    assert Visitor(live_server, key).open(languages=["nl"]).json()["language"] == "en"


def test_consent_options_are_enforced_and_the_shown_text_recorded(app, live_server, shop):
    _source_id, key, admin, base, token = shop
    r = admin.http.post(
        f"{base}/consent",
        data={"csrf_token": token, "consent_mode": "required", "privacy_url": "ftp://x"},
    )
    assert r.status_code == 400 and "must be a full http:// or https:// address" in r.text
    # What was chosen stays chosen on the refused form.
    assert 'value="required" checked' in r.text
    r = admin.http.post(
        f"{base}/consent", data={"csrf_token": token, "consent_mode": "maybe", "privacy_url": ""}
    )
    assert r.status_code == 400 and "Choose one of the consent options" in r.text
    r = admin.http.post(
        f"{base}/consent",
        data={
            "csrf_token": token,
            "consent_mode": "required",
            "privacy_url": "https://shop.example.com/privacy",
        },
    )
    assert "Consent options saved." in r.text

    visitor = Visitor(live_server, key)
    data = visitor.open(languages=["pl-PL"]).json()
    assert data["consent"] == {
        "mode": "required",
        "required": True,
        "privacy_url": "https://shop.example.com/privacy",
    }
    assert data["contact"]["consent"] is False
    r = visitor.send("Dzień dobry")
    assert r.status_code == 400 and r.json()["code"] == "consent_required"
    assert r.json()["error"] == catalog(app, "consent_required", "pl")

    r = visitor.api("PATCH", "/contact", {"consent": True})
    assert r.json()["contact"]["consent"] is True
    assert visitor.send("Dzień dobry").status_code == 201
    console = Console(live_server, admin.id)
    detail = console.api("GET", f"/conversations/{data['conversation_id']}").json()
    assert detail["contact"]["consent_text"] == catalog(app, "consent", "pl")
    assert detail["contact"]["consent_at"]

    # A notice only: said, not asked; a new visitor may write at once.
    admin.http.post(
        f"{base}/consent", data={"csrf_token": token, "consent_mode": "notice", "privacy_url": ""}
    )
    other = Visitor(live_server, key)
    assert other.open().json()["consent"] == {
        "mode": "notice",
        "required": False,
        "privacy_url": None,
    }
    assert other.send("Hi").status_code == 201


def test_sources_saved_before_the_modes_keep_their_consent(app, live_server, shop):
    """``consent_required: true`` from an older release still gates; without it, nothing."""
    from .e2e.widget_support import set_source_settings

    source_id, key, _admin, _base, _token = shop
    set_source_settings(app, source_id, consent_required=True)
    visitor = Visitor(live_server, key)
    assert visitor.open().json()["consent"]["mode"] == "required"
    assert visitor.send("Hi").status_code == 400
    set_source_settings(app, source_id, consent_required=False)
    assert Visitor(live_server, key).open().json()["consent"]["mode"] == "off"


def test_rate_limit_messages_are_in_the_visitors_language(
    app, live_server, manager_id, monkeypatch
):
    from gincore_chats.rate_limit import parse

    state = app.extensions["gincore_chats"]
    limits = {"rate_limit_conversations": parse("1/hour"), "rate_limit_messages": parse("1/minute")}
    monkeypatch.setattr(state, "config", dataclasses.replace(state.config, **limits))
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    original = visitor.headers
    # The host's request locale (Accept-Language here) does not decide: the widget's language does.
    visitor.headers = lambda: {**original(), "Accept-Language": "de"}
    visitor.open(languages=["uk-UA"])
    assert visitor.send("раз").status_code == 201
    r = visitor.send("два")
    assert r.status_code == 429
    assert r.json()["error"] == "Ви надсилаєте повідомлення надто швидко. Зачекайте хвилинку."
    r = Visitor(live_server, key).open(languages=["tr-TR"])
    assert r.status_code == 429
    with app.test_request_context():
        from flask_babel import force_locale

        from gincore_chats.babel import _

        with force_locale("tr"):
            expected = _("Too many new chats from your network. Please try again later.")
    assert r.json()["error"] == expected and expected.startswith("Ağınızdan")  # noqa: RUF001
