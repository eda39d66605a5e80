/* Labels: the chips on list rows and in the chat header, the header's "Labels" menu (a
   checkbox per label: checked ones are on the conversation), and the list's label filter.
   The catalog comes from GET /labels (admins edit it in the settings); a label put on or taken
   off reaches every console as a list row and a staff-only "conversation.labels" event. */

import { $, announce, api, can, el, emit, t } from "./console-core.js";

var catalog = [];          // [{id, name, color}] by name
var menuFor = null;        // conversation the open menu belongs to: {id, labels}
var onFilter = null;

/* "#rrggbb" -> a readable text colour on it (black or white by luminance). */
function textOn(hex) {
  var m = /^#([0-9a-f]{6})$/i.exec(hex || "");
  if (!m) return "#111";
  var n = parseInt(m[1], 16), r = n >> 16, g = (n >> 8) & 255, b = n & 255;
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff";
}

export function chip(label) {
  var span = el("span", "gc-tag gc-label", label.name);
  span.style.background = label.color;
  span.style.color = textOn(label.color);
  span.dataset.labelId = label.id;
  return span;
}

/* The chips of a conversation's labels, with a screen-reader lead-in. */
export function chips(labels) {
  var box = el("span", "gc-labels");
  if (!labels || !labels.length) return box;
  box.appendChild(el("span", "gc-sr", t("Labels:") + " "));
  labels.forEach(function (l) { box.appendChild(chip(l)); });
  return box;
}

export function load() {
  return api("GET", "/labels").then(function (d) {
    catalog = d.labels || [];
    renderFilter();
    renderMenu();
  });
}

function renderFilter() {
  var sel = $("gc-label-filter");
  if (!sel) return;
  var chosen = sel.value;
  sel.textContent = "";
  var any = el("option", null, t("Any label"));
  any.value = "";
  sel.appendChild(any);
  catalog.forEach(function (l) {
    var o = el("option", null, l.name);
    o.value = String(l.id);
    sel.appendChild(o);
  });
  sel.value = catalog.some(function (l) { return String(l.id) === chosen; }) ? chosen : "";
  $("gc-label-filter-box").hidden = !catalog.length;
}

/* ---- the header's menu ---------------------------------------------------------------- */

export function renderHeader(sub, c) {
  var has = c.labels && c.labels.length;
  if (has) sub.appendChild(chips(c.labels));
  var btn = $("gc-labels-btn");
  btn.hidden = !can("chats.reply") || !catalog.length;
  if (menuFor && menuFor.id === c.id) { menuFor = c; renderMenu(); }
  else if (menuFor) closeMenu(false);
}

var pending = new Set();   // label ids whose change is on its way (their box keeps its state)

function renderMenu() {
  var list = $("gc-labels-list");
  if (!list || !menuFor) return;
  var on = new Set((menuFor.labels || []).map(function (l) { return l.id; }));
  var boxes = Array.from(list.querySelectorAll("input"));
  var same = boxes.length === catalog.length && boxes.every(function (b, i) { return b.value === String(catalog[i].id); });
  if (same) {
    // Only the states change: the boxes (and the keyboard focus on one) stay.
    boxes.forEach(function (b) { if (!pending.has(Number(b.value))) b.checked = on.has(Number(b.value)); });
    return;
  }
  list.textContent = "";
  catalog.forEach(function (l) {
    var li = el("li");
    var label = el("label", "gc-choice");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.value = String(l.id);
    box.checked = on.has(l.id);
    box.addEventListener("change", function () { toggle(l, box); });
    label.appendChild(box);
    label.appendChild(chip(l));
    li.appendChild(label);
    list.appendChild(li);
  });
}

function toggle(label, box) {
  var c = menuFor;
  if (!c) return;
  // Not disabled while it runs: a disabled box would lose the keyboard focus.
  pending.add(label.id);
  var wanted = box.checked;
  $("gc-labels-error").textContent = "";
  var req = wanted
    ? api("POST", "/conversations/" + c.id + "/labels", { label_id: label.id })
    : api("DELETE", "/conversations/" + c.id + "/labels/" + label.id);
  req.then(function (d) {
    pending.delete(label.id);
    c.labels = d.labels;
    announce(wanted ? t("Label added: {name}.", { name: label.name }) : t("Label removed: {name}.", { name: label.name }));
    emit("labels-changed", { id: c.id, labels: d.labels });
  }, function (e) {
    pending.delete(label.id);
    box.checked = !wanted;
    $("gc-labels-error").textContent = e.message;
  });
}

function openMenu(c) {
  menuFor = c;
  renderMenu();
  $("gc-labels-menu").hidden = false;
  $("gc-labels-btn").setAttribute("aria-expanded", "true");
  var first = $("gc-labels-list").querySelector("input");
  if (first) first.focus();
}

function closeMenu(refocus) {
  menuFor = null;
  $("gc-labels-menu").hidden = true;
  $("gc-labels-error").textContent = "";
  $("gc-labels-btn").setAttribute("aria-expanded", "false");
  if (refocus) $("gc-labels-btn").focus();
}

/* options.current(): the open conversation's summary; options.filter(id|null): filter the list. */
export function init(options) {
  onFilter = options.filter;
  var btn = $("gc-labels-btn"), menu = $("gc-labels-menu");
  btn.addEventListener("click", function () {
    if (menuFor) { closeMenu(true); return; }
    var c = options.current();
    if (c) openMenu(c);
  });
  menu.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); closeMenu(true); }
  });
  $("gc-labels-done").addEventListener("click", function () { closeMenu(true); });
  var sel = $("gc-label-filter");
  sel.addEventListener("change", function () { onFilter(sel.value ? Number(sel.value) : null); });
  load().catch(function () { /* no labels: the controls stay hidden */ });
}
