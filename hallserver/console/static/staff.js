// 窗口工作台: pick a window, call and serve, finish with an outcome, print, reveal identity (audited).
import { $, api, boot, clockTime, duration, el, modal, prompt, toast } from "./common.js";

const WINDOW_KEY = "hallq.window";
const POLL_MS = 5000;
const OUTCOMES = ["当场办结", "受理", "补正", "容缺受理", "不予受理", "咨询"];
const DELIVERIES = ["窗口领取", "邮寄", "自助领取", "电子送达"];
const PAPER = { 补正: "一次性告知书", 受理: "受理凭证", 容缺受理: "受理凭证", 当场办结: "受理凭证", 不予受理: "不予受理凭证" };

const state = {
  user: null,
  mine: [], // [{window, my_role, printer}]
  windowId: null,
  view: null, // DeskOut
  catalog: new Map(), // code -> item or bundle (the full guide)
  groups: [],
  offset: 0, // server clock - browser clock, ms (the hall runs on its own clock in tests)
  revealed: null, // {ticketId, name, id_number}
  busy: false,
};

async function init() {
  const [mine, catalog, hall] = await Promise.all([
    api("windows/mine"),
    api("catalog").catch(() => null),
    api("hall").catch(() => null),
  ]);
  state.mine = mine;
  if (catalog) for (const it of [...catalog.items, ...catalog.bundles]) state.catalog.set(it.code, it);
  state.groups = hall ? hall.groups : [];
  const select = $("#window-select");
  if (!mine.length) {
    $("#main").replaceChildren(el("section", { class: "panel denied" }, el("h1", {}, "没有可操作的窗口"), el("p", {}, "大厅配置中没有您负责的窗口，请联系大厅管理员。")));
    return;
  }
  for (const m of mine) {
    const role = m.my_role ? `（${m.my_role}角）` : "";
    select.append(el("option", { value: m.window.id }, `${m.window.name}${role} · ${m.window.kind}`));
  }
  const saved = sessionStorage.getItem(WINDOW_KEY);
  state.windowId = mine.some((m) => m.window.id === saved) ? saved : (mine.find((m) => m.my_role === "A") || mine[0]).window.id;
  select.value = state.windowId;
  select.addEventListener("change", () => {
    state.windowId = select.value;
    sessionStorage.setItem(WINDOW_KEY, state.windowId);
    state.revealed = null;
    refresh();
  });
  wireButtons();
  document.addEventListener("keydown", onKey);
  window.addEventListener("focus", () => refresh());
  setInterval(tick, 1000);
  setInterval(poll, POLL_MS);
  await refresh();
}

const ACTIONS = {
  "btn-call": () => act("call-next"),
  "btn-recall": () => act("recall"),
  "btn-noshow": () => confirmThen("确认过号？", "该群众未到窗口，将按过号处理。", () => act("no-show")),
  "btn-start": () => act("start"),
  "btn-transfer": transferDialog,
  "btn-suspend": suspendDialog,
  "btn-finish": finishDialog,
  "btn-reprint": () => reprint(),
  "btn-pause": pauseDialog,
  "btn-resume": () => act("resume"),
};

function wireButtons() {
  for (const [id, fn] of Object.entries(ACTIONS)) {
    $(`#${id}`).addEventListener("click", (e) => {
      e.currentTarget.blur(); // keep Space for 叫号, not for the last clicked button
      run(fn);
    });
  }
}

async function run(fn) {
  if (state.busy) return;
  state.busy = true;
  try {
    await fn();
  } catch {
    // api() already showed the server's message
  } finally {
    state.busy = false;
  }
}

// F1/Space 叫号, F2 重呼, F3 过号, F4 开始, F6 转办, F7 挂起, F8 办结, F9 暂停/恢复, F10 重新打印.
function onKey(e) {
  if (document.querySelector("dialog[open]")) return;
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName);
  let key = e.key;
  if (key === " " || key === "Spacebar") {
    if (typing || e.target.tagName === "BUTTON") return;
    key = "F1";
  }
  const button = [...document.querySelectorAll("#main button[data-key]")].find(
    (b) => b.dataset.key === key && !b.classList.contains("hidden"),
  );
  if (!button) return;
  e.preventDefault();
  if (!button.disabled) button.click();
}

async function refresh() {
  if (!state.windowId) return;
  const started = Date.now();
  const view = await api(`windows/${state.windowId}/desk`);
  state.offset = Date.parse(view.desk.now) - (started + Date.now()) / 2;
  state.view = view;
  if (!view.ticket || (state.revealed && state.revealed.ticketId !== view.ticket.id)) state.revealed = null;
  render();
  loadVisits();
}

function mineFor(id) {
  return state.mine.find((m) => m.window.id === id);
}

function render() {
  const { window: w, ticket, desk } = state.view;
  const status = $("#window-status");
  status.textContent = w.status === "open" ? "服务中" : w.status === "paused" ? `暂停服务：${w.status_reason || ""}` : "已关闭";
  status.className = `badge ${w.status === "open" ? "ok" : w.status === "paused" ? "warn" : "bad"}`;
  const me = mineFor(w.id);
  $("#window-staff").textContent = `当班：${w.staff_display_name || "—"}（${w.staff_role}角）${me && me.my_role ? ` · 本人为${me.my_role}角` : ""}`;
  renderQueues(desk);
  $("#btn-pause").classList.toggle("hidden", w.status !== "open");
  $("#btn-resume").classList.toggle("hidden", w.status !== "paused");

  $("#ticket-number").textContent = ticket ? ticket.number : "—";
  $("#ticket-state").textContent = ticket ? ticket.state_label : "空闲";
  $("#ticket-state").className = `badge ${ticket ? (ticket.state === "serving" ? "info" : "warn") : ""}`;
  $("#ticket-item").textContent = ticket ? ticket.item_name || `${groupName(ticket.group)}（未指定事项）` : "暂无正在办理的号码，按 F1 或空格叫号";
  $("#call-count").textContent = ticket ? `${ticket.call_count} 次` : "—";
  renderApplicant(ticket, desk);
  const serving = ticket && ticket.state === "serving";
  const called = ticket && ticket.state !== "serving";
  const open = w.status === "open";
  setEnabled({
    "btn-call": !ticket && open,
    "btn-recall": called,
    "btn-noshow": called,
    "btn-start": called,
    "btn-transfer": !!ticket,
    "btn-suspend": serving,
    "btn-finish": serving,
    "btn-reprint": !!desk.last_paper,
  });
  $("#last-paper").textContent = desk.last_paper
    ? `最近一份文书：${desk.last_paper.ticket}号 ${desk.last_paper.outcome} · ${desk.last_paper.label}（F10 重新打印）`
    : "";
  renderSuspended(desk.suspended, !ticket);
  renderGuide(ticket ? ticket.item_code : null);
  tick();
}

// How many wait in each queue this window serves (and in all of them): what staff pace their work by.
function renderQueues(desk) {
  $("#queue-waiting").textContent = `${desk.waiting} 人`;
  $("#window-groups").replaceChildren(
    el("span", {}, "办理队列："),
    ...desk.queues.map((q) =>
      el(
        "span",
        { class: `queue-chip${q.waiting ? " has-waiting" : ""}`, dataset: { group: q.group }, title: q.estimated_wait_min === null ? "暂无预计等候时间" : `预计等候约${q.estimated_wait_min}分钟` },
        `${q.name} `,
        el("b", { class: "queue-count" }, String(q.waiting)),
        "人等候",
      ),
    ),
  );
}

// The queues change as citizens take tickets elsewhere: look again every few seconds (one small request).
async function poll() {
  if (!state.windowId || !state.view || state.busy || document.hidden) return;
  let view;
  try {
    view = await api(`windows/${state.windowId}/desk`, { quiet: true });
  } catch {
    return; // the next poll tries again; actions still report their own errors
  }
  const before = state.view;
  const same = (a, b) => (a ? `${a.id}:${a.state}` : "") === (b ? `${b.id}:${b.state}` : "");
  if (view.window.id !== state.windowId) return; // switched window meanwhile
  if (same(before.ticket, view.ticket) && before.window.status === view.window.status) {
    state.view = { ...before, desk: { ...before.desk, queues: view.desk.queues, waiting: view.desk.waiting } };
    renderQueues(state.view.desk);
  } else {
    state.view = view;
    render();
    loadVisits();
  }
}

function groupName(code) {
  return (state.groups.find((g) => g.code === code) || { name: code }).name;
}

function setEnabled(map) {
  for (const [id, on] of Object.entries(map)) $(`#${id}`).disabled = !on;
}

function tick() {
  if (!state.view) return;
  const { desk, ticket } = state.view;
  const now = Date.now() + state.offset;
  const since = (iso) => (iso ? (now - Date.parse(iso)) / 1000 : null);
  $("#waited").textContent = ticket ? duration(desk.called_at ? desk.waited_s : since(ticket.issued_at)) : "—";
  $("#serving-time").textContent = ticket && desk.started_at ? duration(since(desk.started_at)) : "—";
}

function renderApplicant(ticket, desk) {
  const box = $("#applicant");
  if (!ticket) return box.replaceChildren();
  const a = desk.applicant;
  if (!a) return box.replaceChildren(el("span", { class: "muted" }, ticket.masked_name ? `申请人：${ticket.masked_name}（未实名核验）` : "未实名取号（咨询类业务）"));
  const shown = state.revealed && state.revealed.ticketId === ticket.id;
  box.replaceChildren(
    el("span", {}, "申请人："),
    el("strong", { id: "applicant-name" }, shown ? state.revealed.name : a.name || "—"),
    el("span", { id: "applicant-id" }, shown ? state.revealed.id_number : a.id),
    shown
      ? el("span", { class: "badge warn" }, "已查看完整身份，已记入审计日志")
      : el("button", { class: "btn btn-small", id: "btn-reveal", onclick: () => run(() => reveal(ticket, a)) }, "查看完整身份"),
  );
}

async function reveal(ticket, applicant) {
  const purpose = await prompt("查看完整身份", "查看用途（将记入审计日志）", { placeholder: "如：核对申请表身份信息", min: 2, name: "purpose" });
  if (!purpose) return;
  const out = await api(`people/${applicant.person_id}/identity`, { body: { purpose } });
  state.revealed = { ticketId: ticket.id, name: out.name, id_number: out.id_number };
  renderApplicant(ticket, state.view.desk);
  toast("已显示完整身份信息，本次查看已记入审计日志", "info");
}

function renderSuspended(list, canResume) {
  const box = $("#suspended");
  if (!list.length) return box.replaceChildren(el("p", { class: "muted" }, "没有挂起的号码"));
  box.replaceChildren(
    el(
      "table",
      { class: "grid" },
      el("tr", {}, el("th", {}, "号码"), el("th", {}, "事项"), el("th", {}, "挂起时间"), el("th", {}, "")),
      list.map((t) =>
        el(
          "tr",
          {},
          el("td", {}, t.number),
          el("td", {}, t.item_name || "—"),
          el("td", {}, clockTime(t.suspended_at)),
          el("td", {}, el("button", { class: "btn btn-small", disabled: !canResume, onclick: () => run(() => resumeTicket(t)) }, "恢复办理")),
        ),
      ),
    ),
  );
}

async function resumeTicket(t) {
  await api(`windows/${state.windowId}/resume-ticket`, { body: { ticket_id: t.id } });
  toast(`已恢复办理 ${t.number} 号`, "ok");
  await refresh();
}

function renderGuide(code) {
  const box = $("#guide");
  const item = code ? state.catalog.get(code) : null;
  if (!item) {
    box.replaceChildren(el("p", { class: "muted" }, code ? `事项 ${code}` : "叫号后显示该号码所办事项的办事指南和材料清单。"));
    return;
  }
  box.replaceChildren(guideView(item));
}

function guideView(item) {
  const limit = item.time_limit ? (item.time_limit.promised_days === 0 ? "即办（当场办结）" : `法定${item.time_limit.statutory_days}个工作日，承诺${item.time_limit.promised_days}个工作日`) : `承诺${item.promised_days}个工作日`;
  return el(
    "div",
    { class: "guide" },
    el("h3", { id: "guide-name" }, item.name),
    el(
      "dl",
      {},
      el("dt", {}, "事项编码"), el("dd", {}, item.code),
      el("dt", {}, "实施部门"), el("dd", {}, item.department),
      el("dt", {}, "办理时限"), el("dd", {}, limit),
      item.fee ? [el("dt", {}, "收费标准"), el("dd", {}, item.fee.standard)] : null,
      item.rongque ? [el("dt", {}, "容缺受理"), el("dd", {}, `可容缺，${item.rongque.deadline_days}个工作日内补齐${item.rongque.note ? `（${item.rongque.note}）` : ""}`)] : null,
      el("dt", {}, "咨询电话"), el("dd", {}, item.phone),
    ),
    item.conditions ? [el("h3", {}, "受理条件"), el("ul", {}, item.conditions.map((c) => el("li", {}, c)))] : null,
    el("h3", {}, `申请材料（${item.materials.length}项）`),
    el(
      "table",
      { class: "grid materials" },
      el("tr", {}, el("th", {}, "材料"), el("th", {}, "形式"), el("th", { class: "num" }, "份数")),
      item.materials.map((m) =>
        el(
          "tr",
          {},
          el(
            "td",
            {},
            m.name,
            m.data_shared ? el("span", { class: "badge ok" }, "数据共享，免提交") : null,
            !m.required && !m.data_shared ? el("span", { class: "badge" }, "视情况") : null,
            m.rongque ? el("span", { class: "badge warn" }, "可容缺") : null,
            m.condition ? el("div", { class: "muted small" }, m.condition) : null,
          ),
          el("td", {}, m.kind),
          el("td", { class: "num" }, m.copies === 0 ? "核验" : m.copies),
        ),
      ),
    ),
  );
}

async function act(action, body) {
  const out = await api(`windows/${state.windowId}/${action}`, { method: "POST", body });
  if (action === "call-next") toast(out.message, out.ticket ? "ok" : "info");
  await refresh();
  return out;
}

function confirmThen(title, text, fn) {
  return modal(title, (close) => [
    el("p", {}, text),
    el("div", { class: "actions" }, el("button", { class: "btn", onclick: () => close(false) }, "取消"), el("button", { class: "btn btn-primary", autofocus: true, onclick: () => close(true) }, "确定")),
  ]).then((yes) => (yes ? fn() : null));
}

async function suspendDialog() {
  const reason = await prompt("挂起当前业务", "挂起原因（可不填）", { required: false, placeholder: "如：群众去复印材料", max: 100 });
  if (reason === null) return;
  await act("suspend", reason ? { reason } : undefined);
  toast("已挂起，可在“挂起的号码”中恢复办理", "ok");
}

async function pauseDialog() {
  const reason = await prompt("暂停服务", "暂停原因（显示在窗口屏上）", { required: false, placeholder: "如：临时离开，请稍候", max: 100 });
  if (reason === null) return;
  await act("pause", reason ? { reason } : undefined);
}

async function transferDialog() {
  const windows = await api("windows");
  const others = windows.filter((w) => w.id !== state.windowId && w.status !== "closed");
  const body = await modal("转办", (close) => {
    const error = el("p", { class: "error-text" });
    const group = el("select", { class: "input", name: "to_group" }, el("option", { value: "" }, "请选择队列"), state.groups.map((g) => el("option", { value: g.code }, `${g.name}（${g.prefix}）`)));
    const win = el("select", { class: "input", name: "to_window" }, el("option", { value: "" }, "请选择窗口"), others.map((w) => el("option", { value: w.id }, `${w.name} · ${w.kind}${w.status === "paused" ? "（暂停）" : ""}`)));
    return el(
      "form",
      {
        onsubmit: async (e) => {
          e.preventDefault();
          const to = e.target.elements.target.value;
          const payload = to === "group" ? { to_group: group.value } : { to_window: win.value };
          if (!Object.values(payload)[0]) return (error.textContent = "请选择转办目标");
          try {
            close(await api(`windows/${state.windowId}/transfer`, { body: payload, quiet: true }));
          } catch (err) {
            error.textContent = err.message;
          }
        },
      },
      el("p", { class: "muted" }, "转办后号码保留原排队位置。"),
      el(
        "div",
        {
          class: "choice",
          onchange: (e) => {
            const toWindow = e.target.value === "window";
            group.parentNode.classList.toggle("hidden", toWindow);
            win.parentNode.classList.toggle("hidden", !toWindow);
          },
        },
        el("label", {}, el("input", { type: "radio", name: "target", value: "group", checked: true }), "转到队列"),
        el("label", {}, el("input", { type: "radio", name: "target", value: "window" }), "转到窗口"),
      ),
      el("label", { class: "field", id: "to-group" }, el("span", {}, "目标队列"), group),
      el("label", { class: "field hidden", id: "to-window" }, el("span", {}, "目标窗口"), win),
      error,
      el("div", { class: "actions" }, el("button", { type: "button", class: "btn", onclick: () => close(null) }, "取消"), el("button", { type: "submit", class: "btn btn-primary" }, "确认转办")),
    );
  });
  if (!body) return;
  toast(`${body.ticket.number}号已转办`, "ok");
  await refresh();
}

async function finishDialog() {
  const { ticket, desk } = state.view;
  const out = await modal(`办结 ${ticket.number} 号`, (close) => finishForm(ticket, desk, close));
  if (!out) return;
  const p = out.printed;
  if (p && p.job_id) toast(`已办结（${out.ticket.outcome}），${p.label}已发送到窗口打印机`, "ok", 6000);
  else if (p) toast(`已办结（${out.ticket.outcome}），${p.label}未能打印：${p.error}`, "bad", 8000);
  else toast(`已办结（${out.ticket.outcome}）`, "ok");
  await refresh();
}

function finishForm(ticket, desk, close) {
  const error = el("p", { class: "error-text", id: "finish-error" });
  const detail = el("div", { id: "finish-detail" });
  const items = desk.items.length ? desk.items : [...state.catalog.values()].map((i) => ({ code: i.code, name: i.name }));
  const itemSelect = el(
    "select",
    { class: "input", name: "item_code", id: "finish-item" },
    el("option", { value: "" }, "请选择所办事项"),
    items.map((i) => el("option", { value: i.code, selected: i.code === ticket.item_code }, i.name)),
  );
  const outcome = () => (form.elements.outcome.value || "");
  const redraw = () => {
    detail.replaceChildren(...outcomeFields(outcome(), state.catalog.get(itemSelect.value)));
    error.textContent = "";
  };
  const form = el(
    "form",
    { class: "finish-form", onsubmit: (e) => submitFinish(e, form, close, error) },
    el("label", { class: "field" }, el("span", {}, "所办事项"), itemSelect),
    el("div", { class: "field" }, el("span", {}, "办理结果"), el("div", { class: "choice", id: "outcomes" }, OUTCOMES.map((o) => el("label", {}, el("input", { type: "radio", name: "outcome", value: o, onchange: redraw }), o)))),
    detail,
    el("label", { class: "field" }, el("span", {}, "备注（可不填）"), el("input", { class: "input", name: "note", maxlength: 200 })),
    error,
    el("div", { class: "actions" }, el("button", { type: "button", class: "btn", onclick: () => close(null) }, "取消"), el("button", { type: "submit", class: "btn btn-primary", id: "finish-submit" }, "确认办结")),
  );
  itemSelect.addEventListener("change", redraw);
  return form;
}

function outcomeFields(outcome, item) {
  const out = [];
  if (PAPER[outcome]) out.push(el("p", { class: "muted small" }, `办结后自动在本窗口打印机打印${PAPER[outcome]}。`));
  if (outcome === "补正" || outcome === "容缺受理") {
    if (!item) return [...out, el("p", { class: "error-text" }, "请先选择所办事项，再勾选材料。")];
    const list = item.materials.filter((m) => !m.data_shared && (outcome === "补正" || m.rongque));
    const label = outcome === "补正" ? "缺少的材料（一次性告知，须列明全部）" : "容缺的材料（仅限指南中可容缺的材料）";
    out.push(
      el("div", { class: "field" }, el("span", {}, label), el("div", { class: "checks", id: "material-picker" }, list.length ? list.map((m) => el("label", {}, el("input", { type: "checkbox", name: "materials", value: m.name }), el("span", {}, m.name, el("span", { class: "muted small" }, ` ${m.kind}${m.copies ? ` ${m.copies}份` : ""}`)))) : el("span", { class: "muted" }, "该事项没有可容缺的材料"))),
      el("label", { class: "field" }, el("span", {}, outcome === "补正" ? "补正期限（不填按规定工作日计算）" : "补齐期限（不填按指南规定计算）"), el("input", { class: "input", name: "deadline", placeholder: "年-月-日，如 2026-12-01" })),
    );
  }
  if (outcome === "不予受理") {
    out.push(el("label", { class: "field" }, el("span", {}, "不予受理理由（必填，打印在凭证上）"), el("textarea", { class: "input", name: "reason", maxlength: 200, id: "reject-reason" })));
  }
  if (outcome === "受理" || outcome === "当场办结" || outcome === "容缺受理") {
    if (item) out.push(receivedPicker(item, outcome));
    out.push(el("label", { class: "field" }, el("span", {}, "送达方式"), el("select", { class: "input", name: "delivery" }, DELIVERIES.map((d) => el("option", { value: d }, d)))));
  }
  return out;
}

// What the applicant actually handed in: the 受理凭证 prints only the ticked materials as 已收, the guide's
// other unconditional required ones as 需补正. Those start ticked (the usual case); optional ones and those
// the guide demands only in some cases (one proof of three) start unticked.
function receivedPicker(item, outcome) {
  const list = item.materials.filter((m) => !m.data_shared);
  const note = outcome === "容缺受理" ? "（容缺的材料另在上方勾选，不算已收）" : "";
  return el(
    "div",
    { class: "field" },
    el("span", {}, `收到的材料（打印在受理凭证上；未勾选的必交材料列为需补正）${note}`),
    el(
      "div",
      { class: "checks", id: "received-picker" },
      list.map((m) =>
        el(
          "label",
          {},
          el("input", { type: "checkbox", name: "received", value: m.name, checked: m.required && !m.condition }),
          el("span", {}, m.name, el("span", { class: "muted small" }, ` ${m.kind}${m.copies ? ` ${m.copies}份` : ""}${m.required && !m.condition ? "" : "（视情况）"}`), m.condition ? el("div", { class: "muted small" }, m.condition) : null),
        ),
      ),
    ),
  );
}

async function submitFinish(e, form, close, error) {
  e.preventDefault();
  const f = form.elements;
  const outcome = f.outcome.value;
  if (!outcome) return (error.textContent = "请选择办理结果");
  const body = { outcome };
  if (f.item_code.value && f.item_code.value !== state.view.ticket.item_code) body.item_code = f.item_code.value;
  if (f.note.value.trim()) body.note = f.note.value.trim();
  const picked = [...form.querySelectorAll("input[name=materials]:checked")].map((i) => i.value);
  if (picked.length) body.materials = picked;
  if (f.deadline && f.deadline.value) body.deadline = f.deadline.value;
  if (f.reason) body.reason = f.reason.value.trim();
  if (f.delivery) body.delivery = f.delivery.value;
  if (form.querySelector("#received-picker")) body.received = [...form.querySelectorAll("input[name=received]:checked")].map((i) => i.value);
  const submit = $("#finish-submit", form);
  submit.disabled = true;
  try {
    close(await api(`windows/${state.windowId}/finish`, { body, quiet: true }));
  } catch (err) {
    error.textContent = err.message; // the server's own words (FinishDetails validation)
  } finally {
    submit.disabled = false;
  }
}

async function reprint(visitId) {
  const p = await api(`windows/${state.windowId}/reprint`, { body: visitId ? { visit_id: visitId } : {} });
  if (p.job_id) toast(`${p.label}已重新发送到窗口打印机`, "ok");
  else toast(`${p.label}未能打印：${p.error}`, "bad", 8000);
}

async function loadVisits() {
  const rows = await api(`visits?window_id=${state.windowId}`, { quiet: true }).catch(() => []);
  const box = $("#visits");
  if (!rows.length) return box.replaceChildren(el("p", { class: "muted" }, "今日本窗口暂无办件"));
  box.replaceChildren(
    el(
      "table",
      { class: "grid", id: "visit-table" },
      el("tr", {}, el("th", {}, "号码"), el("th", {}, "事项"), el("th", {}, "结果"), el("th", { class: "num" }, "办理"), el("th", {}, "")),
      rows
        .slice()
        .reverse()
        .map((v) =>
          el(
            "tr",
            {},
            el("td", {}, v.ticket),
            el("td", {}, v.item_code ? (state.catalog.get(v.item_code) || { name: v.item_code }).name : "—", v.serial_no ? el("div", { class: "muted small" }, v.serial_no) : null),
            el("td", {}, v.outcome),
            el("td", { class: "num" }, `${v.service_min}分钟`),
            el("td", {}, PAPER[v.outcome] ? el("button", { class: "btn btn-small", onclick: () => run(() => reprint(v.id)) }, "打印") : null),
          ),
        ),
    ),
  );
}

// Start last: every const above is initialised by then.
const user = await boot();
if (user) {
  state.user = user;
  await init();
  document.body.dataset.ready = "1"; // tests wait for this before pressing keys
}
