"""The numbered rating prompt on WhatsApp, Messenger and Instagram: "1".."5" is the score."""

from __future__ import annotations

from ..channels.conftest import run_worker
from .test_flow import Flow, customer_bodies, fb, ig, meta, reply  # noqa: F401 - fixtures


def test_numbered_reply_is_the_rating_only_while_pending(meta: Flow) -> None:  # noqa: F811
    console, conv_id = meta.joined()
    reply(console, conv_id, "Yes, in red and blue.")
    run_worker(meta.app)
    r = console.api("POST", f"/conversations/{conv_id}/status", {"status": "closed"})
    assert r.status_code == 200, r.text
    run_worker(meta.app)
    prompt = meta.sends()[-1].request.body.decode()
    assert "How would you rate this chat?" in prompt
    assert "Reply with a number from 1 (bad) to 5 (excellent)." in prompt

    meta.deliver(meta.text("mid.rating-4", " 4 "))
    run_worker(meta.app)
    detail = console.api("GET", f"/conversations/{conv_id}").json()
    assert detail["rating"]["score"] == 4 and detail["rating"]["channel"] == meta.kind
    assert detail["conversation"]["status"] == "closed"  # the score is no message
    assert "4" not in [b.strip() for b in customer_bodies(detail)]

    # Rated: the next "5" is an ordinary message, which reopens the chat.
    meta.deliver(meta.text("mid.after-5", "5"))
    run_worker(meta.app)
    detail = console.api("GET", f"/conversations/{conv_id}").json()
    assert detail["conversation"]["status"] == "open"
    assert customer_bodies(detail)[-1] == "5"
    assert detail["rating"]["score"] == 4
