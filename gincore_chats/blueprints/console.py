"""The operator console: a page, a JSON API for reads and writes, and a WebSocket for live events.

Every route checks login, the permission it needs, and that the manager is assigned to the
conversation's source (admins see all). Writes need the session's CSRF token in
``X-CSRF-Token``; the WebSocket accepts only the app's own Origin (no cross-site hijacking).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
)
from flask_sock import Sock

from ..identity import Manager, describe
from ..models import Conversation, ConversationStatus, Message, Presence, VisitorContext
from ..permissions import Permission, PermissionDenied
from ..realtime.hub import STAFF, Subscriber
from ..realtime.session import run_socket
from ..serialize import (
    contact_dict,
    conversation_summary,
    redact_contact,
    visitor_context_dict,
)
from ..services import (
    contacts,
    conversations,
    drafts,
    managers,
    messages,
    outbound,
    participants,
    presence,
    read_state,
    sources,
    typing_status,
    viewing,
)
from ..services.message_events import message_wire as message_dict
from ..services.replay import sync_reply
from ..services.row_ids import row_id
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState
from .common import (
    api_errors,
    csrf_token,
    csrf_valid,
    current_manager,
    json_body,
    json_error,
    login_required_response,
    same_origin,
)


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint(
        "gincore_chats_console",
        __name__,
        template_folder="../templates",
        static_folder="../static/gincore_chats",
        static_url_path="/static",
    )
    sock = Sock()

    def manager_or_abort(api: bool = True) -> Manager:
        manager = current_manager(state)
        if manager is None:
            if api:
                abort(json_error(401, "Log in to use the console."))
            abort(login_required_response())
        if not (manager.can(Permission.VIEW) or manager.is_admin):
            if api:
                abort(
                    json_error(403, "You need the chats.view permission.", permission="chats.view")
                )
            abort(403, "You need the chats.view permission to use the console.")
        return manager

    @bp.before_request
    def check_csrf() -> Any:
        if request.method in ("POST", "PATCH", "PUT", "DELETE") and not csrf_valid():
            return json_error(400, "Missing or wrong CSRF token; reload the page.")
        return None

    default_max_age = bp.get_send_file_max_age

    def max_age(filename: str | None) -> int | None:
        # The console's ES modules import each other by plain URL: always revalidate them
        # (ETag, 304) even if the host sets SEND_FILE_MAX_AGE_DEFAULT, so a browser never runs
        # cached modules of two releases together.
        if filename and filename.startswith("console") and filename.endswith(".js"):
            return None
        return default_max_age(filename)

    bp.get_send_file_max_age = max_age  # type: ignore[method-assign]

    @bp.get("/console")
    def page() -> Any:
        manager = manager_or_abort(api=False)
        with unit_of_work(state.session):
            managers.do_sync_profile(state, manager)
        return render_template(
            "gincore_chats/console.html",
            manager=manager,
            csrf_token=csrf_token(),
            config=state.config,
            permissions=sorted(manager.permissions),
        )

    @bp.get("/console/api/me")
    @api_errors
    def me() -> Any:
        # Any logged-in user: the answer tells the UI (and the user) which permissions are missing.
        manager = current_manager(state)
        if manager is None:
            return json_error(401, "Log in to use the console.")
        return jsonify(
            id=manager.id,
            name=manager.name,
            avatar_url=manager.avatar_url,
            permissions=sorted(manager.permissions),
            csrf_token=csrf_token(),
        )

    def sees_customers(manager: Manager) -> bool:
        return manager.can(Permission.CUSTOMERS_VIEW) or manager.is_admin

    def summary_for(manager: Manager, conv: Conversation) -> dict[str, Any]:
        row = conversation_summary(conv)
        if not sees_customers(manager):
            row["contact"] = redact_contact(row["contact"])
        return row

    def summaries(manager: Manager, rows: list[Conversation]) -> list[dict[str, Any]]:
        """List rows with this manager's unread counts and the connected managers' faces."""
        unread = read_state.unread_counts(state, manager.id, [c.id for c in rows])
        people = managers.profiles(state, {m for c in rows for m in c.active_manager_ids})
        result = []
        for conv in rows:
            row = summary_for(manager, conv)
            row["unread"] = unread[conv.id]
            row["manager_profiles"] = [
                {"id": mid, "name": people[mid].display_name, "avatar_url": people[mid].avatar_url}
                for mid in conv.active_manager_ids
                if mid in people
            ]
            result.append(row)
        return result

    @bp.get("/console/api/conversations")
    @api_errors
    def list_conversations() -> Any:
        manager = manager_or_abort()
        page = conversations.list_for_manager(
            state,
            manager,
            filter_=request.args.get("filter", "all"),
            q=request.args.get("q"),
            cursor=request.args.get("cursor") or None,
            limit=request.args.get("limit", type=int),
        )
        return jsonify(conversations=summaries(manager, page.items), next_cursor=page.next_cursor)

    @bp.get("/console/api/unread")
    @api_errors
    def unread() -> Any:
        """This manager's unread counts for some list rows (``?ids=1,2``), and how many open
        conversations are unread in all (capped: the tab title shows "99+"; ``total=0`` skips
        that count, the costly part in a huge inbox)."""
        manager = manager_or_abort()
        found = (row_id(x) for x in request.args.get("ids", "").split(","))
        wanted = [x for x in found if x is not None]
        ids = conversations.visible_ids(state, manager, wanted[:200])
        counts = read_state.unread_counts(state, manager.id, ids)
        answer: dict[str, Any] = {"unread": {str(cid): n for cid, n in counts.items()}}
        if request.args.get("total") != "0":
            answer["conversations"] = conversations.count_unread(state, manager)
            answer["cap"] = conversations.UNREAD_COUNT_CAP
        return jsonify(answer)

    def detail(manager: Manager, conversation_id: int) -> dict[str, Any]:
        conv = conversations.access_for_manager(state, manager, conversation_id)
        rows = conversations.history(
            state, conv, staff=True, before_id=request.args.get("before", type=int)
        )
        people = managers.profiles(state, set(conv.active_manager_ids))
        result: dict[str, Any] = {
            "conversation": summary_for(manager, conv),
            "messages": [message_dict(m) for m in rows],
            "managers": [
                {"id": p.manager_id, "name": p.display_name, "avatar_url": p.avatar_url}
                for p in people.values()
            ],
            "joined": manager.id in conv.active_manager_ids,
            "last_seq": conv.last_seq,
            "unread": read_state.unread_counts(state, manager.id, [conv.id])[conv.id],
            "preview_enabled": typing_status.preview_enabled(state, conv.source),
        }
        draft = drafts.get_draft(state, manager, conv)
        result["draft"] = (
            {"body": draft.body, "quoted_message_id": draft.quoted_message_id} if draft else None
        )
        if manager.can(Permission.CUSTOMERS_VIEW) or manager.is_admin:
            result["contact"] = contact_dict(conv.contact)
            result["notes"] = [
                contacts.note_dict(n) for n in contacts.notes_for(state, conv.contact)
            ]
            result["context"] = visitor_context_dict(state.session.get(VisitorContext, conv.id))
        return result

    @bp.get("/console/api/conversations/<int:conversation_id>")
    @api_errors
    def get_conversation(conversation_id: int) -> Any:
        manager = manager_or_abort()
        return jsonify(detail(manager, conversation_id))

    @bp.get("/console/api/conversations/<int:conversation_id>/events")
    @api_errors
    def get_events(conversation_id: int) -> Any:
        from ..services.events import events_after

        manager = manager_or_abort()
        conv = conversations.access_for_manager(state, manager, conversation_id)
        upto = conv.last_seq
        events = events_after(
            state,
            conv.id,
            request.args.get("after", 0, type=int),
            staff=True,
            pii=sees_customers(manager),
        )
        more = len(events) >= state.config.replay_limit
        return jsonify(events=events, upto=events[-1]["seq"] if more else upto, more=more)

    @bp.post("/console/api/conversations/<int:conversation_id>/join")
    @api_errors
    def join(conversation_id: int) -> Any:
        manager = manager_or_abort()
        with unit_of_work(state.session):
            conv = conversations.access_for_manager(
                state, manager, conversation_id, Permission.REPLY
            )
            managers.do_sync_profile(state, manager)
            joined = participants.do_join(state, manager, conv)
        return jsonify(joined=joined, managers=conv.active_manager_ids)

    @bp.post("/console/api/conversations/<int:conversation_id>/leave")
    @api_errors
    def leave(conversation_id: int) -> Any:
        manager = manager_or_abort()
        with unit_of_work(state.session):
            conv = conversations.access_for_manager(state, manager, conversation_id)
            left = participants.do_leave(state, manager, conv)
        return jsonify(left=left, managers=conv.active_manager_ids)

    @bp.post("/console/api/conversations/<int:conversation_id>/messages")
    @api_errors
    def send(conversation_id: int) -> Any:
        manager = manager_or_abort()
        data = json_body()
        note = bool(data.get("note"))
        with unit_of_work(state.session):
            conv = conversations.access_for_manager(
                state, manager, conversation_id, Permission.REPLY
            )
            message, created = messages.do_send_manager_message(
                state,
                manager,
                conv,
                data.get("body"),
                data.get("client_id"),
                quoted_message_id=data.get("quoted_message_id"),
                note=note,
            )
            drafts.do_clear_draft(state, manager.id, conv.id)
            # Serialised before commit: afterwards the expired row would be loaded again.
            wire = message_dict(message)
        return jsonify(message=wire, created=created), 201 if created else 200

    def own_message(manager: Manager, conversation_id: int, message_id: int) -> tuple[Any, Message]:
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        return conv, messages.message_in(state, conv, message_id)

    @bp.patch("/console/api/conversations/<int:conversation_id>/messages/<int:message_id>")
    @api_errors
    def edit(conversation_id: int, message_id: int) -> Any:
        manager = manager_or_abort()
        data = json_body()
        with unit_of_work(state.session):
            conv, message = own_message(manager, conversation_id, message_id)
            messages.do_edit_message(state, manager, conv, message, data.get("body"))
            wire = message_dict(message)
        return jsonify(message=wire)

    @bp.delete("/console/api/conversations/<int:conversation_id>/messages/<int:message_id>")
    @api_errors
    def delete(conversation_id: int, message_id: int) -> Any:
        manager = manager_or_abort()
        with unit_of_work(state.session):
            conv, message = own_message(manager, conversation_id, message_id)
            messages.do_delete_message(state, manager, conv, message)
            wire = message_dict(message)
        return jsonify(message=wire)

    @bp.post("/console/api/conversations/<int:conversation_id>/messages/<int:message_id>/retry")
    @api_errors
    def retry_send(conversation_id: int, message_id: int) -> Any:
        """Send a reply that failed to reach a messenger customer again."""
        manager = manager_or_abort()
        with unit_of_work(state.session):
            conv, message = own_message(manager, conversation_id, message_id)
            outbound.do_retry(state, manager, conv, message)
            wire = message_dict(message)
        return jsonify(message=wire)

    @bp.patch("/console/api/conversations/<int:conversation_id>/contact")
    @api_errors
    def edit_contact(conversation_id: int) -> Any:
        manager = manager_or_abort()
        if not manager.can(Permission.CUSTOMERS_EDIT):
            raise PermissionDenied(
                "You need the customers.edit permission.", Permission.CUSTOMERS_EDIT
            )
        data = json_body()
        with unit_of_work(state.session):
            conv = conversations.access_for_manager(state, manager, conversation_id)
            contact = contacts.do_update_contact(state, conv, data)
            wire = contact_dict(contact)
        # customers.edit without customers.view may change fields but not read them back.
        return jsonify(contact=wire if sees_customers(manager) else redact_contact(wire))

    @bp.post("/console/api/conversations/<int:conversation_id>/notes")
    @api_errors
    def add_note(conversation_id: int) -> Any:
        manager = manager_or_abort()
        data = json_body()
        with unit_of_work(state.session):
            conv = conversations.access_for_manager(state, manager, conversation_id)
            note = contacts.do_add_note(state, manager, conv, data.get("body"))
        return jsonify(note=contacts.note_dict(note)), 201

    @bp.post("/console/api/conversations/<int:conversation_id>/status")
    @api_errors
    def set_status(conversation_id: int) -> Any:
        manager = manager_or_abort()
        status = json_body().get("status")
        with unit_of_work(state.session):
            conv = conversations.access_for_manager(
                state, manager, conversation_id, Permission.REPLY
            )
            if status == ConversationStatus.CLOSED:
                conversations.do_close(state, manager, conv)
            elif status == ConversationStatus.OPEN:
                conversations.do_reopen(state, conv)
            else:
                return json_error(400, "status must be open or closed.")
        return jsonify(conversation=summary_for(manager, conv))

    @bp.post("/console/api/conversations/<int:conversation_id>/read")
    @api_errors
    def mark_read(conversation_id: int) -> Any:
        manager = manager_or_abort()
        upto_id = json_body(optional=True).get("message_id")
        with unit_of_work(state.session):
            conv = conversations.access_for_manager(state, manager, conversation_id)
            last = read_state.do_mark_read(
                state, manager, conv, int(upto_id) if isinstance(upto_id, int) else None
            )
        return jsonify(last_read_message_id=last)

    @bp.post("/console/api/conversations/<int:conversation_id>/unread")
    @api_errors
    def mark_unread(conversation_id: int) -> Any:
        manager = manager_or_abort()
        with unit_of_work(state.session):
            conv = conversations.access_for_manager(state, manager, conversation_id)
            read_state.do_mark_unread(state, manager, conv)
        return jsonify(unread=True)

    @bp.put("/console/api/conversations/<int:conversation_id>/draft")
    @api_errors
    def save_draft(conversation_id: int) -> Any:
        manager = manager_or_abort()
        data = json_body()
        with unit_of_work(state.session):
            conv = conversations.access_for_manager(
                state, manager, conversation_id, Permission.REPLY
            )
            draft = drafts.do_save_draft(
                state, manager, conv, data.get("body", ""), data.get("quoted_message_id")
            )
        return jsonify(saved=draft is not None)

    @bp.get("/console/api/presence")
    @api_errors
    def get_presence() -> Any:
        manager = manager_or_abort()
        profile = managers.profiles(state, {manager.id}).get(manager.id)
        return jsonify(status=profile.presence if profile else Presence.ONLINE)

    @bp.post("/console/api/presence")
    @api_errors
    def set_presence() -> Any:
        manager = manager_or_abort()
        status = json_body().get("status")
        with unit_of_work(state.session):
            profile = presence.do_set_status(state, manager, str(status))
        return jsonify(status=profile.presence)

    @sock.route("/console/ws", bp=bp)
    def console_socket(ws: Any) -> None:
        manager = current_manager(state)
        if not same_origin(state, request.headers.get("Origin")):
            ws.close(reason=1008, message="Origin not allowed")
            return
        if manager is None or not (manager.can(Permission.VIEW) or manager.is_admin):
            ws.close(reason=1008, message="Not allowed")
            return
        inbox = sources.visible_source_ids(state, manager)
        with unit_of_work(state.session):
            managers.do_sync_profile(state, manager)
        state.db.session.remove()
        sub = Subscriber(
            send_text=ws.send,
            audience=STAFF,
            inbox_sources=inbox,
            manager_id=manager.id,
            can_view_customers=sees_customers(manager),
        )

        socket_id = uuid.uuid4().hex
        # What this tab shows: a manager looking at a chat gets no push for it.
        viewer = viewing.Viewer(state, manager.id, socket_id)

        def handle(msg: dict[str, Any]) -> dict[str, Any] | None:
            op = msg["op"]
            if op == "sync":
                cid = int(msg.get("conversation_id") or 0)
                conversations.access_for_manager(state, manager, cid)
                viewer.look_at(cid)
                return sync_reply(state, sub, cid, msg.get("after"), staff=True)
            if op == "unfollow":
                state.hub.unfollow(sub, int(msg.get("conversation_id") or 0))
                viewer.look_away(int(msg.get("conversation_id") or 0))
                return None
            if op == "viewing":
                # The tab was hidden or shown again (document.visibilitychange).
                cid = int(msg.get("conversation_id") or 0)
                if msg.get("active"):
                    conversations.access_for_manager(state, manager, cid)
                    viewer.look_at(cid)
                else:
                    viewer.look_away(cid)
                return None
            if op == "typing":
                cid = int(msg.get("conversation_id") or 0)
                conv = conversations.access_for_manager(state, manager, cid, Permission.REPLY)
                typing_status.publish_manager_typing(state, manager, conv, bool(msg.get("active")))
                return None
            return {"type": "error", "message": f"Unknown op {op!r}."}

        def heartbeat() -> None:
            presence.socket_alive(state, manager.id, socket_id)
            viewer.refresh()
            # Rights are read at connect; a socket lives for hours. If the host revoked a
            # permission or an admin changed assignments, close it: the client reconnects and
            # gets exactly its current rights.
            loader = getattr(getattr(current_app, "login_manager", None), "_user_callback", None)
            user = loader(manager.id) if loader else None
            now = describe(user, state.hooks) if user is not None else None
            if (
                now is None
                or now.permissions != manager.permissions
                or sources.visible_source_ids(state, now) != inbox
            ):
                sub.closed = True
                ws.close(reason=4001, message="Permissions changed; reconnect")

        try:
            heartbeat()
        finally:
            # Give the pooled connection back now: the socket may stay quiet for a long time.
            state.db.session.remove()
        try:
            run_socket(
                ws,
                state,
                sub,
                handle,
                hello={"type": "hello", "manager_id": manager.id},
                idle=heartbeat,
                idle_interval=presence.HEARTBEAT,
            )
        finally:
            presence.socket_closed(state, manager.id, socket_id)
            viewer.look_away()

    return bp
