/* gincore-chats console: shared helpers (no build step; ES modules).

   Safety rule for every console module: user strings (customer text, names, URLs, notes, page
   titles, platform errors) reach the DOM only through textContent, attributes, or the
   helpers below. Nothing is ever assigned to innerHTML, and a link is made only from an
   http(s) URL (never javascript:, data: or anything else). */

export var root = document.getElementById("gc-console");

/* Texts in the manager's language (texts.js, loaded by layout.html before every module). */
export var t = window.gincoreTexts.t;
export var tn = window.gincoreTexts.tn;
export var lang = window.gincoreTexts.lang;

export function $(id) { return document.getElementById(id); }

export var config = root ? {
  api: root.dataset.api,
  ws: root.dataset.ws,
  page: root.dataset.page,
  me: root.dataset.managerId,
  meName: root.dataset.managerName,
  csrf: root.dataset.csrf
} : {};

/* ---- permissions: mirror the server exactly ------------------------------------------- */

var perms = new Set(root ? (root.dataset.permissions || "").split(" ").filter(Boolean) : []);

/* Returns whether anything changed. */
export function setPermissions(list) {
  var next = new Set(list || []);
  var changed = next.size !== perms.size || Array.from(next).some(function (p) { return !perms.has(p); });
  perms = next;
  return changed;
}

/* chats.admin sees every source and may view chats and customers; it does NOT grant
   chats.reply or customers.edit (the server checks those strictly). */
export function can(permission) {
  if (perms.has(permission)) return true;
  return perms.has("chats.admin") && (permission === "chats.view" || permission === "customers.view");
}

/* ---- a tiny event bus between modules -------------------------------------------------- */

export var bus = new EventTarget();
export function emit(name, detail) { bus.dispatchEvent(new CustomEvent(name, { detail: detail })); }
export function on(name, fn) { bus.addEventListener(name, function (e) { fn(e.detail); }); }

/* ---- DOM helpers ---------------------------------------------------------------------- */

export function el(tag, cls, text) {
  var n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined && text !== null) n.textContent = String(text);
  return n;
}

export function button(text, cls, onClick) {
  var b = el("button", cls || "gc-button", text);
  b.type = "button";
  if (onClick) b.addEventListener("click", onClick);
  return b;
}

export function srOnly(text) { return el("span", "gc-sr", text); }

var announcer = null;
/* Polite screen-reader announcement (new messages, results of actions). */
export function announce(text) {
  announcer = announcer || $("gc-announce");
  if (!announcer) return;
  announcer.textContent = "";
  // A fresh text node after clearing makes screen readers speak repeated texts too.
  setTimeout(function () { announcer.textContent = text; }, 30);
}

/* ---- URLs: only http(s) ever becomes a link or an image -------------------------------- */

export function safeHref(value) {
  if (typeof value !== "string" || !value) return null;
  try {
    var u = new URL(value);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch (e) { return null; }
}

/* Avatars may also be same-origin paths the host serves. */
export function safeImage(value) {
  if (typeof value !== "string" || !value) return null;
  try {
    var u = new URL(value, location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch (e) { return null; }
}

export function link(href, text) {
  var a = el("a", "gc-link", text);
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer nofollow";
  a.referrerPolicy = "no-referrer";
  return a;
}

var URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/* Append text to node, turning http(s) URLs into links; everything else stays text. */
export function appendLinkified(node, text) {
  text = String(text || "");
  var last = 0, m;
  URL_RE.lastIndex = 0;
  while ((m = URL_RE.exec(text))) {
    var raw = m[0];
    // Trailing punctuation belongs to the sentence, not the URL.
    while (/[.,;:!?)\]}'"]$/.test(raw) && !(raw.endsWith(")") && raw.indexOf("(") >= 0)) raw = raw.slice(0, -1);
    var href = safeHref(raw);
    if (!href) continue;
    if (m.index > last) node.appendChild(document.createTextNode(text.slice(last, m.index)));
    node.appendChild(link(href, raw));
    last = m.index + raw.length;
    URL_RE.lastIndex = last;
  }
  if (last < text.length) node.appendChild(document.createTextNode(text.slice(last)));
  return node;
}

export function initials(name) {
  // First letter or digit of the first and last words ("Visitor #7" -> "V7").
  var parts = String(name || "").trim().split(/\s+/).map(function (p) {
    return Array.from(p).filter(function (ch) { return /[\p{L}\p{N}]/u.test(ch); }).join("");
  }).filter(Boolean);
  if (!parts.length) return "?";
  var a = Array.from(parts[0])[0];
  var b = parts.length > 1 ? Array.from(parts[parts.length - 1])[0] : "";
  return (a + b).toUpperCase();
}

function hue(key) {
  // Spread by the golden angle: keys that differ by one character ("2", "3") get far apart hues.
  var s = String(key || ""), h = 0;
  for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) % 360;
  return (h * 137) % 360;
}

var PERSON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 12a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9zm0 2c-4.4 0-8 2.4-8 5.3V21h16v-1.7c0-2.9-3.6-5.3-8-5.3z"/></svg>';

/* A round avatar: the picture if it is an http(s) URL, else initials on a stable colour; with no
   name, a neutral person icon. */
export function avatar(name, url, key, cls) {
  var span = el("span", "gc-avatar" + (cls ? " " + cls : ""));
  span.setAttribute("aria-hidden", "true");
  var src = safeImage(url);
  if (src) {
    var img = document.createElement("img");
    img.alt = "";
    img.referrerPolicy = "no-referrer";
    img.loading = "lazy";
    img.src = src;
    span.appendChild(img);
  } else if (name) {
    span.textContent = initials(name);
    span.style.setProperty("--gc-hue", String(hue(key || name)));
  } else {
    span.classList.add("gc-avatar-anon");
    span.innerHTML = PERSON;
    span.style.setProperty("--gc-hue", String(hue(key)));
  }
  return span;
}

/* The customer's avatar. An anonymous visitor ("Visitor #12") gets the person icon: initials
   would be "V1" for visitors #10 to #19 alike. */
export function customerAvatar(conv, cls) {
  var c = (conv && conv.contact) || {};
  var known = c.name || c.email || c.phone || c.username;
  return avatar(known ? contactName(conv) : null, c.avatar_url, "c" + (conv && conv.id), cls);
}

/* ---- time ------------------------------------------------------------------------------ */

function pad(n) { return (n < 10 ? "0" : "") + n; }

export function fmtOffset(minutes) {
  var sign = minutes < 0 ? "−" : "+", m = Math.abs(minutes);
  return "UTC" + sign + pad(Math.floor(m / 60)) + ":" + pad(m % 60);
}

/* Wall-clock parts of an instant, in the manager's zone (offset null), in an IANA zone (a
   string: the customer's browser zone, right across daylight-saving changes) or at a fixed
   offset in minutes (widgets that report no zone). */
function shifted(date, offset) {
  if (offset === null || offset === undefined) return { date: date, opts: {} };
  if (typeof offset === "string") return { date: date, opts: { timeZone: offset } };
  return { date: new Date(date.getTime() + offset * 60000), opts: { timeZone: "UTC" } };
}

export function fmtClock(iso, offset) {
  var d = iso instanceof Date ? iso : new Date(iso);
  if (isNaN(d.getTime())) return "";
  var s = shifted(d, offset);
  return s.date.toLocaleTimeString(lang, Object.assign({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, s.opts));
}

export function fmtDateTime(iso, offset) {
  var d = iso instanceof Date ? iso : new Date(iso);
  if (isNaN(d.getTime())) return "";
  var s = shifted(d, offset);
  return s.date.toLocaleString(lang, Object.assign({ year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, s.opts));
}

/* "09:41" today, else "24 Nov, 09:41" (in the chosen zone). */
export function fmtWhen(iso, offset) {
  var d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  var a = shifted(d, offset), b = shifted(new Date(), offset);
  var dayOpts = Object.assign({ year: "numeric", month: "numeric", day: "numeric" }, a.opts);
  if (a.date.toLocaleDateString(lang, dayOpts) === b.date.toLocaleDateString(lang, dayOpts)) return fmtClock(d, offset);
  return a.date.toLocaleString(lang, Object.assign({ month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, a.opts));
}

export function timeKey(iso) { var ms = Date.parse(iso); return isNaN(ms) ? 0 : ms; }

/* ---- HTTP ------------------------------------------------------------------------------ */

export function uuid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  var b = crypto.getRandomValues(new Uint8Array(16)), s = "";
  for (var i = 0; i < 16; i++) s += (b[i] + 256).toString(16).slice(1);
  return s;
}

export function api(method, path, body, extra) {
  var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = config.csrf;
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  if (extra) Object.assign(opts, extra);
  return fetch(config.api + path, opts).then(function (r) {
    return r.json().catch(function () { return {}; }).then(function (data) {
      if (!r.ok) {
        var e = new Error(data.error || t("The server answered {status}.", { status: r.status }));
        e.status = r.status;
        e.permission = data.permission;
        throw e;
      }
      return data;
    });
  }, function (err) {
    var e = new Error(t("No connection to the server."));
    e.status = 0;
    e.cause = err;
    throw e;
  });
}

/* multipart/form-data upload (files); answers like api(). XMLHttpRequest, not fetch, because
   only it reports upload progress: onProgress(fraction) is called as bytes leave. */
export function upload(path, form, onProgress) {
  return new Promise(function (resolve, reject) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", config.api + path);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", config.csrf);
    if (onProgress) {
      xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) onProgress(ev.loaded / ev.total); };
    }
    xhr.onload = function () {
      var data = {};
      try { data = JSON.parse(xhr.responseText || "{}"); } catch (ignore) { data = {}; }
      if (xhr.status >= 200 && xhr.status < 300) { resolve(data); return; }
      var e = new Error(data.error || t("The server answered {status}.", { status: xhr.status }));
      e.status = xhr.status;
      reject(e);
    };
    xhr.onerror = xhr.onabort = function () {
      var e = new Error(t("No connection to the server."));
      e.status = 0;
      reject(e);
    };
    xhr.send(form);
  });
}

/* Where a manager downloads an attachment (the session authenticates). */
export function fileUrl(id, thumb) {
  return config.page + "/files/" + encodeURIComponent(String(id)) + (thumb ? "?thumb=1" : "");
}

export function humanSize(bytes) {
  var n = Number(bytes) || 0, i = 0;
  while (n >= 1024 && i < 3) { n /= 1024; i++; }
  if (!i) return tn("{n} byte", "{n} bytes", n);
  // The page's language writes the decimal ("1,5 MB" in German).
  var size = new Intl.NumberFormat(lang, { maximumFractionDigits: n < 10 ? 1 : 0 }).format(n);
  if (i === 1) return t("{size} KB", { size: size });
  if (i === 2) return t("{size} MB", { size: size });
  return t("{size} GB", { size: size });
}

export function setCsrf(token) { if (token) config.csrf = token; }

/* ---- small persistent preferences (never anything about customers) --------------------- */

export var prefs = {
  get: function (key, fallback) {
    try { var v = localStorage.getItem("gincore-chats:console:" + key); return v === null ? fallback : v; } catch (e) { return fallback; }
  },
  set: function (key, value) {
    try { localStorage.setItem("gincore-chats:console:" + key, value); } catch (e) { /* private mode */ }
  }
};

/* What the customer is called in the console. */
export function contactName(conv) {
  var c = conv && conv.contact;
  return (c && (c.name || c.email || c.phone || c.username)) || t("Visitor #{id}", { id: conv && conv.id });
}
