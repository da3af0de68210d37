"""Scenario files of the hall simulator: arrivals, service times, patience and windows of one hall day."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from firmware_config.hall import AllocationRules, TicketRules, WindowKind

SCENARIO_DIR = Path(__file__).parent / "scenarios"
ZONE = ZoneInfo("Asia/Shanghai")


class Strict(BaseModel):
    """Unknown keys are errors, as in the hall profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def minutes_of(value: str) -> float:
    """'09:30' → 570.0 minutes after midnight."""
    t = time.fromisoformat(value)
    return t.hour * 60 + t.minute


class Hours(Strict):
    """Opening of the day: tickets from `open` to `last_ticket`, windows until `close` (+ overtime)."""

    open: str = "09:00"
    last_ticket: str = "17:30"
    close: str = "18:00"
    overtime_minutes: float = Field(default=60, ge=0, le=240, description="Serve the queue after close, at most")

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if not minutes_of(self.open) < minutes_of(self.last_ticket) <= minutes_of(self.close):
            raise ValueError("need open < last_ticket <= close")
        return self


class ServiceTime(Strict):
    """Lognormal service time (minutes) with a mean and a coefficient of variation."""

    mean: float = Field(gt=0, le=240)
    cv: float = Field(default=0.7, gt=0, le=3)

    @property
    def sigma(self) -> float:
        """σ of the underlying normal."""
        return math.sqrt(math.log(1 + self.cv**2))

    @property
    def mu(self) -> float:
        """μ of the underlying normal."""
        return math.log(self.mean) - self.sigma**2 / 2

    @property
    def second_moment(self) -> float:
        """E[S²] (for the Allen–Cunneen correction)."""
        return self.mean**2 * (1 + self.cv**2)


class GroupSpec(Strict):
    """A queue group of the simulated hall: its share of visits and its service time."""

    code: str
    name: str
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$")
    share: float = Field(gt=0)
    service: ServiceTime
    default_service_minutes: float | None = Field(default=None, description="What the profile says; default mean")
    bookable: bool = True


class WindowSpec(Strict):
    """`count` identical windows serving `groups`."""

    count: int = Field(ge=1, le=500)
    kind: WindowKind = WindowKind.domain
    groups: tuple[str, ...] = Field(min_length=1)
    ids: tuple[str, ...] | None = Field(default=None, description="Window ids (as in hall.yaml); default w001 …")

    @model_validator(mode="after")
    def _ids(self) -> WindowSpec:
        if self.ids is not None and len(self.ids) != self.count:
            raise ValueError(f"ids lists {len(self.ids)} windows, count is {self.count}")
        return self


class Appointments(Strict):
    """Booked slots (预约): share of visits, slot length, punctuality of arrivals, booked no-shows."""

    share: float = Field(default=0.30, ge=0, le=0.9, description="Share of visits that arrive with a booking")
    no_show: float = Field(default=0.08, ge=0, lt=1, description="Bookings that never come")
    slot_minutes: int = Field(default=30, ge=10, le=120)
    early_mean: float = Field(default=10, description="Minutes before the slot start a citizen arrives, mean")
    early_sd: float = Field(default=8, ge=0)
    curve: dict[str, float] | None = Field(default=None, description="Booked slots by hour; default: arrivals")


class Patience(Strict):
    """When citizens give up: balk at the kiosk estimate, renege after waiting, or simply walk away."""

    balk_median: float = Field(default=90, gt=0, description="Estimated wait (min) that makes half refuse a ticket")
    balk_sigma: float = Field(default=0.4, ge=0)
    renege_median: float = Field(default=80, gt=0, description="Minutes of waiting after which half leave")
    renege_sigma: float = Field(default=0.5, ge=0)
    appointment_factor: float = Field(default=2.0, ge=1, description="Booked citizens are more patient")
    no_show: float = Field(default=0.03, ge=0, lt=1, description="Walk-ins who leave soon after their ticket")


class Scenario(Strict):
    """One simulated hall day."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{1,30}$")
    name: str
    description: str = ""
    seed: int = 20261123
    day: date = date(2026, 11, 23)
    hours: Hours = Hours()
    visits: int = Field(ge=1, le=100_000, description="Citizens who come in (walk-ins and booked check-ins)")
    arrival_curve: dict[str, float] = Field(description="Relative arrivals per clock hour, '09': 12 ...")
    green_share: float = Field(default=0.05, ge=0, le=0.5)
    appointments: Appointments = Appointments()
    patience: Patience = Patience()
    walk_minutes: float = Field(default=0.3, ge=0, description="From the call until the citizen sits down")
    absent_minutes: float = Field(default=1.5, ge=0, description="Window time lost calling someone who left")
    groups: tuple[GroupSpec, ...] = Field(min_length=1)
    windows: tuple[WindowSpec, ...] = Field(min_length=1, description="hallq's window set-up (分领域/无差别)")
    staggered_breaks: tuple[tuple[str, str], ...] = Field(
        default=(), description="Breaks taken in turn: window i of every set-up takes break i mod n (午间轮休)"
    )
    dedicated: dict[str, int] | None = Field(default=None, description="Baseline windows per group; default by load")
    tickets: TicketRules = TicketRules()
    allocation: AllocationRules = AllocationRules()

    @field_validator("arrival_curve")
    @classmethod
    def _hours(cls, curve: dict[str, float]) -> dict[str, float]:
        for hour, weight in curve.items():
            if not (hour.isdigit() and 0 <= int(hour) < 24) or weight < 0:
                raise ValueError(f"bad arrival curve entry {hour}: {weight}")
        return curve

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        codes = [g.code for g in self.groups]
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate group codes")
        for w in self.windows:
            unknown = set(w.groups) - set(codes)
            if unknown:
                raise ValueError(f"window set-up names unknown groups {sorted(unknown)}")
        orphans = set(codes) - {g for w in self.windows for g in w.groups}
        if orphans:
            raise ValueError(f"groups {sorted(orphans)} have no window")
        if self.dedicated is not None and set(self.dedicated) != set(codes):
            raise ValueError("dedicated must give a window count for every group")
        ids = self.window_ids()
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate window ids")
        for rule in self.allocation.overflow:
            if rule.group not in codes:
                raise ValueError(f"overflow rule names unknown group {rule.group}")
            unknown = set(rule.windows) - set(ids)
            if unknown:
                raise ValueError(f"overflow rule for {rule.group} names unknown windows {sorted(unknown)}")
        return self

    def window_ids(self) -> list[str]:
        """Ids of the scenario's windows in order: the given ones, else w001, w002 … (as configs numbers them)."""
        out: list[str] = []
        for w in self.windows:
            out += list(w.ids) if w.ids is not None else [f"w{len(out) + i + 1:03d}" for i in range(w.count)]
        return out

    @property
    def window_count(self) -> int:
        """Windows of the hall (every configuration uses the same number)."""
        return sum(w.count for w in self.windows)

    @property
    def start(self) -> datetime:
        """Midnight of the simulated day in the hall's zone: simulator time 0."""
        return datetime.combine(self.day, time(0), tzinfo=ZONE)

    def at(self, minutes: float) -> datetime:
        """The instant `minutes` after midnight."""
        return self.start + timedelta(minutes=minutes)

    def group(self, code: str) -> GroupSpec:
        """A group by code."""
        return next(g for g in self.groups if g.code == code)

    def mean_service(self) -> float:
        """Visit-weighted mean service time (minutes)."""
        total = sum(g.share for g in self.groups)
        return sum(g.share * g.service.mean for g in self.groups) / total

    def service_scv(self) -> float:
        """Squared coefficient of variation of the service time mixture."""
        total = sum(g.share for g in self.groups)
        m1 = self.mean_service()
        m2 = sum(g.share * g.service.second_moment for g in self.groups) / total
        return m2 / m1**2 - 1


def load_scenario(path_or_key: str | Path) -> Scenario:
    """A scenario by file path or by key (a file in hallserver/simulation/scenarios)."""
    path = Path(path_or_key)
    if not path.suffix:
        path = SCENARIO_DIR / f"{path_or_key}.yaml"
    return Scenario.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def scenario_keys() -> list[str]:
    """Keys of the bundled scenarios, in file-name order."""
    return [p.stem for p in sorted(SCENARIO_DIR.glob("*.yaml"))]
