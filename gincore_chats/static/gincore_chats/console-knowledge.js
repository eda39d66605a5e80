/* Suggested answers from the knowledge base, above the composer.

   For the customer's latest question (the customer messages after the last reply) the server
   returns up to three published entries that answer it; "Insert" puts an answer into the
   reply box, where the manager edits it before sending, and tells the server it was used (the
   entry's "asked" count). Refreshed when a conversation opens and whenever a message shows. */

import { $, announce, api, appendLinkified, button, can, el, on, t } from "./console-core.js";
import * as chat from "./console-chat.js";

var section, listEl, timer, wanted = 0, shownFor = null;

function render(id, data) {
  if (id !== chat.current()) return;
  listEl.textContent = "";
  var matches = (data && data.matches) || [];
  section.hidden = !matches.length;
  shownFor = data && data.message_id;
  matches.forEach(function (m) {
    var li = el("li", "gc-kb-item");
    li.dataset.entryId = m.entry_id;
    var text = el("div", "gc-kb-text");
    text.appendChild(el("strong", null, m.question));
    text.appendChild(appendLinkified(el("span"), m.answer));
    li.appendChild(text);
    if (can("chats.reply")) {
      var insert = button(t("Insert"), "gc-button gc-secondary", function () { use(id, m); });
      insert.setAttribute("aria-label", t("Insert answer: {question}", { question: m.question }));
      li.appendChild(insert);
    }
    listEl.appendChild(li);
  });
}

function use(id, m) {
  var body = $("gc-body");
  var start = body.selectionStart != null ? body.selectionStart : body.value.length;
  var end = body.selectionEnd != null ? body.selectionEnd : start;
  var before = body.value.slice(0, start), after = body.value.slice(end);
  var glue = before && !/\s$/.test(before) ? "\n" : "";
  body.value = before + glue + m.answer + after;
  var caret = (before + glue + m.answer).length;
  body.focus();
  body.setSelectionRange(caret, caret);
  // The composer saves drafts and sends typing on input, as if the manager had typed it.
  body.dispatchEvent(new Event("input", { bubbles: true }));
  announce(t("Answer inserted into the reply. Edit it before sending."));
  api("POST", "/kb/entries/" + m.entry_id + "/used", { conversation_id: id }).catch(function () {
    /* counting is a nicety; the reply itself is not affected */
  });
}

function load(id) {
  var seq = ++wanted;
  api("GET", "/conversations/" + id + "/suggestions").then(function (data) {
    if (seq === wanted) render(id, data);
  }, function () {
    if (seq === wanted) render(id, null);
  });
}

function later(id) {
  clearTimeout(timer);
  timer = setTimeout(function () { if (chat.current() === id) load(id); }, 300);
}

export function init() {
  section = $("gc-kb");
  listEl = $("gc-kb-list");
  if (!section || !listEl) return;
  on("opened", function (id) { section.hidden = true; listEl.textContent = ""; load(id); });
  on("message-shown", function (m) {
    if (m.conversation_id !== chat.current()) return;
    if (m.kind === "customer" && m.id === shownFor) return;
    later(m.conversation_id);
  });
}
