"""``flask chats contacts export|erase`` and ``flask chats retention run``."""

from __future__ import annotations

import shutil

import click
from flask.cli import AppGroup, with_appcontext

from .services.errors import NotFound
from .services.privacy import erasure, retention
from .services.privacy import export as contact_export
from .services.unit_of_work import unit_of_work
from .state import get_state

contacts_cli = AppGroup("contacts", help="Export or erase what is held about a contact (GDPR).")


@contacts_cli.command("export")
@click.argument("contact_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export(contact_id: int, out: str) -> None:
    """Write everything held about CONTACT_ID (JSON and files) to a zip."""
    state = get_state()
    try:
        spool = contact_export.export_contact(state, None, contact_id)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    with spool, open(out, "wb") as dest:
        shutil.copyfileobj(spool, dest)
    click.echo(f"Exported contact {contact_id} to {out}.")


@contacts_cli.command("erase")
@click.argument("contact_id", type=int)
@click.option("--yes", is_flag=True, help="Erase without asking (it cannot be undone).")
@with_appcontext
def erase(contact_id: int, yes: bool) -> None:
    """Erase CONTACT_ID: their messages become tombstones, their details and files go."""
    if not yes:
        click.confirm(f"Erase contact {contact_id}? This cannot be undone.", abort=True)
    state = get_state()
    try:
        with unit_of_work(state.session):
            report = erasure.do_erase(state, None, contact_id)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Erased contact {contact_id}: {report.messages} messages in {report.conversations} "
        f"conversations, {report.files} files ({report.bytes_freed} bytes freed), "
        f"{report.rows_deleted} rows deleted, {report.rows_scrubbed} rows scrubbed."
    )


retention_cli = AppGroup("retention", help="Apply each source's retention policy.")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only print what would be deleted or anonymised.")
@with_appcontext
def run_retention(dry_run: bool) -> None:
    """Delete or anonymise old conversations, drop old visitor contexts, truncate IPs, per
    each source's policy (the worker does this daily)."""
    report = retention.run(get_state(), dry_run=dry_run)
    if not report.sources:
        click.echo("No source has a retention policy (set one on the source's settings page).")
        return
    verb = "would" if dry_run else "did"
    for s in report.sources:
        p = s.policy
        click.echo(f"Source {s.source_id} ({s.name}):")
        if p.conversation_days:
            if p.conversation_action == retention.DELETE:
                click.echo(
                    f"  conversations inactive > {p.conversation_days} days: {verb} delete "
                    f"{s.conversations_deleted}"
                    + ("" if dry_run else f" ({s.bytes_freed} bytes of files freed)")
                )
            else:
                click.echo(
                    f"  customers inactive > {p.conversation_days} days: {verb} anonymise "
                    f"{s.contacts_anonymised}"
                )
        if p.context_days:
            click.echo(
                f"  visitor contexts older than {p.context_days} days: {verb} delete "
                f"{s.contexts_deleted}"
            )
        if p.truncate_ips:
            click.echo(f"  stored IP addresses: {verb} truncate {s.ips_truncated}")
