// 大厅监控: every window, queue group, device and alert, kept current by the server's event stream
// (EventSource on /api/v1/live/floor with a one-time ticket; no polling). Managers reallocate windows,
// open/pause/close them, swap A/B staff and broadcast a notice to the displays.
import { $, api, boot, clockTime, duration, el, modal, prompt, toast } from "./common.js";
import { greenAlerts, initGreen } from "./green_requests.js";

const STATUS = { open: ["服务中", "ok"], paused: ["暂停服务", "warn"], closed: ["已关闭", ""] };
const SERVING = { called: "已呼叫", serving: "办理中" };
const DEVICE_ORDER = ["kiosk", "printer", "window_display", "hall_display", "evaluator", "caller"];
const LONG_SERVICE_S = 30 * 60; // a visit this long is shown in red
const LIVE_KINDS = ["windows", "groups", "devices", "alerts", "calls", "notice"];
const state = {
  windows: new Map(),
  groups: [],
  devices: new Map(),
  alerts: [],
  calls: [],
  notice: null,
  skew: 0, // server clock − browser clock, ms
  lastId: null,
  source: null,
  retry: 1000,
  canAct: false,
};
window.__floor = { events: [] }; // arrival log for tests and the benchmark: [{kind, at: Date.now()}]

function groupName(code) {
  const g = state.groups.find((x) => x.group === code);
  return g ? g.name : code;
}

function serverNow() {
  return Date.now() + state.skew;
}

// --- rendering ---

function windowCard(w) {
  const [label, cls] = STATUS[w.status] || [w.status, ""];
  const since = w.started_at || w.called_at;
  const serving = w.serving
    ? [
        el("span", { class: "ticket" }, w.serving),
        el("span", { class: "badge info" }, SERVING[w.serving_state] || w.serving_state),
        el("span", { class: "elapsed", dataset: { since } }, ""),
      ]
    : el("span", { class: "idle" }, w.status === "open" ? "空闲，等待叫号" : "—");
  const other = w.staff_role === "A" ? w.staff_b : w.staff_a;
  const card = el(
    "div",
    { class: `wcard ${w.status}`, id: `win-${w.id}`, dataset: { window: w.id, status: w.status } },
    el(
      "div",
      { class: "wcard-head" },
      el("strong", {}, w.name),
      el("span", { class: "muted small" }, w.kind),
      el("span", { class: `badge ${cls}` }, label),
    ),
    el(
      "div",
      { class: "staff", title: `A角：${w.staff_a ? w.staff_a.name : "—"}；B角：${w.staff_b ? w.staff_b.name : "—"}` },
      `${w.staff_role}角在岗：`,
      el("b", { class: "on-duty" }, w.on_duty || "—"),
      other ? `（${w.staff_role === "A" ? "B" : "A"}角 ${other.name}）` : "",
    ),
    el("div", { class: "serving-line" }, serving),
    w.suspended.length ? el("div", { class: "reason" }, `挂起：${w.suspended.join("、")}`) : null,
    w.status !== "open" && w.status_reason ? el("div", { class: "reason" }, w.status_reason) : null,
    el("div", { class: "tags" }, w.groups.map((g) => el("span", { class: "tag", dataset: { group: g } }, groupName(g)))),
    state.canAct ? windowActions(w) : null,
  );
  return card;
}

function windowActions(w) {
  return el(
    "div",
    { class: "wactions" },
    el("button", { class: "btn act-groups", onclick: () => editGroups(w.id) }, "调整队列"),
    el("button", { class: "btn act-status", onclick: () => editStatus(w.id) }, "开关窗口"),
    w.staff_b ? el("button", { class: "btn act-staff", onclick: () => swapStaff(w.id) }, "切换AB角") : null,
  );
}

function renderWindow(w, flash) {
  state.windows.set(w.id, w);
  const card = windowCard(w);
  const old = document.getElementById(`win-${w.id}`);
  if (old) old.replaceWith(card);
  else renderWindows();
  if (flash && old) card.classList.add("flash");
  tick();
}

function renderWindows() {
  const list = [...state.windows.values()].sort((a, b) => a.number - b.number);
  $("#windows").replaceChildren(...list.map(windowCard));
  tick();
}

function renderSummary() {
  const ws = [...state.windows.values()];
  const devices = [...state.devices.values()];
  const count = (f) => ws.filter(f).length;
  const stat = (label, value, id, cls) =>
    el("div", { class: `stat ${cls || ""}`, id }, el("span", { class: "stat-label" }, label), el("span", { class: "stat-value" }, value));
  const waiting = state.groups.reduce((n, g) => n + g.waiting, 0);
  const critical = state.alerts.filter((a) => a.level === "critical").length;
  $("#floor-stats").replaceChildren(
    stat("开放窗口", `${count((w) => w.status === "open")}/${ws.length}`, "stat-open"),
    stat("暂停/关闭", `${count((w) => w.status === "paused")}/${count((w) => w.status === "closed")}`, "stat-paused"),
    stat("正在办理", count((w) => w.serving), "stat-serving"),
    stat("等候人数", waiting, "stat-waiting"),
    stat("设备在线", `${devices.filter((d) => d.online).length}/${devices.length}`, "stat-devices"),
    stat("严重告警", critical, "stat-critical", critical ? "stat-bad" : ""),
  );
  $("#window-count").textContent = `共${ws.length}个`;
}

function renderGroups() {
  const head = el("tr", {}, ["队列", "等候", "最长等候", "预计等候", "开放窗口"].map((h, i) => el("th", { class: i ? "num" : "" }, h)));
  const rows = state.groups.map((g) =>
    el(
      "tr",
      { class: g.alert ? "alerting" : "", dataset: { group: g.group } },
      el("td", {}, `${g.prefix} ${g.name}`),
      el("td", { class: "num waiting" }, g.waiting),
      el("td", { class: "num" }, g.waiting ? `${g.longest_wait_min}分` : "—"),
      el("td", { class: "num" }, g.estimated_wait_min === null ? (g.waiting ? "无窗口" : "—") : `${g.estimated_wait_min}分`),
      el("td", { class: "num open-windows", title: "为该队列服务的开放窗口数" }, g.windows_open),
    ),
  );
  $("#groups").replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
}

function renderAlerts() {
  const items = state.alerts.map((a) =>
    el(
      "li",
      { class: a.level, dataset: { key: a.key, kind: a.kind } },
      el("div", { class: "title" }, a.title),
      el("div", { class: "detail" }, a.detail, a.at ? ` · ${clockTime(a.at)}` : ""),
    ),
  );
  $("#alerts").replaceChildren(...(items.length ? items : [el("li", { class: "empty" }, "一切正常")]));
  const serious = state.alerts.filter((a) => a.level !== "info").length;
  $("#alert-count").textContent = serious;
  $("#alert-count").className = `badge ${serious ? "bad" : "ok"}`;
}

function deviceChip(d) {
  const cls = ["dchip", d.online ? "online" : d.ever_seen ? "offline" : "unseen"];
  if (d.paper && d.paper !== "ok") cls.push(`paper-${d.paper}`);
  const status = d.online ? "在线" : d.ever_seen ? "离线" : "未上线";
  return el(
    "span",
    { class: cls.join(" "), id: `dev-${d.id}`, dataset: { device: d.id, online: d.online ? "1" : "0" }, title: `${d.name}（${d.location}）：${status}` },
    d.name,
    d.online ? null : el("span", { class: "state" }, status),
    d.paper && d.paper !== "ok" ? el("span", { class: "paper" }, d.paper_label) : null,
  );
}

function renderDevices() {
  const all = [...state.devices.values()];
  if (!all.length) {
    $("#devices").replaceChildren(el("p", { class: "muted" }, "未启用消息总线，无设备状态。"));
    return;
  }
  const groups = DEVICE_ORDER.map((type) => all.filter((d) => d.type === type)).filter((list) => list.length);
  $("#devices").replaceChildren(
    ...groups.map((list) =>
      el(
        "div",
        { class: "device-group" },
        el("h3", {}, `${list[0].type_label}（在线 ${list.filter((d) => d.online).length}/${list.length}）`),
        el("div", { class: "device-chips" }, list.map(deviceChip)),
      ),
    ),
  );
  $("#device-count").textContent = `在线${all.filter((d) => d.online).length}台，共${all.length}台`;
}

function renderDevice(d) {
  state.devices.set(d.id, d);
  const old = document.getElementById(`dev-${d.id}`);
  if (old) old.replaceWith(deviceChip(d));
  else renderDevices();
}

function renderCalls() {
  const items = state.calls.slice(0, 8).map((c) => el("li", {}, el("b", {}, clockTime(c.ts)), " ", c.text));
  $("#calls").replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "暂无")]));
}

function renderNotice() {
  $("#notice-text").textContent = state.notice || "无";
  $("#notice-panel").classList.toggle("on", Boolean(state.notice));
}

// Time serving, from the server's timestamps (a display timer: nothing is fetched).
function tick() {
  for (const span of document.querySelectorAll(".elapsed[data-since]")) {
    const s = (serverNow() - Date.parse(span.dataset.since)) / 1000;
    span.textContent = duration(s);
    span.classList.toggle("long", s >= LONG_SERVICE_S);
  }
}

// --- state from the server ---

function applySnapshot(snap) {
  state.skew = Date.parse(snap.now) - Date.now();
  state.windows = new Map(snap.windows.map((w) => [w.id, w]));
  state.groups = snap.groups;
  state.devices = new Map(snap.devices.map((d) => [d.id, d]));
  state.alerts = snap.alerts;
  state.calls = snap.calls || [];
  state.notice = snap.notice;
  state.lastId = snap.event_id;
  renderWindows();
  renderGroups();
  renderDevices();
  renderAlerts();
  renderNotice();
  renderCalls();
  renderSummary();
}

function applyEvent(kind, data) {
  if (kind === "windows") data.windows.forEach((w) => renderWindow(w, true));
  else if (kind === "groups") {
    state.groups = data.groups;
    renderGroups();
  } else if (kind === "devices") data.devices.forEach(renderDevice);
  else if (kind === "alerts") {
    state.alerts = data.alerts;
    renderAlerts();
    greenAlerts(data.alerts); // 绿色通道待核实 (green_requests.js)
  } else if (kind === "calls") {
    // Newest first; a call replayed after a snapshot that already had it is shown once.
    const fresh = data.calls.slice().reverse();
    const ids = new Set(fresh.map((c) => c.call_id));
    state.calls = [...fresh, ...state.calls.filter((c) => !ids.has(c.call_id))].slice(0, 20);
    renderCalls();
  } else if (kind === "notice") {
    state.notice = data.notice;
    renderNotice();
  }
  renderSummary();
}

function setLive(text, cls) {
  const badge = $("#live-state");
  badge.textContent = text;
  badge.className = `badge ${cls}`;
}

// Open the stream with a fresh one-time ticket; resume after `lastId` (the server replays what was
// missed, or sends a whole snapshot when it cannot). On error: close, wait, reconnect the same way.
async function connect() {
  if (state.source) state.source.close();
  let ticket;
  try {
    ticket = await api("live/tickets", { method: "POST", quiet: true });
  } catch (e) {
    return reconnectLater(e.status === 403 ? "无权接收实时数据" : "实时连接失败，正在重试");
  }
  const query = new URLSearchParams({ ticket: ticket.ticket });
  if (state.lastId) query.set("last_event_id", state.lastId);
  const source = new EventSource(`/api/v1/live/floor?${query}`);
  state.source = source;
  source.onopen = () => {
    state.retry = 1000;
    window.__floor.opened = (window.__floor.opened || 0) + 1;
    setLive("实时", "live");
  };
  source.addEventListener("snapshot", (e) => {
    applySnapshot(JSON.parse(e.data));
    window.__floor.events.push({ kind: "snapshot", at: Date.now() });
  });
  for (const kind of LIVE_KINDS) {
    source.addEventListener(kind, (e) => {
      state.lastId = e.lastEventId || state.lastId;
      applyEvent(kind, JSON.parse(e.data));
      window.__floor.events.push({ kind, at: Date.now() });
    });
  }
  source.addEventListener("resync", () => {
    state.lastId = null; // too far behind: start again from a snapshot
    connect();
  });
  source.onerror = () => {
    source.close();
    reconnectLater("连接中断，正在重连…");
  };
}

function reconnectLater(message) {
  setLive(message, "down");
  setTimeout(connect, state.retry);
  state.retry = Math.min(state.retry * 2, 30000);
}

// --- manager actions (the stream shows their effect; the response updates this page at once) ---

async function editGroups(windowId) {
  const w = state.windows.get(windowId);
  const chosen = await modal(`调整${w.name}办理的队列`, (close) => {
    const boxes = state.groups.map((g) =>
      el("label", {}, el("input", { type: "checkbox", name: "group", value: g.group, checked: w.groups.includes(g.group) }), ` ${g.prefix} ${g.name}`),
    );
    return el(
      "form",
      {
        id: "groups-form",
        onsubmit: (e) => {
          e.preventDefault();
          const picked = [...e.target.querySelectorAll("input:checked")].map((i) => i.value);
          if (!picked.length) return toast("至少选择一个队列；如需停办请暂停或关闭窗口", "bad");
          close(picked);
        },
      },
      el("p", { class: "muted small" }, "保存后立即生效：该窗口下一次叫号只从所选队列中选号。"),
      el("div", { class: "checks group-checks" }, boxes),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", class: "btn", onclick: () => close(null) }, "取消"),
        el("button", { type: "submit", class: "btn btn-primary", id: "groups-save" }, "保存"),
      ),
    );
  });
  if (!chosen) return;
  const view = await api(`windows/${windowId}/groups`, { method: "PUT", body: { groups: chosen } });
  toast(`${view.name}已调整为：${view.groups.map(groupName).join("、")}`, "ok");
}

async function editStatus(windowId) {
  const w = state.windows.get(windowId);
  const choice = await modal(`${w.name}：开放、暂停或关闭`, (close) => {
    const reason = el("input", { class: "input", name: "reason", maxlength: 100, placeholder: "如：午间轮休、系统维护" });
    const radios = Object.entries(STATUS).map(([value, [label]]) =>
      el("label", {}, el("input", { type: "radio", name: "status", value, checked: value === w.status }), label),
    );
    return el(
      "form",
      {
        id: "status-form",
        onsubmit: (e) => {
          e.preventDefault();
          const picked = e.target.querySelector("input[name=status]:checked");
          close({ status: picked.value, reason: reason.value.trim() || null });
        },
      },
      el("div", { class: "choice" }, radios),
      el("label", { class: "field" }, el("span", {}, "原因（显示在窗口屏上，可不填）"), reason),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", class: "btn", onclick: () => close(null) }, "取消"),
        el("button", { type: "submit", class: "btn btn-primary", id: "status-save" }, "确定"),
      ),
    );
  });
  if (!choice) return;
  const view = await api(`windows/${windowId}/status`, { method: "PUT", body: choice });
  toast(`${view.name}：${STATUS[view.status][0]}`, "ok");
}

async function swapStaff(windowId) {
  const w = state.windows.get(windowId);
  const role = w.staff_role === "A" ? "B" : "A";
  const next = role === "A" ? w.staff_a : w.staff_b;
  const view = await api(`windows/${windowId}/staff`, { method: "PUT", body: { role } });
  toast(`${view.name}改由${role}角 ${next ? next.name : ""} 在岗`, "ok");
}

async function postNotice() {
  const message = await prompt("向所有显示屏发布通知", "通知内容（2–120字）", { min: 2, max: 120, ok: "发布", name: "notice" });
  if (!message) return;
  const out = await api("notices", { body: { message } });
  state.notice = out.message;
  renderNotice();
  toast(`已发布到${out.displays}块显示屏`, "ok");
}

async function clearNotice() {
  const out = await api("notices", { method: "DELETE" });
  state.notice = null;
  renderNotice();
  toast(`已从${out.displays}块显示屏撤下通知`, "ok");
}

// --- start ---

const user = await boot();
if (user) {
  state.canAct = ["manager", "admin"].includes(user.role);
  document.querySelectorAll(".manager-only").forEach((n) => n.classList.toggle("hidden", !state.canAct));
  $("#notice-post").addEventListener("click", postNotice);
  $("#notice-clear").addEventListener("click", clearNotice);
  applySnapshot(await api("floor"));
  initGreen(user);
  performance.mark("floor-rendered");
  document.body.dataset.ready = "1";
  setInterval(tick, 1000);
  connect();
}
