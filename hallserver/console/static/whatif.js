// 调度推演: try a window reallocation, extra windows or an overflow rule on the rest of today and compare the
// predicted waits, cap violations and utilisation with the hall as it is; apply the reallocation; edit the
// overflow rules kept in hall.yaml. Hall managers and admins only (the API enforces it).
import { $, api, boot, el, modal, toast } from "./common.js";

const state = { setup: null, moves: [], extras: [], flows: [], result: null };

const fmt = (v, digits = 1) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));
const groupName = (code) => (state.setup.groups.find((g) => g.code === code) || { name: code }).name;
const groupNames = (codes) => codes.map(groupName).join("、");

function checkboxes(box, items, name) {
  box.replaceChildren(
    ...items.map(([value, label]) =>
      el("label", {}, el("input", { type: "checkbox", name, value }), label),
    ),
  );
}

function checked(box) {
  return [...box.querySelectorAll("input:checked")].map((i) => i.value);
}

function options(select, items) {
  select.replaceChildren(...items.map(([value, label]) => el("option", { value }, label)));
}

function renderBasis() {
  const s = state.setup;
  $("#run").disabled = Boolean(s.closed);
  if (s.closed) {
    $("#basis").textContent = `${s.closed}。分流规则仍可在下方编辑。`;
    return;
  }
  const src = s.source;
  const excluded = src.excluded_windows.length ? `；未计入暂停或关闭的窗口：${src.excluded_windows.join("、")}` : "";
  const pace = src.pace !== 1 ? `，按今日取号进度×${src.pace}调整` : "";
  $("#basis").textContent =
    `现在 ${s.now}，${s.close} 停止取号；开放窗口 ${s.windows.length} 个，正在等候 ${s.waiting_now} 人，` +
    `预计还将取号约 ${s.expected_arrivals} 人（${src.label}${pace}）${excluded}。`;
}

function renderForms() {
  const s = state.setup;
  const groups = s.groups.map((g) => [g.code, g.name]);
  const windows = s.windows.map((w) => [w.id, w.name]);
  const hallWindows = s.hall_windows.map((w) => [w.id, w.name]);
  options($("#move-window"), s.windows.map((w) => [w.id, `${w.name}（现办：${groupNames(w.groups)}）`]));
  checkboxes($("#move-groups"), groups, "move-group");
  checkboxes($("#extra-groups"), groups, "extra-group");
  options($("#flow-group"), groups);
  checkboxes($("#flow-windows"), windows, "flow-window");
  options($("#rule-group"), groups);
  checkboxes($("#rule-windows"), hallWindows, "rule-window");
}

function renderChanges() {
  const items = [
    ...state.moves.map((m, i) => [`${windowName(m.window_id)}改办：${groupNames(m.groups)}`, () => state.moves.splice(i, 1)]),
    ...state.extras.map((x, i) => [`增开 ${x.count} 个窗口办理：${groupNames(x.groups)}`, () => state.extras.splice(i, 1)]),
    ...state.flows.map((f, i) => [
      `试行分流：${groupName(f.group)}等候满 ${f.after_minutes} 分钟可由 ${f.windows.map(windowName).join("、")} 叫号`,
      () => state.flows.splice(i, 1),
    ]),
  ];
  $("#changes").replaceChildren(
    ...(items.length
      ? items.map(([text, drop]) =>
          el(
            "li",
            {},
            el("span", {}, text),
            el("button", { class: "btn btn-small", type: "button", onclick: () => (drop(), renderChanges()) }, "移除"),
          ),
        )
      : [el("li", { class: "muted" }, "尚未添加调整，可直接推演当前配置。")]),
  );
  $("#apply").disabled = !state.moves.length;
}

function windowName(id) {
  const w = state.setup.hall_windows.find((x) => x.id === id);
  return w ? w.name : id;
}

function proposal() {
  const body = { moves: state.moves, extra_windows: state.extras };
  if (state.flows.length) {
    const current = state.setup.overflow.map(({ group, windows, after_minutes }) => ({ group, windows, after_minutes }));
    body.overflow = [...current, ...state.flows];
  }
  return body;
}

const METRICS = [
  ["mean_wait", "平均等候（分钟）", true],
  ["p90_wait", "90%群众等候不超过（分钟）", true],
  ["max_wait", "最长等候（分钟）", true],
  ["cap_violations", null, true],
  ["served", "预计办理人数", false],
  ["unserved", "闭厅时仍在等候", true],
  ["balked", "因等候过长未取号", true],
  ["reneged", "取号后离开", true],
  ["utilisation", "窗口利用率（%）", null],
];

function delta(base, prop, lowerIsBetter) {
  if (base === null || prop === null || base === undefined || prop === undefined) return el("td", { class: "num" }, "—");
  const d = prop - base;
  const text = d === 0 ? "持平" : `${d > 0 ? "+" : ""}${Number.isInteger(d) ? d : d.toFixed(1)}`;
  const good = lowerIsBetter === null || d === 0 ? "" : (d < 0) === lowerIsBetter ? "better" : "worse";
  return el("td", { class: `num delta ${good}` }, text);
}

function renderResult(r) {
  const cap = r.basis.cap_minutes;
  $("#result-note").textContent =
    `${r.basis.now} 至闭厅（${r.basis.close}，取号群众办完为止），含现在等候的 ${r.basis.waiting_now} 人；${r.source.label}`;
  $("#result-changes").textContent = r.changes.length ? `调整方案：${r.changes.join("；")}` : "调整方案：无（当前配置）";
  const row = ([key, label, lower]) =>
    el(
      "tr",
      { dataset: { metric: key } },
      el("td", {}, label || `等候超过 ${cap} 分钟的人数`),
      el("td", { class: "num base" }, fmt(r.baseline[key], Number.isInteger(r.baseline[key]) ? 0 : 1)),
      el("td", { class: "num prop" }, fmt(r.proposal[key], Number.isInteger(r.proposal[key]) ? 0 : 1)),
      delta(r.baseline[key], r.proposal[key], lower),
    );
  $("#summary").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, "预测指标"), el("th", { class: "num" }, "当前配置"), el("th", { class: "num" }, "调整方案"), el("th", { class: "num" }, "变化"))),
    el("tbody", {}, METRICS.map(row)),
  );
  const groups = r.baseline.groups.map((g, i) => {
    const p = r.proposal.groups[i];
    return el(
      "tr",
      { dataset: { group: g.code } },
      el("td", {}, g.name),
      el("td", { class: "num" }, `${fmt(g.mean_wait)} → ${fmt(p.mean_wait)}`),
      el("td", { class: "num" }, `${fmt(g.p90_wait)} → ${fmt(p.p90_wait)}`),
      el("td", { class: "num" }, `${g.cap_violations} → ${p.cap_violations}`),
    );
  });
  $("#groups-table").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, "队列"), el("th", { class: "num" }, "平均等候"), el("th", { class: "num" }, "90%等候"), el("th", { class: "num" }, `超${cap}分钟`))),
    el("tbody", {}, groups),
  );
  const base = Object.fromEntries(r.baseline.windows.map((w) => [w.id, w]));
  const windows = r.proposal.windows.map((w) =>
    el(
      "tr",
      { dataset: { window: w.id }, class: w.extra ? "extra" : "" },
      el("td", {}, w.name),
      el("td", {}, groupNames(w.groups)),
      el("td", { class: "num" }, `${base[w.id] ? fmt(base[w.id].utilisation, 0) : "—"} → ${fmt(w.utilisation, 0)}%`),
      el("td", { class: "num" }, `${base[w.id] ? base[w.id].calls : "—"} → ${w.calls}`),
    ),
  );
  $("#windows-table").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, "窗口"), el("th", {}, "方案中办理"), el("th", { class: "num" }, "利用率"), el("th", { class: "num" }, "叫号数"))),
    el("tbody", {}, windows),
  );
  $("#results").classList.remove("hidden");
}

async function run() {
  const button = $("#run");
  button.disabled = true;
  button.textContent = "推演中…";
  try {
    state.result = await api("whatif", { body: proposal() });
    renderResult(state.result);
    document.body.dataset.result = String(Number(document.body.dataset.result || 0) + 1);
  } catch {
    // the message is already shown
  } finally {
    button.disabled = false;
    button.textContent = "开始推演";
  }
}

async function applyMoves() {
  const lines = state.moves.map((m) => `${windowName(m.window_id)}改办：${groupNames(m.groups)}`);
  const sure = await modal("应用窗口改办", (close) => [
    el("p", {}, "以下调整将立即生效，窗口下一次叫号即按新的队列办理："),
    el("ul", {}, lines.map((l) => el("li", {}, l))),
    el(
      "div",
      { class: "actions" },
      el("button", { class: "btn", type: "button", onclick: () => close(false) }, "取消"),
      el("button", { class: "btn btn-primary", id: "apply-confirm", type: "button", onclick: () => close(true) }, "确认应用"),
    ),
  ]);
  if (!sure) return;
  for (const m of state.moves) {
    await api(`windows/${encodeURIComponent(m.window_id)}/groups`, { method: "PUT", body: { groups: m.groups } });
  }
  toast(`已应用 ${state.moves.length} 项窗口改办`, "ok");
  state.moves = [];
  await loadSetup();
}

function renderRules(rules) {
  state.setup.overflow = rules;
  const rows = rules.map((r) =>
    el(
      "tr",
      { dataset: { index: r.index } },
      el("td", {}, groupName(r.group)),
      el("td", {}, r.windows.map(windowName).join("、")),
      el("td", { class: "num" }, `${r.after_minutes} 分钟`),
      el("td", {}, el("button", { class: "btn btn-small btn-danger", type: "button", onclick: () => removeRule(r) }, "删除")),
    ),
  );
  $("#rules").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, "队列"), el("th", {}, "可协助叫号的窗口"), el("th", { class: "num" }, "等候满"), el("th", {}, ""))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 4, class: "muted" }, "尚未设置分流规则"))),
  );
}

async function removeRule(rule) {
  const sure = await modal("删除分流规则", (close) => [
    el("p", {}, `确定删除“${rule.text}”？删除后立即生效，并记入审计日志。`),
    el(
      "div",
      { class: "actions" },
      el("button", { class: "btn", type: "button", onclick: () => close(false) }, "取消"),
      el("button", { class: "btn btn-danger", id: "remove-confirm", type: "button", onclick: () => close(true) }, "删除"),
    ),
  ]);
  if (!sure) return;
  renderRules(await api(`overflow-rules/${rule.index}`, { method: "DELETE" }));
  toast("分流规则已删除", "ok");
}

async function addRule(e) {
  e.preventDefault();
  const windows = checked($("#rule-windows"));
  if (!windows.length) {
    toast("请至少选择一个协助叫号的窗口", "bad");
    return;
  }
  const body = { group: $("#rule-group").value, windows, after_minutes: Number($("#rule-after").value) };
  try {
    renderRules(await api("overflow-rules", { body }));
    toast("分流规则已保存并生效", "ok");
    $("#rule-windows").querySelectorAll("input").forEach((i) => (i.checked = false));
  } catch {
    // shown by api()
  }
}

function wireForms() {
  $("#move-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const groups = checked($("#move-groups"));
    if (!groups.length) return toast("请选择该窗口改办的队列", "bad");
    const window_id = $("#move-window").value;
    state.moves = state.moves.filter((m) => m.window_id !== window_id).concat([{ window_id, groups }]);
    renderChanges();
  });
  $("#extra-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const groups = checked($("#extra-groups"));
    const count = Number($("#extra-count").value);
    if (!groups.length) return toast("请选择增开窗口办理的队列", "bad");
    if (!(count >= 1 && count <= 20)) return toast("增开窗口数量须为 1–20 个", "bad");
    state.extras.push({ groups, count });
    renderChanges();
  });
  $("#flow-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const windows = checked($("#flow-windows"));
    if (!windows.length) return toast("请至少选择一个协助叫号的窗口", "bad");
    state.flows.push({ group: $("#flow-group").value, windows, after_minutes: Number($("#flow-after").value) });
    renderChanges();
  });
  $("#clear").addEventListener("click", () => {
    state.moves = [];
    state.extras = [];
    state.flows = [];
    renderChanges();
  });
  $("#run").addEventListener("click", run);
  $("#apply").addEventListener("click", applyMoves);
  $("#rule-form").addEventListener("submit", addRule);
}

async function loadSetup() {
  state.setup = await api("whatif");
  renderBasis();
  renderForms();
  renderChanges();
  renderRules(state.setup.overflow);
}

const user = await boot();
if (user) {
  wireForms();
  try {
    await loadSetup();
  } catch (e) {
    $("#basis").textContent = e.message;
    $("#run").disabled = true;
  }
  document.body.dataset.ready = "1";
}
