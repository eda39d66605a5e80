"""``flask chats ai ...``: AI replies per source from the command line (the same settings as the
source's AI replies page)."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import AppGroup, with_appcontext

from .models import AIMode, Source
from .services.ai import settings as ai_settings
from .services.unit_of_work import unit_of_work
from .state import get_state

ai_cli = AppGroup("ai", help="AI replies: show or set a source's mode and rules.")


def _source(source_id: int) -> Source:
    source = get_state().session.get(Source, source_id)
    if source is None:
        raise click.ClickException(f"There is no source {source_id}.")
    return source


@ai_cli.command("show")
@click.argument("source_id", type=int)
@with_appcontext
def show(source_id: int) -> None:
    """Print a source's AI settings (never the API key)."""
    state = get_state()
    _source(source_id)
    config = ai_settings.snapshot(state, source_id)
    values: dict[str, Any] = {
        k: v for k, v in vars(config).items() if k not in ("provider", "source_id")
    }
    provider = config.provider
    values["provider"] = (
        {"base_url": provider.base_url, "model": provider.model, "key": bool(provider.api_key)}
        if provider
        else None
    )
    click.echo(json.dumps(values, indent=2, ensure_ascii=False))


@ai_cli.command("set")
@click.argument("source_id", type=int)
@click.option("--mode", type=click.Choice(AIMode.ALL), default=None)
@click.option("--name", "assistant_name", default=None, help="The assistant's name.")
@click.option("--avatar", "assistant_avatar_url", default=None, help="An https:// URL.")
@click.option(
    "--instruction",
    "instructions",
    multiple=True,
    help="LANG=TEXT, e.g. en='Be brief.'; repeat per language (replaces all).",
)
@click.option("--turns", "max_unresolved_turns", type=int, default=None)
@click.option("--daily-limit", "daily_limit", type=float, default=None)
@click.option("--price-in", "price_input_per_million", type=float, default=None)
@click.option("--price-out", "price_output_per_million", type=float, default=None)
@with_appcontext
def set_(source_id: int, instructions: tuple[str, ...], **options: Any) -> None:
    """Change a source's AI settings; options left out keep their value."""
    state = get_state()
    values = {k: v for k, v in options.items() if v is not None}
    if instructions:
        pairs = [item.partition("=") for item in instructions]
        if any(not sep for _lang, sep, _text in pairs):
            raise click.ClickException("Give instructions as LANG=TEXT.")
        values["instructions"] = {lang.strip(): text for lang, _sep, text in pairs}
    try:
        with unit_of_work(state.session):
            ai_settings.do_save(state, _source(source_id), **values)
    except ai_settings.AISettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Saved the AI settings of source {source_id}.")
