// 绿色通道待核实: kiosks whose citizen asked for the green channel for a reason only staff can check (残疾人,
// 孕妇 …). Staff on the floor look, then confirm (the server issues the L ticket for the card read at that
// kiosk, which shows and prints it) or decline (the kiosk explains and offers a normal ticket). Only a masked
// name is ever shown here. Refreshed when the floor's alerts change (each request raises a 呼叫 alert).
import { $, api, clockTime, el, toast } from "./common.js";

const ACTORS = ["staff", "chief", "manager"]; // who may answer a request (the server checks the same)
let canAct = false;
let shown = "";

function row(r) {
  return el(
    "li",
    { class: "green-request", id: `green-${r.id}`, dataset: { id: r.id } },
    el("div", { class: "title" }, `${r.device_name}（${r.location}）：${r.reason}`),
    el("div", { class: "detail" }, `${r.masked_name || "—"} · ${clockTime(r.at)} 起等候，${clockTime(r.expires_at)} 前有效`),
    canAct
      ? el(
          "div",
          { class: "toolbar" },
          el("button", { class: "btn btn-small green-confirm", onclick: () => answer(r, "confirm") }, "核实通过并取号"),
          el("button", { class: "btn btn-small green-decline", onclick: () => answer(r, "decline") }, "不符合条件"),
        )
      : null,
  );
}

async function answer(r, what) {
  const out = await api(`green-requests/${r.id}/${what}`, { method: "POST" }).catch(() => null);
  if (out && what === "confirm") toast(`已为${r.device_name}前的群众发放绿色通道号 ${out.ticket}`, "ok");
  else if (out) toast(`已告知${r.device_name}：暂不符合绿色通道条件`, "info");
  await refreshGreen();
}

export async function refreshGreen() {
  const list = await api("green-requests", { quiet: true }).catch(() => null);
  if (list === null) return;
  shown = list.map((r) => r.id).join(",");
  const items = list.map(row);
  $("#green-requests").replaceChildren(...(items.length ? items : [el("li", { class: "empty" }, "暂无待核实请求")]));
  $("#green-count").textContent = list.length;
  $("#green-count").className = `badge ${list.length ? "warn" : "ok"}`;
}

// Called with the floor's alerts: refresh when the open 呼叫 alerts changed (a new or answered request).
export function greenAlerts(alerts) {
  const keys = alerts.filter((a) => a.kind === "assist").map((a) => a.key).join(",");
  if (keys !== greenAlerts.last) {
    greenAlerts.last = keys;
    refreshGreen();
  }
}

export function initGreen(user) {
  canAct = ACTORS.includes(user.role);
  $("#green-panel").classList.toggle("hidden", !canAct);
  if (canAct) refreshGreen();
  return shown;
}
