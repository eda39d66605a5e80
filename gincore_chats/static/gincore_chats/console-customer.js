/* The customer across conversations, in the panel: what the host's site knows of them
   (customer_loader), their earlier conversations from every source (opened read-only in
   place), "same person?" suggestions with Merge / Not the same, the undo of a recent merge,
   and a contact search.

   Everything from the server is put in as text (textContent), never as HTML. */

import { api, can, el, fmtDateTime, t, tn } from "./console-core.js";

/* Why a suggestion was made (the server's reason key), in the manager's language. */
function reasonText(reason) {
  if (reason === "same_identity") return t("signed in as the same user of your site");
  if (reason === "same_email") return t("gave an email address a verified contact has");
  if (reason === "same_phone") return t("has the same phone number");
  return reason;
}

/* A conversation's status, as the list of the customer's conversations shows it. */
function statusText(status) {
  // TRANSLATORS: conversation status
  if (status === "open") return t("open");
  // TRANSLATORS: conversation status
  if (status === "closed") return t("closed");
  return status;
}

function section(title, id, level) {
  var s = el("section", "gc-psec");
  var h = el(level || "h3", "gc-h3", title);
  h.id = id;
  s.setAttribute("aria-labelledby", id);
  s.appendChild(h);
  return s;
}

function who(c) {
  return (c && (c.name || c.email || c.phone || c.username)) || t("Contact #{id}", { id: c ? c.id : "?" });
}

/* ---- the host's profile ------------------------------------------------------------------ */

function profileSection(rows, prefix, level) {
  if (!rows || !rows.length) return null;
  prefix = prefix || "gc";
  var s = section(t("From your site"), prefix + "-host-profile-title", level);
  var dl = el("dl", "gc-dl");
  dl.id = prefix + "-host-profile";
  rows.forEach(function (r) {
    dl.appendChild(el("dt", null, r.label));
    dl.appendChild(el("dd", null, r.value));
  });
  s.appendChild(dl);
  return s;
}

/* ---- earlier conversations ---------------------------------------------------------------- */

function transcript(box, convId, button) {
  var titleId = box.id + "-title";
  box.textContent = "";
  box.hidden = false;
  box.appendChild(el("p", "gc-muted", t("Loading…")));
  api("GET", "/conversations/" + convId).then(function (d) {
    box.textContent = "";
    var h = el("h4", "gc-h3", t("Conversation of {date} (read-only)", { date: fmtDateTime(d.conversation.created_at, null) }));
    h.id = titleId;
    h.tabIndex = -1;
    box.setAttribute("aria-labelledby", h.id);
    box.appendChild(h);
    var ol = el("ol", "gc-transcript");
    (d.messages || []).forEach(function (m) {
      var li = el("li", "gc-transcript-msg gc-transcript-" + m.kind);
      var head = el("p", "gc-note-head");
      head.appendChild(el("strong", null, m.kind === "customer" ? t("Customer") : (m.author_name || (m.kind === "note" ? t("Internal note") : t("Team")))));
      var tm = el("time", "gc-time", fmtDateTime(m.created_at, null));
      tm.dateTime = m.created_at || "";
      head.appendChild(tm);
      li.appendChild(head);
      li.appendChild(el("p", "gc-note-body", m.body || (m.attachments && m.attachments.length ? t("(file)") : "")));
      ol.appendChild(li);
    });
    if (!ol.childNodes.length) box.appendChild(el("p", "gc-muted", t("No messages.")));
    box.appendChild(ol);
    var close = el("button", "gc-button gc-secondary", t("Close transcript"));
    close.type = "button";
    close.addEventListener("click", function () { box.hidden = true; box.textContent = ""; button.focus(); });
    box.appendChild(close);
    h.focus();
  }, function (e) {
    box.textContent = "";
    box.appendChild(el("p", "gc-form-status", e.message));
  });
}

/* ``prefix`` keeps ids unique: the panel's own list and a searched contact's card coexist. */
function conversationsSection(rows, currentId, prefix, level) {
  var s = section(t("Conversations"), prefix + "-convs-title", level);
  var ul = el("ul", "gc-contact-convs");
  ul.id = prefix + "-convs";
  ul.setAttribute("aria-labelledby", prefix + "-convs-title");
  var box = el("div", "gc-transcript-box");
  box.id = prefix + "-transcript";
  box.setAttribute("role", "region");
  box.hidden = true;
  (rows || []).forEach(function (c) {
    var li = el("li");
    li.dataset.id = c.id;
    var label = c.source_name + (c.source_kind && c.source_kind !== "widget" ? " (" + c.source_kind + ")" : "") +
      " · " + fmtDateTime(c.created_at, null) + " · " + statusText(c.status);
    if (c.id === currentId) {
      li.appendChild(el("span", "gc-muted", label + " · " + t("this conversation")));
    } else {
      var b = el("button", "gc-linkish", label);
      b.type = "button";
      b.addEventListener("click", function () { transcript(box, c.id, b); });
      li.appendChild(b);
    }
    if (c.first_line) li.appendChild(el("span", "gc-page-url", c.first_line));
    ul.appendChild(li);
  });
  s.appendChild(ul);
  s.appendChild(box);
  return s;
}

/* ---- merging ------------------------------------------------------------------------------ */

function suggestionsSection(ctx) {
  var rows = ctx.suggestions || [];
  if (!rows.length) return null;
  var s = section(t("Same person?"), "gc-suggest-title");
  s.id = "gc-suggestions";
  var status = el("p", "gc-form-status");
  status.setAttribute("role", "status");
  rows.forEach(function (sg) {
    var other = sg.other || {};
    var box = el("div", "gc-suggestion");
    box.dataset.id = sg.id;
    var values = { contact: who(other) + (other.email ? " <" + other.email + ">" : ""), reason: reasonText(sg.reason) };
    var text = other.verified ? t("{contact}, verified: {reason}.", values) : t("{contact}: {reason}.", values);
    box.appendChild(el("p", null, text));
    if (can("customers.edit")) {
      var merge = el("button", "gc-button", t("Merge into one contact"));
      merge.type = "button";
      merge.setAttribute("aria-label", t("Merge with {name}", { name: who(other) }));
      merge.addEventListener("click", function () {
        // The verified contact keeps its id (it is the host user's); else this conversation's.
        var keep = other.verified ? other.id : ctx.contact.id, gone = keep === other.id ? ctx.contact.id : other.id;
        merge.disabled = true;
        status.textContent = t("Merging…");
        api("POST", "/contacts/" + keep + "/merge", { other_id: gone }).then(function () {
          status.textContent = t("Merged.");
          ctx.refresh();
        }, function (e) { merge.disabled = false; status.textContent = e.message; });
      });
      var no = el("button", "gc-button gc-secondary", t("Not the same"));
      no.type = "button";
      no.addEventListener("click", function () {
        no.disabled = true;
        api("POST", "/merge-suggestions/" + sg.id + "/dismiss").then(function () { ctx.refresh(); },
          function (e) { no.disabled = false; status.textContent = e.message; });
      });
      box.appendChild(merge);
      box.appendChild(no);
    }
    s.appendChild(box);
  });
  s.appendChild(status);
  return s;
}

function mergesSection(ctx) {
  var rows = (ctx.merges || []).filter(function (m) { return m.can_undo; });
  if (!rows.length || !can("customers.edit")) return null;
  var s = section(t("Recent merges"), "gc-merges-title");
  s.id = "gc-merges";
  var status = el("p", "gc-form-status");
  status.setAttribute("role", "status");
  rows.forEach(function (m) {
    var p = el("p", null, tn("Contact #{id} merged in {date} ({n} conversation).", "Contact #{id} merged in {date} ({n} conversations).",
      m.conversations_moved, { id: m.merged_id, date: fmtDateTime(m.created_at, null) }) + " ");
    var undo = el("button", "gc-button gc-secondary", t("Undo merge"));
    undo.type = "button";
    undo.addEventListener("click", function () {
      undo.disabled = true;
      api("POST", "/merges/" + m.id + "/undo").then(function () { status.textContent = t("Merge undone."); ctx.refresh(); },
        function (e) { undo.disabled = false; status.textContent = e.message; });
    });
    p.appendChild(undo);
    s.appendChild(p);
  });
  s.appendChild(status);
  return s;
}

/* ---- search ------------------------------------------------------------------------------- */

function showContact(out, id) {
  out.textContent = "";
  api("GET", "/contacts/" + id).then(function (page) {
    if (!page.contact) { out.appendChild(el("p", "gc-muted", t("This contact was merged into contact #{id}.", { id: page.merged_into_id }))); return; }
    var card = el("div", "gc-contact-card");
    card.id = "gc-contact-card";
    var c = page.contact;
    var h = el("h4", "gc-h3", c.verified ? t("{name} (verified)", { name: who(c) }) : who(c));
    h.tabIndex = -1;
    card.appendChild(h);
    var dl = el("dl", "gc-dl");
    [[t("Email"), c.email], [t("Phone"), c.phone], [t("Username"), c.username], [t("Your user id"), c.host_user_id]].forEach(function (r) {
      if (!r[1]) return;
      dl.appendChild(el("dt", null, r[0]));
      dl.appendChild(el("dd", null, r[1]));
    });
    card.appendChild(dl);
    var prof = profileSection(page.host_profile, "gc-card", "h5");
    if (prof) card.appendChild(prof);
    card.appendChild(conversationsSection(page.conversations, null, "gc-card", "h5"));
    out.appendChild(card);
    h.focus();
  }, function (e) { out.appendChild(el("p", "gc-form-status", e.message)); });
}

export function searchSection() {
  var s = section(t("Find a customer"), "gc-csearch-title");
  var form = el("form", "gc-csearch");
  form.setAttribute("role", "search");
  form.noValidate = true;
  // "Search customers", not the fields' names: the contact form above has the labels
  // "Name", "Email" and "Phone" of its own.
  var label = el("label", "gc-field-label", t("Search customers"));
  label.htmlFor = "gc-csearch-q";
  var hint = el("p", "gc-hint", t("By name, email address, phone number or platform id."));
  hint.id = "gc-csearch-hint";
  var input = el("input", "gc-input");
  input.id = "gc-csearch-q";
  input.setAttribute("aria-describedby", hint.id);
  input.type = "search";
  input.autocomplete = "off";
  var go = el("button", "gc-button gc-secondary", t("Search"));
  go.type = "submit";
  var results = el("ul", "gc-csearch-results");
  results.id = "gc-csearch-results";
  results.setAttribute("aria-label", t("Customers found"));
  var out = el("div", "gc-csearch-contact");
  var status = el("p", "gc-form-status");
  status.setAttribute("role", "status");
  form.appendChild(label);
  form.appendChild(hint);
  form.appendChild(input);
  form.appendChild(go);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    results.textContent = "";
    out.textContent = "";
    api("GET", "/contacts?q=" + encodeURIComponent(input.value.trim())).then(function (d) {
      status.textContent = d.contacts.length ? tn("{n} found.", "{n} found.", d.contacts.length) : t("No customer found.");
      d.contacts.forEach(function (c) {
        var li = el("li");
        var b = el("button", "gc-linkish", who(c) + (c.email ? " · " + c.email : "") + (c.phone ? " · " + c.phone : ""));
        b.type = "button";
        b.addEventListener("click", function () { showContact(out, c.id); });
        li.appendChild(b);
        results.appendChild(li);
      });
    }, function (err) { status.textContent = err.message; });
  });
  s.appendChild(form);
  s.appendChild(status);
  s.appendChild(results);
  s.appendChild(out);
  return s;
}

/* ---- public ------------------------------------------------------------------------------- */

/* Fill ``box`` with the customer's cross-conversation parts. ``ctx``: {contact, conversations,
   suggestions, merges, host_profile, current_id, refresh} */
export function render(box, ctx) {
  box.textContent = "";
  [
    profileSection(ctx.host_profile),
    suggestionsSection(ctx),
    mergesSection(ctx),
    conversationsSection(ctx.conversations, ctx.current_id, "gc-contact")
  ].forEach(function (part) { if (part) box.appendChild(part); });
}
