"""Reports over HTTP: figures from seeded rows, CSV export, permissions, bad input."""

from __future__ import annotations

import csv
import io

from .conftest import ALL_PERMS, Console, make_staff
from .report_seed import FIRST, LAST, seed

RANGE = f"from={FIRST}&to={LAST}&tz=0"


def tables(data):
    return {t["name"]: t["rows"] for t in data["tables"]}


def test_report_figures_for_the_whole_team(app, live_server, admin_id):
    mia = make_staff(app, "Mia", ALL_PERMS)
    max_ = make_staff(app, "Max", ALL_PERMS)
    seed(app, mia, max_)
    r = Console(live_server, admin_id).api("GET", f"/reports?{RANGE}")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["scope"] == "everyone"
    got = tables(data)
    days = {row["day"]: row for row in got["daily"]}
    assert len(days) == 7 and days["2026-11-01"]["conversations"] == 0
    assert days["2026-11-02"] == {
        "day": "2026-11-02",
        "conversations": 2,
        "answered": 2,
        "missed": 0,
        "closed": 2,
    }
    assert days["2026-11-03"]["conversations"] == 2 and days["2026-11-03"]["missed"] == 1
    assert days["2026-11-04"]["conversations"] == 1  # the visit does not count
    summary = data["summary"]
    assert (summary["conversations"], summary["answered"], summary["missed"]) == (5, 4, 1)
    # percentile_cont: first responses 30, 60, 120, 300 s.
    assert summary["first_response_median"] == 90.0
    assert summary["first_response_p90"] == 246.0
    assert summary["ratings"] == 3 and summary["rating_average"] == 3.67

    by_source = {row["name"]: row for row in got["by_source"]}
    assert by_source["Shop"]["conversations"] == 3
    assert by_source["Shop"]["first_response_median"] == 120.0
    assert by_source["Shop"]["first_response_p90"] == 264.0
    assert by_source["Shop"]["resolution_median"] == 1200.0
    assert by_source["Shop"]["resolution_p90"] == 1680.0
    assert by_source["=Bot"]["first_response_median"] == 30.0
    assert by_source["=Bot"]["resolution_median"] == 900.0

    by_manager = {row["name"]: row for row in got["by_manager"]}
    assert by_manager["Mia"]["conversations"] == 2  # joined twice, counted once
    assert by_manager["Mia"]["first_response_median"] == 90.0
    assert by_manager["Max"]["first_response_p90"] == 273.0

    by_label = {row["name"]: row for row in got["by_label"]}
    assert set(by_label) == {"VIP", "Billing"}
    assert by_label["VIP"]["conversations"] == 2
    assert by_label["VIP"]["first_response_median"] == 180.0
    assert by_label["Billing"]["resolution_median"] == 1800.0

    assert {row["score"]: row["count"] for row in got["ratings"]} == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    hours = {row["weekday"]: row for row in got["hours"]}
    assert hours["Mon"]["h09"] == 1 and hours["Mon"]["h10"] == 1
    assert hours["Tue"]["h09"] == 1 and hours["Tue"]["h14"] == 1 and hours["Wed"]["h14"] == 1
    assert sum(v for row in got["hours"] for k, v in row.items() if k != "weekday") == 5

    # The viewer's time zone moves days and hours: UTC+14 puts 10:00 on Monday at 00:00 Tuesday.
    shifted = tables(
        Console(live_server, admin_id).api("GET", f"/reports?from={FIRST}&to={LAST}&tz=840").json()
    )
    assert {r["weekday"]: r for r in shifted["hours"]}["Tue"]["h00"] == 1


def test_managers_see_their_own_figures_only(app, live_server, admin_id):
    mia = make_staff(app, "Mia", ALL_PERMS)
    max_ = make_staff(app, "Max", ALL_PERMS)
    seed(app, mia, max_)
    console = Console(live_server, mia)
    data = console.api("GET", f"/reports?{RANGE}").json()
    assert data["scope"] == "own"
    assert data["summary"]["conversations"] == 2
    assert [row["name"] for row in tables(data)["by_manager"]] == ["Mia"]
    assert {row["name"] for row in tables(data)["by_source"]} == {"Shop"}
    r = console.api("GET", f"/reports?{RANGE}&manager={max_}")
    assert r.status_code == 403
    # An admin may look at one manager.
    data = Console(live_server, admin_id).api("GET", f"/reports?{RANGE}&manager={max_}").json()
    assert data["summary"]["conversations"] == 2
    # Without chats.view: no reports at all.
    outsider = make_staff(app, "Olga", "")
    r = Console(live_server, outsider).api("GET", f"/reports?{RANGE}")
    assert r.status_code == 403
    assert (
        Console(live_server, outsider)
        .http.get(f"{live_server.url}/chats/console/reports")
        .status_code
        == 403
    )
    page = console.http.get(f"{live_server.url}/chats/console/reports")
    assert page.status_code == 200 and "Your own figures" in page.text
    assert "vendor/chart.umd.min.js" in page.text


def test_csv_export_of_each_table(app, live_server, admin_id):
    mia = make_staff(app, "Mia", ALL_PERMS)
    max_ = make_staff(app, "Max", ALL_PERMS)
    seed(app, mia, max_)
    console = Console(live_server, admin_id)
    for name in ("daily", "by_source", "by_manager", "by_label", "ratings", "hours"):
        r = console.api("GET", f"/reports/{name}.csv?{RANGE}")
        assert r.status_code == 200, (name, r.text)
        assert r.headers["Content-Type"].startswith("text/csv")
        assert f'filename="{name}_{FIRST}_{LAST}.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(console.api("GET", f"/reports/by_source.csv?{RANGE}").text)))
    assert rows[0][:3] == ["Source", "Conversations", "First response, median (s)"]
    by_name = {row[0]: row for row in rows[1:]}
    # A name a spreadsheet would run as a formula is written as text.
    assert set(by_name) == {"Shop", "'=Bot"}
    assert by_name["Shop"][1:3] == ["3", "120.0"]
    daily = list(csv.reader(io.StringIO(console.api("GET", f"/reports/daily.csv?{RANGE}").text)))
    assert daily[3] == ["2026-11-03", "2", "1", "1", "2"]
    assert console.api("GET", f"/reports/nope.csv?{RANGE}").status_code == 404


def test_bad_report_parameters_are_explained(app, live_server, admin_id):
    console = Console(live_server, admin_id)
    for query, words in [
        ("from=2026-13-01", "YYYY-MM-DD"),
        ("from=2026-11-05&to=2026-11-01", "after the end"),
        ("from=2024-01-01&to=2026-01-01", "at most 366"),
        ("tz=abc", "offset"),
        ("tz=9999", "between"),
    ]:
        r = console.api("GET", f"/reports?{query}")
        assert r.status_code == 400 and words in r.json()["error"], (query, r.text)
        assert console.api("GET", f"/reports/daily.csv?{query}").status_code == 400
