/* Per-conversation event sequence tracking (the rules in gincore_chats/realtime/session.py).

   The tracker keeps the highest contiguous sequence number seen (the floor) and the numbers
   seen above it. A live event above floor + 1 means a gap (an event still in transit, or one
   this manager may not see): the owner asks the server to sync from the floor, and the
   "synced" answer's upto moves the floor. Duplicates (replay + live) are dropped by number, so
   every event is applied exactly once. */

export function Tracker(floor) {
  this.floor = floor || 0;
  this.seen = new Set();
  this.timer = null;
}

/* True if the event is new and must be applied. */
Tracker.prototype.accept = function (seq) {
  if (typeof seq !== "number" || seq <= this.floor || this.seen.has(seq)) return false;
  this.seen.add(seq);
  while (this.seen.has(this.floor + 1)) { this.seen.delete(this.floor + 1); this.floor++; }
  return true;
};

/* The server replayed everything this client may see up to upto. */
Tracker.prototype.synced = function (upto) {
  if (upto > this.floor) this.floor = upto;
  var floor = this.floor, seen = this.seen;
  seen.forEach(function (s) { if (s <= floor) seen.delete(s); });
  while (seen.has(this.floor + 1)) { seen.delete(this.floor + 1); this.floor++; }
};

Tracker.prototype.hasGap = function () { return this.seen.size > 0; };

Tracker.prototype.stop = function () { if (this.timer) clearTimeout(this.timer); this.timer = null; };
