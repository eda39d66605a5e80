/* The open conversation's state, shared by the modules that show it (console-chat.js opens and
   follows it; thread, composer, header, typing, drafts and read state render and change it).

   One module owns the variables so every part reads the same conversation; an ES module's
   exports are live bindings, so `cur` read elsewhere is always the current one, and only the
   setters here assign it. */

import { $, config, contactName, prefs, t } from "./console-core.js";
import * as panel from "./console-panel.js";

export var cur = null;          // the open conversation: {id, detail, tracker, messages, ...}
export var sock = null;         // the ConsoleSocket (console-socket.js)
export var outbox = new Map();  // conversation id -> Map(client_id -> local message) not yet confirmed
export var tzMode = prefs.get("tz", "mine");
// Another conversation is being opened: the header shows none, and `cur` is still the one left.
export var loading = false;

// Brand names stay as they are; "generic" is read in the manager's language when used.
export var KIND_NAMES = {
  telegram: "Telegram", whatsapp: "WhatsApp", viber: "Viber", messenger: "Messenger", instagram: "Instagram",
  get generic() { return t("this channel"); }
};

export function setCur(c) { cur = c; }
export function setLoading(on) { loading = on; }
export function setSocket(s) { sock = s; }
export function setTzMode(mode) { tzMode = mode; prefs.set("tz", mode); }

export function conv() { return cur && cur.detail.conversation; }
export function joined() { return !!cur && (conv().managers || []).indexOf(config.me) >= 0; }
export function customerName() { return contactName(conv()); }
export function offset() { return tzMode === "customer" ? panel.customerOffset() : null; }

export function alertChat(text) {
  var a = $("gc-chat-alert");
  a.textContent = text || "";
  a.hidden = !text;
}

export function composerError(text) { $("gc-composer-error").textContent = text || ""; }

export function authorName(m) {
  if (m.kind === "customer") return m.author_name || customerName();
  if (m.kind === "assistant") return m.author_name || t("Assistant");
  return m.author_name || t("Manager");
}

export function systemText(m) {
  var d = m.system_data || {};
  if (m.system_code === "joined") return d.name ? t("{name} joined the chat", { name: d.name }) : t("A manager joined the chat");
  if (m.system_code === "left") return d.name ? t("{name} left the chat", { name: d.name }) : t("A manager left the chat");
  return m.body;
}
