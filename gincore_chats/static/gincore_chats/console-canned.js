/* Saved replies in the composer: "/" at the start of the box opens a list of the manager's own
   and the shared replies (GET /conversations/<id>/canned, variables already filled in by the
   server for this conversation), filtered by shortcut and text as one types. Arrow keys move
   (aria-activedescendant: focus stays in the box), Enter or Tab inserts, Escape closes. The
   inserted text is plain text in the box, to edit before sending; a variable the server could
   not fill ("{{ customer.email }}" without an email) stays visible. */

import { $, announce, api, el, t } from "./console-core.js";
import { cur } from "./console-state.js";

var MAX_SHOWN = 8;
var box, list, empty;
var replies = null, loadedFor = null, loadingFor = null;
var shown = [], active = -1, open = false;

/* "/gre" typed at the very start, with the caret still in that word: "gre"; else null. */
function query() {
  var v = box.value, caret = box.selectionStart;
  if (v.charAt(0) !== "/" || caret !== box.selectionEnd) return null;
  var word = v.slice(1, caret);
  if (/\s/.test(word) || /\S/.test(v.slice(caret, caret + 1))) return null;
  return word.toLowerCase();
}

function matching(q) {
  var starts = [], rest = [];
  (replies || []).forEach(function (r) {
    var s = r.shortcut.toLowerCase();
    if (s.indexOf(q) === 0) starts.push(r);
    else if (q && (s.indexOf(q) >= 0 || r.filled.toLowerCase().indexOf(q) >= 0)) rest.push(r);
  });
  return starts.concat(rest).slice(0, MAX_SHOWN);
}

function render(q) {
  shown = matching(q);
  if (active >= shown.length) active = shown.length - 1;
  if (active < 0 && shown.length) active = 0;
  list.textContent = "";
  shown.forEach(function (r, i) {
    var li = el("li", "gc-canned-option");
    li.id = "gc-canned-opt-" + r.id;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === active));
    li.appendChild(el("span", "gc-canned-shortcut", "/" + r.shortcut));
    // TRANSLATORS: a saved reply the whole team shares
    if (r.scope === "shared") li.appendChild(el("span", "gc-tag", t("Shared")));
    if (r.language) li.appendChild(el("span", "gc-tag", r.language));
    li.appendChild(el("span", "gc-canned-text", r.filled));
    li.addEventListener("mousedown", function (e) { e.preventDefault(); });  // keep focus in the box
    li.addEventListener("click", function () { choose(r); });
    list.appendChild(li);
  });
  list.hidden = !shown.length;
  empty.hidden = !!shown.length;
  empty.textContent = shown.length ? "" : (replies && replies.length
    ? t("No saved reply matches “/{query}”.", { query: q })
    : t("No saved replies yet: add some under “Saved replies”."));
  setOpen(true);
  if (shown[active]) {
    box.setAttribute("aria-activedescendant", "gc-canned-opt-" + shown[active].id);
    var node = $("gc-canned-opt-" + shown[active].id);
    if (node && node.scrollIntoView) node.scrollIntoView({ block: "nearest" });
  } else box.removeAttribute("aria-activedescendant");
}

function setOpen(on) {
  open = on;
  box.setAttribute("aria-expanded", String(on));
  if (!on) {
    list.hidden = true;
    empty.hidden = true;
    box.removeAttribute("aria-activedescendant");
    active = -1;
  }
}

export function close() { if (open) setOpen(false); }

function load(c) {
  if (loadingFor === c.id) return;
  loadingFor = c.id;
  api("GET", "/conversations/" + c.id + "/canned").then(function (d) {
    loadingFor = null;
    if (cur !== c) return;
    replies = d.responses || [];
    loadedFor = c.id;
    var q = query();
    if (q !== null && document.activeElement === box) render(q);
  }, function (e) {
    loadingFor = null;
    if (cur === c) { empty.textContent = e.message; empty.hidden = false; }
  });
}

function refresh() {
  var q = query();
  if (q === null || !cur) { close(); return; }
  // Read again each time the list opens: replies added meanwhile (or in another tab) show up.
  if (!open) load(cur);
  if (replies && loadedFor === cur.id) render(q);
}

function choose(r) {
  var rest = box.value.slice(box.selectionStart);
  box.value = r.filled + rest;
  var at = r.filled.length;
  box.setSelectionRange(at, at);
  close();
  box.focus();
  // The drafts and typing modules follow what is in the box.
  box.dispatchEvent(new Event("input", { bubbles: true }));
  announce(t("Inserted saved reply /{shortcut}. Edit it, then press Enter to send.", { shortcut: r.shortcut }));
}

function onKey(e) {
  if (!open || e.target !== box || e.isComposing) return;
  var n = shown.length;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    if (!n) return;
    e.preventDefault();
    e.stopPropagation();
    active = (active + (e.key === "ArrowDown" ? 1 : -1) + n) % n;
    render(query() || "");
  } else if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && n && active >= 0) {
    e.preventDefault();
    e.stopPropagation();
    choose(shown[active]);
  } else if (e.key === "Escape") {
    e.preventDefault();
    e.stopPropagation();
    close();
  }
}

export function init() {
  box = $("gc-body");
  list = $("gc-canned");
  empty = $("gc-canned-empty");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", "gc-canned");
  box.setAttribute("aria-expanded", "false");
  // Capture on the form: before the composer's own keys (Enter sends, Escape cancels).
  $("gc-composer").addEventListener("keydown", onKey, true);
  box.addEventListener("input", refresh);
  box.addEventListener("click", refresh);
  box.addEventListener("blur", close);
}

/* Another conversation was opened: its variables differ. */
export function reset() {
  replies = null;
  loadedFor = null;
  close();
}
