/* The console's WebSocket: connect, reconnect with back-off, detect dead connections.

   Callers get on.hello (connected and registered: reload and resync now), on.frame(frame) and
   on.down(). A connection that answers no ping within PONG_WAIT ms is treated as dead (a laptop
   that slept, a proxy that dropped it silently) and replaced. */

import { config, $, t } from "./console-core.js";

var PING_EVERY = 25000, PONG_WAIT = 10000;

export function ConsoleSocket(on) {
  this.on = on;
  this.ws = null;
  this.delay = 500;
  this.retryTimer = null;
  this.pingTimer = null;
  this.pongTimer = null;
  this.live = false;
  var self = this;
  window.addEventListener("online", function () { self.reconnectSoon(0); });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !self.isOpen()) self.reconnectSoon(0);
  });
}

ConsoleSocket.prototype.isOpen = function () { return !!this.ws && this.ws.readyState === 1 && this.live; };

ConsoleSocket.prototype.send = function (frame) {
  if (!this.ws || this.ws.readyState !== 1) return false;
  this.ws.send(JSON.stringify(frame));
  return true;
};

ConsoleSocket.prototype.status = function (text, live) {
  var conn = $("gc-conn");
  if (conn) { conn.textContent = text; conn.dataset.live = live ? "1" : "0"; }
  var root = $("gc-console");
  if (root) root.dataset.live = live ? "1" : "0";
};

ConsoleSocket.prototype.url = function () {
  // url_for() renders a WebSocket rule as an absolute ws:// URL (Werkzeug); keep only its
  // path, so the scheme and host are the page's own (wss:// behind a TLS proxy).
  var path = config.ws.replace(/^[a-z]+:\/\/[^\/]+/i, "");
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
};

ConsoleSocket.prototype.connect = function () {
  var self = this;
  clearTimeout(this.retryTimer);
  this.retryTimer = null;
  var ws;
  try { ws = new WebSocket(this.url()); } catch (e) { this.scheduleRetry(); return; }
  this.ws = ws;
  ws.onmessage = function (e) {
    if (ws !== self.ws) return;
    var frame;
    try { frame = JSON.parse(e.data); } catch (err) { return; }
    if (frame.type === "pong") { clearTimeout(self.pongTimer); return; }
    if (frame.type === "hello") {
      self.delay = 500;
      self.live = true;
      // TRANSLATORS: connection status: the console is connected
      self.status(t("Live"), true);
      self.startPings();
      self.on.hello(frame);
      return;
    }
    self.on.frame(frame);
  };
  ws.onclose = function (e) {
    if (ws !== self.ws) return;
    self.live = false;
    self.stopPings();
    self.status(e.code === 1008 ? t("Not allowed: reload the page") : t("Reconnecting…"), false);
    self.on.down(e);
    // 4001: the server closed us because our rights changed; come straight back for the new ones.
    self.scheduleRetry(e.code === 4001 ? 0 : undefined);
  };
};

ConsoleSocket.prototype.scheduleRetry = function (delay) {
  if (this.retryTimer) return;
  var wait = delay !== undefined ? delay : this.delay * (0.5 + Math.random());
  this.delay = Math.min(this.delay * 2, 15000);
  var self = this;
  this.retryTimer = setTimeout(function () { self.retryTimer = null; self.connect(); }, wait);
};

ConsoleSocket.prototype.reconnectSoon = function (delay) {
  if (this.ws && (this.ws.readyState === 0 || this.ws.readyState === 1)) return;
  clearTimeout(this.retryTimer);
  this.retryTimer = null;
  this.scheduleRetry(delay);
};

ConsoleSocket.prototype.startPings = function () {
  var self = this;
  this.stopPings();
  this.pingTimer = setInterval(function () {
    if (!self.send({ op: "ping" })) return;
    clearTimeout(self.pongTimer);
    self.pongTimer = setTimeout(function () {
      // No answer: the connection is dead even if the browser has not noticed yet.
      var ws = self.ws;
      if (!ws) return;
      var closed = ws.onclose;
      ws.onclose = null;
      try { ws.close(); } catch (e) { /* already closing */ }
      if (closed) closed({ code: 4000 });
    }, PONG_WAIT);
  }, PING_EVERY);
};

ConsoleSocket.prototype.stopPings = function () {
  clearInterval(this.pingTimer);
  clearTimeout(this.pongTimer);
  this.pingTimer = this.pongTimer = null;
};
