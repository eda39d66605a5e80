/* gincore-chats widget panel, loaded by widget.js when the visitor opens the chat (or on a later
   page once they have). It renders inside the loader's shadow root; build.py minifies it.

   Every text comes from the server, in the language it chose for this visitor (catalog plus the
   admin's overrides); every visitor or manager string goes through textContent, never markup.
   Events carry a per-conversation sequence number: the widget keeps the highest contiguous one
   (floor) and the ones seen above it, asks for everything after the floor whenever it
   (re)connects or sees a gap, and drops duplicates, so each message shows exactly once. */
(function (d, w) {
  "use strict";
  // Only for a panel that has to say why the chat did not start (nothing came from the server).
  var T = { title: "Chat with us", close: "Close chat" };
  var CSS_VERSION = "dev";
  var cfg, root, wrap, panel, log, box, statusEl, typingEl, hintEl, teamEl, greetEl, extraEl, consentEl, consentBox, more;
  var data, token, ws, stopped, tracked, cssReady, starting, wantOpen, isOpen, lastUrl, askedEmail, teamRead = 0;
  var floor = 0, seen = {}, delay = 500, retryTimer, syncTimer, lastFrame = 0, beats = 0;
  var shown = {}, typers = {}, typing = 0, typingSentAt = 0, idleTimer, previewTimer, seenSent = 0, seenTimer, teamAt = 0;
  var thumbs = {}, drags = 0, kbEl, kbTimer, kbAsked = "", rateEl;

  function el(tag, cls, text) {
    var n = d.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }
  function attrs(n, a) { for (var k in a) n.setAttribute(k, a[k]); return n; }
  function fill(text, name) { return String(text || "").replace("{name}", name || ""); }
  function noop() {}
  function when(iso) {
    try { return new Date(iso).toLocaleString(data.language); } catch (e) { return new Date(iso).toLocaleString(); }
  }
  function clock(iso) {
    // The visitor's local time; messages of another day say the day too.
    var t = new Date(iso), o = { hour: "numeric", minute: "2-digit" };
    if (t.toDateString() !== new Date().toDateString()) { o.day = "numeric"; o.month = "short"; }
    try { return t.toLocaleString(data.language, o); } catch (e) { return t.toLocaleString(undefined, o); }
  }
  function storeKey() { return "gincore-chats:" + cfg.key; }
  function stored() { try { return w.localStorage.getItem(storeKey()); } catch (e) { return null; } }
  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), s = "";
    for (var i = 0; i < 16; i++) s += (b[i] + 256).toString(16).slice(1);
    return s;
  }
  function setStatus(text, ok) {
    if (!statusEl) return;
    statusEl.textContent = text || "";
    statusEl.className = ok ? "gc-status gc-ok" : "gc-status";
  }
  function clearStatus(text) { if (statusEl && statusEl.textContent === text) setStatus(""); }

  function call(method, path, body) {
    var h = { Accept: "application/json" };
    if (token) h.Authorization = "Bearer " + token;
    if (body) h["Content-Type"] = "application/json";
    return fetch(cfg.base + "/widget/api" + path, {
      method: method, headers: h, mode: "cors", credentials: "omit", body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (res) {
        if (!r.ok) {
          var e = new Error(res.error || "HTTP " + r.status);
          e.status = r.status;
          e.code = res.code;
          throw e;
        }
        return res;
      });
    });
  }
  function context() {
    return {
      url: location.href, title: d.title, referrer: d.referrer, language: navigator.language,
      languages: navigator.languages, tz_offset: -new Date().getTimezoneOffset(), time_zone: zone()
    };
  }
  function zone() {
    // The IANA name ("Europe/Berlin"): the server's zoneinfo follows its DST changes.
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || null; } catch (e) { return null; }
  }
  function identityNote(answer) {
    // An identity the server refused: the chat works anonymously; the host's developer sees why.
    if (answer && !answer.verified) console.warn("gincore-chats: identity not verified (" + answer.code + "): " + answer.error);
  }
  function claim(res) {
    // A restored chat and a signed identity: tell the server who this is. A chat of another
    // user of the site (a shared browser) is left for a new one.
    if (!cfg.identity) return res;
    return call("POST", "/identity", cfg.identity).then(function () { return res; }, function (e) {
      if (e.status === 409) return create();
      console.warn("gincore-chats: identity not verified: " + e.message);
      return res;
    });
  }

  // -- starting -------------------------------------------------------------------------------

  function begin(open) {
    // A click while starting (a restored chat still loading) opens the chat when it is ready.
    wantOpen = wantOpen || open;
    if (starting) return;
    starting = 1;
    token = stored();
    var ready = token
      ? call("GET", "/conversation").then(function (res) { lastUrl = null; report(); return claim(res); }, function (e) {
          // A token that no longer works (or a refusal): open a new conversation only when the
          // visitor asked for the chat on this page. Until that succeeds, the old token stays.
          if (e.status !== 403 && e.status !== 404 || !wantOpen) throw wantOpen ? e : null;
          return create();
        })
      : create();
    Promise.all([ready, cssReady]).then(function (r) { done(); show(r[0], open); }, function (e) {
      done();
      if (e) fail(e, open);
    });
    function done() {
      open = wantOpen;
      starting = wantOpen = 0;
    }
  }
  function create() {
    token = null;
    var body = { key: cfg.key, context: context() };
    if (cfg.identity) body.identity = cfg.identity;
    return call("POST", "/conversations", body).then(function (res) {
      token = res.token;
      identityNote(res.identity);
      lastUrl = location.href;
      // Written only now, after the visitor opened the chat (no storage before interaction).
      try { w.localStorage.setItem(storeKey(), token); } catch (e) { /* private mode: this page only */ }
      return res;
    });
  }
  function fail(e, open) {
    console.warn("gincore-chats: the chat could not start: " + e.message);
    if (!panel) build();
    setStatus(e.message);
    if (open) toggle(true);
  }
  function show(res, open) {
    data = res;
    T = res.texts;
    floor = 0;
    seen = {};
    teamRead = res.team_read_upto || 0;
    build();
    renderTeam();
    showRating(res.rating);
    res.messages.forEach(upsert);
    floor = res.last_seq;
    teamAt = Date.now();
    connect();
    track();
    cfg.launcher.setAttribute("aria-label", isOpen ? T.close : T.open);
    if (open) toggle(true);
  }

  // -- the panel ------------------------------------------------------------------------------

  function build() {
    var was = isOpen;
    if (wrap) wrap.remove();
    wrap = el("div", "gc-w");
    panel = attrs(el("section", "gc-panel"), { role: "dialog", "aria-label": T.title });
    if (data) panel.lang = data.language;
    panel.hidden = !was;
    var head = el("header", "gc-head");
    var x = attrs(el("button", "gc-x", "×"), { type: "button", "aria-label": T.close });
    x.onclick = function () { toggle(false); };
    head.appendChild(x);
    head.appendChild(el("h2", null, T.title));
    head.appendChild(hintEl = el("p", "gc-hint"));
    head.appendChild(teamEl = el("ul", "gc-team"));
    panel.appendChild(head);
    log = attrs(el("ol", "gc-log"), { "aria-label": T.title, "aria-live": "polite", "aria-relevant": "additions" });
    if (data) {
      // The team's first line, in the per-language words (messages are placed after id 0).
      greetEl = el("li", "gc-greet");
      greetEl.dataset.id = "0";
      log.appendChild(greetEl);
    }
    panel.appendChild(log);
    // The rating and transcript offer, once the team closed the chat.
    panel.appendChild(rateEl = attrs(el("section", "gc-rating"), { "aria-label": T.rate_prompt || "" }));
    rateEl.hidden = true;
    panel.appendChild(typingEl = el("p", "gc-typing"));
    panel.appendChild(statusEl = attrs(el("p", "gc-status"), { role: "status" }));
    panel.onkeydown = function (e) { if (e.key === "Escape") toggle(false); };
    if (data) {
      buildForms();
      panel.dataset.drop = T.drop_here;
      panel.ondragenter = panel.ondragover = function (e) {
        if (!hasFiles(e)) return;
        e.preventDefault();
        if (e.type === "dragenter") drags++;
        panel.classList.add("gc-drag");
      };
      panel.ondragleave = function () { if (--drags <= 0) dragEnd(); };
      panel.ondrop = function (e) {
        if (!hasFiles(e)) return;
        e.preventDefault();
        dragEnd();
        sendFiles(e.dataTransfer.files);
      };
    }
    wrap.appendChild(panel);
    root.appendChild(wrap);
  }

  function buildForms() {
    // Name and email (a reply can reach the visitor after they leave), and the consent.
    extraEl = el("div", "gc-extra");
    var contact = el("form", "gc-contact");
    more = el("details");
    more.appendChild(el("summary", null, T.name_label + " · " + T.email_label));
    var name = field(contact, "gc-name", T.name_label, { autocomplete: "name", maxlength: 200 });
    var email = field(contact, "gc-email", T.email_label, { type: "email", autocomplete: "email", maxlength: 320 });
    name.value = data.contact.name || "";
    email.value = data.contact.email || "";
    contact.appendChild(attrs(el("button", "gc-btn", T.save_contact), { type: "submit" }));
    contact.onsubmit = function (e) {
      e.preventDefault();
      if (!contact.reportValidity()) return;
      call("PATCH", "/contact", { name: name.value, email: email.value }).then(function (res) {
        data.contact = res.contact;
        more.open = false;
        setStatus(res.contact.email ? T.contact_saved : "", 1);
      }, function (e) { setStatus(e.message); });
    };
    more.appendChild(contact);
    // Closed until the visitor's first message; then it opens once if their email is unknown
    // (how a reply reaches them after they leave), whoever is online.
    extraEl.appendChild(more);

    // Consent: nothing, an informational notice, or a checkbox that gates the first message.
    var mode = data.consent.mode || (data.consent.required ? "required" : "off");
    consentEl = el("p", "gc-consent");
    consentBox = attrs(el("input"), { type: "checkbox", id: "gc-consent" });
    if (mode === "required") {
      consentEl.appendChild(consentBox);
      consentEl.appendChild(attrs(el("label", null, T.consent), { "for": "gc-consent" }));
    } else consentEl.appendChild(el("span", null, T.consent_notice));
    var url = data.consent.privacy_url;
    if (url && /^https?:\/\//i.test(url)) {
      consentEl.appendChild(attrs(el("a", null, T.privacy_policy), { href: url, target: "_blank", rel: "noopener noreferrer" }));
    }
    consentEl.dataset.mode = mode;
    consentBox.onchange = function () {
      if (!consentBox.checked) return;
      consentBox.disabled = true;
      call("PATCH", "/contact", { consent: true }).then(function (res) {
        data.contact = res.contact;
        clearStatus(T.consent_required);
        showConsent();
      }, function (e) {
        consentBox.checked = consentBox.disabled = false;
        setStatus(e.message);
      });
    };
    extraEl.appendChild(consentEl);
    showConsent();
    panel.appendChild(extraEl);

    // Answers from the knowledge base while the visitor types (when the admin switched it on).
    kbEl = attrs(el("section", "gc-kb"), { "aria-label": T.suggestions, "aria-live": "polite" });
    kbEl.hidden = true;
    panel.appendChild(kbEl);

    var form = el("form", "gc-form"), pick = attrs(el("input"), { type: "file", multiple: "" });
    var clip = attrs(el("button", "gc-clip"), { type: "button", "aria-label": T.attach, title: T.attach });
    clip.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z"/></svg>';
    clip.onclick = function () { pick.click(); };
    pick.hidden = true;
    pick.onchange = function () { sendFiles(pick.files); pick.value = ""; };
    form.appendChild(clip);
    form.appendChild(pick);
    box = field(form, "gc-input", T.message_label, { rows: 1, placeholder: T.placeholder }, "textarea");
    box.previousSibling.className = "gc-sr";
    box.onpaste = function (e) {
      // Pasted files (a screenshot, files copied in a file manager); text pastes as text.
      var c = e.clipboardData;
      if (c && c.files.length && !c.getData("text/plain")) { e.preventDefault(); sendFiles(c.files); }
    };
    var go = attrs(el("button", "gc-btn gc-send"), { type: "submit", "aria-label": T.send, title: T.send });
    go.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z"/></svg>';
    form.appendChild(go);
    form.onsubmit = function (e) { e.preventDefault(); submit(); };
    box.onkeydown = function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    };
    box.oninput = function () { grow(); typed(); suggest(); };
    box.onblur = stopTyping;
    panel.appendChild(form);
  }
  function suggest() {
    if (!data.kb_suggestions) return;
    clearTimeout(kbTimer);
    kbTimer = setTimeout(function () {
      var q = box.value.trim();
      if (q === kbAsked) return;
      kbAsked = q;
      if (q.length < 8) return showSuggestions([]);
      call("GET", "/kb/suggestions?q=" + encodeURIComponent(q.slice(0, 500))).then(function (res) {
        if (kbAsked === q) showSuggestions(res.matches || []);
      }, noop);
    }, 500);
  }
  function showSuggestions(matches) {
    kbEl.textContent = "";
    kbEl.hidden = !matches.length;
    if (!matches.length) return;
    kbEl.appendChild(el("h3", null, T.suggestions));
    matches.forEach(function (m) {
      var item = el("details"), answer = el("p");
      item.appendChild(el("summary", null, m.question));
      // Links in answers: http(s) only, as text nodes and <a> elements, never markup.
      String(m.answer).split(/(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)])/).forEach(function (part, i) {
        answer.appendChild(i % 2 ? attrs(el("a", null, part), { href: part, target: "_blank", rel: "noopener noreferrer" }) : d.createTextNode(part));
      });
      item.appendChild(answer);
      kbEl.appendChild(item);
    });
  }
  function field(form, id, text, a, tag) {
    form.appendChild(attrs(el("label", null, text), { "for": id }));
    var input = attrs(el(tag || "input"), a);
    input.id = id;
    form.appendChild(input);
    return input;
  }
  function showConsent() {
    // Once given, the consent is on record (with the text shown): the box is not asked again.
    var mode = consentEl.dataset.mode;
    consentEl.hidden = mode === "off" || mode === "required" && !!data.contact.consent;
  }
  function grow() {
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight + 2, 120) + "px";
  }

  // The chats server's and this page's own images only: no third-party request, ever.
  function safeImage(url) {
    if (!url) return null;
    try { var u = new URL(url, cfg.base + "/"); } catch (e) { return null; }
    var ok = /^https?:$/.test(u.protocol) && (u.origin === new URL(cfg.base).origin || u.origin === location.origin);
    return ok ? u.href : null;
  }
  function avatar(url, name) {
    var src = safeImage(url), n;
    function initial() {
      var s = attrs(el("span", "gc-av"), { "aria-hidden": "true" });
      s.dataset.i = (Array.from((name || "?").trim())[0] || "?").toUpperCase();
      return s;
    }
    if (!src) return initial();
    n = attrs(el("img", "gc-av"), { alt: "", src: src });
    n.onerror = function () { if (n.parentNode) n.parentNode.replaceChild(initial(), n); };
    return n;
  }

  function renderTeam() {
    var managers = data.managers || [];
    var hours = data.hours || {};
    hintEl.textContent = managers.length ? "" : T.offline;
    // Outside business hours: when the team is back, in the visitor's language and time.
    if (!managers.length && hours.back_text) hintEl.appendChild(el("span", "gc-back", hours.back_text));
    greetEl.textContent = "";
    greetEl.appendChild(el("div", "gc-m", managers.length ? T.greeting_online : T.business_hours));
    teamEl.textContent = "";
    managers.slice(0, 3).forEach(function (m) {
      var li = el("li");
      li.appendChild(avatar(m.avatar_url, m.name));
      li.appendChild(el("span", null, m.name));
      teamEl.appendChild(li);
    });
  }
  function refreshTeam() {
    // Presence is not pushed to visitors: look again when the panel opens (at most once a minute).
    if (!data || Date.now() - teamAt < 60000) return;
    teamAt = Date.now();
    call("GET", "/conversation").then(function (res) {
      data.managers = res.managers;
      data.hours = res.hours;
      renderTeam();
    }, noop);
  }

  // -- messages -------------------------------------------------------------------------------

  function render(m) {
    var li = el("li");
    li.dataset.id = m.id;
    if (m.client_id) li.dataset.cid = m.client_id;
    if (m.kind === "system") {
      li.className = "gc-sys";
      li.textContent = fill(T[m.system_code] || m.body, m.system_data && m.system_data.name);
      return li;
    }
    if (m.kind === "customer") li.className = "gc-mine";
    else {
      // Signed: the manager's avatar (or initial) and name; the AI assistant's also says it
      // is the assistant, so nobody mistakes it for a person.
      var sig = el("p", "gc-sig");
      sig.appendChild(avatar(m.author_avatar_url, m.author_name));
      sig.appendChild(el("span", null, m.author_name));
      if (m.kind === "assistant") {
        li.className = "gc-bot";
        sig.appendChild(el("span", "gc-ai", T.assistant));
      }
      li.appendChild(sig);
    }
    var bubble = attrs(el("div", "gc-m"), { dir: "auto" });
    var q = !m.deleted && m.quoted;
    if (q) bubble.appendChild(el("p", "gc-q", (q.kind === "customer" ? T.you : q.author_name || "") + ": " + (q.deleted ? T.deleted : q.body)));
    if (m.deleted) bubble.appendChild(el("span", "gc-del", T.deleted));
    else {
      bubble.appendChild(d.createTextNode(m.body || ""));
      (m.attachments || []).forEach(function (f) { bubble.appendChild(attachment(f)); });
    }
    if (m.edited_at && !m.deleted) bubble.appendChild(el("span", "gc-ed", " · " + T.edited));
    li.appendChild(bubble);
    li.appendChild(meta(m));
    return li;
  }
  function meta(m) {
    // The local time, and for the visitor's own messages: sending, sent, or seen by the team.
    var p = el("p", "gc-meta");
    if (m.created_at) p.appendChild(attrs(el("time", null, clock(m.created_at)), { datetime: m.created_at, title: when(m.created_at) }));
    if (m.kind === "customer") p.appendChild(tick(m));
    return p;
  }
  function tick(m) {
    var k = !m.created_at ? "sending" : m.id <= teamRead ? "seen" : "sent";
    var n = attrs(el("span", "gc-tick gc-" + k), { title: T[k] });
    n.appendChild(el("span", k === "sending" ? null : "gc-sr", T[k]));
    return n;
  }
  function readUpto(upto) {
    // The team read further: the visitor's messages up to there are seen.
    if (!(upto > teamRead)) return;
    teamRead = upto;
    log.querySelectorAll(".gc-mine .gc-sent").forEach(function (n) {
      var li = n.closest("li"), m = shown[li.dataset.id];
      if (m && m.id <= upto) n.parentNode.replaceChild(tick(m), n);
    });
  }
  function attachment(f) {
    // Files need the visitor's token: fetched with it and shown or saved from blob: URLs.
    var n, img;
    if (f.image) {
      n = attrs(el("button", "gc-thumb"), { type: "button" });
      // Sized from the image before it arrives, so the log does not jump when it does.
      var k = Math.min(1, 200 / f.width, 200 / f.height) || 1;
      n.appendChild(img = attrs(el("img"), { alt: f.name, width: Math.round(f.width * k) || 160, height: Math.round(f.height * k) || 120 }));
      thumb(f).then(function (url) { img.src = url; }, noop);
      n.onclick = function () { view(f, n); };
      return n;
    }
    n = attrs(el("a", "gc-file"), { href: fileUrl(f, 0), download: f.name });
    n.appendChild(el("span", null, f.name));
    n.appendChild(d.createTextNode(" "));
    n.appendChild(el("span", "gc-size", size(f.size)));
    n.onclick = function (e) {
      e.preventDefault();
      file(f, 0).then(function (url) {
        attrs(el("a"), { href: url, download: f.name }).click();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      }, function () { setStatus(T.load_failed); });
    };
    return n;
  }
  function view(f, opener) {
    // The full image in a modal dialog (outside the panel: Escape closes the image, not the chat).
    file(f, 0).then(function (url) {
      var dlg = attrs(el("dialog", "gc-view"), { "aria-label": f.name }), bar = el("p");
      var x = attrs(el("button", "gc-btn", T.close_image), { type: "button" });
      dlg.appendChild(attrs(el("img"), { src: url, alt: f.name }));
      bar.appendChild(attrs(el("a", "gc-btn", T.download), { href: url, download: f.name }));
      bar.appendChild(x);
      dlg.appendChild(bar);
      x.onclick = function () { dlg.close(); };
      dlg.onclose = function () { dlg.remove(); URL.revokeObjectURL(url); opener.focus(); };
      wrap.appendChild(dlg);
      dlg.showModal();
      x.focus();
    }, function () { setStatus(T.load_failed); });
  }
  function fileUrl(f, small) {
    return cfg.base + "/widget/api/files/" + encodeURIComponent(f.id) + (small ? "?thumb=1" : "");
  }
  function file(f, small) {
    return fetch(fileUrl(f, small), {
      headers: { Authorization: "Bearer " + token }, mode: "cors", credentials: "omit"
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.blob();
    }).then(function (blob) { return URL.createObjectURL(blob); });
  }
  function thumb(f) {
    // One blob: URL per image while its message is shown; revoked when the message goes.
    return thumbs[f.id] || (thumbs[f.id] = file(f, f.thumbnail).catch(function (e) { delete thumbs[f.id]; throw e; }));
  }
  function forget(m) {
    (m && m.attachments || []).forEach(function (f) {
      var p = thumbs[f.id];
      delete thumbs[f.id];
      if (p) p.then(function (url) { URL.revokeObjectURL(url); }, noop);
    });
  }
  function size(n) {
    // In the visitor's language and number format ("1.5 MB", "1,5 MB", "12 kB").
    for (var i = 0; n >= 1024 && i < 3; i++) n /= 1024;
    var unit = ["byte", "kilobyte", "megabyte", "gigabyte"][i];
    try {
      return new Intl.NumberFormat(data.language, { style: "unit", unit: unit, unitDisplay: "short", maximumFractionDigits: i && n < 10 ? 1 : 0 }).format(n);
    } catch (e) { return Math.round(n) + " " + ["B", "KB", "MB", "GB"][i]; }
  }
  function upsert(m) {
    if (!m || m.kind === "note") return;
    if (m.deleted) forget(shown[m.id]);
    shown[m.id] = m;
    // Messages quoting this one show its new wording (or that it was deleted) too.
    for (var id in shown) {
      var q = shown[id].quoted;
      if (q && q.id === m.id && (q.body !== m.body || q.deleted !== m.deleted)) {
        q.body = m.body.slice(0, 200);
        q.deleted = m.deleted;
        upsert(shown[id]);
      }
    }
    var old = log.querySelector('[data-id="' + m.id + '"]') || (m.client_id && log.querySelector('[data-cid="' + m.client_id + '"]'));
    var n = render(m), bottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    if (old) log.replaceChild(n, old);
    else place(n, m.id);
    if (m.kind === "manager" && typers[m.author_id]) stopTyper(m.author_id);
    if (m.kind === "assistant" && typers.assistant) stopTyper("assistant");
    if (bottom || m.kind === "customer") log.scrollTop = log.scrollHeight;
    markSeen();
  }
  function place(n, id) {
    // In id order; unconfirmed messages of the visitor stay at the end.
    for (var k = log.lastElementChild; k; k = k.previousElementSibling) {
      if (+k.dataset.id < id) return log.insertBefore(n, k.nextSibling);
    }
    log.insertBefore(n, log.firstChild);
  }
  function lastConfirmed() {
    for (var k = log.lastElementChild; k && isNaN(+k.dataset.id); k = k.previousElementSibling) { /* pending */ }
    return k;
  }

  function submit() {
    var body = box.value.trim();
    if (!body) return;
    if (data.consent.required && !data.contact.consent) {
      setStatus(T.consent_required);
      return consentBox.focus();
    }
    box.value = "";
    grow();
    stopTyping();
    var cid = uuid(), n = render({ id: "p-" + cid, client_id: cid, kind: "customer", body: body });
    n.classList.add("gc-pending");
    log.appendChild(n);
    log.scrollTop = log.scrollHeight;
    send(body, cid, 0);
  }
  function send(body, cid, attempt) {
    call("POST", "/messages", { body: body, client_id: cid }).then(function (res) {
      clearStatus(T.retrying);
      upsert(res.message);
      askEmail(res.message);
    }, function (e) {
      if (!e.status || e.status >= 500 && attempt < 5) {
        // The network, or the server for a moment: the same client id makes a retry safe.
        setStatus(T.retrying);
        var timer, again = function () {
          clearTimeout(timer);
          w.removeEventListener("online", again);
          send(body, cid, attempt + 1);
        };
        timer = setTimeout(again, Math.min(1000 * Math.pow(2, attempt), 15000));
        w.addEventListener("online", again);
        return;
      }
      // Refused (too fast, consent, too long): take the bubble back, keep the text, say why.
      var p = log.querySelector('[data-cid="' + cid + '"]');
      if (p && p.classList.contains("gc-pending")) p.remove();
      if (!box.value) { box.value = body; grow(); }
      setStatus(e.message);
      if (e.code === "consent_required") {
        data.contact.consent = false;
        showConsent();
        consentBox.focus();
      }
    });
  }

  // -- files ----------------------------------------------------------------------------------

  function hasFiles(e) { return [].indexOf.call(e.dataTransfer.types, "Files") >= 0; }
  function dragEnd() {
    drags = 0;
    panel.classList.remove("gc-drag");
  }
  function sendFiles(list) {
    if (!list || !list.length) return;
    if (data.consent.required && !data.contact.consent) {
      setStatus(T.consent_required);
      return consentBox.focus();
    }
    for (var i = 0; i < list.length; i++) upload(list[i], uuid());
  }
  function upload(f, cid) {
    // One file, one message. A retry sends the same client id: the server answers with the
    // message a lost answer had already created, so nothing is ever stored twice.
    var li = log.querySelector('[data-cid="' + cid + '"]'), m = attrs(el("div", "gc-m"), { dir: "auto" });
    var bar = attrs(el("progress"), { max: 100, value: 0, "aria-label": fill(T.uploading, f.name) });
    var x = new XMLHttpRequest(), form = new FormData();
    var cancel = action(T.cancel, function () { x.abort(); li.remove(); box.focus(); });
    if (!li) {
      li = el("li", "gc-mine gc-up");
      li.dataset.cid = cid;
      log.appendChild(li);
    }
    var focused = li.contains(root.activeElement);
    li.textContent = "";
    m.appendChild(el("span", "gc-fn", f.name + " · " + size(f.size)));
    m.appendChild(bar);
    m.appendChild(cancel);
    li.appendChild(m);
    if (focused) cancel.focus(); // a Retry pressed with the keyboard: focus stays in the item
    log.scrollTop = log.scrollHeight;
    form.append("client_id", cid);
    form.append("file", f, f.name);
    x.open("POST", cfg.base + "/widget/api/attachments");
    x.setRequestHeader("Authorization", "Bearer " + token);
    x.setRequestHeader("Accept", "application/json");
    x.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = 100 * e.loaded / e.total; };
    x.onload = function () {
      var res = {};
      try { res = JSON.parse(x.responseText); } catch (e) { /* not JSON: a proxy's error page */ }
      if (x.status < 300 && res.message) return upsert(res.message), askEmail(res.message);
      failed(x.status, res);
    };
    x.onerror = function () { failed(0, {}); };
    x.send(form);

    function failed(status, res) {
      // Gone already: cancelled, or the message came over the socket before the answer.
      if (!li.parentNode) return;
      var text = fill({ 413: T.file_too_large, 415: T.file_type_refused, 507: T.quota_full }[status] || T.upload_failed, f.name);
      if (status === 429 || res.code === "consent_required") text = res.error; // already in the visitor's language
      if (!status || status >= 500 && status !== 507 || status === 429) {
        // The network or the server, for now: say so, and let the visitor try again.
        bar.remove();
        m.insertBefore(el("p", "gc-err", text), m.lastChild);
        m.insertBefore(action(T.retry, function () { upload(f, cid); }), m.lastChild);
        return;
      }
      // Refused (too large, type, quota): trying again would be refused too.
      if (li.contains(root.activeElement)) box.focus();
      li.remove();
      setStatus(text);
      if (res.code === "consent_required") {
        data.contact.consent = false;
        showConsent();
        consentBox.focus();
      }
    }
  }
  // -- rating and transcript ------------------------------------------------------------------

  function showRating(r) {
    if (!rateEl || !T.rate_prompt) return;
    rateEl.textContent = "";
    rateEl.hidden = !r;
    if (!r) return;
    if (r.pending) {
      var f = el("form", "gc-rate"), fs = el("fieldset"), chosen = 0, stars = [];
      fs.appendChild(el("legend", null, T.rate_prompt));
      [1, 2, 3, 4, 5].forEach(function (n) {
        var b = attrs(el("button", "gc-star", "★"), { type: "button", "aria-label": fill(T.rate_score, n), "aria-pressed": "false" });
        b.dataset.score = n;
        b.onclick = function () {
          chosen = n;
          stars.forEach(function (x, i) { x.setAttribute("aria-pressed", String(i + 1 === n)); x.classList.toggle("gc-on", i < n); });
        };
        stars.push(b);
        fs.appendChild(b);
      });
      f.appendChild(fs);
      var c = field(f, "gc-rate-comment", T.rate_comment, { rows: 2, maxlength: 2000 }, "textarea");
      f.appendChild(attrs(el("button", "gc-btn", T.rate_send), { type: "submit" }));
      f.onsubmit = function (e) {
        e.preventDefault();
        if (!chosen) return stars[0].focus();
        call("POST", "/rating", { score: chosen, comment: c.value }).then(function (res) {
          showRating(res.rating);
          setStatus(T.rate_thanks, 1);
        }, function (e) { setStatus(e.message); });
      };
      rateEl.appendChild(f);
    } else rateEl.appendChild(el("p", "gc-thanks", T.rate_thanks));
    // The transcript goes to the visitor's saved email (entered here if none is known yet).
    var t = el("form", "gc-transcript");
    var mail = field(t, "gc-transcript-email", T.transcript_offer, { type: "email", autocomplete: "email", required: "", maxlength: 320 });
    mail.value = data.contact.email || "";
    t.appendChild(attrs(el("button", "gc-btn", T.transcript_send), { type: "submit" }));
    t.onsubmit = function (e) {
      e.preventDefault();
      if (!t.reportValidity()) return;
      var saved = mail.value === data.contact.email ? Promise.resolve() : call("PATCH", "/contact", { email: mail.value }).then(function (res) { data.contact = res.contact; });
      saved.then(function () { return call("POST", "/transcript", {}); }).then(function () {
        setStatus(T.transcript_sent, 1);
      }, function (e) { setStatus(e.message); });
    };
    rateEl.appendChild(t);
  }
  function askEmail(m) {
    // After the visitor's first message, once: the contact form opens if no email is known.
    if (askedEmail || data.contact.email) return;
    for (var id in shown) if (shown[id].kind === "customer" && +id !== m.id) return;
    askedEmail = more.open = true;
  }
  function action(text, then) {
    var b = attrs(el("button", "gc-act", text), { type: "button" });
    b.onclick = then;
    return b;
  }

  function markSeen() {
    // Tell the server what the visitor has seen (the unread-reply email waits for the rest).
    if (!isOpen || d.hidden || !token) return;
    clearTimeout(seenTimer);
    seenTimer = setTimeout(function () {
      var last = lastConfirmed(), id = last ? +last.dataset.id : 0;
      if (id > seenSent) {
        seenSent = id;
        call("POST", "/seen", { message_id: id }).catch(function () { seenSent = 0; });
      }
    }, 300);
  }

  // -- typing ---------------------------------------------------------------------------------

  function typed() {
    if (!box.value.trim()) return stopTyping();
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stopTyping, 5000);
    if (data.typing_preview) {
      // The live preview (plan "pro" only): the unsent text, at most every 400 ms.
      typing = 1;
      if (!previewTimer) {
        previewTimer = setTimeout(function () {
          previewTimer = null;
          if (typing) wsSend({ op: "typing", active: true, text: box.value.slice(0, 1000) });
        }, 400);
      }
    } else if (!typing || Date.now() - typingSentAt > 3000) {
      // Otherwise the text never leaves the browser: only "typing", repeated every 3 s.
      typing = 1;
      typingSentAt = Date.now();
      wsSend({ op: "typing", active: true });
    }
  }
  function stopTyping() {
    clearTimeout(idleTimer);
    clearTimeout(previewTimer);
    previewTimer = null;
    if (typing) {
      typing = 0;
      wsSend({ op: "typing", active: false });
    }
  }
  function onTyping(f) {
    if (f.who !== "manager" && f.who !== "assistant") return;
    // The assistant has one entry (it sends no manager id); its name is the one set for it.
    var key = f.who === "assistant" ? "assistant" : f.manager_id;
    clearTimeout(typers[key] && typers[key].timer);
    if (!f.active) return stopTyper(key);
    // Shown until "stopped", the author's message, or 10 s without a repeat (an answer that
    // takes longer still arrives; the indicator only stops claiming it is being written).
    typers[key] = { name: f.name, timer: setTimeout(function () { stopTyper(key); }, 10000) };
    showTypers();
  }
  function stopTyper(id) {
    if (typers[id]) clearTimeout(typers[id].timer);
    delete typers[id];
    showTypers();
  }
  function showTypers() {
    var names = [];
    for (var k in typers) names.push(typers[k].name);
    typingEl.textContent = names.length ? fill(T.typing, names.join(", ")) : "";
  }

  // -- live connection ------------------------------------------------------------------------

  function wsSend(msg) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg)); }
  function sync() { wsSend({ op: "sync", after: floor }); }
  function accept(seq) {
    if (seq <= floor || seen[seq]) return false;
    seen[seq] = 1;
    advance();
    return true;
  }
  function advance() {
    for (var k in seen) if (+k <= floor) delete seen[k];
    while (seen[floor + 1]) delete seen[++floor];
  }
  function onEvent(ev) {
    if (!accept(ev.seq)) return;
    var m = ev.data && ev.data.message;
    if (ev.event === "message.created" || ev.event === "message.updated") upsert(m);
    else if (ev.event === "conversation.read") readUpto(ev.data.upto);
    else if (ev.event === "conversation.rating_requested" || ev.event === "conversation.rated") showRating(ev.data.rating);
    else if (ev.event === "conversation.status" && ev.data.status === "open") showRating(null);
    // A gap: an event still in transit, or one this visitor may not see. Ask from the floor.
    for (var k in seen) {
      if (!syncTimer) syncTimer = setTimeout(function () { syncTimer = null; sync(); }, 300);
      break;
    }
  }
  function frame(m) {
    lastFrame = Date.now();
    if (m.type === "hello") {
      delay = 500;
      clearStatus(T.reconnecting);
      sync();
    } else if (m.type === "event") onEvent(m);
    else if (m.type === "synced") {
      if (m.upto > floor) floor = m.upto;
      advance();
      if (m.more) sync();
    } else if (m.type === "resync") sync();
    else if (m.type === "typing") onTyping(m);
    else if (m.type === "error") {
      console.warn("gincore-chats: " + m.message);
      if (!m.op) setStatus(m.message);
    }
  }
  function connect() {
    drop();
    clearTimeout(retryTimer);
    if (stopped) return;
    var s = ws = new WebSocket(cfg.base.replace(/^http/, "ws") + "/widget/ws");
    // The token goes in the first frame, never in the URL (URLs end up in logs).
    s.onopen = function () { s.send(JSON.stringify({ op: "auth", token: token })); };
    s.onmessage = function (e) { frame(JSON.parse(e.data)); };
    s.onclose = function (e) { if (ws === s) { ws = null; lost(e.code); } };
  }
  function drop() {
    // Forget a socket without waiting for its close handshake (which a dead network never ends).
    var s = ws;
    ws = null;
    if (s) {
      s.onclose = s.onmessage = null;
      try { s.close(); } catch (e) { /* already closed */ }
    }
    typing = 0;
  }
  function lost(code) {
    typers = {};
    showTypers();
    if (code === 1008) return void (stopped = 1); // refused: another try would be refused too
    setStatus(T.reconnecting);
    if (navigator.onLine === false) return; // the "online" event reconnects
    retryTimer = setTimeout(connect, delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 15000);
  }
  function beat() {
    if (!ws || ws.readyState !== 1) return;
    // A connection that stopped answering (one-way loss) is dropped and made again.
    if (Date.now() - lastFrame > 60000) return drop(), lost();
    // A ping, and every fourth time a sync: a safety net if an event was ever missed.
    if (++beats % 4) wsSend({ op: "ping" });
    else sync();
  }
  function reconnectNow() {
    if (!data || stopped) return;
    delay = 500;
    connect();
  }

  // -- navigation and visibility --------------------------------------------------------------

  function report() {
    // The page the visitor is on: a full page load (a restored chat) or a single-page-app step.
    if (!token || location.href === lastUrl) return;
    lastUrl = location.href;
    call("POST", "/context", context()).catch(function () { lastUrl = null; });
  }
  function track() {
    if (tracked) return;
    tracked = 1;
    ["pushState", "replaceState"].forEach(function (name) {
      var orig = history[name];
      history[name] = function () {
        var r = orig.apply(this, arguments);
        setTimeout(report, 0);
        return r;
      };
    });
    w.addEventListener("popstate", report);
    w.addEventListener("hashchange", report);
    w.addEventListener("offline", function () { if (ws) { drop(); lost(); } });
    w.addEventListener("online", reconnectNow);
    d.addEventListener("visibilitychange", function () {
      if (d.hidden) return;
      if (ws) sync(); else reconnectNow();
      markSeen();
    });
    setInterval(beat, 25000);
  }

  function toggle(open) {
    isOpen = open == null ? !isOpen : open;
    panel.hidden = !isOpen;
    cfg.launcher.setAttribute("aria-expanded", String(isOpen));
    cfg.launcher.setAttribute("aria-label", isOpen ? T.close : T.open || cfg.label);
    if (isOpen) {
      if (box) grow(); // measured only once the panel is laid out
      (box || panel.querySelector("button")).focus();
      log.scrollTop = log.scrollHeight;
      markSeen();
      refreshTeam();
    } else cfg.launcher.focus();
  }

  w.GincoreChats = {
    start: function (c) {
      cfg = c;
      root = c.root;
      cfg.label = c.launcher.getAttribute("aria-label");
      var css = attrs(el("link"), { rel: "stylesheet", href: c.base + "/widget/app.css?v=" + CSS_VERSION });
      cssReady = new Promise(function (ok) { css.onload = css.onerror = ok; });
      root.appendChild(css);
      begin(c.open);
    },
    toggle: function (open) {
      // Before the chat started (or after it failed to), opening it starts it.
      if (!data && !isOpen) return begin(true);
      if (panel) toggle(open);
    }
  };
})(document, window);
