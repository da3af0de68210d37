"""The hall simulator: it drives the real allocation policies, conserves citizens, honours priorities under
balanced, and is deterministic for a seed."""

from __future__ import annotations

from typing import Any

import pytest

from bench.hallsim.probes import Behaviour, probe
from bench.hallsim.runner import resolve, run_scenario
from hallserver.services import allocation
from hallserver.simulation.arrivals import BOOKED, GREEN, WALK_IN, Citizen, Day, generate
from hallserver.simulation.configs import Setup, SimWindow, dedicated, dedicated_counts, pooled, scenario_setup
from hallserver.simulation.engine import simulate
from hallserver.simulation.metrics import measure
from hallserver.simulation.scenario import Scenario, load_scenario, scenario_keys

OPEN = 9 * 60.0


def tiny(**overrides: Any) -> Scenario:
    """Two queue groups with very different service times and one window serving both."""
    raw: dict[str, Any] = {
        "key": "tiny",
        "name": "测试大厅",
        "visits": 10,
        "arrival_curve": {"09": 1},
        "walk_minutes": 0.0,
        "groups": [
            {"code": "long", "name": "长业务", "prefix": "A", "share": 1, "service": {"mean": 20}},
            {"code": "short", "name": "短业务", "prefix": "B", "share": 1, "service": {"mean": 2}},
        ],
        "windows": [{"count": 1, "kind": "无差别综合", "groups": ["long", "short"]}],
        "patience": {"renege_median": 100_000, "balk_median": 100_000, "no_show": 0},
    }
    raw.update(overrides)
    return Scenario.model_validate(raw)


def person(idx: int, at: float, group: str, service: float, kind: str = WALK_IN, slot: float | None = None) -> Citizen:
    """A patient citizen arriving `at` minutes after opening."""
    return Citizen(idx, OPEN + at, group, kind, None if slot is None else OPEN + slot, service, 0.0, 1e6, 1e6, None)


ONE_WINDOW = (SimWindow("w001", "无差别综合", ("long", "short")),)


def call_order(policy: str, citizens: list[Citizen], s: Scenario | None = None) -> list[str]:
    """Ticket numbers in the order the window called them, read from the simulator's event log."""
    s = s or tiny()
    result = simulate(s, Setup("t", "t", policy, ONE_WINDOW), Day(tuple(citizens), 0), resolve(policy))
    return [number for _t, event, _w, number in result.log if event == "call"]


def test_the_simulator_runs_the_real_policies() -> None:
    assert resolve("balanced") is allocation.balanced
    assert resolve("fifo") is allocation.fifo
    assert resolve("fair") is allocation.fair
    with pytest.raises(ValueError):
        resolve("deadline")  # the bench's old proposal became `fair`: the bench has no policy of its own
    with pytest.raises(ValueError):
        resolve("nonexistent")


def test_balanced_and_fifo_call_in_a_known_different_order() -> None:
    # A long visit occupies the window for 30 minutes. A long-service ticket (A) comes at +1, a short one
    # (B) at +10. At +30, FIFO calls the oldest (A002); balanced's response ratio favours the short one:
    # (20 + 2) / 2 = 11 against (29 + 20) / 20 = 2.45.
    day = [person(0, 0, "long", 30), person(1, 1, "long", 20), person(2, 10, "short", 2)]
    assert call_order("fifo", day) == ["A001", "A002", "B001"]
    assert call_order("balanced", day) == ["A001", "B001", "A002"]


def test_balanced_serves_green_then_due_appointments_before_earlier_walk_ins() -> None:
    day = [
        person(0, 0, "long", 30),
        person(1, 1, "short", 2),  # walk-in, first in the queue
        person(2, 5, "long", 20, kind=GREEN),
        person(3, 20, "short", 2, kind=BOOKED, slot=25),  # checked in 5 minutes before its slot
        person(4, 22, "short", 2),
    ]
    assert call_order("balanced", day) == ["A001", "L001", "Y001", "B001", "B002"]
    assert call_order("fifo", day) == ["A001", "B001", "L001", "Y001", "B002"]


def test_a_late_appointment_queues_as_a_walk_in() -> None:
    day = [person(0, 0, "long", 30), person(1, 2, "short", 2), person(2, 20, "short", 2, kind=BOOKED, slot=0)]
    assert call_order("balanced", day) == ["A001", "B001", "B002"]  # 20 min late > 15: a normal ticket


def test_balanced_uses_the_rolling_mean_service_time() -> None:
    # Profile defaults say "short" is slow and "long" is quick; after real visits the policy must see the
    # simulated durations (as estimates.mean_service_minutes does), so the short ticket goes first.
    s = tiny(
        groups=[
            {
                "code": "long",
                "name": "长业务",
                "prefix": "A",
                "share": 1,
                "service": {"mean": 20},
                "default_service_minutes": 1,
            },
            {
                "code": "short",
                "name": "短业务",
                "prefix": "B",
                "share": 1,
                "service": {"mean": 2},
                "default_service_minutes": 50,
            },
        ]
    )
    warm_up = [person(0, 0, "short", 2), person(1, 2.5, "long", 25)]
    race = [person(2, 3, "long", 20), person(3, 3.5, "short", 2)]
    assert call_order("balanced", warm_up + race, s) == ["B001", "A001", "B002", "A002"]


@pytest.mark.parametrize("key", scenario_keys())
def test_citizens_are_conserved(key: str) -> None:
    s = load_scenario(key)
    run = run_scenario(s, [dedicated(s), pooled(s), scenario_setup(s)])
    for result, m in zip(run.results, run.metrics, strict=True):
        gone = m.reneged + m.walked_off
        assert m.arrived == m.served + m.balked + gone + m.unserved_at_close, m.setup
        events = [e for _t, e, _w, _n in result.log]
        assert events.count("issue") + events.count("balk") == m.arrived
        assert events.count("call") == m.served + m.absent_calls
        assert m.absent_calls <= gone
        assert m.served > 0.8 * m.arrived


def test_conservation_holds_when_the_hall_closes_on_a_queue() -> None:
    s = tiny(visits=400, hours={"open": "09:00", "last_ticket": "10:00", "close": "10:00", "overtime_minutes": 0})
    m = measure(simulate(s, scenario_setup(s), generate(s), resolve("balanced")))
    assert m.unserved_at_close > 100
    assert m.arrived == m.served + m.balked + m.reneged + m.walked_off + m.unserved_at_close == 400


def test_same_seed_same_day_and_different_seed_different_day() -> None:
    s = load_scenario("lunch_peak")
    a, b = run_scenario(s, [scenario_setup(s)]), run_scenario(s, [scenario_setup(s)])
    assert a.day == b.day
    assert a.results[0].log == b.results[0].log
    assert a.metrics[0].mean_wait == b.metrics[0].mean_wait
    other = generate(s.model_copy(update={"seed": s.seed + 1}))
    assert other.citizens != a.day.citizens


def test_every_configuration_sees_the_same_citizens_and_windows() -> None:
    s = load_scenario("county")
    assert sum(dedicated_counts(s).values()) == s.window_count
    assert all(len(setup.windows) == s.window_count for setup in (dedicated(s), pooled(s), scenario_setup(s)))
    run = run_scenario(s, [dedicated(s), pooled(s)])
    assert run.metrics[0].arrived == run.metrics[1].arrived == len(run.day.citizens)


def test_appointment_and_green_shares_follow_the_scenario() -> None:
    s = load_scenario("county")
    day = generate(s)
    n = len(day.citizens)
    assert n == s.visits
    assert sum(c.kind == BOOKED for c in day.citizens) / n == pytest.approx(0.30, abs=0.01)
    assert sum(c.kind == GREEN for c in day.citizens) / n == pytest.approx(0.05, abs=0.01)
    assert all(c.slot is None or c.arrive >= c.slot - s.tickets.appointment_early_minutes for c in day.citizens)


def test_probes_tell_policies_apart() -> None:
    # The report describes the real policy through these probes, so they must distinguish behaviours.
    assert probe("fifo") == Behaviour(False, False, False)
    fair = probe("fair")
    assert not fair.due_appointment_beats_starving and not fair.unprotected_before_cap
    assert probe("balanced").unprotected_before_cap  # response ratio favours a short ticket before the cap
