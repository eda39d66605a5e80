"""Candidates from real conversations: closing one queues the extraction job (real RQ worker),
personal data never reaches a candidate, duplicates merge with counts, languages stay apart,
and the CLI mines history with a progress bar."""

from __future__ import annotations

import json

from .conftest import Kit, run_worker

PERSONAL = [
    "Olena Petrenko",
    "Olena",
    "Petrenko",
    "olena.petrenko@gmail.com",
    "+380 67 123 45 67",
    "0671234567",
    "4111 1111 1111 1111",
    "4111111111111111",
    "784512",
    "RR123456789UA",
    "abc123def456ghi789jkl",
    "Mia",
]


def seed_personal_history(kit: Kit) -> int:
    return kit.conversation(
        [
            ("c", "Hi! I'm Olena Petrenko, my email is olena.petrenko@gmail.com"),
            (
                "c",
                "How can I change the delivery address for order 784512? Call me on +380 67 123 45 67",
            ),
            ("m", "Hello Olena! One moment please"),
            (
                "m",
                "You can change the delivery address in your account under Orders until the parcel ships. "
                "Tracking RR123456789UA. Best regards, Mia",
            ),
            (
                "c",
                "Thanks! And can I pay with card 4111 1111 1111 1111 on delivery? My number is 0671234567",
            ),
            (
                "m",
                "Yes, courier accepts card payments on delivery. Reset your password with "
                "https://shop.example.com/reset?token=abc123def456ghi789jkl if you cannot log in.",
            ),
            ("c", "great, thank you"),
        ],
        name="Olena Petrenko",
        email="olena.petrenko@gmail.com",
    )


def test_closing_a_conversation_proposes_candidates_without_personal_data(kit: Kit):
    conv_id = seed_personal_history(kit)
    run_worker(kit.app)
    found = kit.export()
    assert len(found) == 2, found
    questions = sorted(e["question"] for e in found)
    assert "change the delivery address" in questions[0]
    assert all(e["status"] == "candidate" and e["origin"] == "extracted" for e in found)
    assert all(e["language"] == "en" for e in found)
    dumped = json.dumps(found, ensure_ascii=False)
    leaked = [p for p in PERSONAL if p.lower() in dumped.lower()]
    assert not leaked, dumped
    assert "[number]" in dumped and "[phone]" in dumped
    # The plain link to the shop's pages would stay; the reset link carried a token.
    assert "[link]" in dumped
    # Each candidate links back to the conversation it came from (the admin page).
    page = kit.settings("GET", f"/{found[0]['id']}")
    assert page.status_code == 200 and f"?c={conv_id}" in page.text
    # Closing again without new messages proposes nothing new.
    kit.manager.api("POST", f"/conversations/{conv_id}/status", {"status": "open"})
    kit.manager.api("POST", f"/conversations/{conv_id}/status", {"status": "closed"})
    run_worker(kit.app)
    assert len(kit.export()) == 2


def test_duplicates_merge_into_one_entry_and_count(kit: Kit):
    answer = "Delivery within Kyiv takes one business day; other cities take two to three."
    for question in (
        "How long does delivery to Kyiv take?",
        "how long does the delivery take to Kyiv??",
        "How long will delivery to Kyiv take",
    ):
        kit.conversation([("c", question), ("m", answer)])
    run_worker(kit.app)
    found = kit.export()
    assert len(found) == 1, found
    entry = found[0]
    assert entry["asked_count"] == 3
    assert len(entry["phrasings"]) == 2  # the first asking is the question itself
    listing = kit.settings("GET", "", params={"status": "candidate"})
    assert "How long does delivery to Kyiv take?" in listing.text and "<td>3</td>" in listing.text


def test_languages_stay_apart(kit: Kit):
    kit.conversation(
        [
            ("c", "Скільки коштує доставка по Україні?"),
            ("m", "Доставка по Україні коштує 70 гривень, від 1000 гривень безкоштовно."),
        ],
        language="uk",
    )
    kit.conversation(
        [
            ("c", "Сколько стоит доставка по Украине?"),
            ("m", "Доставка по Украине стоит 70 гривен, от 1000 гривен бесплатно."),
        ],
        language="ru",
    )
    run_worker(kit.app)
    found = {e["language"]: e for e in kit.export()}
    assert set(found) == {"uk", "ru"}
    assert found["uk"]["asked_count"] == found["ru"]["asked_count"] == 1
    assert "Скільки" in found["uk"]["question"] and "Сколько" in found["ru"]["question"]


def test_extraction_can_be_switched_off(kit: Kit):
    r = kit.settings(
        "POST",
        "/options",
        data={
            "grounded_threshold": "0.42",
            "merge_threshold": "0.62",
            "embedding_grounded_threshold": "0.75",
            "embedding_merge_threshold": "0.88",
        },
    )
    assert r.status_code == 302
    kit.conversation(
        [("c", "Do you ship to Poland?"), ("m", "Yes, we ship to Poland within five days.")]
    )
    run_worker(kit.app)
    assert kit.export() == []


def test_cli_mines_history_with_progress(kit: Kit):
    kit.settings(
        "POST",
        "/options",
        data={
            "grounded_threshold": "0.42",
            "merge_threshold": "0.62",
            "embedding_grounded_threshold": "0.75",
            "embedding_merge_threshold": "0.88",
        },
    )
    kit.conversation(
        [("c", "Do you ship to Poland?"), ("m", "Yes, we ship to Poland within five days.")]
    )
    kit.conversation(
        [
            ("c", "Can I return shoes after 14 days?"),
            ("m", "Returns are accepted within 30 days of delivery if the shoes were not worn."),
        ]
    )
    kit.conversation(
        [("c", "Is there an open question?"), ("m", "This one stays open and is skipped.")],
        close=False,
    )
    assert kit.export() == []
    runner = kit.app.test_cli_runner()
    result = runner.invoke(
        args=["chats", "kb", "extract", "--since", "2020-01-01", "--source", str(kit.source_id)]
    )
    assert result.exit_code == 0, result.output
    assert "2 conversations: 2 new candidates" in result.output
    assert "Conversations" in result.output  # the progress bar's label
    assert len(kit.export()) == 2
    again = runner.invoke(args=["chats", "kb", "extract"])
    assert "0 conversations" in again.output, again.output
    listing = kit.settings("GET", "")
    assert "Recent extraction runs" in listing.text
    bad = runner.invoke(args=["chats", "kb", "extract", "--source", "999"])
    assert bad.exit_code != 0 and "no source 999" in bad.output
