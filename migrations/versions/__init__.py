"""Revisions of the gincore_chats branch (Alembic skips this file).

A package only so setuptools ships the revisions as modules of the wheel; nothing imports them
by name.
"""
