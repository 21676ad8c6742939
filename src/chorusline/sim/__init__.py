"""Scenario simulator with ground truth (issue 3): `simulate(load_scenario("seed-case"), out_dir)`."""

from chorusline.sim.generate import Summary, simulate
from chorusline.sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["simulate", "Summary", "Scenario", "ScenarioError", "load_scenario"]
