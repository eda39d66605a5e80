/* gincore-chats operator console. Plain JS, no build step. Every user string goes through
   textContent (never innerHTML), so nothing a customer types can run here. */
(function () {
  "use strict";
  var root = document.getElementById("gc-console");
  if (!root) return;
  var API = root.dataset.api, CSRF = root.dataset.csrf, ME = root.dataset.managerId;
  var PERMS = (root.dataset.permissions || "").split(" ");
  var can = function (p) { return PERMS.indexOf(p) >= 0 || PERMS.indexOf("chats.admin") >= 0; };
  var $ = function (id) { return document.getElementById(id); };
  var listEl = $("gc-conversations"), msgsEl = $("gc-messages"), connEl = $("gc-conn");
  var rows = {};            // conversation id -> summary
  var current = null;       // {id, detail, tracker}
  var ws = null, wsDelay = 500, nextCursor = null;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), s = "";
    for (var i = 0; i < 16; i++) s += (b[i] + 256).toString(16).slice(1);
    return s;
  }

  function api(method, path, body) {
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = CSRF;
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(API + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error(data.error || ("HTTP " + r.status)); e.status = r.status; throw e; }
        return data;
      });
    });
  }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }

  function fmtTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  /* ---- conversation list ------------------------------------------------------------- */

  function contactName(c) { return (c.contact && (c.contact.name || c.contact.email)) || ("Visitor #" + c.id); }

  function renderList() {
    var items = Object.keys(rows).map(function (k) { return rows[k]; });
    var status = $("gc-status").value;
    items = items.filter(function (c) { return status === "all" || c.status === status; });
    items.sort(function (a, b) { return a.last_activity_at < b.last_activity_at ? 1 : -1; });
    listEl.textContent = "";
    items.forEach(function (c) {
      var li = el("li", "gc-row");
      var b = el("button", "gc-row-button");
      b.type = "button";
      b.dataset.id = c.id;
      if (current && current.id === c.id) b.setAttribute("aria-current", "true");
      b.appendChild(el("span", "gc-row-name", contactName(c)));
      b.appendChild(el("span", "gc-row-preview", c.last_message_preview || "New conversation"));
      var meta = el("span", "gc-row-meta", fmtTime(c.last_activity_at));
      if (c.managers && c.managers.length) meta.appendChild(el("span", "gc-row-managers", " · " + c.managers.length + " in chat"));
      b.appendChild(meta);
      b.addEventListener("click", function () { openConversation(c.id); });
      li.appendChild(b);
      listEl.appendChild(li);
    });
  }

  function loadList(append) {
    var status = $("gc-status").value;
    var q = "?status=" + encodeURIComponent(status) + (append && nextCursor ? "&cursor=" + encodeURIComponent(nextCursor) : "");
    return api("GET", "/conversations" + q).then(function (data) {
      if (!append) rows = {};
      data.conversations.forEach(function (c) { rows[c.id] = c; });
      nextCursor = data.next_cursor;
      $("gc-more").hidden = !nextCursor;
      renderList();
    });
  }

  /* ---- messages ---------------------------------------------------------------------- */

  function systemText(m) {
    var d = m.system_data || {};
    if (m.system_code === "joined") return d.name + " joined the chat";
    if (m.system_code === "left") return d.name + " left the chat";
    return m.body;
  }

  function renderMessage(m) {
    var li = el("li", "gc-msg gc-msg-" + m.kind);
    li.id = "gc-msg-" + m.id;
    li.dataset.id = m.id;
    if (m.kind === "system") {
      li.appendChild(el("p", "gc-system", systemText(m)));
      return li;
    }
    var who = m.kind === "customer" ? (m.author_name || "Customer") : (m.author_name || "Manager");
    var head = el("p", "gc-msg-head");
    head.appendChild(el("strong", "gc-author", who));
    if (m.kind === "note") head.appendChild(el("span", "gc-badge", "Internal note"));
    head.appendChild(el("time", "gc-time", fmtTime(m.created_at)));
    li.appendChild(head);
    if (m.quoted) {
      var q = el("blockquote", "gc-quote", (m.quoted.author_name || "") + ": " + (m.quoted.deleted ? "(deleted)" : m.quoted.body));
      li.appendChild(q);
    }
    if (m.deleted) li.appendChild(el("p", "gc-deleted", "Message deleted"));
    else li.appendChild(el("p", "gc-text", m.body));
    if (m.edited_at && !m.deleted) li.appendChild(el("span", "gc-edited", "edited"));
    if (m.pending) li.classList.add("gc-pending");
    return li;
  }

  function upsertMessage(m) {
    if (!current || m.conversation_id !== current.id) return;
    var existing = document.getElementById("gc-msg-" + m.id);
    if (!existing && m.client_id) existing = msgsEl.querySelector('[data-client-id="' + CSS.escape(m.client_id) + '"]');
    var node = renderMessage(m);
    if (existing) msgsEl.replaceChild(node, existing);
    else msgsEl.appendChild(node);
    node.scrollIntoView({ block: "end" });
  }

  /* ---- event sequence tracking (see realtime/session.py) ----------------------------- */

  function Tracker(floor) { this.floor = floor; this.seen = {}; this.timer = null; }
  Tracker.prototype.accept = function (seq) {
    if (seq <= this.floor || this.seen[seq]) return false;
    this.seen[seq] = true;
    while (this.seen[this.floor + 1]) { delete this.seen[this.floor + 1]; this.floor++; }
    return true;
  };
  Tracker.prototype.synced = function (upto) {
    if (upto > this.floor) this.floor = upto;
    for (var k in this.seen) if (+k <= this.floor) delete this.seen[k];
  };
  Tracker.prototype.hasGap = function () { return Object.keys(this.seen).length > 0; };

  function applyEvent(ev) {
    if (!current || ev.conversation_id !== current.id) return;
    if (!current.tracker.accept(ev.seq)) return;
    var d = ev.data || {};
    if (ev.event === "message.created" || ev.event === "message.updated") upsertMessage(d.message);
    else if (ev.event === "participants.changed") { current.detail.conversation.managers = d.managers; renderActions(); }
    else if (ev.event === "contact.updated") { current.detail.contact = Object.assign(current.detail.contact || {}, d.contact); renderPanel(); }
    else if (ev.event === "visitor.context") { current.detail.context = d.context; renderPanel(); }
    else if (ev.event === "conversation.status") current.detail.conversation.status = d.status;
    if (current.tracker.hasGap()) scheduleSync();
  }

  function scheduleSync() {
    if (!current || current.tracker.timer) return;
    current.tracker.timer = setTimeout(function () {
      if (current) { current.tracker.timer = null; sendSync(); }
    }, 300);
  }

  function sendSync() {
    if (current && ws && ws.readyState === 1)
      ws.send(JSON.stringify({ op: "sync", conversation_id: current.id, after: current.tracker.floor }));
  }

  /* ---- opening a conversation -------------------------------------------------------- */

  function openConversation(id) {
    if (current && ws && ws.readyState === 1) ws.send(JSON.stringify({ op: "unfollow", conversation_id: current.id }));
    return api("GET", "/conversations/" + id).then(function (data) {
      current = { id: id, detail: data, tracker: new Tracker(data.last_seq) };
      $("gc-chat-title").textContent = contactName(data.conversation);
      msgsEl.textContent = "";
      data.messages.forEach(function (m) { msgsEl.appendChild(renderMessage(m)); });
      if (msgsEl.lastChild) msgsEl.lastChild.scrollIntoView({ block: "end" });
      renderActions();
      renderPanel();
      renderList();
      sendSync();
    });
  }

  function joined() { return current && (current.detail.conversation.managers || []).indexOf(ME) >= 0; }

  function renderActions() {
    var actions = $("gc-chat-actions"), composer = $("gc-composer");
    actions.hidden = !current || !can("chats.reply");
    $("gc-join").hidden = joined();
    $("gc-leave").hidden = !joined();
    composer.hidden = !current || !joined() || !can("chats.reply");
  }

  function renderPanel() {
    var dl = $("gc-customer");
    dl.textContent = "";
    if (!current) return;
    var c = current.detail.contact, ctx = current.detail.context;
    if (!c) { dl.appendChild(el("dd", null, "You do not have access to customer details.")); return; }
    function row(label, value) { if (!value) return; dl.appendChild(el("dt", null, label)); dl.appendChild(el("dd", null, value)); }
    row("Name", c.name); row("Email", c.email); row("Phone", c.phone);
    row("Source", current.detail.conversation.source_name);
    if (ctx) {
      row("Current page", ctx.current_page);
      row("Location", [ctx.city, ctx.country].filter(Boolean).join(", "));
      row("Browser", ctx.browser); row("OS", ctx.os); row("Device", ctx.device);
      row("Language", ctx.language); row("IP", ctx.ip);
    }
  }

  $("gc-join").addEventListener("click", function () {
    api("POST", "/conversations/" + current.id + "/join").then(function (d) {
      current.detail.conversation.managers = d.managers; renderActions(); $("gc-body").focus();
    }).catch(showError);
  });
  $("gc-leave").addEventListener("click", function () {
    api("POST", "/conversations/" + current.id + "/leave").then(function (d) {
      current.detail.conversation.managers = d.managers; renderActions();
    }).catch(showError);
  });

  function showError(e) { $("gc-composer-error").textContent = e.message; }

  /* ---- composer ---------------------------------------------------------------------- */

  function send(body, clientId, attempt) {
    var convId = current.id;
    return api("POST", "/conversations/" + convId + "/messages", { body: body, client_id: clientId })
      .then(function (d) { $("gc-composer-error").textContent = ""; upsertMessage(d.message); })
      .catch(function (e) {
        // Network errors are retried with the same client id: the server creates one message.
        if (!e.status && attempt < 5) return new Promise(function (r) { setTimeout(r, 1000 * (attempt + 1)); })
          .then(function () { return send(body, clientId, attempt + 1); });
        showError(e);
        throw e;
      });
  }

  $("gc-composer").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("gc-body"), body = box.value.trim();
    if (!body || !current) return;
    var clientId = uuid();
    box.value = "";
    send(body, clientId, 0).catch(function () { if (!box.value) box.value = body; });
  });
  $("gc-body").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("gc-composer").requestSubmit();
    }
  });
  $("gc-status").addEventListener("change", function () { loadList(false); });
  $("gc-more").addEventListener("click", function () { loadList(true); });

  /* ---- WebSocket with reconnect and resync --------------------------------------------- */

  function applyRow(c) {
    // Rows from different requests (and server processes) can arrive out of order: the one
    // with the higher event sequence number is the newer one.
    var old = rows[c.id];
    if (old && old.last_seq > c.last_seq) return;
    rows[c.id] = c;
    if (current && current.id === c.id) { current.detail.conversation = c; renderActions(); }
    renderList();
  }

  function connect() {
    // url_for() renders a WebSocket rule as an absolute ws:// URL (Werkzeug); keep only its
    // path, so the scheme and host are the page's own (wss:// behind a TLS proxy).
    var path = root.dataset.ws.replace(/^[a-z]+:\/\/[^\/]+/i, "");
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    ws = new WebSocket(url);
    ws.onopen = function () {
      wsDelay = 500;
      connEl.textContent = "Live";
      root.dataset.live = "1";
      loadList(false);
      sendSync();
    };
    ws.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (m.type === "event") applyEvent(m);
      else if (m.type === "conversation") applyRow(m.conversation);
      else if (m.type === "synced" && current && m.conversation_id === current.id) { current.tracker.synced(m.upto); if (m.more) sendSync(); }
      else if (m.type === "resync") { loadList(false); sendSync(); }
    };
    ws.onclose = function () {
      root.dataset.live = "0";
      connEl.textContent = "Reconnecting…";
      var delay = wsDelay * (0.5 + Math.random());
      wsDelay = Math.min(wsDelay * 2, 15000);
      setTimeout(connect, delay);
    };
  }

  document.addEventListener("visibilitychange", function () { if (!document.hidden) sendSync(); });
  loadList(false).catch(function (e) { connEl.textContent = e.message; });
  connect();
})();
