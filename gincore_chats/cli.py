"""``flask chats ...``: the worker and setup commands a host needs."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .state import get_state

chats_cli = AppGroup("chats", help="gincore-chats: worker and setup commands.")


@chats_cli.command("worker")
@click.option("--burst", is_flag=True, help="Process what is queued (and due), then exit.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of forking per job.")
@with_appcontext
def worker(burst: bool, simple: bool) -> None:
    """Run an RQ worker with the scheduler on the library's queue."""
    from rq import SimpleWorker, Worker

    from .jobs import set_worker_app

    state = get_state()
    set_worker_app(current_app._get_current_object())  # type: ignore[attr-defined]
    cls = SimpleWorker if simple else Worker
    w = cls([state.queue], connection=state.redis, serializer=state.queue.serializer)
    click.echo(f"gincore-chats worker on queue {state.queue.name!r} ({cls.__name__})")
    w.work(with_scheduler=True, burst=burst)


@chats_cli.command("create-widget-source")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, help="Allowed domain (repeatable).")
@click.option("--employee", "employees", multiple=True, help="Host user id to assign (repeatable).")
@with_appcontext
def create_widget_source(name: str, domains: tuple[str, ...], employees: tuple[str, ...]) -> None:
    """Create a website widget source and print its install snippet."""
    from .services import sources
    from .services.unit_of_work import unit_of_work

    state = get_state()
    try:
        with unit_of_work(state.session):
            source = sources.do_create_widget_source(state, name, domains)
            sources.do_set_employees(state, source, employees)
    except sources.SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created source {source.id} ({source.name}), key {source.public_key}")
    click.echo(
        f'<script src="<your-app>{state.config.url_prefix}/widget.js" '
        f'data-key="{source.public_key}" async></script>'
    )


@chats_cli.command("sources")
@with_appcontext
def list_sources() -> None:
    """List sources with their keys, domains and employees."""
    from .services import sources

    for s in sources.list_sources(get_state()):
        domains = ",".join(s.allowed_domains or [])
        employees = ",".join(sorted(s.employee_ids))
        click.echo(
            f"{s.id}\t{s.kind}\t{s.name}\tkey={s.public_key}\tdomains={domains}\temployees={employees}"
        )
