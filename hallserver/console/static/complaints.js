// 投诉与办不成事: the ledger (全部 / 已逾期), window intake, one complaint with every step, the moves its state
// allows for chiefs and managers (分类, 交办/移交, 答复, 办结), and the printable 书面答复. Names and phones
// come masked from the server; the server decides what each account may do.
import { $, MANAGERS, api, boot, clockTime, el, modal, prompt, toast } from "./common.js";

const state = { tab: "all", rows: [], late: [], selected: null, user: null };
const ACTIONS = { received: "登记", classified: "分类", assigned: "交办", transferred: "移交主管部门", answered: "答复", closed: "办结" };

function stat(label, value, cls) {
  return el("div", { class: `stat ${cls || ""}` }, el("span", { class: "stat-label" }, label), el("span", { class: "stat-value" }, value));
}

async function load() {
  [state.rows, state.late] = await Promise.all([api("complaints"), api("complaints/overdue")]);
  $("#complaint-stats").replaceChildren(
    stat("在办", state.rows.filter((r) => !["answered", "closed"].includes(r.state)).length),
    stat("已逾期", state.late.length, state.late.length ? "stat-bad" : ""),
    stat("已办结", state.rows.filter((r) => r.state === "closed").length),
  );
  renderList();
}

function renderList() {
  const rows = state.tab === "overdue" ? state.late : state.rows;
  const box = $("#complaint-list");
  if (!rows.length) return box.replaceChildren(el("p", { class: "muted", id: "complaint-empty" }, state.tab === "overdue" ? "没有逾期的投诉或办不成事" : "暂无记录"));
  box.replaceChildren(
    el(
      "table",
      { class: "grid", id: "complaint-table" },
      el("tr", {}, el("th", {}, "编号"), el("th", {}, "类型"), el("th", {}, "反映人"), el("th", {}, "期限"), el("th", {}, "状态")),
      rows.map((r) =>
        el(
          "tr",
          { class: `clickable${r.overdue ? " overdue" : ""}`, dataset: { reference: r.reference }, onclick: () => select(r.reference) },
          el("td", { class: "small" }, r.reference),
          el("td", {}, r.kind_label),
          el("td", {}, r.masked_name || "匿名", r.masked_phone ? ` ${r.masked_phone}` : ""),
          el("td", {}, r.due, r.overdue ? el("span", { class: "badge bad", style: "margin-left:6px" }, "已逾期") : null),
          el("td", {}, el("span", { class: "badge info" }, r.state_label)),
        ),
      ),
    ),
  );
}

async function act(ref, path, body) {
  await api(`complaints/${encodeURIComponent(ref)}/${path}`, { body });
  toast("已保存", "ok");
  await load();
  await select(ref);
}

async function classify(ref) {
  const choice = await modal("分类", (close) => [
    el("p", {}, "属于本大厅职责的，5个工作日内答复；不属于的，2个工作日内移交主管部门。"),
    el("div", { class: "actions" },
      el("button", { class: "btn", id: "in-remit", onclick: () => close("in") }, "属于本大厅职责"),
      el("button", { class: "btn", id: "out-remit", onclick: () => close("out") }, "移交主管部门…"),
      el("button", { class: "btn", onclick: () => close(null) }, "取消")),
  ]);
  if (choice === "in") return act(ref, "classify", { in_remit: true });
  if (choice !== "out") return;
  const dept = await prompt("移交主管部门", "主管部门名称", { max: 60, name: "department" });
  if (dept) await act(ref, "classify", { in_remit: false, department: dept });
}

function buttons(c) {
  if (!MANAGERS.includes(state.user.role)) return [];
  const ref = c.reference;
  const out = [];
  if (["received", "classified"].includes(c.state)) out.push(el("button", { class: "btn", id: "do-classify", onclick: () => classify(ref) }, "分类…"));
  if (c.state === "classified")
    out.push(el("button", { class: "btn", id: "do-assign", onclick: async () => {
      const who = await prompt(c.in_remit === false ? "移交主管部门" : "交办", c.in_remit === false ? "已移交的部门" : "承办人或承办科室", { max: 60, name: "assignee" });
      if (who) await act(ref, "assign", { assignee: who });
    } }, c.in_remit === false ? "已移交…" : "交办…"));
  if (c.state === "assigned")
    out.push(el("button", { class: "btn", id: "do-answer", onclick: async () => {
      const reply = await prompt("答复", "答复内容", { multiline: true, max: 4000, min: 5, name: "reply" });
      if (reply) await act(ref, "answer", { reply });
    } }, "答复…"));
  if (c.state === "answered")
    out.push(el("button", { class: "btn", id: "do-close", onclick: async () => {
      const feedback = await modal("办结：群众评价", (close) => [
        el("div", { class: "actions" },
          el("button", { class: "btn", id: "fb-satisfied", onclick: () => close("satisfied") }, "满意"),
          el("button", { class: "btn", id: "fb-basic", onclick: () => close("basic") }, "基本满意"),
          el("button", { class: "btn", id: "fb-unsatisfied", onclick: () => close("unsatisfied") }, "不满意"),
          el("button", { class: "btn", onclick: () => close(null) }, "取消")),
      ]);
      if (feedback) await act(ref, "close", { feedback });
    } }, "办结…"));
  return out;
}

function replyNodes(d) {
  return [
    el("h1", {}, d.title),
    el("div", { class: "docno" }, `编号：${d.reference}`),
    el("p", {}, `${d.masked_name || "反映人"}：`),
    el("p", {}, `您于${clockTime(d.received_at, true)}反映的${d.kind_label}：“${d.content}”，现答复如下：`),
    el("p", { id: "reply-text" }, d.reply),
    d.department ? el("p", {}, `该事项已移交${d.department}办理。`) : null,
    el("div", { class: "seal" }, el("p", {}, d.hall_name || ""), el("p", {}, clockTime(d.answered_at, true).slice(0, 10))),
  ];
}

async function showReply(ref, print) {
  const d = await api(`complaints/${encodeURIComponent(ref)}/written-reply`);
  $("#reply-sheet").replaceChildren(...replyNodes(d));
  $("#reply-box").replaceChildren(el("div", { id: "reply-preview", class: "reply-doc" }, replyNodes(d)));
  if (print) window.print();
}

async function select(ref) {
  state.selected = ref;
  const c = await api(`complaints/${encodeURIComponent(ref)}`);
  const facts = [
    ["编号", c.reference], ["类型", c.kind_label], ["来源", { window: "窗口", kiosk: "自助终端", phone: "手机" }[c.channel] || c.channel],
    ["反映人", `${c.masked_name || "匿名"} ${c.masked_phone || ""}`], ["涉及事项", c.item_name || "—"],
    ["期限", c.due + (c.overdue ? "（已逾期）" : "")], ["状态", c.state_label],
    ["职责", c.in_remit === null ? "待分类" : c.in_remit ? "本大厅职责" : `移交${c.department}`],
    ["书面答复", c.written_reply ? "需要" : "不需要"], ["评价", c.feedback_label ? `${c.feedback_label}${c.feedback_comment ? `（${c.feedback_comment}）` : ""}` : "—"],
  ];
  const actions = buttons(c);
  if (c.reply) actions.push(el("button", { class: "btn", id: "print-reply", onclick: () => showReply(ref, true) }, "打印书面答复"));
  $("#complaint-detail").replaceChildren(
    el("dl", { class: "facts", id: "complaint-facts" }, facts.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    el("p", { id: "complaint-content" }, c.content),
    c.reply ? el("p", { id: "complaint-reply" }, `答复：${c.reply}`) : null,
    el("ol", { class: "steps", id: "complaint-steps" }, c.steps.map((s) => el("li", {}, `${clockTime(s.at, true)} ${ACTIONS[s.action] || s.action}（${s.actor}）${s.note ? `：${s.note}` : ""}`))),
    el("div", { class: "actions" }, actions),
    el("div", { id: "reply-box" }),
  );
  if (c.reply) await showReply(ref, false);
  document.body.dataset.shown = ref;
}

async function submit(e) {
  e.preventDefault();
  const f = e.target;
  const body = {
    kind: f.kind.value, content: f.content.value.trim(), item_code: f.item_code.value.trim() || null,
    name: f.name.value.trim() || null, phone: f.phone.value.trim() || null, written_reply: f.written_reply.checked,
  };
  if (body.content.length < 5) return toast("请至少用5个字说明反映的问题", "bad");
  const done = await api("complaints", { body });
  toast(done.message, "ok", 8000);
  f.reset();
  await load();
  await select(done.reference);
}

state.user = await boot();
if (state.user) {
  $("#complaint-tabs").addEventListener("click", (e) => {
    const tab = e.target.closest("[data-tab]");
    if (!tab) return;
    state.tab = tab.dataset.tab;
    for (const t of document.querySelectorAll("#complaint-tabs .tab")) t.classList.toggle("active", t === tab);
    renderList();
  });
  $("#complaint-form").addEventListener("submit", (e) => submit(e).catch(() => {}));
  await load();
  document.body.dataset.ready = "1";
}
