"""The library's Alembic branch ``gincore_chats``, installed as ``gincore_chats.migrations``.

This folder is the top-level ``migrations/`` of the source tree; setup.cfg maps it to the
``gincore_chats.migrations`` package so the revisions ship in the wheel. Hosts never import it:
their Flask-Migrate finds ``versions/`` through ``gincore_chats.migrations_support``.
"""
