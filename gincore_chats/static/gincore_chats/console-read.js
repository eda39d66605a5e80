/* This manager's read state of the open conversation: messages are marked read once they are
   on screen in a visible tab, unless the manager chose "Mark as unread" (kept until they mark
   it read again or open another conversation). */

import { api } from "./console-core.js";
import { cur } from "./console-state.js";

function newestId() {
  var n = 0;
  cur.messages.forEach(function (m, id) { if (id > n) n = id; });
  return n;
}

export function markRead() {
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

/* "Mark as read": everything, now. */
export function markAllRead(c) {
  c.keepUnread = false;
  return api("POST", "/conversations/" + c.id + "/read");
}

/* "Mark as unread": stop reading it now, and let a read already on its way land first. */
export function keepUnread(c) {
  c.keepUnread = true;
  clearTimeout(c.readTimer);
  return Promise.resolve(c.reading).then(function () {
    return api("POST", "/conversations/" + c.id + "/unread");
  });
}
