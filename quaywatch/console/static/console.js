// The live console page: one server-sent event stream carries the whole state the role may
// see; the page redraws from it, so actions taken on other consoles show up here too.
"use strict";

const SEVERITY_WORD = { critical: "CRITICAL", high: "HIGH", medium: "MEDIUM", suppressed: "INFO" };
const STATE_WORD = {
  unacknowledged: "UNACKNOWLEDGED",
  acknowledged: "ACKNOWLEDGED",
  escalated: "ESCALATED",
  closed_real: "CLOSED — REAL",
  closed_false_alarm: "CLOSED — FALSE ALARM",
};
const ACTION_WORD = {
  acknowledge: "acknowledged",
  escalate: "escalated",
  close_real: "closed as real",
  close_false_alarm: "closed as false alarm",
};

const page = {
  me: null,
  state: null,
  selected: null, // alert id
  detail: null, // last detail fetched for the selected alert
  detailKey: "", // revision and last action it was fetched at
};

// Builds an element; children are nodes or text (never parsed as HTML).
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("data-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function clockTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleTimeString([], { hour12: false });
}

function dateTime(iso) {
  if (!iso) return "—";
  const moment = new Date(iso);
  return `${moment.toLocaleDateString([], { day: "2-digit", month: "short" })} ${clockTime(iso)}`;
}

function age(iso) {
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
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

// -- header -------------------------------------------------------------------------------

function renderHeader() {
  document.getElementById("site-name").textContent = page.me.site;
  document.getElementById("who").textContent = `${page.me.name} · ${page.me.role}`;
  const counts = document.getElementById("counts");
  counts.replaceChildren();
  const alerts = (page.state && page.state.alerts) || [];
  for (const severity of ["critical", "high", "medium"]) {
    const open = alerts.filter((a) => a.open && a.severity === severity).length;
    const unacknowledged = alerts.filter(
      (a) => a.severity === severity && a.state === "unacknowledged",
    ).length;
    counts.append(
      el(
        "span",
        { class: `count sev-${severity}${open ? "" : " zero"}` },
        `${SEVERITY_WORD[severity]} ${open}`,
        unacknowledged ? el("small", {}, ` (${unacknowledged} new)`) : null,
      ),
    );
  }
}

function tick() {
  document.getElementById("clock").textContent = new Date().toLocaleTimeString([], {
    hour12: false,
  });
  for (const node of document.querySelectorAll("[data-age]")) {
    node.textContent = age(node.dataset.age);
  }
}

// -- cameras ------------------------------------------------------------------------------

function cameraStatus(health) {
  return String(health.status || health.state || "unknown");
}

function renderCameras() {
  const strip = document.getElementById("cameras");
  strip.replaceChildren();
  for (const health of page.state.cameras || []) {
    const status = cameraStatus(health);
    const ok = status === "online";
    strip.append(
      el(
        "div",
        { class: `camera ${ok ? "cam-ok" : "cam-bad"}`, "data-camera": health.camera_id },
        el("span", { class: "cam-id" }, health.camera_id),
        el("span", { class: "cam-status" }, status.toUpperCase().replace(/_/g, " ")),
        health.detail ? el("span", { class: "cam-detail" }, health.detail) : null,
      ),
    );
  }
}

// -- alert list ---------------------------------------------------------------------------

function renderAlerts() {
  const list = document.getElementById("alert-list");
  const showClosed = document.getElementById("show-closed").checked;
  const alerts = (page.state.alerts || []).filter((a) => a.open || showClosed);
  list.replaceChildren();
  for (const alert of alerts) {
    const row = el(
      "li",
      {
        class: `alert sev-${alert.severity} state-${alert.state}${
          alert.alert_id === page.selected ? " selected" : ""
        }`,
        "data-alert-id": alert.alert_id,
        "data-severity": alert.severity,
        "data-state": alert.state,
        tabIndex: 0,
      },
      el("span", { class: "sev-badge" }, SEVERITY_WORD[alert.severity]),
      el(
        "span",
        { class: "alert-main" },
        el("span", { class: "alert-where" }, `${alert.zone_id} · ${alert.camera_id}`),
        el("span", { class: "alert-reason" }, alert.reason),
        alert.upgraded_from
          ? el(
              "span",
              { class: "upgrade" },
              `▲ raised from ${SEVERITY_WORD[alert.upgraded_from]} (rev ${alert.revision})`,
            )
          : null,
      ),
      el(
        "span",
        { class: "alert-side" },
        el("span", { class: "alert-time" }, clockTime(alert.raised_at)),
        el("span", { class: "alert-age", "data-age": alert.raised_at }, age(alert.raised_at)),
        el("span", { class: "alert-state" }, STATE_WORD[alert.state]),
      ),
    );
    row.addEventListener("click", () => select(alert.alert_id));
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter") select(alert.alert_id);
    });
    list.append(row);
  }
  document.getElementById("no-alerts").hidden = alerts.length > 0;
}

// -- alert detail -------------------------------------------------------------------------

function summaryOf(alertId) {
  return ((page.state && page.state.alerts) || []).find((a) => a.alert_id === alertId);
}

function detailKey(summary) {
  return `${summary.revision}/${summary.state}/${summary.last_action ? summary.last_action.event_id : ""}`;
}

async function select(alertId) {
  page.selected = alertId;
  document.getElementById("action-result").textContent = "";
  document.getElementById("action-reason").value = "";
  renderAlerts();
  await refreshDetail(true);
}

async function refreshDetail(force) {
  const summary = page.selected && summaryOf(page.selected);
  if (!summary) return;
  const key = detailKey(summary);
  if (!force && key === page.detailKey) return;
  const detail = await getJson(`/api/alerts/${encodeURIComponent(page.selected)}`);
  if (detail.alert_id !== page.selected) return; // another alert was picked meanwhile
  page.detail = detail;
  page.detailKey = key;
  renderDetail(detail);
}

function fact(list, term, value) {
  list.append(el("dt", {}, term), el("dd", {}, value === null || value === "" ? "—" : value));
}

function renderDetail(detail) {
  const panel = document.getElementById("detail");
  panel.hidden = false;
  panel.className = `detail sev-${detail.severity}`;
  document
    .getElementById("detail-head")
    .replaceChildren(
      el("span", { class: "sev-badge" }, SEVERITY_WORD[detail.severity]),
      el("span", { class: "detail-title" }, `${detail.zone_id} · ${detail.camera_id}`),
      el("span", { class: "detail-state", id: "detail-state" }, STATE_WORD[detail.state]),
    );
  document.getElementById("detail-reason").textContent = detail.reason;
  const upgrade = document.getElementById("detail-upgrade");
  upgrade.hidden = !detail.upgraded_from;
  upgrade.textContent = detail.upgraded_from
    ? `▲ Raised from ${SEVERITY_WORD[detail.upgraded_from]} at revision ${detail.revision}: ${detail.reason}`
    : "";

  const image = document.getElementById("snapshot");
  const note = document.getElementById("snapshot-note");
  if (detail.snapshot_sha256) {
    const source = `/snapshots/${detail.snapshot_sha256}`;
    if (image.getAttribute("src") !== source) image.src = source;
    image.hidden = false;
    note.textContent = `Snapshot ${detail.snapshot_sha256.slice(0, 12)}… · ${dateTime(detail.event_time)}`;
  } else {
    image.hidden = true;
    image.removeAttribute("src");
    note.textContent = "No snapshot for this alert.";
  }

  const facts = document.getElementById("detail-facts");
  facts.replaceChildren();
  fact(facts, "Seen", dateTime(detail.event_time));
  fact(facts, "Camera", detail.camera_id);
  fact(facts, "Zone", detail.zone_id);
  fact(facts, "Yard blocks", detail.yard_blocks.join(", "));
  fact(facts, "Containers in zone", String(detail.containers_in_zone));
  fact(facts, "Revision", String(detail.revision));
  fact(facts, "Terminal news to", dateTime(detail.as_of));
  fact(facts, "Alert id", detail.alert_id);

  const rows = document.getElementById("containers");
  rows.replaceChildren();
  for (const container of detail.containers) {
    rows.append(
      el(
        "tr",
        { class: `cond-${container.condition}` },
        el("td", { class: "mono" }, container.container_number),
        el("td", {}, container.condition.replace(/_/g, " ")),
        el("td", {}, [container.yard_block, container.yard_position].filter(Boolean).join(" / ")),
        el("td", {}, dateTime(container.discharged_at)),
        el("td", {}, dateTime(container.selected_for_inspection_at || container.selected_for_scan_at)),
        el(
          "td",
          {},
          container.inspection_started_at
            ? `${dateTime(container.inspection_started_at)} – ${
                container.inspection_finished_at ? dateTime(container.inspection_finished_at) : "…"
              }`
            : "not inspected",
        ),
        el("td", {}, dateTime(container.released_at)),
      ),
    );
  }
  if (!detail.containers.length) {
    rows.append(el("tr", {}, el("td", { colSpan: 7 }, "No containers involved.")));
  }

  document
    .getElementById("access-events")
    .replaceChildren(...detail.access_event_ids.map((id) => el("li", { class: "mono" }, id)));

  const history = document.getElementById("history");
  history.replaceChildren(
    ...detail.revisions.map((r) =>
      el("li", {}, `revision ${r.revision}: ${SEVERITY_WORD[r.severity]}`),
    ),
    ...detail.actions.map((a) =>
      el(
        "li",
        { class: "history-action" },
        `${dateTime(a.at)} ${a.operator} ${ACTION_WORD[a.action]} (rev ${a.alert_revision}): ${a.reason}`,
      ),
    ),
  );

  const actionPanel = document.getElementById("action-panel");
  actionPanel.hidden = !(page.me.may_act && detail.open);
}

async function act(action) {
  const reasonBox = document.getElementById("action-reason");
  const result = document.getElementById("action-result");
  const reason = reasonBox.value.trim();
  if (!reason) {
    result.textContent = "Write a reason first.";
    result.className = "action-result bad";
    reasonBox.focus();
    return;
  }
  const buttons = document.querySelectorAll("#action-panel button");
  for (const button of buttons) button.disabled = true;
  try {
    const response = await fetch(`/api/alerts/${encodeURIComponent(page.detail.alert_id)}/actions`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ action, reason, revision: page.detail.revision }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      result.textContent = `Recorded: ${ACTION_WORD[action]}.`;
      result.className = "action-result ok";
      reasonBox.value = "";
    } else {
      const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
      result.textContent = `Not recorded (${response.status}): ${detail || response.statusText}`;
      result.className = "action-result bad";
    }
  } catch (error) {
    result.textContent = `Not recorded: ${error.message}`;
    result.className = "action-result bad";
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

// -- engineer and auditor panels ----------------------------------------------------------

async function renderEngineer() {
  const config = await getJson("/api/config");
  const facts = document.getElementById("config-facts");
  facts.replaceChildren();
  fact(facts, "Site", `${config.site_name || config.site_id} (${config.site_id})`);
  fact(facts, "Config hash", el("span", { class: "mono", id: "config-hash" }, config.config_hash));
  fact(facts, "Cameras", config.cameras.join(", "));
  fact(facts, "Zones", config.zones.map((z) => `${z.id} (${z.yard_blocks.join(", ")})`).join("; "));
  document.getElementById("engineer").hidden = false;
}

function renderActionLog() {
  const log = document.getElementById("action-log");
  log.replaceChildren(
    ...(page.state.actions || []).map((a) =>
      el(
        "li",
        {},
        el("span", { class: "log-time" }, dateTime(a.at)),
        ` ${a.operator} ${ACTION_WORD[a.action]} ${a.alert_id} (rev ${a.alert_revision}): ${a.reason}`,
      ),
    ),
  );
}

// -- the live stream ----------------------------------------------------------------------

function linkState(up) {
  const node = document.getElementById("link-state");
  node.textContent = up ? "LIVE" : "RECONNECTING";
  node.className = `link-state ${up ? "up" : "down"}`;
}

function onState(state) {
  page.state = state;
  renderHeader();
  renderCameras();
  if (state.alerts) {
    renderAlerts();
    refreshDetail(false).catch(() => {});
  }
  if (state.actions) renderActionLog();
  document.body.dataset.version = String(state.version);
}

function connect() {
  const source = new EventSource("/api/stream");
  source.addEventListener("open", () => linkState(true));
  source.addEventListener("state", (event) => {
    linkState(true);
    onState(JSON.parse(event.data));
  });
  source.addEventListener("expired", () => {
    source.close();
    window.location.assign("/login");
  });
  source.addEventListener("error", () => {
    linkState(false);
    // EventSource retries by itself; a session that ended sends us to the login instead.
    getJson("/api/me").catch(() => {});
  });
}

async function start() {
  page.me = await getJson("/api/me");
  document.body.dataset.role = page.me.role;
  const readsAlerts = page.me.role === "operator" || page.me.role === "auditor";
  document.getElementById("alerts-column").hidden = !readsAlerts;
  document.getElementById("action-log-column").hidden = page.me.role !== "auditor";
  if (page.me.role === "engineer" || page.me.role === "auditor") renderEngineer().catch(() => {});
  document.getElementById("show-closed").addEventListener("change", renderAlerts);
  for (const button of document.querySelectorAll("#action-panel button")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  renderHeader();
  tick();
  setInterval(tick, 1000);
  connect();
}

start();
