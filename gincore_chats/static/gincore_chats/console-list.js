/* The conversation list: filters, search, keyset pages, live rows, unread badges, tab title.

   Rows come from GET /conversations (pages by keyset cursor) and live from "conversation"
   frames. A live row replaces a cached one only if its event sequence number is higher (rows
   from different requests and server processes can arrive out of order). Live frames carry no
   per-manager unread count: changed rows are batched into one GET /unread, which also returns
   the total for the tab title. */

import {
  $, api, avatar, config, contactName, customerAvatar, el, emit, fmtDateTime, fmtWhen, srOnly,
  t, timeKey, tn
} from "./console-core.js";
import * as ai from "./console-ai.js";
import { chips } from "./console-labels.js";

var listEl, moreEl, emptyEl, searchEl;
var rows = new Map();        // id -> row (summary + unread + manager_profiles)
var nodes = new Map();       // id -> <li>
var announced = new Set();   // conversations announced as new chats
export var people = new Map(); // manager id -> {id, name, avatar_url}
var filter = "all", query = "", nextCursor = null, boundary = null, labelFilter = null;
var loadSeq = 0, loading = null, current = null, openHandler = null;
// Whether the "Load more" button is scrolled into view (kept by the IntersectionObserver).
var moreInView = false;
var pageStart = Date.now();
var BASE_TITLE = document.title;

/* unread fetching */
var pendingIds = new Set(), unreadTimer = null, reqCounter = 0, lastTotalReq = 0;
var readMarks = new Map();   // id -> reqCounter when a "read" frame arrived

export function rememberPeople(list) {
  (list || []).forEach(function (p) { if (p && p.id) people.set(String(p.id), p); });
}

function profilesFor(r) {
  return (r.managers || []).map(function (id) {
    return people.get(String(id)) || { id: id, name: t("Manager {id}", { id: id }), avatar_url: null };
  });
}

/* ---- ordering, matching, range ------------------------------------------------------- */

function newer(a, b) {
  var ta = timeKey(a.last_activity_at), tb = timeKey(b.last_activity_at);
  return ta !== tb ? ta > tb : a.id > b.id;
}

function inRange(r) {
  // Without a next page everything is loaded; otherwise a row below the last loaded one
  // belongs to a later page and appears when it is loaded.
  return !nextCursor || !boundary || !newer(boundary, r) || r.id === boundary.id;
}

/* Has the customer written? Until then a conversation is a visit: only under "Visits" (and
   "Mine", for a manager who joined it). */
function listed(r) { return !!r.first_customer_message_at; }

function matches(r) {
  if (filter === "closed") { if (r.status !== "closed") return false; }
  else if (r.status !== "open") return false;
  if (filter === "visits" ? listed(r) : filter !== "mine" && !listed(r)) return false;
  if (filter === "mine" && (r.managers || []).indexOf(config.me) < 0) return false;
  if (filter === "unassigned" && (r.managers || []).length) return false;
  // The open conversation stays in "Unread" while it is being read.
  if (filter === "unread" && !(r.unread > 0) && r.id !== current) return false;
  if (labelFilter && !(r.labels || []).some(function (l) { return l.id === labelFilter; })) return false;
  if (query) {
    var q = query.toLowerCase(), c = r.contact || {};
    var hit = [c.name, c.email, c.phone].some(function (v) { return v && String(v).toLowerCase().indexOf(q) >= 0; });
    if (!hit) return false;
  }
  return true;
}

/* ---- rendering (keyed: rows keep their DOM node, so focus survives updates) ----------- */

function fillRow(btn, r) {
  btn.textContent = "";
  btn.dataset.id = r.id;
  if (current === r.id) btn.setAttribute("aria-current", "true"); else btn.removeAttribute("aria-current");
  btn.classList.toggle("gc-row-unread", r.unread > 0);
  btn.classList.toggle("gc-row-closed", r.status === "closed");
  var name = contactName(r);
  btn.appendChild(customerAvatar(r, "gc-avatar-md"));
  var main = el("span", "gc-row-main");
  var top = el("span", "gc-row-top");
  top.appendChild(el("span", "gc-row-name", name));
  var tm = el("time", "gc-row-time", fmtWhen(r.last_activity_at, null));
  tm.dateTime = r.last_activity_at || "";
  tm.title = fmtDateTime(r.last_activity_at, null);
  top.appendChild(tm);
  main.appendChild(top);
  main.appendChild(el("span", "gc-row-preview", r.last_message_preview || (listed(r) ? t("New conversation") : t("Visit · no message yet"))));
  var meta = el("span", "gc-row-meta");
  meta.appendChild(el("span", "gc-row-source", r.source_name || ""));
  // TRANSLATORS: conversation status
  if (r.status === "closed") meta.appendChild(el("span", "gc-tag", t("Closed")));
  if (r.unreachable) {
    var away = el("span", "gc-tag gc-tag-unreachable", t("Unreachable"));
    away.title = r.unreachable.reason || t("The customer cannot receive messages.");
    meta.appendChild(away);
  }
  if (r.ai) meta.appendChild(ai.tag(r.ai));
  if (r.labels && r.labels.length) meta.appendChild(chips(r.labels));
  var faces = profilesFor(r);
  if (faces.length) {
    var box = el("span", "gc-faces");
    faces.slice(0, 3).forEach(function (p) {
      var a = avatar(p.name, p.avatar_url, p.id, "gc-avatar-xs");
      a.title = p.name;
      box.appendChild(a);
    });
    if (faces.length > 3) box.appendChild(el("span", "gc-faces-more", "+" + (faces.length - 3)));
    box.appendChild(srOnly(" " + t("In chat: {names}", { names: faces.map(function (p) { return p.name; }).join(", ") })));
    meta.appendChild(box);
  } else {
    meta.appendChild(el("span", "gc-row-nobody", t("Unassigned")));
  }
  main.appendChild(meta);
  btn.appendChild(main);
  if (r.unread > 0) {
    var badge = el("span", "gc-unread");
    var n = el("span", null, r.unread > 99 ? "99+" : String(r.unread));
    n.setAttribute("aria-hidden", "true");
    badge.appendChild(n);
    badge.appendChild(srOnly(" " + tn("{n} unread", "{n} unread", r.unread)));
    btn.appendChild(badge);
  }
}

function buildRow(r) {
  var li = el("li", "gc-row-item");
  var btn = el("button", "gc-row");
  btn.type = "button";
  btn.tabIndex = -1;
  btn.addEventListener("click", function () { if (openHandler) openHandler(r.id); });
  li.appendChild(btn);
  return li;
}

function render() {
  var items = [];
  rows.forEach(function (r) { if (matches(r) && inRange(r)) items.push(r); });
  items.sort(function (a, b) { return newer(a, b) ? -1 : 1; });
  var active = document.activeElement;
  var focusedId = active && listEl.contains(active) && active.dataset ? active.dataset.id : null;
  var keep = new Set(items.map(function (r) { return r.id; }));
  nodes.forEach(function (li, id) { if (!keep.has(id)) { li.remove(); nodes.delete(id); } });
  var prev = null;
  items.forEach(function (r) {
    var li = nodes.get(r.id);
    if (!li) { li = buildRow(r); nodes.set(r.id, li); }
    fillRow(li.firstChild, r);
    var expected = prev ? prev.nextSibling : listEl.firstChild;
    if (li !== expected) listEl.insertBefore(li, expected);
    prev = li;
  });
  // One tab stop for the whole list (arrow keys move inside it): the open row, else the first.
  var stop = (current && nodes.get(current)) || listEl.firstChild;
  listEl.querySelectorAll(".gc-row").forEach(function (b) { b.tabIndex = -1; });
  if (stop) stop.firstChild.tabIndex = 0;
  if (focusedId && document.activeElement !== active) {
    var again = nodes.get(Number(focusedId));
    if (again) again.firstChild.focus();
  }
  emptyEl.hidden = items.length > 0 || !!loading;
  emptyEl.textContent = query ? t("No conversations match “{query}”.", { query: query }) : t("No conversations here.");
  moreEl.hidden = !nextCursor;
}

/* ---- loading ------------------------------------------------------------------------- */

function mergeRow(r, old) {
  if (old && old.last_seq > r.last_seq) {
    // Our live copy is newer than this answer, and so is its unread count: the answer was
    // counted before the live message. Keep the copy and ask for a fresh count.
    queueUnread(r.id);
    return old;
  }
  var merged = Object.assign({}, r);
  if (merged.unread === undefined) merged.unread = old ? old.unread : 0;
  return merged;
}

function loadMore() {
  if (!loading) load(true).catch(function (e) { emit("error", e); });
}

export function load(append) {
  var seq = ++loadSeq;
  var qs = "?filter=" + encodeURIComponent(filter);
  if (query) qs += "&q=" + encodeURIComponent(query);
  if (labelFilter) qs += "&label=" + labelFilter;
  if (append && nextCursor) qs += "&cursor=" + encodeURIComponent(nextCursor);
  loading = api("GET", "/conversations" + qs).then(function (data) {
    if (seq !== loadSeq) return;  // a newer load (filter change, reconnect) superseded this one
    var old = rows;
    if (!append) rows = new Map();
    data.conversations.forEach(function (r) {
      rememberPeople(r.manager_profiles);
      rows.set(r.id, mergeRow(r, old.get(r.id)));
    });
    if (!append) {
      // Keep the open conversation's row even when the filter hides it from the page.
      if (current && !rows.has(current) && old.has(current)) rows.set(current, old.get(current));
    }
    var page = data.conversations;
    if (page.length) boundary = page[page.length - 1];
    else if (!append) boundary = null;
    nextCursor = data.next_cursor || null;
    loading = null;
    render();
    queueUnread();  // refresh the total for the title
    emit("list-loaded", { count: rows.size });
    // The observer fires once when the button comes into view; if that happened while this
    // load was running, the end of the list is still showing and the next page is due now.
    if (moreInView && nextCursor) loadMore();
  }, function (e) {
    if (seq === loadSeq) loading = null;
    throw e;
  });
  return loading;
}

/* ---- live updates ------------------------------------------------------------------- */

export function applyRow(r, live) {
  rememberPeople(r.manager_profiles);
  var old = rows.get(r.id);
  if (old && old.last_seq > r.last_seq) return;
  var merged = mergeRow(r, old);
  if (!r.manager_profiles && old) merged.manager_profiles = old.manager_profiles;
  rows.set(r.id, merged);
  if (live) {
    // A new chat (sound, announcement), once: the customer's first message, just now. A visit
    // opening the widget is not one.
    var at = timeKey(r.first_customer_message_at);
    if (listed(r) && !announced.has(r.id) && r.status === "open" && at >= pageStart - 120000 && at >= Date.now() - 120000) {
      announced.add(r.id);
      emit("new-conversation", merged);
    }
    if (!old || old.last_seq !== r.last_seq) queueUnread(r.id);
  }
  render();
  emit("row", merged);
}

/* A "read" frame: this manager read or marked unread a conversation (any tab or device). */
export function applyRead(frame) {
  var id = frame.conversation_id;
  readMarks.set(id, reqCounter);
  var r = rows.get(id);
  if (r) { r.unread = frame.unread; render(); emit("row", r); }
  queueUnread();  // the total changed
}

/* The total (tab title) is counted at most every TOTAL_EVERY ms: in a huge inbox it is the
   costly part. Row counts are cheap and always fresh. */
var TOTAL_EVERY = 2000, totalAt = 0, totalWanted = false, totalTimer = null;

export function queueUnread(id) {
  if (id) pendingIds.add(id);
  totalWanted = true;
  if (!unreadTimer) unreadTimer = setTimeout(fetchUnread, 200);
}

function fetchUnread() {
  unreadTimer = null;
  var ids = Array.from(pendingIds);
  pendingIds.clear();
  var withTotal = totalWanted && Date.now() - totalAt >= TOTAL_EVERY;
  if (withTotal) { totalWanted = false; totalAt = Date.now(); }
  else if (totalWanted && !totalTimer) {
    totalTimer = setTimeout(function () { totalTimer = null; queueUnread(); }, TOTAL_EVERY - (Date.now() - totalAt));
  }
  if (!ids.length && !withTotal) return;
  var started = ++reqCounter;
  api("GET", "/unread?ids=" + ids.join(",") + (withTotal ? "" : "&total=0")).then(function (data) {
    var grew = [];
    Object.keys(data.unread || {}).forEach(function (key) {
      var id = Number(key), r = rows.get(id);
      if (!r) return;
      // A read frame that arrived after this request started is newer than this answer.
      if ((readMarks.get(id) || 0) >= started) return;
      var before = r.unread || 0;
      r.unread = data.unread[key];
      if (r.unread > before) grew.push(id);
    });
    if (data.conversations !== undefined && started > lastTotalReq) {
      lastTotalReq = started;
      setTotal(data.conversations, data.cap);
    }
    render();
    if (grew.length) emit("unread-grew", grew);
  }, function () { /* the next change or reconnect asks again */ });
}

var total = 0;
function setTotal(n, cap) {
  total = n || 0;
  var shown = cap && total >= cap ? (cap - 1) + "+" : String(total);
  document.title = (total ? "(" + shown + ") " : "") + BASE_TITLE;
  var h = $("gc-list-title");
  // The heading's "· 3 unread" (console.css draws it from the attribute).
  if (h) h.dataset.unread = total ? tn("{n} unread", "{n} unread", total, { n: shown }) : "";
}

export function unreadTotal() { return total; }

export function row(id) { return rows.get(id); }

/* The list shows only conversations with this label (an id), or all again (null). */
export function setLabelFilter(id) {
  labelFilter = id || null;
  nextCursor = null;
  boundary = null;
  load(false).catch(function (e) { emit("error", e); });
}

/* This console changed a row's labels: show it now (the live row follows). */
export function setRowLabels(id, labels) {
  var r = rows.get(id);
  if (!r) return;
  r.labels = labels;
  render();
}

export function setCurrent(id) {
  current = id;
  render();
}

/* ---- controls ------------------------------------------------------------------------ */

function moveFocus(btn, where) {
  var all = Array.from(listEl.querySelectorAll(".gc-row"));
  var i = all.indexOf(btn);
  var next = where === "first" ? all[0] : where === "last" ? all[all.length - 1] : all[i + where];
  if (!next) return;
  all.forEach(function (b) { b.tabIndex = -1; });
  next.tabIndex = 0;
  next.focus();
}

export function init(options) {
  openHandler = options.open;
  listEl = $("gc-conversations");
  moreEl = $("gc-more");
  emptyEl = $("gc-list-empty");
  searchEl = $("gc-q");

  listEl.addEventListener("keydown", function (e) {
    var btn = e.target.closest(".gc-row");
    if (!btn) return;
    var moves = { ArrowDown: 1, ArrowUp: -1, Home: "first", End: "last" };
    if (e.key in moves) { e.preventDefault(); moveFocus(btn, moves[e.key]); }
  });

  document.querySelectorAll(".gc-filter").forEach(function (b) {
    b.addEventListener("click", function () {
      if (filter === b.dataset.filter) return;
      filter = b.dataset.filter;
      document.querySelectorAll(".gc-filter").forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
      nextCursor = null;
      boundary = null;
      load(false).catch(function (e) { emit("error", e); });
    });
  });

  var searchTimer = null;
  searchEl.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      var q = searchEl.value.trim();
      if (q === query) return;
      query = q;
      load(false).catch(function (e) { emit("error", e); });
    }, 250);
  });
  searchEl.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && searchEl.value) { searchEl.value = ""; searchEl.dispatchEvent(new Event("input")); }
  });
  $("gc-search-form").addEventListener("submit", function (e) { e.preventDefault(); });

  moreEl.addEventListener("click", loadMore);
  if ("IntersectionObserver" in window) {
    // Scrolling to the end of the list loads the next page (the button stays for keyboards).
    new IntersectionObserver(function (entries) {
      moreInView = entries[entries.length - 1].isIntersecting;
      if (moreInView && nextCursor) loadMore();
    }, { root: listEl.parentElement }).observe(moreEl);
  }
}
