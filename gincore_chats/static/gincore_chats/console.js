/* gincore-chats operator console: the entry module (plain ES modules, no build step).

   console-core.js     helpers shared by all modules (DOM, safe links, time, HTTP, permissions)
   console-tracker.js  per-conversation event sequence tracking (exactly-once, gap resync)
   console-socket.js   the WebSocket with reconnect and dead-connection detection
   console-list.js     conversation list, filters, search, keyset pages, unread, tab title
   console-chat.js     the open conversation: messages, composer
   console-drafts.js   server-side drafts (debounced, chained, read back on open)
   console-typing.js   who is typing (and the live preview), this manager's typing signals
   console-panel.js    the customer panel and internal notes
   console-knowledge.js  suggested answers from the knowledge base above the composer

   After every (re)connect and every "resync" frame the list is reloaded and the open
   conversation is synced from its last contiguous sequence number, so nothing is missed. */

import { $, announce, api, can, contactName, on, prefs, root, setCsrf, setPermissions } from "./console-core.js";
import { ConsoleSocket } from "./console-socket.js";
import * as list from "./console-list.js";
import * as chat from "./console-chat.js";
import * as header from "./console-header.js";
import * as typing from "./console-typing.js";
import * as drafts from "./console-drafts.js";
import * as knowledge from "./console-knowledge.js";

function start() {
  var sock = new ConsoleSocket({ hello: onHello, frame: onFrame, down: chat.onDown });
  chat.init(sock);
  knowledge.init();
  list.init({ open: function (id) { chat.open(id); } });
  initPresence();
  initSound();

  on("error", function (e) { $("gc-conn").textContent = e.message; });
  on("row", header.applyRow);
  on("new-conversation", function (r) {
    announce("New conversation from " + contactName(r) + ".");
    beep();
  });
  on("unread-grew", function (ids) {
    // No sound for the chat the manager is looking at right now.
    if (ids.some(function (id) { return id !== chat.current() || document.hidden; })) beep();
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
    if (!can("chats.view")) $("gc-conn").textContent = "You need the chats.view permission.";
  }).catch(function () { /* the next hello tries again */ }).then(function () {
    reloadList();
    chat.resync();
    loadPresence();
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
    case "presence": presenceFrame(f.status); break;
    case "resync": reloadList(); chat.resync(); break;
    case "error": chat.applyError(f); break;
    default: break;
  }
}

/* ---- presence: online / invisible / offline ------------------------------------------------ */

var presenceEl, presenceChanges = 0;

function showPresence(status) {
  if (!presenceEl || !status) return;
  presenceEl.value = status;
  presenceEl.dataset.status = status;
}

/* A "presence" frame (a change from any tab) is newer than a read still under way. */
function presenceFrame(status) {
  presenceChanges++;
  showPresence(status);
}

function loadPresence() {
  var before = presenceChanges;
  return api("GET", "/presence").then(function (d) {
    if (presenceChanges === before) showPresence(d.status);
  }, function () {});
}

function initPresence() {
  presenceEl = $("gc-presence");
  if (!presenceEl) return;
  loadPresence();
  presenceEl.addEventListener("change", function () {
    var wanted = presenceEl.value, before = presenceEl.dataset.status || "online";
    presenceChanges++;
    api("POST", "/presence", { status: wanted }).then(function (d) {
      showPresence(d.status);
      announce("Your status is " + d.status + ".");
    }, function (e) {
      showPresence(before);
      announce(e.message);
    });
  });
}

/* ---- optional sound (a WebAudio beep; a per-browser switch in localStorage) --------------- */

var soundOn = false, audio = null, lastBeep = 0;

function initSound() {
  var btn = $("gc-sound");
  if (!btn) return;
  soundOn = prefs.get("sound", "off") === "on";
  var show = function () {
    btn.setAttribute("aria-pressed", String(soundOn));
    btn.title = soundOn ? "Sound is on for new conversations and messages" : "Sound is off";
  };
  show();
  btn.addEventListener("click", function () {
    soundOn = !soundOn;
    prefs.set("sound", soundOn ? "on" : "off");
    show();
    // Browsers allow audio only after a user gesture: this click is one.
    if (soundOn) { unlockAudio(); beep(true); }
  });
  // Any click unlocks audio for later beeps.
  document.addEventListener("pointerdown", unlockAudio, { once: true });
}

function unlockAudio() {
  if (!soundOn) return;
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
  } catch (e) { audio = null; }
}

function beep(force) {
  if (!soundOn) return;
  var now = Date.now();
  if (!force && now - lastBeep < 1500) return;
  lastBeep = now;
  document.dispatchEvent(new CustomEvent("gincore-chats:sound"));
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    var t = audio.currentTime, osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(880, t);
    osc.frequency.setValueAtTime(1320, t + 0.09);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.18, t + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.28);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.3);
  } catch (e) { /* no audio device: the title and the list still show it */ }
}

// Last: the module's variables above are initialised by now.
if (root) start();
