"""The discrete-event core: citizens arrive, take tickets, windows call through the REAL allocation policy.

Time is minutes after midnight of the scenario day; every policy call gets a `Situation` built exactly like
`hallserver.services.windows._situation` (waiting tickets of the window's groups, plus those of a group an
overflow rule lets the window help with once they have waited `after_minutes`; rolling mean service time of
the last `service_time_sample` visits per group; the simulated `now`)."""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from hallserver.models import Priority
from hallserver.services.allocation import Candidate, Situation
from hallserver.simulation.arrivals import BOOKED, GREEN, Citizen, Day
from hallserver.simulation.configs import Setup, SimWindow
from hallserver.simulation.scenario import Scenario, minutes_of

Policy = Callable[[Situation], Candidate | None]
ARRIVE, FREE, WAKE, LEAVE, OVERFLOW = 0, 1, 2, 3, 4


@dataclass(slots=True)
class SimTicket:
    """A ticket and the fate of the person holding it."""

    tid: int
    citizen: Citizen
    number: str
    priority: str
    issued: float
    candidate: Candidate
    called: float | None = None
    window: str | None = None
    started: float | None = None
    finished: float | None = None
    left: float | None = None  # the person gave up at this instant (the ticket stays in the queue)
    absent: bool = False  # called after the person had left

    @property
    def wait(self) -> float | None:
        """Minutes from the ticket to the call, for a person who was served."""
        return None if self.started is None else self.called - self.issued  # type: ignore[operator]


@dataclass(slots=True)
class WindowState:
    """A window during the run."""

    spec: SimWindow
    order: int
    busy: bool = False
    idle_since: float = 0.0
    busy_minutes: float = 0.0
    absent_minutes: float = 0.0
    last_finish: float = 0.0
    calls: int = 0


@dataclass
class SimResult:
    """Everything a run produced: tickets, who balked, windows, and the call log."""

    scenario: Scenario
    setup: Setup
    day: Day
    tickets: list[SimTicket]
    balked: list[Citizen]
    windows: list[WindowState]
    log: list[tuple[float, str, str, str]] = field(default_factory=list)  # (t, event, window, ticket)
    policy_calls: int = 0
    end: float = 0.0


class Simulation:
    """One configuration on one day."""

    def __init__(self, scenario: Scenario, setup: Setup, day: Day, policy: Policy, full_scan: bool = False) -> None:
        self.s = scenario
        self.setup = setup
        self.day = day
        self.policy = policy
        self.start = scenario.start
        self.open = minutes_of(scenario.hours.open)
        self.close = minutes_of(scenario.hours.close)
        self.stop = self.close + scenario.hours.overtime_minutes
        self.windows = [WindowState(w, i, idle_since=self.open) for i, w in enumerate(setup.windows)]
        self.serving: dict[str, list[WindowState]] = {g.code: [] for g in scenario.groups}
        for w in self.windows:
            for g in w.spec.groups:
                self.serving[g].append(w)
        # Kiosk estimate capacity, as estimates.window_capacity: a window of k groups counts 1/k for each.
        self.capacity = {g: sum(1 / len(w.spec.groups) for w in ws) for g, ws in self.serving.items()}
        # Overflow rules (004 §14): window id → [(group, after_minutes)], group → helping windows.
        by_id = {w.spec.id: w for w in self.windows}
        # Two rules for one window and group: the shorter threshold (as candidates.reach).
        after: dict[tuple[str, str], float] = {}
        for rule in setup.overflow:
            for wid in rule.windows:
                helper = by_id.get(wid)
                if helper is None or rule.group in helper.spec.groups:
                    continue
                key = (wid, rule.group)
                after[key] = min(float(rule.after_minutes), after.get(key, math.inf))
        self.helps: dict[str, list[tuple[str, float]]] = {}
        self.helpers: dict[str, list[tuple[WindowState, float]]] = {}
        for (wid, group), minutes in after.items():
            self.helps.setdefault(wid, []).append((group, minutes))
            self.helpers.setdefault(group, []).append((by_id[wid], minutes))
        self.waiting: dict[str, dict[int, SimTicket]] = {g.code: {} for g in scenario.groups}
        # The same split as candidates.load: walk-ins in issue order (a policy only ever picks a group's oldest),
        # and every green or booked ticket.
        self.walk_ins: dict[str, dict[int, SimTicket]] = {g.code: {} for g in scenario.groups}
        self.special: dict[str, dict[int, SimTicket]] = {g.code: {} for g in scenario.groups}
        self.full_scan = full_scan
        sample = scenario.allocation.service_time_sample
        self.recent: dict[str, deque[float]] = {g.code: deque(maxlen=sample) for g in scenario.groups}
        self.means = {g.code: g.default_service_minutes or g.service.mean for g in scenario.groups}
        self.seq: dict[str, int] = {}
        self.events: list[tuple[float, int, int, object]] = []
        self.counter = 0
        self.result = SimResult(scenario, setup, day, [], [], self.windows)

    # --- event queue ---

    def push(self, t: float, kind: int, obj: object) -> None:
        """Schedule an event; ties run in scheduling order."""
        self.counter += 1
        heapq.heappush(self.events, (t, self.counter, kind, obj))

    def run(self) -> SimResult:
        """Play the day to the end and return what happened."""
        for c in self.day.citizens:
            self.push(c.arrive, ARRIVE, c)
        for w in self.windows:
            for _lo, hi in w.spec.breaks:
                self.push(hi, WAKE, w)
        handlers = {
            ARRIVE: self.arrive,
            FREE: self.free,
            WAKE: self.wake,
            LEAVE: self.leave,
            OVERFLOW: self.overflow,
        }
        t = 0.0
        while self.events:
            t, _, kind, obj = heapq.heappop(self.events)
            handlers[kind](t, obj)  # type: ignore[operator]
        self.result.end = t
        return self.result

    # --- citizens ---

    def arrive(self, t: float, c: Citizen) -> None:
        """A citizen at the kiosk: balk at a long estimate, else take a ticket and queue."""
        g = c.group
        if c.kind != BOOKED and self.estimate(g) > c.balk_limit:
            self.result.balked.append(c)
            self.result.log.append((t, "balk", "", g))
            return
        priority = Priority.normal
        if c.kind == GREEN:
            priority = Priority.green
        elif c.kind == BOOKED and c.slot is not None and t <= c.slot + self.s.tickets.appointment_late_minutes:
            priority = Priority.appointment  # late arrivals queue as walk-ins, as tickets._check_priority
        series = {
            Priority.appointment: self.s.tickets.appointment_prefix,
            Priority.green: self.s.tickets.green_prefix,
        }.get(priority, self.s.group(g).prefix)
        seq = self.seq.get(series, 0) + 1
        self.seq[series] = seq
        number = f"{series}{seq:03d}"
        tid = len(self.result.tickets) + 1
        slot_at = self.at(c.slot) if priority == Priority.appointment and c.slot is not None else None
        cand = Candidate(tid, number, g, priority.value, self.at(t), slot_at, None, self.at(t))
        ticket = SimTicket(tid, c, number, priority.value, t, cand)
        self.result.tickets.append(ticket)
        self.waiting[g][tid] = ticket
        (self.walk_ins if priority == Priority.normal else self.special)[g][tid] = ticket
        self.result.log.append((t, "issue", "", number))
        gives_up = c.patience if c.walks_off_after is None else min(c.patience, c.walks_off_after)
        if t + gives_up < self.stop:  # still waiting when the hall stops: unserved at close, not a leaver
            self.push(t + gives_up, LEAVE, ticket)
        for after in sorted({after for _w, after in self.helpers.get(g, ())}):
            self.push(t + after, OVERFLOW, ticket)  # helping windows may take it from then on
        self.offer(t, g)

    def overflow(self, t: float, ticket: SimTicket) -> None:
        """A ticket has waited long enough for an overflow rule: idle helping windows look at the queue."""
        if ticket.called is not None:
            return
        g = ticket.citizen.group
        idle = [w for w, after in self.helpers.get(g, ()) if t - ticket.issued >= after]
        for w in sorted(idle, key=lambda w: (w.idle_since, w.order)):
            if ticket.called is not None:
                return
            if not w.busy and self.available(w, t):
                self.call(t, w)

    def leave(self, t: float, ticket: SimTicket) -> None:
        """The person gives up waiting; nobody tells the system, so the ticket stays in the queue."""
        if ticket.called is None:
            ticket.left = t
            self.result.log.append((t, "leave", "", ticket.number))

    def estimate(self, group: str) -> float:
        """What the kiosk shows (estimates.wait_for): people waiting × mean service ÷ windows for the group."""
        cap = self.capacity[group]
        return len(self.waiting[group]) * self.means[group] / cap if cap > 0 else float("inf")

    # --- windows ---

    def at(self, minutes: float):
        """The instant of simulator time `minutes`."""
        return self.start + timedelta(minutes=minutes)

    def available(self, w: WindowState, t: float) -> bool:
        """Open for calls: within hours (overtime included), not on a break."""
        if t < self.open or t >= self.stop:
            return False
        return not any(lo <= t < hi for lo, hi in w.spec.breaks)

    def offer(self, t: float, group: str) -> None:
        """A new ticket: the longest-idle available window of its group calls (through the policy)."""
        idle = [w for w in self.serving[group] if not w.busy and self.available(w, t)]
        for w in sorted(idle, key=lambda w: (w.idle_since, w.order)):
            if self.call(t, w):
                return

    def free(self, t: float, payload: tuple[WindowState, SimTicket | None]) -> None:
        """A window finished a visit (or gave up on an absent citizen): record, then call the next."""
        w, ticket = payload
        w.busy = False
        w.idle_since = t
        w.last_finish = t
        if ticket is not None and ticket.started is not None:
            self.learn(ticket.citizen.group, ticket.citizen.service)
        if self.available(w, t):
            self.call(t, w)

    def wake(self, t: float, w: WindowState) -> None:
        """End of a break: an idle window looks at the queue."""
        if not w.busy and self.available(w, t):
            self.call(t, w)

    def learn(self, group: str, minutes: float) -> None:
        """Rolling mean of the last visits (estimates.mean_service_minutes)."""
        recent = self.recent[group]
        recent.append(minutes)
        self.means[group] = sum(recent) / len(recent)

    def candidates(self, w: WindowState, t: float) -> list[Candidate]:
        """What windows._situation loads: per group of the window the oldest walk-in and every green or booked
        ticket, plus the same of a group an overflow rule lets it help with, among the tickets that have
        waited the rule's `after_minutes` (`full_scan`: every waiting ticket, to check the two agree)."""
        out: list[Candidate] = []
        for g in w.spec.groups:
            out += self.group_candidates(g)
        for g, after in self.helps.get(w.spec.id, ()):
            out += [c for c in self.group_candidates(g) if t - self.waiting[g][c.ticket_id].issued >= after]
        return out

    def group_candidates(self, g: str) -> list[Candidate]:
        """One group's share of the candidates."""
        if self.full_scan:
            return [tk.candidate for tk in self.waiting[g].values()]
        out = [tk.candidate for tk in self.special[g].values()]
        head = next(iter(self.walk_ins[g].values()), None)
        if head is not None:
            out.append(head.candidate)
        return out

    def call(self, t: float, w: WindowState) -> bool:
        """Ask the policy for the window's next ticket; True when a ticket was called."""
        cands = self.candidates(w, t)
        if not cands:
            return False
        situation = Situation(
            w.spec.id,
            cands,
            self.means,
            self.at(t),
            self.s.tickets,
            self.s.allocation,
            w.spec.groups,
        )
        self.result.policy_calls += 1
        choice = self.policy(situation)
        if choice is None:
            return False
        ticket = self.waiting[choice.group].pop(choice.ticket_id)
        (self.walk_ins if ticket.priority == Priority.normal else self.special)[choice.group].pop(choice.ticket_id)
        ticket.called, ticket.window = t, w.spec.id
        w.busy, w.calls = True, w.calls + 1
        self.result.log.append((t, "call", w.spec.id, ticket.number))
        if ticket.left is not None:  # called after the person left: a recall, then 过号
            ticket.absent = True
            w.busy_minutes += self.s.absent_minutes
            w.absent_minutes += self.s.absent_minutes
            self.push(t + self.s.absent_minutes, FREE, (w, ticket))
            return True
        c = ticket.citizen
        ticket.started = t + c.walk
        ticket.finished = ticket.started + c.service
        w.busy_minutes += c.walk + c.service
        self.push(ticket.finished, FREE, (w, ticket))
        return True


def simulate(scenario: Scenario, setup: Setup, day: Day, policy: Policy, full_scan: bool = False) -> SimResult:
    """Run one configuration on one day (`full_scan`: hand the policy every waiting ticket, for tests)."""
    return Simulation(scenario, setup, day, policy, full_scan).run()
