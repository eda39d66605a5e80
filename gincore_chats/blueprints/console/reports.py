"""The reports page: figures as JSON for the charts, and each table as CSV.

``chats.admin`` sees everyone's figures (or one manager's, ``?manager=``); any other manager
sees only the conversations they took part in.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, jsonify, render_template, request

from ...permissions import PermissionDenied
from ...services.reports import figures
from ...state import get_state
from ..common import Route, api_errors, csrf_token, json_error
from ..guards import console_page, manager_required, signed_in_manager

#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _period_and_scope() -> tuple[figures.Period, figures.Scope]:
    period = figures.parse_period(
        request.args.get("from"), request.args.get("to"), request.args.get("tz")
    )
    return period, figures.scope_for(signed_in_manager(), request.args.get("manager"))


@console_page
def page() -> Any:
    manager = signed_in_manager()
    return render_template(
        "gincore_chats/reports.html",
        manager=manager,
        csrf_token=csrf_token(),
        everyone=figures.scope_for(manager).everyone,
    )


@api_errors
@manager_required
def report_data() -> Any:
    try:
        period, scope = _period_and_scope()
    except figures.ReportError as exc:
        return json_error(400, str(exc))
    except PermissionDenied as exc:
        return json_error(403, str(exc))
    return jsonify(figures.report(get_state(), period, scope))


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


@api_errors
@manager_required
def report_csv(name: str) -> Any:
    build = figures.TABLES.get(name)
    if build is None:
        return json_error(404, f"No report table {name!r}.")
    try:
        period, scope = _period_and_scope()
    except figures.ReportError as exc:
        return json_error(400, str(exc))
    except PermissionDenied as exc:
        return json_error(403, str(exc))
    table = build(get_state(), period, scope)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _key, label in table.columns])
    for row in table.rows:
        writer.writerow([_cell(row.get(key)) for key, _label in table.columns])
    filename = f"{name}_{period.first.isoformat()}_{period.last.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


ROUTES: list[Route] = [
    ("/reports", report_data, ["GET"]),
    ("/reports/<name>.csv", report_csv, ["GET"]),
]
