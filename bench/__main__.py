"""`python -m bench`: everything issue 9 asks, written to var/bench/report.md with PNG plots.

Runs the hall simulator (every scenario × configuration, the county load sweep, Erlang C), the live load
on SQLite and PostgreSQL, the ticket.issue profile, and the key figures of the older benches.

    python -m bench [--quick] [--no-live] [--backend sqlite|postgresql|both] [--out var/bench]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bench.hallsim.study import run_study
from bench.load import Plan, print_result, run_all
from bench.profile_issue import HISTORIES, HISTORY, history_effect, profile, what_if
from bench.report import Extras, write_report

ROOT = Path(__file__).resolve().parents[1]


def other_benches(quick: bool, backend: str = "sqlite") -> list[tuple[str, str]]:
    """The other benches' key lines, each with its command (kiosk start-up and the scaling rows included)."""
    commands = [
        ["bench.ticket_core", "--tickets", "300" if quick else "1000"],
        ["bench.printer_latency", "--n", "50" if quick else "200"],
        ["bench.display_latency", "--n", "30" if quick else "100"],
        ["bench.face_verify", "--n", "30" if quick else "100"],
        ["bench.reconnect", "--restarts", "4" if quick else "8"],
        ["bench.cli_start", "--runs", "10" if quick else "20"],
        ["bench.kiosk_start", "--runs", "2" if quick else "3"],
        ["bench.scaling", "--quick", "--backend", backend] if quick else ["bench.scaling", "--backend", backend],
    ]
    out = []
    for args in commands:
        done = subprocess.run(
            [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False
        )
        text = done.stdout if done.returncode == 0 else f"failed ({done.returncode}):\n{done.stderr[-2000:]}"
        out.append(("python -m " + " ".join(args), text))
    return out


def main() -> None:
    """Run, write the report, print where it is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (about two minutes)")
    parser.add_argument("--no-live", action="store_true", help="simulator only: no broker, server or database")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench")
    args = parser.parse_args()
    t0 = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    print("hall simulator …", flush=True)
    study = run_study(args.out, quick=args.quick)
    print(f"  {len(study.runs)} scenarios in {study.seconds:.1f} s", flush=True)
    live, extras = [], Extras()
    if not args.no_live:
        backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
        print(f"live load on {', '.join(backends)} …", flush=True)
        live = run_all(Plan.quick() if args.quick else Plan(), backends)
        for r in live:
            print_result(r)
        n = 200 if args.quick else 300
        print("profile of ticket.issue …", flush=True)
        extras.profile = profile(n)
        extras.history = history_effect(n // 2, HISTORIES)
        extras.what_if, extras.what_if_history = what_if(n), HISTORY
        print("other benches …", flush=True)
        extras.outputs = other_benches(args.quick, args.backend)
    path = write_report(args.out, study, live, extras, time.perf_counter() - t0, args.quick)
    print(f"\nreport: {path}  ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
