"""HTML of the city console's pages, built with escaping (html.escape) around every value."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from html import escape

from city.auth import CityUser
from city.monitor import Alert, HallLive, Overdue
from city.partitions import SHANGHAI
from city.registry import CITY_LEVELS
from city.reports import DIMENSION_LABELS, ReportRow

NAV = (("halls", "各大厅"), ("alerts", "告警"), ("reports", "统计报表"), ("overdue", "超期清单"))
SITE_KINDS = {"hall": "大厅", "self_service_point": "24小时自助点"}
OVERDUE_KINDS = {"case": "办件", "rectification": "差评整改", "complaint": "投诉"}


def e(value: object) -> str:
    """Escaped text; a dash for nothing."""
    return "—" if value is None or value == "" else escape(str(value))


def _doc(title: str, body: str, page: str) -> str:
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{e(title)} · 城市政务服务监管</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="/console/static/console.css">'
        f'</head><body data-page="{page}">{body}</body></html>'
    )


def layout(user: CityUser, active: str, title: str, main: str) -> str:
    """A page with the header, the nav and the logged-in user."""
    links = "".join(
        f'<a class="nav-link{" active" if key == active else ""}" href="/console/{key}">{label}</a>'
        for key, label in NAV
    )
    role = "市级管理员" if user.is_admin else "查看"
    header = (
        '<header id="top"><div class="brand">城市政务服务监管平台</div>'
        f'<nav id="nav">{links}</nav><div class="who"><span id="who">{e(user.display_name)}</span>'
        f'<span class="badge">{role}</span><form method="post" action="/console/logout">'
        '<button class="btn btn-small" id="logout" type="submit">退出</button></form></div></header>'
    )
    return _doc(title, f"{header}<main id='main'><h1>{e(title)}</h1>{main}</main>", active)


def login(error: str = "", username: str = "") -> str:
    """The login form."""
    body = (
        '<div class="login-title">城市政务服务监管平台</div><main><section class="panel login-box">'
        '<h1>市级账号登录</h1><form id="login-form" method="post" action="/console/login">'
        '<label class="field"><span>用户名</span><input class="input" name="username" id="username" '
        f'value="{escape(username)}" autocomplete="username" required autofocus></label>'
        '<label class="field"><span>密码</span><input class="input" name="password" id="password" type="password" '
        'autocomplete="current-password" required></label>'
        f'<p class="error-text" id="login-error">{escape(error)}</p>'
        '<button class="btn btn-primary" type="submit" id="login-submit" style="width:100%">登录</button>'
        "</form></section></main>"
    )
    return _doc("登录", body, "login")


def _table(table_id: str, head: Sequence[str], rows: Iterable[str], empty: str) -> str:
    cells = "".join(f'<th class="{"num" if h.startswith("#") else ""}">{e(h.lstrip("#"))}</th>' for h in head)
    body = "".join(rows) or f'<tr><td colspan="{len(head)}" class="muted">{e(empty)}</td></tr>'
    return f'<table class="grid" id="{table_id}"><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>'


def _ago(minutes: int | None) -> str:
    if minutes is None:
        return "从未上报"
    if minutes < 1:
        return "刚刚"
    return f"{minutes} 分钟前" if minutes < 120 else f"{minutes // 60} 小时前"


def _stat(label: str, value: object, ident: str) -> str:
    return (
        f'<div class="stat"><span class="stat-label">{e(label)}</span>'
        f'<span class="stat-value" id="{ident}">{e(value)}</span></div>'
    )


def halls(user: CityUser, now: datetime, found: list[HallLive], alerts_: list[Alert], silent_min: int) -> str:
    """各大厅: one row per hall."""
    rows = []
    for h in found:
        silent = h.silent_min is None or h.silent_min >= silent_min
        link = "badge bad" if silent else "badge ok"
        devices = "—" if h.devices_online is None else f"{h.devices_online} 在线 / {h.devices_offline} 离线"
        rows.append(
            f'<tr data-hall="{e(h.code)}"><td>{e(h.code)}</td><td>{e(h.name)}</td><td>{e(h.level)}</td>'
            f"<td>{e(SITE_KINDS.get(h.site_kind, h.site_kind))}</td>"
            f'<td class="num">{e(h.waiting)}</td><td class="num">{e(h.longest_wait_min)}</td>'
            f'<td class="num">{e(h.open_windows)}</td><td>{e(devices)}</td>'
            f'<td class="num">{h.upto}</td><td class="num{" bad" if h.backlog else ""}">{h.backlog}</td>'
            f'<td><span class="{link}">{e(_ago(h.silent_min))}</span></td></tr>'
        )
    stats = (
        '<div class="stats">'
        + _stat("大厅和自助点", len(found), "stat-halls")
        + _stat("正在等候", sum(h.waiting or 0 for h in found), "stat-waiting")
        + _stat("开放窗口", sum(h.open_windows or 0 for h in found), "stat-windows")
        + _stat("离线设备", sum(h.devices_offline or 0 for h in found), "stat-offline")
        + _stat("告警", len(alerts_), "stat-alerts")
        + "</div>"
    )
    table = _table(
        "halls",
        (
            "编码",
            "名称",
            "层级",
            "类型",
            "#等候",
            "#最长等候(分)",
            "#开放窗口",
            "设备",
            "#已确认序号",
            "#未确认",
            "最近上报",
        ),
        rows,
        "尚未登记任何大厅：hallq city hall add",
    )
    at = (
        f'<p class="muted">数据时间：{now.astimezone(SHANGHAI):%Y-%m-%d %H:%M}。'
        "“未确认”是已收到的最大序号与已确认序号之差：中间缺号时，缺号之后的记录要等缺号补齐才确认，大厅会重发未确认的记录。</p>"
    )
    return layout(
        user,
        "halls",
        "各大厅实时状态",
        f'<section class="panel">{stats}</section><section class="panel">{at}{table}</section>',
    )


ALERT_BADGES = {"silent": "bad", "devices": "warn", "long_wait": "warn", "refused": "bad"}


def alerts(user: CityUser, now: datetime, found: list[Alert]) -> str:
    """告警: every alert, hall by hall."""
    items = "".join(
        f'<li data-kind="{e(a.kind)}"><span class="badge {ALERT_BADGES.get(a.kind, "bad")}">{e(a.hall_name)}</span> '
        f"{e(a.message)}</li>"
        for a in found
    )
    body = items or '<li class="muted">目前没有告警</li>'
    return layout(
        user,
        "alerts",
        "跨大厅告警",
        f'<section class="panel"><ul class="alerts-list" id="alerts">{body}</ul></section>',
    )


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def report(user: CityUser, month: str, by: str, level: str | None, rows: list[ReportRow], error: str | None) -> str:
    """统计报表: the filter form and the table."""
    by_opts = "".join(
        f'<option value="{k}"{" selected" if k == by else ""}>按{v}</option>' for k, v in DIMENSION_LABELS.items()
    )
    level_opts = '<option value="">全部层级</option>' + "".join(
        f'<option value="{lv}"{" selected" if lv == level else ""}>{lv}</option>' for lv in CITY_LEVELS
    )
    form = (
        '<form class="filters" method="get" action="/console/reports" id="report-form">'
        '<label class="field"><span>月份</span><input class="input" type="month" name="month" id="month" '
        f'value="{e(month)}"></label>'
        f'<label class="field"><span>统计维度</span><select class="input" name="by" id="by">{by_opts}</select>'
        "</label>"
        f'<label class="field"><span>层级</span><select class="input" name="level" id="level">{level_opts}'
        "</select></label>"
        '<button class="btn btn-primary" type="submit">查询</button></form>'
    )
    lines = [
        f'<tr data-key="{e(r.key)}"><td>{e(r.label)}</td><td class="num">{r.visits}</td>'
        f'<td class="num">{e(r.avg_wait_min)}</td><td class="num">{e(r.p90_wait_min)}</td>'
        f'<td class="num">{r.ratings}</td><td class="num">{_pct(r.good_rate)}</td><td class="num">{r.bad}</td>'
        f'<td class="num">{r.rect_due}</td><td class="num">{_pct(r.rect_on_time_rate)}</td>'
        f'<td class="num">{r.cases_due}</td><td class="num">{_pct(r.cases_on_time_rate)}</td></tr>'
        for r in rows
    ]
    head = (
        DIMENSION_LABELS.get(by, "维度"),
        "#办件人次",
        "#平均等候(分)",
        "#P90等候(分)",
        "#评价数",
        "#好评率",
        "#差评",
        "#应整改",
        "#整改按时率",
        "#到期办件",
        "#限时办结率",
    )
    err = f'<p class="error-text" id="report-error">{e(error)}</p>' if error else ""
    table = _table("report", head, lines, "本月暂无数据")
    return layout(user, "reports", f"统计报表 · {month}", f'<section class="panel">{form}{err}{table}</section>')


def overdue(user: CityUser, today: date, items: list[Overdue]) -> str:
    """超期清单: open items past due, oldest first."""
    rows = [
        f'<tr class="overdue" data-kind="{e(o.kind)}"><td>{e(OVERDUE_KINDS.get(o.kind, o.kind))}</td>'
        f"<td>{e(o.hall_name)}</td><td>{e(o.ref)}</td><td>{e(o.department)}</td><td>{e(o.what)}</td>"
        f'<td>{o.due:%Y-%m-%d}</td><td class="num bad">{o.days_late}</td></tr>'
        for o in items
    ]
    table = _table("overdue", ("类别", "大厅", "编号", "部门", "事项", "到期日", "#超期天数"), rows, "没有超期事项")
    return layout(user, "overdue", f"超期清单（截至 {today:%Y-%m-%d}）", f'<section class="panel">{table}</section>')
