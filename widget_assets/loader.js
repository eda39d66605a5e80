/* gincore-chats widget loader (served as /chats/widget.js; build.py minifies it).

   A launcher button in a shadow root, and nothing else: it writes no cookie and no storage and
   fetches nothing until the visitor opens the chat, or had opened it before on this site (then
   the chat is restored, without opening, so the visitor keeps their conversation). */
(function (d, w) {
  "use strict";
  var s = d.currentScript, key = s && s.getAttribute("data-key");
  if (!key || w.__gcLoaded) return;
  w.__gcLoaded = 1;
  var base = s.src.replace(/\/widget\.js(\?.*)?$/, "");
  // The launcher's name before the server is asked: the catalogs' "Open chat", keyed by language
  // (build.py fills the table in). Once open, every text comes from the server, which chose the
  // language from the same browser preferences.
  var labels = {/*labels*/}, label = "Open chat", langs = navigator.languages || [navigator.language];
  for (var i = 0; i < langs.length; i++) {
    var tag = String(langs[i]).toLowerCase(), found = labels[tag] || labels[tag.split("-")[0]];
    if (found) { label = found; break; }
  }
  var host = d.createElement("div");
  host.id = "gincore-chats";
  host.style.cssText = "position:fixed;z-index:2147483000;right:20px;bottom:20px";
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML = "<style>[part=launcher]{all:initial;cursor:pointer;display:flex;align-items:center;justify-content:center;width:56px;height:56px;border-radius:50%;background:#2457d6;color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25)}[part=launcher]:focus-visible{outline:3px solid #ffbf47;outline-offset:3px}[part=launcher] svg{width:28px;height:28px;fill:currentColor}</style>" +
    '<button type="button" part="launcher" aria-expanded="false"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg></button>';
  var btn = root.querySelector("button"), loading = 0, wanted = 0;
  btn.setAttribute("aria-label", label);
  function load(open) {
    if (w.GincoreChats) return w.GincoreChats.toggle();
    wanted = wanted || open; // a click while a restored chat loads opens it once loaded
    if (loading) return;
    loading = 1;
    var app = d.createElement("script");
    // The version (build.py) lets a new release replace a cached app.js at once.
    app.src = base + "/widget/app.js?v=dev";
    app.async = true;
    app.onload = function () { w.GincoreChats.start({ root: root, base: base, key: key, launcher: btn, open: wanted }); };
    app.onerror = function () { loading = 0; console.warn("gincore-chats: could not load " + app.src); };
    (d.head || d.documentElement).appendChild(app);
  }
  btn.addEventListener("click", function () { load(true); });
  var had;
  try { had = w.localStorage.getItem("gincore-chats:" + key); } catch (e) { had = null; }
  (d.body || d.documentElement).appendChild(host);
  if (had) load(false);
})(document, window);
