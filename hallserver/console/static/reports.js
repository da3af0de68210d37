// 统计报表: day/month/quarter/year × window/staff/item/department, charts drawn by the server as SVG,
// CSV and Excel downloads, and the link to the printable 月考核表.
import { $, api, boot, el, toast } from "./common.js";

const COLUMNS = [
  ["name", "名称"],
  ["visits", "办件量"],
  ["wait_mean_min", "平均等候（分）"],
  ["wait_p90_min", "90%等候（分）"],
  ["service_mean_min", "平均办理（分）"],
  ["service_p90_min", "90%办理（分）"],
  ["rated", "评价数"],
  ["good_rate", "好评率"],
  ["bad", "差评数"],
  ["rectifications", "整改数"],
  ["rectified_on_time_rate", "按期整改率"],
];
// 限时办结 per department and item (a case is not a window's or a person's)
const CASE_COLUMNS = [
  ["cases_due", "应办结件数"],
  ["on_time_rate", "按时办结率"],
];
const RATES = new Set(["good_rate", "rectified_on_time_rate", "on_time_rate"]);
const CHARTS = ["visits", "times", "good_rate", "trend", "trend_times"];
const state = { period: "day", by: "window", day: null };

function pct(v) {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
}

function query(extra = {}) {
  return new URLSearchParams({ period: state.period, by: state.by, day: state.day, ...extra }).toString();
}

function weighted(rows, key, weight) {
  const total = rows.reduce((n, r) => n + (r[weight] || 0), 0);
  if (!total) return null;
  return rows.reduce((s, r) => s + (r[key] === null ? 0 : r[key] * r[weight]), 0) / total;
}

function columns() {
  return state.by === "department" || state.by === "item" ? [...COLUMNS, ...CASE_COLUMNS] : COLUMNS;
}

function renderStats(rows, cases) {
  const visits = rows.reduce((n, r) => n + r.visits, 0);
  const rated = rows.reduce((n, r) => n + r.rated, 0);
  const bad = rows.reduce((n, r) => n + r.bad, 0);
  const rects = rows.reduce((n, r) => n + r.rectifications, 0);
  const wait = weighted(rows, "wait_mean_min", "visits");
  const service = weighted(rows, "service_mean_min", "visits");
  // Over the rectifications that are due (closed, or open past their deadline): one still within its
  // deadline is neither on time nor late yet.
  const due = rows.reduce((n, r) => n + (r.rectifications_due || 0), 0);
  const onTime = weighted(rows, "rectified_on_time_rate", "rectifications_due");
  const stat = (label, value, id) =>
    el("div", { class: "stat", id }, el("span", { class: "stat-label" }, label), el("span", { class: "stat-value" }, value));
  $("#report-stats").replaceChildren(
    stat("办件量", visits, "sum-visits"),
    stat("平均等候", wait === null ? "—" : `${wait.toFixed(1)}分`, "sum-wait"),
    stat("平均办理", service === null ? "—" : `${service.toFixed(1)}分`, "sum-service"),
    stat("好评率", rated ? pct((rated - bad) / rated) : "—", "sum-good"),
    stat("差评数", bad, "sum-bad"),
    stat("按期整改率", due ? pct(onTime) : rects ? "未到期" : "—", "sum-ontime"),
    stat(
      "按时办结率",
      cases.rate === null ? "—" : `${pct(cases.rate)}（${cases.on_time}/${cases.on_time + cases.late + cases.open_overdue}件）`,
      "sum-cases-ontime",
    ),
  );
}

function renderTable(rows) {
  const COLUMNS = columns();
  const head = el("tr", {}, COLUMNS.map(([k, h]) => el("th", { class: k === "name" ? "" : "num" }, h)));
  const body = rows.map((r) =>
    el(
      "tr",
      { dataset: { key: r.key || "" } },
      COLUMNS.map(([k]) => {
        const v = r[k];
        let text = RATES.has(k) ? pct(v) : v === null || v === undefined ? "—" : v;
        if (k === "rectified_on_time_rate" && v === null && r.rectifications) text = "未到期";
        return el("td", { class: k === "name" ? "name" : "num", dataset: { col: k } }, text);
      }),
    ),
  );
  $("#report-table").replaceChildren(
    el("thead", {}, head),
    el("tbody", {}, body.length ? body : el("tr", {}, el("td", { colspan: COLUMNS.length, class: "muted" }, "本期没有办件记录"))),
  );
  $("#row-count").textContent = `共${rows.length}行`;
}

function renderCharts(charts) {
  // The SVG comes from our own server, built from escaped labels; it is inserted as markup on purpose.
  $("#charts").replaceChildren(
    ...CHARTS.map((name) => {
      const box = el("div", { class: "chart", dataset: { chart: name } });
      box.innerHTML = charts[name];
      return box;
    }),
  );
}

async function load() {
  const [report, charts] = await Promise.all([api(`reports?${query()}`), api(`reports/charts?${query()}`)]);
  $("#report-range").textContent = `统计区间：${report.from} 至 ${report.to}`;
  renderStats(report.rows, report.on_time);
  renderTable(report.rows);
  renderCharts(charts);
  const quarter = Math.floor((Number(state.day.slice(5, 7)) - 1) / 3) + 1;
  const sheet = { quarter: `quarter=${state.day.slice(0, 4)}-Q${quarter}`, year: `year=${state.day.slice(0, 4)}` };
  $("#assessment-link").href = `/console/reports-assessment?${sheet[state.period] || `month=${state.day.slice(0, 7)}`}`;
  document.body.dataset.loaded = `${state.period}-${state.by}-${state.day}`;
}

async function download(format) {
  const response = await api(`reports?${query({ format })}`, { raw: true });
  const blob = await response.blob();
  const name = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
  const link = el("a", { href: URL.createObjectURL(blob), download: name ? name[1] : `hallq-report.${format}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  toast(`已导出${format === "xlsx" ? "Excel" : "CSV"}文件`, "ok");
  document.body.dataset.downloaded = format;
}

const user = await boot();
if (user) {
  const hall = await api("hall", { quiet: true });
  state.day = hall.now.slice(0, 10); // the hall's today, not the browser's
  $("#report-day").value = state.day;
  for (const tab of document.querySelectorAll("#period-tabs .tab")) {
    tab.addEventListener("click", () => {
      document.querySelectorAll("#period-tabs .tab").forEach((t) => t.classList.toggle("active", t === tab));
      state.period = tab.dataset.period;
      load();
    });
  }
  for (const radio of document.querySelectorAll("#by-choice input")) {
    radio.addEventListener("change", () => {
      state.by = radio.value;
      load();
    });
  }
  $("#report-day").addEventListener("change", (e) => {
    if (!e.target.value) return;
    state.day = e.target.value;
    load();
  });
  $("#export-csv").addEventListener("click", () => download("csv"));
  $("#export-xlsx").addEventListener("click", () => download("xlsx"));
  await load();
  document.body.dataset.ready = "1";
}
