// What every script of the console page uses: building elements, the site's clock, and the
// two ways the page talks to the server (every state-changing request goes through sendJson).
"use strict";

// Builds an element; children are nodes or text (never parsed as HTML).
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("data-") || name.startsWith("aria-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Every time a person reads is in the site's time zone, with its date and offset: the zone
// comes from the server (/api/me), never from the browser's own settings.
const siteClock = {
  timeZone: "UTC",
  full: null,
  time: null,
  use(timeZone) {
    this.timeZone = timeZone;
    const base = { timeZone, hourCycle: "h23", timeZoneName: "shortOffset" };
    this.full = new Intl.DateTimeFormat("en-GB", {
      ...base,
      day: "2-digit",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    this.time = new Intl.DateTimeFormat("en-GB", {
      ...base,
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  },
};
siteClock.use("UTC");

function siteTime(iso) {
  return iso ? siteClock.full.format(new Date(iso)) : "—";
}

function siteClockTime(date) {
  return siteClock.time.format(date);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

function since(iso) {
  return duration(Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000));
}

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (response.status === 401) {
    window.location.assign("/login");
    throw new Error("session ended");
  }
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

// The page's one state-changing request: POST a JSON body, answer {ok, status, body}.
async function sendJson(url, payload) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
  const body = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, statusText: response.statusText, body };
}
