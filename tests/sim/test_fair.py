"""The `fair` policy and overflow rules in the simulator, on small days whose waits are worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bench.hallsim.runner import resolve
from firmware_config.hall import OverflowRule
from hallserver.services import allocation
from hallserver.simulation.arrivals import WALK_IN, Citizen, Day, generate
from hallserver.simulation.configs import Setup, SimWindow, overflow_setup, scenario_setup
from hallserver.simulation.engine import SimResult, simulate
from hallserver.simulation.metrics import measure
from hallserver.simulation.scenario import Scenario, load_scenario

OPEN = 9 * 60.0


def hall(**overrides: Any) -> Scenario:
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
        "allocation": {"starvation_minutes": 30},
    }
    raw.update(overrides)
    return Scenario.model_validate(raw)


def person(idx: int, at: float, group: str, service: float) -> Citizen:
    return Citizen(idx, OPEN + at, group, WALK_IN, None, service, 0.0, 1e6, 1e6, None)


def run(s: Scenario, setup: Setup, citizens: list[Citizen]) -> SimResult:
    return simulate(s, setup, Day(tuple(citizens), 0), resolve(setup.policy))


def waits(r: SimResult) -> dict[str, float]:
    return {t.number: round(t.called - t.issued, 6) for t in r.tickets if t.called is not None}


def test_fair_is_registered_and_the_default_of_the_bundled_halls() -> None:
    assert resolve("fair") is allocation.fair
    assert allocation.get_policy("fair") is allocation.fair
    assert {load_scenario(k).allocation.policy for k in ("county", "city", "lunch_peak")} == {"fair"}


def test_fair_calls_before_the_cap_where_balanced_lets_a_long_visit_starve() -> None:
    # One window, cap 30 minutes, cap horizon 5. A001 (long, 30 min) occupies it from 0 to 30. A002 (long,
    # 10 min) comes at 1, three short visits at 15, 25 and 28 (2 min each).
    # balanced at 30: response ratios (29+30)/30 = 1.97 for A002 (the rolling mean of "long" is now 30)
    # against (15+2)/2 = 8.5 for B001, so B001 at 30; at 32 A002 has waited 31 ≥ 30 and is called as
    # starving — one minute past the cap — then B002 at 42 and B003 at 44.
    # fair at 30: A002's deadline 1+30 = 31 is within 30+5, so A002 30–40; then B001 (deadline 45 ≤ 40+5)
    # at 40, B002 at 42, B003 at 44 by response ratio.
    day = [person(0, 0, "long", 30), person(1, 1, "long", 10)]
    day += [person(2, 15, "short", 2), person(3, 25, "short", 2), person(4, 28, "short", 2)]
    s = hall()
    window = (SimWindow("w001", "无差别综合", ("long", "short")),)
    balanced = run(s, Setup("b", "b", "balanced", window), day)
    fair = run(s, Setup("f", "f", "fair", window), day)
    assert waits(balanced) == {"A001": 0, "A002": 31, "B001": 15, "B002": 17, "B003": 16}
    assert waits(fair) == {"A001": 0, "A002": 29, "B001": 25, "B002": 17, "B003": 16}
    mb, mf = measure(balanced), measure(fair)
    assert (mb.walk_ins_over_cap, mb.walk_in_max_wait, mb.mean_wait) == (1, 31, 79 / 5)
    assert (mf.walk_ins_over_cap, mf.walk_in_max_wait, mf.mean_wait) == (0, 29, 87 / 5)


TWO = [
    {"count": 1, "kind": "分领域综合", "groups": ["long"], "ids": ["w01"]},
    {"count": 1, "kind": "分领域综合", "groups": ["short"], "ids": ["w02"]},
]


def test_an_overflow_rule_lets_an_idle_window_help_once_the_threshold_has_passed() -> None:
    # w01 (long only) is busy 0–60 with A001; A002 comes at 1. w02 serves short only and is idle.
    day = [person(0, 0, "long", 60), person(1, 1, "long", 10)]
    without = hall(windows=TWO)
    assert waits(run(without, scenario_setup(without, "fair"), day))["A002"] == 59  # waits for w01
    rule = OverflowRule(group="long", windows=("w02",), after_minutes=20)
    s = hall(windows=TWO, allocation={"starvation_minutes": 30, "overflow": [rule]})
    for policy in ("fair", "balanced", "fifo"):  # candidate gathering, not the policy, applies the rule
        r = run(s, scenario_setup(s, policy), day)
        assert waits(r)["A002"] == 20  # w02 takes it the minute it has waited 20, not before
        assert next(t.window for t in r.tickets if t.number == "A002") == "w02"


def test_a_busy_helper_takes_the_overflow_ticket_when_it_frees() -> None:
    # w02 is busy with B001 from 5 to 35; at 21 A002 becomes visible to it; at 35 it calls A002 (34 min).
    day = [person(0, 0, "long", 60), person(1, 1, "long", 10), person(2, 5, "short", 30)]
    rule = OverflowRule(group="long", windows=("w02",), after_minutes=20)
    s = hall(windows=TWO, allocation={"starvation_minutes": 60, "overflow": [rule]})
    r = run(s, scenario_setup(s, "fair"), day)
    assert waits(r) == {"A001": 0, "A002": 34, "B001": 0}


def test_baseline_setups_ignore_the_scenarios_overflow_rules() -> None:
    rule = OverflowRule(group="long", windows=("w02",), after_minutes=20)
    s = hall(windows=TWO, allocation={"overflow": [rule]})
    assert scenario_setup(s).overflow == (rule,)
    assert [w.id for w in scenario_setup(s).windows] == ["w01", "w02"]


def test_a_scenario_refuses_overflow_rules_naming_unknown_windows_or_groups() -> None:
    bad_window = {"overflow": [{"group": "long", "windows": ["w09"], "after_minutes": 20}]}
    with pytest.raises(ValidationError, match="unknown windows"):
        hall(windows=TWO, allocation=bad_window)
    bad_group = {"overflow": [{"group": "nope", "windows": ["w02"], "after_minutes": 20}]}
    with pytest.raises(ValidationError, match="unknown group"):
        hall(windows=TWO, allocation=bad_group)
    with pytest.raises(ValidationError, match="ids lists"):
        hall(windows=[{"count": 2, "groups": ["long", "short"], "ids": ["w01"]}])


@pytest.mark.parametrize("policy", sorted(allocation.POLICIES))
def test_the_simulator_loads_only_what_the_policy_needs_and_calls_the_same_tickets(policy: str) -> None:
    # The simulator hands each call the server's bounded candidate set (candidates.load); on a busy day
    # with overflow rules the call log is identical to handing the policy every waiting ticket.
    s = load_scenario("lunch_peak").model_copy(update={"visits": 900})
    day = generate(s)
    setup = overflow_setup(s, 10, policy)
    bounded = simulate(s, setup, day, resolve(policy))
    full = simulate(s, setup, day, resolve(policy), full_scan=True)
    assert [e for e in bounded.log if e[1] == "call"] == [e for e in full.log if e[1] == "call"]
    assert sum(1 for e in bounded.log if e[1] == "call") > 800
