// 市级平台同步: the city link's card on the floor page (managers and admins). What waits for the city, the
// oldest record not yet acknowledged, the last acknowledgement and whether the bridge is up. Refreshed
// every 15 s from GET /api/v1/sync/status; a hall without a city link says so and keeps its records.
import { $, api, clockTime, currentUser, duration, el } from "./common.js";

const REFRESH_MS = 15000;

function line(label, value, cls = "") {
  return el("div", { class: `city-line ${cls}` }, el("span", { class: "muted" }, `${label}：`), value);
}

function render(s) {
  const body = $("#city-link");
  const state = s.link === "up" ? "ok" : s.link === "down" || s.link === "no_bus" ? "bad" : "";
  const lines = [
    line("连接", el("span", { class: `badge ${state}`, id: "city-link-state" }, s.link_label)),
    s.enabled ? line("大厅编码", `${s.hall_code}（${s.city}）`) : null,
    line("待上报", el("strong", { id: "city-link-backlog" }, `${s.backlog} 条`)),
    s.backlog
      ? line("最早未确认", `${clockTime(s.oldest_unacked_at, true)}（${duration(s.oldest_unacked_age_s)}前）`)
      : null,
    s.enabled ? line("最近确认", s.last_ack_at ? `${clockTime(s.last_ack_at, true)}，至第 ${s.acked_upto} 条` : "尚无") : null,
    s.backlog_by_stream.length
      ? el("div", { class: "muted small" }, s.backlog_by_stream.map((b) => `${b.label} ${b.count}`).join(" · "))
      : null,
  ];
  body.replaceChildren(...lines.filter(Boolean));
}

async function refresh() {
  const status = await api("sync/status", { quiet: true }).catch(() => null);
  if (status) render(status);
}

function start() {
  const user = currentUser();
  if (!user || !["manager", "admin"].includes(user.role)) return;
  $("#city-link-panel").classList.remove("hidden");
  refresh();
  setInterval(refresh, REFRESH_MS);
}

// The floor page marks itself ready after its login check (floor.js); start after it.
if (document.body.dataset.ready === "1") start();
else new MutationObserver((_, obs) => {
  if (document.body.dataset.ready === "1") {
    obs.disconnect();
    start();
  }
}).observe(document.body, { attributes: true, attributeFilter: ["data-ready"] });
