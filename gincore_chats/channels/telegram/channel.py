"""The Telegram adapter: secret-header check, Update parsing, Bot API sends, edits, deletes."""

from __future__ import annotations

import hmac
import re
from typing import Any, ClassVar

from ..base import (
    ChannelConfig,
    ChannelError,
    ConnectionCheck,
    FetchedMedia,
    InboundMedia,
    OutboundAttachment,
    OutboundMessage,
    ParsedWebhook,
    SendResult,
)
from .api import TelegramApi
from .check import check_connection
from .parse import external_id, parse_update, split_external_id

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,100}$")
#: Update kinds the bot subscribes to in setWebhook.
ALLOWED_UPDATES = ["message", "edited_message", "my_chat_member"]


def _chat_id(recipient_id: str) -> int | str:
    # Numeric ids go out as numbers (groups are negative); "@channel" names stay strings.
    try:
        return int(recipient_id)
    except ValueError:
        return recipient_id


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class TelegramChannel:
    kind: ClassVar[str] = "telegram"
    supports_edit: ClassVar[bool] = True
    supports_delete: ClassVar[bool] = True
    credential_fields: ClassVar[dict[str, tuple[str, bool]]] = {
        "bot_token": ("Bot token (from @BotFather)", True),
    }
    # Sent to Telegram in setWebhook and checked on every delivery. Not shown with the other
    # credentials: the source's connection card reveals, sets and rotates it (audit-logged).
    generated_credentials: ClassVar[dict[str, bool]] = {"webhook_secret": False}
    optional_credentials: ClassVar[frozenset[str]] = frozenset()

    # -- inbound ---------------------------------------------------------------------------------

    def verify(self, credentials: dict[str, Any], headers: dict[str, str], raw_body: bytes) -> bool:
        secret = str(credentials.get("webhook_secret") or "")
        given = headers.get(SECRET_HEADER) or headers.get(SECRET_HEADER.lower()) or ""
        return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())

    def handshake(self, credentials: dict[str, Any], query: dict[str, str]) -> str | None:
        return None  # Telegram has no GET verification; setWebhook is the handshake.

    def parse(self, raw_body: bytes) -> ParsedWebhook:
        return parse_update(raw_body)

    def validate_credentials(self, credentials: dict[str, Any]) -> None:
        if not _TOKEN_RE.match(str(credentials.get("bot_token") or "")):
            raise ValueError("That is not a bot token; @BotFather gives one like 123456:ABC-DEF...")

    # -- outbound --------------------------------------------------------------------------------

    def send(
        self, config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
    ) -> SendResult:
        api = TelegramApi(config, str(credentials.get("bot_token") or ""))
        chat = _chat_id(message.recipient_id)
        reply: dict[str, Any] = {}
        if message.reply_to_external_id:
            try:
                reply = {
                    "reply_to_message_id": split_external_id(message.reply_to_external_id)[1],
                    "allow_sending_without_reply": True,
                }
            except ValueError:
                reply = {}
        text = message.text or ""
        attachments = list(message.attachments)
        if not text and not attachments:
            raise ChannelError("The message is empty.", permanent=True)
        calls: list[tuple[str, dict[str, Any], OutboundAttachment | None]] = []
        if text and (not attachments or len(text) > CAPTION_LIMIT):
            calls += [("sendMessage", {"text": chunk}, None) for chunk in _chunks(text, TEXT_LIMIT)]
            text = ""
        for item in attachments:
            method, field = (
                ("sendPhoto", "photo") if item.kind == "image" else ("sendDocument", "document")
            )
            params: dict[str, Any] = {"caption": text} if text else {}
            text = ""  # the caption goes with the first file only
            calls.append((method, {**params, "_field": field}, item))
        if message.buttons and calls and calls[-1][0] == "sendMessage":
            # The buttons go under the last part, where the customer reads on.
            keyboard = [
                [{"text": label, "callback_data": value} for label, value in message.buttons]
            ]
            calls[-1] = (
                "sendMessage",
                {**calls[-1][1], "reply_markup": {"inline_keyboard": keyboard}},
                None,
            )
        sent: list[str] = []
        for method, params, attachment in calls:
            params = {"chat_id": chat, **params, **(reply if not sent else {})}
            try:
                result = self._call(api, method, params, attachment)
            except ChannelError as exc:
                if not sent:
                    raise
                # Part went out: report what is missing rather than resend the rest later.
                return SendResult(sent[0], {"external_ids": sent, "incomplete": exc.reason})
            sent.append(external_id(result["chat"]["id"], result["message_id"]))
        return SendResult(sent[0], {"external_ids": sent} if len(sent) > 1 else {})

    def answer_button(
        self, config: ChannelConfig, credentials: dict[str, Any], callback_id: str, text: str
    ) -> None:
        """Stop the pressed button's spinner and show ``text`` (answerCallbackQuery)."""
        api = TelegramApi(config, str(credentials.get("bot_token") or ""))
        api.call("answerCallbackQuery", {"callback_query_id": callback_id, "text": text[:200]})

    @staticmethod
    def _call(
        api: TelegramApi, method: str, params: dict[str, Any], attachment: OutboundAttachment | None
    ) -> Any:
        field = params.pop("_field", None)
        if attachment is None or field is None:
            return api.call(method, params)
        if attachment.data is not None:
            upload = (attachment.filename, attachment.data, attachment.mime_type)
            return api.call(method, params, files={field: upload})
        return api.call(method, {**params, field: attachment.url})

    def edit(
        self,
        config: ChannelConfig,
        credentials: dict[str, Any],
        recipient_id: str,
        external_id: str,
        text: str,
    ) -> None:
        api = TelegramApi(config, str(credentials.get("bot_token") or ""))
        chat, message_id = split_external_id(external_id)
        if len(text) > TEXT_LIMIT:
            raise ChannelError("Telegram cannot show an edit this long.", permanent=True)
        params = {"chat_id": _chat_id(chat), "message_id": message_id}
        try:
            api.call("editMessageText", {**params, "text": text})
        except ChannelError as exc:
            reason = exc.reason.lower()
            if "message is not modified" in reason:
                return  # already shows this text: a retried edit
            if "no text in the message" not in reason:
                raise
            # A photo or file: its text is the caption.
            api.call("editMessageCaption", {**params, "caption": text[:CAPTION_LIMIT]})

    def delete(
        self,
        config: ChannelConfig,
        credentials: dict[str, Any],
        recipient_id: str,
        external_id: str,
    ) -> None:
        api = TelegramApi(config, str(credentials.get("bot_token") or ""))
        chat, message_id = split_external_id(external_id)
        try:
            api.call("deleteMessage", {"chat_id": _chat_id(chat), "message_id": message_id})
        except ChannelError as exc:
            if "message to delete not found" in exc.reason.lower():
                return  # gone already: a retried delete
            raise

    def fetch_media(
        self, config: ChannelConfig, credentials: dict[str, Any], media: InboundMedia, limit: int
    ) -> FetchedMedia:
        api = TelegramApi(config, str(credentials.get("bot_token") or ""))
        info = api.call("getFile", {"file_id": media.ref})
        path = (info or {}).get("file_path")
        if not path:
            raise ChannelError("Telegram gave no download path for the file.", permanent=True)
        # The download URL holds the bot token: bytes are fetched here, never linked.
        data = api.download(path, limit)
        return FetchedMedia(data, media.mime_type, media.filename or path.rsplit("/", 1)[-1])

    # -- setup -------------------------------------------------------------------------------------

    def connect(self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str) -> str:
        api = TelegramApi(config, str(credentials.get("bot_token") or ""))
        me = api.call("getMe") or {}
        api.call(
            "setWebhook",
            {
                "url": webhook_url,
                "secret_token": str(credentials.get("webhook_secret") or ""),
                "allowed_updates": ALLOWED_UPDATES,
                "drop_pending_updates": False,
            },
        )
        bot = f"@{me['username']}" if me.get("username") else "the bot"
        return f"Telegram now delivers {bot}'s messages to {webhook_url}."

    def check(
        self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str
    ) -> ConnectionCheck:
        return check_connection(config, credentials, webhook_url)
