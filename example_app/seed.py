"""Demo data: one admin, two managers and a widget source for the demo's own shop page.

Seeding runs at every start and only adds what is missing, so restarting the demo (even on
another port) never duplicates users or sources and never undoes what an admin changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask

from gincore_chats.models import Source
from gincore_chats.services import sources
from gincore_chats.services.unit_of_work import unit_of_work

from .extensions import db
from .models import Role, User

#: Marks the seeded source in its settings, so renaming it in the settings page is harmless.
DEMO_SOURCE_MARK = "example_app_demo_shop"
DEMO_SOURCE_NAME = "Demo shop"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    name: str
    email: str
    role: Role


# Known passwords on purpose: this is a local demo that listens on 127.0.0.1 by default.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "admin-demo", "Ada Admin", "admin@example.com", Role.ADMIN),
    DemoAccount("maria", "maria-demo", "Maria Manager", "maria@example.com", Role.MANAGER),
    DemoAccount("oleg", "oleg-demo", "Oleg Operator", "oleg@example.com", Role.MANAGER),
)


@dataclass(frozen=True)
class SeedResult:
    accounts: tuple[DemoAccount, ...]
    source_id: int
    widget_key: str
    created_users: int
    created_source: bool


def demo_domains(port: int) -> list[str]:
    """The host names a browser uses for the demo; Origin carries the port unless it is 80/443."""
    hosts = ["localhost", "127.0.0.1"]
    if port in (80, 443):
        return hosts
    return [f"{host}:{port}" for host in hosts]


def find_demo_source(state: Any) -> Source | None:
    for source in sources.list_sources(state):
        if (source.settings or {}).get(DEMO_SOURCE_MARK):
            return source
    return None


def seed_demo(app: Flask) -> SeedResult:
    with app.app_context():
        state = app.extensions["gincore_chats"]
        domains = demo_domains(int(app.config["DEMO_PORT"]))
        with unit_of_work(state.session):
            created_users = 0
            managers: list[User] = []
            for account in DEMO_ACCOUNTS:
                user = db.session.scalar(db.select(User).where(User.username == account.username))
                if user is None:
                    user = User(
                        username=account.username,
                        name=account.name,
                        email=account.email,
                        role=account.role.value,
                    )
                    user.set_password(account.password)
                    db.session.add(user)
                    created_users += 1
                if account.role is Role.MANAGER:
                    managers.append(user)
            # Ids are needed to assign the managers to the source.
            db.session.flush()

            source = find_demo_source(state)
            created_source = source is None
            if source is None:
                source = sources.do_create_widget_source(
                    state, DEMO_SOURCE_NAME, domains, settings={DEMO_SOURCE_MARK: True}
                )
                sources.do_set_employees(state, source, [str(m.id) for m in managers])
            else:
                # Started on another port: allow it too, keep what the admin configured.
                missing = [d for d in domains if d not in (source.allowed_domains or [])]
                if missing:
                    sources.do_update_source(
                        state, source, domains=[*(source.allowed_domains or []), *missing]
                    )
            result = SeedResult(
                accounts=DEMO_ACCOUNTS,
                source_id=source.id,
                widget_key=source.public_key,
                created_users=created_users,
                created_source=created_source,
            )
        return result


def credentials_text(accounts: tuple[DemoAccount, ...] = DEMO_ACCOUNTS) -> str:
    user_width = max(len(a.username) for a in accounts)
    password_width = max(len(a.password) for a in accounts)
    lines = ["Log in with (username / password):"]
    for a in accounts:
        lines.append(
            f"  {a.username.ljust(user_width)} / {a.password.ljust(password_width)}"
            f"  ({a.role.value}, {a.name})"
        )
    return "\n".join(lines)
