// 月考核表: the monthly staff assessment sheet, laid out for printing on A4 landscape.
import { $, api, boot, el, toast } from "./common.js";

const LOW_GOOD_RATE = 0.9; // below this the rate is printed in red

function cell(column, row) {
  const v = row[column.key];
  if (v === null || v === undefined || v === "") return el("td", {}, "—");
  if (column.number_format === "0.0%") {
    return el("td", { class: v < LOW_GOOD_RATE ? "low" : "" }, `${(v * 100).toFixed(1)}%`);
  }
  const cls = ["name", "department", "windows"].includes(column.key) ? (column.key === "name" ? "name" : "text") : "";
  return el("td", { class: cls }, v);
}

function render(data) {
  const [year, month] = data.month.split("-");
  const columns = data.columns;
  $("#sheet").replaceChildren(
    el("h1", {}, `${data.hall}工作人员月考核表`),
    el("p", { class: "subtitle" }, `考核月份：${year}年${Number(month)}月（${data.from} 至 ${data.to}），当月工作日 ${data.working_days} 天`),
    el(
      "table",
      { class: "assess", id: "assessment-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "序号"), columns.map((c) => el("th", { title: c.meaning }, c.header)))),
      el(
        "tbody",
        {},
        data.rows.map((r, i) => el("tr", { dataset: { staff: r.staff_id } }, el("td", {}, i + 1), columns.map((c) => cell(c, r)))),
      ),
    ),
    el(
      "div",
      { class: "legend", id: "legend" },
      el("p", {}, el("strong", {}, "指标说明：")),
      columns.map((c) => el("p", {}, el("strong", {}, `${c.header}：`), c.meaning)),
      el("p", {}, "说明：本系统不记录考勤，“有办件天数”“平均首次叫号”“平均末次办结”仅由办件记录推算，供参考。"),
    ),
    el(
      "div",
      { class: "signatures" },
      el("span", {}, "制表人："),
      el("span", {}, "审核人："),
      el("span", {}, "日期：        年    月    日"),
    ),
  );
}

async function load(month) {
  const data = await api(`reports/assessment?month=${month}`);
  render(data);
  history.replaceState(null, "", `?month=${month}`);
  document.body.dataset.month = month;
}

async function downloadXlsx(month) {
  const response = await api(`reports/assessment?month=${month}&format=xlsx`, { raw: true });
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `hallq-assessment-${month}.xlsx` });
  document.body.append(link);
  link.click();
  link.remove();
  toast("已导出月考核Excel文件", "ok");
}

const user = await boot();
if (user) {
  const given = new URLSearchParams(location.search).get("month");
  const hall = await api("hall", { quiet: true });
  const month = given && /^\d{4}-\d{2}$/.test(given) ? given : hall.now.slice(0, 7);
  $("#month").value = month;
  $("#month").addEventListener("change", (e) => e.target.value && load(e.target.value));
  $("#print").addEventListener("click", () => window.print());
  $("#assessment-xlsx").addEventListener("click", () => downloadXlsx($("#month").value));
  await load(month);
  document.body.dataset.ready = "1";
}
