"""The settings pages and managers' emails in the manager's language (issue 16).

A staff page follows CHATS_CONSOLE_LOCALE, else the host's Flask-Babel locale selector, else the
browser's Accept-Language, else English; managers' emails, rendered by the worker without a
request, follow CHATS_CONSOLE_LOCALE (else BABEL_DEFAULT_LOCALE).
"""

# Ukrainian and Russian texts are meant to be Cyrillic, not look-alike Latin letters.
# ruff: noqa: RUF001
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from .conftest import Visitor, create_source


def admin_client(app: Any, admin_id: str) -> Any:
    client = app.test_client()
    assert client.get(f"/test-login/{admin_id}").status_code == 302
    return client


def settings_page(client: Any, language: str | None = None, path: str = "/chats/settings") -> str:
    headers = {"Accept-Language": language} if language else {}
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text[:500]
    return r.get_data(as_text=True)


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def host_selector(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Install a host locale selector (as a host with its own Flask-Babel set-up has one)."""

    def install(chosen: str) -> None:
        monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: chosen)

    return install


def test_a_german_browser_gets_the_settings_in_german(app, admin_id):
    html = settings_page(admin_client(app, admin_id), "de-DE,de;q=0.9,en;q=0.5")
    assert "Anfragequellen" in html and "Neues Website-Widget" in html
    assert "Inquiry sources" not in html
    assert '<html lang="de">' in html


def test_the_hosts_locale_selector_wins_over_the_browser(app, admin_id, host_selector):
    host_selector("uk")
    html = settings_page(admin_client(app, admin_id), "de")
    assert "Джерела звернень" in html
    assert "Anfragequellen" not in html


def test_chats_console_locale_pins_one_language(app, admin_id, host_selector, monkeypatch):
    monkeypatch.setitem(app.config, "CHATS_CONSOLE_LOCALE", "fr")
    host_selector("uk")
    html = settings_page(admin_client(app, admin_id), "de", "/chats/settings/labels")
    assert "Nouvelle étiquette" in html and "Aucune étiquette pour l’instant." in html


def test_a_language_without_a_catalog_falls_back_to_english(app, admin_id):
    html = settings_page(admin_client(app, admin_id), "nl-NL,nl;q=0.9")
    assert "Inquiry sources" in html and "New website widget" in html


def test_a_regional_catalog_wins_over_the_language(app, admin_id):
    html = settings_page(admin_client(app, admin_id), "pt-BR", "/chats/settings/labels")
    assert "Nova etiqueta" in html and "Cobrança" in html  # Brazilian, not European "Faturação"


def test_flash_and_form_errors_are_translated(app, admin_id):
    client = admin_client(app, admin_id)
    token = form_token(settings_page(client, "de", "/chats/settings/labels"))
    r = client.post(
        "/chats/settings/labels",
        data={"csrf_token": token, "name": "  ", "color": "#123456"},
        headers={"Accept-Language": "de"},
    )
    assert r.status_code == 400 and "Geben Sie dem Label einen Namen." in r.get_data(as_text=True)

    r = client.post(
        "/chats/settings/labels",
        data={"csrf_token": token, "name": "Rechnung", "color": "#123456"},
        headers={"Accept-Language": "de"},
        follow_redirects=True,
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Label „Rechnung“ erstellt." in html

    r = client.post(
        "/chats/settings/labels",
        data={"csrf_token": token, "name": "rechnung", "color": "#123456"},
        headers={"Accept-Language": "ru"},
    )
    assert "Метка «rechnung» уже существует." in r.get_data(as_text=True)


def test_widget_text_pages_name_languages_and_fields_in_the_managers_language(
    app, admin_id, manager_id
):
    source_id, _key = create_source(app, ["shop.example.com"], [manager_id], name="Laden")
    client = admin_client(app, admin_id)
    base = f"/chats/settings/sources/{source_id}/widget"
    html = settings_page(client, "de", f"{base}/texts/nl")
    # The language by its German name, the fields and their help lines from the catalog.
    assert "Niederländisch" in html and "Dutch" not in html
    assert "Consent notice" not in html and "In the empty message box." not in html
    token = form_token(html)
    r = client.post(
        f"{base}/texts/nl",
        data={"csrf_token": token, "text_title": "Chat met ons", "text_send": "Verstuur"},
        headers={"Accept-Language": "de"},
        follow_redirects=True,
    )
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "Saved 2 texts" not in text and "Niederländisch (nl)" in text
    r = client.post(
        f"{base}/languages",
        data={"csrf_token": token, "language": "Dutch!"},
        headers={"Accept-Language": "ru"},
    )
    assert r.status_code == 400 and "is not a language tag" not in r.get_data(as_text=True)


def test_a_refused_retention_policy_is_explained_in_the_managers_language(
    app, admin_id, manager_id
):
    source_id, _key = create_source(app, ["shop.example.com"], [manager_id], name="Laden")
    client = admin_client(app, admin_id)
    token = form_token(settings_page(client, "de", f"/chats/settings/sources/{source_id}"))
    r = client.post(
        f"/chats/settings/sources/{source_id}/retention",
        data={"csrf_token": token, "conversation_days": "tausend"},
        headers={"Accept-Language": "de"},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'value="tausend"' in html
    assert "A whole number of days" not in html and "3650" in html


def test_an_english_browser_keeps_the_english_wording(app, admin_id):
    client = admin_client(app, admin_id)
    token = form_token(settings_page(client, "en", "/chats/settings/labels"))
    r = client.post(
        "/chats/settings/labels",
        data={"csrf_token": token, "name": "Billing", "color": "#123456"},
        follow_redirects=True,
    )
    assert "Label “Billing” created." in r.get_data(as_text=True)


def test_dates_and_numbers_follow_the_locale(app, admin_id):
    from gincore_chats.services import audit_log
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            entry = audit_log.do_record(state, None, "retention.run", "system", 1)
            entry.created_at = datetime(2026, 12, 4, 14, 5, 9, tzinfo=UTC)
    client = admin_client(app, admin_id)
    html = settings_page(client, "de", "/chats/settings/audit")
    assert "Audit-Protokoll" in html and ">04.12.2026, 14:05:09</time>" in html
    html = settings_page(client, "en", "/chats/settings/audit")
    assert ">Dec 4, 2026, 2:05:09\u202fPM</time>" in html
    html = settings_page(client, "fr", "/chats/settings/audit")
    assert ">4 déc. 2026, 14:05:09</time>" in html


def test_an_employee_email_is_in_the_pinned_language(app, live_server, manager_id, monkeypatch):
    from gincore_chats.models import Conversation, Message
    from gincore_chats.services.notifications import alert_emails

    _source_id, key = create_source(app, ["shop.example.com"], [manager_id], name="Laden")
    visitor = Visitor(live_server, key)
    assert visitor.open().status_code == 201
    assert visitor.send("Hallo, ist jemand da?").status_code in (200, 201)

    monkeypatch.setitem(app.config, "CHATS_CONSOLE_LOCALE", "de")
    with app.app_context():
        session = app.extensions["gincore_chats"].session
        conv = session.query(Conversation).one()
        messages = session.query(Message).filter_by(conversation_id=conv.id).all()
        mail = alert_emails.employee_unread(conv, messages, "https://example.test/c/1")
    assert mail.subject.startswith("Ungelesener Chat von ")
    assert "1 ungelesene Nachricht von " in mail.text and "Chat öffnen" in mail.html
    assert '<html lang="de">' in mail.html
    assert "Hallo, ist jemand da?" in mail.html

    monkeypatch.setitem(app.config, "CHATS_CONSOLE_LOCALE", None)
    with app.app_context():
        session = app.extensions["gincore_chats"].session
        conv = session.query(Conversation).one()
        messages = session.query(Message).filter_by(conversation_id=conv.id).all()
        mail = alert_emails.employee_unread(conv, messages, "https://example.test/c/1")
    assert "unread message from" in mail.text and '<html lang="en">' in mail.html


@pytest.mark.parametrize("language", ["de", "ru", "pl", "tr", "pt-BR"])
def test_every_settings_page_renders_translated(app, admin_id, manager_id, language):
    source_id, _key = create_source(app, ["shop.example.com"], [manager_id], name="Laden")
    client = admin_client(app, admin_id)
    paths = [
        "/chats/settings",
        f"/chats/settings/sources/{source_id}",
        f"/chats/settings/sources/{source_id}/team",
        "/chats/settings/notifications",
        "/chats/settings/labels",
        "/chats/settings/canned",
        "/chats/settings/api-tokens",
        "/chats/settings/webhooks",
        "/chats/settings/audit",
        "/chats/settings/channels/new/telegram",
        "/chats/console/replies",
    ]
    for path in paths:
        html = settings_page(client, language, path)
        # The side navigation's "Settings" (or the replies page's title) is never English.
        assert "Inquiry sources" not in html and "Saved replies</h1>" not in html, path


def test_template_gettext_keeps_catalog_markup_and_escapes_values(app):
    """Like Jinja's own gettext: the catalog's text may hold tags, the values put in never do."""
    from jinja2 import Environment

    from gincore_chats.staff_language import template_gettext

    env = Environment(autoescape=True)
    env.globals["_"] = template_gettext
    page = env.from_string('{{ _("<strong>%(used)s</strong> used", used=value) }}')
    with app.test_request_context("/"):
        html = page.render(value="<script>alert(1)</script>")
    assert html == "<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong> used"
    plain = Environment(autoescape=False)
    plain.globals["_"] = template_gettext
    with app.test_request_context("/"):
        text = plain.from_string('{{ _("%(who)s & co", who=value) }}').render(value="A&B")
    assert text == "A&B & co"


# -- the scripts' texts (static/gincore_chats/texts.js, gincore_chats/script_texts.py) ----------


def page_texts_json(html: str) -> dict[str, Any]:
    import json

    match = re.search(r'<script type="application/json" id="gc-texts">(.*?)</script>', html, re.S)
    assert match, "the page carries no script texts"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def catalog(language: str) -> Any:
    from babel.support import Translations

    from gincore_chats.babel import TRANSLATIONS

    return Translations.load(TRANSLATIONS, [language], "gincore_chats")


def test_the_console_carries_its_scripts_texts_in_the_managers_language(app, manager_id):
    from gincore_chats.script_texts import script_messages

    client = app.test_client()
    assert client.get(f"/test-login/{manager_id}").status_code == 302
    html = settings_page(client, "de-DE,de;q=0.9", "/chats/console")
    data = page_texts_json(html)
    assert data["lang"] == "de" and '<html lang="de">' in html
    singles, pairs = script_messages()
    german = catalog("de")
    # The console's own words come from the scripts (embedded) or the template (rendered), in
    # the catalog's German either way.
    for word in ("Join", "Leave", "Live", "Conversation list"):
        assert word in singles or german.gettext(word) in html, word
    for message in singles:
        assert data["messages"].get(message, message) == german.gettext(message), message
    assert data["messages"].get("Live") not in (None, "Live")
    assert pairs, "no plural message in the scripts"
    for singular, plural in pairs:
        forms = data["plurals"].get(singular)
        assert forms == [german.ngettext(singular, plural, 1), german.ngettext(singular, plural, 2)]


def test_plural_forms_follow_the_language_rule(app, manager_id):
    client = app.test_client()
    assert client.get(f"/test-login/{manager_id}").status_code == 302
    data = page_texts_json(settings_page(client, "uk", "/chats/console"))
    index = data["pluralIndex"]
    # Ukrainian: 1, 21 -> one; 2-4, 22 -> few; 5-20, 11, 111 -> many
    # (above 199 the browser reads table[100 + n % 100]).
    assert [index[n] for n in (1, 21, 2, 4, 22, 5, 11, 20, 0)] == [0, 0, 1, 1, 1, 2, 2, 2, 2]
    assert index[100 + 111 % 100] == 2 and index[100 + 1001 % 100] == 0
    english = page_texts_json(settings_page(client, "en", "/chats/console"))
    assert english["messages"] == {} and english["plurals"] == {}
    assert [english["pluralIndex"][n] for n in (0, 1, 2)] == [1, 0, 1]


def test_a_translation_cannot_break_out_of_the_script_element(app, manager_id, monkeypatch):
    from gincore_chats import staff_language

    hostile = "</script><img src=x onerror=alert(1)>"
    monkeypatch.setattr(
        staff_language,
        "page_texts",
        lambda locale: {"lang": locale, "pluralIndex": [], "messages": {"Join": hostile}},
    )
    client = app.test_client()
    assert client.get(f"/test-login/{manager_id}").status_code == 302
    html = settings_page(client, "de", "/chats/console")
    assert hostile not in html and "<img src=x" not in html
    assert page_texts_json(html)["messages"]["Join"] == hostile
