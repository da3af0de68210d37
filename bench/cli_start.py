"""Start-up of the device commands' help (not a test: prints numbers): `hallq kiosk --help` and
`hallq display --help`, each launched N times in a fresh process, against `python -c pass` measured in the same
run — p50, p90 and max wall time, the ratio to the bare interpreter, whether a server dependency (FastAPI,
SQLAlchemy…) was imported, and the modules that cost most by cumulative import time (`python -X importtime`).

    python -m bench.cli_start [--runs 20] [--top 8]

Target (issue "One domain core"): each under 0.3 s, with no server dependency imported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.3
SERVER_ONLY = ("fastapi", "starlette", "sqlalchemy", "sqlmodel", "uvicorn", "alembic", "psycopg")


def hallq_command() -> list[str]:
    """The installed `hallq` script next to this interpreter, else `python -m hallq`."""
    script = Path(sys.executable).with_name("hallq")
    if script.exists():
        return [str(script)]
    found = shutil.which("hallq")
    return [found] if found else [sys.executable, "-m", "hallq"]


def cases() -> list[tuple[str, list[str]]]:
    """(label, argv) of what is timed; the baseline first."""
    hallq = hallq_command()
    return [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("hallq kiosk --help", [*hallq, "kiosk", "--help"]),
        ("hallq display --help", [*hallq, "display", "--help"]),
    ]


def _env() -> dict[str, str]:
    return {**os.environ, "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1", "COLUMNS": "100"}


def time_once(argv: list[str]) -> float:
    """Wall time of one fresh process, in seconds."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, timeout=60, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}")
    return elapsed


def import_profile(argv: list[str]) -> list[tuple[str, float, float, bool]]:
    """(module, self ms, cumulative ms, top level) of every import of one run, from -X importtime."""
    env = {**_env(), "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, total, name = line[len("import time:") :].split("|", 2)
        top_level = not name[1:].startswith(" ")  # nested imports are indented under their importer
        rows.append((name.strip(), int(own) / 1000, int(total) / 1000, top_level))
    return rows


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main() -> None:
    """Time each case in turn (interleaved, so load on the machine hits all alike) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--top", type=int, default=8, help="modules listed per command")
    args = parser.parse_args()
    todo = cases()
    for _label, argv in todo:
        time_once(argv)  # warm the page cache and .pyc files
    times: dict[str, list[float]] = {label: [] for label, _ in todo}
    for _ in range(args.runs):
        for label, argv in todo:
            times[label].append(time_once(argv))
    base = statistics.median(times[todo[0][0]])
    print(f"command start-up ({args.runs} fresh processes each, interleaved; target < {TARGET_S:.1f} s)")
    print(f"  {'command':24s} {'p50':>8s} {'p90':>8s} {'max':>8s}  {'p50 ÷ python':>12s}")
    for label, _argv in todo:
        values = times[label]
        p50 = statistics.median(values)
        verdict = "" if label == todo[0][0] else ("  ok" if p50 < TARGET_S else "  over target")
        print(
            f"  {label:24s} {p50:7.3f}s {percentile(values, 0.9):7.3f}s {max(values):7.3f}s  "
            f"{p50 / base:11.1f}×{verdict}"
        )
    for label, argv in todo[1:]:
        rows = import_profile(argv)
        server = sorted({r[0].split(".")[0] for r in rows if r[0].split(".")[0] in SERVER_ONLY})
        print(f"  {label}: {len(rows)} modules imported, server dependencies: {', '.join(server) or 'none'}")
        top = [r for r in rows if r[3]]  # top-level imports: their cumulative times add up to the whole
        for name, own, total, _ in sorted(top, key=lambda r: -r[2])[: args.top]:
            print(f"    {total:7.1f} ms cumulative  {own:6.1f} ms self  {name}")


if __name__ == "__main__":
    main()
