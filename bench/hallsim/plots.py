"""PNG plots of a simulated day per configuration: waiting by ticket time and people waiting in the hall."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager

from bench.hallsim.runner import ScenarioRun
from hallserver.simulation.metrics import queue_curve, wait_curve
from hallserver.simulation.scenario import minutes_of

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
STYLES = {  # setup key → (colour, line style)
    "dedicated_fifo": ("#d62728", "-"),
    "pooled_fifo": ("#1f77b4", "-"),
    "hallq_fair": ("#2ca02c", "-"),
    "mixed_fifo": ("#9467bd", ":"),
    "mixed_balanced": ("#ff7f0e", "--"),
    "pooled_balanced": ("#17becf", "--"),
    "pooled_fair": ("#bcbd22", "-."),
    "overflow10_fair": ("#8c564b", "-."),
}


def use_cjk_font() -> None:
    """Register Noto Sans CJK so Chinese labels do not render as boxes (a clear error if it is missing)."""
    if not CJK_FONT.exists():
        raise FileNotFoundError(f"{CJK_FONT} missing: install fonts-noto-cjk (make setup)")
    font_manager.fontManager.addfont(str(CJK_FONT))
    name = font_manager.FontProperties(fname=str(CJK_FONT)).get_name()
    plt.rcParams["font.family"] = [name]
    plt.rcParams["axes.unicode_minus"] = False


def _hour_ticks(ax: plt.Axes, start: float, end: float) -> None:
    hours = range(int(start), int(end) + 1)
    ax.set_xticks(list(hours))
    ax.set_xticklabels([f"{h}:00" for h in hours])
    ax.set_xlim(start, end)
    ax.grid(True, alpha=0.3)


def plot_day(run: ScenarioRun, path: Path, cap: float | None = None) -> Path:
    """Three panels by the half hour a ticket was taken — mean wait, 95th-percentile wait — and people
    waiting every 5 minutes; one line per configuration."""
    use_cjk_font()
    s = run.scenario
    fig, (top, middle, bottom) = plt.subplots(3, 1, figsize=(11, 12), sharex=True, dpi=100)
    for result, m in zip(run.results, run.metrics, strict=True):
        colour, style = STYLES.get(m.setup, (None, "-"))
        xs, ys = wait_curve(result)
        top.plot(
            xs, ys, style, color=colour, lw=2, marker="o", ms=3.5, label=f"{m.label}：全天平均 {m.mean_wait:.1f} 分"
        )
        px, py = wait_curve(result, 95)
        middle.plot(
            px, py, style, color=colour, lw=2, marker="o", ms=3.5, label=f"{m.label}：全天 P95 {m.p95_wait:.0f} 分"
        )
        qx, qy = queue_curve(result)
        bottom.plot(qx, qy, style, color=colour, lw=1.8, label=m.label)
    if cap is not None:
        middle.axhline(cap, color="grey", lw=1, ls="-.")
        middle.text(
            minutes_of(s.hours.open) / 60 + 0.05, cap + 1.5, f"防饿死上限 {cap:.0f} 分钟", color="grey", fontsize=9
        )
    top.set_title(f"{s.name}：平均等候（按取号时间，每半小时）", fontsize=13)
    top.set_ylabel("平均等候（分钟）")
    top.legend(fontsize=9, loc="upper right")
    middle.set_title("95% 的人在此时间内被叫到（P95 等候，按取号时间）", fontsize=12)
    middle.set_ylabel("P95 等候（分钟）")
    middle.legend(fontsize=9, loc="upper right")
    bottom.set_title("大厅内等候人数（已取号、未叫到、未离开）", fontsize=12)
    bottom.set_ylabel("人数")
    bottom.set_xlabel("时间")
    bottom.legend(fontsize=9, loc="upper right")
    end = max(minutes_of(s.hours.close), max(r.end for r in run.results)) / 60
    _hour_ticks(bottom, minutes_of(s.hours.open) / 60, min(end, minutes_of(s.hours.close) / 60 + 1))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_groups(run: ScenarioRun, path: Path) -> Path:
    """Bar chart: mean wait per queue group under each configuration (fairness at a glance)."""
    use_cjk_font()
    s = run.scenario
    groups = [g.code for g in s.groups]
    names = [g.name for g in s.groups]
    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    width = 0.8 / len(run.metrics)
    for i, m in enumerate(run.metrics):
        colour, _ = STYLES.get(m.setup, (None, "-"))
        xs = [j + (i - (len(run.metrics) - 1) / 2) * width for j in range(len(groups))]
        ax.bar(xs, [m.group_mean_wait.get(g, 0.0) for g in groups], width, color=colour, label=m.label)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(names, rotation=20, fontsize=9)
    ax.set_ylabel("平均等候（分钟）")
    ax.set_title(f"{s.name}：各队列平均等候（公平性）", fontsize=13)
    ax.legend(fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
