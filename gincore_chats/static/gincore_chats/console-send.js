/* Sending: a reply, note or file goes out in the background and stays in the thread until the
   server has it. Nothing is lost: no answer (network) retries with the same client id, which
   the server stores once; a refusal leaves the message with Retry and Discard. A send waits
   for the conversation's draft saves so an older draft never lands after it. */

import { $, api, config, upload, uuid } from "./console-core.js";
import { composerError, cur, outbox } from "./console-state.js";
import * as thread from "./console-thread.js";

function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

function request(c, m) {
  if (m._file) {
    var form = new FormData();
    form.append("file", m._file, m._file.name);
    form.append("client_id", m.client_id);
    if (m.body) form.append("body", m.body);
    if (m._quoteId) form.append("quoted_message_id", String(m._quoteId));
    if (m.kind === "note") form.append("note", "1");
    return upload("/conversations/" + c.id + "/attachments", form, function (fraction) {
      m._progress = fraction;
      var bar = document.getElementById("gc-up-" + m.client_id);
      if (bar) bar.value = Math.round(fraction * 100);
    });
  }
  return api("POST", "/conversations/" + c.id + "/messages", {
    body: m.body, client_id: m.client_id, quoted_message_id: m._quoteId || null, note: m.kind === "note"
  });
}

function post(c, m, attempt) {
  var chain = c.draftChain || Promise.resolve();
  return chain.then(function () {
    return request(c, m);
  }).then(function (data) {
    if (cur === c) thread.upsertMessage(data.message, null, "send");
    else { var box = outbox.get(c.id); if (box) box.delete(m.client_id); }
    // A text send clears the server's draft; an upload does not, so its caption would come
    // back as a draft: clear it unless something new is being typed.
    if (m._file && m.body && !(c === cur && ($("gc-body").value || c.quote))) {
      api("PUT", "/conversations/" + c.id + "/draft", { body: "" }).catch(function () {});
    }
  }, function (e) {
    // No answer (network): try again with the same client id; the server stores it once.
    if (e.status === 0 && attempt < 6) return wait(Math.min(8000, 500 * Math.pow(2, attempt))).then(function () { return post(c, m, attempt + 1); });
    m._pending = false;
    m._failed = e.message;
    if (cur === c) { thread.upsertLocal(m); composerError(e.message); }
  });
}

/* A local message, shown at once and sent in the background (kept until the server has it).
   The composer clears itself afterwards; the message keeps the quote it had. */
export function queue(c, text, file) {
  var note = c.mode === "note";
  var m = {
    id: null, client_id: uuid(), conversation_id: c.id, kind: note ? "note" : "manager",
    author_id: config.me, author_name: config.meName, body: text,
    quoted: c.quote ? Object.assign({}, c.quote) : null, _quoteId: c.quote ? c.quote.id : null,
    created_at: new Date().toISOString(), _pending: true, _file: file
  };
  if (!outbox.has(c.id)) outbox.set(c.id, new Map());
  outbox.get(c.id).set(m.client_id, m);
  thread.upsertLocal(m);
  thread.toBottom();
  post(c, m, 0);
}

/* Retry on a message that could not be sent (the same client id: stored at most once). */
export function resend(m) {
  m._failed = null;
  m._pending = true;
  thread.upsertLocal(m);
  post(cur, m, 0);
}
