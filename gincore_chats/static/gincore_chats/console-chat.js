/* The open conversation: header and actions, messages (signatures, quotes, edits, deletions,
   delivery states), typing indicators and the Pro live preview, and the composer (replies,
   private notes, quotes, edits, server-side drafts, typing signals).

   Exactly-once display: a message is keyed by id (and by client_id while it is being sent);
   every applied event records its sequence number per message, so an older state replayed
   late never overwrites a newer one. Nothing typed is lost: drafts are saved on the server,
   and a reply that cannot be sent stays in the thread with a Retry button. */

import {
  $, announce, api, avatar, button, can, config, root, el, emit, srOnly
} from "./console-core.js";
import { Tracker } from "./console-tracker.js";
import * as list from "./console-list.js";
import * as panel from "./console-panel.js";
import * as typing from "./console-typing.js";
import * as drafts from "./console-drafts.js";
import * as thread from "./console-thread.js";
import * as composer from "./console-composer.js";
import {
  KIND_NAMES, alertChat, conv, cur, customerName, joined, outbox,
  setCur, setSocket, setTzMode, sock, systemText, tzMode
} from "./console-state.js";

var openSeq = 0;

/* ---- header and actions -------------------------------------------------------------------- */

function renderHeader() {
  var actions = $("gc-chat-actions");
  if (!cur) { actions.hidden = true; return; }
  var c = conv();
  $("gc-chat-title").textContent = customerName();
  var sub = $("gc-chat-sub");
  sub.textContent = "";
  sub.appendChild(el("span", "gc-chat-source", c.source_name + (c.source_kind && c.source_kind !== "widget" ? " · " + (KIND_NAMES[c.source_kind] || c.source_kind) : "")));
  sub.appendChild(el("span", "gc-tag " + (c.status === "closed" ? "gc-tag-closed" : "gc-tag-open"), c.status === "closed" ? "Closed" : "Open"));
  if (c.unreachable) {
    var away = el("span", "gc-tag gc-tag-unreachable", "Unreachable");
    away.title = composer.unreachableText(c.unreachable);
    away.appendChild(srOnly(": " + away.title));
    sub.appendChild(away);
  }
  var ids = c.managers || [];
  var inChat = el("span", "gc-chat-people");
  if (ids.length) {
    inChat.appendChild(el("span", "gc-muted", "In chat: "));
    ids.forEach(function (id, i) {
      var p = list.people.get(String(id)) || { id: id, name: "Manager " + id };
      var who = el("span", "gc-person");
      who.appendChild(avatar(p.name, p.avatar_url, p.id, "gc-avatar-xs"));
      who.appendChild(el("span", null, (String(id) === String(config.me) ? p.name + " (you)" : p.name) + (i < ids.length - 1 ? "," : "")));
      inChat.appendChild(who);
    });
  } else inChat.appendChild(el("span", "gc-muted", "Nobody has joined"));
  sub.appendChild(inChat);

  actions.hidden = false;
  var reply = can("chats.reply"), isIn = joined();
  $("gc-join").hidden = !reply || isIn;
  $("gc-leave").hidden = !isIn;
  var listed = list.row(cur.id);
  var unread = !!(listed && listed.unread > 0);
  $("gc-unread").textContent = unread ? "Mark as read" : "Mark as unread";
  $("gc-unread").dataset.unread = unread ? "1" : "0";
  $("gc-close").hidden = !reply || c.status === "closed";
  $("gc-reopen").hidden = !reply || c.status !== "closed";
  var tz = $("gc-tz"), off = panel.customerOffset();
  tz.setAttribute("aria-pressed", String(tzMode === "customer"));
  tz.disabled = off === null;
  tz.title = off === null ? "The customer's time zone is not known." : "Show message times in the customer's local time.";
  composer.update();
}

function action(btn, fn) {
  btn.addEventListener("click", function () {
    if (!cur) return;
    var c = cur;
    btn.disabled = true;
    alertChat("");
    fn(c).then(function () { btn.disabled = false; }, function (e) { btn.disabled = false; alertChat(e.message); });
  });
}

/* ---- events ---------------------------------------------------------------------------------- */

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
      else if (m.author_id) typing.clear("m:" + m.author_id);
      if (m.kind === "system" && m.system_data && m.system_data.manager_id) {
        list.rememberPeople([{ id: String(m.system_data.manager_id), name: m.system_data.name }]);
      }
      if (isNew && m.kind === "customer") {
        if (document.hidden || !thread.nearBottom()) announce("New message from " + customerName() + ": " + m.body.slice(0, 120));
        markRead();
      }
      if (isNew && m.kind === "system") announce(systemText(m));
    }
  } else if (ev.event === "participants.changed") {
    conv().managers = d.managers || [];
    renderHeader();
  } else if (ev.event === "contact.reachability") {
    var was = !!conv().unreachable;
    conv().unreachable = d.unreachable || null;
    renderHeader();
    if (was !== !!conv().unreachable) announce(conv().unreachable ? "The customer can no longer receive replies." : "The customer can receive replies again.");
  } else if (ev.event === "conversation.status") {
    conv().status = d.status;
    renderHeader();
    announce(d.status === "closed" ? "Conversation closed." : "Conversation reopened.");
  } else if (ev.event === "visitor.context") {
    cur.detail.context = d.context;
    panel.applyEvent(ev);
    renderHeader();
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

/* A list row changed: keep the header (name, managers, status) in step. */
export function applyRow(r) {
  if (!cur || r.id !== cur.id) return;
  var c = conv();
  if (r.last_seq >= (c.last_seq || 0)) {
    Object.assign(c, r, { contact: Object.assign({}, c.contact, r.contact) });
    panel.applyRow(r);
  }
  renderHeader();  // the read/unread button follows this manager's read state
}

/* ---- read state ------------------------------------------------------------------------------ */

function newestId() {
  var n = 0;
  cur.messages.forEach(function (m, id) { if (id > n) n = id; });
  return n;
}

function markRead() {
  if (!cur || document.hidden || cur.keepUnread) return;
  var c = cur;
  clearTimeout(c.readTimer);
  c.readTimer = setTimeout(function () {
    var upto = newestId();
    if (!upto || upto <= c.readUpTo || cur !== c) return;
    c.readUpTo = upto;
    c.reading = api("POST", "/conversations/" + c.id + "/read", { message_id: upto }).catch(function () { c.readUpTo = 0; });
  }, 150);
}

export function onVisibility() {
  if (!cur || !sock) return;
  sock.send({ op: "viewing", conversation_id: cur.id, active: !document.hidden });
  if (!document.hidden) { resync(); markRead(); }
}

/* ---- opening ---------------------------------------------------------------------------------- */

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
  $("gc-chat-title").textContent = "Loading…";
  return Promise.resolve(drafts.landed(id)).then(function () {
    return api("GET", "/conversations/" + id);
  }).then(function (data) {
    if (seq !== openSeq) return;
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
    renderHeader();
    typing.render();
    thread.toBottom();
    if (sock) sock.send({ op: "sync", conversation_id: id, after: c.tracker.floor });
    if (data.unread) { c.readUpTo = 0; markRead(); }
    try {
      var url = new URL(location.href);
      url.searchParams.set("c", String(id));
      history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    } catch (e) { /* not important */ }
    emit("opened", id);
  }, function (e) {
    if (seq !== openSeq) return;
    setCur(null);
    list.setCurrent(null);
    $("gc-chat-title").textContent = "Conversation unavailable";
    thread.clear();
    $("gc-chat-actions").hidden = true;
    composer.hide();
    panel.clear("");
    alertChat(e.message);
  });
}

/* ---- wiring ----------------------------------------------------------------------------------- */

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

export function init(socket) {
  setSocket(socket);
  thread.init(composer.messageActions);
  typing.init();
  drafts.init();
  composer.init();

  action($("gc-join"), function (c) {
    return api("POST", "/conversations/" + c.id + "/join").then(function (d) {
      if (cur !== c) return;
      conv().managers = d.managers;
      renderHeader();
      composer.focus();
      typing.input();
    });
  });
  action($("gc-leave"), function (c) {
    return api("POST", "/conversations/" + c.id + "/leave").then(function (d) {
      if (cur !== c) return;
      typing.stop();
      conv().managers = d.managers;
      renderHeader();
      $("gc-join").focus();
    });
  });
  action($("gc-unread"), function (c) {
    if ($("gc-unread").dataset.unread === "1") {
      c.keepUnread = false;
      return api("POST", "/conversations/" + c.id + "/read").then(function () {
        if (cur === c) announce("Marked as read.");
      });
    }
    // Stop reading it now, and let a read already on its way land first.
    c.keepUnread = true;
    clearTimeout(c.readTimer);
    return Promise.resolve(c.reading).then(function () {
      return api("POST", "/conversations/" + c.id + "/unread");
    }).then(function () {
      if (cur === c) announce("Marked as unread.");
    });
  });
  action($("gc-close"), function (c) {
    return api("POST", "/conversations/" + c.id + "/status", { status: "closed" }).then(function (d) {
      if (cur !== c) return;
      applyRow(d.conversation);
      $("gc-reopen").focus();
    });
  });
  action($("gc-reopen"), function (c) {
    return api("POST", "/conversations/" + c.id + "/status", { status: "open" }).then(function (d) {
      if (cur !== c) return;
      applyRow(d.conversation);
      $("gc-close").focus();
    });
  });
  $("gc-tz").addEventListener("click", function () {
    setTzMode(tzMode === "customer" ? "mine" : "customer");
    renderHeader();
    thread.rerenderTimes();
  });
}
