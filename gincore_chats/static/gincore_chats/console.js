/* gincore-chats operator console: the entry module (plain ES modules, no build step).

   console-core.js       helpers shared by all modules (DOM, safe links, time, HTTP, permissions)
   console-tracker.js    per-conversation event sequence tracking (exactly-once, gap resync)
   console-socket.js     the WebSocket with reconnect and dead-connection detection
   console-list.js       conversation list, filters, search, keyset pages, unread, tab title
   console-chat.js       the open conversation: opening it, its live events
     console-state.js    its shared state
     console-thread.js   messages, older pages, roving focus, delete and retry
     console-header.js   header and conversation actions (join, leave, read, close, time zone)
     console-composer.js replies, notes, quotes, edits, files, keys
     console-send.js     sending in the background, network retries
     console-drafts.js   server-side drafts (debounced, chained, read back on open)
     console-typing.js   who is typing (and the live preview), this manager's typing signals
     console-read.js     marking read as messages are seen, "Mark as unread"
   console-panel.js      the customer panel and internal notes
   console-knowledge.js  suggested answers from the knowledge base above the composer
   console-presence.js   this manager's status
   console-sound.js      the optional beep
   console-ai.js         the AI assistant: list and header state, hand back, AI drafts
   console-labels.js     label chips, the header's Labels menu, the list's label filter
   console-canned.js     saved replies: the composer's "/" picker

   console.html preloads all of them (modulepreload), so the import chain costs no round trips.

   After every (re)connect and every "resync" frame the list is reloaded and the open
   conversation is synced from its last contiguous sequence number, so nothing is missed. */

import { $, announce, api, can, contactName, on, root, setCsrf, setPermissions, t } from "./console-core.js";
import { ConsoleSocket } from "./console-socket.js";
import * as list from "./console-list.js";
import * as chat from "./console-chat.js";
import * as header from "./console-header.js";
import * as typing from "./console-typing.js";
import * as drafts from "./console-drafts.js";
import * as knowledge from "./console-knowledge.js";
import * as presence from "./console-presence.js";
import * as sound from "./console-sound.js";
import * as ai from "./console-ai.js";
import * as labels from "./console-labels.js";
import * as canned from "./console-canned.js";
import { conv } from "./console-state.js";

function start() {
  var sock = new ConsoleSocket({ hello: onHello, frame: onFrame, down: chat.onDown });
  chat.init(sock);
  knowledge.init();
  list.init({ open: function (id) { chat.open(id); } });
  labels.init({ current: conv, filter: list.setLabelFilter });
  canned.init();
  on("opened", canned.reset);
  on("labels-changed", function (d) { list.setRowLabels(d.id, d.labels); header.render(); });
  presence.init();
  sound.init();

  on("error", function (e) { $("gc-conn").textContent = e.message; });
  on("row", header.applyRow);
  on("new-conversation", function (r) {
    announce(t("New conversation from {name}.", { name: contactName(r) }));
    sound.beep();
  });
  on("unread-grew", function (ids) {
    // No sound for the chat the manager is looking at right now.
    if (ids.some(function (id) { return id !== chat.current() || document.hidden; })) sound.beep();
  });

  list.load(false).catch(function (e) { $("gc-conn").textContent = e.message; });

  // ?c=<id>: open that conversation (push notifications and reloads land here).
  var wanted = new URLSearchParams(location.search).get("c");
  if (wanted && /^\d+$/.test(wanted)) chat.open(Number(wanted));

  // A click on a push notification while the console is open (console-notifications.js).
  document.addEventListener("gincore-chats:open-conversation", function (e) {
    var id = Number(e.detail && e.detail.conversation_id);
    if (!id) return;
    e.preventDefault();
    window.focus();
    chat.open(id);
  });
  document.addEventListener("visibilitychange", chat.onVisibility);
  // The network is back: whatever changed meanwhile is fetched again (the socket resyncs on
  // its own reconnect; this covers HTTP having been down while the socket was not).
  window.addEventListener("online", function () { reloadList(); chat.resync(); });
  // Whatever is typed and not yet saved goes to the server before the page goes away.
  window.addEventListener("pagehide", function () { drafts.flush(true); });

  sock.connect();
}

function onHello() {
  // Permissions may have changed while we were away (the server closes sockets with 4001 for
  // that): read them again, then reload what may have been missed.
  api("GET", "/me").then(function (me) {
    setCsrf(me.csrf_token);
    var changed = setPermissions(me.permissions);
    if (changed) chat.onPermissions();
    if (!can("chats.view")) $("gc-conn").textContent = t("You need the chats.view permission.");
  }).catch(function () { /* the next hello tries again */ }).then(function () {
    reloadList();
    chat.resync();
    presence.load();
    labels.load().catch(function () { /* kept from before */ });
  });
}

/* Reload the list until it works: rows changed while we were away reach us only this way (the
   socket may be back before HTTP is, e.g. on a flaky network). */
var listRetry = null;
function reloadList(attempt) {
  attempt = attempt || 0;
  clearTimeout(listRetry);
  list.load(false).catch(function () {
    listRetry = setTimeout(function () { reloadList(attempt + 1); }, Math.min(4000, 1000 * Math.pow(2, attempt)));
  });
}

function onFrame(f) {
  switch (f.type) {
    case "event": chat.applyEvent(f); break;
    case "synced": chat.applySynced(f); break;
    case "conversation": list.applyRow(f.conversation, true); break;
    case "read": list.applyRead(f); break;
    case "typing": typing.apply(f); break;
    case "ai.draft": ai.applyFrame(f); break;
    case "presence": presence.applyFrame(f.status); break;
    case "resync": reloadList(); chat.resync(); break;
    case "error": chat.applyError(f); break;
    default: break;
  }
}

// Last: the module's variables above are initialised by now.
if (root) start();
