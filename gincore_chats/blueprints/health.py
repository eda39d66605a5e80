"""``<prefix>/healthz`` (liveness) and ``<prefix>/readyz`` (readiness) for load balancers.

Both are GET only, unauthenticated and touch no session or cookie, so a probe needs nothing but
the URL. A host that does not want them public restricts the two paths in its proxy (they
reveal only which of the library's dependencies is failing, never addresses or credentials).

* ``healthz`` does no I/O: 200 ``{"status": "ok"}`` while the process serves requests.
* ``readyz`` runs :func:`gincore_chats.services.health.readiness`: 200 when every check
  passes, 503 with the failing ones otherwise.
* ``metrics`` (only with ``CHATS_METRICS_ENABLED``, else 404): Prometheus' text format.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from .. import metrics
from ..services import health
from ..state import ChatsState, get_state
from .common import Route, add_routes


def _no_store(response: Response) -> Response:
    # A cached "ok" would hide an outage from the next probe.
    response.headers["Cache-Control"] = "no-store"
    return response


def healthz() -> Response:
    return _no_store(jsonify(status="ok"))


def readyz() -> tuple[Response, int]:
    checks = health.readiness(get_state())
    failing = [c for c in checks if not c.ok]
    body = {
        "status": "fail" if failing else "ok",
        "checks": {
            c.name: {"ok": c.ok, **({"problem": c.problem} if not c.ok else {})} for c in checks
        },
        "failing": [c.name for c in failing],
    }
    return _no_store(jsonify(body)), 503 if failing else 200


def metrics_exposition() -> Response:
    state = get_state()
    if not metrics.enabled(state):
        return _no_store(Response("Metrics are off (CHATS_METRICS_ENABLED).\n", 404))
    body, content_type = metrics.exposition(state)
    return _no_store(Response(body, 200, content_type=content_type))


ROUTES: list[Route] = [
    ("/healthz", healthz, ["GET"]),
    ("/readyz", readyz, ["GET"]),
    ("/metrics", metrics_exposition, ["GET"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_health", __name__)
    add_routes(bp, ROUTES)
    return bp
