"""What-if answer time for a county hall (not a test: prints numbers). Builds a county hall (the bundled
`county` scenario's 30 windows on the demo hall's groups and catalog) in a temporary SQLite file with 8 weeks
of same-weekday history (≈3,600 tickets a day) and today's tickets up to 10:30, then times the whole answer —
reading the inputs from the database and simulating baseline and proposal for the rest of the day — against
the plain simulation of the same county day (one configuration, whole day, no database) in the same run.

    python -m bench.whatif [--runs 7] [--at 10:30]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import yaml

from hallcore.calendar import HOLIDAYS_FILE
from hallcore.clock import ManualClock
from hallserver.db import make_engine, session_scope, upgrade
from hallserver.models import Ticket
from hallserver.services import windows as window_service
from hallserver.services.allocation import get_policy
from hallserver.services.context import HallContext, load_context
from hallserver.services.keyring import Keyring
from hallserver.simulation.arrivals import GREEN, Day, generate
from hallserver.simulation.configs import scenario_setup
from hallserver.simulation.engine import simulate
from hallserver.simulation.scenario import Scenario, load_scenario
from hallserver.simulation.today import HISTORY_WEEKS, read_today
from hallserver.simulation.whatif import ExtraWindow, Move, Proposal, run

DEMO = Path(__file__).resolve().parents[1] / "firmware_config" / "halls" / "demo"
ZONE = ZoneInfo("Asia/Shanghai")


def county_hall(target: Path, s: Scenario) -> None:
    """The demo hall's groups, staff and catalog with the county scenario's 30 windows and service times."""
    shutil.copytree(DEMO, target)
    raw = yaml.safe_load((target / "hall.yaml").read_text(encoding="utf-8"))
    staff = [p["id"] for p in raw["staff"] if p.get("role", "staff") == "staff"]
    windows, n = [], 0
    for spec in s.windows:
        for _ in range(spec.count):
            n += 1
            windows.append(
                {
                    "id": f"w{n:02d}",
                    "name": f"{n}号窗口",
                    "number": n,
                    "kind": spec.kind.value,
                    "groups": list(spec.groups),
                    "staff": {"a": staff[(n - 1) % len(staff)]},
                }
            )
    raw["windows"] = windows
    for g in raw["groups"]:
        g["default_service_minutes"] = s.group(g["code"]).service.mean
    (target / "hall.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def tickets_of(
    day: Day, s: Scenario, when: datetime, until: float | None, waiting_from: float
) -> list[dict[str, object]]:
    """Ticket rows of a simulated day's citizens (all served, except those after `waiting_from`: waiting)."""
    midnight = datetime.combine(when.date(), dtime(0), ZONE)
    rows: list[dict[str, object]] = []
    seq: dict[str, int] = {}
    for c in day.citizens:
        if until is not None and c.arrive >= until:
            break
        prefix = s.group(c.group).prefix
        seq[prefix] = seq.get(prefix, 0) + 1
        issued = midnight + timedelta(minutes=c.arrive)
        waiting = c.arrive >= waiting_from
        started = issued + timedelta(minutes=5)
        rows.append(
            {
                "number": f"{prefix}{seq[prefix]:04d}",
                "series": prefix,
                "seq": seq[prefix],
                "service_date": when.date(),
                "group_code": c.group,
                "priority": "green" if c.kind == GREEN else "normal",
                "channel": "kiosk",
                "state": "waiting" if waiting else "done",
                "issued_at": issued,
                "queue_key": issued,
                "call_count": 0 if waiting else 1,
                "called_at": None if waiting else started,
                "started_at": None if waiting else started,
                "finished_at": None if waiting else started + timedelta(minutes=c.service),
                "public_token": secrets.token_urlsafe(16),
            }
        )
    return rows


def build(folder: Path, s: Scenario, now: datetime) -> tuple[sa.Engine, HallContext]:
    """The county hall, its migrated database, history and today so far."""
    county_hall(folder / "hall", s)
    url = f"sqlite:///{folder / 'hall.db'}"
    upgrade(url)
    engine = make_engine(url)
    keyring = Keyring((("k1", b"bench-data-key-32-bytes-long-abc"),))
    ctx = load_context(folder / "hall", HOLIDAYS_FILE, ManualClock(now), b"bench-identity-key-32-bytes-long", keyring)
    minute = now.hour * 60 + now.minute
    with session_scope(engine) as session:
        window_service.sync_windows(session, ctx.profile, now)
        for k in range(HISTORY_WEEKS, -1, -1):
            when = now - timedelta(weeks=k)
            day = generate(s.model_copy(update={"seed": s.seed + k}))
            rows = tickets_of(day, s, when, minute if k == 0 else None, minute - 20 if k == 0 else 1e9)
            session.execute(sa.insert(Ticket.__table__), rows)  # type: ignore[attr-defined]
    return engine, ctx


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    """Build, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--at", default="10:30", help="the hall clock's time today (HH:MM)")
    args = parser.parse_args()
    s = load_scenario("county")
    hh, mm = (int(x) for x in args.at.split(":"))
    now = datetime.combine(s.day, dtime(hh, mm), ZONE)
    folder = Path(tempfile.mkdtemp(prefix="hallq-whatif-"))
    try:
        t0 = time.perf_counter()
        engine, ctx = build(folder, s, now)
        print(
            f"county hall: {len(ctx.profile.windows)} windows, {HISTORY_WEEKS} weeks of history, "
            f"built in {time.perf_counter() - t0:.1f} s"
        )
        proposal = Proposal(
            moves=[Move(window_id="w26", groups=["consult", "police"])],
            extra_windows=[ExtraWindow(groups=["police", "social"], count=2)],
        )
        plain, answer, reading, plain_cpu, answer_cpu = [], [], [], [], []
        for _ in range(args.runs):
            t, c = time.perf_counter(), time.process_time()
            setup = scenario_setup(s)
            simulate(s, setup, generate(s), get_policy(setup.policy))
            plain.append(time.perf_counter() - t)
            plain_cpu.append(time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            with session_scope(engine) as session:
                today, source = read_today(session, ctx)
            t_read = time.perf_counter()
            result = run(today, proposal)
            answer.append(time.perf_counter() - t)
            answer_cpu.append(time.process_time() - c)
            reading.append(t_read - t)
        base = statistics.median(plain)
        print(
            f"inputs at {args.at}: {source.label}; waiting now {len(today.waiting)}, "
            f"expected arrivals {today.expected_arrivals:.0f}, pace {source.pace}"
        )
        print(
            f"mean wait {result.baseline.mean_wait} → {result.proposal.mean_wait} min, "
            f"cap violations {result.baseline.cap_violations} → {result.proposal.cap_violations}"
        )
        print(f"plain simulation of the whole county day (baseline): p50 {base:.3f} s  p95 {pct(plain, 95):.3f} s")
        print(
            f"what-if answer (DB read + baseline + proposal):   p50 {statistics.median(answer):.3f} s  "
            f"p95 {pct(answer, 95):.3f} s  = {statistics.median(answer) / base:.2f}× the plain simulation"
        )
        print(f"  of which reading the database:                  p50 {statistics.median(reading):.3f} s")
        print(
            f"CPU time (less sensitive to other load): plain p50 {statistics.median(plain_cpu):.3f} s, "
            f"what-if p50 {statistics.median(answer_cpu):.3f} s  p95 {pct(answer_cpu, 95):.3f} s"
        )
        verdict = "OK" if pct(answer, 95) < 2.0 else "OVER"
        load = os.getloadavg()[0]
        print(
            f"target < 2 s for a county hall: {verdict} (wall p95 {pct(answer, 95):.3f} s "
            f"at load average {load:.1f} on {os.cpu_count()} CPUs)"
        )
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
