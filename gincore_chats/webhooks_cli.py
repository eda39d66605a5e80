"""``flask chats webhooks ...``: outgoing webhook upkeep."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from .services.unit_of_work import unit_of_work
from .services.webhooks import deliveries
from .state import get_state

webhooks_cli = AppGroup("webhooks", help="Outgoing webhooks.")


@webhooks_cli.command("sweep")
@with_appcontext
def sweep() -> None:
    """Queue pending deliveries that are overdue (their job was lost). Run it from cron, e.g.
    every 10 minutes; safe to repeat."""
    state = get_state()
    with unit_of_work(state.session):
        count = deliveries.do_sweep(state)
    click.echo(f"Queued {count} overdue deliveries.")
