/* The AI assistant in the console: its state in the list and the thread header, "Hand back to
   AI" (a conversation handed to people or taken over), and the "AI draft" of humans-only
   sources, which an RQ job writes and the socket brings back as an "ai.draft" frame into the
   composer, for the manager to edit before sending.

   A row's and a conversation's "ai" is null where the source has no assistant, else
   { mode, status: active | handed_off | stopped, reason, unresolved_turns }. */

import { $, announce, api, can, el, srOnly } from "./console-core.js";
import { alertChat, conv, cur, loading } from "./console-state.js";

var STATUS = {
  active: "AI answering",
  handed_off: "Handed to people",
  stopped: "AI stopped"
};

var REASONS = {
  customer_asked: "the customer asked for a person",
  no_answer: "the knowledge base had no answer",
  too_many_turns: "too many unresolved AI turns",
  provider_failed: "the AI provider failed",
  provider_unavailable: "the AI provider keeps failing",
  daily_limit: "the daily AI limit was reached",
  manager: "a manager took over",
  handed_back: "handed back to the AI"
};

export function statusText(ai) { return STATUS[ai.status] || ai.status; }

function reasonText(ai) { return ai.reason ? REASONS[ai.reason] || ai.reason.replace(/_/g, " ") : ""; }

/* The tag of a list row or the header: "AI answering", or "Handed to people" (the badge
   managers look for: the assistant stopped and nobody has answered yet). */
export function tag(ai) {
  var t = el("span", "gc-tag gc-tag-ai gc-tag-ai-" + ai.status, statusText(ai));
  var why = reasonText(ai);
  if (why) { t.title = why; t.appendChild(srOnly(": " + why)); }
  return t;
}

/* The header's part: the tag and which of the two buttons apply. */
export function renderHeader(sub) {
  var c = conv();
  var ai = c && c.ai;
  var reply = can("chats.reply");
  if (ai) sub.appendChild(tag(ai));
  $("gc-ai-back").hidden = !(ai && reply && ai.status !== "active" && ai.mode !== "humans");
  $("gc-ai-draft").hidden = !(!ai && reply && c && c.status !== "closed");
}

/* An "ai.state" event of the open conversation; the caller renders the header. */
export function applyEvent(d) {
  var c = conv();
  var was = c.ai ? c.ai.status : null;
  c.ai = { mode: d.mode, status: d.status, reason: d.reason || null, unresolved_turns: d.unresolved_turns || 0 };
  if (was !== d.status) {
    var why = reasonText(c.ai);
    announce(statusText(c.ai) + (why ? ": " + why : "") + ".");
  }
}

/* The "ai.draft" frame: the text goes into the composer (where the caret is), or the reason
   there is none into the chat's alert. */
export function applyFrame(f) {
  if (!cur || f.conversation_id !== cur.id) return;
  var btn = $("gc-ai-draft");
  btn.disabled = false;
  btn.removeAttribute("aria-busy");
  if (f.error) { alertChat(f.error); return; }
  var body = $("gc-body");
  var glue = body.value && !/\s$/.test(body.value) ? "\n" : "";
  body.value = body.value + glue + f.text;
  body.focus();
  body.setSelectionRange(body.value.length, body.value.length);
  // The composer saves drafts and sends typing on input, as if the manager had typed it.
  body.dispatchEvent(new Event("input", { bubbles: true }));
  announce("AI draft inserted into the reply. Edit it before sending.");
}

export function init(onChanged) {
  $("gc-ai-back").addEventListener("click", function () {
    if (!cur || loading) return;  // act only on the conversation the header shows
    var c = cur, btn = $("gc-ai-back");
    btn.disabled = true;
    alertChat("");
    api("POST", "/conversations/" + c.id + "/ai/hand-back").then(function (d) {
      btn.disabled = false;
      if (cur !== c) return;
      conv().ai = d.ai;
      onChanged();
      announce("Handed back to the AI assistant: it answers the customer's next message.");
    }, function (e) { btn.disabled = false; alertChat(e.message); });
  });
  $("gc-ai-draft").addEventListener("click", function () {
    if (!cur || loading) return;  // act only on the conversation the header shows
    var c = cur, btn = $("gc-ai-draft");
    btn.disabled = true;
    btn.setAttribute("aria-busy", "true");
    alertChat("");
    api("POST", "/conversations/" + c.id + "/ai/draft").then(function () {
      if (cur === c) announce("The AI is writing a draft…");
    }, function (e) {
      btn.disabled = false;
      btn.removeAttribute("aria-busy");
      alertChat(e.message);
    });
  });
}
