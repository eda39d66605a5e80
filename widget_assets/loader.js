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
  // While the chat is open the launcher is its close button (app.js sets aria-expanded and the
  // name): the speech bubble turns into a cross.
  root.innerHTML = "<style>[part=launcher]{all:initial;cursor:pointer;display:flex;align-items:center;justify-content:center;width:58px;height:58px;border-radius:50%;background:#2457d6;color:#fff;box-shadow:0 6px 18px rgba(16,24,40,.3);transition:transform .15s}[part=launcher]:hover{transform:scale(1.06)}[part=launcher]:focus-visible{outline:3px solid #ffbf47;outline-offset:3px}[part=launcher] svg{width:28px;height:28px;fill:currentColor}[aria-expanded=true] .o,[aria-expanded=false] .x{display:none}</style>" +
    '<button type="button" part="launcher" aria-expanded="false"><svg class="o" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg><svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4l5.6 5.6L5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6z"/></svg></button>';
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
    // The host's signed identity (docs/identity.rst): data-identity + data-identity-signature
    // on the script tag, or window.gincoreChatsIdentity = {payload, signature} set before it.
    var idp = s.getAttribute("data-identity"), identity = idp
      ? { payload: idp, signature: s.getAttribute("data-identity-signature") || "" }
      : w.gincoreChatsIdentity || null;
    app.onload = function () { w.GincoreChats.start({ root: root, base: base, key: key, launcher: btn, open: wanted, identity: identity }); };
    app.onerror = function () { loading = 0; console.warn("gincore-chats: could not load " + app.src); };
    (d.head || d.documentElement).appendChild(app);
  }
  btn.addEventListener("click", function () { load(true); });
  var had;
  try { had = w.localStorage.getItem("gincore-chats:" + key); } catch (e) { had = null; }
  (d.body || d.documentElement).appendChild(host);
  if (had) load(false);
})(document, window);
