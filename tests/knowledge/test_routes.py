"""Every knowledge-base route through HTTP: the admin pages (edit, publish, archive, merge,
split, options, import/export), the console API (suggestions, search, entry, used) and the
widget's suggestions; permissions on each."""

from __future__ import annotations

import json
from typing import Any

import requests

from ..conftest import Console, Visitor, make_staff
from .conftest import Kit


def entry_of(kit: Kit, entry_id: int) -> dict[str, Any]:
    return next(e for e in kit.export() if e["id"] == entry_id)


def test_admin_creates_edits_publishes_and_archives(kit: Kit):
    page = kit.settings("GET", "/new")
    assert page.status_code == 200 and 'name="question"' in page.text
    entry_id = kit.create(
        "Do you ship to Poland?",
        "Yes: <b>5 days</b>, see <a href='https://shop.example.com/ship'>shipping</a>.",
        publish=False,
        alternatives="Can you deliver to Warsaw?\nDo you ship to Poland?",
    )
    e = entry_of(kit, entry_id)
    assert e["status"] == "candidate" and e["origin"] == "manual"
    assert e["answer"] == "Yes: 5 days, see shipping (https://shop.example.com/ship)."
    assert e["phrasings"] == ["Can you deliver to Warsaw?"]  # the repeat of the question went
    r = kit.settings(
        "POST",
        f"/{entry_id}",
        data={
            "question": "Do you ship to Poland?",
            "answer": "Yes, within 5 days.",
            "language": "en",
            "alternatives": "Can you deliver to Warsaw?\nShipping to Krakow?",
            "scope": "some",
            "sources": [str(kit.source_id)],
            "publish": "1",
        },
    )
    assert r.status_code == 302
    e = entry_of(kit, entry_id)
    assert e["status"] == "published" and e["scope"] == [kit.source_id]
    assert e["phrasings"] == ["Can you deliver to Warsaw?", "Shipping to Krakow?"]
    assert (
        kit.settings("POST", f"/{entry_id}/status", data={"status": "archived"}).status_code == 302
    )
    assert entry_of(kit, entry_id)["status"] == "archived"
    listing = kit.settings("GET", "", params={"status": "archived", "q": "warsaw"})
    assert "Do you ship to Poland?" in listing.text
    assert "Do you ship" not in kit.settings("GET", "", params={"status": "published"}).text


def test_bad_input_is_refused_and_keeps_what_was_typed(kit: Kit):
    r = kit.settings(
        "POST", "/new", data={"question": "Why?", "answer": "", "language": "en", "publish": "1"}
    )
    assert r.status_code == 400 and "Write the answer before publishing" in r.text
    assert 'value="Why?"' in r.text
    r = kit.settings(
        "POST", "/new", data={"question": "A question", "answer": "x", "language": "english"}
    )
    assert r.status_code == 400 and "not a language code" in r.text
    r = kit.settings(
        "POST",
        "/new",
        data={"question": "A question", "answer": "x", "language": "en", "scope": "some"},
    )
    assert r.status_code == 400 and "Choose at least one source" in r.text
    assert kit.export() == []
    # CSRF: a form without the session's token changes nothing.
    r = kit.admin.http.post(
        f"{kit.server.url}/chats/settings/knowledge/new",
        data={"question": "Q?", "answer": "A", "language": "en"},
    )
    assert r.status_code == 400 and kit.export() == []


def test_merge_moves_phrasings_and_counts_and_split_undoes_it(kit: Kit):
    a = kit.create("How do I reset my password?", "Use Forgot password on the login page.")
    b = kit.create("I forgot my password", "Click the reset link.", publish=False)
    with kit.app.app_context():
        from gincore_chats.models import KnowledgeEntry

        session = kit.state.session
        session.get(KnowledgeEntry, a).asked_count = 4
        session.get(KnowledgeEntry, b).asked_count = 2
        session.commit()
    page = kit.settings("GET", f"/{b}")
    assert f'value="{a}"' in page.text  # offered as a merge target (similar question)
    r = kit.settings("POST", f"/{b}/merge", data={"into": str(a)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/knowledge/{a}")
    found = kit.export()
    assert [e["id"] for e in found] == [a]
    assert found[0]["asked_count"] == 6 and found[0]["phrasings"] == ["I forgot my password"]
    assert kit.settings("POST", f"/{a}/merge", data={"into": str(a)}).status_code == 400
    with kit.app.app_context():
        from gincore_chats.models import KnowledgePhrasing

        pid = (
            kit.state.session.query(KnowledgePhrasing)
            .filter_by(entry_id=a, canonical=False)
            .one()
            .id
        )
        canonical = (
            kit.state.session.query(KnowledgePhrasing)
            .filter_by(entry_id=a, canonical=True)
            .one()
            .id
        )
    assert kit.settings("POST", f"/{a}/phrasings/{canonical}/split").status_code == 400
    r = kit.settings("POST", f"/{a}/phrasings/{pid}/split")
    assert r.status_code == 302
    found = {e["question"]: e for e in kit.export()}
    assert found["I forgot my password"]["status"] == "candidate"
    assert found["How do I reset my password?"]["phrasings"] == []
    r = kit.settings("POST", f"/{a}/phrasings", data={"text": "Password reset"})
    assert r.status_code == 302 and entry_of(kit, a)["phrasings"] == ["Password reset"]
    assert (
        kit.settings("POST", f"/{a}/phrasings", data={"text": "password reset"}).status_code == 400
    )
    with kit.app.app_context():
        pid = (
            kit.state.session.query(KnowledgePhrasing)
            .filter_by(entry_id=a, canonical=False)
            .one()
            .id
        )
    assert kit.settings("POST", f"/{a}/phrasings/{pid}/delete").status_code == 302
    assert kit.settings("POST", f"/{a}/delete").status_code == 302
    assert [e["question"] for e in kit.export()] == ["I forgot my password"]
    assert kit.settings("GET", f"/{a}").status_code == 404


def test_import_export_round_trip(kit: Kit):
    kit.create(
        "How long does delivery take?",
        "=3-5 days (formulas are escaped)",
        alternatives="Delivery time?",
    )
    kit.create(
        "Скільки коштує доставка?",
        "70 грн, від 1500 грн безкоштовно.",
        language="uk",
        scope="some",
        sources=[kit.source_id],
    )
    kit.create("Можно ли вернуть товар?", "Да, в течение 14 дней.", language="ru", publish=False)
    before = sorted(kit.export(), key=lambda e: e["question"])
    csv_text = kit.settings("GET", "/export.csv").text
    assert "'=3-5 days" in csv_text  # a spreadsheet would run "=..." as a formula
    json_text = kit.settings("GET", "/export.json").text
    for fmt, body in (("csv", csv_text), ("json", json_text)):
        for e in kit.export():
            kit.settings("POST", f"/{e['id']}/delete")
        assert kit.export() == []
        r = kit.settings("POST", "/import", files={"file": (f"kb.{fmt}", body.encode())})
        assert r.status_code == 302
        after = sorted(kit.export(), key=lambda e: e["question"])
        strip = lambda rows: [{k: v for k, v in e.items() if k != "id"} for e in rows]  # noqa: E731
        assert strip(after) == strip(before), fmt
    # Updating by id; one bad row and nothing is imported.
    rows = json.loads(json_text)["entries"]
    rows[0]["answer"] = "Changed."
    rows[0]["id"] = kit.export()[0]["id"]
    rows.append({"language": "en", "question": "Bad row", "status": "shipped", "answer": "x"})
    r = kit.settings(
        "POST", "/import", files={"file": ("kb.json", json.dumps({"entries": rows}).encode())}
    )
    assert r.status_code == 302
    listing = kit.admin.http.get(kit.server.url + r.headers["Location"])
    assert "Nothing imported" in listing.text and "Entry 4: status must be one of" in listing.text
    assert "Changed." not in json.dumps(kit.export())
    r = kit.settings("POST", "/import", files={"file": ("kb.csv", b"\xff\xfe garbage")})
    assert "Nothing imported" in kit.admin.http.get(kit.server.url + r.headers["Location"]).text
    assert len(kit.export()) == 3


def test_options_validate_and_switch_the_widget(kit: Kit):
    bad = kit.settings(
        "POST",
        "/options",
        data={
            "grounded_threshold": "2",
            "merge_threshold": "0.6",
            "embedding_grounded_threshold": "0.7",
            "embedding_merge_threshold": "0.9",
        },
    )
    assert "Not saved" in kit.admin.http.get(kit.server.url + bad.headers["Location"]).text
    ok = kit.settings(
        "POST",
        "/options",
        data={
            "grounded_threshold": "0.5",
            "merge_threshold": "0.7",
            "embedding_grounded_threshold": "0.7",
            "embedding_merge_threshold": "0.9",
            "extract_on_close": "on",
            "widget_sources": [str(kit.source_id)],
        },
    )
    assert ok.status_code == 302
    page = kit.settings("GET", "").text
    assert (
        'value="0.5"' in page and f'name="widget_sources" value="{kit.source_id}" checked' in page
    )


def test_console_suggests_published_answers_for_the_latest_question(kit: Kit):
    published = kit.create(
        "How long does delivery take?", "Standard delivery takes 3-5 business days."
    )
    kit.create("How long does delivery to Mars take?", "Draft", publish=False)
    conv = kit.conversation([("c", "hi"), ("c", "how many days does delivery take?")], close=False)
    r = kit.manager.api("GET", f"/conversations/{conv}/suggestions")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["question"] == "hi\nhow many days does delivery take?"
    assert [m["entry_id"] for m in data["matches"]] == [published]
    assert data["matches"][0]["grounded"] is True
    found = kit.manager.api("GET", f"/kb/search?q=delivery&conversation_id={conv}").json()[
        "matches"
    ]
    assert [m["entry_id"] for m in found] == [published]
    assert (
        kit.manager.api("GET", f"/kb/entries/{published}")
        .json()["entry"]["answer"]
        .startswith("Standard")
    )
    used = kit.manager.api("POST", f"/kb/entries/{published}/used", {"conversation_id": conv})
    assert used.json() == {"counted": True, "asked_count": 1}
    again = kit.manager.api("POST", f"/kb/entries/{published}/used", {"conversation_id": conv})
    assert again.json() == {"counted": False, "asked_count": 1}
    # Nothing asked (or nothing that matches): no suggestions.
    quiet = kit.conversation([("c", "what is the meaning of life")], close=False)
    assert kit.manager.api("GET", f"/conversations/{quiet}/suggestions").json()["matches"] == []


def test_permissions(kit: Kit):
    published = kit.create("How long does delivery take?", "3-5 days.")
    candidate = kit.create("Draft question here?", "Draft.", publish=False)
    # Managers read published entries only and never reach the settings pages.
    assert kit.manager.api("GET", f"/kb/entries/{published}").status_code == 200
    assert kit.manager.api("GET", f"/kb/entries/{candidate}").status_code == 404
    assert kit.manager.http.get(f"{kit.server.url}/chats/settings/knowledge").status_code == 403
    r = kit.manager.http.post(
        f"{kit.server.url}/chats/settings/knowledge/{published}/status",
        data={"csrf_token": kit.manager.csrf, "status": "archived"},
    )
    assert r.status_code == 403 and entry_of(kit, published)["status"] == "published"
    assert (
        kit.manager.http.get(f"{kit.server.url}/chats/settings/knowledge/export.json").status_code
        == 403
    )
    # An entry scoped to another source is invisible to a manager not assigned to it.
    scoped = kit.create("Only for VIP shop?", "Yes.", scope="some", sources=[kit.source_id])
    outsider = Console(kit.server, make_staff(kit.app, "Otto Outsider", "chats.view,chats.reply"))
    assert outsider.api("GET", f"/kb/entries/{scoped}").status_code == 404
    assert outsider.api("GET", f"/kb/entries/{published}").status_code == 200
    assert scoped not in [
        m["entry_id"] for m in outsider.api("GET", "/kb/search?q=VIP shop").json()["matches"]
    ]
    conv = kit.conversation([("c", "how long is delivery")], close=False)
    assert outsider.api("GET", f"/conversations/{conv}/suggestions").status_code == 403
    # No chats.view at all; logged out.
    nobody = Console(kit.server, make_staff(kit.app, "Nora Nobody", ""))
    assert nobody.api("GET", f"/kb/entries/{published}").status_code == 403
    assert requests.get(f"{kit.server.url}/chats/console/api/kb/search?q=x").status_code == 401
    # used needs CSRF.
    r = kit.manager.http.post(
        f"{kit.server.url}/chats/console/api/kb/entries/{published}/used",
        json={"conversation_id": conv},
    )
    assert r.status_code == 400


def test_widget_suggestions_are_off_until_switched_on(kit: Kit):
    kit.create(
        "How long does delivery take?",
        "Standard delivery takes 3-5 business days, see https://shop.example.com/delivery.",
    )
    visitor = Visitor(kit.server, kit.key)
    opened = visitor.open()
    assert opened.json()["kb_suggestions"] is False
    off = visitor.api("GET", "/kb/suggestions?q=how long is delivery")
    assert off.status_code == 200 and off.json() == {"enabled": False, "matches": []}
    assert off.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    kit.settings(
        "POST",
        "/options",
        data={
            "grounded_threshold": "0.34",
            "merge_threshold": "0.62",
            "embedding_grounded_threshold": "0.75",
            "embedding_merge_threshold": "0.88",
            "widget_sources": [str(kit.source_id)],
        },
    )
    assert visitor.api("GET", "/conversation").json()["kb_suggestions"] is True
    on = visitor.api("GET", "/kb/suggestions?q=how long is delivery").json()
    assert [m["question"] for m in on["matches"]] == ["How long does delivery take?"]
    assert set(on["matches"][0]) == {"entry_id", "question", "answer"}
    assert visitor.api("GET", "/kb/suggestions?q=hi").json()["matches"] == []
    preflight = requests.options(
        f"{kit.server.url}/chats/widget/api/kb/suggestions",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert (
        preflight.status_code == 204 and "GET" in preflight.headers["Access-Control-Allow-Methods"]
    )
    # Another site, or no token: refused.
    stranger = Visitor(kit.server, kit.key, origin="https://evil.example.net")
    stranger.token = visitor.token
    assert stranger.api("GET", "/kb/suggestions?q=how long is delivery").status_code == 403
    assert (
        requests.get(
            f"{kit.server.url}/chats/widget/api/kb/suggestions?q=delivery",
            headers={"Origin": "https://shop.example.com"},
        ).status_code
        == 403
    )
