"""The audit log page: admins only, filter by action and date, paginated."""

from __future__ import annotations

from gincore_chats.services import audit_log
from gincore_chats.services.unit_of_work import unit_of_work

from ..conftest import Console, create_source
from .test_retention import save_policy


def test_admins_see_entries_filtered_and_paged(app, live_server, admin_id, manager_id):
    source_id, _ = create_source(app, ["shop.example.com"], [admin_id])
    admin = Console(live_server, admin_id)
    assert save_policy(admin, source_id, conversation_days="30").status_code == 302
    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            for n in range(55):
                audit_log.do_record(state, None, "test.bulk", "thing", n)
    url = f"{live_server.url}/chats/settings/audit"

    page = admin.http.get(url, params={"action": "source.retention.updated"})
    assert page.status_code == 200
    assert "source.retention.updated" in page.text, page.text[-3000:]
    assert "Ada Admin" in page.text
    assert "thing 54" not in page.text

    first = admin.http.get(url, params={"action": "test.bulk"}).text
    assert "thing 54" in first and "thing 4<" not in first and 'rel="next"' in first
    second = admin.http.get(url, params={"action": "test.bulk", "page": 2}).text
    assert "thing 4<" in second and 'rel="next"' not in second and 'rel="prev"' in second

    future = admin.http.get(url, params={"from": "2999-01-01"}).text
    assert "No entry matches." in future
    bad = admin.http.get(url, params={"from": "yesterday"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text

    other = Console(live_server, manager_id).http.get(url, allow_redirects=False)
    assert other.status_code in (302, 403)
