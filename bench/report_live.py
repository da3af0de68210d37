"""Report sections of the live system: load phases per backend, call → display, memory, the profile."""

from __future__ import annotations

import math

from bench.load_stats import P99_LIMIT_MS, BackendResult, Phase
from bench.report_format import Extras, f, table


def _phase_row(p: Phase) -> list[str]:
    return [
        f"{p.rate:.0f}/s",
        str(p.sent),
        f(p.latency.p50, 2),
        f(p.latency.p95, 2),
        f(p.latency.p99, 2),
        f(p.achieved, 0) + "/s",
        str(p.timeouts),
        ", ".join(f"{k}×{v}" for k, v in p.refused.items()) or "0",
        f(p.send_lag_ms, 2),
    ]


PHASE_HEADER = [
    "提供速率",
    "请求数",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "实际应答",
    "超时(>5 s)",
    "拒绝",
    "发送端滞后 p99 ms",
]


def _printer_line(r: BackendResult) -> str:
    if r.backend != "sqlite":
        return ""
    return (
        "**打印作业 → 打印机字节**：由 `python -m bench.printer_latency` 测量（真实打印代理 + TCP 9100 打印机模拟器，"
        "逐个作业），结果见第四部分附录。"
    )


def live_section(results: list[BackendResult]) -> str:
    """Live-system tables per backend."""
    out = ["## 一、现场系统压测（真实 Mosquitto + 真实大厅服务器与网关，回环地址）", ""]
    if not results:
        return "\n".join([*out, "（本次未运行现场压测：`python -m bench --no-live`。）", ""])
    r0 = results[0]
    out += [
        f"{r0.kiosks} 台模拟自助机各用自己的设备账号登录由大厅配置生成的 Mosquitto，向独立进程中的大厅服务器"
        "（create_app + 总线网关，单工作线程按到达顺序处理请求）发送 `ticket.issue`。开环：请求按时刻表发出，"
        "不等前一个应答；时延从**计划发送时刻**算起（服务器跟不上时排队时间全部计入），5 秒无应答计为超时。"
        "每个阶段使用新的办公日（号码每日重置），开始时库里已有 1000 人在等候（不是空的一天）；每个固定速率测 3 次，"
        "给出最小/中位/最大值，阶梯搜索遇到第一个不合格速率即停止（不重测）。PostgreSQL 使用持久化设置"
        "（fsync=on，synchronous_commit=on）。发号请求混合各队列（实名队列带身份证号，咨询类匿名）。",
        "",
    ]
    for r in results:
        out += [f"### {r.backend}（本后端用时 {r.seconds:.0f} 秒{'，' + r.settings if r.settings else ''}）", ""]
        out += [
            "**固定提供速率下的 ticket.issue 往返时延**",
            "",
            table(PHASE_HEADER, [_phase_row(p) for p in r.fixed]),
            "",
        ]
        out += [
            f"**阶梯搜索：p99 < {P99_LIMIT_MS:.0f} ms 且无超时、应答跟得上的最高速率 = {r.best_rate:.0f} 次/秒**",
            "",
            table(PHASE_HEADER, [_phase_row(p) for p in r.search]),
            "",
        ]
        bare = r.bare
        issue50 = r.fixed[0].latency if r.fixed else None
        out += [
            "**基线：同一次运行中的裸 Mosquitto 往返**（QoS 1，发布→自己收到）："
            f"p50 {f(bare.p50, 3)} ms，p95 {f(bare.p95, 3)} ms，p99 {f(bare.p99, 3)} ms。",
        ]
        if issue50:
            out += [
                f"{r.fixed[0].rate:.0f} 次/秒时 ticket.issue p50 / 裸往返 p50 = {issue50.p50 / bare.p50:.0f}×，"
                f"p99 / p99 = {issue50.p99 / bare.p99:.0f}×：时间几乎全在服务器处理（数据库与状态发布），不在总线。",
            ]
        out.append("")
        if extras_printer := _printer_line(r):
            out += [extras_printer, ""]
        if r.call_display and r.call_reply:
            c, d = r.call_reply, r.call_display
            out += [
                f"**叫号 → 显示屏**（caller-w01 发 window.call_next，display-w01 收到 hall/demo/call，n={d.n}）："
                f"p50 {f(d.p50, 2)} ms，p95 {f(d.p95, 2)} ms，p99 {f(d.p99, 2)} ms；"
                f"叫号应答本身 p50 {f(c.p50, 2)} ms，p99 {f(c.p99, 2)} ms。",
                "",
            ]
        if r.day:
            d = r.day
            out += [
                f"**模拟一天后的服务器内存**：在上述测量之后，再走一个完整的办公日：{d.visits} 人次"
                f"（{d.issued} 张号，{d.served} 人办结：取号→叫号→开始→办结，20 个窗口的叫号器同时工作），"
                f"共 {d.requests} 个总线请求，用时 {d.seconds:.0f} 秒（大厅时钟加速）。服务器进程 RSS："
                f"刚启动 {r.memory_start.get('rss_mib', 0):.0f} MiB，这一天开始前 {d.memory_idle['rss_mib']:.0f} MiB，"
                f"一天后 {d.memory_after['rss_mib']:.0f} MiB（峰值 {d.memory_after['peak_mib']:.0f} MiB），"
                f"全部结束时 {r.memory_end.get('rss_mib', 0):.0f} MiB：内存不随业务量增长。"
                f"这一天里取号 p99 {f(d.issue_latency.p99, 1)} ms，叫号 p99 {f(d.call_latency.p99, 1)} ms。"
                + (f" 拒绝/失败：{d.refused}。" if d.refused else ""),
                "",
            ]
        if r.after_day:
            out += [
                "**数据库里有了一天的办结记录之后**，同样的提供速率再测一次（与新库对比；历史数据的影响见“瓶颈剖析”）：",
                "",
                table(PHASE_HEADER, [_phase_row(p) for p in r.after_day]),
                "",
            ]
    return "\n".join(out)


def _history_label(visits: int) -> str:
    days = visits / 3600
    if days == 0:
        return "新库"
    if days <= 1:
        return "1 天"
    return f"约 {days:.0f} 个工作日"


def profile_section(extras: Extras) -> str:
    """Where the server's time per ticket.issue goes, and what the proposed changes would save."""
    b = extras.profile
    if b is None:
        return ""
    out = [
        "### 瓶颈剖析：一次 ticket.issue 在网关工作线程上花在哪里",
        "",
        f"`python -m bench.profile_issue`：直接调用网关的请求处理函数 {b.n} 次（{b.backend}，cProfile 下"
        f" {b.per_request_ms:.2f} ms/次）。",
        "",
        table(["阶段", "ms/次（含剖析开销）"], [[k, f(v, 2)] for k, v in b.stages.items()]),
        "",
    ]
    if extras.history:
        h = extras.history
        grows = max(h.values()) > 2 * h.get(0, math.inf)
        why = (
            "取号随历史线性变慢：`estimates.mean_service_minutes` 取各队列“最近 20 次办理”时没有可用的索引，"
            "每次都扫描并排序全部往日记录，一次取号调用它多次（回执的预计等候、queue/state 的每个队列），叫号也一样。"
            if grows
            else "往日记录不再影响取号耗时（各队列“最近 20 次办理”的查询有索引可走）。"
            "首次运行本基准时（索引加入之前）一个月的记录会让每次取号从约 4 ms 变成约 70 ms。"
        )
        out += [
            "**历史数据的影响**：数据库中已有 N 个往日办结记录时，每次取号的耗时（无剖析，`history_effect`）。" + why,
            "",
            table(
                ["往日办结记录", "相当于（县级大厅）", "ms/次取号", "单工作线程上限"],
                [[str(h), _history_label(h), f(ms, 2), f"{1000 / ms:.0f}/s"] for h, ms in extras.history.items()],
            ),
            "",
        ]
    if extras.what_if:
        out += [
            f"**假设验证**（已有 {extras.what_if_history} 条往日记录；只在基准进程内打补丁或给临时库加索引，"
            "不改产品代码；见 bench/profile_issue.py `_patched`、`_add_index`）：",
            "",
            table(
                ["服务器实现", "ms/次（无剖析）", "单工作线程上限"],
                [[k, f(v, 2), f"{1000 / v:.0f}/s"] for k, v in extras.what_if.items()],
            ),
            "",
        ]
    return "\n".join(out)


# --- simulator ---
