"""Messages of a conversation: list, send (signed with the token's manager's name), internal
notes, edit and delete one's own, file uploads and downloads (the console's checks and quota)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from flask import request
from pydantic import BaseModel, Field, ValidationError
from spectree.model_adapter.pydantic_adapter import BaseFile
from werkzeug.wrappers import Response as WerkzeugResponse

from ...models import Message as MessageRow
from ...permissions import Permission, PermissionDenied
from ...services.api import lists as api_lists
from ...services.conversations import lifecycle as conversations
from ...services.conversations import messages
from ...services.conversations.message_events import message_wire
from ...services.files import attachments
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..files import _file_response, _upload
from . import pagination
from .guard import current_manager
from .idempotency import current_key, derived_client_id
from .problems import Problem, not_found
from .schemas import BodyId, Cursor, Limit, Maybe, Message, Order
from .spec import BodyModel, FormModel, QueryModel, operation, validation_problem

ClientId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="A UUID you choose: a retry with the same id returns the stored message.",
    ),
]


class ListMessages(QueryModel):
    order: Order = Field(Order.ASC, description="asc: oldest first; desc: newest first.")
    limit: Limit | Maybe = None
    cursor: Cursor | Maybe = None


class MessagePage(BaseModel):
    items: list[Message]
    next_cursor: str | None


class SendMessage(BodyModel):
    body: str = Field(min_length=1, description="Plain text; at most CHATS_MAX_MESSAGE_LENGTH.")
    note: bool = Field(False, description="An internal note: staff only, never sent out.")
    client_id: ClientId | None = None
    quoted_message_id: BodyId | None = None


class EditMessage(BodyModel):
    body: str = Field(min_length=1)


class SentMessage(BaseModel):
    message: Message
    created: bool = Field(description="False: a retry found the message sent before.")


class Upload(FormModel):
    file: BaseFile = Field(description="The file (checked by content, size and quota).")
    # Form fields have no null: absent means not given.
    body: str | Maybe = Field(None, description="Text sent with the file.")
    note: bool = False
    client_id: ClientId | Maybe = None
    quoted_message_id: Annotated[int, Field(ge=1, lt=2**63)] | Maybe = None


def _out(message: MessageRow) -> Message:
    return Message.model_validate(message_wire(message))


def _client_id(given: str | None) -> str:
    if given:
        return given
    key = current_key()
    return derived_client_id(key) if key else uuid.uuid4().hex


@operation(tag="messages", ok=MessagePage, query=ListMessages)
def list_messages(conversation_id: int) -> MessagePage:
    """Messages, internal notes and system messages, by id."""
    state = get_state()
    manager = current_manager()
    args: ListMessages = request.context.query  # type: ignore[attr-defined]
    conv = conversations.access_for_manager(state, manager, conversation_id)
    limit = args.limit or state.config.page_size
    after = pagination.decode("messages", args.cursor, int)
    rows = api_lists.messages(
        state, conv, after[0] if after else None, limit, ascending=args.order == Order.ASC
    )
    rows, cursor = pagination.page(rows, limit, lambda m: (m.id,), "messages")
    return MessagePage(items=[_out(m) for m in rows], next_cursor=cursor)


def _sent(message: MessageRow, created: bool) -> tuple[SentMessage, int]:
    return SentMessage(message=_out(message), created=created), 201 if created else 200


@operation(
    tag="messages",
    ok=SentMessage,
    status=201,
    body=SendMessage,
    post=True,
    errors={"HTTP_200": (SentMessage, "A retry: the message sent before")},
)
def send_message(conversation_id: int) -> Any:
    """Send a reply (join first) or an internal note, as the token's manager."""
    state = get_state()
    manager = current_manager()
    data: SendMessage = request.context.json  # type: ignore[attr-defined]
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        message, created = messages.do_send_manager_message(
            state,
            manager,
            conv,
            data.body,
            _client_id(data.client_id),
            quoted_message_id=data.quoted_message_id,
            note=data.note,
        )
        answer = _sent(message, created)
    return answer


def _own(conversation_id: int, message_id: int) -> tuple[Any, MessageRow]:
    state = get_state()
    manager = current_manager()
    conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
    try:
        return conv, messages.message_in(state, conv, message_id)
    except messages.MessageError:
        raise not_found("No such message in this conversation.") from None


@operation(tag="messages", ok=Message, body=EditMessage)
def edit_message(conversation_id: int, message_id: int) -> Message:
    """Edit one's own reply or note (the earlier text is kept for audit)."""
    state = get_state()
    data: EditMessage = request.context.json  # type: ignore[attr-defined]
    with unit_of_work(state.session):
        conv, message = _own(conversation_id, message_id)
        messages.do_edit_message(state, current_manager(), conv, message, data.body)
        answer = _out(message)
    return answer


@operation(tag="messages", ok=Message)
def delete_message(conversation_id: int, message_id: int) -> Message:
    """Delete one's own reply or note (its files are removed)."""
    state = get_state()
    with unit_of_work(state.session):
        conv, message = _own(conversation_id, message_id)
        messages.do_delete_message(state, current_manager(), conv, message)
        answer = _out(message)
    return answer


@operation(
    tag="messages",
    ok=SentMessage,
    status=201,
    form=Upload,
    post=True,
    errors={
        "HTTP_200": (SentMessage, "A retry: the message sent before"),
        "HTTP_507": (Problem, "Storage quota full"),
    },
)
def upload_attachment(conversation_id: int) -> Any:
    """Send a file (multipart/form-data, field ``file``) as a reply or a note."""
    state = get_state()
    manager = current_manager()
    form: Upload = request.context.form  # type: ignore[attr-defined]
    stream, filename, _ = _upload(state)
    client_id = _client_id(form.client_id)
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        existing = messages.find_by_client_id(state, conv, client_id)
        if existing is not None:
            return _sent(existing, False)
        attachment = attachments.do_store_upload(
            state, conv, uploaded_by=manager.id, filename=filename, stream=stream
        )
        message, created = messages.do_send_manager_message(
            state,
            manager,
            conv,
            form.body,
            client_id,
            quoted_message_id=form.quoted_message_id,
            note=form.note,
            attachments=[attachment],
        )
        answer = _sent(message, created)
        if not created:
            # A concurrent retry won: undo this copy's row and bytes (see blueprints.files).
            state.session.rollback()
    return answer


class Thumbnail(QueryModel):
    thumb: bool = Field(False, description="The image's thumbnail instead of the file.")


@operation(tag="messages", query=Thumbnail, raw=True)
def download_file(public_id: str) -> Any:
    """A message's file (``attachment`` disposition, except safe images)."""
    state = get_state()
    attachment = attachments.find(state, public_id[:64])
    if attachment is None:
        raise not_found("No such file.")
    try:
        conversations.access_for_manager(state, current_manager(), attachment.conversation_id)
    except (conversations.NotFound, PermissionDenied):
        # A file of a conversation the token cannot see looks exactly like a missing one.
        raise not_found("No such file.") from None
    # A raw operation is not validated by SpecTree (it would buffer the file): check here.
    try:
        args = Thumbnail.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise validation_problem(exc, "query") from None
    response = _file_response(state, attachment, args.thumb)
    # SpecTree reads the body of any flask.Response a view returns (the whole file, and a
    # streamed one not at all): as a plain werkzeug Response it is passed through untouched.
    response.__class__ = WerkzeugResponse  # type: ignore[assignment]
    return response


ROUTES = [
    ("/conversations/<int:conversation_id>/messages", list_messages, ["GET"]),
    ("/conversations/<int:conversation_id>/messages", send_message, ["POST"]),
    ("/conversations/<int:conversation_id>/messages/<int:message_id>", edit_message, ["PATCH"]),
    ("/conversations/<int:conversation_id>/messages/<int:message_id>", delete_message, ["DELETE"]),
    ("/conversations/<int:conversation_id>/attachments", upload_attachment, ["POST"]),
    ("/files/<public_id>", download_file, ["GET"]),
]
