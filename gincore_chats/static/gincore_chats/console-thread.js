/* The thread: the open conversation's messages (signatures, quotes, attachments, edits,
   deletions, delivery states), older pages, jumping to a quoted message, roving focus, and the
   actions that act on one shown message (delete, retry a failed delivery).

   Exactly-once display: a message is keyed by id (and by client_id while it is being sent);
   every applied event records its sequence number per message, so an older state replayed
   late never overwrites a newer one.

   The buttons that start something in the composer (quote, edit, send again) call the actions
   console-composer.js hands to init(): the composer shows messages through this module, so the
   thread cannot import it back. */

import {
  $, announce, api, avatar, button, can, config, customerAvatar, el, emit, fmtDateTime, fmtWhen,
  appendLinkified, fileUrl, humanSize, t
} from "./console-core.js";
import * as panel from "./console-panel.js";
import {
  KIND_NAMES, alertChat, authorName, conv, cur, customerName, offset, outbox, systemText
} from "./console-state.js";

export var HISTORY_PAGE = 100;
function deliveryName(st) {
  // TRANSLATORS: delivery status of a message
  if (st === "pending") return t("Sending…");
  // TRANSLATORS: delivery status of a message
  if (st === "sent") return t("Sent");
  // TRANSLATORS: delivery status of a message
  if (st === "delivered") return t("Delivered");
  // TRANSLATORS: delivery status of a message (the customer has read it)
  if (st === "read") return t("Read");
  // TRANSLATORS: delivery status of a message
  if (st === "failed") return t("Not delivered");
  return st;
}
var msgsEl, threadEl, bodyEl;
var actions = { quote: null, edit: null, resend: null, changed: null };

/* ---- scrolling and times --------------------------------------------------------------- */

export function nearBottom() { return threadEl.scrollHeight - threadEl.scrollTop - threadEl.clientHeight < 120; }

export function toBottom() { threadEl.scrollTop = threadEl.scrollHeight; }

function timeEl(iso) {
  var node = el("time", "gc-time", fmtWhen(iso, offset()));
  node.dateTime = iso || "";
  var off = panel.customerOffset();
  node.title = off !== null
    ? t("Your time: {mine} · Customer's time: {theirs}", { mine: fmtDateTime(iso, null), theirs: fmtDateTime(iso, off) })
    : t("Your time: {mine}", { mine: fmtDateTime(iso, null) });
  return node;
}

export function rerenderTimes() {
  if (!cur) return;
  msgsEl.querySelectorAll("time.gc-time").forEach(function (node) {
    node.textContent = fmtWhen(node.dateTime, offset());
  });
}

/* ---- rendering one message ------------------------------------------------------------- */

function quoteBlock(q) {
  var b = el("button", "gc-quote");
  b.type = "button";
  b.dataset.action = "jump";
  var who = q.author_name || (q.kind === "customer" ? customerName() : "");
  b.appendChild(el("span", "gc-quote-author", who));
  b.appendChild(el("span", "gc-quote-body", q.deleted ? t("Message deleted") : q.body));
  b.appendChild(el("span", "gc-sr", " " + t("(show the quoted message)")));
  b.addEventListener("click", function () { jumpTo(q.id); });
  return b;
}

function deliveryLine(m) {
  var st = m.delivery_status;
  var line = el("p", "gc-delivery gc-delivery-" + st);
  line.appendChild(el("span", "gc-delivery-status", deliveryName(st)));
  if (m.delivery_error) line.appendChild(el("span", "gc-delivery-error", ": " + m.delivery_error));
  if (m.can_retry && can("chats.reply")) {
    var r = button(t("Retry"), "gc-link-button", function () { retry(m, r); });
    r.dataset.action = "retry";
    line.appendChild(r);
  }
  return line;
}

function localStateLine(m) {
  var line = el("p", "gc-delivery " + (m._failed ? "gc-delivery-failed" : "gc-delivery-pending"));
  if (m._pending) {
    // TRANSLATORS: delivery status of a message
    line.appendChild(el("span", "gc-delivery-status", t("Sending…")));
    if (m._file) {
      // A real progress bar for uploads, named for screen readers; updated by onProgress.
      var bar = el("progress", "gc-upload-progress");
      bar.id = "gc-up-" + m.client_id;
      bar.max = 100;
      bar.value = Math.round((m._progress || 0) * 100);
      bar.setAttribute("aria-label", t("Uploading {name}", { name: m._file.name }));
      line.appendChild(bar);
    }
    return line;
  }
  line.appendChild(el("span", "gc-delivery-status", t("Not sent")));
  line.appendChild(el("span", "gc-delivery-error", ": " + m._failed));
  var again = button(t("Retry"), "gc-link-button", function () { actions.resend(m); });
  again.dataset.action = "retry";
  var drop = button(t("Discard"), "gc-link-button", function () {
    var box = outbox.get(m.conversation_id);
    if (box) box.delete(m.client_id);
    var n = findNode(m);
    if (n) n.remove();
    bodyEl.focus();
  });
  line.appendChild(again);
  line.appendChild(drop);
  return line;
}

function tools(m, li, textId) {
  var box = el("div", "gc-msg-tools");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", t("Message actions"));
  var add = function (label, action, fn) {
    var b = button(label, "gc-tool", fn);
    b.dataset.action = action;
    if (textId) b.setAttribute("aria-describedby", textId);
    b.tabIndex = -1;
    box.appendChild(b);
  };
  // TRANSLATORS: button: quote this message in a reply
  if (can("chats.reply")) add(t("Quote"), "quote", function () { actions.quote(m); });
  var mine = (m.kind === "manager" || m.kind === "note") && m.author_id === config.me;
  if (mine && can("chats.reply")) {
    add(t("Edit"), "edit", function () { actions.edit(m); });
    add(t("Delete"), "delete", function () { confirmDelete(m, li); });
  }
  return box.childNodes.length ? box : null;
}

function renderMessage(m) {
  var li = el("li", "gc-msg gc-msg-" + m.kind);
  li.id = m.id ? "gc-msg-" + m.id : "gc-msg-p-" + m.client_id;
  if (m.id) li.dataset.id = m.id;
  if (m.client_id) li.dataset.clientId = m.client_id;
  li.tabIndex = -1;
  if (m.kind === "system") {
    li.appendChild(el("p", "gc-system", systemText(m)));
    return li;
  }
  var mine = (m.kind === "manager" || m.kind === "note") && m.author_id === config.me;
  if (mine) li.classList.add("gc-own");
  if (m.deleted) li.classList.add("gc-msg-deleted");
  if (m._pending) li.classList.add("gc-pending");
  if (m._failed) li.classList.add("gc-failed");
  var head = el("div", "gc-msg-head");
  var name = authorName(m);
  head.appendChild(m.kind === "customer" ? customerAvatar(conv(), "gc-avatar-sm") : avatar(name, m.author_avatar_url, m.author_id, "gc-avatar-sm"));
  head.appendChild(el("strong", "gc-author", name));
  if (m.kind === "note") head.appendChild(el("span", "gc-tag gc-tag-note", t("Private note")));
  if (m.kind === "assistant") head.appendChild(el("span", "gc-tag gc-tag-ai", t("AI assistant")));
  head.appendChild(timeEl(m.created_at));
  if (m.edited_at && !m.deleted) {
    // TRANSLATORS: a mark on a message that was changed after it was sent
    var ed = el("span", "gc-edited", t("edited"));
    ed.title = t("Edited {when}", { when: fmtDateTime(m.edited_at, null) });
    head.appendChild(ed);
  }
  li.appendChild(head);
  if (m.quoted) li.appendChild(quoteBlock(m.quoted));
  var textId = null;
  if (m.deleted) {
    li.appendChild(el("p", "gc-deleted", t("Message deleted")));
  } else if (m.body || !(m._file || (m.attachments && m.attachments.length))) {
    var p = el("p", "gc-text");
    textId = li.id + "-text";
    p.id = textId;
    appendLinkified(p, m.body);
    li.appendChild(p);
  }
  var files = m._file ? [{ _local: true, name: m._file.name, size: m._file.size }] : m.attachments;
  if (Array.isArray(files) && files.length) li.appendChild(attachmentList(files));
  if (m._pending || m._failed) li.appendChild(localStateLine(m));
  else if (m.delivery_status) li.appendChild(deliveryLine(m));
  if (m.id && !m.deleted && !m._pending && !m._failed) {
    var toolBox = tools(m, li, textId);
    if (toolBox) li.appendChild(toolBox);
  }
  return li;
}

/* Files of a message: images as thumbnails, everything as a download link (same origin; the
   server checks access and sends files as attachments, never rendered). */
function attachmentList(files) {
  var ul = el("ul", "gc-files");
  ul.setAttribute("aria-label", t("Attachments"));
  files.forEach(function (f) {
    var li = el("li", "gc-file");
    if (f._local) {
      li.appendChild(el("span", "gc-file-name", f.name));
      li.appendChild(el("span", "gc-file-size", humanSize(f.size)));
      ul.appendChild(li);
      return;
    }
    var a = el("a", "gc-file-link");
    a.href = fileUrl(f.id);
    a.target = "_blank";
    a.rel = "noopener";
    if (f.image && f.thumbnail) {
      var img = document.createElement("img");
      img.src = fileUrl(f.id, true);
      img.alt = f.name || t("image");
      img.loading = "lazy";
      if (f.width && f.height) {
        var scale = Math.min(1, 240 / Math.max(f.width, f.height));
        img.width = Math.round(f.width * scale);
        img.height = Math.round(f.height * scale);
      }
      a.appendChild(img);
      a.classList.add("gc-file-image");
    } else {
      a.appendChild(el("span", "gc-file-name", f.name || t("file")));
    }
    li.appendChild(a);
    li.appendChild(el("span", "gc-file-size", humanSize(f.size)));
    ul.appendChild(li);
  });
  return ul;
}

/* ---- placing messages ------------------------------------------------------------------ */

export function findNode(m) {
  var n = m.id ? document.getElementById("gc-msg-" + m.id) : null;
  if (!n && m.client_id) n = msgsEl.querySelector('[data-client-id="' + CSS.escape(m.client_id) + '"]');
  return n;
}

function insertSorted(node, id) {
  if (id) {
    var items = msgsEl.children;
    for (var i = 0; i < items.length; i++) {
      var other = Number(items[i].dataset.id || 0);
      if (!items[i].dataset.id || other > id) { msgsEl.insertBefore(node, items[i]); return; }
    }
  }
  msgsEl.appendChild(node);
}

/* Replace a message's node, keeping keyboard focus where it was. */
function place(m, node) {
  var old = findNode(m);
  var stick = nearBottom();
  if (old) {
    var focusedAction = old.contains(document.activeElement) ? (document.activeElement.dataset.action || "msg") : null;
    var wasStop = old.tabIndex === 0;
    msgsEl.replaceChild(node, old);
    if (wasStop) setActiveMessage(node);
    if (focusedAction) {
      var target = focusedAction === "msg" ? node : node.querySelector('[data-action="' + focusedAction + '"]');
      (target || node).focus({ preventScroll: true });
    }
  } else {
    insertSorted(node, m.id);
    if (stick) toBottom();
  }
}

/* A message from the server (event or HTTP answer). seq: the event's sequence number. */
export function upsertMessage(m, seq, fromHttp) {
  if (!cur || !m || m.conversation_id !== cur.id) return;
  if (m.id) {
    var applied = cur.msgSeq.get(m.id);
    if (seq && applied && seq < applied) return;
    // A send's HTTP answer is never newer than an event already shown for that message.
    if (fromHttp === "send" && applied) return;
    if (seq) cur.msgSeq.set(m.id, seq);
    cur.messages.set(m.id, m);
  }
  if (m.client_id) {
    var box = outbox.get(m.conversation_id);
    if (box) box.delete(m.client_id);
  }
  actions.changed(m);
  place(m, renderMessage(m));
  // Answer suggestions follow the customer's latest question (console-knowledge.js).
  if (m.kind === "customer" || m.kind === "manager") emit("message-shown", m);
}

export function upsertLocal(m) {
  if (!cur || m.conversation_id !== cur.id) return;
  place(m, renderMessage(m));
}

export function renderAll() {
  msgsEl.textContent = "";
  var ms = Array.from(cur.messages.values()).sort(function (a, b) { return a.id - b.id; });
  ms.forEach(function (m) { msgsEl.appendChild(renderMessage(m)); });
  var box = outbox.get(cur.id);
  if (box) box.forEach(function (m) { msgsEl.appendChild(renderMessage(m)); });
  var last = msgsEl.lastElementChild;
  if (last) setActiveMessage(last);
}

/* The conversation could not be opened: nothing of another one may stay on screen. */
export function clear() { msgsEl.textContent = ""; }

/* ---- roving focus over messages (one tab stop; arrows move; Tab reaches its actions) --- */

export function setActiveMessage(li) {
  if (!li) return;
  msgsEl.querySelectorAll(".gc-msg").forEach(function (n) {
    if (n === li) return;
    if (n.tabIndex !== -1) n.tabIndex = -1;
    n.querySelectorAll(".gc-tool, .gc-quote, .gc-link-button").forEach(function (b) { b.tabIndex = -1; });
  });
  li.tabIndex = 0;
  li.querySelectorAll(".gc-tool, .gc-quote, .gc-link-button").forEach(function (b) { b.tabIndex = 0; });
}

function moveFocus(e) {
  var li = e.target.closest(".gc-msg");
  if (!li || e.target !== li) return;
  var target = null;
  if (e.key === "ArrowDown") target = li.nextElementSibling;
  else if (e.key === "ArrowUp") target = li.previousElementSibling;
  else if (e.key === "Home") target = msgsEl.firstElementChild;
  else if (e.key === "End") target = msgsEl.lastElementChild;
  if (target) { e.preventDefault(); setActiveMessage(target); target.focus(); }
}

/* ---- older pages, jumping to a quoted message ------------------------------------------ */

export function loadOlder(untilId) {
  if (!cur) return Promise.resolve();
  var c = cur, pages = 0;
  function step() {
    var oldest = Infinity;
    c.messages.forEach(function (m, id) { if (id < oldest) oldest = id; });
    if (oldest === Infinity) return Promise.resolve();
    return api("GET", "/conversations/" + c.id + "?before=" + oldest).then(function (data) {
      if (cur !== c) return;
      var before = threadEl.scrollHeight, top = threadEl.scrollTop;
      data.messages.forEach(function (m) {
        if (c.messages.has(m.id)) return;
        c.messages.set(m.id, m);
        insertSorted(renderMessage(m), m.id);
      });
      threadEl.scrollTop = top + (threadEl.scrollHeight - before);
      var more = data.messages.length >= HISTORY_PAGE;
      $("gc-older").hidden = !more;
      pages++;
      if (untilId && more && !c.messages.has(untilId) && pages < 20) return step();
    });
  }
  return step().catch(function (e) { alertChat(e.message); });
}

function jumpTo(id) {
  var node = document.getElementById("gc-msg-" + id);
  if (node) { reveal(node); return; }
  loadOlder(id).then(function () {
    var n = document.getElementById("gc-msg-" + id);
    if (n) reveal(n); else announce(t("The quoted message is no longer available."));
  });
}

function reveal(node) {
  var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  node.scrollIntoView({ block: "center", behavior: reduce ? "auto" : "smooth" });
  node.classList.remove("gc-highlight");
  void node.offsetWidth;
  node.classList.add("gc-highlight");
  setActiveMessage(node);
  node.focus({ preventScroll: true });
}

/* ---- delete and retry (own messages; the server enforces it too) ----------------------- */

function confirmDelete(m, li) {
  var box = li.querySelector(".gc-msg-tools");
  if (!box) return;
  box.textContent = "";
  box.classList.add("gc-confirming");
  var warn = t("Delete this message?");
  if (m.kind === "manager" && m.edits_reach_customer === false) {
    var channel = KIND_NAMES[conv().source_kind] || t("this channel");
    warn = t("Delete this message? The customer keeps it: {channel} cannot delete sent messages.", { channel: channel });
  }
  box.appendChild(el("span", "gc-confirm-text", warn));
  var yes = button(t("Confirm delete"), "gc-tool gc-danger", function () {
    yes.disabled = true;
    var c = cur;
    api("DELETE", "/conversations/" + c.id + "/messages/" + m.id).then(function (data) {
      if (cur !== c) return;
      upsertMessage(data.message, null, "delete");
      announce(t("Message deleted."));
      var n = document.getElementById("gc-msg-" + m.id);
      if (n) n.focus();
    }, function (e) {
      alertChat(e.message);
      if (cur === c) upsertMessage(m, null, "delete");
    });
  });
  yes.dataset.action = "confirm-delete";
  var no = button(t("Cancel"), "gc-tool", function () { upsertMessage(cur.messages.get(m.id) || m, null, "delete"); var n = document.getElementById("gc-msg-" + m.id); if (n) n.focus(); });
  no.dataset.action = "cancel-delete";
  box.appendChild(yes);
  box.appendChild(no);
  yes.focus();
}

function retry(m, btn) {
  var c = cur;
  btn.disabled = true;
  api("POST", "/conversations/" + c.id + "/messages/" + m.id + "/retry").then(function (data) {
    if (cur === c) upsertMessage(data.message, null, "retry");
    announce(t("Sending again."));
  }, function (e) {
    btn.disabled = false;
    alertChat(e.message);
  });
}

/* composerActions: {quote(m), edit(m), resend(m), changed(m)} from console-composer.js. */
export function init(composerActions) {
  actions = composerActions;
  msgsEl = $("gc-messages");
  threadEl = $("gc-thread");
  bodyEl = $("gc-body");
  $("gc-older").addEventListener("click", function () { loadOlder(); });
  msgsEl.addEventListener("focusin", function (e) {
    var li = e.target.closest(".gc-msg");
    if (li && li.tabIndex !== 0) setActiveMessage(li);
  });
  msgsEl.addEventListener("keydown", moveFocus);
}
