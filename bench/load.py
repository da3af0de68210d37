"""Live-system load on loopback (not a test: reports numbers): simulated kiosks and window callers over the
real Mosquitto against the real hall server + gateway, on SQLite and on PostgreSQL.

Measures, per backend: ticket.issue round trip p50/p95/p99 at fixed offered rates (open loop: requests go
out on schedule whatever the replies do; latency counts from the scheduled instant, so a server that falls
behind is not excused; no reply within 5 s is a timeout), the highest rate with p99 < 50 ms (step search),
call → display latency, the bare broker round trip in the same run, and the server's memory after a
simulated day of visits (issue → call → start → finish).

    python -m bench.load [--quick] [--backend sqlite|postgresql|both] [--kiosks 16]
    python -m bench.load --backend sqlite --rates 200,500,1000   # the ticket rates only (a few minutes)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bench.bus_roundtrip import bare_roundtrip
from bench.live_hall import ZONE, LiveHall, live_hall, postgres_server
from bench.load_kiosks import KioskPool, device_client
from bench.load_stats import (
    AFTER_DAY_RATES,
    FIXED_RATES,
    FIXED_WAITING,
    P99_LIMIT_MS,
    REPEATS,
    SEARCH_RATES,
    TIMEOUT_S,
    BackendResult,
    DayRun,
    Phase,
    Stats,
    spread,
)
from bench.pg_durable import settings_line
from bench.seed import seed_waiting
from broker.client import BusClient, BusTimeout
from broker.messages import Request, WindowAction
from hallcore.catalog.loader import load_catalog


def fixed_rates(
    hall: LiveHall, pool: KioskPool, rates: tuple[int, ...], seconds: float, repeats: int = 1, waiting: int = 0
) -> list[Phase]:
    """`repeats` phases per offered rate, each on a new hall day that already has `waiting` people waiting."""
    phases = []
    for rate in rates:
        for _ in range(repeats):
            if waiting:
                seed_waiting(hall, waiting)
            hall.new_day()
            hall.command("drain")
            phases.append(pool.open_loop(rate, seconds))
            pool.settle(hall)
    return phases


def step_search(
    hall: LiveHall, pool: KioskPool, seconds: float, rates: tuple[int, ...], waiting: int = 0
) -> tuple[list[Phase], float]:
    """Raise the offered rate until a phase fails (p99 ≥ 50 ms, answers lost, or the server falls behind);
    bounded by `rates`. A failure ends the search: no second try."""
    phases, best = [], 0.0
    for rate in rates:
        if waiting:
            seed_waiting(hall, waiting)
        hall.new_day()
        hall.command("drain")
        phase = pool.open_loop(rate, seconds)
        pool.settle(hall)
        phases.append(phase)
        if not phase.passed:
            break
        best = rate
    return phases, best


def call_to_display(hall: LiveHall, n: int) -> tuple[Stats, Stats]:
    """caller-w01 sends window.call_next; display-w01 receives hall/demo/call. Then 过号 frees the window.
    Runs on a day that already has waiting tickets."""
    caller = device_client(hall, "caller-w01")
    caller.enable_replies("caller-w01")
    display = device_client(hall, "display-w01")
    seen = threading.Event()
    arrived: list[float] = []

    def on_call(_topic: str, payload: bytes) -> None:
        if json.loads(payload).get("window_id") == "w01":
            arrived.append(time.perf_counter())
            seen.set()

    display.subscribe("hall/demo/call", on_call)
    display.start()
    caller.start()
    replies, shown = [], []
    try:
        for _ in range(n):
            seen.clear()
            t0 = time.perf_counter()
            try:
                reply = caller.request("window.call_next", _action("w01"), timeout_s=TIMEOUT_S, attempts=1)
            except BusTimeout:  # no answer in 5 s: counted as lost (inf), never dropped from the figures
                replies.append(math.inf)
                shown.append(arrived[-1] - t0 if seen.wait(TIMEOUT_S) else math.inf)
                _free(caller, "w01")
                continue
            replies.append(time.perf_counter() - t0)
            if reply.status != "ok" or not (reply.data or {}).get("ticket"):
                raise RuntimeError(f"call_next found nobody to call: {reply.error}")
            shown.append(arrived[-1] - t0 if seen.wait(TIMEOUT_S) else math.inf)
            _free(caller, "w01")
    finally:
        caller.stop()
        display.stop()
    return Stats.of(replies), Stats.of(shown)


def _free(caller: BusClient, window: str) -> None:
    """过号 for the ticket just called, so the window can call the next one (a late answer is waited for)."""
    with contextlib.suppress(BusTimeout):
        caller.request("window.no_show", _action(window), timeout_s=TIMEOUT_S * 4, attempts=1)


def _action(window: str, **extra: Any) -> WindowAction:
    return WindowAction(ts=datetime.now(ZONE), request_id=Request.new_id(), window_id=window, **extra)


def simulated_day(hall: LiveHall, pool: KioskPool, visits: int, rate: float) -> DayRun:
    """A day of visits on a hall clock running fast: kiosks issue `visits` tickets at `rate`/s while every
    window's caller calls, starts and finishes visits as fast as the server answers."""
    memory_idle = hall.memory()
    speed = 8 * 3600 / max(visits / rate * 1.8, 30)  # the hall day passes while the bench runs
    hall.new_day(speed=speed)
    windows = [w.id for w in hall.hall.windows]
    served: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    calls: list[float] = []
    stop = threading.Event()
    items = items_by_group(hall)
    callers = [
        threading.Thread(target=_caller_loop, args=(hall, w, stop, served, calls, items, failures), daemon=True)
        for w in windows
    ]
    t0 = time.perf_counter()
    for t in callers:
        t.start()
    issue = pool.open_loop(rate, visits / rate, green_share=0.05)
    deadline = time.perf_counter() + 120
    while sum(served.values()) < issue.ok and time.perf_counter() < deadline:
        time.sleep(0.2)
    stop.set()
    for t in callers:
        t.join(timeout=15)
    pool.settle(hall)
    seconds = time.perf_counter() - t0
    requests = issue.sent + len(calls) + 2 * sum(served.values())
    return DayRun(
        visits,
        issue.ok,
        sum(served.values()),
        requests,
        seconds,
        memory_idle,
        hall.memory(),
        {**issue.refused, **{f"finish:{k}": v for k, v in failures.items()}},
        issue.latency,
        Stats.of(calls),
    )


def items_by_group(hall: LiveHall) -> dict[str, str]:
    """One catalog item per queue group, for 当场办结 (groups without items end as 咨询)."""
    catalog = load_catalog(hall.root / "hall" / "catalog")
    out: dict[str, str] = {}
    for code, domain in sorted(catalog.domain_of.items()):
        group = hall.hall.group_for_domain(domain)
        if group is not None and code in catalog.items:
            out.setdefault(group.code, code)
    return out


def _caller_loop(
    hall: LiveHall,
    window: str,
    stop: threading.Event,
    served: Counter,
    calls: list[float],
    items: dict[str, str],
    failures: Counter,
) -> None:
    device = f"caller-{window}"
    client = device_client(hall, device)
    client.enable_replies(device)
    client.start()
    try:
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                reply = client.request("window.call_next", _action(window), timeout_s=TIMEOUT_S, attempts=1)
            except BusTimeout:
                continue
            calls.append(time.perf_counter() - t0)
            if reply.status != "ok" or not (reply.data or {}).get("ticket"):
                stop.wait(0.3)  # nobody waiting for this window yet
                continue
            client.request("window.start", _action(window), timeout_s=TIMEOUT_S, attempts=1)
            item = items.get(reply.data["ticket"]["group"])  # type: ignore[index]
            finish = {"outcome": "当场办结", "item_code": item} if item else {"outcome": "咨询"}
            done = client.request("window.finish", _action(window, **finish), timeout_s=TIMEOUT_S)
            if done.status == "ok":
                served[window] += 1
            else:
                failures[done.error.code if done.error else "?"] += 1
    except BusTimeout:
        pass
    finally:
        client.stop()


@dataclass(frozen=True)
class Plan:
    """How much load to offer: the full run or --quick."""

    kiosks: int = 16
    fixed_seconds: float = 6.0
    search_seconds: float = 5.0
    search_rates: tuple[int, ...] = SEARCH_RATES
    repeats: int = REPEATS
    waiting: int = FIXED_WAITING
    calls: int = 200
    bare: int = 1000
    day_visits: int = 3600  # a county hall's day (DOMAIN.md "Scale")
    pg_day_visits: int = 1800  # PostgreSQL answers more slowly: half a day keeps the run bounded
    day_rate: float = 40.0  # kiosk tickets/s; with the callers' 3 requests per visit ≈ 160 requests/s

    @classmethod
    def quick(cls) -> Plan:
        """A short run: a minute or so per backend."""
        return cls(
            kiosks=8,
            fixed_seconds=3.0,
            search_seconds=3.0,
            search_rates=(200, 400, 600, 800, 1000, 1200),
            calls=50,
            bare=300,
            day_visits=600,
            pg_day_visits=600,
            day_rate=40.0,
        )


def run_backend(backend: str, plan: Plan, server_url: str | None = None) -> BackendResult:
    """The whole measurement on one backend, on a hall of its own."""
    t0 = time.perf_counter()
    with live_hall(backend, plan.kiosks, server_url) as hall:
        pool = KioskPool(hall, plan.kiosks)
        try:
            memory_start = hall.memory()
            bare = Stats.of(bare_roundtrip(hall.host, hall.port, hall.secret_dir, plan.bare))
            result = BackendResult(backend, plan.kiosks, bare, memory_start=memory_start)
            hall.new_day()
            pool.open_loop(50, 2.0)  # warm-up (connections, caches, first queries): not reported
            pool.settle(hall)
            if backend == "postgresql":
                result.settings = settings_line(hall.url)
            result.fixed = fixed_rates(hall, pool, FIXED_RATES, plan.fixed_seconds, plan.repeats, plan.waiting)
            seed_waiting(hall, max(plan.waiting, plan.calls + 5))  # people waiting for the call → display
            hall.new_day()
            hall.command("drain")
            result.call_reply, result.call_display = call_to_display(hall, plan.calls)
            result.search, result.best_rate = step_search(
                hall, pool, plan.search_seconds, plan.search_rates, plan.waiting
            )
            visits = plan.day_visits if backend == "sqlite" else plan.pg_day_visits
            result.day = simulated_day(hall, pool, visits, plan.day_rate)
            # The same offered rates again, now that the database holds a day of finished visits.
            result.after_day = fixed_rates(hall, pool, AFTER_DAY_RATES, plan.fixed_seconds)
            result.memory_end = hall.memory()
        finally:
            pool.stop()
    result.seconds = time.perf_counter() - t0
    return result


def run_rates(backend: str, plan: Plan, rates: tuple[int, ...], server_url: str | None = None) -> BackendResult:
    """Only the ticket rates (each `plan.repeats` times on a day with `plan.waiting` people waiting) and the
    step search, with the bare broker measured in the same hall before and after: the figures the ticket
    path is judged by, in a few minutes instead of the whole bench."""
    t0 = time.perf_counter()
    with live_hall(backend, plan.kiosks, server_url) as hall:
        pool = KioskPool(hall, plan.kiosks)
        try:
            bare = bare_roundtrip(hall.host, hall.port, hall.secret_dir, plan.bare // 2)
            result = BackendResult(backend, plan.kiosks, Stats.of(bare), memory_start=hall.memory())
            if backend == "postgresql":
                result.settings = settings_line(hall.url)
            hall.new_day()
            pool.open_loop(50, 2.0)  # warm-up: not reported
            pool.settle(hall)
            result.fixed = fixed_rates(hall, pool, rates, plan.fixed_seconds, plan.repeats, plan.waiting)
            result.search, result.best_rate = step_search(
                hall, pool, plan.search_seconds, plan.search_rates, plan.waiting
            )
            bare += bare_roundtrip(hall.host, hall.port, hall.secret_dir, plan.bare // 2)
            result.bare = Stats.of(bare)
            result.memory_end = hall.memory()
        finally:
            pool.stop()
    result.seconds = time.perf_counter() - t0
    return result


def run_all(
    plan: Plan, backends: tuple[str, ...] = ("sqlite", "postgresql"), rates: tuple[int, ...] | None = None
) -> list[BackendResult]:
    """Every requested backend; PostgreSQL from HALLQ_BENCH_POSTGRES_URL or a throwaway durable cluster.
    With `rates`, only the ticket rates and the step search (run_rates)."""
    results = []
    for backend in backends:
        with postgres_server() if backend == "postgresql" else contextlib.nullcontext() as url:
            if rates:
                results.append(run_rates(backend, plan, rates, url))
            else:
                results.append(run_backend(backend, plan, url))
    return results


def _print_phase(p: Phase) -> None:
    print(
        f"ticket.issue @ {p.rate:4.0f}/s  n={p.sent:5d} p50={p.latency.p50:8.2f} p95={p.latency.p95:8.2f} "
        f"p99={p.latency.p99:8.2f} ms  answered {p.achieved:6.1f}/s  timeouts={p.timeouts} refused={p.refused} "
        f"{'PASS' if p.passed else 'fail'}  (load {p.load1:.1f}, send lag p99 {p.send_lag_ms:.1f} ms)"
    )


def print_spread(r: BackendResult) -> None:
    """Each fixed rate's repeated runs: min / median / max of p50, p99 and answers per second, and the
    median p99 as a ratio to the bare broker's p99 of the same run."""
    for rate in sorted({p.rate for p in r.fixed}):
        runs = [p for p in r.fixed if p.rate == rate]
        p50, p99 = spread([p.latency.p50 for p in runs]), spread([p.latency.p99 for p in runs])
        done = spread([p.achieved for p in runs])
        print(
            f"ticket.issue @ {rate:4.0f}/s × {len(runs)}: p50 {p50[0]:.2f}/{p50[1]:.2f}/{p50[2]:.2f} ms, "
            f"p99 {p99[0]:.2f}/{p99[1]:.2f}/{p99[2]:.2f} ms (min/median/max), answered "
            f"{done[0]:.0f}/{done[1]:.0f}/{done[2]:.0f}/s; median p99 = {p99[1] / r.bare.p99:.1f}× bare p99, "
            f"median p50 = {p50[1] / r.bare.p50:.1f}× bare p50; {sum(p.passed for p in runs)}/{len(runs)} pass; "
            f"load {'/'.join(f'{p.load1:.1f}' for p in runs)}"
        )


def print_result(r: BackendResult) -> None:
    """Human-readable lines for one backend."""
    print(f"\n== {r.backend}: {r.kiosks} kiosks, {r.seconds:.0f} s {r.settings} ==")
    print(f"bare broker round trip        p50={r.bare.p50:6.2f} p95={r.bare.p95:6.2f} p99={r.bare.p99:6.2f} ms")
    print_spread(r)
    for label, phases in (("fixed rates", r.fixed), ("step search", r.search), ("after the day", r.after_day)):
        print(f"-- {label}")
        for p in phases:
            _print_phase(p)
            print(f"     p99 = {p.latency.p99 / r.bare.p99:6.1f}× the bare broker's p99")
    print(f"highest rate with p99 < {P99_LIMIT_MS:.0f} ms: {r.best_rate:.0f}/s")
    if r.call_display and r.call_reply:
        print(
            f"call_next reply p50={r.call_reply.p50:.2f} p99={r.call_reply.p99:.2f} ms; "
            f"call → display p50={r.call_display.p50:.2f} p95={r.call_display.p95:.2f} p99={r.call_display.p99:.2f} ms"
        )
    if r.day:
        d = r.day
        print(
            f"day: {d.issued}/{d.visits} issued, {d.served} served, {d.requests} requests in {d.seconds:.0f} s; "
            f"RSS {d.memory_idle['rss_mib']:.0f} → {d.memory_after['rss_mib']:.0f} MiB "
            f"(peak {d.memory_after['peak_mib']:.0f})"
        )


def main() -> None:
    """Run and print; --json for the raw figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--kiosks", type=int)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--rates", help="only these ticket rates (e.g. 200,500,1000), each --repeats times, and the step search"
    )
    parser.add_argument("--repeats", type=int, help="runs of each fixed rate (default 3)")
    args = parser.parse_args()
    plan = Plan.quick() if args.quick else Plan()
    if args.kiosks:
        plan = Plan(**{**asdict(plan), "kiosks": args.kiosks})
    if args.repeats:
        plan = Plan(**{**asdict(plan), "repeats": args.repeats})
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    rates = tuple(int(r) for r in args.rates.split(",")) if args.rates else None
    results = run_all(plan, backends, rates)
    for r in results:
        print_result(r)
    if args.json:
        print(json.dumps([asdict(r) for r in results], ensure_ascii=False, default=str, indent=1))


if __name__ == "__main__":
    main()
