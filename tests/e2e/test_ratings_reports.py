"""In a real browser: the rating and transcript after a close, and the reports page's charts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import ALL_PERMS, create_source, make_staff
from ..report_seed import FIRST, LAST, seed
from ..test_ratings import set_mailbox, smtp  # noqa: F401  (smtp: a fixture)
from .conftest import BrowserSide, ShopServer
from .console_kit import (  # noqa: F401  (quiet_server: a fixture)
    conversation_ids,
    join,
    open_console,
    panel,
    quiet_server,
    row,
    send_reply,
    start_widget,
    widget_panel,
    widget_send,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("quiet_server"),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]


def test_visitor_rates_the_closed_chat_and_gets_the_transcript(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
    smtp: Any,  # noqa: F811
) -> None:
    sink, port = smtp
    sink.messages.clear()
    set_mailbox(app, port)
    _, key = create_source(app, [shop.host], [manager_id])
    mia = open_console(open_browser(), chats_url, manager_id)
    visitor = start_widget(open_browser, shop, chats_url, key)
    widget_send(visitor.page, "Is the <blue> one in stock?")
    [conv_id] = conversation_ids(app)
    row(mia, f"Visitor #{conv_id}").click()
    join(mia)
    send_reply(mia, "Yes, two left")
    mia.get_by_role("button", name="Close conversation").click()

    chat = widget_panel(visitor.page)
    rating = chat.get_by_role("region", name="How would you rate this chat?")
    expect(rating.get_by_role("group", name="How would you rate this chat?")).to_be_visible()
    four = rating.get_by_role("button", name="4 out of 5")
    four.focus()
    visitor.page.keyboard.press("Enter")  # keyboard use: a real button
    expect(four).to_have_attribute("aria-pressed", "true")
    rating.get_by_role("textbox", name="Comment (optional)").fill("Fast & friendly")
    rating.get_by_role("button", name="Send rating").click()
    expect(rating.get_by_text("Thank you for your rating!")).to_be_visible()

    # The manager's panel shows it live.
    expect(panel(mia).locator("#gc-rating")).to_have_text("4 out of 5 ★★★★")
    expect(panel(mia).get_by_text("Fast & friendly")).to_be_visible()

    email = rating.get_by_role("textbox", name="Get the transcript of this chat by email")
    email.fill("anna@example.org")
    rating.get_by_role("button", name="Email me the transcript").click()
    expect(chat.get_by_role("status")).to_have_text("The transcript is on its way to your inbox.")

    from gincore_chats.jobs import ratings as rating_jobs

    with app.app_context():
        assert rating_jobs.send_transcript(conv_id) == "sent"
    [(to, msg)] = sink.wait_for(1)
    assert to == ["anna@example.org"]
    html = msg.get_body(("html",)).get_content()
    assert "Is the &lt;blue&gt; one in stock?" in html and "Yes, two left" in html

    # Writing again reopens the chat: the rating form goes, a system line says so.
    widget_send(visitor.page, "One more question")
    expect(rating).to_be_hidden()
    expect(chat.get_by_text("The chat is open again")).to_be_visible()


def test_reports_page_charts_show_the_seeded_figures(
    app: Any, chats_url: str, open_browser: Callable[[], BrowserSide], admin_id: str
) -> None:
    mia = make_staff(app, "Mia", ALL_PERMS)
    max_ = make_staff(app, "Max", ALL_PERMS)
    seed(app, mia, max_)
    page = open_browser().page
    page.goto(f"{chats_url}/test-login/{admin_id}?next=/chats/console/reports")
    expect(page.get_by_role("link", name="Reports")).to_have_attribute("aria-current", "page")
    page.get_by_label("From").fill(FIRST)
    page.get_by_label("To").fill(LAST)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("body")).to_have_attribute("data-report-loaded", f"{FIRST}..{LAST}")

    by_source = page.get_by_role("region", name="Response times by source")
    table = by_source.get_by_role("table")
    shop_row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Shop"))
    expect(shop_row.locator("[data-key=conversations]")).to_have_text("3")
    expect(shop_row.locator("[data-key=first_response_median]")).to_have_text("120")
    expect(shop_row.locator("[data-key=first_response_p90]")).to_have_text("264")
    names = page.evaluate("() => window.gincoreReports.charts.by_source.data.labels")
    medians = page.evaluate("() => window.gincoreReports.charts.by_source.data.datasets[0].data")
    # The chart plots minutes: 120 s and 30 s.
    assert dict(zip(names, medians, strict=True)) == {"Shop": 2, "=Bot": 0.5}

    ratings = page.get_by_role("region", name="Ratings")
    counts = [
        int(c) for c in ratings.get_by_role("table").locator("[data-key=count]").all_inner_texts()
    ]
    assert counts == [0, 1, 0, 1, 1]
    chart = page.evaluate("() => window.gincoreReports.charts.ratings.data.datasets[0].data")
    assert chart == counts
    summary = page.locator("#gc-report-summary")
    expect(summary).to_contain_text("Missed1")
    expect(summary).to_contain_text("Average rating3.67 / 5")
    csv = by_source.get_by_role("link", name="Download Response times by source as CSV")
    assert f"from={FIRST}" in (csv.get_attribute("href") or "")
