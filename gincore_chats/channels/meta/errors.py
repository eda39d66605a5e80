"""The Graph API error envelope turned into a :class:`ChannelError` the send job can act on.

``{"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}`` is the
same for WhatsApp, Messenger and Instagram. The tables say which codes are worth retrying and
when (reference §2.3 and §4.3); ``reason`` is what the manager sees next to the failed message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import ChannelError

# Rate limits: seconds to wait before the retry. Meta sends no Retry-After for these, so the
# values follow the reference: app/WABA limits "back off (minutes)", number throughput
# "seconds", the WhatsApp pair limit "about 6 s".
RATE_LIMIT_SECONDS: dict[int, float] = {
    4: 60.0,  # application request limit
    17: 60.0,  # user request limit
    32: 60.0,  # page request limit
    613: 60.0,  # "calls to this API have exceeded the rate limit"
    80007: 60.0,  # WhatsApp Business Account rate limit
    130429: 5.0,  # throughput limit of the phone number
    131048: 60.0,  # spam rate limit: too many messages failed or were flagged
    131056: 6.0,  # pair rate limit: about one message every 6 s to one user
}
# Business-use-case limits (80001-80014) behave like code 4.
RATE_LIMIT_SECONDS.update(dict.fromkeys(range(80001, 80015), 60.0))
RATE_LIMIT_SUBCODES: dict[int, float] = {2018022: 60.0}  # too many sends to phone numbers

# Codes Meta documents as temporary: retry with the job's own backoff.
TRANSIENT_CODES = frozenset({1, 2, 1200, 131000, 131016})

# Retrying the same call cannot succeed: a human (admin or customer) has to act first.
PERMANENT_CODES = frozenset(
    {0, 3, 10, 100, 102, 190, 368, 551, 131008, 131009, 131026, 131047, 131051, 131052, 131053}
    | set(range(200, 300))
)
PERMANENT_SUBCODES = frozenset({2018001, 2018109, 2018278})
#: "This person isn't receiving messages from you right now": nothing goes out until they write.
BLOCKED_CODE = 551

WINDOW_WHATSAPP = (
    "More than 24 hours have passed since the customer's last message, so WhatsApp only "
    "allows approved template messages now. The conversation reopens when the customer "
    "writes again."
)
WINDOW_MESSENGER = (
    "The customer's last message is older than the 24-hour window. Answer within 7 days "
    "with the HUMAN_AGENT tag (enable it in the channel settings; Meta must approve it) or "
    "wait for the customer to write again."
)
_TOKEN = (
    "The access token is invalid or has expired. An administrator must enter a new one in "
    "the channel settings."
)
_PERMISSION = (
    "The Meta app lacks a permission this call needs. An administrator must check the "
    "app's permissions."
)

REASONS: dict[int, str] = {
    0: _TOKEN,
    102: _TOKEN,
    190: _TOKEN,
    3: _PERMISSION,
    10: _PERMISSION,
    131047: WINDOW_WHATSAPP,
    551: "This person isn't receiving messages from you right now (blocked or deactivated).",
    368: "The account is temporarily blocked for a policy violation. Check Meta's notices.",
    131026: (
        "WhatsApp could not deliver the message: the number may not use WhatsApp, or uses an "
        "old version."
    ),
    131051: "WhatsApp does not support this message type.",
    131052: "WhatsApp could not download the media. Check the file's size and type.",
    131053: "WhatsApp could not upload the media. Check the file's size and type.",
}
REASONS.update(dict.fromkeys(range(200, 300), _PERMISSION))
REASONS_BY_SUBCODE: dict[int, str] = {
    2018278: WINDOW_MESSENGER,
    2018001: "Meta found no user with this id: the customer may have deleted the conversation.",
    2018109: "The attachment is larger than Messenger allows.",
}


class GraphError(ChannelError):
    """A :class:`ChannelError` that keeps what Meta said, for logs and support requests."""

    def __init__(
        self,
        reason: str,
        *,
        code: str | int | None = None,
        subcode: int | None = None,
        http_status: int | None = None,
        fbtrace_id: str | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(
            reason,
            code=code,
            retry_after=retry_after,
            permanent=permanent,
            unreachable=unreachable,
        )
        self.subcode = subcode
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _retry_after_header(headers: Mapping[str, str]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def error_from_response(
    http_status: int, body: Any, headers: Mapping[str, str] | None = None
) -> GraphError:
    """Classify one failed Graph call (``body`` is the decoded JSON, or None if it was not)."""
    headers = headers or {}
    envelope = body.get("error") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        return _without_envelope(http_status, headers)

    code = _int(envelope.get("code"))
    subcode = _int(envelope.get("error_subcode"))
    message = str(envelope.get("message") or "")
    data = envelope.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    meta_text = f"Meta error {code}" + (f"/{subcode}" if subcode else "") + f": {message}"
    if details:
        meta_text += f" ({details})"
    common: dict[str, Any] = {
        "code": code,
        "subcode": subcode,
        "http_status": http_status,
        "fbtrace_id": envelope.get("fbtrace_id"),
    }

    code_key = -1 if code is None else code
    subcode_key = -1 if subcode is None else subcode
    wait = RATE_LIMIT_SECONDS.get(code_key) or RATE_LIMIT_SUBCODES.get(subcode_key)
    if wait is not None or http_status == 429:
        header = _retry_after_header(headers)  # 0 means "now", so test for None, not falsiness
        wait = header if header is not None else (wait or 60.0)
        reason = f"Meta's rate limit was reached; retrying in {wait:g} s. {meta_text}"
        return GraphError(reason, retry_after=wait, **common)

    friendly = REASONS_BY_SUBCODE.get(subcode_key) or REASONS.get(code_key)
    if code == 10 and "window" in message.lower():
        # Instagram reports the closed window as code 10 without Messenger's subcode.
        friendly = WINDOW_MESSENGER
    permanent = code in PERMANENT_CODES or subcode in PERMANENT_SUBCODES
    if code in TRANSIENT_CODES or envelope.get("is_transient") is True or http_status >= 500:
        permanent = False
    # An unknown code is retried: the job's retries are bounded, so a wrong guess only
    # delays the failure, whereas a wrong "permanent" would drop a message that could go out.
    reason = f"{friendly} [{meta_text}]" if friendly else meta_text
    # 551: the person blocked the Page or account, or deactivated theirs.
    return GraphError(reason, permanent=permanent, unreachable=code == BLOCKED_CODE, **common)


def _without_envelope(http_status: int, headers: Mapping[str, str]) -> GraphError:
    # A proxy or load balancer answered (HTML error page, empty body): nothing to classify.
    if http_status == 429:
        header = _retry_after_header(headers)
        wait = header if header is not None else 60.0
        return GraphError(
            f"Meta's rate limit was reached; retrying in {wait:g} s.",
            http_status=http_status,
            retry_after=wait,
        )
    permanent = http_status in (401, 403)
    return GraphError(
        f"Meta answered HTTP {http_status} without an error description.",
        http_status=http_status,
        code=http_status,
        permanent=permanent,
    )
