/* Typing, both directions: who is typing in the open conversation (customer and colleagues,
   with the customer's live preview on Pro) and this manager's own typing signals.

   Signals are sent at most every 3 s while typing and stopped after 4 s of quiet; an indicator
   shown here expires on its own after TYPING_TTL, so a lost "stopped" frame never leaves
   "is typing…" up for good. */

import { $, can, config, el, t, tn } from "./console-core.js";
import { cur, customerName, joined, sock } from "./console-state.js";

var TYPING_TTL = 7000;
var bodyEl, typingEl, typingStatusEl, previewEl;

export function render() {
  if (!cur) { typingStatusEl.textContent = ""; previewEl.hidden = true; typingEl.classList.remove("gc-on"); return; }
  var now = Date.now(), who = [], preview = null;
  cur.typing.forEach(function (typist, key) {
    if (typist.until < now) { cur.typing.delete(key); return; }
    who.push(typist.name);
    if (key === "customer" && typeof typist.preview === "string" && typist.preview) preview = typist.preview;
  });
  var text = who.length ? tn("{names} is typing…", "{names} are typing…", who.length, { names: who.join(", ") }) : "";
  if (typingStatusEl.textContent !== text) typingStatusEl.textContent = text;
  typingEl.classList.toggle("gc-on", who.length > 0);
  previewEl.hidden = preview === null;
  if (preview !== null) previewEl.querySelector(".gc-preview-text").textContent = preview;
  clearTimeout(cur.typingTimer);
  if (who.length) cur.typingTimer = setTimeout(render, 1000);
}

export function apply(f) {
  if (!cur || f.conversation_id !== cur.id) return;
  if (f.who === "manager" && String(f.manager_id) === String(config.me)) return;
  var key = f.who === "customer" ? "customer" : f.who === "assistant" ? "assistant" : "m:" + f.manager_id;
  if (f.active) {
    cur.typing.set(key, {
      name: f.who === "customer" ? customerName() : (f.name || t("A colleague")),
      preview: f.who === "customer" ? f.preview : null,
      until: Date.now() + TYPING_TTL
    });
  } else cur.typing.delete(key);
  render();
}

function sendTyping(active) {
  if (!cur || !sock) return;
  sock.send({ op: "typing", conversation_id: cur.id, active: active });
}

export function input() {
  if (!cur || cur.edit || cur.mode !== "reply" || !joined() || !can("chats.reply")) return;
  if (!bodyEl.value.trim()) { stop(); return; }
  var now = Date.now();
  if (!cur.typingOn || now - cur.typingSent > 3000) {
    sendTyping(true);
    cur.typingOn = true;
    cur.typingSent = now;
  }
  clearTimeout(cur.typingIdle);
  cur.typingIdle = setTimeout(stop, 4000);
}

export function stop() {
  if (!cur) return;
  clearTimeout(cur.typingIdle);
  if (cur.typingOn) { sendTyping(false); cur.typingOn = false; }
}

/* Stop showing one typist ("customer" or "m:<manager id>"), or everyone without a key. */
export function clear(key) {
  if (!cur) return;
  if (key) cur.typing.delete(key); else cur.typing.clear();
  render();
}

/* Leaving a conversation: tell the others we stopped, and stop the indicator's timer. */
export function leave() {
  stop();
  clearTimeout(cur.typingTimer);
}

/* The indicator's parts: the status line is a live region of its own, so the dots and the
   preview never get read out. */
export function init() {
  bodyEl = $("gc-body");
  typingEl = $("gc-typing");
  typingStatusEl = el("p", "gc-typing-status");
  typingStatusEl.setAttribute("role", "status");
  var dots = el("span", "gc-dots");
  dots.setAttribute("aria-hidden", "true");
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  previewEl = el("div", "gc-preview");
  previewEl.hidden = true;
  previewEl.appendChild(el("span", "gc-preview-label", t("Live preview, not sent yet")));
  previewEl.appendChild(el("p", "gc-preview-text"));
  typingEl.removeAttribute("aria-live");
  typingEl.appendChild(dots);
  typingEl.appendChild(typingStatusEl);
  typingEl.appendChild(previewEl);
}
