// The opened alert: its evidence (snapshot with its lightbox, clip), facts, containers,
// sightings and history, and the operator's actions on it.
"use strict";

function fact(list, term, value) {
  list.append(el("dt", {}, term), el("dd", {}, value === null || value === "" ? "—" : value));
}

function renderEvidence(detail) {
  const image = document.getElementById("snapshot");
  const note = document.getElementById("snapshot-note");
  if (detail.snapshot_sha256) {
    const source = `/snapshots/${detail.snapshot_sha256}`;
    if (image.getAttribute("src") !== source) image.src = source;
    image.hidden = false;
    note.textContent = `Snapshot · ${siteTime(detail.event_time)} · select to enlarge`;
  } else {
    image.hidden = true;
    image.removeAttribute("src");
    note.textContent = "No snapshot for this alert.";
  }
  const video = document.getElementById("clip");
  const clipNote = document.getElementById("clip-note");
  if (detail.clip_sha256) {
    const source = `/clips/${detail.clip_sha256}.webm`;
    if (video.getAttribute("src") !== source) video.src = source;
    video.hidden = false;
    clipNote.textContent = "Clip: the seconds before and after the first sighting";
  } else {
    video.hidden = true;
    video.removeAttribute("src");
    clipNote.textContent = "The clip is written a few seconds after the sighting.";
  }
}

function containerRows(detail) {
  const rows = detail.containers.map((container) =>
    el(
      "tr",
      { class: `cond-${container.condition}` },
      el("td", { class: "mono nowrap" }, container.container_number),
      el("td", {}, CONDITION_SHORT[container.condition]),
      el("td", {}, [container.yard_block, container.yard_position].filter(Boolean).join(" / ")),
      el("td", {}, siteTime(container.discharged_at)),
      el("td", {}, siteTime(container.selected_for_inspection_at || container.selected_for_scan_at)),
      el(
        "td",
        {},
        container.inspection_started_at
          ? `${siteTime(container.inspection_started_at)} – ${
              container.inspection_finished_at ? siteTime(container.inspection_finished_at) : "…"
            }`
          : "not inspected",
      ),
      el("td", {}, siteTime(container.released_at)),
    ),
  );
  return rows.length ? rows : [el("tr", {}, el("td", { colSpan: 7 }, "No containers involved."))];
}

function renderDetail(detail) {
  document.getElementById("detail-empty").hidden = true;
  document.getElementById("detail-body").hidden = false;
  const panel = document.getElementById("detail");
  panel.className = `detail view sev-${detail.severity}`;
  document.getElementById("detail-head").replaceChildren(
    el("span", { class: "sev-badge" }, SEVERITY_WORD[detail.severity]),
    el("span", { class: "detail-title" }, `${detail.zone_id} · ${detail.camera_id}`),
    el("span", { class: "detail-state", id: "detail-state" }, stateWords(detail)),
  );
  document.getElementById("detail-reason").textContent = detail.reason;
  const upgrade = document.getElementById("detail-upgrade");
  upgrade.hidden = !detail.upgraded_from;
  upgrade.textContent = detail.upgraded_from
    ? `▲ Raised from ${SEVERITY_WORD[detail.upgraded_from]} at revision ${detail.revision}: ${detail.reason}`
    : "";
  renderEvidence(detail);

  const facts = document.getElementById("detail-facts");
  facts.replaceChildren();
  fact(facts, "Seen", siteTime(detail.event_time));
  fact(facts, "Camera · zone", `${detail.camera_id} · ${detail.zone_id}`);
  fact(facts, "Yard blocks", detail.yard_blocks.join(", "));
  fact(facts, "Containers in zone", String(detail.containers_in_zone));
  fact(facts, "On the alerts topic", siteTime(detail.first_published_at));
  fact(facts, "Time to acknowledge", detail.time_to_acknowledge_seconds === null ? "not yet" : duration(detail.time_to_acknowledge_seconds));
  fact(facts, "Assigned to", detail.assignee || "nobody");
  fact(facts, "Terminal facts up to", siteTime(detail.as_of));
  fact(facts, "Revision", String(detail.revision));

  document.getElementById("containers").replaceChildren(...containerRows(detail));

  const sightings = new Map(detail.sightings.map((s) => [s.event_id, s]));
  document.getElementById("access-events").replaceChildren(
    ...detail.access_event_ids.map((id) => {
      const seen = sightings.get(id);
      return seen
        ? el("li", { title: id }, `${siteTime(seen.event_time)} · ${seen.camera_id} · ${seen.zone_id} · ${seen.rule.replace(/_/g, " ")}`)
        : el("li", { title: id, class: "muted" }, "Not read from the access topic yet");
    }),
  );

  document.getElementById("history").replaceChildren(
    ...detail.revisions.map((r) => el("li", {}, `revision ${r.revision}: ${SEVERITY_WORD[r.severity]}`)),
    ...detail.actions.map((a) =>
      el(
        "li",
        { class: "history-action" },
        `${siteTime(a.at)} ${a.operator} ${actionWords(a)} (rev ${a.alert_revision}): ${a.reason}`,
      ),
    ),
  );

  document.getElementById("action-panel").hidden = !(page.me.may_act && detail.open);
}

async function act(button) {
  const reasonBox = document.getElementById("action-reason");
  const result = document.getElementById("action-result");
  const reason = reasonBox.value.trim();
  if (!reason) {
    result.textContent = "Write a reason first.";
    result.className = "action-result bad";
    reasonBox.focus();
    return;
  }
  const action = button.dataset.action;
  const request = { action, reason, revision: page.detail.revision };
  if (action === "shelve") request.shelve_minutes = Number(document.getElementById("shelve-minutes").value);
  if (action === "assign") request.assignee = document.getElementById("assignee").value;
  if (action === "close") request.outcome = button.dataset.outcome;
  const buttons = document.querySelectorAll("#action-panel button");
  for (const each of buttons) each.disabled = true;
  try {
    const answer = await sendJson(`/api/alerts/${encodeURIComponent(page.detail.alert_id)}/actions`, request);
    if (answer.ok) {
      result.textContent = `Recorded: ${actionWords(answer.body)}.`;
      result.className = "action-result ok";
      reasonBox.value = "";
    } else {
      const detail = Array.isArray(answer.body.detail)
        ? answer.body.detail.map((d) => d.msg).join("; ")
        : answer.body.detail;
      result.textContent = `Not recorded (${answer.status}): ${detail || answer.statusText}`;
      result.className = "action-result bad";
    }
  } catch (error) {
    result.textContent = `Not recorded: ${error.message}`;
    result.className = "action-result bad";
  } finally {
    for (const each of buttons) each.disabled = false;
  }
}

// -- lightbox -----------------------------------------------------------------------------

function openLightbox() {
  const image = document.getElementById("snapshot");
  if (!image.src) return;
  document.getElementById("lightbox-image").src = image.src;
  document.getElementById("lightbox").hidden = false;
}

function closeLightbox() {
  document.getElementById("lightbox").hidden = true;
}

