"""One package per messaging platform. Each is pure parsing plus an HTTP client (see base.py).

Adapters never touch models, Flask's request or the database: the webhooks blueprint hands them
headers and the raw body, services turn their value objects into rows, and jobs call their
clients to send. ``registry.get_adapter(kind)`` maps a source kind to its adapter.
"""
