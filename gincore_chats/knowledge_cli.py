"""``flask chats kb ...``: batch extraction over history and index maintenance."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup, with_appcontext

from .models import KnowledgeRun, Source, utcnow
from .services.knowledge import extraction, index
from .services.unit_of_work import unit_of_work
from .state import get_state

kb_cli = AppGroup("kb", help="Knowledge base: extract candidates, rebuild the search index.")


@kb_cli.command("extract")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Only conversations active since this date (UTC), e.g. 2026-01-01.",
)
@click.option("--source", "source_id", type=int, default=None, help="Only this source (id).")
@click.option("--include-open", is_flag=True, help="Open conversations too, not only closed.")
@click.option("--redo", is_flag=True, help="Mine conversations again from their start.")
@click.option(
    "--provider/--no-provider",
    default=None,
    help="Let the configured AI provider rewrite pairs (default: the knowledge-base setting).",
)
@with_appcontext
def extract(
    since: datetime | None,
    source_id: int | None,
    include_open: bool,
    redo: bool,
    provider: bool | None,
) -> None:
    """Propose candidates from the history (nothing is published without a person)."""
    state = get_state()
    when = since.replace(tzinfo=UTC) if since else None
    with unit_of_work(state.session):
        if source_id is not None and state.session.get(Source, source_id) is None:
            raise click.ClickException(f"There is no source {source_id}.")
        ids = list(
            extraction.closed_conversation_ids(
                state, since=when, source_id=source_id, include_open=include_open, redo=redo
            )
        )
        run = KnowledgeRun(
            since=when, source_id=source_id, total=len(ids), started_by="cli", started_at=utcnow()
        )
        state.session.add(run)
    created = merged = failed = skipped = 0
    with click.progressbar(ids, label="Conversations", show_pos=True) as bar:
        for done, conversation_id in enumerate(bar, start=1):
            try:
                result = extraction.extract_conversation(
                    state, conversation_id, use_provider=provider, redo=redo
                )
            except Exception as exc:
                failed += 1
                click.echo(f"\nconversation {conversation_id}: {exc}", err=True)
                continue
            created += result.created
            merged += result.merged
            skipped += result.skipped
            if done % 50 == 0 or done == len(ids):
                with unit_of_work(state.session):
                    row = state.session.get(KnowledgeRun, run.id)
                    row.done, row.created, row.merged, row.failed = done, created, merged, failed
    with unit_of_work(state.session):
        row = state.session.get(KnowledgeRun, run.id)
        row.done, row.created, row.merged, row.failed = len(ids), created, merged, failed
        row.status = "done" if not failed else "failed"
        row.finished_at = utcnow()
    click.echo(
        f"{len(ids)} conversations: {created} new candidates, {merged} questions merged into "
        f"existing entries, {failed} failed, {skipped} had nothing new."
    )


@kb_cli.command("reindex")
@with_appcontext
def reindex() -> None:
    """Recompute every entry's search columns and the term statistics."""
    state = get_state()
    with unit_of_work(state.session):
        count = index.do_rebuild(state)
    click.echo(f"Reindexed {count} entries.")
