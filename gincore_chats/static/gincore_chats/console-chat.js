/* The open conversation: opening and switching (a draft save still under way lands first),
   following it live (events applied in sequence order, a gap or a reconnect resyncs from the
   last contiguous sequence number), and what the rest of the console asks of it.

   It owns the conversation's life; showing it is split by concern: console-thread.js (the
   messages), console-header.js (header and actions), console-composer.js (replies, notes,
   quotes, edits, files), console-send.js, console-drafts.js, console-typing.js and
   console-read.js. The shared state is console-state.js. */

import { $, announce, api, emit, root, t } from "./console-core.js";
import { Tracker } from "./console-tracker.js";
import * as list from "./console-list.js";
import * as panel from "./console-panel.js";
import * as typing from "./console-typing.js";
import * as drafts from "./console-drafts.js";
import * as thread from "./console-thread.js";
import * as composer from "./console-composer.js";
import * as header from "./console-header.js";
import * as ai from "./console-ai.js";
import * as read from "./console-read.js";
import {
  alertChat, conv, cur, customerName, outbox, setCur, setLoading, setSocket, sock, systemText
} from "./console-state.js";

var openSeq = 0;

/* ---- events ---------------------------------------------------------------------------- */

function scheduleSync() {
  if (!cur || cur.tracker.timer) return;
  var c = cur;
  c.tracker.timer = setTimeout(function () { c.tracker.timer = null; if (cur === c) resync(); }, 300);
}

export function resync() {
  if (cur && sock) sock.send({ op: "sync", conversation_id: cur.id, after: cur.tracker.floor });
}

export function applyEvent(ev) {
  if (!cur || ev.conversation_id !== cur.id) return;
  if (!cur.tracker.accept(ev.seq)) return;
  var d = ev.data || {};
  if (ev.event === "message.created" || ev.event === "message.updated") {
    var m = d.message;
    if (m) {
      var isNew = ev.event === "message.created" && !cur.messages.has(m.id);
      thread.upsertMessage(m, ev.seq);
      if (m.kind === "customer") typing.clear("customer");
      else if (m.kind === "assistant") typing.clear("assistant");
      else if (m.author_id) typing.clear("m:" + m.author_id);
      if (m.kind === "system" && m.system_data && m.system_data.manager_id) {
        list.rememberPeople([{ id: String(m.system_data.manager_id), name: m.system_data.name }]);
      }
      if (isNew && m.kind === "customer") {
        if (document.hidden || !thread.nearBottom()) announce(t("New message from {name}: {text}", { name: customerName(), text: m.body.slice(0, 120) }));
        read.markRead();
      }
      if (isNew && m.kind === "system") announce(systemText(m));
    }
  } else if (ev.event === "participants.changed") {
    conv().managers = d.managers || [];
    header.render();
  } else if (ev.event === "contact.reachability") {
    var was = !!conv().unreachable;
    conv().unreachable = d.unreachable || null;
    header.render();
    if (was !== !!conv().unreachable) announce(conv().unreachable ? t("The customer can no longer receive replies.") : t("The customer can receive replies again."));
  } else if (ev.event === "ai.state") {
    ai.applyEvent(d);
    header.render();
  } else if (ev.event === "conversation.labels") {
    conv().labels = d.labels || [];
    list.setRowLabels(cur.id, conv().labels);
    header.render();
  } else if (ev.event === "conversation.status") {
    conv().status = d.status;
    header.render();
    announce(d.status === "closed" ? t("Conversation closed.") : t("Conversation reopened."));
  } else if (ev.event === "visitor.context") {
    cur.detail.context = d.context;
    panel.applyEvent(ev);
    header.render();
    thread.rerenderTimes();
  } else {
    panel.applyEvent(ev);
  }
  if (cur.tracker.hasGap()) scheduleSync();
}

export function applySynced(f) {
  if (!cur || f.conversation_id !== cur.id) return;
  cur.tracker.synced(f.upto);
  // Live from here on (tests and styles can rely on it).
  if (!f.more) root.dataset.synced = String(cur.id);
  if (f.more) resync();
  else if (cur.tracker.hasGap()) scheduleSync();
}

export function applyError(f) {
  if (f.op === "typing") return;  // e.g. left the chat a moment ago; nothing to tell
  if (f.op === "sync" && cur) { alertChat(f.message); return; }
  alertChat(f.message);
}

export function onVisibility() {
  if (!cur || !sock) return;
  sock.send({ op: "viewing", conversation_id: cur.id, active: !document.hidden });
  if (!document.hidden) { resync(); read.markRead(); }
}

/* ---- opening --------------------------------------------------------------------------- */

function leaveCurrent() {
  if (!cur) return;
  typing.leave();
  drafts.save(cur);
  cur.tracker.stop();
  if (sock) sock.send({ op: "unfollow", conversation_id: cur.id });
}

export function current() { return cur ? cur.id : null; }

export function open(id, options) {
  id = Number(id);
  if (!id) return Promise.resolve();
  if (cur && cur.id === id && !(options && options.reload)) { composer.focus(); return Promise.resolve(); }
  var seq = ++openSeq;
  leaveCurrent();
  delete root.dataset.synced;
  list.setCurrent(id);
  alertChat("");
  $("gc-chat-title").textContent = t("Loading…");
  // Until the next one has loaded, the header's buttons would act on the conversation left.
  setLoading(true);
  $("gc-chat-actions").hidden = true;
  return Promise.resolve(drafts.landed(id)).then(function () {
    return api("GET", "/conversations/" + id);
  }).then(function (data) {
    if (seq !== openSeq) return;
    setLoading(false);
    list.rememberPeople(data.managers);
    var c = {
      id: id, detail: data, tracker: new Tracker(data.last_seq), msgSeq: new Map(), messages: new Map(),
      typing: new Map(), mode: "reply", quote: null, edit: null, keepUnread: false,
      readUpTo: 0, draftDirty: false, typingOn: false, typingSent: 0
    };
    data.messages.forEach(function (m) { c.messages.set(m.id, m); if (!data.unread && m.id > c.readUpTo) c.readUpTo = m.id; });
    // Unconfirmed local sends: drop those the server has by now.
    var box = outbox.get(id);
    if (box) data.messages.forEach(function (m) { if (m.client_id) box.delete(m.client_id); });
    setCur(c);
    $("gc-placeholder").hidden = true;
    $("gc-older").hidden = data.messages.length < thread.HISTORY_PAGE;
    panel.show(data);
    thread.renderAll();
    composer.show(c, data.draft);
    header.render();
    typing.render();
    thread.toBottom();
    if (sock) sock.send({ op: "sync", conversation_id: id, after: c.tracker.floor });
    if (data.unread) { c.readUpTo = 0; read.markRead(); }
    try {
      var url = new URL(location.href);
      url.searchParams.set("c", String(id));
      history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    } catch (e) { /* not important */ }
    emit("opened", id);
  }, function (e) {
    if (seq !== openSeq) return;
    setLoading(false);
    setCur(null);
    list.setCurrent(null);
    $("gc-chat-title").textContent = t("Conversation unavailable");
    thread.clear();
    $("gc-chat-actions").hidden = true;
    composer.hide();
    panel.clear("");
    alertChat(e.message);
  });
}

/* ---- wiring ---------------------------------------------------------------------------- */

/* Our rights changed while we were connected: show the open conversation again as the
   server now answers it (customer details may come or go, buttons appear or vanish). */
export function onPermissions() {
  if (cur) open(cur.id, { reload: true });
}

export function onDown() {
  delete root.dataset.synced;
  if (!cur) return;
  typing.clear();
}

/* Each part wires its own elements; the thread gets the composer's actions for its buttons
   (it cannot import the composer, which shows messages through it). */
export function init(socket) {
  setSocket(socket);
  thread.init(composer.messageActions);
  typing.init();
  drafts.init();
  composer.init();
  header.init();
}
