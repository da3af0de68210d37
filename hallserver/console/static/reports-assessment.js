// 考核表: the staff assessment sheet of a month (月考核), a quarter (季考评) or a year (年总评), with the
// departments' 限时办结 on-time rate, laid out for printing on A4 landscape.
import { $, api, boot, el, toast } from "./common.js";

const LOW_GOOD_RATE = 0.9; // below this the rate is printed in red
const TEXT_COLUMNS = ["department", "windows"];

function cell(column, row) {
  const v = row[column.key];
  if (v === null || v === undefined || v === "") return el("td", {}, "—");
  if (column.number_format === "0.0%") {
    return el("td", { class: v < LOW_GOOD_RATE ? "low" : "" }, `${(v * 100).toFixed(1)}%`);
  }
  const cls = column.key === "name" ? "name" : TEXT_COLUMNS.includes(column.key) ? "text" : "";
  return el("td", { class: cls, dataset: { col: column.key } }, v);
}

function table(id, columns, rows, key, empty) {
  return el(
    "table",
    { class: "assess", id },
    el("thead", {}, el("tr", {}, el("th", {}, "序号"), columns.map((c) => el("th", { title: c.meaning }, c.header)))),
    el(
      "tbody",
      {},
      rows.length
        ? rows.map((r, i) => el("tr", { dataset: key(r) }, el("td", {}, i + 1), columns.map((c) => cell(c, r))))
        : el("tr", {}, el("td", { colspan: columns.length + 1, class: "muted" }, empty)),
    ),
  );
}

function onTimeText(f) {
  const rate = f.on_time_rate === null || f.on_time_rate === undefined ? "—（本期尚无到期办件）" : `${(f.on_time_rate * 100).toFixed(1)}%`;
  return `限时办结：应办结 ${f.cases_due} 件，按时办结 ${f.cases_on_time} 件，超期办结 ${f.cases_late} 件，超期未办结 ${f.cases_overdue} 件，按时办结率 ${rate}`;
}

function render(data) {
  const columns = data.columns;
  $("#sheet").replaceChildren(
    el("h1", { id: "sheet-title" }, data.title),
    el("p", { class: "subtitle", id: "sheet-period" }, data.period_line),
    data.partial
      ? el("p", { class: "partial-note", id: "partial-note" }, `${data.period_text}尚未结束：以下为截至今日的数据，不是全期结果。`)
      : "",
    el("p", { class: "subtitle", id: "hall-on-time" }, onTimeText(data.on_time)),
    el("h2", {}, "一、工作人员"),
    table("assessment-table", columns, data.rows, (r) => ({ staff: r.staff_id }), "本期没有考核对象"),
    el("h2", {}, "二、部门汇总（通报派驻单位）"),
    table("department-table", data.department_columns, data.departments, (r) => ({ department: r.department }), "本期没有部门办件记录"),
    ...(data.complaints
      ? [
          el("h2", {}, "三、投诉及办不成事反映（全中心）"),
          el(
            "table",
            { class: "assess complaints", id: "complaints-table" },
            el("thead", {}, el("tr", {}, el("th", {}, "项目"), el("th", {}, "件数"))),
            el("tbody", {}, data.complaints.map((c) => el("tr", {}, el("td", { class: "text" }, c.item), el("td", {}, c.count)))),
          ),
        ]
      : []),
    el(
      "div",
      { class: "legend", id: "legend" },
      el("p", {}, el("strong", {}, "指标说明：")),
      [...columns, ...data.department_columns].map((c) => el("p", {}, el("strong", {}, `${c.header}：`), c.meaning)),
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

// The chosen period as the API's query: month=YYYY-MM, quarter=YYYY-Qn or year=YYYY.
function chosen() {
  const period = $("#period").value;
  if (period === "month") return ["month", $("#month").value];
  if (period === "quarter") return ["quarter", `${$("#year").value}-Q${$("#quarter").value}`];
  return ["year", $("#year").value];
}

function showFields() {
  const period = $("#period").value;
  document.querySelectorAll("[data-for]").forEach((f) => {
    f.hidden = !f.dataset.for.split(" ").includes(period);
  });
}

async function load() {
  const [period, value] = chosen();
  if (!value) return;
  document.body.dataset.loaded = "";
  try {
    render(await api(`reports/assessment?${period}=${encodeURIComponent(value)}`));
  } catch {
    return; // api() has shown the server's message
  }
  history.replaceState(null, "", `?${period}=${value}`);
  document.body.dataset.loaded = `${period}-${value}`;
}

async function downloadXlsx() {
  const [period, value] = chosen();
  const response = await api(`reports/assessment?${period}=${encodeURIComponent(value)}&format=xlsx`, { raw: true });
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `hallq-${period}-assessment-${value}.xlsx` });
  document.body.append(link);
  link.click();
  link.remove();
  toast("已导出考核表Excel文件", "ok");
}

const user = await boot();
if (user) {
  const params = new URLSearchParams(location.search);
  const hall = await api("hall", { quiet: true });
  const today = hall.now.slice(0, 10);
  $("#month").value = today.slice(0, 7);
  $("#year").value = today.slice(0, 4);
  $("#quarter").value = String(Math.floor((Number(today.slice(5, 7)) - 1) / 3) + 1);
  const month = params.get("month");
  const quarter = params.get("quarter");
  const year = params.get("year");
  if (quarter && /^\d{4}-Q[1-4]$/.test(quarter)) {
    $("#period").value = "quarter";
    [$("#year").value, $("#quarter").value] = [quarter.slice(0, 4), quarter.slice(6)];
  } else if (year && /^\d{4}$/.test(year)) {
    $("#period").value = "year";
    $("#year").value = year;
  } else if (month && /^\d{4}-\d{2}$/.test(month)) {
    $("#month").value = month;
  }
  showFields();
  $("#period").addEventListener("change", () => {
    showFields();
    load();
  });
  for (const id of ["#month", "#year", "#quarter"]) $(id).addEventListener("change", () => load());
  $("#print").addEventListener("click", () => window.print());
  $("#assessment-xlsx").addEventListener("click", () => downloadXlsx());
  await load();
  document.body.dataset.ready = "1";
}
