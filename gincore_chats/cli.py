"""``flask chats ...``: the worker and setup commands a host needs."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from rq.worker import BaseWorker

from .ai_cli import ai_cli
from .contacts_cli import contacts_cli
from .jobs import assignment, cleanup
from .jobs import ratings as ratings_jobs
from .jobs import retention as retention_job
from .jobs.worker import AppWorker, SimpleAppWorker, run_until_stopped
from .knowledge_cli import kb_cli
from .privacy_cli import contacts_cli as privacy_contacts_cli
from .privacy_cli import retention_cli
from .services import health, sources
from .services.channels import connection as source_connection
from .services.channels import inbound, inbound_failures
from .services.channels import sources as channel_sources
from .services.conversations import retention
from .services.notifications import web_push
from .services.sources import SourceError
from .services.unit_of_work import unit_of_work
from .state import get_state
from .webhooks_cli import webhooks_cli

chats_cli = AppGroup("chats", help="gincore-chats: worker and setup commands.")
chats_cli.add_command(kb_cli)
chats_cli.add_command(ai_cli)
chats_cli.add_command(webhooks_cli)
# One `flask chats contacts` group: linking (contacts_cli) and GDPR export/erase (privacy_cli)
# are defined apart, as the two CLI modules are independent layers.
for _name, _command in privacy_contacts_cli.commands.items():
    contacts_cli.add_command(_command, _name)
chats_cli.add_command(contacts_cli)
chats_cli.add_command(retention_cli)


@chats_cli.command("worker")
@click.option("--burst", is_flag=True, help="Process what is queued (and due), then exit.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of forking per job.")
@click.option(
    "--maintenance-interval",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Seconds between RQ's registry checks (abandoned jobs, a dead scheduler's lock).",
)
@with_appcontext
def worker(burst: bool, simple: bool, maintenance_interval: int) -> None:
    """Run an RQ worker with the scheduler on the library's queue."""
    state = get_state()
    cls = SimpleAppWorker if simple else AppWorker
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def make() -> BaseWorker:
        return cls(
            [state.queue],
            connection=state.redis,
            serializer=state.queue.serializer,
            app=app,
            # RQ's default (10 minutes) is how long a job abandoned by a killed worker, and the
            # scheduling of a killed scheduler, would wait to be taken up again.
            maintenance_interval=maintenance_interval,
        )

    kind = "SimpleWorker" if simple else "Worker"  # RQ's names, as the docs show them
    click.echo(f"gincore-chats worker on queue {state.queue.name!r} ({kind})")
    if not burst:
        # Housekeeping that repeats by itself once started (a burst only drains the queue).
        cleanup.schedule(state)
        ratings_jobs.schedule_sweep(state)
        assignment.schedule(state)
        retention_job.schedule(state)
    run_until_stopped(make, burst=burst, say=lambda text: click.echo(text, err=True))


@chats_cli.command("create-widget-source")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, help="Allowed domain (repeatable).")
@click.option("--employee", "employees", multiple=True, help="Host user id to assign (repeatable).")
@with_appcontext
def create_widget_source(name: str, domains: tuple[str, ...], employees: tuple[str, ...]) -> None:
    """Create a website widget source and print its install snippet."""
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
    for s in sources.list_sources(get_state()):
        domains = ",".join(s.allowed_domains or [])
        employees = ",".join(sorted(s.employee_ids))
        click.echo(
            f"{s.id}\t{s.kind}\t{s.name}\tkey={s.public_key}\tdomains={domains}\temployees={employees}"
        )


@chats_cli.command("vapid-keys")
@click.option(
    "--subject",
    default=None,
    help="Contact for push services: mailto:you@example.com or an https:// URL of your site.",
)
@click.option("--replace", is_flag=True, help="Replace existing keys (devices must re-enable).")
@with_appcontext
def vapid_keys(subject: str | None, replace: bool) -> None:
    """Create the VAPID keys for browser push notifications (once) and print the public key."""
    state = get_state()
    existing = web_push.load_keys(state)
    if existing is not None and not replace:
        click.echo(f"Push keys exist (contact {existing.subject}); public key:")
        click.echo(existing.public_key)
        click.echo("Use --replace to create new ones (every device must enable push again).")
        return
    try:
        with unit_of_work(state.session):
            keys = web_push.do_create_keys(
                state, subject or (existing.subject if existing else ""), replace=replace
            )
    except web_push.PushError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created push keys (contact {keys.subject}); public key:")
    click.echo(keys.public_key)


@chats_cli.command("delete-empty-conversations")
@click.option(
    "--older-than",
    type=float,
    default=None,
    metavar="HOURS",
    help="Visitor last seen at least this long ago (default: CHATS_EMPTY_CONVERSATION_RETENTION).",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@with_appcontext
def delete_empty_conversations(older_than: float | None, dry_run: bool) -> None:
    """Delete conversations the customer never wrote in (visits), as the worker does hourly."""
    state = get_state()
    if older_than is not None:
        if older_than < 0:
            raise click.BadParameter("must be 0 or more hours", param_hint="--older-than")
        age = timedelta(hours=older_than)
    elif state.config.empty_conversation_retention is not None:
        age = state.config.empty_conversation_retention
    else:
        raise click.ClickException(
            "CHATS_EMPTY_CONVERSATION_RETENTION is off; pass --older-than HOURS to delete anyway."
        )
    hours = age.total_seconds() / 3600
    if dry_run:
        count = retention.count_empty(state, age)
        click.echo(f"{count} empty conversations older than {hours:g} hours would be deleted.")
        return
    removed = retention.delete_empty_conversations(state, age)
    click.echo(f"Deleted {removed} empty conversations older than {hours:g} hours.")


# -- messenger channels ---------------------------------------------------------------------------


@chats_cli.command("create-channel-source")
@click.argument("kind")
@click.argument("name")
@click.option(
    "--credential",
    "credentials",
    multiple=True,
    metavar="KEY=VALUE",
    help="A credential, e.g. bot_token=123:ABC (repeatable).",
)
@click.option("--employee", "employees", multiple=True, help="Host user id to assign (repeatable).")
@with_appcontext
def create_channel_source(
    kind: str, name: str, credentials: tuple[str, ...], employees: tuple[str, ...]
) -> None:
    """Create a Telegram, Viber, WhatsApp, Messenger, Instagram or generic source."""
    state = get_state()
    values: dict[str, str] = {}
    for item in credentials:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.ClickException(f"--credential takes KEY=VALUE, not {item!r}.")
        values[key.strip()] = value
    try:
        with unit_of_work(state.session):
            source = channel_sources.do_create_channel_source(state, kind, name, values)
            sources.do_set_employees(state, source, employees)
    except sources.SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {kind} source {source.id} ({source.name}), key {source.public_key}")
    for key, value in channel_sources.shown_generated(state, source):
        click.echo(f"{key}: {value}")
    try:
        click.echo(f"Webhook URL: {channel_sources.webhook_url(state, source)}")
    except sources.SourceError as exc:
        click.echo(str(exc))


@chats_cli.command("connect")
@click.argument("source_id", type=int)
@with_appcontext
def connect(source_id: int) -> None:
    """Register a channel source's webhook with its platform (needs CHATS_PUBLIC_URL)."""
    state = get_state()
    try:
        message = source_connection.register_webhook(state, None, source_id)
    except sources.SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(message)


@chats_cli.command("check-source")
@click.argument("source_id", type=int)
@with_appcontext
def check_source(source_id: int) -> None:
    """Ask a channel source's platform whether it works: whose token, which webhook, the last
    delivery error. Exits 1 when something is wrong (needs CHATS_PUBLIC_URL)."""
    state = get_state()
    try:
        result = source_connection.check(state, source_id)
        with unit_of_work(state.session):
            source = source_connection.load_channel_source(state, source_id)
            ours = channel_sources.webhook_url(state, source)
            name = f"{source.name} ({source.kind})"
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Source {source_id}: {name}")
    for line in source_connection.report_lines(result, ours):
        click.echo(line)
    if not result.ok:
        raise SystemExit(1)


@chats_cli.command("process-inbound")
@click.option(
    "--failed",
    is_flag=True,
    help="Process the deliveries that failed again, now, in this process (after a fix).",
)
@click.option("--source", "source_id", type=int, default=None, help="Only this source's.")
@with_appcontext
def process_inbound(failed: bool, source_id: int | None) -> None:
    """Queue stored webhook deliveries that were never processed, or (--failed) process the
    failed ones again. Safe to repeat: nothing is created twice."""

    state = get_state()
    if failed:
        outcome = inbound_failures.process_failed(state, source_id)
        click.echo(
            f"Processed {outcome.processed} failed deliveries; "
            f"{outcome.still_failing} still failing."
        )
        if outcome.last_error:
            click.echo(f"Last error: {outcome.last_error}")
        if outcome.still_failing:
            raise SystemExit(1)
        return
    with unit_of_work(state.session):
        ids = inbound.unprocessed_event_ids(state, source_id=source_id)
        for event_id in ids:
            inbound.queue_processing(state, event_id)
    click.echo(f"Queued {len(ids)} stored deliveries.")


@chats_cli.command("doctor")
@with_appcontext
def doctor() -> None:
    """Check the configuration: one line per check, OK or PROBLEM with how to fix it. Exits 1
    when something is wrong (needs CHATS_PUBLIC_URL for the webhook checks)."""
    checks = health.doctor(get_state())
    for c in checks:
        if c.ok:
            click.echo(f"OK       {c.name}" + (f": {c.detail}" if c.detail else ""))
        else:
            detail = f" ({c.detail})" if c.detail else ""
            click.echo(f"PROBLEM  {c.name}: {c.problem}{detail}. Fix: {c.fix}.")
    if not all(c.ok for c in checks):
        raise SystemExit(1)
