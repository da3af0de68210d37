"""Simulate hall days with the real allocation policies and print every configuration's figures.

python -m bench.hallsim [county|city|lunch_peak|path.yaml ...] [--sweep] [--overflow] [--plots DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.hallsim.erlang import pooled_reference
from bench.hallsim.plots import plot_day
from bench.hallsim.runner import run_scenario
from bench.hallsim.study import SWEEP, check, sweep_setups
from hallserver.simulation.configs import overflow_setup, scenario_setup, standard_setups
from hallserver.simulation.metrics import Metrics
from hallserver.simulation.scenario import load_scenario, scenario_keys

TRADE_OFF = (0, 5, 10, 20, 30)


def line(m: Metrics) -> str:
    """One printed row."""
    return (
        f"{m.setup:<17} mean {m.mean_wait:5.1f}  p95 {m.p95_wait:5.1f}  max {m.max_wait:5.1f}  "
        f"≤15 {m.within_15:4.0%}  ≤30 {m.within_30:4.0%}  appt p95 {m.appointment_p95_delay:4.1f}  "
        f"green {m.green_mean_wait:4.1f}  over cap {m.walk_ins_over_cap:4d}  fair {m.fairness_ratio:4.1f}  "
        f"util {m.utilisation:4.0%}  left {m.abandonment:4.1%}  ({m.sim_seconds:.2f} s)"
    )


def main() -> None:
    """Run the named scenarios (default: all bundled ones)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=scenario_keys())
    parser.add_argument("--sweep", action="store_true", help="also the county hall at other daily volumes")
    parser.add_argument("--plots", type=Path, help="write wait_<scenario>.png here")
    parser.add_argument(
        "--overflow", action="store_true", help="the trade-off curve of hall-wide overflow thresholds under fair"
    )
    args = parser.parse_args()
    for name in args.scenarios:
        s = load_scenario(name)
        run = run_scenario(s, standard_setups(s))
        print(f"\n{s.name} — {s.window_count} windows, {len(run.day.citizens)} citizens (minutes)")
        for m in run.metrics:
            print(line(m))
        ref = pooled_reference(s)
        print(
            f"M/M/c pooled reference: day ρ={ref.day.utilisation:.2f}, Wq={ref.day.wq_mmc:.1f} min "
            f"(M/G/c {ref.day.wq_allen_cunneen:.1f}); overloaded hours {ref.overloaded_hours}"
        )
        c = check(run, f"hallq_{s.allocation.policy}")
        print(
            f"target: mean {c.mean:.1f} / {c.baseline_setup} {c.baseline:.1f} = {c.ratio:.2f} (≤ 0.85), "
            f"appointment p95 {c.appointment_p95:.1f} (≤ 5), walk-ins over {c.cap:.0f} min: {c.over_cap} → "
            f"{'MET' if c.met else 'NOT MET'}"
        )
        if args.overflow:
            curve = run_scenario(s, [scenario_setup(s)] + [overflow_setup(s, a) for a in TRADE_OFF])
            print("overflow trade-off (fair, every window helps every group after N minutes):")
            for m in curve.metrics:
                ratio = m.mean_wait / c.baseline
                print(f"  {m.setup:<17} ratio {ratio:.3f}  over cap {m.walk_ins_over_cap:3d}  ", line(m)[18:])
        if args.plots:
            print("plot:", plot_day(run, args.plots / f"wait_{s.key}.png", s.allocation.starvation_minutes))
    if args.sweep:
        county = load_scenario("county")
        for visits in SWEEP:
            s = county.model_copy(update={"visits": visits})
            print(f"\ncounty at {visits} visits")
            for m in run_scenario(s, sweep_setups(s)).metrics:
                print(line(m))


if __name__ == "__main__":
    main()
