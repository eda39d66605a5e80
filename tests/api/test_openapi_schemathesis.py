"""The API tests itself against the OpenAPI document it serves: schemathesis generates valid
and invalid requests for every operation, and sequences of calls along the document's links;
no answer may be a 5xx, and every answer must match its documented status, content type and
schema.

Bounded in time: a handful of examples per operation and mode (``SCHEMATHESIS_EXAMPLES``,
default 12) on a seeded world, run in-process over WSGI.
"""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.generation import GenerationMode

from ..conftest import Visitor, create_source, make_staff
from .conftest import API, make_token

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
ADMIN_PERMS = "chats.view,chats.reply,customers.view,customers.edit,chats.admin"


def seed(app: Any, server: Any) -> str:
    """A source with conversations, messages, a contact and a published entry; an admin's
    token (all scopes) so every operation can succeed."""
    from gincore_chats.services.knowledge import entries
    from gincore_chats.services.unit_of_work import unit_of_work

    admin = make_staff(app, "Ada Admin", ADMIN_PERMS)
    _, key = create_source(app, ["shop.example.com"], [admin])
    for text in ("Where is my order?", "How long is shipping?"):
        visitor = Visitor(server, key)
        visitor.open()
        visitor.send(text)
    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            entries.do_create(
                state,
                admin,
                language="en",
                question="How long is shipping?",
                answer="Two days.",
                status="published",
            )
    return make_token(app, admin)


@pytest.fixture
def api_schema(app: Any, pro_app: Any, pro_server: Any) -> Any:
    token = seed(app, pro_server)
    config = schemathesis.Config.from_dict(
        {
            # Through the document's security scheme, so the auth checks know which header
            # is the credential (and send requests without it or with a wrong one).
            "auth": {"openapi": {"bearer": {"bearer": token}}},
            "checks": {
                # Valid-looking input a rule still refuses: a cursor this list never gave
                # out (400), a message of spaces or an address without a domain (422 with
                # the invalid-request type), a file of a refused type (415). A 422
                # *validation* problem for schema-valid data is caught by the check below:
                # the document and the validator disagree.
                "positive_data_acceptance": {
                    "expected-statuses": [
                        "2xx",
                        "400",
                        "401",
                        "403",
                        "404",
                        "409",
                        "415",
                        "422",
                        "429",
                    ]
                }
            },
        }
    )
    return schemathesis.openapi.from_wsgi(f"{API}/openapi.json", pro_app, config=config)


#: (operation, status) of every answer to a positive case: the run must really get through.
ANSWERED: set[tuple[str, int]] = set()


@schemathesis.check
def validator_agrees_with_document(ctx: Any, response: Any, case: Any) -> bool | None:
    """Data the document calls valid never fails the validation (the same models)."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return None
    ANSWERED.add((case.operation.label, response.status_code))
    if response.status_code == 422:
        body = response.json()
        assert not body.get("type", "").endswith("/validation"), (
            f"schema-valid request refused by validation: {body.get('errors')}"
        )
    return None


SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
    database=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


def fuzz(operation: Any, mode: GenerationMode) -> None:
    @SETTINGS
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.call_and_validate()

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(api_schema: Any, mode: GenerationMode) -> None:
    """Every operation, valid (positive) or invalid (negative) data: no 5xx, answers as
    documented. Failures of all operations are collected, then reported together."""
    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 32
    for operation in operations:
        try:
            fuzz(operation, mode)
        except hypothesis.errors.Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): GET /me, GET /sources.
            assert mode == GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure is reported
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    if mode == GenerationMode.POSITIVE:
        # Authenticated and seeded: operations on the seeded rows and on lists succeed; ids
        # drawn at random rarely exist (the stateful test below follows real ones).
        succeeded = {label for label, status in ANSWERED if 200 <= status < 300}
        assert len(succeeded) >= 0.5 * len(operations), sorted(
            {op.label for op in operations} - succeeded
        )


def test_stateful_sequences_along_the_links(api_schema: Any) -> None:
    """Lists lead to their items (conversation -> messages -> edit/delete, contacts, entries):
    sequences of real ids, each answer checked like above."""
    ANSWERED.clear()
    machine = api_schema.as_state_machine()
    machine.run(
        settings=hypothesis.settings(
            max_examples=EXAMPLES * 3,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            derandomize=True,
            database=None,
        )
    )
    # The links carried real ids: operations on one resource succeeded.
    followed = {label for label, status in ANSWERED if "{" in label and 200 <= status < 300}
    assert len(followed) >= 3, sorted(ANSWERED)


def test_document_is_openapi_3_1_and_covers_every_api_route(pro_app: Any, pro_server: Any) -> None:
    import requests

    doc = requests.get(f"{pro_server.url}{API}/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    routed = set()
    for rule in pro_app.url_map.iter_rules():
        if rule.endpoint.startswith("gincore_chats_api.") and rule.endpoint not in (
            "gincore_chats_api.unknown",
            "gincore_chats_api.openapi",
        ):
            path = str(rule).replace("<int:", "{").replace("<", "{").replace(">", "}")
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented
    assert all(op.get("operationId") for item in doc["paths"].values() for op in item.values())
