"""One outbound message as several platform messages (text chunks, then each file)."""

from __future__ import annotations

from collections.abc import Callable

from ..base import ChannelError, SendResult


def send_parts(parts: list[Callable[[], str]]) -> SendResult:
    """Run the part senders in order; ``external_id`` is the first part's id.

    Same convention as the other adapters: once a part went out, a later failure is reported
    as ``extra["incomplete"]`` instead of raised, because the job's retry would send the
    delivered parts twice. Every id is in ``extra["external_ids"]`` (echoes and receipts may
    name any of them).
    """
    if not parts:
        raise ChannelError("The message is empty.", permanent=True)
    sent: list[str] = []
    for part in parts:
        try:
            sent.append(part())
        except ChannelError as exc:
            if not sent:
                raise
            return SendResult(sent[0], {"external_ids": sent, "incomplete": exc.reason})
    return SendResult(sent[0], {"external_ids": sent} if len(sent) > 1 else {})


def split_text(text: str, limit: int, *, in_bytes: bool = False) -> list[str]:
    """Chunks within the platform's text limit, cut at a line break or space when there is one.

    ``in_bytes``: Instagram counts UTF-8 bytes, not characters.
    """

    def size(s: str) -> int:
        return len(s.encode()) if in_bytes else len(s)

    chunks: list[str] = []
    rest = text
    while size(rest) > limit:
        cut = limit
        while size(rest[:cut]) > limit:  # only shrinks for multi-byte text
            cut -= 1
        head = rest[:cut]
        at = max(head.rfind("\n"), head.rfind(" "))
        if at > cut // 2:  # a break late enough not to leave a tiny chunk
            cut = at + 1
        if piece := rest[:cut].rstrip():
            chunks.append(piece)
        rest = rest[cut:]
    if rest.strip() or not chunks:
        chunks.append(rest)
    return chunks
