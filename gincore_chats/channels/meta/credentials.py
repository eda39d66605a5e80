"""Admin-facing checks of Meta credentials, run by the settings page before saving."""

from __future__ import annotations

from typing import Any

from .send_api import is_flag

# Messenger and Instagram ask the same yes/no question.
HUMAN_AGENT_LABEL = (
    "Use the HUMAN_AGENT tag to answer up to 7 days after the customer's last message "
    "(yes/no; needs Meta's Human Agent approval)"
)


def check_ids(credentials: dict[str, Any], labels: dict[str, str]) -> None:
    """Meta ids are digit strings; a pasted name or URL is the commonest setup mistake."""
    for name, label in labels.items():
        value = str(credentials.get(name) or "").strip()
        if value and not value.isdigit():
            raise ValueError(f"{label} must be a number like 106540352242922, not {value!r}.")


def check_flag(credentials: dict[str, Any], name: str, label: str) -> None:
    if not is_flag(credentials.get(name)):
        raise ValueError(f"{label}: answer yes or no.")


def dashboard_steps(product: str, webhook_url: str, fields: str) -> str:
    return (
        f"In the Meta App Dashboard ({product}), set the callback URL to {webhook_url} with "
        f"this source's verify token, and subscribe the fields {fields}."
    )
