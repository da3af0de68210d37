"""Report sections of the hall simulator: every scenario's table, Erlang C, the target check, the sweep."""

from __future__ import annotations

from bench.hallsim.erlang import Reference
from bench.hallsim.study import SWEEP, Study, TargetCheck, check, series_over_limit
from bench.report_format import f, pct, table, yes
from hallserver.simulation.metrics import Metrics

METRIC_HEADER = [
    "配置",
    "平均等候",
    "P95",
    "最长",
    "15分钟内",
    "30分钟内",
    "预约P95迟到",
    "绿色通道平均",
    "超过上限的普通号",
    "公平比(max/min)",
    "窗口利用率",
    "放弃率",
    "含放弃者平均",
]


def _metric_row(m: Metrics) -> list[str]:
    return [
        m.label,
        f(m.mean_wait),
        f(m.p95_wait),
        f(m.max_wait),
        pct(m.within_15),
        pct(m.within_30),
        f(m.appointment_p95_delay),
        f(m.green_mean_wait),
        str(m.walk_ins_over_cap),
        f(m.fairness_ratio),
        pct(m.utilisation),
        pct(m.abandonment),
        f(m.mean_wait_all),
    ]


def _reference_table(ref: Reference, pooled_fifo: Metrics) -> str:
    rows = [
        [
            f"{h.hour}:00",
            f(h.arrivals, 0),
            str(h.windows),
            pct(h.utilisation),
            pct(h.p_wait) if h.utilisation < 1 else "100%",
            f(h.wq_mmc),
            f(h.wq_allen_cunneen),
        ]
        for h in ref.hours
    ]
    d = ref.day
    rows.append(
        [
            "全天平均",
            f(d.arrivals, 0),
            str(d.windows),
            pct(d.utilisation),
            pct(d.p_wait),
            f(d.wq_mmc),
            f(d.wq_allen_cunneen),
        ]
    )
    text = table(["时段", "到达/小时", "窗口", "负荷 ρ", "需等候概率", "Wq M/M/c（分）", "Wq M/G/c 近似（分）"], rows)
    over = "、".join(f"{h}点" for h in ref.overloaded_hours) or "无"
    return (
        text + f"\n\nE[S] = {ref.mean_service:.2f} 分钟（含走到窗口），服务时间变异系数² = {ref.service_scv:.2f}。"
        f"负荷 ≥ 100% 的时段（稳态公式给出 ∞）：{over}。仿真中无差别窗口 FIFO 的实际平均等候为 "
        f"{pooled_fifo.mean_wait:.1f} 分钟：全天平均负荷下的稳态 Erlang C 只有 {d.wq_mmc:.1f} 分钟，"
        "差距来自高峰时段的积压——看全天平均负荷配窗口会严重低估早高峰。"
    )


def scenario_section(study: Study, key: str, title: str) -> str:
    """One scenario: set-up, metrics of every configuration, Erlang C, plots."""
    run = study.run(key)
    s = run.scenario
    booked_no_show = run.day.booked_no_shows
    out = [
        f"### {title}：{s.name}",
        "",
        f"{s.description} 窗口 {s.window_count} 个；当天到厅 {len(run.day.citizens)} 人"
        f"（另有 {booked_no_show} 个预约未到）。"
        f"各配置使用**完全相同**的到达者（随机种子 {s.seed}）。时间单位：分钟。",
        "",
        table(METRIC_HEADER, [_metric_row(m) for m in run.metrics]),
        "",
        "各队列平均等候（分钟）：",
        "",
        table(
            ["配置", *[g.name for g in s.groups]],
            [[m.label, *[f(m.group_mean_wait.get(g.code)) for g in s.groups]] for m in run.metrics],
        ),
        "",
        f"![{s.name} 等候随时间变化](wait_{key}.png)",
        "",
        f"![{s.name} 各队列等候](groups_{key}.png)",
        "",
        "**M/M/c（Erlang C）参照：假如全部窗口无差别、按小时稳态计算**",
        "",
        _reference_table(study.references[key], run.metric("pooled_fifo")),
        "",
    ]
    return "\n".join(out)


def _check_rows(checks: list[TargetCheck], labels: dict[str, str]) -> list[list[str]]:
    return [
        [
            labels.get(c.setup, c.setup),
            f"{c.mean:.1f} / {c.baseline:.1f} = {c.ratio:.2f}",
            f(c.appointment_p95),
            f"{c.over_cap}（最长 {f(c.walk_in_max)}）",
            yes(c.met),
        ]
        for c in checks
    ]


def sweep_section(study: Study) -> str:
    """The county hall at other daily volumes."""
    if not study.sweep:
        return ""
    rows = []
    for visits, metrics in study.sweep:
        best = min(m.mean_wait for m in metrics if m.setup in ("dedicated_fifo", "pooled_fifo"))
        for m in metrics:
            rows.append(
                [
                    str(visits),
                    m.label,
                    f(m.mean_wait),
                    f"{m.mean_wait / best:.2f}",
                    f(m.appointment_p95_delay),
                    f"{m.walk_ins_over_cap}（最长 {f(m.walk_in_max_wait)}）",
                    pct(m.abandonment),
                ]
            )
    return "\n".join(
        [
            f"### 县级大厅在不同日人次下（{', '.join(map(str, SWEEP))}）",
            "",
            table(["日人次", "配置", "平均等候", "÷较好基线", "预约P95迟到", "超过上限的普通号", "放弃率"], rows),
            "",
        ]
    )


def sim_section(study: Study) -> str:
    """The simulator half of the report."""
    county = study.run("county")
    city = study.run("city")
    checks = [check(county, k) for k in ("hallq_fair", "mixed_balanced", "pooled_fair", "overflow10_fair")]
    city_seconds = max(m.sim_seconds for m in city.metrics)
    over = series_over_limit(city)
    out = [
        "## 二、大厅仿真：hallq 的窗口分配能否减少等候？",
        "",
        "离散事件仿真（hallserver/simulation）直接调用 **hallserver/services/allocation.py 中真实的策略函数**"
        "（`get_policy('fair')`、`get_policy('balanced')`、`get_policy('fifo')`），每次窗口空闲时按服务器"
        " `windows._situation` 的方式构造 `Situation`：该窗口各队列中策略可能选中的等候号（含溢出规则允许协助、"
        "且已等满阈值的号）、近 20 次办理的滚动平均时长、模拟时钟的当前时间。"
        "模拟了：按小时的到达曲线；各领域对数正态服务时长（均值 1.5–10 分钟）；约 30% 预约（按时段到达，"
        "提前 30 分钟起可签到，迟到 15 分钟以上按普通号）；约 5% 绿色通道；预约爽约；取号后离开（过号）；"
        "看到自助机预计等候太长而不取号（balk）和等太久离开（renege，离开者的号仍在队列中，"
        "被叫到时窗口白等 1.5 分钟）；"
        "午间轮休。三种配置：**专窗分设**（每个窗口只办一个队列，按工作量分配窗口数，FIFO）、"
        "**无差别全通办**（每个窗口办所有队列，FIFO）、**hallq 默认**（情景文件中的分领域/无差别混合窗口 + fair）。"
        "其余几行拆分“窗口配置”和“策略”各自的作用：混合窗口上的 fifo 和旧默认 balanced、无差别窗口上的"
        " balanced 和 fair，以及 fair 加“全厅溢出”规则（每个窗口在号等满 10 分钟后可协助其他队列，"
        "van Dijk & van der Sluis 2008 的阈值溢出）。",
        "",
        "**议题目标（县级混合场景）**：hallq 默认平均等候 ≤ 0.85 × 较好基线，且按时到达的预约 P95 迟到 ≤ 5 分钟，"
        f"且没有普通号等候超过防饿死上限（{county.scenario.allocation.starvation_minutes} 分钟）：",
        "",
        table(
            ["配置", "平均 ÷ 较好基线", "预约P95迟到", "超过上限的普通号", "结论"],
            _check_rows(checks, {m.setup: m.label for m in county.metrics}),
        ),
        "",
        scenario_section(study, "county", "县级大厅"),
        sweep_section(study),
        scenario_section(study, "city", "市级大厅"),
        scenario_section(study, "lunch_peak", "午间高峰日"),
        f"**仿真速度**：市级大厅一天（{len(city.day.citizens)} 人、{city.scenario.window_count} 个窗口）单个配置最长 "
        f"{city_seconds:.2f} 秒（目标 < 10 秒）；全部情景与配置共 {study.seconds:.1f} 秒。",
        "",
    ]
    if over:
        out += [
            "**号码容量**：号码为“前缀 + 3 位或 4 位数字”，每个号段每天最多 9999 个（announce.MAX_SEQ）。"
            f"这些号段超过上限：{', '.join(f'{k} {v} 张' for k, v in over.items())}——真实服务器会拒绝"
            "超出部分（numbers_exhausted），需按楼层/区域再分号段。",
            "",
        ]
    return "\n".join(out)
