"""Figures of the live load: latency summaries, one open-loop phase, a simulated day, one backend's result."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

TIMEOUT_S = 5.0  # a kiosk's request timeout (BusClient.request)
FIXED_RATES = (200, 1000)  # the issue's two targets: p99 ≤ 20 ms at 200/s, ≥ 1,000/s with p99 < 50 ms
REPEATS = 3  # each fixed rate is run this often; the report gives min / median / max, never a best try
FIXED_WAITING = 1000  # people already waiting when a fixed-rate phase starts (never an empty day)
AFTER_DAY_RATES = (100,)
SEARCH_RATES = (100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000)
P99_LIMIT_MS = 50.0


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; inf when it falls on a request that never got an answer."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


@dataclass
class Stats:
    """Latency summary in milliseconds."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, seconds: list[float]) -> Stats:
        """From latencies in seconds (inf = no answer)."""
        ms = [s * 1000 for s in seconds]
        finite = [m for m in ms if math.isfinite(m)]
        mean = sum(finite) / len(finite) if finite else math.nan
        return cls(len(ms), percentile(ms, 50), percentile(ms, 95), percentile(ms, 99), max(ms, default=math.nan), mean)


@dataclass
class Phase:
    """One open-loop phase at a fixed offered rate."""

    rate: float
    seconds: float
    sent: int
    ok: int
    refused: dict[str, int]
    timeouts: int
    latency: Stats
    achieved: float  # answers per second over the phase
    send_lag_ms: float  # how late the generator itself sent (p99): bounds the client's own share
    load1: float = 0.0  # the machine's 1-minute load average as the phase began (it is shared: say so)

    @property
    def passed(self) -> bool:
        """p99 under the limit, nothing lost or refused, and the server kept up with the offered rate."""
        return (
            self.latency.p99 < P99_LIMIT_MS
            and self.timeouts == 0
            and not self.refused
            and self.achieved >= 0.95 * self.rate
        )


def spread(values: list[float]) -> tuple[float, float, float]:
    """(min, median, max) of repeated measurements."""
    ordered = sorted(values)
    return ordered[0], ordered[len(ordered) // 2], ordered[-1]


@dataclass
class DayRun:
    """A simulated day pushed through the live system, and the server's memory around it."""

    visits: int
    issued: int
    served: int
    requests: int
    seconds: float
    memory_idle: dict[str, float]
    memory_after: dict[str, float]
    refused: dict[str, int]
    issue_latency: Stats
    call_latency: Stats


@dataclass
class BackendResult:
    """Everything measured on one database backend."""

    backend: str
    kiosks: int
    bare: Stats
    fixed: list[Phase] = field(default_factory=list)
    search: list[Phase] = field(default_factory=list)
    best_rate: float = 0.0
    call_reply: Stats | None = None
    call_display: Stats | None = None
    day: DayRun | None = None
    after_day: list[Phase] = field(default_factory=list)
    memory_start: dict[str, float] = field(default_factory=dict)
    memory_end: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    settings: str = ""  # PostgreSQL: its durability settings as measured (fsync, synchronous_commit)
