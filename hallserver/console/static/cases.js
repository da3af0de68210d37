// 办件管理: the department's case desk — its cases (待办 / 已超期 / 临期预警 / 不予批准), one case with its
// history, the moves its state allows (审查, 不予批准, 告知承诺准予, 办结与送达, 领取), and the printable
// 不予批准决定书. Applicants are masked; the server decides what each account may see and do.
import { $, api, boot, clockTime, el, modal, toast } from "./common.js";

const DELIVERIES = { window: "窗口领取", post: "邮寄", self_pickup: "自助领取", electronic: "电子送达" };
const ACTIONS = {
  reviewing: { label: "开始审查" },
  denied: { label: "不予批准…", danger: true, fields: ["reason"] },
  committed: { label: "告知承诺准予…", fields: ["result", "delivery"] },
  completed: { label: "办结…", fields: ["result", "delivery"] },
  ready: { label: "通知领取" },
  collected: { label: "已领取" },
  posted: { label: "已邮寄…", fields: ["tracking_no"] },
  delivered: { label: "已电子送达" },
  revoked: { label: "撤销（未履行承诺）…", danger: true, fields: ["reason"] },
  supplied: { label: "材料已补齐" },
};
const FIELD_LABELS = { reason: "理由（书面，将写入决定书）", result: "办理结果（如：居住证）", delivery: "送达方式", tracking_no: "邮寄运单号" };
const state = { tab: "working", rows: [], watch: { overdue: [], due_soon: [] }, selected: null, serial: "" };

function stat(label, value, cls) {
  return el("div", { class: `stat ${cls || ""}` }, el("span", { class: "stat-label" }, label), el("span", { class: "stat-value" }, value));
}

async function load() {
  const query = state.serial ? `cases?serial=${encodeURIComponent(state.serial)}` : state.tab === "denied" ? `cases?status=${encodeURIComponent("不予批准")}` : "cases";
  [state.rows, state.watch] = await Promise.all([api(query), api("cases/watchlist")]);
  $("#case-stats").replaceChildren(
    stat("待办", state.tab === "working" && !state.serial ? state.rows.length : "—"),
    stat("已超期", state.watch.overdue.length, state.watch.overdue.length ? "stat-bad" : ""),
    stat("临期预警", state.watch.due_soon.length),
  );
  renderList();
}

function visible() {
  if (state.serial) return state.rows;
  if (state.tab === "overdue") return state.watch.overdue;
  if (state.tab === "due_soon") return state.watch.due_soon;
  return state.rows;
}

function renderList() {
  const rows = visible();
  const box = $("#case-list");
  if (!rows.length) return box.replaceChildren(el("p", { class: "muted", id: "case-empty" }, state.tab === "overdue" ? "没有超期办件" : "没有办件"));
  box.replaceChildren(
    el(
      "table",
      { class: "grid", id: "case-table" },
      el("tr", {}, el("th", {}, "流水号"), el("th", {}, "事项"), el("th", {}, "申请人"), el("th", {}, "承诺办结"), el("th", {}, "状态")),
      rows.map((r) =>
        el(
          "tr",
          { class: `clickable${isLate(r) ? " overdue" : ""}${r.serial_no === state.selected ? " selected" : ""}`, dataset: { serial: r.serial_no }, onclick: () => select(r.serial_no) },
          el("td", { class: "small" }, r.serial_no),
          el("td", {}, r.item_name),
          el("td", {}, r.applicant || "—"),
          el("td", {}, r.promised_date, isLate(r) ? el("span", { class: "badge bad", style: "margin-left:6px" }, r.days_late ? `超期${r.days_late}天` : "已超期") : null),
          el("td", {}, el("span", { class: "badge info" }, r.status)),
        ),
      ),
    ),
  );
}

function isLate(r) {
  return Boolean(r.overdue || r.days_late);
}

async function select(serial) {
  state.selected = serial;
  renderList();
  const c = await api(`cases/${encodeURIComponent(serial)}`);
  const r = c.row;
  const facts = [
    ["流水号", r.serial_no], ["事项", r.item_name], ["实施部门", r.department], ["申请人", r.applicant || "—"],
    ["受理时间", clockTime(r.accepted_at, true)], ["承诺办结", r.promised_date + (r.overdue ? "（已超期）" : "")],
    ["当前状态", r.status], ["送达方式", c.delivery], ["材料补交期限", r.supplement_due || "—"],
    ["办理结果", c.result || "—"], ["理由", c.reason || "—"], ["告知承诺制", c.commitment ? "适用" : "不适用"],
  ];
  const buttons = c.actions.map((a) =>
    el("button", { class: `btn ${ACTIONS[a].danger ? "btn-danger" : "btn-primary"}`, dataset: { action: a }, onclick: () => act(r.serial_no, a, c) }, ACTIONS[a].label),
  );
  if (r.status === "不予批准") buttons.push(el("button", { class: "btn", id: "print-decision", onclick: () => showDecision(r.serial_no, true) }, "打印不予批准决定书"));
  $("#case-detail").replaceChildren(
    el("dl", { class: "facts", id: "case-facts" }, facts.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    el("h3", {}, "办理记录"),
    el("ol", { class: "timeline", id: "case-history" }, c.history.map((h) => el("li", {}, el("div", { class: "when" }, `${clockTime(h.at, true)} · ${h.actor || "窗口"}`), el("strong", {}, h.status), h.note ? el("div", {}, h.note) : null))),
    el("div", { class: "actions", id: "case-actions" }, buttons.length ? buttons : el("span", { class: "muted" }, "办件已终结，无可执行操作")),
    el("div", { id: "decision-box" }),
  );
  if (r.status === "不予批准") await showDecision(r.serial_no, false);
}

function field(name, c) {
  if (name === "delivery") {
    const current = Object.keys(DELIVERIES).find((k) => DELIVERIES[k] === c.delivery) || "window";
    return el("select", { class: "input", name }, Object.entries(DELIVERIES).map(([k, v]) => el("option", { value: k, selected: k === current }, v)));
  }
  if (name === "reason") return el("textarea", { class: "input", name, maxlength: 500, rows: 4, autofocus: true });
  return el("input", { class: "input", name, maxlength: name === "result" ? 100 : 40, autofocus: true });
}

async function act(serial, action, c) {
  const spec = ACTIONS[action];
  let body = { status: action };
  if (spec.fields) {
    const values = await modal(spec.label.replace("…", ""), (close) => {
      const inputs = spec.fields.map((f) => [f, field(f, c)]);
      return el(
        "form",
        {
          id: "case-form",
          onsubmit: (e) => {
            e.preventDefault();
            close(Object.fromEntries(inputs.map(([f, i]) => [f, i.value.trim()]).filter(([, v]) => v)));
          },
        },
        inputs.map(([f, i]) => el("label", { class: "field" }, el("span", {}, FIELD_LABELS[f]), i)),
        el("div", { class: "actions" }, el("button", { type: "button", class: "btn", onclick: () => close(null) }, "取消"), el("button", { type: "submit", class: "btn btn-primary" }, "确定")),
      );
    });
    if (!values) return;
    body = { ...body, ...values };
  }
  try {
    await api(`cases/${encodeURIComponent(serial)}/status`, { body });
  } catch {
    return; // the server's Chinese message is already on screen
  }
  toast(`已更新：${ACTIONS[action].label.replace("…", "")}`, "ok");
  await load();
  await select(serial);
}

function decisionNodes(d) {
  return [
    el("h1", {}, d.title),
    el("div", { class: "docno" }, d.document_no),
    el("p", { style: "text-indent:0" }, `${d.masked_name || "申请人"}：`),
    el("p", {}, `你（单位）于${clockTime(d.accepted_at, true).slice(0, 10)}申请办理的“${d.item_name}”（办件流水号：${d.serial_no}），经审查，决定不予批准。`),
    el("p", { class: "reason" }, `理由：${d.reason}`),
    d.legal_basis.length ? el("p", {}, `依据：${d.legal_basis.join("；")}`) : null,
    el("p", {}, d.remedy),
    el("div", { class: "seal" }, el("p", {}, `${d.department}（盖章）`), el("p", {}, clockTime(d.decided_at, true).slice(0, 10))),
  ];
}

async function showDecision(serial, print) {
  const d = await api(`cases/${encodeURIComponent(serial)}/decision`);
  $("#decision-sheet").replaceChildren(...decisionNodes(d));
  $("#decision-box").replaceChildren(el("div", { id: "decision-preview", class: "decision" }, decisionNodes(d)));
  if (print) window.print();
}

function wire() {
  for (const tab of document.querySelectorAll("#case-tabs .tab")) {
    tab.addEventListener("click", async () => {
      document.querySelectorAll("#case-tabs .tab").forEach((t) => t.classList.toggle("active", t === tab));
      state.tab = tab.dataset.tab;
      state.serial = "";
      $("#serial-input").value = "";
      await load();
    });
  }
  $("#case-search").addEventListener("submit", async (e) => {
    e.preventDefault();
    state.serial = $("#serial-input").value.trim();
    await load();
  });
}

const user = await boot();
if (user) {
  wire();
  await load();
  document.body.dataset.ready = "1";
}
