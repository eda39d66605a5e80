/* The customer panel: contact (editable with customers.edit), visitor context, navigation
   history, the customer's local time, and internal notes (staff only: the server never sends
   them on any visitor path).

   The panel is built once per opened conversation; live events update its parts in place so
   a manager typing into a field or a note never loses focus or text. */

import {
  $, announce, api, can, config, contactName, customerAvatar, el, fmtClock, fmtDateTime, fmtOffset, link, safeHref, t, tn
} from "./console-core.js";
import * as customer from "./console-customer.js";

var bodyEl, view = null, clock = null;

function section(title, id) {
  var s = el("section", "gc-psec");
  var h = el("h3", "gc-h3", title);
  h.id = id;
  s.setAttribute("aria-labelledby", id);
  s.appendChild(h);
  return s;
}

function addRow(dl, label, value, render) {
  if (value === null || value === undefined || value === "") return;
  dl.appendChild(el("dt", null, label));
  var dd = el("dd");
  if (render) render(dd, value); else dd.textContent = String(value);
  dl.appendChild(dd);
}

function urlValue(dd, value) {
  var href = safeHref(value);
  if (href) dd.appendChild(link(href, value)); else dd.textContent = String(value);
}

function hostOf(value) {
  try { var u = new URL(value); return u.protocol === "http:" || u.protocol === "https:" ? u.host : null; } catch (e) { return null; }
}

/* The customer's zone: its IANA name when the widget reported one (formatting follows its
   DST changes), else the fixed offset in minutes old widgets send, else null. */
export function customerOffset() {
  var ctx = view && view.detail.context;
  if (ctx && typeof ctx.time_zone === "string" && ctx.time_zone) return ctx.time_zone;
  var off = ctx ? ctx.tz_offset_minutes : null;
  return typeof off === "number" ? off : null;
}

function localTimeText() {
  var off = customerOffset();
  if (off === null) return null;
  if (typeof off === "string") {
    var now = view.detail.context.utc_offset_minutes;
    return fmtClock(new Date(), off) + " (" + off.replace(/_/g, " ") + (typeof now === "number" ? ", " + fmtOffset(now) : "") + ")";
  }
  return fmtClock(new Date(), off) + " (" + fmtOffset(off) + ")";
}

/* ---- parts ----------------------------------------------------------------------------- */

function renderHead() {
  var d = view.detail, conv = d.conversation;
  var head = view.parts.head;
  head.textContent = "";
  head.appendChild(customerAvatar({ id: conv.id, contact: d.contact || conv.contact }, "gc-avatar-lg"));
  var box = el("div", "gc-phead-text");
  box.appendChild(el("p", "gc-pname", contactName(conv)));
  var local = localTimeText();
  var lt = el("p", "gc-plocal");
  lt.id = "gc-local-time";
  if (local) { lt.appendChild(el("span", "gc-muted", t("Local time") + " ")); lt.appendChild(el("span", "gc-plocal-value", local)); }
  else lt.appendChild(el("span", "gc-muted", t("Local time unknown")));
  box.appendChild(lt);
  head.appendChild(box);
}

function renderInfo() {
  var d = view.detail, c = d.contact || {}, ctx = d.context || {}, conv = d.conversation;
  var info = view.parts.info;
  info.textContent = "";
  var dl = el("dl", "gc-dl");
  dl.id = "gc-customer";
  if (!can("customers.edit")) {
    addRow(dl, t("Name"), c.name);
    addRow(dl, t("Email"), c.email);
    addRow(dl, t("Phone"), c.phone);
  }
  addRow(dl, t("Username"), c.username);
  addRow(dl, t("Inquiry source"), conv.source_name + (conv.source_kind && conv.source_kind !== "widget" ? " (" + conv.source_kind + ")" : ""));
  addRow(dl, t("Domain"), hostOf(ctx.current_page));
  addRow(dl, t("Current page"), ctx.current_page, urlValue);
  addRow(dl, t("Page title"), ctx.page_title);
  addRow(dl, t("Came from"), ctx.referrer, urlValue);
  addRow(dl, t("Location"), [ctx.city, ctx.country].filter(Boolean).join(", "), function (dd, v) {
    dd.textContent = v;
    // Looked up from the IP address: VPNs, mobile carriers and proxies move people around.
    dd.appendChild(el("small", "gc-muted gc-geo-note", " " + t("(from the IP address; may be inaccurate)")));
  });
  addRow(dl, t("Browser language"), ctx.language || c.language);
  addRow(dl, t("Local time"), localTimeText(), function (dd, v) { dd.className = "gc-plocal-value"; dd.textContent = v; });
  addRow(dl, t("Browser"), ctx.browser);
  addRow(dl, t("OS"), ctx.os);
  addRow(dl, t("Device"), ctx.device);
  addRow(dl, t("IP address"), ctx.ip);
  addRow(dl, t("Started"), conv.created_at ? fmtDateTime(conv.created_at, null) : null);
  var custom = c.custom_fields || {};
  Object.keys(custom).forEach(function (k) {
    var v = custom[k];
    addRow(dl, k, typeof v === "string" ? v : JSON.stringify(v));
  });
  if (c.consent_at) addRow(dl, t("Consent"), t("Given {date}", { date: fmtDateTime(c.consent_at, null) }));
  info.appendChild(dl);
}

function renderHistory() {
  var pages = ((view.detail.context || {}).pages || []).slice().reverse();
  var box = view.parts.history;
  box.textContent = "";
  if (!pages.length) { box.hidden = true; return; }
  box.hidden = false;
  var s = section(t("Pages visited"), "gc-history-title");
  var ol = el("ol", "gc-pages");
  ol.setAttribute("aria-labelledby", "gc-history-title");
  pages.forEach(function (p) {
    var li = el("li");
    var href = safeHref(p.url);
    var label = p.title || p.url || "";
    if (href) li.appendChild(link(href, label)); else li.appendChild(el("span", null, label));
    if (p.title && p.url) li.appendChild(el("span", "gc-page-url", p.url));
    if (p.at) {
      var tm = el("time", "gc-time", fmtClock(p.at, null));
      tm.dateTime = p.at;
      tm.title = fmtDateTime(p.at, null);
      li.appendChild(tm);
    }
    ol.appendChild(li);
  });
  s.appendChild(ol);
  box.appendChild(s);
}

function buildContactForm() {
  var form = el("form", "gc-contact-form");
  form.id = "gc-contact-form";
  form.noValidate = true;
  form.setAttribute("aria-labelledby", "gc-contact-title");
  var h = el("h3", "gc-h3", t("Contact"));
  h.id = "gc-contact-title";
  form.appendChild(h);
  var fields = {};
  [["name", t("Name"), "text", "name"], ["email", t("Email"), "email", "email"], ["phone", t("Phone"), "tel", "tel"]].forEach(function (f) {
    var id = "gc-contact-" + f[0];
    var label = el("label", "gc-field-label", f[1]);
    label.htmlFor = id;
    var input = el("input", "gc-input");
    input.id = id;
    input.type = f[2];
    input.autocomplete = "off";
    input.name = f[0];
    input.addEventListener("input", function () { input.dataset.dirty = "1"; save.disabled = false; });
    form.appendChild(label);
    form.appendChild(input);
    fields[f[0]] = input;
  });
  var save = el("button", "gc-button", t("Save contact"));
  save.type = "submit";
  save.disabled = true;
  var status = el("p", "gc-form-status");
  status.setAttribute("role", "status");
  form.appendChild(save);
  form.appendChild(status);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var v = view;
    if (!v) return;
    var body = {};
    Object.keys(fields).forEach(function (k) { body[k] = fields[k].value.trim() || null; });
    save.disabled = true;
    status.textContent = t("Saving…");
    api("PATCH", "/conversations/" + v.id + "/contact", body).then(function (data) {
      if (view !== v) return;
      Object.keys(fields).forEach(function (k) { delete fields[k].dataset.dirty; });
      mergeContact(data.contact);
      status.textContent = t("Saved.");
    }, function (err) {
      if (view !== v) return;
      save.disabled = false;
      status.textContent = err.message;
    });
  });
  view.parts.fields = fields;
  view.parts.saveContact = save;
  return form;
}

function fillContactForm() {
  var fields = view.parts.fields, c = view.detail.contact || {};
  if (!fields) return;
  Object.keys(fields).forEach(function (k) {
    var input = fields[k];
    // Never overwrite what the manager is editing.
    if (input.dataset.dirty || document.activeElement === input) return;
    input.value = c[k] || "";
  });
}

function renderNote(n) {
  var li = el("li", "gc-note");
  li.dataset.id = n.id;
  var head = el("p", "gc-note-head");
  head.appendChild(el("strong", null, n.author_name || t("Manager")));
  var tm = el("time", "gc-time", fmtDateTime(n.created_at, null));
  tm.dateTime = n.created_at || "";
  head.appendChild(tm);
  li.appendChild(head);
  li.appendChild(el("p", "gc-note-body", n.body));
  return li;
}

function addNote(n) {
  var ul = view.parts.notes;
  if (ul.querySelector('[data-id="' + Number(n.id) + '"]')) return;
  ul.appendChild(renderNote(n));
  view.parts.noNotes.hidden = true;
}

function buildNotes() {
  var s = section(t("Internal notes"), "gc-notes-title");
  s.appendChild(el("p", "gc-hint", t("Only your team sees these; never the customer.")));
  var ul = el("ul", "gc-notes");
  ul.id = "gc-notes";
  ul.setAttribute("aria-labelledby", "gc-notes-title");
  var none = el("p", "gc-muted", t("No notes yet."));
  view.parts.notes = ul;
  view.parts.noNotes = none;
  s.appendChild(ul);
  s.appendChild(none);
  (view.detail.notes || []).forEach(addNote);
  if (can("customers.edit")) {
    var form = el("form", "gc-note-form");
    form.noValidate = true;
    var label = el("label", "gc-field-label", t("New note"));
    label.htmlFor = "gc-note-body";
    var ta = el("textarea", "gc-input");
    ta.id = "gc-note-body";
    ta.rows = 2;
    var add = el("button", "gc-button gc-secondary", t("Add note"));
    add.type = "submit";
    var status = el("p", "gc-form-status");
    status.setAttribute("role", "status");
    form.appendChild(label);
    form.appendChild(ta);
    form.appendChild(add);
    form.appendChild(status);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = ta.value.trim(), v = view;
      if (!text || !v) return;
      add.disabled = true;
      api("POST", "/conversations/" + v.id + "/notes", { body: text }).then(function (data) {
        add.disabled = false;
        if (view !== v) return;
        ta.value = "";
        status.textContent = t("Note added.");
        addNote(data.note);
      }, function (err) {
        add.disabled = false;
        status.textContent = err.message;
      });
    });
    ta.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    s.appendChild(form);
  }
  return s;
}

function mergeContact(c) {
  if (!view || !c) return;
  view.detail.contact = Object.assign({}, view.detail.contact || {}, c);
  view.detail.conversation.contact = Object.assign({}, view.detail.conversation.contact || {}, c);
  renderHead();
  renderInfo();
  fillContactForm();
}

function renderCustomer() {
  var d = view.detail, box = view.parts.customer;
  if (!box) return;
  customer.render(box, {
    contact: d.contact || {},
    conversations: d.customer_conversations,
    suggestions: d.customer_suggestions,
    merges: d.customer_merges,
    host_profile: d.customer_host_profile,
    current_id: view.id,
    refresh: refreshCustomer
  });
}

/* A merge, an undo or a new suggestion: read this conversation's customer again (its contact
   may be another one now) and redraw the parts that show it, keeping the manager's typing. */
function refreshCustomer() {
  var v = view;
  if (!v || !v.parts) return;
  api("GET", "/conversations/" + v.id).then(function (d) {
    if (view !== v || !d.contact) return;
    ["contact", "context", "customer_conversations", "customer_suggestions", "customer_merges", "customer_host_profile"].forEach(function (k) {
      v.detail[k] = d[k];
    });
    v.detail.conversation.contact = d.conversation.contact;
    renderHead();
    renderInfo();
    fillContactForm();
    renderCustomer();
  }, function () { /* the next event or reopening shows it */ });
}

function renderRating() {
  /* The customer's rating of the chat: asked for when it closed, given in the widget or on
     the platform. Nothing is shown for a chat that was never closed. */
  var box = view.parts.rating, r = view.detail.rating;
  box.textContent = "";
  if (!r) return;
  var s = section(t("Rating"), "gc-prating-h");
  var p = el("p", "gc-prating-value");
  p.id = "gc-rating";
  if (r.pending) p.textContent = t("Asked for, not given yet");
  else {
    p.textContent = t("{score} out of 5 {stars}", { score: r.score, stars: "★★★★★".slice(0, r.score) });
    p.dataset.score = String(r.score);
  }
  s.appendChild(p);
  if (r.comment) s.appendChild(el("blockquote", "gc-prating-comment", r.comment));
  box.appendChild(s);
}

/* ---- privacy: export and erase (customers.edit and chats.admin; the server checks too) --- */

function privacyButton(text, action, onClick) {
  var b = el("button", "gc-button gc-button-small", text);
  b.type = "button";
  b.dataset.action = action;
  b.addEventListener("click", onClick);
  return b;
}

function exportContact(contactId, status) {
  status.textContent = t("Preparing the export…");
  fetch(config.api + "/contacts/" + contactId + "/export", {
    method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": config.csrf }
  }).then(function (r) {
    if (!r.ok) return r.json().catch(function () { return {}; }).then(function (d) { throw new Error(d.error || t("The server answered {status}.", { status: r.status })); });
    return r.blob();
  }).then(function (blob) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "contact-" + contactId + ".zip";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 60000);
    status.textContent = t("Export downloaded.");
  }, function (e) { status.textContent = e.message; });
}

function confirmErase(sec, contactId, status) {
  var box = sec.querySelector(".gc-privacy-actions");
  box.textContent = "";
  box.setAttribute("role", "alertdialog");
  box.setAttribute("aria-labelledby", "gc-erase-warn");
  var warn = el("p", "gc-confirm-text", t("Erase this customer? Their messages become “deleted”, their details, visitor context and files are removed everywhere. This cannot be undone."));
  warn.id = "gc-erase-warn";
  box.appendChild(warn);
  var yes = privacyButton(t("Erase for ever"), "confirm-erase", function () {
    yes.disabled = true;
    api("POST", "/contacts/" + contactId + "/erase", { confirm: true }).then(function (data) {
      // Two counts: each its own plural message, put into the sentence (not nested in the call:
      // the extractor skips messages inside another message's arguments).
      var messages = tn("{n} message", "{n} messages", data.erased.messages);
      var files = tn("{n} file", "{n} files", data.erased.files);
      status.textContent = t("Customer erased: {messages}, {files}.", { messages: messages, files: files });
      announce(t("Customer erased."));
      resetPrivacy(sec, contactId, status);
    }, function (e) {
      status.textContent = e.message;
      resetPrivacy(sec, contactId, status);
    });
  });
  yes.classList.add("gc-danger");
  var no = privacyButton(t("Cancel"), "cancel-erase", function () { resetPrivacy(sec, contactId, status); });
  box.appendChild(yes);
  box.appendChild(no);
  no.focus();
}

function resetPrivacy(sec, contactId, status) {
  var box = sec.querySelector(".gc-privacy-actions");
  box.textContent = "";
  box.removeAttribute("role");
  box.removeAttribute("aria-labelledby");
  box.appendChild(privacyButton(t("Export data"), "export-contact", function () { exportContact(contactId, status); }));
  var erase = privacyButton(t("Erase customer…"), "erase-contact", function () { confirmErase(sec, contactId, status); });
  box.appendChild(erase);
  return erase;
}

function buildPrivacy() {
  var sec = section(t("Privacy"), "gc-privacy-h");
  var contactId = view.detail.contact.id;
  sec.appendChild(el("p", "gc-muted", t("Everything held about this customer: download it, or erase it (GDPR).")));
  var box = el("div", "gc-privacy-actions");
  sec.appendChild(box);
  var status = el("p", "gc-muted gc-privacy-status");
  status.setAttribute("role", "status");
  sec.appendChild(status);
  resetPrivacy(sec, contactId, status);
  return sec;
}

/* ---- public ---------------------------------------------------------------------------- */

export function show(detail) {
  bodyEl = bodyEl || $("gc-panel-body");
  bodyEl.textContent = "";
  view = { id: detail.conversation.id, detail: detail, parts: {} };
  if (!detail.contact) {
    var p = el("p", "gc-muted", t("Customer details need the customers.view permission. Ask an admin if you should see them."));
    p.id = "gc-customer";
    bodyEl.appendChild(p);
    view.parts = null;
    return;
  }
  var head = el("div", "gc-phead");
  view.parts.head = head;
  bodyEl.appendChild(head);
  if (can("customers.edit")) bodyEl.appendChild(buildContactForm());
  var info = el("div", "gc-pinfo");
  view.parts.info = info;
  bodyEl.appendChild(info);
  var history = el("div", "gc-phistory");
  view.parts.history = history;
  bodyEl.appendChild(history);
  var cust = el("div", "gc-pcustomer");
  view.parts.customer = cust;
  bodyEl.appendChild(cust);
  var rating = el("div", "gc-prating");
  view.parts.rating = rating;
  bodyEl.appendChild(rating);
  bodyEl.appendChild(buildNotes());
  bodyEl.appendChild(customer.searchSection());
  if (can("customers.edit") && can("chats.admin") && view.detail.contact.id) bodyEl.appendChild(buildPrivacy());
  renderRating();
  renderHead();
  renderInfo();
  renderHistory();
  renderCustomer();
  fillContactForm();
  if (!clock) clock = setInterval(tick, 15000);
}

export function clear(text) {
  bodyEl = bodyEl || $("gc-panel-body");
  view = null;
  bodyEl.textContent = "";
  bodyEl.appendChild(el("p", "gc-muted", text || t("No conversation open.")));
}

/* Keep the customer's clock current. */
export function tick() {
  if (!view || !view.parts) return;
  var local = localTimeText();
  if (!local) return;
  document.querySelectorAll("#gc-panel-body .gc-plocal-value").forEach(function (n) { n.textContent = local; });
}

/* Events of the open conversation that concern the panel. */
export function applyEvent(ev) {
  if (!view || !view.parts || ev.conversation_id !== view.id) return;
  var d = ev.data || {};
  if (ev.event === "contact.updated") mergeContact(d.contact);
  else if (ev.event === "contact.consent") mergeContact({ consent_at: d.consent_at, consent_text: d.text });
  else if (ev.event === "contact.note" && d.note) addNote(d.note);
  else if (ev.event === "contact.merged" || ev.event === "contact.unmerged" || ev.event === "contact.merge_suggested") refreshCustomer();
  else if (ev.event === "conversation.rated" || ev.event === "conversation.rating_requested") {
    view.detail.rating = d.rating;
    renderRating();
  } else if (ev.event === "conversation.status" && d.status === "open" && view.detail.rating && view.detail.rating.pending) {
    view.detail.rating = null;
    renderRating();
  }
  else if (ev.event === "visitor.context" && d.context) {
    view.detail.context = d.context;
    renderHead();
    renderInfo();
    renderHistory();
  }
}

/* A list row changed (name from another manager's edit, source rename). */
export function applyRow(r) {
  if (!view || !view.parts || r.id !== view.id) return;
  view.detail.conversation = Object.assign({}, view.detail.conversation, r, {
    contact: Object.assign({}, view.detail.conversation.contact, r.contact)
  });
  renderHead();
}
