"""Run a scenario's configurations on one shared day and collect their metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hallserver.services.allocation import Candidate, Situation, get_policy
from hallserver.simulation.arrivals import Day, generate
from hallserver.simulation.configs import Setup, standard_setups
from hallserver.simulation.engine import SimResult, simulate
from hallserver.simulation.metrics import Metrics, measure
from hallserver.simulation.scenario import Scenario


def resolve(name: str) -> Callable[[Situation], Candidate | None]:
    """The real policy of that name (the bench compares the hall server's own policies, nothing of its own)."""
    return get_policy(name)


@dataclass
class ScenarioRun:
    """One scenario: the shared day and every configuration's result and metrics."""

    scenario: Scenario
    day: Day
    results: list[SimResult]
    metrics: list[Metrics]

    def metric(self, key: str) -> Metrics:
        """Metrics of one configuration by key."""
        return next(m for m in self.metrics if m.setup == key)


def run_scenario(scenario: Scenario, setups: list[Setup] | None = None) -> ScenarioRun:
    """Every configuration on the same citizens (common random numbers)."""
    day = generate(scenario)
    setups = setups if setups is not None else standard_setups(scenario)
    results, metrics = [], []
    for setup in setups:
        t0 = time.perf_counter()
        result = simulate(scenario, setup, day, resolve(setup.policy))
        elapsed = time.perf_counter() - t0
        results.append(result)
        metrics.append(measure(result, elapsed))
    return ScenarioRun(scenario, day, results, metrics)
