"""The bench report a hall manager reads: var/bench/report.md, from the simulator study and the live load."""

from __future__ import annotations

import math
import os
import platform
from datetime import datetime
from pathlib import Path

from bench.hallsim.report import sim_section
from bench.hallsim.study import TARGET_APPOINTMENT_P95, TARGET_RATIO, Study, check
from bench.load_stats import FIXED_RATES, BackendResult
from bench.report_format import Extras, f, pct, table, yes
from bench.report_live import live_section, profile_section

ISSUE_P99_TARGET_MS = 20.0
SUSTAINED_TARGET = 500.0


def _peak_rates(study: Study | None) -> str:
    """The busiest hour's arrivals per second of the simulated halls, for scale."""
    if study is None:
        return ""
    parts = []
    for key, name in (("county", "县级大厅"), ("city", "市级大厅")):
        ref = study.references.get(key)
        if ref:
            parts.append(f"{name}最忙的一小时约 {max(h.arrivals for h in ref.hours) / 3600:.2f} 次/秒")
    return "作为对比，" + "，".join(parts) + "（取号），离服务器上限有两个数量级以上的余量。" if parts else ""


def _again(r: BackendResult) -> str:
    again = [p for p in r.search if p.rate == 200]
    return f"（阶梯搜索中同一速率再测一次：{f(again[0].latency.p99, 0)} ms）" if again else ""


def summary(study: Study | None, live: list[BackendResult], extras: Extras) -> str:
    """The answers to the two questions and the target table."""
    rows = []
    sqlite = next((r for r in live if r.backend == "sqlite"), None)
    lines = ["## 结论摘要", ""]
    if sqlite and sqlite.fixed:
        at200 = next((p for p in sqlite.fixed if p.rate == 200), None)
        at50 = sqlite.fixed[0]
        sustained = max((p.achieved for p in sqlite.fixed + sqlite.search), default=0.0)
        after = next((p for p in sqlite.after_day if p.rate == 100), None)
        fresh = next((p for p in sqlite.search + sqlite.fixed if p.rate == 100), None)
        peaks = _peak_rates(study)
        p99_ok = at200 is not None and at200.latency.p99 <= ISSUE_P99_TARGET_MS and at200.timeouts == 0
        verdict = (
            "200 次/秒 p99 ≤ 20 ms "
            + ("达到" if p99_ok else "未达到")
            + "，持续 500 次/秒"
            + ("达到" if sustained >= SUSTAINED_TARGET * 0.95 else "未达到")
        )
        lines += [
            "**早高峰时系统够快吗？** 对一个大厅的真实负荷来说够快："
            f"50 次/秒取号时往返 p50 {f(at50.latency.p50, 1)} ms、"
            f"p99 {f(at50.latency.p99, 1)} ms，叫号到显示屏 p99 "
            f"{f(sqlite.call_display.p99 if sqlite.call_display else None, 1)} ms；{peaks}"
            f"议题的压力目标：{verdict}。服务器单个网关工作线程每秒最多处理约 {sustained:.0f} 个取号（SQLite，新库），"
            f"p99 < 50 ms 的最高速率为 {sqlite.best_rate:.0f} 次/秒，200 次/秒时 p99 为 "
            f"{f(at200.latency.p99 if at200 else None, 0)} ms{_again(sqlite)}——200 次/秒正好在单线程上限附近，"
            "能否跟上取决于当次运行。数据库里有了一天的办结记录后，100 次/秒时 p99 从 "
            f"{f(fresh.latency.p99 if fresh else None, 0)} ms 变为 {f(after.latency.p99 if after else None, 0)} ms，"
            "而且随历史数据线性变慢。瓶颈（见“瓶颈剖析”）：每次取号 10 次扫描全部往日记录求平均办理时长，"
            "并重算、发布全部队列状态。加一个索引和缓存即可回到 2–5 ms/次。",
            "",
        ]
        if at200:
            rows.append(
                [
                    "ticket.issue p99 @ 200 次/秒（SQLite）",
                    f"≤ {ISSUE_P99_TARGET_MS:.0f} ms",
                    f"{f(at200.latency.p99, 1)} ms",
                    yes(at200.latency.p99 <= ISSUE_P99_TARGET_MS and at200.timeouts == 0),
                    "python -m bench.load --backend sqlite",
                ]
            )
        rows.append(
            [
                "持续取号速率（SQLite）",
                f"≥ {SUSTAINED_TARGET:.0f}/s",
                f"{sustained:.0f}/s（p99<50 ms：{sqlite.best_rate:.0f}/s）",
                yes(sustained >= SUSTAINED_TARGET * 0.95),
                "python -m bench.load --backend sqlite",
            ]
        )
    pg = next((r for r in live if r.backend == "postgresql"), None)
    if pg and pg.fixed:
        at200 = next((p for p in pg.fixed if p.rate == 200), None)
        sustained = max((p.achieved for p in pg.fixed + pg.search), default=0.0)
        rows.append(
            [
                "ticket.issue p99 @ 200 次/秒（PostgreSQL）",
                "（参考）",
                f"{f(at200.latency.p99 if at200 else None, 1)} ms",
                "—",
                "python -m bench.load --backend postgresql",
            ]
        )
        rows.append(
            [
                "持续取号速率（PostgreSQL）",
                f"≥ {SUSTAINED_TARGET:.0f}/s",
                f"{sustained:.0f}/s",
                yes(sustained >= SUSTAINED_TARGET * 0.95),
                "python -m bench.load --backend postgresql",
            ]
        )
    if study is not None:
        county = study.run("county")
        c = check(county, "hallq_balanced")
        p = check(county, "pooled_deadline")
        m = county.metric("hallq_balanced")
        ded, pool = county.metric("dedicated_fifo"), county.metric("pooled_fifo")
        lines += [
            f"**hallq 的分配能减少等候吗？** 能，但还差一步。县级大厅忙碌的周一（3600 人次、30 个窗口）："
            f"专窗分设 FIFO 平均等 {ded.mean_wait:.1f} 分钟，无差别 FIFO {pool.mean_wait:.1f} 分钟，"
            f"hallq 默认 {m.mean_wait:.1f} 分钟（较好基线的 {c.ratio:.2f} 倍）；15 分钟内叫到的比例从 "
            f"{pct(pool.within_15)} 升到 {pct(m.within_15)}；预约按时（P95 迟到 {f(c.appointment_p95)} 分钟），"
            f"绿色通道几乎不等（{f(m.green_mean_wait)} 分钟）。代价是尾部：早高峰中有 {c.over_cap} 个普通号等候超过"
            f" {c.cap:.0f} 分钟（最长 {f(c.walk_in_max)} 分钟），而无差别 FIFO 最长只有 {f(pool.max_wait)} 分钟，"
            f"放弃率 {pct(m.abandonment)} 对 {pct(pool.abandonment)}。原因与建议的 allocation.py 修改见第二部分末尾；"
            f"提案策略在无差别窗口上三项同时达到（{p.ratio:.2f} 倍、预约 P95 {f(p.appointment_p95)} 分钟、"
            f"超限 {p.over_cap} 个）。",
            "",
        ]
        rows.append(
            [
                "hallq 默认平均等候 ÷ 较好基线（县级）",
                f"≤ {TARGET_RATIO}",
                f"{c.ratio:.2f}",
                yes(c.ratio <= TARGET_RATIO),
                "python -m bench.hallsim county",
            ]
        )
        rows.append(
            [
                "预约 P95 迟到（县级，hallq 默认）",
                f"≤ {TARGET_APPOINTMENT_P95:.0f} 分钟",
                f"{f(c.appointment_p95)} 分钟",
                yes(c.appointment_p95 <= TARGET_APPOINTMENT_P95),
                "python -m bench.hallsim county",
            ]
        )
        rows.append(
            [
                "普通号超过防饿死上限（县级，hallq 默认）",
                "0 个",
                f"{c.over_cap} 个（最长 {f(c.walk_in_max)} 分钟）",
                yes(c.over_cap == 0),
                "python -m bench.hallsim county",
            ]
        )
        city_s = max(mm.sim_seconds for mm in study.run("city").metrics)
        rows.append(
            ["市级大厅一天的仿真时间", "< 10 秒", f"{city_s:.2f} 秒", yes(city_s < 10), "python -m bench.hallsim city"]
        )
    lines += ["**目标对照**", "", table(["目标", "要求", "实测", "结论", "复现命令"], rows), ""]
    return "\n".join(lines)


def proposals(study: Study | None, extras: Extras) -> str:
    """What would have to change, with the evidence."""
    out = ["## 三、需要其他模块修改的地方（本基准不改产品代码）", ""]
    if extras.what_if:
        w = extras.what_if
        base = w.get("as built", math.nan)
        out += [
            "1. **取号吞吐与历史数据（hallserver/services/estimates.py、hallserver/gateway/gateway.py、迁移）**：",
            "   - `mean_service_minutes` 每次扫描全部往日办结记录（见“历史数据的影响”）：新库每次取号约 "
            f"{f(extras.history.get(0), 1)} ms，一个月后约 {f(max(extras.history.values(), default=math.nan), 0)} ms，"
            "一年后将以秒计，叫号同样变慢。**这是上线后最先出问题的地方。** 建议加索引 "
            "`ticket(group_code, state, finished_at)`（或只取近几天的记录），并按队列缓存平均办理时长与窗口容量"
            "（办结、窗口变更时失效）。",
            "   - 每次取号都重算并发布 queue/state（9 个队列各一次预计等候）：建议定时合并发布（每秒几次）。",
            f"   - 基准进程内验证（{extras.what_if_history} 条往日记录）：现状 {f(base, 2)} ms/次；"
            + "；".join(f"{k} {f(v, 2)} ms/次（≤ {1000 / v:.0f}/s）" for k, v in list(w.items())[1:])
            + "。要持续 500 次/秒还需要批量事务（一个事务处理多个排队请求）或多个工作线程（PostgreSQL）。",
        ]
    if study is not None:
        county = study.run("county")
        b, d = check(county, "hallq_balanced"), check(county, "mixed_deadline")
        out += [
            "2. **分配策略（hallserver/services/allocation.py `balanced`）**：",
            "   - 预约“到点”条件写成了 `appointment_at <= now + appointment_early_minutes`，而签到恰好从提前这么多分钟"
            "开放，所以**每个签到的预约立即优先**，最多比预约时段早 30 分钟占用窗口；文档字符串说的是“时段已到”。"
            "建议改为 `appointment_at <= now`（或只提前几分钟）。",
            "   - 防饿死规则只在普通号**已经**等满上限时才生效，而且排在所有到点预约之后；早高峰时一整批普通号"
            "同时越过上限。建议改为按截止时间（预约 = 时段开始，普通号 = 取号时间 + 上限）在截止前 15 分钟进入"
            "“紧急层”，紧急层内按最早截止时间叫号，其余仍按响应比。",
            f"   - 证据（县级混合窗口）：balanced 超限 {b.over_cap} 个、最长 {f(b.walk_in_max)} 分钟、"
            f"平均比 {b.ratio:.2f}、预约 P95 {f(b.appointment_p95)}；"
            f"提案 `deadline` 超限 {d.over_cap} 个、最长 {f(d.walk_in_max)} 分钟、平均比 {d.ratio:.2f}、"
            f"预约 P95 {f(d.appointment_p95)}。"
            "在无差别窗口上提案三项全部达到（见目标表）。",
            "   - 窗口配置同样重要：低负荷日（3000 人次）混合窗口的平均等候反而高于无差别 FIFO（见人次敏感性表），"
            "分领域窗口越多，忙闲不均越严重。建议大厅管理员把更多窗口设为无差别。",
            "3. **号码位数（hallserver/services/tickets.py MAX_SEQ）**："
            "市级大厅一天的预约号段超过 999（见市级大厅一节）。",
        ]
    return "\n".join([*out, ""])


def reproduce(extras: Extras) -> str:
    """Every figure and its command, plus the raw output of the other benches."""
    out = [
        "## 四、复现",
        "",
        "| 数字 | 命令 |",
        "|---|---|",
        "| 全部（本报告） | `python -m bench`（`--quick` 为短版，`--no-live` 只跑仿真） |",
        "| 仿真：情景 × 配置的全部指标、Erlang C | "
        "`python -m bench.hallsim county`（city、lunch_peak；`--sweep` 人次敏感性） |",
        f"| 现场压测：{'/'.join(map(str, FIXED_RATES))} 次/秒、阶梯搜索、叫号→显示、裸往返、一天后内存 | "
        "`python -m bench.load [--backend sqlite|postgresql] [--quick]` |",
        "| 取号耗时剖析与假设验证 | `python -m bench.profile_issue` |",
        "| 服务层取号/叫号时延（无总线） | `python -m bench.ticket_core` |",
        "| 打印作业 → 打印机字节 | `python -m bench.printer_latency` |",
        "| 叫号（REST）→ 显示屏与语音 | `python -m bench.display_latency` |",
        "| 一年数据的报表速度（耗时较长，未包含在本报告） | `python -m bench.report_year` |",
        "",
    ]
    for command, output in extras.outputs:
        out += [f"### `{command}`", "", "```", output.strip(), "```", ""]
    return "\n".join(out)


def write_report(
    out_dir: Path, study: Study | None, live: list[BackendResult], extras: Extras, seconds: float, quick: bool
) -> Path:
    """Assemble and write report.md; returns its path."""
    head = [
        "# hallq 性能与窗口分配评估报告",
        "",
        f"生成于 {datetime.now():%Y-%m-%d %H:%M}，用时 {seconds:.0f} 秒{'（--quick 短版）' if quick else ''}；"
        f"机器：{os.cpu_count()} 核，{platform.python_implementation()} {platform.python_version()}，"
        f"{platform.system()} {platform.release()}。所有负载只走回环地址，数量与时间有上限。",
        "",
    ]
    parts = [*head, summary(study, live, extras), live_section(live), profile_section(extras)]
    if study is not None:
        parts.append(sim_section(study))
    parts += [proposals(study, extras), reproduce(extras)]
    path = out_dir / "report.md"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
