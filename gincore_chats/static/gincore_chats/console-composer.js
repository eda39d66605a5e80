/* The composer: replies and private notes, quotes, editing one's own messages, files (picker,
   drag-and-drop, paste), and the keys (Enter sends, Shift+Enter new line, Up edits the last own
   message, Esc cancels). Drafts and typing signals follow what is typed (console-drafts.js,
   console-typing.js); sending itself is console-send.js. */

import { $, announce, api, can, config, el, fmtDateTime, t } from "./console-core.js";
import { KIND_NAMES, authorName, composerError, conv, cur, joined } from "./console-state.js";
import * as drafts from "./console-drafts.js";
import * as send from "./console-send.js";
import * as thread from "./console-thread.js";
import * as typing from "./console-typing.js";

var bodyEl, composerEl;

/* What the thread's buttons do here (see console-thread.js init). */
export var messageActions = {
  quote: startQuote,
  edit: startEdit,
  resend: send.resend,
  changed: function (m) {
    // A message shown again: an edit of it ends if it was deleted; a quote of it follows it.
    if (cur.edit && cur.edit.id === m.id && m.deleted) cancelEdit();
    if (cur.quote && cur.quote.id === m.id) { cur.quote = quoteOf(m); renderQuoteBar(); }
  }
};

/* ---- opening --------------------------------------------------------------------------- */

/* A conversation was just opened: its draft comes back (text and quote; a quoted note means
   the draft was a note). */
export function show(c, draft) {
  bodyEl.value = "";
  if (draft) {
    bodyEl.value = draft.body || "";
    var qid = draft.quoted_message_id;
    if (qid) {
      var qm = c.messages.get(qid);
      c.quote = qm ? quoteOf(qm) : { id: qid, author_name: "", body: t("an earlier message"), kind: "customer" };
      if (c.quote.kind === "note") c.mode = "note";
    }
  }
  $("gc-edit-bar").hidden = true;
  renderQuoteBar();
}

export function hide() { composerEl.hidden = true; }

export function focus() { bodyEl.focus(); }

/* ---- quotes ---------------------------------------------------------------------------- */

function quoteOf(m) {
  return { id: m.id, author_name: authorName(m), body: m.deleted ? "" : m.body, deleted: !!m.deleted, kind: m.kind };
}

function renderQuoteBar() {
  var bar = $("gc-quote-bar");
  if (!cur || !cur.quote) { bar.hidden = true; return; }
  var q = cur.quote;
  var text = $("gc-quote-text");
  text.textContent = "";
  var snippet = q.deleted ? t("Message deleted") : (q.body || "").slice(0, 140);
  // One whole sentence, with the author's name in bold where the translation puts {name}.
  // TRANSLATORS: the bar above the reply box; {name} wrote the quoted message, {text} is its start
  t("Quoting {name}: {text}").split(/(\{name\}|\{text\})/).forEach(function (part) {
    if (part === "{name}") text.appendChild(el("strong", null, q.author_name || ""));
    else if (part === "{text}") text.appendChild(el("span", "gc-quote-snippet", snippet));
    else if (part) text.appendChild(el("span", "gc-muted", part));
  });
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

/* ---- edit (own messages; the server enforces it too) ----------------------------------- */

function startEdit(m) {
  if (!cur || !m || m.deleted) return;
  if (cur.edit) cancelEdit();
  drafts.save(cur);
  cur.edit = { id: m.id, kind: m.kind, saved: { body: bodyEl.value, quote: cur.quote, mode: cur.mode } };
  cur.quote = null;
  renderQuoteBar();
  cur.mode = m.kind === "note" ? "note" : "reply";
  bodyEl.value = m.body;
  var note = m.kind === "note" ? t("Editing your private note.") : t("Editing your message.");
  if (m.kind === "manager" && m.edits_reach_customer === false) {
    var channel = KIND_NAMES[conv().source_kind] || t("this channel");
    note = t("Editing your message. The customer keeps the original: {channel} does not deliver edits.", { channel: channel });
  }
  $("gc-edit-text").textContent = note;
  $("gc-edit-bar").hidden = false;
  update();
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
  update();
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
  if (!text) { composerError(t("The message is empty. To remove it, use Delete.")); return; }
  var send = $("gc-send");
  send.disabled = true;
  api("PATCH", "/conversations/" + c.id + "/messages/" + id, { body: text }).then(function (data) {
    send.disabled = false;
    if (cur !== c) return;
    composerError("");
    cancelEdit();
    thread.upsertMessage(data.message, null, "edit");
    announce(t("Message edited."));
    bodyEl.focus();
  }, function (e) {
    send.disabled = false;
    composerError(e.message);
  });
}

/* ---- sending --------------------------------------------------------------------------- */

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
  if (!note && !joined()) { composerError(t("Join the conversation before replying, or write a private note.")); return; }
  queueSend(cur, text, null);
}

/* ---- composer state -------------------------------------------------------------------- */

function setMode(mode) {
  if (!cur) return;
  cur.mode = mode;
  if (mode === "reply" && cur.quote && cur.quote.kind === "note") { cancelQuote(); announce(t("Quote removed: private notes can be quoted only in notes.")); }
  if (mode !== "reply") typing.stop();
  update();
}

export function update() {
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
  if (editing) { label.textContent = t("Edit message"); send.textContent = t("Save"); bodyEl.placeholder = ""; }
  else if (cur.mode === "note") { label.textContent = t("Private note"); send.textContent = t("Send note"); bodyEl.placeholder = t("Only your team sees private notes…"); }
  else {
    // TRANSLATORS: the label of the composer's text box (a reply to the customer)
    label.textContent = t("Reply");
    send.textContent = t("Send");
    bodyEl.placeholder = t("Write a reply…");
  }
  var blocked = !editing && cur.mode === "reply" && !joined();
  $("gc-join-hint").hidden = !blocked;
  // Replies to a customer who blocked the bot fail at once; notes still work.
  var away = conv().unreachable;
  var hint = $("gc-unreachable");
  hint.hidden = !away || cur.mode !== "reply";
  hint.textContent = away ? t("{reason} Replies are not sent until they write again; private notes work.", { reason: unreachableText(away) }) : "";
  send.disabled = blocked;
  $("gc-attach").disabled = blocked || editing;
}

export function unreachableText(away) {
  var reason = away.reason || t("The customer cannot receive messages.");
  return away.since ? t("{reason} (since {when})", { reason: reason, when: fmtDateTime(away.since, null) }) : reason;
}

/* ---- wiring ---------------------------------------------------------------------------- */

function onKey(e) {
  if (e.isComposing) return;
  if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
    e.preventDefault();
    if (!$("gc-send").disabled || (cur && cur.edit)) submit();
    else if (cur && cur.mode === "reply" && !joined()) composerError(t("Join the conversation before replying, or write a private note."));
  } else if (e.key === "ArrowUp" && !bodyEl.value && cur && !cur.edit) {
    var m = lastOwnMessage();
    if (m) { e.preventDefault(); startEdit(m); }
  } else if (e.key === "Escape") {
    if (cancelEdit() || cancelQuote()) { e.preventDefault(); e.stopPropagation(); }
  }
}

function sendFiles(files) {
  if (!cur || !files.length || $("gc-attach").disabled) return false;
  // One upload is one message; the text in the box goes with the first file as its caption.
  var caption = bodyEl.value.trim();
  Array.from(files).forEach(function (file, i) { queueSend(cur, i === 0 ? caption : "", file); });
  return true;
}

/* The file picker, drag-and-drop onto the chat, and files or screenshots pasted into the box. */
function initFiles() {
  var picker = $("gc-file");
  $("gc-attach").addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () {
    sendFiles(picker.files);
    picker.value = "";
    bodyEl.focus();
  });
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
}

export function init() {
  bodyEl = $("gc-body");
  composerEl = $("gc-composer");
  composerEl.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  bodyEl.addEventListener("keydown", onKey);
  bodyEl.addEventListener("input", function () { composerError(""); drafts.schedule(); typing.input(); });
  bodyEl.addEventListener("blur", function () { typing.stop(); if (cur) drafts.save(cur); });
  composerEl.querySelectorAll('input[name="gc-mode"]').forEach(function (r) {
    r.addEventListener("change", function () { if (r.checked) { setMode(r.value); drafts.schedule(); } });
  });
  $("gc-quote-cancel").addEventListener("click", function () { cancelQuote(); bodyEl.focus(); });
  $("gc-edit-cancel").addEventListener("click", function () { cancelEdit(); bodyEl.focus(); });
  initFiles();
}
