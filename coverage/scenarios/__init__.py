"""Scenarios: the baseline plus edits to halls, communities and roads, audited and compared.

A :class:`Scenario` is a name and a list of edits, built in Python or read from a small TOML
file (:func:`load_scenario`; the keys are those of ``docs/scenario.toml``):

- halls: close (:class:`CloseHalls`), add (:class:`AddHall`) or move (:class:`MoveHall`);
- communities: reclassify (urban ↔ rural, 撤村建居) or change population and households
  (:class:`SetCommunities`);
- roads: a new link (:class:`AddRoad`, e.g. a footbridge), a closed road
  (:class:`CloseRoad`), a barrier no route may cross (:class:`Barrier`), a speed change
  (:class:`SetSpeed`).

:func:`apply_scenario` checks every edit against the baseline (errors name the edit, e.g.
``scenario.toml: [[halls.add]] #2: hall_id 'H-001' already exists``) and gives the edited
inputs; :func:`run_scenario` audits them with :func:`coverage.audit.audit`. Hall and community
edits reuse the baseline network as it is (its snapping index and routing view are kept on
it), so a scenario costs one audit pass. Road edits build an edited copy of the network's edge
table and its routing view; the baseline network is never changed. :func:`compare` and
:func:`compare_many` set a scenario's audit beside the baseline's.

Package layout: ``_model`` (:class:`Scenario` and the edits), ``_toml`` (reading the TOML
contract), ``_frames`` (hall and community edits), ``_roads`` (the edited edge table),
``_run`` (:func:`apply_scenario`, :func:`run_scenario`), ``_compare`` (:func:`compare`,
:func:`compare_many`).
"""

from coverage.scenarios._compare import (
    DISTRICT_FIGURES,
    Comparison,
    ScenarioRun,
    compare,
    compare_many,
    run_scenarios,
)
from coverage.scenarios._model import (
    CHANGES,
    CUT_OFF_SHARE,
    KINDS,
    AddHall,
    AddRoad,
    Barrier,
    CloseHalls,
    CloseRoad,
    Edit,
    MoveHall,
    Scenario,
    SetCommunities,
    SetSpeed,
)
from coverage.scenarios._run import EditedInputs, apply_scenario, audit_edited, run_scenario
from coverage.scenarios._toml import load_scenario, scenario_from_dict

__all__ = [
    "CHANGES",
    "CUT_OFF_SHARE",
    "DISTRICT_FIGURES",
    "KINDS",
    "AddHall",
    "AddRoad",
    "Barrier",
    "CloseHalls",
    "CloseRoad",
    "Comparison",
    "Edit",
    "EditedInputs",
    "MoveHall",
    "Scenario",
    "ScenarioRun",
    "SetCommunities",
    "SetSpeed",
    "apply_scenario",
    "audit_edited",
    "compare",
    "compare_many",
    "load_scenario",
    "run_scenario",
    "run_scenarios",
    "scenario_from_dict",
]
