/* gincore-chats console: notification controls. "Enable notifications" subscribes this browser
   to push (service worker at <prefix>/console/sw.js), and a switch turns the manager's unread-chat
   emails on or off. A click on a notification while the console is open dispatches the DOM event
   "gincore-chats:open-conversation" ({detail: {conversation_id}}); if no listener calls
   preventDefault(), the page loads <prefix>/console?c=<id>. Plain JS, textContent only. */
(function (d, w, nav) {
  "use strict";
  var t = w.gincoreTexts.t;
  var box = d.getElementById("gc-notify");
  if (!box) return;
  var API = box.getAttribute("data-api"), CSRF = box.getAttribute("data-csrf");
  var settings = null, pushOn = false;

  function api(method, path, body) {
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = CSRF;
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(API + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error(data.error || t("HTTP {status}", { status: r.status })); e.status = r.status; throw e; }
        return data;
      });
    });
  }
  function el(tag, attrs, text) {
    var n = d.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text) n.textContent = text;
    return n;
  }

  var pushButton = el("button", { type: "button", id: "gc-push-toggle", "class": "gc-button gc-secondary", "aria-pressed": "false", hidden: "" }, t("Enable notifications"));
  var emailLabel = el("label", { "class": "gc-check" });
  var emailBox = el("input", { type: "checkbox", id: "gc-email-toggle" });
  emailLabel.appendChild(emailBox);
  emailLabel.appendChild(d.createTextNode(" " + t("Email me about unread chats")));
  var statusEl = el("p", { id: "gc-notify-status", role: "status", "aria-live": "polite", style: "font-size:12px;margin:4px 0" });
  box.appendChild(pushButton);
  box.appendChild(emailLabel);
  box.appendChild(statusEl);
  function say(text) { statusEl.textContent = text || ""; }

  var supported = w.isSecureContext && "serviceWorker" in nav && "PushManager" in w && "Notification" in w;

  function keyBytes(b64) {
    var s = (b64 + "===".slice((b64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = w.atob(s), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function sameKey(sub, b64) {
    var have = sub.options && sub.options.applicationServerKey;
    if (!have) return true;  // older browsers do not tell; the server re-stores it anyway
    var a = new Uint8Array(have), b = keyBytes(b64);
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function registration() { return nav.serviceWorker.getRegistration(settings.push.scope); }
  function active(reg) {
    // pushManager.subscribe needs an active worker; a fresh registration is still installing.
    if (reg.active) return Promise.resolve(reg);
    return new Promise(function (resolve) {
      var worker = reg.installing || reg.waiting;
      worker.addEventListener("statechange", function () { if (worker.state === "activated") resolve(reg); });
    });
  }
  function showPush(on) {
    pushOn = on;
    pushButton.textContent = on ? t("Disable notifications") : t("Enable notifications");
    pushButton.setAttribute("aria-pressed", String(on));
  }

  function enable() {
    var key = settings.push.public_key;
    say(t("Asking the browser…"));
    return w.Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        throw new Error(permission === "denied" ? t("Notifications are blocked for this site in the browser's settings.") : t("Notifications were not allowed."));
      }
      return nav.serviceWorker.register(settings.push.service_worker, { scope: settings.push.scope });
    }).then(active).then(function (reg) {
      return reg.pushManager.getSubscription().then(function (old) {
        // A subscription made for replaced keys is useless: make a new one.
        if (old && !sameKey(old, key)) return old.unsubscribe().then(function () { return null; });
        return old;
      }).then(function (sub) {
        return sub || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
      });
    }).then(function (sub) {
      return api("POST", "/push-subscriptions", sub.toJSON());
    }).then(function () {
      showPush(true);
      say(t("Notifications are on in this browser."));
    });
  }

  function disable() {
    return registration().then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    }).then(function (sub) {
      if (!sub) return null;
      var endpoint = sub.endpoint;
      return sub.unsubscribe().then(function () { return api("DELETE", "/push-subscriptions", { endpoint: endpoint }); });
    }).then(function () {
      showPush(false);
      say(t("Notifications are off in this browser."));
    });
  }

  function restore() {
    // Re-send a live subscription on every visit: the server may have dropped it (the push
    // service reported it gone) and the browser may have renewed it.
    if (w.Notification.permission !== "granted") return Promise.resolve();
    return registration().then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    }).then(function (sub) {
      if (!sub || !sameKey(sub, settings.push.public_key)) return null;
      return api("POST", "/push-subscriptions", sub.toJSON()).then(function () { showPush(true); });
    });
  }

  pushButton.addEventListener("click", function () {
    pushButton.disabled = true;
    (pushOn ? disable() : enable()).catch(function (e) { say(e.message); }).then(function () { pushButton.disabled = false; });
  });
  emailBox.addEventListener("change", function () {
    var on = emailBox.checked;
    api("PATCH", "/notifications", { email_notifications: on }).then(function () {
      say(on ? t("Unread-chat emails are on.") : t("Unread-chat emails are off."));
    }).catch(function (e) { emailBox.checked = !on; say(e.message); });
  });

  if (supported) {
    nav.serviceWorker.addEventListener("message", function (event) {
      var m = event.data || {};
      if (m.type !== "gincore-chats:open-conversation") return;
      var open = new CustomEvent("gincore-chats:open-conversation", { cancelable: true, detail: { conversation_id: m.conversation_id } });
      if (d.dispatchEvent(open)) w.location.assign(m.url);
    });
    nav.serviceWorker.startMessages();
  }

  api("GET", "/notifications").then(function (data) {
    settings = data;
    emailBox.checked = !!data.email_notifications;
    if (!data.email) emailLabel.title = t("No email address is known for your account.");
    if (!supported) { say(t("This browser cannot show notifications here.")); return null; }
    if (!data.push.public_key) { pushButton.title = t("An admin has not set up browser notifications yet."); return null; }
    pushButton.hidden = false;
    return restore();
  }).catch(function (e) { say(e.message); });
})(document, window, navigator);
