/* The open conversation's header: customer, source, status, the AI assistant's state and who
   is in the chat, and the actions on the conversation (join, leave, hand back to AI, AI draft
   (console-ai.js), labels (console-labels.js), read/unread, close, reopen, the time-zone switch).
   Buttons are real buttons, disabled while their request runs; a refusal shows in the chat's
   alert and loses nothing. */

import { $, announce, api, avatar, can, config, el, srOnly, t } from "./console-core.js";
import * as list from "./console-list.js";
import * as panel from "./console-panel.js";
import {
  KIND_NAMES, alertChat, conv, cur, customerName, joined, loading, setTzMode, tzMode
} from "./console-state.js";
import * as ai from "./console-ai.js";
import * as labels from "./console-labels.js";
import * as composer from "./console-composer.js";
import * as read from "./console-read.js";
import * as thread from "./console-thread.js";
import * as typing from "./console-typing.js";

export function render() {
  var actions = $("gc-chat-actions");
  if (!cur || loading) { actions.hidden = true; return; }
  var c = conv();
  $("gc-chat-title").textContent = customerName();
  var sub = $("gc-chat-sub");
  sub.textContent = "";
  sub.appendChild(el("span", "gc-chat-source", c.source_name + (c.source_kind && c.source_kind !== "widget" ? " · " + (KIND_NAMES[c.source_kind] || c.source_kind) : "")));
  var closed = c.status === "closed";
  // TRANSLATORS: conversation status
  var statusName = t("Open");
  // TRANSLATORS: conversation status
  if (closed) statusName = t("Closed");
  sub.appendChild(el("span", "gc-tag " + (closed ? "gc-tag-closed" : "gc-tag-open"), statusName));
  if (c.unreachable) {
    var away = el("span", "gc-tag gc-tag-unreachable", t("Unreachable"));
    away.title = composer.unreachableText(c.unreachable);
    away.appendChild(srOnly(": " + away.title));
    sub.appendChild(away);
  }
  ai.renderHeader(sub);
  labels.renderHeader(sub, c);
  var ids = c.managers || [];
  var inChat = el("span", "gc-chat-people");
  if (ids.length) {
    inChat.appendChild(el("span", "gc-muted", t("In chat:") + " "));
    ids.forEach(function (id, i) {
      var p = list.people.get(String(id)) || { id: id, name: t("Manager {id}", { id: id }) };
      var who = el("span", "gc-person");
      who.appendChild(avatar(p.name, p.avatar_url, p.id, "gc-avatar-xs"));
      who.appendChild(el("span", null, (String(id) === String(config.me) ? t("{name} (you)", { name: p.name }) : p.name) + (i < ids.length - 1 ? "," : "")));
      inChat.appendChild(who);
    });
  } else inChat.appendChild(el("span", "gc-muted", t("Nobody has joined")));
  sub.appendChild(inChat);

  actions.hidden = false;
  var reply = can("chats.reply"), isIn = joined();
  $("gc-join").hidden = !reply || isIn;
  $("gc-leave").hidden = !isIn;
  var listed = list.row(cur.id);
  var unread = !!(listed && listed.unread > 0);
  $("gc-unread").textContent = unread ? t("Mark as read") : t("Mark as unread");
  $("gc-unread").dataset.unread = unread ? "1" : "0";
  $("gc-close").hidden = !reply || c.status === "closed";
  $("gc-reopen").hidden = !reply || c.status !== "closed";
  var tz = $("gc-tz"), off = panel.customerOffset();
  tz.setAttribute("aria-pressed", String(tzMode === "customer"));
  tz.disabled = off === null;
  tz.title = off === null ? t("The customer's time zone is not known.") : t("Show message times in the customer's local time.");
  composer.update();
}

function action(btn, fn) {
  btn.addEventListener("click", function () {
    if (!cur || loading) return;  // act only on the conversation the header shows
    var c = cur;
    btn.disabled = true;
    alertChat("");
    fn(c).then(function () { btn.disabled = false; }, function (e) { btn.disabled = false; alertChat(e.message); });
  });
}

/* A list row changed: keep the header (name, managers, status) in step. */
export function applyRow(r) {
  if (!cur || r.id !== cur.id) return;
  var c = conv();
  if (r.last_seq >= (c.last_seq || 0)) {
    Object.assign(c, r, { contact: Object.assign({}, c.contact, r.contact) });
    panel.applyRow(r);
  }
  render();  // the read/unread button follows this manager's read state
}

export function init() {
  ai.init(render);
  action($("gc-join"), function (c) {
    return api("POST", "/conversations/" + c.id + "/join").then(function (d) {
      if (cur !== c) return;
      conv().managers = d.managers;
      render();
      composer.focus();
      typing.input();
    });
  });
  action($("gc-leave"), function (c) {
    return api("POST", "/conversations/" + c.id + "/leave").then(function (d) {
      if (cur !== c) return;
      typing.stop();
      conv().managers = d.managers;
      render();
      $("gc-join").focus();
    });
  });
  action($("gc-unread"), function (c) {
    if ($("gc-unread").dataset.unread === "1") {
      return read.markAllRead(c).then(function () {
        if (cur === c) announce(t("Marked as read."));
      });
    }
    return read.keepUnread(c).then(function () {
      if (cur === c) announce(t("Marked as unread."));
    });
  });
  action($("gc-close"), function (c) {
    return api("POST", "/conversations/" + c.id + "/status", { status: "closed" }).then(function (d) {
      if (cur !== c) return;
      applyRow(d.conversation);
      $("gc-reopen").focus();
    });
  });
  action($("gc-reopen"), function (c) {
    return api("POST", "/conversations/" + c.id + "/status", { status: "open" }).then(function (d) {
      if (cur !== c) return;
      applyRow(d.conversation);
      $("gc-close").focus();
    });
  });
  $("gc-tz").addEventListener("click", function () {
    setTzMode(tzMode === "customer" ? "mine" : "customer");
    render();
    thread.rerenderTimes();
  });
}
