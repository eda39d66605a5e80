/* gincore-chats widget, loaded by widget.js when the visitor opens the chat. Renders inside
   the loader's shadow root; every visitor or manager string goes through textContent. */
(function (d, w) {
  "use strict";
  var T = {
    title: "Chat with us", online: "We are online. Ask us anything!",
    offline: "We're away right now. Leave a message and we'll reply during business hours.",
    placeholder: "Write a message…", send: "Send", close: "Close chat", message: "Message",
    joined: "{name} joined the chat", left: "{name} left the chat", deleted: "Message deleted",
    edited: "edited", reconnecting: "Connection lost. Reconnecting…", you: "You", error: "Could not send. Retrying…"
  };
  var cfg, root, panel, log, box, statusEl, token, floor = 0, seen = {}, ws, delay = 500, syncTimer, isOpen;
  var STORE = function () { return "gincore-chats:" + cfg.key; };

  function el(tag, cls, text) {
    var n = d.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }
  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), s = "";
    for (var i = 0; i < 16; i++) s += (b[i] + 256).toString(16).slice(1);
    return s;
  }
  function call(method, path, body) {
    var h = { "Accept": "application/json" };
    if (token) h.Authorization = "Bearer " + token;
    if (body) h["Content-Type"] = "application/json";
    return fetch(cfg.base + "/widget/api" + path, { method: method, headers: h, mode: "cors", credentials: "omit", body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) { var e = new Error(data.error || ("HTTP " + r.status)); e.status = r.status; throw e; }
          return data;
        });
      });
  }
  function context() {
    var off = -new Date().getTimezoneOffset();
    return { url: location.href, title: d.title, referrer: d.referrer, language: navigator.language, languages: navigator.languages, tz_offset: off };
  }

  function build() {
    var css = el("link");
    css.rel = "stylesheet";
    css.href = cfg.base + "/widget/app.css";
    root.appendChild(css);
    var wrap = el("div", "gc-w");
    panel = el("section", "gc-panel");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", T.title);
    panel.hidden = true;
    var head = el("header", "gc-head");
    var x = el("button", "gc-x", "×");
    x.type = "button";
    x.setAttribute("aria-label", T.close);
    x.addEventListener("click", function () { toggle(false); });
    head.appendChild(x);
    head.appendChild(el("h2", null, T.title));
    head.appendChild(el("p", "gc-hint", ""));
    head.appendChild(el("ul", "gc-team"));
    panel.appendChild(head);
    log = el("ol", "gc-log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", T.title);
    panel.appendChild(log);
    statusEl = el("p", "gc-status");
    statusEl.setAttribute("role", "status");
    panel.appendChild(statusEl);
    var form = el("form", "gc-form");
    var label = el("label", "gc-sr", T.message);
    label.htmlFor = "gc-input";
    box = el("textarea");
    box.id = "gc-input";
    box.rows = 1;
    box.placeholder = T.placeholder;
    var btn = el("button", "gc-btn", T.send);
    btn.type = "submit";
    form.appendChild(label);
    form.appendChild(box);
    form.appendChild(btn);
    form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
    panel.appendChild(form);
    wrap.appendChild(panel);
    root.appendChild(wrap);
  }

  function renderTeam(managers) {
    var hint = panel.querySelector(".gc-hint"), team = panel.querySelector(".gc-team");
    team.textContent = "";
    hint.textContent = managers && managers.length ? T.online : T.offline;
    (managers || []).slice(0, 3).forEach(function (m) {
      var li = el("li");
      var av = el("span", "gc-av", (m.name || "?").charAt(0).toUpperCase());
      av.setAttribute("aria-hidden", "true");
      li.appendChild(av);
      li.appendChild(el("span", null, m.name));
      team.appendChild(li);
    });
  }

  function render(m) {
    var li = el("li");
    li.dataset.id = m.id;
    if (m.client_id) li.dataset.cid = m.client_id;
    if (m.kind === "system") {
      li.className = "gc-sys";
      var t = T[m.system_code] || m.body;
      li.textContent = t.replace("{name}", (m.system_data && m.system_data.name) || "");
      return li;
    }
    if (m.kind === "customer") li.className = "gc-mine";
    else li.appendChild(el("p", "gc-sig", m.author_name));
    var bubble = el("div", "gc-m");
    if (m.quoted) bubble.appendChild(el("p", "gc-q", (m.quoted.author_name || "") + ": " + (m.quoted.deleted ? T.deleted : m.quoted.body)));
    if (m.deleted) bubble.appendChild(el("span", "gc-del", T.deleted));
    else bubble.appendChild(d.createTextNode(m.body));
    if (m.edited_at && !m.deleted) bubble.appendChild(el("span", "gc-ed", " · " + T.edited));
    li.appendChild(bubble);
    return li;
  }
  function upsert(m) {
    if (m.kind === "note") return;
    var old = log.querySelector('[data-id="' + m.id + '"]') || (m.client_id && log.querySelector('[data-cid="' + m.client_id + '"]'));
    var n = render(m);
    if (old) log.replaceChild(n, old); else log.appendChild(n);
    log.scrollTop = log.scrollHeight;
  }

  function accept(seq) {
    if (seq <= floor || seen[seq]) return false;
    seen[seq] = 1;
    while (seen[floor + 1]) { delete seen[floor + 1]; floor++; }
    return true;
  }
  function onEvent(ev) {
    if (!accept(ev.seq)) return;
    var data = ev.data || {};
    if (ev.event === "message.created" || ev.event === "message.updated") upsert(data.message);
    if (Object.keys(seen).length && !syncTimer) syncTimer = setTimeout(function () { syncTimer = null; sync(); }, 300);
  }
  function sync() { if (ws && ws.readyState === 1) ws.send(JSON.stringify({ op: "sync", after: floor })); }

  function connect() {
    ws = new WebSocket(cfg.base.replace(/^http/, "ws") + "/widget/ws");
    ws.onopen = function () { ws.send(JSON.stringify({ op: "auth", token: token })); };
    ws.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (m.type === "hello") { delay = 500; statusEl.textContent = ""; sync(); }
      else if (m.type === "event") onEvent(m);
      else if (m.type === "synced") {
        if (m.upto > floor) floor = m.upto;
        for (var k in seen) if (+k <= floor) delete seen[k];
        if (m.more) sync();
      } else if (m.type === "resync") sync();
      else if (m.type === "error") console.warn("gincore-chats:", m.message);
    };
    ws.onclose = function (e) {
      if (e.code === 1008) return;
      statusEl.textContent = T.reconnecting;
      var wait = delay * (0.5 + Math.random());
      delay = Math.min(delay * 2, 15000);
      setTimeout(connect, wait);
    };
  }

  function show(data) {
    floor = 0; seen = {};
    log.textContent = "";
    renderTeam(data.managers);
    data.messages.forEach(upsert);
    floor = data.last_seq;
    connect();
  }

  function begin() {
    var stored;
    try { stored = w.localStorage.getItem(STORE()); } catch (e) { stored = null; }
    if (stored) {
      token = stored;
      return call("GET", "/conversation").then(show).catch(function (e) {
        if (e.status === 403) { token = null; try { w.localStorage.removeItem(STORE()); } catch (x) { /* private mode */ } return begin(); }
        throw e;
      });
    }
    return call("POST", "/conversations", { key: cfg.key, context: context() }).then(function (data) {
      token = data.token;
      // Written only now, after the visitor opened the chat (no storage before interaction).
      try { w.localStorage.setItem(STORE(), token); } catch (e) { /* private mode: this tab only */ }
      show(data);
    });
  }

  function send(body, cid, attempt) {
    return call("POST", "/messages", { body: body, client_id: cid }).then(function (r) {
      statusEl.textContent = "";
      upsert(r.message);
    }).catch(function (e) {
      if (!e.status && attempt < 6) {
        statusEl.textContent = T.error;
        return new Promise(function (r) { setTimeout(r, 1000 * (attempt + 1)); }).then(function () { return send(body, cid, attempt + 1); });
      }
      statusEl.textContent = e.message;
    });
  }
  function submit() {
    var body = box.value.trim();
    if (!body || !token) return;
    box.value = "";
    var cid = uuid();
    var pending = render({ id: "p-" + cid, client_id: cid, kind: "customer", body: body });
    pending.style.opacity = ".6";
    log.appendChild(pending);
    log.scrollTop = log.scrollHeight;
    send(body, cid, 0);
  }

  function trackNavigation() {
    // Single-page apps change the URL without a reload: report each change.
    var report = function () { if (token) call("POST", "/context", context()).catch(function () {}); };
    ["pushState", "replaceState"].forEach(function (name) {
      var orig = history[name];
      history[name] = function () { var r = orig.apply(this, arguments); setTimeout(report, 0); return r; };
    });
    w.addEventListener("popstate", report);
  }

  function toggle(open) {
    isOpen = open === undefined ? !isOpen : open;
    panel.hidden = !isOpen;
    cfg.launcher.setAttribute("aria-expanded", String(isOpen));
    cfg.launcher.setAttribute("aria-label", isOpen ? T.close : "Open chat");
    if (isOpen) box.focus(); else cfg.launcher.focus();
  }

  w.addEventListener("online", function () { if (ws && ws.readyState > 1) { delay = 500; connect(); } });

  w.GincoreChats = {
    start: function (c) {
      cfg = c; root = c.root;
      build();
      begin().then(function () { trackNavigation(); if (c.open) toggle(true); }).catch(function (e) {
        console.warn("gincore-chats: the chat could not start: " + e.message);
        statusEl.textContent = e.message;
        if (c.open) toggle(true);
      });
    },
    toggle: function (open) { if (panel) toggle(open); }
  };
})(document, window);
