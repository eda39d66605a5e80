"""The demo host's own users: the library never defines or sees this model's table."""

from __future__ import annotations

from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # ``name`` is the attribute gincore-chats reads by default for a manager's display name.
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.MANAGER.value)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_demo_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r} {self.role}>"
