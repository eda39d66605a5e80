/* Server-side drafts, per manager and conversation: whatever is typed and not sent survives
   switching chats, a reload and another device.

   Saves are debounced while typing, chained per conversation so they land in order (a send
   waits for the chain, see console-composer.js), and retried after a failure; opening a
   conversation waits for its last save so the draft read back is never an older one. */

import { $, api, can } from "./console-core.js";
import { cur } from "./console-state.js";

var savingDrafts = new Map();  // conversation id -> the last draft save's promise
var bodyEl;

function payload(c) {
  if (c.edit) return { body: c.edit.saved.body, quoted_message_id: c.edit.saved.quote ? c.edit.saved.quote.id : null };
  return { body: bodyEl.value, quoted_message_id: c.quote ? c.quote.id : null };
}

export function schedule() {
  if (!cur || cur.edit || !can("chats.reply")) return;
  cur.draftDirty = true;
  clearTimeout(cur.draftTimer);
  var c = cur;
  cur.draftTimer = setTimeout(function () { save(c); }, 600);
}

export function save(c, keepalive) {
  if (!c || !c.draftDirty) return Promise.resolve();
  clearTimeout(c.draftTimer);
  c.draftDirty = false;
  var body = payload(c);
  // Drafts of one conversation are saved in order, and a send waits for them (console-send.js).
  c.draftChain = (c.draftChain || Promise.resolve()).then(function () {
    return api("PUT", "/conversations/" + c.id + "/draft", body, keepalive ? { keepalive: true } : undefined);
  }).catch(function () {
    if (c === cur && !c.draftDirty) { c.draftDirty = true; c.draftTimer = setTimeout(function () { save(c); }, 5000); }
  });
  // Reopening this conversation reads the draft only after this save has landed.
  savingDrafts.set(c.id, c.draftChain);
  return c.draftChain;
}

/* The page is going away: keepalive lets the save outlive it. */
export function flush(keepalive) { if (cur) save(cur, keepalive); }

/* The last save of a conversation (undefined if none): open() waits for it. */
export function landed(id) { return savingDrafts.get(id); }

/* The text was just sent: the server clears the draft when the message is stored, so a save
   still queued must not revive it. */
export function drop(c) {
  clearTimeout(c.draftTimer);
  c.draftDirty = false;
}

export function init() {
  bodyEl = $("gc-body");
}
