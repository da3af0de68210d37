"""Erlang C against closed forms and textbook values, and its numerical stability at hundreds of windows."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from bench.hallsim.erlang import erlang_b, erlang_c, mean_wait, pooled_reference, wait_quantile_excess
from hallserver.simulation.scenario import load_scenario


def exact_erlang_c(servers: int, load: int | Fraction) -> float:
    """The textbook formula in exact rational arithmetic (slow, but no rounding at all)."""
    a = Fraction(load)
    head = sum(a**k / math.factorial(k) for k in range(servers))
    tail = a**servers / math.factorial(servers) * servers / (servers - a)
    return float(tail / (head + tail))


def test_textbook_values() -> None:
    # M/M/2 at a = 1 erlang: P(wait) = 1/3; M/M/3 at a = 2: 4/9 (Kleinrock, Gross & Harris examples).
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-12)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)
    # Erlang B: 2 servers, 1 erlang → 1/5; 1 server → a/(1+a).
    assert erlang_b(2, 1.0) == pytest.approx(0.2, rel=1e-12)
    assert erlang_b(1, 3.0) == pytest.approx(0.75, rel=1e-12)
    # Call-centre table value: 10 agents, 8 erlangs → 40.92 % wait.
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=1e-4)


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.95, 0.999])
def test_single_and_two_server_closed_forms(rho: float) -> None:
    assert erlang_c(1, rho) == pytest.approx(rho, rel=1e-12)  # M/M/1: P(wait) = ρ
    assert erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-12)  # M/M/2
    # M/M/1 mean wait in queue: ρ / (μ − λ) with μ = 1.
    assert mean_wait(1, rho, 1.0) == pytest.approx(rho / (1 - rho), rel=1e-9)


@pytest.mark.parametrize(("servers", "load"), [(30, 27), (100, 95), (250, 240), (400, 399)])
def test_matches_exact_arithmetic_up_to_hundreds_of_windows(servers: int, load: int) -> None:
    assert erlang_c(servers, float(load)) == pytest.approx(exact_erlang_c(servers, load), rel=1e-9)


def test_stable_where_the_naive_formula_overflows() -> None:
    with pytest.raises(OverflowError):
        399.0**400 / math.factorial(400)
    assert 0.0 < erlang_c(400, 399.0) < 1.0


def test_overload_and_tail() -> None:
    assert erlang_c(5, 5.0) == 1.0
    assert math.isinf(mean_wait(5, 1.0, 5.0))
    c = erlang_c(4, 3.0)
    assert wait_quantile_excess(4, 3.0, 1.0, 0.0) == pytest.approx(c)
    assert wait_quantile_excess(4, 3.0, 1.0, 2.0) == pytest.approx(c * math.exp(-2.0))
    with pytest.raises(ValueError):
        erlang_c(0, 1.0)


def test_pooled_reference_of_the_county_scenario() -> None:
    ref = pooled_reference(load_scenario("county"))
    assert ref.day.windows == 30
    assert 0.8 < ref.day.utilisation < 1.0
    assert ref.overloaded_hours, "the county morning rush exceeds capacity"
    quiet = [h for h in ref.hours if h.utilisation < 0.7]
    assert quiet and all(h.wq_mmc < 1.0 for h in quiet)
