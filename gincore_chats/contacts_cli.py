"""``flask chats contacts ...``: hosts importing their customers, and the identity secret."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup, with_appcontext

from .models import Source
from .services.contacts import host_identity
from .services.contacts.customers import ContactError
from .services.unit_of_work import unit_of_work
from .state import get_state

contacts_cli = AppGroup("contacts", help="Contacts bound to your own users.")


@contacts_cli.command("link")
@click.argument("host_user_id")
@click.option("--name")
@click.option("--email")
@click.option("--phone")
@click.option(
    "--attributes",
    "attributes_json",
    help='Custom attributes as a JSON object, e.g. {"plan": "pro"}',
)
@with_appcontext
def link(
    host_user_id: str,
    name: str | None,
    email: str | None,
    phone: str | None,
    attributes_json: str | None,
) -> None:
    """Create or update the contact of one of your users (fields given are verified)."""
    try:
        attributes = json.loads(attributes_json) if attributes_json else {}
    except ValueError as exc:
        raise click.ClickException(f"--attributes is not JSON: {exc}") from exc
    if not isinstance(attributes, dict):
        raise click.ClickException("--attributes must be a JSON object.")
    fields = {k: v for k, v in (("name", name), ("email", email), ("phone", phone)) if v}
    state = get_state()
    try:
        with unit_of_work(state.session):
            contact, created = host_identity.do_link_contact(
                state, host_user_id, fields, attributes
            )
            contact_id = contact.id
    except ContactError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'Created' if created else 'Updated'} contact {contact_id} for {host_user_id}")


@contacts_cli.command("identity-secret")
@click.argument("source_id", type=int)
@click.option("--rotate", is_flag=True, help="Make a new secret (the old one stops working).")
@with_appcontext
def identity_secret(source_id: int, rotate: bool) -> None:
    """Print the secret a widget source's host signs identities with."""
    state = get_state()
    with unit_of_work(state.session):
        source = state.session.get(Source, source_id)
        if source is None:
            raise click.ClickException(f"No source {source_id}.")
        secret = host_identity.identity_secret(state, source)
        if rotate or secret is None:
            secret = host_identity.do_rotate_identity_secret(state, source)
    click.echo(secret)
