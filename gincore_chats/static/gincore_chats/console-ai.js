/* The AI assistant in the console: its state in the list and the thread header, "Hand back to
   AI" (a conversation handed to people or taken over), and the "AI draft" of humans-only
   sources, which an RQ job writes and the socket brings back as an "ai.draft" frame into the
   composer, for the manager to edit before sending.

   A row's and a conversation's "ai" is null where the source has no assistant, else
   { mode, status: active | handed_off | stopped, reason, unresolved_turns }. */

import { $, announce, api, can, el, srOnly, t } from "./console-core.js";
import { alertChat, conv, cur, loading } from "./console-state.js";

/* Functions, not tables: the texts are read in the manager's language when shown. */
function statusName(status) {
  switch (status) {
    case "active": return t("AI answering");
    case "handed_off": return t("Handed to people");
    case "stopped": return t("AI stopped");
    default: return null;
  }
}

function reasonName(reason) {
  switch (reason) {
    case "customer_asked": return t("the customer asked for a person");
    case "no_answer": return t("the knowledge base had no answer");
    case "too_many_turns": return t("too many unresolved AI turns");
    case "provider_failed": return t("the AI provider failed");
    case "provider_unavailable": return t("the AI provider keeps failing");
    case "daily_limit": return t("the daily AI limit was reached");
    case "manager": return t("a manager took over");
    case "handed_back": return t("handed back to the AI");
    default: return null;
  }
}

export function statusText(ai) { return statusName(ai.status) || ai.status; }

function reasonText(ai) { return ai.reason ? reasonName(ai.reason) || ai.reason.replace(/_/g, " ") : ""; }

/* The tag of a list row or the header: "AI answering", or "Handed to people" (the badge
   managers look for: the assistant stopped and nobody has answered yet). */
export function tag(ai) {
  var node = el("span", "gc-tag gc-tag-ai gc-tag-ai-" + ai.status, statusText(ai));
  var why = reasonText(ai);
  // TRANSLATORS: read out after the AI status tag ("Handed to people: the customer asked for a person")
  if (why) { node.title = why; node.appendChild(srOnly(t(": {reason}", { reason: why }))); }
  return node;
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
    announce(why ? t("{status}: {reason}.", { status: statusText(c.ai), reason: why }) : t("{status}.", { status: statusText(c.ai) }));
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
  announce(t("AI draft inserted into the reply. Edit it before sending."));
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
      announce(t("Handed back to the AI assistant: it answers the customer's next message."));
    }, function (e) { btn.disabled = false; alertChat(e.message); });
  });
  $("gc-ai-draft").addEventListener("click", function () {
    if (!cur || loading) return;  // act only on the conversation the header shows
    var c = cur, btn = $("gc-ai-draft");
    btn.disabled = true;
    btn.setAttribute("aria-busy", "true");
    alertChat("");
    api("POST", "/conversations/" + c.id + "/ai/draft").then(function () {
      if (cur === c) announce(t("The AI is writing a draft…"));
    }, function (e) {
      btn.disabled = false;
      btn.removeAttribute("aria-busy");
      alertChat(e.message);
    });
  });
}
