// The live console page: one server-sent event stream carries the whole state the role may
// see; the page redraws from it, so actions taken on other consoles show up here too.
"use strict";

// ISA-18.2 words. A suppressed alert is presence the correlator judged expected.
const SEVERITY_WORD = {
  critical: "CRITICAL",
  high: "HIGH",
  medium: "MEDIUM",
  suppressed: "EXPECTED",
};
const STATE_WORD = {
  unacknowledged: "UNACKNOWLEDGED",
  expected: "expected presence",
  acknowledged: "acknowledged",
  shelved: "shelved",
  escalated: "escalated",
  closed: "closed",
};
const OUTCOME_WORD = {
  confirmed_incident: "confirmed incident",
  false_alarm: "false alarm",
  authorised_presence: "authorised presence",
};
const CONDITION_SHORT = {
  selected_not_inspected: "selected, not inspected",
  under_inspection: "under inspection",
  freshly_discharged: "freshly discharged",
  inspected_not_released: "inspected, not released",
  released: "released",
  in_yard: "in yard",
};

function actionWords(action) {
  switch (action.action) {
    case "acknowledge":
      return "acknowledged";
    case "escalate":
      return "escalated";
    case "shelve":
      return `shelved until ${siteTime(action.shelved_until)}`;
    case "assign":
      return `assigned to ${action.assignee}`;
    default:
      return `closed as ${OUTCOME_WORD[action.outcome] || "closed"}`;
  }
}

function stateWords(alert) {
  if (alert.state === "closed" && alert.outcome) return `closed: ${OUTCOME_WORD[alert.outcome]}`;
  if (alert.state === "shelved") return `shelved until ${siteClockTime(new Date(alert.shelved_until))}`;
  return STATE_WORD[alert.state];
}

const page = {
  me: null,
  state: null,
  selected: null, // alert id
  detail: null, // last detail fetched for the selected alert
  detailKey: "", // revision and last action it was fetched at
  view: "detail",
};

// -- header -------------------------------------------------------------------------------

function renderHeader() {
  document.getElementById("site-name").textContent = page.me.site;
  document.getElementById("who").textContent = `${page.me.name} · ${page.me.role}`;
  const counts = document.getElementById("counts");
  counts.replaceChildren();
  const alerts = (page.state && page.state.alerts) || [];
  for (const severity of ["critical", "high", "medium"]) {
    const open = alerts.filter(
      (a) => a.open && a.severity === severity && a.state !== "shelved",
    ).length;
    const waiting = alerts.filter(
      (a) => a.severity === severity && a.state === "unacknowledged",
    ).length;
    counts.append(
      el(
        "span",
        { class: `count sev-${severity}${open ? "" : " zero"}` },
        `${SEVERITY_WORD[severity]} ${open}`,
        waiting ? el("small", {}, ` (${waiting} new)`) : null,
      ),
    );
  }
}

function tick() {
  document.getElementById("clock").textContent = siteClockTime(new Date());
  for (const node of document.querySelectorAll("[data-since]")) {
    node.textContent = `waiting ${since(node.dataset.since)}`;
  }
}

// -- cameras ------------------------------------------------------------------------------

function renderCameras() {
  const strip = document.getElementById("cameras");
  strip.replaceChildren();
  for (const health of page.state.cameras || []) {
    const status = String(health.status || "unknown");
    strip.append(
      el(
        "div",
        { class: `camera ${status === "online" ? "cam-ok" : "cam-bad"}`, "data-camera": health.camera_id },
        el("span", { class: "cam-id" }, health.camera_id),
        el("span", { class: "cam-status" }, status.toUpperCase().replace(/_/g, " ")),
        health.detail ? el("span", { class: "cam-detail" }, health.detail) : null,
      ),
    );
  }
}

// -- alert list ---------------------------------------------------------------------------

function filters() {
  return {
    severity: document.getElementById("filter-severity").value,
    zone: document.getElementById("filter-zone").value,
    state: document.getElementById("filter-state").value,
    search: document.getElementById("search").value.trim().toUpperCase(),
  };
}

function shown(alert, wanted) {
  if (wanted.severity && alert.severity !== wanted.severity) return false;
  if (wanted.zone && alert.zone_id !== wanted.zone) return false;
  if (wanted.state === "open" && !alert.open) return false;
  if (wanted.state && wanted.state !== "open" && alert.state !== wanted.state) return false;
  if (wanted.search && !alert.container_numbers.some((n) => n.includes(wanted.search))) {
    return false;
  }
  return true;
}

function renderZoneFilter(alerts) {
  const select = document.getElementById("filter-zone");
  const zones = [...new Set([...page.zones, ...alerts.map((a) => a.zone_id)])].sort();
  const have = [...select.options].map((o) => o.value).filter(Boolean);
  if (have.join() === zones.join()) return;
  const current = select.value;
  select.replaceChildren(el("option", { value: "" }, "all"), ...zones.map((z) => el("option", { value: z }, z)));
  select.value = zones.includes(current) ? current : "";
}

function alertRow(alert) {
  const risk = alert.at_risk;
  const handled =
    alert.time_to_acknowledge_seconds !== null
      ? el("span", { class: "alert-tta" }, `acknowledged after ${duration(alert.time_to_acknowledge_seconds)}`)
      : alert.state === "unacknowledged"
        ? el("span", { class: "alert-tta waiting", "data-since": alert.first_published_at }, `waiting ${since(alert.first_published_at)}`)
        : null;
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
      el(
        "span",
        { class: "alert-line" },
        el("span", { class: "alert-zone" }, alert.zone_id),
        risk ? el("span", { class: "alert-container mono" }, risk.container_number) : null,
        risk ? el("span", { class: "alert-condition" }, CONDITION_SHORT[risk.condition]) : null,
        !risk ? el("span", { class: "alert-condition" }, `${alert.containers_in_zone} containers in zone`) : null,
      ),
      el("span", { class: "alert-reason", title: alert.reason }, alert.reason),
      alert.upgraded_from
        ? el("span", { class: "upgrade" }, `▲ raised from ${SEVERITY_WORD[alert.upgraded_from]} (rev ${alert.revision})`)
        : null,
      el(
        "span",
        { class: "alert-meta" },
        el("span", { class: "alert-time" }, siteTime(alert.raised_at)),
        el("span", { class: "alert-camera" }, alert.camera_id),
        handled,
        alert.assignee ? el("span", { class: "alert-assignee" }, `→ ${alert.assignee}`) : null,
      ),
    ),
    el("span", { class: "alert-state" }, stateWords(alert)),
  );
  row.addEventListener("click", () => select(alert.alert_id));
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter") select(alert.alert_id);
  });
  return row;
}

function renderAlerts() {
  const list = document.getElementById("alert-list");
  const every = page.state.alerts || [];
  renderZoneFilter(every);
  const wanted = filters();
  const alerts = every.filter((a) => shown(a, wanted));
  list.replaceChildren(...alerts.map(alertRow));
  document.getElementById("no-alerts").hidden = alerts.length > 0;
  document.getElementById("no-alerts").textContent = every.length
    ? "No alert matches the filters."
    : "No open alerts.";
  document.getElementById("shown-count").textContent = `${alerts.length} of ${every.length}`;
}

// -- views --------------------------------------------------------------------------------

function showView(view) {
  page.view = view;
  for (const tab of document.querySelectorAll(".tab")) {
    tab.classList.toggle("active", tab.dataset.view === view);
    tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  }
  for (const name of ["detail", "live", "yard"]) {
    document.getElementById(name).hidden = name !== view;
  }
  liveView.show(view === "live");
  yardView.show(view === "yard");
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
  showView("detail");
  renderAlerts();
  await refreshDetail(true);
}
window.selectAlert = select;

async function refreshDetail(force) {
  const summary = page.selected && summaryOf(page.selected);
  if (!summary) return;
  const key = `${detailKey(summary)}/${page.state.version}`;
  if (!force && key === page.detailKey) return;
  const detail = await getJson(`/api/alerts/${encodeURIComponent(page.selected)}`);
  if (detail.alert_id !== page.selected) return; // another alert was picked meanwhile
  page.detail = detail;
  page.detailKey = key;
  renderDetail(detail);
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
  document.getElementById("action-log").replaceChildren(
    ...(page.state.actions || []).map((a) =>
      el(
        "li",
        {},
        el("span", { class: "log-time" }, siteTime(a.at)),
        ` ${a.operator} ${actionWords(a)} ${a.alert_id} (rev ${a.alert_revision}): ${a.reason}`,
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
    alarm.observe(state.alerts);
    renderAlerts();
    refreshDetail(false).catch(() => {});
    yardView.refresh(false).catch(() => {});
  }
  if (state.actions) renderActionLog();
  if (page.me.role === "engineer") qualityView.refresh(state.version).catch(() => {});
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
  siteClock.use(page.me.time_zone);
  page.zones = [];
  document.body.dataset.role = page.me.role;
  const readsAlerts = page.me.role === "operator" || page.me.role === "auditor";
  document.getElementById("alerts-column").hidden = !readsAlerts;
  document.getElementById("views").hidden = !readsAlerts;
  document.getElementById("action-log-column").hidden = page.me.role !== "auditor";
  if (page.me.role === "engineer" || page.me.role === "auditor") renderEngineer().catch(() => {});
  if (readsAlerts) {
    getJson("/api/yard")
      .then((zones) => {
        page.zones = zones.map((z) => z.zone_id);
        if (page.state && page.state.alerts) renderAlerts();
      })
      .catch(() => {});
  }
  if (page.me.may_act) {
    getJson("/api/operators")
      .then((operators) => {
        document
          .getElementById("assignee")
          .replaceChildren(...operators.map((o) => el("option", { value: o.name }, o.name)));
      })
      .catch(() => {});
  }
  for (const id of ["filter-severity", "filter-zone", "filter-state", "search"]) {
    document.getElementById(id).addEventListener("input", renderAlerts);
  }
  for (const button of document.querySelectorAll("#action-panel button")) {
    button.addEventListener("click", () => act(button));
  }
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => showView(tab.dataset.view));
  }
  const snapshot = document.getElementById("snapshot");
  snapshot.addEventListener("click", openLightbox);
  snapshot.addEventListener("keydown", (event) => {
    if (event.key === "Enter") openLightbox();
  });
  document.getElementById("lightbox").addEventListener("click", closeLightbox);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeLightbox();
  });
  alarm.setup();
  // Until an alert is picked, the cameras fill the space the detail will take.
  showView(readsAlerts ? "live" : "detail");
  renderHeader();
  tick();
  setInterval(tick, 1000);
  connect();
}

start();
