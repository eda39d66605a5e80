/* The open conversation: header and actions, messages (signatures, quotes, edits, deletions,
   delivery states), typing indicators and the Pro live preview, and the composer (replies,
   private notes, quotes, edits, server-side drafts, typing signals).

   Exactly-once display: a message is keyed by id (and by client_id while it is being sent);
   every applied event records its sequence number per message, so an older state replayed
   late never overwrites a newer one. Nothing typed is lost: drafts are saved on the server,
   and a reply that cannot be sent stays in the thread with a Retry button. */

import {
  $, announce, api, avatar, button, can, config, root, el, emit, fmtDateTime, srOnly
} from "./console-core.js";
import { Tracker } from "./console-tracker.js";
import * as list from "./console-list.js";
import * as panel from "./console-panel.js";
import * as typing from "./console-typing.js";
import * as drafts from "./console-drafts.js";
import * as thread from "./console-thread.js";
import * as send from "./console-send.js";
import {
  KIND_NAMES, alertChat, authorName, composerError, conv, cur, customerName, joined, outbox,
  setCur, setSocket, setTzMode, sock, systemText, tzMode
} from "./console-state.js";

var openSeq = 0;
var bodyEl, composerEl;

/* ---- quotes ----------------------------------------------------------------------------- */

function quoteOf(m) {
  return { id: m.id, author_name: authorName(m), body: m.deleted ? "" : m.body, deleted: !!m.deleted, kind: m.kind };
}

function renderQuoteBar() {
  var bar = $("gc-quote-bar");
  if (!cur || !cur.quote) { bar.hidden = true; return; }
  var q = cur.quote;
  var text = $("gc-quote-text");
  text.textContent = "";
  text.appendChild(el("span", "gc-muted", "Quoting "));
  text.appendChild(el("strong", null, q.author_name || ""));
  text.appendChild(el("span", "gc-quote-snippet", ": " + (q.deleted ? "Message deleted" : (q.body || "").slice(0, 140))));
  bar.hidden = false;
}

function startQuote(m) {
  if (!cur) return;
  if (cur.edit) cancelEdit();
  cur.quote = quoteOf(m);
  // An internal note may only be quoted in another note (the server refuses otherwise).
  if (m.kind === "note") setMode("note");
  renderQuoteBar();
  drafts.schedule();
  bodyEl.focus();
}

function cancelQuote() {
  if (!cur || !cur.quote) return false;
  cur.quote = null;
  renderQuoteBar();
  drafts.schedule();
  return true;
}

/* ---- edit (own messages; the server enforces it too) ------------------------------------ */

function startEdit(m) {
  if (!cur || !m || m.deleted) return;
  if (cur.edit) cancelEdit();
  drafts.save(cur);
  cur.edit = { id: m.id, kind: m.kind, saved: { body: bodyEl.value, quote: cur.quote, mode: cur.mode } };
  cur.quote = null;
  renderQuoteBar();
  cur.mode = m.kind === "note" ? "note" : "reply";
  bodyEl.value = m.body;
  var note = "Editing your " + (m.kind === "note" ? "private note" : "message") + ".";
  if (m.kind === "manager" && m.edits_reach_customer === false) {
    note += " The customer keeps the original: " + (KIND_NAMES[conv().source_kind] || "this channel") + " does not deliver edits.";
  }
  $("gc-edit-text").textContent = note;
  $("gc-edit-bar").hidden = false;
  updateComposer();
  bodyEl.focus();
  bodyEl.setSelectionRange(bodyEl.value.length, bodyEl.value.length);
  typing.stop();
}

function cancelEdit() {
  if (!cur || !cur.edit) return false;
  var saved = cur.edit.saved;
  cur.edit = null;
  bodyEl.value = saved.body;
  cur.quote = saved.quote;
  cur.mode = saved.mode;
  $("gc-edit-bar").hidden = true;
  renderQuoteBar();
  updateComposer();
  return true;
}

function lastOwnMessage() {
  var best = null;
  cur.messages.forEach(function (m) {
    if ((m.kind === "manager" || m.kind === "note") && m.author_id === config.me && !m.deleted) {
      if (!best || m.id > best.id) best = m;
    }
  });
  return best;
}

function submitEdit() {
  var c = cur, id = c.edit.id, text = bodyEl.value.trim();
  if (!text) { composerError("The message is empty. To remove it, use Delete."); return; }
  var send = $("gc-send");
  send.disabled = true;
  api("PATCH", "/conversations/" + c.id + "/messages/" + id, { body: text }).then(function (data) {
    send.disabled = false;
    if (cur !== c) return;
    composerError("");
    cancelEdit();
    thread.upsertMessage(data.message, null, "edit");
    announce("Message edited.");
    bodyEl.focus();
  }, function (e) {
    send.disabled = false;
    composerError(e.message);
  });
}

/* ---- sending ------------------------------------------------------------------------------- */

/* Send, then clear the composer (one file of several: only the first keeps quote and caption). */
function queueSend(c, text, file) {
  send.queue(c, text, file);
  bodyEl.value = "";
  c.quote = null;
  renderQuoteBar();
  typing.stop();
  drafts.drop(c);
}

function submit() {
  if (!cur) return;
  composerError("");
  if (cur.edit) { submitEdit(); return; }
  var text = bodyEl.value.trim();
  if (!text) return;
  var note = cur.mode === "note";
  if (!note && !joined()) { composerError("Join the conversation before replying, or write a private note."); return; }
  queueSend(cur, text, null);
}

/* ---- composer state ---------------------------------------------------------------------- */

function setMode(mode) {
  if (!cur) return;
  cur.mode = mode;
  if (mode === "reply" && cur.quote && cur.quote.kind === "note") { cancelQuote(); announce("Quote removed: private notes can be quoted only in notes."); }
  if (mode !== "reply") typing.stop();
  updateComposer();
}

function updateComposer() {
  var visible = !!cur && can("chats.reply");
  composerEl.hidden = !visible;
  if (!visible) return;
  var editing = !!cur.edit;
  composerEl.querySelectorAll('input[name="gc-mode"]').forEach(function (r) {
    r.checked = r.value === cur.mode;
    r.disabled = editing;
  });
  composerEl.classList.toggle("gc-note-mode", cur.mode === "note");
  var label = $("gc-body-label"), send = $("gc-send");
  if (editing) { label.textContent = "Edit message"; send.textContent = "Save"; bodyEl.placeholder = ""; }
  else if (cur.mode === "note") { label.textContent = "Private note"; send.textContent = "Send note"; bodyEl.placeholder = "Only your team sees private notes…"; }
  else { label.textContent = "Reply"; send.textContent = "Send"; bodyEl.placeholder = "Write a reply…"; }
  var blocked = !editing && cur.mode === "reply" && !joined();
  $("gc-join-hint").hidden = !blocked;
  // Replies to a customer who blocked the bot fail at once; notes still work.
  var away = conv().unreachable;
  var hint = $("gc-unreachable");
  hint.hidden = !away || cur.mode !== "reply";
  hint.textContent = away ? unreachableText(away) + " Replies are not sent until they write again; private notes work." : "";
  send.disabled = blocked;
  $("gc-attach").disabled = blocked || editing;
}

/* ---- header and actions -------------------------------------------------------------------- */

function unreachableText(away) {
  var since = away.since ? " (since " + fmtDateTime(away.since, null) + ")" : "";
  return (away.reason || "The customer cannot receive messages.") + since;
}

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
    away.title = unreachableText(c.unreachable);
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
  updateComposer();
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
  if (cur && cur.id === id && !(options && options.reload)) { bodyEl.focus(); return Promise.resolve(); }
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
    bodyEl.value = "";
    if (data.draft) {
      bodyEl.value = data.draft.body || "";
      var qid = data.draft.quoted_message_id;
      if (qid) {
        var qm = c.messages.get(qid);
        c.quote = qm ? quoteOf(qm) : { id: qid, author_name: "", body: "an earlier message", kind: "customer" };
        if (c.quote.kind === "note") c.mode = "note";
      }
    }
    $("gc-edit-bar").hidden = true;
    renderQuoteBar();
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
    composerEl.hidden = true;
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
  bodyEl = $("gc-body");
  composerEl = $("gc-composer");
  thread.init({
    quote: startQuote,
    edit: startEdit,
    resend: send.resend,
    changed: function (m) {
      if (cur.edit && cur.edit.id === m.id && m.deleted) cancelEdit();
      if (cur.quote && cur.quote.id === m.id) { cur.quote = quoteOf(m); renderQuoteBar(); }
    }
  });
  typing.init();
  drafts.init();

  composerEl.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  bodyEl.addEventListener("keydown", function (e) {
    if (e.isComposing) return;
    if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      if (!$("gc-send").disabled || (cur && cur.edit)) submit();
      else if (cur && cur.mode === "reply" && !joined()) composerError("Join the conversation before replying, or write a private note.");
    } else if (e.key === "ArrowUp" && !bodyEl.value && cur && !cur.edit) {
      var m = lastOwnMessage();
      if (m) { e.preventDefault(); startEdit(m); }
    } else if (e.key === "Escape") {
      if (cancelEdit() || cancelQuote()) { e.preventDefault(); e.stopPropagation(); }
    }
  });
  bodyEl.addEventListener("input", function () { composerError(""); drafts.schedule(); typing.input(); });
  bodyEl.addEventListener("blur", function () { typing.stop(); if (cur) drafts.save(cur); });
  composerEl.querySelectorAll('input[name="gc-mode"]').forEach(function (r) {
    r.addEventListener("change", function () { if (r.checked) { setMode(r.value); drafts.schedule(); } });
  });
  $("gc-quote-cancel").addEventListener("click", function () { cancelQuote(); bodyEl.focus(); });
  $("gc-edit-cancel").addEventListener("click", function () { cancelEdit(); bodyEl.focus(); });
  var picker = $("gc-file");
  $("gc-attach").addEventListener("click", function () { picker.click(); });
  function sendFiles(files) {
    if (!cur || !files.length || $("gc-attach").disabled) return false;
    // One upload is one message; the text in the box goes with the first file as its caption.
    var caption = bodyEl.value.trim();
    Array.from(files).forEach(function (file, i) { queueSend(cur, i === 0 ? caption : "", file); });
    return true;
  }
  picker.addEventListener("change", function () {
    sendFiles(picker.files);
    picker.value = "";
    bodyEl.focus();
  });
  // Drag-and-drop onto the chat, and files or screenshots pasted into the reply box.
  var msgs = $("gc-messages"), chatEl = msgs.closest("section") || msgs;
  chatEl.addEventListener("dragover", function (e) {
    if (!e.dataTransfer || Array.from(e.dataTransfer.types || []).indexOf("Files") < 0) return;
    e.preventDefault();
    chatEl.classList.add("gc-dropping");
  });
  chatEl.addEventListener("dragleave", function (e) {
    if (!chatEl.contains(e.relatedTarget)) chatEl.classList.remove("gc-dropping");
  });
  chatEl.addEventListener("drop", function (e) {
    chatEl.classList.remove("gc-dropping");
    if (!e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    if (sendFiles(e.dataTransfer.files)) bodyEl.focus();
  });
  bodyEl.addEventListener("paste", function (e) {
    var files = e.clipboardData ? e.clipboardData.files : null;
    // Plain text pastes as text; only a paste carrying files sends them.
    if (files && files.length && sendFiles(files)) e.preventDefault();
  });


  action($("gc-join"), function (c) {
    return api("POST", "/conversations/" + c.id + "/join").then(function (d) {
      if (cur !== c) return;
      conv().managers = d.managers;
      renderHeader();
      bodyEl.focus();
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
