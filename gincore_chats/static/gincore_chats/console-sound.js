/* The optional sound for new conversations and messages: a WebAudio beep (no audio file to
   fetch), switched per browser (localStorage), at most one beep in 1.5 s. */

import { $, prefs, t } from "./console-core.js";

var soundOn = false, audio = null, lastBeep = 0;

export function init() {
  var btn = $("gc-sound");
  if (!btn) return;
  soundOn = prefs.get("sound", "off") === "on";
  var show = function () {
    btn.setAttribute("aria-pressed", String(soundOn));
    btn.title = soundOn ? t("Sound is on for new conversations and messages") : t("Sound is off");
  };
  show();
  btn.addEventListener("click", function () {
    soundOn = !soundOn;
    prefs.set("sound", soundOn ? "on" : "off");
    show();
    // Browsers allow audio only after a user gesture: this click is one.
    if (soundOn) { unlockAudio(); beep(true); }
  });
  // Any click unlocks audio for later beeps.
  document.addEventListener("pointerdown", unlockAudio, { once: true });
}

function unlockAudio() {
  if (!soundOn) return;
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
  } catch (e) { audio = null; }
}

export function beep(force) {
  if (!soundOn) return;
  var now = Date.now();
  if (!force && now - lastBeep < 1500) return;
  lastBeep = now;
  document.dispatchEvent(new CustomEvent("gincore-chats:sound"));
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    var at = audio.currentTime, osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(880, at);
    osc.frequency.setValueAtTime(1320, at + 0.09);
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.18, at + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.28);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.3);
  } catch (e) { /* no audio device: the title and the list still show it */ }
}
