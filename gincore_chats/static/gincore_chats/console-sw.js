/* gincore-chats console service worker: shows a manager's push notifications and opens the chat
   when one is clicked. Registered by console-notifications.js with the console as its scope.
   Payload (JSON, decrypted by the browser): {title, body, url, tag, conversation_id, message_id}. */
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { body: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || "New message", {
    body: data.body || "",
    // One notification per chat: a newer message replaces the shown one instead of piling up.
    tag: data.tag || "gincore-chats",
    renotify: true,
    data: { url: data.url || self.registration.scope, conversation_id: data.conversation_id }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var data = event.notification.data || {};
  var target = new URL(data.url || self.registration.scope, self.location.origin).href;
  var consolePath = new URL(self.registration.scope).pathname.replace(/\/$/, "");
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
    for (var i = 0; i < list.length; i++) {
      if (new URL(list[i].url).pathname.replace(/\/$/, "") === consolePath) {
        // An open console switches to the chat itself (console-notifications.js).
        list[i].postMessage({ type: "gincore-chats:open-conversation", conversation_id: data.conversation_id, url: target });
        return list[i].focus();
      }
    }
    return self.clients.openWindow(target);
  }));
});
