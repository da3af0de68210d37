"""The what-if engine (hallserver/simulation/whatif.py) on small fixed halls whose answer is known by hand,
and cross-checked against the simulator's own metrics on a busy random day."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pytest

from firmware_config.hall import AllocationRules, OverflowRule
from hallcore.errors import HallError
from hallserver.services.allocation import get_policy
from hallserver.simulation.engine import simulate
from hallserver.simulation.metrics import measure
from hallserver.simulation.scenario import Patience
from hallserver.simulation.whatif import (
    ExtraWindow,
    GroupToday,
    Move,
    Proposal,
    Today,
    WaitingNow,
    WindowToday,
    day_of,
    outcome,
    run,
    scenario_of,
    setups,
)

PATIENT = Patience(balk_median=10_000, renege_median=10_000, balk_sigma=0, renege_sigma=0, no_show=0)
NOW, CLOSE = 600.0, 660.0  # 10:00, one hour left


def v(x: float | None) -> float:
    """A figure that must be there."""
    assert x is not None
    return x


def fixed(**changes: object) -> Today:
    """One window w01 for group a (5-minute visits, nearly constant), six people waiting since 10:00,
    nobody else coming, nobody giving up, no walk to the window."""
    today = Today(
        day=date(2026, 11, 23),
        now=NOW,
        close=CLOSE,
        gaps=(),
        groups=(
            GroupToday("a", "公安服务", "A", 1.0, 5.0, 0.001),
            GroupToday("b", "社保医保", "B", 0.0, 5.0, 0.001),
        ),
        windows=(WindowToday("w01", "1号窗口", "专业", ("a",)), WindowToday("w02", "2号窗口", "专业", ("b",))),
        waiting=tuple(WaitingNow("a", "normal", NOW) for _ in range(6)),
        curve={},
        hall_windows=("w01", "w02", "w03"),
        appointment_share=0.0,
        green_share=0.0,
        patience=PATIENT,
        walk_minutes=0.0,
    )
    return replace(today, **changes)  # type: ignore[arg-type]


def test_one_window_serves_the_line_in_turn() -> None:
    result = run(fixed(), Proposal())
    base = result.baseline
    # Waits 0, 5, 10, 15, 20, 25 minutes: mean 12.5, p90 22.5 (numpy's linear interpolation).
    assert base.served == 6 and base.unserved == 0 and base.cap_violations == 0
    assert base.mean_wait == pytest.approx(12.5, abs=0.1)
    assert base.p90_wait == pytest.approx(22.5, abs=0.1)
    w01 = next(w for w in base.windows if w.id == "w01")
    assert w01.calls == 6 and w01.utilisation == pytest.approx(50.0, abs=0.5)  # 30 of 60 minutes
    assert next(w for w in base.windows if w.id == "w02").calls == 0
    assert result.proposal == base  # no change proposed: the same citizens, the same day
    assert result.basis.waiting_now == 6 and result.changes == []


def test_an_extra_window_halves_the_waits() -> None:
    result = run(fixed(), Proposal(extra_windows=[ExtraWindow(groups=["a"])]))
    prop = result.proposal
    # Two windows: waits 0, 0, 5, 5, 10, 10.
    assert prop.mean_wait == pytest.approx(5.0, abs=0.1)
    extra = next(w for w in prop.windows if w.extra)
    assert extra.name == "增开窗口1" and extra.calls == 3
    assert result.changes == ["增开 1 个窗口办理：公安服务"]
    assert result.baseline.mean_wait == pytest.approx(12.5, abs=0.1)


def test_moving_a_window_and_an_overflow_rule_both_help() -> None:
    moved = run(fixed(), Proposal(moves=[Move(window_id="w02", groups=["a", "b"])]))
    assert moved.proposal.mean_wait == pytest.approx(5.0, abs=0.1)
    assert moved.changes == ["2号窗口改办：公安服务、社保医保"]
    # w02 may take group a's tickets once they have waited 10 minutes: w01 calls at 0, 5, 10 … and from
    # 10:10 the idle w02 helps: waits 0, 5, 10, 10, 15, 15.
    rule = OverflowRule(group="a", windows=("w02",), after_minutes=10)
    helped = run(fixed(), Proposal(overflow=[rule]))
    assert helped.changes == ["分流：公安服务等候满 10 分钟可由 w02 叫号"]
    # The hall already has the rule: as the baseline too, and dropping it is a change.
    ruled = fixed(allocation=AllocationRules(overflow=(rule,)))
    kept = run(ruled, Proposal(overflow=[rule]))
    assert kept.changes == [] and kept.proposal == kept.baseline
    assert kept.baseline.mean_wait == helped.proposal.mean_wait
    dropped = run(ruled, Proposal(overflow=[]))
    assert dropped.changes == ["取消分流：公安服务等候满 10 分钟可由 w02 叫号"]
    assert dropped.proposal.mean_wait == pytest.approx(12.5, abs=0.1)
    w02 = next(w for w in helped.proposal.windows if w.id == "w02")
    assert w02.calls > 0
    assert v(helped.proposal.mean_wait) < v(helped.baseline.mean_wait)
    assert helped.proposal.mean_wait == pytest.approx(55 / 6, abs=0.1)
    assert helped.proposal.max_wait == pytest.approx(15.0, abs=0.1)


def test_a_window_busy_now_calls_when_its_visit_ends() -> None:
    today = fixed(windows=(WindowToday("w01", "1号窗口", "专业", ("a",), busy_for=8.0),))
    today = replace(today, waiting=today.waiting[:1])
    base = run(today, Proposal()).baseline
    assert base.mean_wait == pytest.approx(8.0, abs=0.1)
    assert base.windows[0].utilisation == pytest.approx(100 * 13 / 60, abs=0.5)  # 8 + 5 busy of 60


def test_a_lunch_gap_closes_every_window() -> None:
    today = fixed(close=840.0, gaps=((630.0, 780.0),), waiting=tuple(WaitingNow("a", "normal", NOW) for _ in range(8)))
    base = run(today, Proposal()).baseline
    # Six calls 10:00–10:25, the seventh at 10:30 would be inside the gap: it waits until 13:00.
    assert base.served == 8
    assert base.max_wait == pytest.approx(185.0, abs=0.2)
    assert base.cap_violations == 2


def test_starvation_cap_counts_the_served_and_the_unserved() -> None:
    rules = AllocationRules(starvation_minutes=17)
    base = run(fixed(allocation=rules), Proposal()).baseline
    assert base.cap_violations == 2  # waited 20 and 25 minutes
    assert next(g for g in base.groups if g.code == "a").cap_violations == 2


def test_bad_proposals_are_refused_in_chinese() -> None:
    with pytest.raises(HallError, match="w09 不在当前开放的窗口中"):
        run(fixed(), Proposal(moves=[Move(window_id="w09", groups=["a"])]))
    with pytest.raises(HallError, match="没有名为“nope”的队列"):
        run(fixed(), Proposal(extra_windows=[ExtraWindow(groups=["nope"])]))
    with pytest.raises(HallError, match="w77 不存在"):
        run(fixed(), Proposal(overflow=[OverflowRule(group="a", windows=("w77",))]))
    # A rule may name a window of the hall that is closed now, or a proposed extra window.
    run(fixed(), Proposal(overflow=[OverflowRule(group="a", windows=("w03",))]))
    extra = Proposal(
        extra_windows=[ExtraWindow(groups=["b"])],
        overflow=[OverflowRule(group="a", windows=("x01",), after_minutes=10)],
    )
    assert v(run(fixed(), extra).proposal.mean_wait) < 12.5
    with pytest.raises(HallError, match="今日办公时间已结束") as closed:
        run(fixed(now=659.5), Proposal())
    assert closed.value.code == "closed"


def busy_day() -> Today:
    """A bigger random afternoon: three groups, five windows, 120 waiting now, 600 more expected."""
    groups = (
        GroupToday("a", "公安服务", "A", 0.5, 4.0, 0.6),
        GroupToday("b", "社保医保", "B", 0.3, 6.0, 0.7),
        GroupToday("c", "综合咨询", "C", 0.2, 2.0, 0.9, bookable=False),
    )
    windows = (
        WindowToday("w01", "1号窗口", "无差别综合", ("a", "b", "c")),
        WindowToday("w02", "2号窗口", "无差别综合", ("a", "b", "c"), busy_for=3.0),
        WindowToday("w03", "3号窗口", "分领域综合", ("a",)),
        WindowToday("w04", "4号窗口", "分领域综合", ("b",)),
        WindowToday("w05", "5号窗口", "咨询", ("c",)),
    )
    waiting = tuple(WaitingNow("abc"[i % 3], "normal", 780.0 + i * 0.25) for i in range(120))
    curve = {"13": 40.0, "14": 200.0, "15": 200.0, "16": 160.0}
    return Today(date(2026, 11, 23), 810.0, 1080.0, (), groups, windows, waiting, curve, seed=7)


def test_outcome_agrees_with_the_simulators_metrics() -> None:
    today = busy_day()
    scenario = scenario_of(today)
    baseline, _, _ = setups(today, Proposal())
    day = day_of(today, scenario)
    assert len(day.citizens) == 120 + scenario.visits
    result = simulate(scenario, baseline, day, get_policy("balanced"))
    ours, theirs = outcome(today, result, {}), measure(result)
    assert ours.served == theirs.served and ours.balked == theirs.balked
    assert ours.mean_wait == pytest.approx(theirs.mean_wait, abs=0.05)
    assert ours.max_wait == pytest.approx(theirs.max_wait, abs=0.05)
    assert ours.reneged == theirs.reneged + theirs.walked_off
    assert sum(g.tickets for g in ours.groups) == ours.tickets == len(result.tickets)
    assert sum(w.calls for w in ours.windows) == theirs.served + theirs.absent_calls
    assert not any(g.mean_wait is not None and math.isnan(g.mean_wait) for g in ours.groups)


def test_the_same_seed_gives_the_same_answer_and_another_seed_another_day() -> None:
    today = busy_day()
    proposal = Proposal(extra_windows=[ExtraWindow(groups=["a", "b"], count=2)])
    first, again = run(today, proposal), run(today, proposal)
    assert first == again
    assert v(first.proposal.mean_wait) < v(first.baseline.mean_wait)  # two more windows on a busy afternoon
    assert first.proposal.cap_violations <= first.baseline.cap_violations
    other = run(replace(today, seed=8), proposal)
    assert other.baseline != first.baseline
