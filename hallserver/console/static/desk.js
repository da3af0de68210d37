// 评价整改: the rectification ledger (open / overdue / closed) and each case's workflow:
// 回访 → 整改措施与结果 → 群众回评 → 办结. The rater's identity is never shown (the API does not return it).
import { $, api, boot, clockTime, el, toast } from "./common.js";

const OPEN_STATES = ["open", "called_back", "rectified", "confirmed"];
const STEPS = [
  { state: "open", label: "回访群众" },
  { state: "called_back", label: "整改措施与结果" },
  { state: "rectified", label: "群众回评" },
  { state: "confirmed", label: "办结" },
];
const state = { rows: [], tab: "open", selected: null };

function visible() {
  if (state.tab === "overdue") return state.rows.filter((r) => r.overdue);
  if (state.tab === "closed") return state.rows.filter((r) => r.state === "closed");
  if (state.tab === "open") return state.rows.filter((r) => OPEN_STATES.includes(r.state));
  return state.rows;
}

async function load() {
  state.rows = await api("rectifications");
  renderStats();
  renderLedger();
  if (state.selected) await select(state.selected);
}

function renderStats() {
  const count = (f) => state.rows.filter(f).length;
  const stat = (label, value, cls) => el("div", { class: `stat ${cls || ""}` }, el("span", { class: "stat-label" }, label), el("span", { class: "stat-value" }, value));
  $("#desk-stats").replaceChildren(
    stat("待整改", count((r) => OPEN_STATES.includes(r.state))),
    stat("已超期", count((r) => r.overdue), count((r) => r.overdue) ? "stat-bad" : ""),
    stat("已办结", count((r) => r.state === "closed")),
    stat("合计", state.rows.length),
  );
}

function stateBadge(r) {
  const cls = r.state === "closed" ? "ok" : r.state === "confirmed" ? "info" : "warn";
  return el("span", { class: `badge ${cls}` }, r.state_label);
}

function renderLedger() {
  const rows = visible();
  const box = $("#ledger");
  if (!rows.length) return box.replaceChildren(el("p", { class: "muted", id: "ledger-empty" }, state.tab === "overdue" ? "没有超期的整改记录" : "没有整改记录"));
  box.replaceChildren(
    el(
      "table",
      { class: "grid", id: "ledger-table" },
      el("tr", {}, el("th", {}, "编号"), el("th", {}, "部门"), el("th", {}, "窗口"), el("th", {}, "经办人"), el("th", {}, "开立"), el("th", {}, "整改期限"), el("th", {}, "状态")),
      rows.map((r) =>
        el(
          "tr",
          {
            class: `clickable${r.overdue ? " overdue" : ""}${r.id === state.selected ? " selected" : ""}`,
            dataset: { id: r.id },
            onclick: () => select(r.id),
          },
          el("td", {}, `#${r.id}`),
          el("td", {}, r.department || "—"),
          el("td", {}, r.window_id),
          el("td", {}, r.staff_id || "—"),
          el("td", {}, clockTime(r.opened_at, true)),
          el("td", {}, r.deadline, r.overdue ? el("span", { class: "badge bad", style: "margin-left:6px" }, "已超期") : null),
          el("td", {}, stateBadge(r)),
        ),
      ),
    ),
  );
}

async function select(id) {
  state.selected = id;
  renderLedger();
  const r = state.rows.find((x) => x.id === id);
  if (!r) return;
  const ratings = await api(`evaluations?visit_id=${r.visit_id}`, { quiet: true }).catch(() => []);
  const bad = ratings.find((e) => e.id === r.evaluation_id);
  const followup = ratings.find((e) => e.id === r.followup_evaluation_id);
  $("#case").replaceChildren(caseView(r, bad, followup));
}

function caseView(r, bad, followup) {
  return el(
    "div",
    { id: "case-detail" },
    el("h3", {}, `整改记录 #${r.id} `, stateBadge(r), r.overdue ? el("span", { class: "badge bad", style: "margin-left:6px" }, "已超期") : null),
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "责任部门"), el("dd", {}, r.department || "—"),
      el("dt", {}, "窗口 / 经办人"), el("dd", {}, `${r.window_id} / ${r.staff_id || "—"}`),
      el("dt", {}, "整改期限"), el("dd", {}, r.deadline),
      el("dt", {}, "差评"), el("dd", { id: "bad-rating" }, bad ? ratingText(bad) : "—"),
    ),
    el("p", { class: "muted small" }, "评价人身份依规保密，本页不显示。"),
    el("ol", { class: "steps" }, STEPS.map((s, i) => stepView(r, s, i, followup))),
  );
}

function ratingText(e) {
  const parts = [e.label];
  const ind = Object.entries(e.indicators || {}).map(([k, v]) => `${k}：${v}`);
  if (ind.length) parts.push(ind.join("，"));
  if (e.comment) parts.push(`“${e.comment}”`);
  parts.push(`${clockTime(e.created_at, true)} 经${channel(e.channel)}`);
  return parts.join(" · ");
}

function channel(c) {
  return { kiosk: "自助机", qr: "扫码", sms: "短信", evaluator: "窗口评价器" }[c] || c;
}

function stepView(r, step, index, followup) {
  const order = ["open", "called_back", "rectified", "confirmed", "closed"];
  const done = order.indexOf(r.state) > index;
  const current = r.state === step.state;
  const body = [];
  if (index === 0 && r.callback_note) body.push(el("p", {}, r.callback_note));
  if (index === 1 && r.measures) body.push(el("p", {}, `措施：${r.measures}`), el("p", {}, `结果：${r.result}`));
  if (index === 2) {
    if (followup) body.push(el("p", { id: "followup" }, `群众回评：${ratingText(followup)}`));
    else if (r.state === "rectified") body.push(el("p", { class: "muted" }, "等待群众通过短信或二维码对整改结果回评；回评前不能办结。"));
  }
  if (current || (index === 3 && r.state === "rectified")) body.push(stepForm(r, index));
  return el(
    "li",
    { class: done ? "step done" : current ? "step current" : "step" },
    el("strong", {}, step.label, done ? el("span", { class: "badge ok", style: "margin-left:6px" }, "已完成") : null),
    body,
  );
}

function stepForm(r, index) {
  const error = el("p", { class: "error-text", id: `step-error-${index}` });
  const area = (name, label) => el("label", { class: "field" }, el("span", {}, label), el("textarea", { class: "input", name, id: `${name}-input`, maxlength: 1000 }));
  const forms = {
    0: { fields: [area("note", "回访情况")], action: "callback", label: "记录回访" },
    1: { fields: [area("measures", "整改措施"), area("result", "整改结果")], action: "rectify", label: "记录整改" },
    3: { fields: [area("close_note", "办结说明")], action: "close", label: "办结整改" },
  };
  const f = forms[index];
  if (!f) return null;
  return el(
    "form",
    {
      id: `form-${f.action}`,
      onsubmit: async (e) => {
        e.preventDefault();
        const v = (n) => (e.target.elements[n] ? e.target.elements[n].value.trim() : "");
        const body = f.action === "rectify" ? { measures: v("measures"), result: v("result") } : { note: v(f.action === "close" ? "close_note" : "note") };
        try {
          await api(`rectifications/${r.id}/${f.action}`, { body, quiet: true });
          toast(`${f.label}成功`, "ok");
          await load();
        } catch (err) {
          error.textContent = err.message; // e.g. closing before the citizen's follow-up: the server says why
        }
      },
    },
    f.fields,
    error,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "btn btn-primary", id: `submit-${f.action}` }, f.label)),
  );
}

function wireTabs() {
  for (const tab of document.querySelectorAll("#desk-tabs .tab")) {
    tab.addEventListener("click", () => {
      state.tab = tab.dataset.tab;
      for (const t of document.querySelectorAll("#desk-tabs .tab")) t.classList.toggle("active", t === tab);
      renderLedger();
    });
  }
}

const user = await boot();
if (user) {
  wireTabs();
  await load();
  document.body.dataset.ready = "1";
  const overdue = state.rows.filter((r) => r.overdue).length;
  if (overdue) toast(`有 ${overdue} 条整改记录已超期，请尽快处理`, "bad", 6000);
}
