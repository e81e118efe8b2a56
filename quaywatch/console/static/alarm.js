// The annunciator: a sound and a desktop notification when a critical or high alert is new
// to this page, or rises to critical or high; both can be muted, and the choice is kept.
"use strict";

const ALARMING = new Set(["critical", "high"]);

const alarm = {
  heard: new Map(), // alert id -> severity it last sounded at
  primed: false, // the first push only records what is already there
  muted: window.localStorage.getItem("quaywatch-muted") === "1",

  setup() {
    const button = document.getElementById("mute");
    const show = () => {
      button.textContent = this.muted ? "Sound off" : "Sound on";
      button.setAttribute("aria-pressed", String(this.muted));
      button.classList.toggle("muted", this.muted);
    };
    button.addEventListener("click", () => {
      this.muted = !this.muted;
      window.localStorage.setItem("quaywatch-muted", this.muted ? "1" : "0");
      show();
      // A click is the user gesture browsers want before they show notifications.
      if (!this.muted && "Notification" in window && Notification.permission === "default") {
        Notification.requestPermission().catch(() => {});
      }
    });
    show();
  },

  // Called with every push's alerts; sounds for those that need a person now.
  observe(alerts) {
    const fresh = [];
    for (const alert of alerts) {
      const before = this.heard.get(alert.alert_id);
      const rose = before !== undefined && !ALARMING.has(before) && ALARMING.has(alert.severity);
      const isNew = before === undefined && ALARMING.has(alert.severity);
      if ((isNew || rose) && alert.state === "unacknowledged") fresh.push(alert);
      this.heard.set(alert.alert_id, alert.severity);
    }
    const first = !this.primed;
    this.primed = true;
    if (first || !fresh.length || this.muted) return;
    this.sound();
    for (const alert of fresh) this.notify(alert);
  },

  sound() {
    const audio = document.getElementById("alarm-sound");
    audio.currentTime = 0;
    const played = audio.play();
    if (played && played.catch) played.catch(() => {}); // a browser may refuse before a click
  },

  notify(alert) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const container = alert.at_risk ? ` · ${alert.at_risk.container_number}` : "";
    const notice = new Notification(`${alert.severity.toUpperCase()}: ${alert.zone_id}${container}`, {
      body: alert.reason,
      tag: alert.alert_id,
      requireInteraction: alert.severity === "critical",
    });
    notice.onclick = () => {
      window.focus();
      if (window.selectAlert) window.selectAlert(alert.alert_id);
    };
  },
};
