/* gincore-chats widget loader: a launcher button in a shadow root. It writes no cookie and no
   storage, and fetches nothing more until the visitor opens the chat (or had opened it before
   on this site, in which case the chat is restored). */
(function (d, w) {
  "use strict";
  var s = d.currentScript, key = s && s.getAttribute("data-key");
  if (!key || w.__gcLoaded) return;
  w.__gcLoaded = 1;
  var base = s.src.replace(/\/widget\.js(\?.*)?$/, "");
  var host = d.createElement("div");
  host.id = "gincore-chats";
  host.style.cssText = "position:fixed;z-index:2147483000;right:20px;bottom:20px";
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML = '<style>button{all:initial;cursor:pointer;display:flex;align-items:center;justify-content:center;width:56px;height:56px;border-radius:50%;background:#2457d6;color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25)}button:focus-visible{outline:3px solid #ffbf47;outline-offset:3px}svg{width:28px;height:28px;fill:currentColor}</style>' +
    '<button type="button" part="launcher" aria-label="Open chat" aria-expanded="false"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg></button>';
  var btn = root.querySelector("button"), loading = 0;
  function load(open) {
    if (w.GincoreChats) return w.GincoreChats.toggle();
    if (loading) return;
    loading = 1;
    var app = d.createElement("script");
    app.src = base + "/widget/app.js";
    app.async = true;
    app.onload = function () { w.GincoreChats.start({ root: root, base: base, key: key, launcher: btn, open: open }); };
    d.head.appendChild(app);
  }
  btn.addEventListener("click", function () { load(true); });
  var had;
  try { had = w.localStorage.getItem("gincore-chats:" + key); } catch (e) { had = null; }
  (d.body || d.documentElement).appendChild(host);
  if (had) load(false);
})(document, window);
