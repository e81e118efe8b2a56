// The two views beside the alert detail: each camera's live frame, and the yard map that
// places the zones (as drawn in their camera's picture) with the containers in their blocks;
// and the engineer's alarm quality, per zone and rule.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const CONDITION_WORD = {
  selected_not_inspected: "selected, not inspected",
  under_inspection: "under inspection",
  freshly_discharged: "freshly discharged",
  inspected_not_released: "inspected, not released",
  released: "released",
  in_yard: "in yard",
};

function svg(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

// -- live view ----------------------------------------------------------------------------

const liveView = {
  timer: null,

  show(visible) {
    clearInterval(this.timer);
    this.timer = null;
    if (!visible) return;
    this.refresh();
    this.timer = setInterval(() => this.refresh(), 1000);
  },

  async refresh() {
    let frames;
    try {
      frames = await getJson("/api/live");
    } catch (error) {
      return; // the next tick tries again
    }
    const box = document.getElementById("live-frames");
    document.getElementById("live-empty").hidden = frames.length > 0;
    for (const frame of frames) {
      let tile = box.querySelector(`[data-camera="${CSS.escape(frame.camera_id)}"]`);
      if (!tile) {
        tile = el(
          "figure",
          { class: "live-frame", "data-camera": frame.camera_id },
          el("img", { alt: `Live view of ${frame.camera_id}` }),
          el("figcaption", {}),
        );
        box.append(tile);
      }
      const image = tile.querySelector("img");
      if (image.dataset.url === frame.url) continue;
      image.dataset.url = frame.url;
      // The time is set once the frame has loaded, so it always describes the picture shown.
      image.onload = () => {
        image.dataset.writtenAt = frame.written_at;
        tile.querySelector("figcaption").textContent =
          `${frame.camera_id} · latest frame, sent ${siteTime(frame.written_at)}`;
      };
      image.src = frame.url;
    }
  },
};

// -- yard map -----------------------------------------------------------------------------

const yardView = {
  visible: false,
  drawnVersion: -1,

  show(visible) {
    this.visible = visible;
    if (visible) this.refresh(true);
  },

  async refresh(force) {
    if (!this.visible) return;
    const version = page.state ? page.state.version : 0;
    if (!force && version === this.drawnVersion) return;
    this.drawnVersion = version;
    const zones = await getJson("/api/yard");
    this.draw(zones);
  },

  draw(zones) {
    const map = document.getElementById("yard-map");
    map.replaceChildren();
    const alerting = new Set(
      ((page.state && page.state.alerts) || [])
        .filter((a) => a.open && a.state !== "expected" && a.state !== "shelved")
        .map((a) => a.zone_id),
    );
    const cameras = [...new Set(zones.map((z) => z.camera_id))];
    for (const camera of cameras) {
      const own = zones.filter((z) => z.camera_id === camera);
      const points = own.flatMap((z) => z.polygon);
      const width = Math.max(...points.map((p) => p[0])) + 20;
      const height = Math.max(...points.map((p) => p[1])) + 20;
      const picture = svg("svg", {
        viewBox: `0 0 ${width} ${height}`,
        class: "yard-picture",
        role: "img",
        "aria-label": `Zones of ${camera}`,
      });
      picture.append(svg("rect", { x: 0, y: 0, width, height, class: "yard-ground" }));
      for (const zone of own) {
        const shape = svg("polygon", {
          points: zone.polygon.map((p) => p.join(",")).join(" "),
          class: `zone-shape cond-${zone.worst || "none"}${alerting.has(zone.zone_id) ? " alerting" : ""}`,
          "data-zone": zone.zone_id,
        });
        shape.append(svg("title", {}, zone.zone_id));
        picture.append(shape);
        const [x, y] = zone.polygon.reduce((a, p) => [a[0] + p[0], a[1] + p[1]], [0, 0]);
        const cx = x / zone.polygon.length;
        const cy = y / zone.polygon.length;
        picture.append(
          svg("text", { x: cx, y: cy, class: "zone-label" }, zone.zone_id),
          svg(
            "text",
            { x: cx, y: cy + 18, class: "zone-label small" },
            `${zone.yard_blocks.join(", ")} · ${zone.containers.length} containers`,
          ),
        );
      }
      const tiles = el("div", { class: "zone-tiles" });
      for (const zone of own) {
        tiles.append(
          el(
            "div",
            { class: `zone-tile cond-${zone.worst || "none"}`, "data-zone": zone.zone_id },
            el(
              "div",
              { class: "zone-tile-head" },
              el("strong", {}, zone.zone_id),
              ` blocks ${zone.yard_blocks.join(", ")}`,
              alerting.has(zone.zone_id) ? el("span", { class: "zone-alert" }, "open alert") : null,
            ),
            zone.containers.length
              ? el(
                  "ul",
                  { class: "chips" },
                  ...zone.containers.map((c) =>
                    el(
                      "li",
                      {
                        class: `chip cond-${c.condition}`,
                        title: `${CONDITION_WORD[c.condition]} · ${c.yard_position || c.yard_block}`,
                        "data-container": c.container_number,
                      },
                      c.container_number,
                    ),
                  ),
                )
              : el("p", { class: "muted" }, "No containers known here."),
          ),
        );
      }
      map.append(el("figure", { class: "yard-camera" }, picture, el("figcaption", {}, camera)), tiles);
    }
  },
};

// -- alarm quality (engineers) ------------------------------------------------------------

function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)} %`;
}

const qualityView = {
  drawnVersion: -1,
  loading: false,

  // Read again whenever the board changed (every push carries its version), one at a time.
  async refresh(version) {
    if (this.loading || version === this.drawnVersion) return;
    this.loading = true;
    try {
      const quality = await getJson("/api/quality");
      this.drawnVersion = version;
      this.draw(quality);
    } finally {
      this.loading = false;
    }
  },

  draw(quality) {
    const line = (zone, head) =>
      el(
        "tr",
        { class: head ? "quality-total" : "", "data-zone": zone.zone_id, "data-rule": zone.rule },
        el("td", {}, zone.zone_id),
        el("td", {}, zone.rule),
        el("td", {}, zone.raised),
        el("td", {}, zone.open),
        el("td", {}, zone.closed),
        el("td", {}, zone.confirmed_incidents),
        el("td", {}, zone.false_alarms),
        el("td", {}, zone.authorised_presences),
        el("td", { class: "rate" }, percent(zone.false_alarm_rate)),
      );
    document
      .getElementById("quality-rows")
      .replaceChildren(...quality.zones.map((zone) => line(zone, false)), line(quality.site, true));
    document.getElementById("quality-since").textContent = quality.since
      ? `alerts since ${siteTime(quality.since)}`
      : "no alerts yet";
    document.getElementById("quality").hidden = false;
  },
};
