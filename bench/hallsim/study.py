"""The simulator half of the bench report: every scenario × configuration, the county load sweep, the
Erlang C reference, the issue's target check, and the plots."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.hallsim.erlang import Reference, pooled_reference
from bench.hallsim.plots import plot_day, plot_groups
from bench.hallsim.runner import ScenarioRun, run_scenario
from hallcore.announce import MAX_SEQ
from hallserver.simulation.configs import (
    OVERFLOW_MINUTES,
    Setup,
    dedicated,
    overflow_setup,
    pooled,
    scenario_setup,
    standard_setups,
)
from hallserver.simulation.metrics import Metrics
from hallserver.simulation.scenario import Scenario, load_scenario, scenario_keys

TARGET_RATIO = 0.85
TARGET_APPOINTMENT_P95 = 5.0
SWEEP = (3000, 3300, 3600, 3900)


@dataclass(frozen=True)
class TargetCheck:
    """The issue's allocation target on one run: mean ≤ 0.85 × better baseline, punctual bookings, no
    walk-in beyond the starvation cap."""

    setup: str
    mean: float
    baseline: float
    baseline_setup: str
    appointment_p95: float
    over_cap: int
    walk_in_max: float
    cap: float

    @property
    def ratio(self) -> float:
        """Mean wait ÷ the better baseline's."""
        return self.mean / self.baseline if self.baseline else math.inf

    @property
    def met(self) -> bool:
        """All three parts hold."""
        return self.ratio <= TARGET_RATIO and self.appointment_p95 <= TARGET_APPOINTMENT_P95 and self.over_cap == 0


@dataclass
class Study:
    """Everything the simulator contributes to the report."""

    runs: list[ScenarioRun]
    references: dict[str, Reference]
    sweep: list[tuple[int, list[Metrics]]] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def run(self, key: str) -> ScenarioRun:
        """A scenario's run by key."""
        return next(r for r in self.runs if r.scenario.key == key)


def check(run: ScenarioRun, setup: str) -> TargetCheck:
    """The target check of one configuration against the better of the two FIFO baselines."""
    baselines = [m for m in run.metrics if m.setup in ("dedicated_fifo", "pooled_fifo")]
    best = min(baselines, key=lambda m: m.mean_wait)
    m = run.metric(setup)
    return TargetCheck(
        setup,
        m.mean_wait,
        best.mean_wait,
        best.setup,
        m.appointment_p95_delay,
        m.walk_ins_over_cap,
        m.walk_in_max_wait,
        run.scenario.allocation.starvation_minutes,
    )


def sweep_setups(s: Scenario) -> list[Setup]:
    """The configurations of the load sweep."""
    return [
        dedicated(s),
        pooled(s),
        scenario_setup(s),
        scenario_setup(s, "balanced"),
        overflow_setup(s, OVERFLOW_MINUTES),
    ]


def run_study(out_dir: Path, quick: bool = False) -> Study:
    """Simulate every bundled scenario (and, unless quick, the county load sweep) and draw the plots."""
    t0 = time.perf_counter()
    runs, refs, plots = [], {}, []
    for key in scenario_keys():
        s = load_scenario(key)
        run = run_scenario(s, standard_setups(s, extra=True))
        runs.append(run)
        refs[key] = pooled_reference(s)
        shown = ScenarioRun(run.scenario, run.day, *_shown(run))
        plots.append(plot_day(shown, out_dir / f"wait_{key}.png", s.allocation.starvation_minutes))
        plots.append(plot_groups(shown, out_dir / f"groups_{key}.png"))
    study = Study(runs, refs, plots=plots)
    if not quick:
        county = load_scenario("county")
        for visits in SWEEP:
            s = county.model_copy(update={"visits": visits})
            study.sweep.append((visits, run_scenario(s, sweep_setups(s)).metrics))
    study.seconds = time.perf_counter() - t0
    return study


def _shown(run: ScenarioRun) -> tuple[list, list]:
    """The lines a plot shows: the three compared configurations, the old default and fair with overflow."""
    keep = ("dedicated_fifo", "pooled_fifo", "hallq_fair", "mixed_balanced", "overflow10_fair")
    pairs = [(r, m) for r, m in zip(run.results, run.metrics, strict=True) if m.setup in keep]
    return [r for r, _ in pairs], [m for _, m in pairs]


def series_over_limit(run: ScenarioRun) -> dict[str, int]:
    """Ticket series that issued more numbers in the day than a series holds (A001 … A9999)."""
    counts: dict[str, int] = {}
    for t in run.results[0].tickets:
        series = t.number.rstrip("0123456789")
        counts[series] = counts.get(series, 0) + 1
    return {k: v for k, v in sorted(counts.items()) if v > MAX_SEQ}
