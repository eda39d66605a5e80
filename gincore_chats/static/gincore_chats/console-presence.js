/* This manager's status (online / invisible / offline) in the console's toolbar. Any tab may
   change it: a "presence" frame from another tab is newer than a read still under way, so a
   counter of changes decides which answer is shown. */

import { $, announce, api, t } from "./console-core.js";

var presenceEl, presenceChanges = 0;

function statusSaid(status) {
  switch (status) {
    case "online": return t("Your status is online.");
    case "invisible": return t("Your status is invisible.");
    case "offline": return t("Your status is offline.");
    default: return t("Your status is {status}.", { status: status });
  }
}

function showPresence(status) {
  if (!presenceEl || !status) return;
  presenceEl.value = status;
  presenceEl.dataset.status = status;
}

/* A "presence" frame (a change from any tab) is newer than a read still under way. */
export function applyFrame(status) {
  presenceChanges++;
  showPresence(status);
}

export function load() {
  var before = presenceChanges;
  return api("GET", "/presence").then(function (d) {
    if (presenceChanges === before) showPresence(d.status);
  }, function () {});
}

export function init() {
  presenceEl = $("gc-presence");
  if (!presenceEl) return;
  load();
  presenceEl.addEventListener("change", function () {
    var wanted = presenceEl.value, before = presenceEl.dataset.status || "online";
    presenceChanges++;
    api("POST", "/presence", { status: wanted }).then(function (d) {
      showPresence(d.status);
      announce(statusSaid(d.status));
    }, function (e) {
      showPresence(before);
      announce(e.message);
    });
  });
}
