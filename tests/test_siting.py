"""Siting: hand-checkable optima, thresholds, existing halls, capacities, solvers, real data.

The tiny cases are worked out on paper in the comments. The spopt cross-checks build spopt's
models from the same matrices and compare objective values; they are skipped when spopt is
not installed.
"""

from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from coverage import siting
from coverage._errors import (
    ConfigError,
    DuplicateIdError,
    InfeasibleAllocationError,
    InputDataError,
)
from coverage.config import Config
from coverage.engine import snap, travel_time_matrix
from coverage.siting import (
    candidate_sites,
    capacity_households,
    cbc_available,
    coverage_curve,
    coverage_curve_from_cost_matrix,
    propose_halls,
    propose_halls_from_cost_matrix,
    verify_proposal,
)
from coverage.testing import grid_communities, grid_halls, grid_points

if TYPE_CHECKING:
    from pathlib import Path

    from coverage.network import Network
    from coverage.samples import Sample

EXACT = [
    "highs",
    pytest.param("cbc", marks=pytest.mark.skipif(not cbc_available(), reason="no CBC executable")),
]


# --------------------------------------------------------------------------------------------
# a set-covering trap for greedy: 2 rows x 14 columns of communities (28).
# Sites T1 = top row (14), T2 = bottom row (14), G1 = columns 0-7 (16), G2 = columns 8-11 (8),
# G3 = columns 12-13 (4).
# LSCP: optimum {T1, T2} = 2 sites; greedy takes G1 (16 > 14), then G2 (8 > 6), then G3: 3.
# MCLP (weight 1 each), p = 2: optimum T1 + T2 = 28; greedy G1 + G2 = 24. p = 1: G1 = 16.


def _trap() -> tuple[np.ndarray, list[str]]:
    cost = np.full((28, 5), np.inf)
    for i in range(28):
        row, col = divmod(i, 14)
        cost[i, row] = 5.0  # T1 for the top row, T2 for the bottom row
        cost[i, 2 if col < 8 else 3 if col < 12 else 4] = 5.0
    return cost, ["T1", "T2", "G1", "G2", "G3"]


@pytest.mark.parametrize("solver", EXACT)
def test_lscp_known_optimum_beats_greedy(solver: str) -> None:
    cost, ids = _trap()
    r = propose_halls_from_cost_matrix(cost, np.ones(28), 15, site_ids=ids, solver=solver)
    assert sorted(r.site_ids) == ["T1", "T2"]
    assert r.solver["method"] == solver
    assert r.solver["optimal"]
    assert r.solver["objective"] == 2
    assert r.solver["mip_gap"] == 0
    assert r.solver["greedy_objective"] == 3
    assert r.communities["covered_after"].all()


def test_lscp_greedy_is_labelled() -> None:
    cost, ids = _trap()
    r = propose_halls_from_cost_matrix(cost, np.ones(28), 15, site_ids=ids, solver="greedy")
    assert r.solver["method"] == "greedy"
    assert sorted(r.site_ids) == ["G1", "G2", "G3"]
    assert not r.solver["optimal"]


@pytest.mark.parametrize("solver", EXACT)
def test_mclp_known_optimum(solver: str) -> None:
    cost, ids = _trap()
    r1 = propose_halls_from_cost_matrix(
        cost, np.ones(28), 15, model="mclp", p=1, site_ids=ids, solver=solver
    )
    assert r1.site_ids == ["G1"]
    assert r1.solver["objective"] == 16
    r2 = propose_halls_from_cost_matrix(
        cost, np.ones(28), 15, model="mclp", p=2, site_ids=ids, solver=solver
    )
    assert sorted(r2.site_ids) == ["T1", "T2"]
    assert r2.solver["objective"] == 28
    assert r2.solver["greedy_objective"] == 24
    assert r2.solver["optimal"]
    # marginal gains in order: 14 then 14
    assert r2.proposals["new_population_covered"].tolist() == [14.0, 14.0]
    assert r2.proposals["order"].tolist() == [1, 2]


def test_mclp_greedy_is_labelled() -> None:
    cost, ids = _trap()
    r = propose_halls_from_cost_matrix(
        cost, np.ones(28), 15, model="mclp", p=2, site_ids=ids, solver="greedy"
    )
    assert r.solver["method"] == "greedy"
    assert sorted(r.site_ids) == ["G1", "G2"]
    assert r.scenario.set_index("scenario").loc["after", "population_covered"] == 24


# --------------------------------------------------------------------------------------------
# 4 communities x 3 candidates (minutes); thresholds 15, 15, 15, 20 (community 3 is rural):
#   c0: S1 5                      -> only S1
#   c1: S1 10, S2 12              -> S1 or S2
#   c2: S2 9, S3 14               -> S2 or S3
#   c3: S3 18 (rural, <= 20)      -> only S3 (an urban community would be uncoverable)
# LSCP: S1 and S3 are forced and cover all: 2 sites. MCLP p=1 (pop 100/200/300/400):
# S1 300, S2 500, S3 700 -> S3.
COST_4X3 = np.array([[5, 16, np.inf], [10, 12, 30], [25, 9, 14], [30, 21, 18]], dtype=float)
POP_4 = np.array([100.0, 200.0, 300.0, 400.0])


@pytest.mark.parametrize("solver", EXACT)
def test_small_matrix_lscp_and_groups(solver: str) -> None:
    r = propose_halls_from_cost_matrix(
        COST_4X3,
        POP_4,
        [15, 15, 15, 20],
        site_ids=["S1", "S2", "S3"],
        community_ids=list("abcd"),
        solver=solver,
    )
    assert r.site_ids == ["S3", "S1"]  # ordered by newly covered population: 700, then 300
    groups = r.groups.set_index("hall_id")
    # nearest open site within threshold: b -> S1 (10 < 30), c -> S3 (14; S2 is not open)
    assert groups.loc["S1", "members"] == ["a", "b"]
    assert groups.loc["S3", "members"] == ["c", "d"]
    assert groups.loc["S3", "max_travel_time_min"] == 18
    assert groups.loc["S3", "n_members"] == 2
    assert groups.loc["S3", "population"] == 700
    # households default to population / 2.5: 120 + 160 = 280 -> 84 m² at 30 m² per 100
    assert groups.loc["S3", "households"] == 280
    assert groups.loc["S3", "floor_area_needed_m2"] == pytest.approx(84.0)
    assert r.proposals.crs.to_epsg() == 4326


def test_small_matrix_per_community_threshold() -> None:
    urban = propose_halls_from_cost_matrix(COST_4X3, POP_4, 15, community_ids=list("abcd"))
    assert urban.uncoverable["community_id"].tolist() == ["d"]
    reason = urban.uncoverable["reason"].iloc[0]
    assert reason == "no candidate site within 15 min; nearest candidate 18.0 min"
    assert urban.uncoverable["nearest_candidate_min"].iloc[0] == 18
    status = urban.communities.set_index("community_id")["status"]
    assert status["d"] == siting.STATUS_UNCOVERABLE
    rural = propose_halls_from_cost_matrix(
        COST_4X3, POP_4, [15, 15, 15, 20], community_ids=list("abcd")
    )
    assert rural.uncoverable.empty
    assert rural.communities.set_index("community_id").loc["d", "travel_time_min"] == 18


def test_sparse_input_keeps_explicit_zero() -> None:
    # a candidate at the community's own spot: stored 0.0 minutes
    cost = sp.csr_matrix((np.array([0.0, 7.0]), (np.array([0, 1]), np.array([0, 0]))), shape=(2, 2))
    r = propose_halls_from_cost_matrix(cost, [10, 20], 15, site_ids=["here", "none"])
    assert r.site_ids == ["here"]
    assert r.communities["travel_time_min"].tolist() == [0.0, 7.0]


@pytest.mark.parametrize("form", ["minutes", "bool"])
def test_existing_cover_counted(form: str) -> None:
    # a is already 3 min from an existing hall: only b, c, d need new sites.
    before = np.array([3.0, np.inf, np.inf, np.inf])
    cover: Any = before if form == "minutes" else np.isfinite(before)
    r = propose_halls_from_cost_matrix(
        COST_4X3,
        POP_4,
        [15, 15, 15, 20],
        existing_cover=cover,
        existing_hall=["H", None, None, None],
        site_ids=["S1", "S2", "S3"],
    )
    # b needs S1 or S2, c needs S2 or S3, d needs S3: {S3, S1} or {S3, S2}; 2 sites
    assert r.solver["objective"] == 2
    assert r.communities["covered_before"].tolist() == [True, False, False, False]
    assert r.communities["covered_after"].all()
    before_row, after_row = r.scenario["population_covered"].tolist()
    assert (before_row, after_row) == (100, 1000)
    existing = r.groups[r.groups["kind"] == "existing"]
    assert existing["hall_id"].tolist() == ["H"]
    assert existing["members"].iloc[0] == [0]


def test_existing_hall_keeps_community_unless_new_site_is_nearer() -> None:
    # a: existing hall 12 min, new site S1 5 min -> joins S1's group (nearest open hall)
    r = propose_halls_from_cost_matrix(
        COST_4X3,
        POP_4,
        [15, 15, 15, 20],
        existing_cover=[12.0, np.inf, np.inf, np.inf],
        existing_hall=["H", None, None, None],
        site_ids=["S1", "S2", "S3"],
    )
    a = r.communities.iloc[0]
    assert a["covered_before"]
    assert a["assigned_kind"] in {"existing", "proposed"}
    if "S1" in r.site_ids:
        assert (a["assigned_hall_id"], a["travel_time_min"]) == ("S1", 5.0)
    else:
        assert (a["assigned_hall_id"], a["travel_time_min"]) == ("H", 12.0)


def test_nothing_to_do_when_all_covered() -> None:
    r = propose_halls_from_cost_matrix(COST_4X3, POP_4, 20, existing_cover=np.ones(4, bool))
    assert r.proposals.empty
    assert r.solver["status"] == "nothing to solve"
    assert r.scenario["covered"].tolist() == [4, 4]


# --------------------------------------------------------------------------------------------
# capacitated: three communities of 600 households each, all within reach of S1 and S2;
# S1 and S2 hold 1,300 households each (390 m² at 30 m² per 100 households).
# Fewest sites: 2 (1,800 > 1,300). Least total time with 2 sites: a, b -> S1 (2 + 3),
# c -> S2 (4): S1's times 2, 3, 9 and S2's 8, 7, 4.
CAP_COST = np.array([[2.0, 8.0], [3.0, 7.0], [9.0, 4.0]])
CAP_HH = np.array([600.0, 600.0, 600.0])


def test_capacity_households_from_floor_area() -> None:
    assert capacity_households([390.0, 30.0, 29.9]).tolist() == [1300.0, 100.0, 99.0]
    cfg = Config(floor_area_m2_per_100_households=80)
    assert capacity_households([800.0], config=cfg).tolist() == [1000.0]


@pytest.mark.parametrize("solver", EXACT)
def test_capacitated_known_optimum(solver: str) -> None:
    r = propose_halls_from_cost_matrix(
        CAP_COST,
        CAP_HH * 2.5,
        15,
        households=CAP_HH,
        model="capacitated",
        capacity=[1300, 1300],
        site_ids=["S1", "S2"],
        community_ids=list("abc"),
        solver=solver,
    )
    assert sorted(r.site_ids) == ["S1", "S2"]
    assert r.solver["objective"] == 2
    assert r.solver["stage2"]["objective_total_travel_min"] == pytest.approx(9.0)
    groups = r.groups.set_index("hall_id")
    assert groups.loc["S1", "members"] == ["a", "b"]
    assert groups.loc["S2", "members"] == ["c"]
    prop = r.proposals.set_index("site_id")
    assert (prop["households"] <= prop["capacity_households"]).all()
    assert prop.loc["S1", "floor_area_needed_m2"] == pytest.approx(360.0)  # 1200 / 100 * 30


def test_capacitated_one_site_suffices_when_big() -> None:
    r = propose_halls_from_cost_matrix(
        CAP_COST,
        CAP_HH * 2.5,
        15,
        households=CAP_HH,
        model="capacitated",
        capacity=[2000, 1300],
        site_ids=["S1", "S2"],
    )
    assert r.site_ids == ["S1"]
    assert r.groups.set_index("hall_id").loc["S1", "households"] == 1800


def test_capacitated_total_infeasible_message() -> None:
    # 9 communities x 600 households = 5,400 > 4 sites x 1,200 = 4,800
    cost = np.full((9, 4), 5.0)
    with pytest.raises(
        InfeasibleAllocationError, match=r"demand 5,400 households > total capacity 4,800"
    ):
        propose_halls_from_cost_matrix(
            cost,
            np.full(9, 1500.0),
            15,
            households=np.full(9, 600),
            model="capacitated",
            capacity=1200,
        )


def test_a_community_above_every_capacity_gets_a_hall_of_its_own() -> None:
    # c (600 households) exceeds both sites (500 each): it takes its nearest site, S2 (4 min),
    # alone; a and b (200) then share S1. Nothing is lost, and the proposal says why.
    r = propose_halls_from_cost_matrix(
        CAP_COST,
        CAP_HH * 2.5,
        15,
        households=[100, 100, 600],
        model="capacitated",
        capacity=[500, 500],
        community_ids=list("abc"),
        site_ids=["S1", "S2"],
    )
    assert r.communities["covered_after"].all()
    groups = r.groups.set_index("hall_id")
    assert groups.loc["S2", "members"] == ["c"]
    assert groups.loc["S1", "members"] == ["a", "b"]
    prop = r.proposals.set_index("site_id")
    assert prop.loc["S2", "floor_area_needed_m2"] == pytest.approx(180.0)  # 600 / 100 * 30
    assert prop.loc["S2", "reason"] == (
        "needs more than the cap alone: community c has 600 households needing 180 m², more "
        "than the 150 m² cap of a new hall; it gets a hall of its own"
    )
    assert prop.loc["S2", "reason_zh"].startswith("单个社区需求已超过上限：社区 c 有 600 户")
    assert prop.loc["S1", "reason"] == ""
    assert r.solver["own_halls"] == 1


def test_a_community_reaching_only_an_own_hall_joins_it() -> None:
    # x (600) alone exceeds S1 (500) and takes it; y reaches only S1, so it joins x's hall
    cost = np.array([[5.0, np.inf], [6.0, np.inf], [np.inf, 3.0]])
    r = propose_halls_from_cost_matrix(
        cost,
        [1500, 250, 250],
        15,
        households=[600, 100, 100],
        model="capacitated",
        capacity=[500, 500],
        community_ids=["x", "y", "z"],
        site_ids=["S1", "S2"],
    )
    assert r.communities["covered_after"].all()
    groups = r.groups.set_index("hall_id")
    assert groups.loc["S1", "members"] == ["x", "y"]
    assert groups.loc["S2", "members"] == ["z"]


def test_size_distribution_counts_halls_per_band() -> None:
    # three communities, each reached only by its own site: 500, 2,000 and 8,000 households
    # need 150, 600 and 2,400 m² (30 m² per 100 households)
    cost = np.where(np.eye(3) > 0, 5.0, np.inf)
    r = propose_halls_from_cost_matrix(cost, [1250, 5000, 20000], 15)
    assert sorted(r.proposals["floor_area_needed_m2"]) == [150.0, 600.0, 2400.0]
    sizes = r.size_distribution().set_index("high_m2")
    assert sizes["halls"].sum() == 3
    assert sizes.loc[200.0, "halls"] == 1
    assert sizes.loc[600.0, "halls"] == 1  # 600 is in the 400-600 band (upper edge inclusive)
    assert sizes.loc[np.inf, "halls"] == 1
    assert sizes.loc[np.inf, "above_cap"]
    assert not sizes.loc[800.0, "above_cap"]  # the default cap, 800 m², is an edge


def test_max_new_hall_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="max_new_hall_m2"):
        Config(max_new_hall_m2=0)


def test_capacitated_cluster_infeasible() -> None:
    # a, b reach only S1 (500); c reaches only S2 (2,000): total fits, cluster {a, b, S1} not
    cost = np.array([[5.0, np.inf], [5.0, np.inf], [np.inf, 5.0]])
    with pytest.raises(InfeasibleAllocationError, match=r"need 800 households > capacity 500"):
        propose_halls_from_cost_matrix(
            cost,
            [1000, 1000, 1000],
            15,
            households=[400, 400, 400],
            model="capacitated",
            capacity=[500, 2000],
            community_ids=list("abc"),
            site_ids=["S1", "S2"],
        )


@pytest.mark.parametrize("solver", EXACT)
def test_capacitated_bin_packing_infeasible_proved(solver: str) -> None:
    # 3 x 400 households, 2 sites of 700: totals fit (1,200 <= 1,400), packing does not
    cost = np.full((3, 2), 5.0)
    with pytest.raises(InfeasibleAllocationError, match="proved"):
        propose_halls_from_cost_matrix(
            cost,
            [1000] * 3,
            15,
            households=[400] * 3,
            model="capacitated",
            capacity=700,
            solver=solver,
        )


def test_capacitated_respects_capacity_random() -> None:
    rng = np.random.default_rng(7)
    cost = np.where(rng.random((40, 12)) < 0.4, rng.uniform(1, 15, (40, 12)), np.inf)
    cost[:, 0] = 10.0  # every community can reach site 0: none uncoverable
    hh = rng.integers(50, 400, 40).astype(float)
    r = propose_halls_from_cost_matrix(
        cost,
        hh * 2.5,
        15,
        households=hh,
        model="capacitated",
        capacity=1500,
        solver="highs",
        time_limit_s=30,
    )
    assert r.communities["covered_after"].all()
    assert (r.proposals["households"] <= 1500).all()
    assert r.proposals["n_members"].sum() == 40
    # the objective is at least the trivial lower bound ceil(total / capacity)
    assert len(r.proposals) >= np.ceil(hh.sum() / 1500)


# --------------------------------------------------------------------------------------------
# the coverage curve


def test_coverage_curve_small() -> None:
    curve = coverage_curve_from_cost_matrix(COST_4X3, POP_4, [15, 15, 15, 20], 3)
    assert curve["population_covered"].tolist() == [0, 700, 1000, 1000]
    assert curve["p"].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("solver", [*EXACT, "greedy"])
def test_coverage_curve_monotone_random(solver: str) -> None:
    rng = np.random.default_rng(3)
    cost = np.where(rng.random((120, 30)) < 0.08, rng.uniform(0, 20, (120, 30)), np.inf)
    pop = rng.integers(100, 2000, 120)
    existing = rng.random(120) < 0.2
    curve = coverage_curve_from_cost_matrix(
        cost, pop, 15, 10, existing_cover=existing, solver=solver
    )
    values = curve["population_covered"].to_numpy()
    assert (np.diff(values) >= 0).all()
    assert values[0] == pop[existing].sum()
    assert curve["population_covered_share"].iloc[-1] <= 1
    if solver != "greedy":
        greedy = coverage_curve_from_cost_matrix(
            cost, pop, 15, 10, existing_cover=existing, solver="greedy"
        )
        assert (values >= greedy["population_covered"].to_numpy()).all()


@pytest.mark.skipif(not cbc_available(), reason="no CBC executable")
def test_cbc_and_highs_agree_random() -> None:
    rng = np.random.default_rng(11)
    for _ in range(3):
        cost = np.where(rng.random((150, 40)) < 0.06, rng.uniform(0, 25, (150, 40)), np.inf)
        pop = rng.integers(1, 1000, 150)
        thr = np.where(rng.random(150) < 0.3, 20.0, 15.0)
        for model, p in (("lscp", None), ("mclp", 5)):
            a = propose_halls_from_cost_matrix(cost, pop, thr, model=model, p=p, solver="cbc")
            b = propose_halls_from_cost_matrix(cost, pop, thr, model=model, p=p, solver="highs")
            assert a.solver["optimal"]
            assert b.solver["optimal"]
            assert a.solver["objective"] == pytest.approx(b.solver["objective"])


# --------------------------------------------------------------------------------------------
# solver fallbacks


def test_greedy_fallback_when_solver_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def nothing(prob: Any, time_limit_s: float, mip_gap: float) -> Any:  # noqa: ARG001
        out = siting._milp._failed("Time limit reached", 0.5, "highs")
        out.bound = 1.0  # a weak bound: no solution, but a proven lower bound of 1 site
        return out

    monkeypatch.setattr(siting._milp, "_run_highs", nothing)
    cost, ids = _trap()
    r = propose_halls_from_cost_matrix(cost, np.ones(28), 15, site_ids=ids, solver="highs")
    assert r.solver["method"] == "greedy"
    assert r.solver["status"] == "Time limit reached"
    assert len(r.site_ids) == 3
    assert r.solver["mip_gap"] == pytest.approx(2 / 3)  # (3 - bound 1) / 3


def test_auto_uses_greedy_for_very_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(siting._milp, "GREEDY_ABOVE_PAIRS", 10)
    cost, ids = _trap()
    r = propose_halls_from_cost_matrix(cost, np.ones(28), 15, site_ids=ids)
    assert r.solver["method"] == "greedy"
    assert "GREEDY_ABOVE_PAIRS" in r.solver["note"]


@pytest.mark.parametrize("solver", EXACT)
def test_time_limit_honoured(solver: str) -> None:
    rng = np.random.default_rng(5)
    cost = np.where(rng.random((1500, 400)) < 0.05, rng.uniform(0, 15, (1500, 400)), np.inf)
    pop = rng.integers(100, 3000, 1500)
    r = propose_halls_from_cost_matrix(
        cost, pop, 15, model="mclp", p=25, solver=solver, time_limit_s=1.0
    )
    # CBC is killed at the limit + siting.CBC_GRACE_S (5 s); HiGHS stops by itself
    assert r.solver["seconds"] < 1.0 + siting.CBC_GRACE_S + 1.0
    assert r.solver["time_limit_s"] == 1.0
    # never a false claim of optimality: either proven, or a positive / unknown (nan) gap
    assert r.solver["optimal"] or r.solver["mip_gap"] != 0  # nan != 0 too
    assert len(r.site_ids) <= 25


# --------------------------------------------------------------------------------------------
# bad inputs


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": "pmedian"}, InputDataError, "model must be one of"),
        ({"model": "mclp"}, InputDataError, "needs p"),
        ({"model": "mclp", "p": -1}, InputDataError, "needs p"),
        ({"p": 2}, InputDataError, "p is only used by model='mclp'"),
        ({"model": "capacitated"}, InputDataError, "needs capacity"),
        ({"solver": "gurobi"}, InputDataError, "solver must be one of"),
        ({"thresholds": [15, 15]}, InputDataError, "thresholds: expected 4 values"),
        ({"thresholds": 0}, InputDataError, "positive number of minutes"),
        ({"demand": [1, -2, 3, 4]}, InputDataError, "demand: 1 negative"),
        ({"site_ids": ["a", "a", "b"]}, DuplicateIdError, "duplicate identifiers 'a'"),
        ({"existing_cover": [True]}, InputDataError, "existing_cover: expected 4"),
        ({"cost": np.array([[-1.0, 2, 3]] * 4)}, InputDataError, "negative travel times"),
        ({"cost": np.ones(4)}, InputDataError, "2-D matrix"),
    ],
)
def test_bad_inputs(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args: dict[str, Any] = {"cost": COST_4X3, "demand": POP_4, "thresholds": 15}
    args.update(kwargs)
    cost, demand, thr = args.pop("cost"), args.pop("demand"), args.pop("thresholds")
    with pytest.raises(error, match=match):
        propose_halls_from_cost_matrix(cost, demand, thr, **args)


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="needs p"):
        propose_halls_from_cost_matrix(COST_4X3, POP_4, 15, model="mclp")


# --------------------------------------------------------------------------------------------
# candidates and the network door on the 5 x 5 grid (300 m edges = 4 min on foot)


def test_candidate_sites_thinning_and_sources(grid_net: Network) -> None:
    every = candidate_sites(grid_net, spacing_m=300)
    assert len(every) == 25  # one node per 300 m cell
    thinned = candidate_sites(grid_net, spacing_m=600)
    assert len(thinned) == 9
    assert set(thinned["source"]) == {"network node"}
    coms = candidate_sites(grid_net, communities=grid_communities())
    assert coms["site_id"].tolist() == ["C:A", "C:B", "C:C", "C:D", "C:E"]
    own = gpd.GeoDataFrame(
        {"site_id": ["X1"], "floor_area_m2": [450.0]}, geometry=grid_points([(2, 2)]), crs=4326
    )
    both = candidate_sites(grid_net, spacing_m=600, include=own)
    assert both["site_id"].iloc[0] == "X1"
    assert both["floor_area_m2"].iloc[0] == 450
    assert both.crs.to_epsg() == 4326


def test_candidate_sites_exclude_and_errors(grid_net: Network) -> None:
    sites = candidate_sites(grid_net, spacing_m=600)
    # a polygon around node (1, 1) (site N:6) removes it
    zone = gpd.GeoSeries(grid_points([(1, 1)]).to_crs(32651).buffer(50), crs=32651)
    kept = candidate_sites(grid_net, spacing_m=600, exclude=zone)
    assert len(kept) == len(sites) - 1
    assert "N:6" not in set(kept["site_id"])
    with pytest.raises(InputDataError, match="give include="):
        candidate_sites(grid_net)
    with pytest.raises(InputDataError, match="spacing_m must be"):
        candidate_sites(grid_net, spacing_m=0)
    dup = gpd.GeoDataFrame({"site_id": ["N:6"]}, geometry=grid_points([(0, 0)]), crs=4326)
    with pytest.raises(DuplicateIdError, match="'N:6'"):
        candidate_sites(grid_net, spacing_m=600, include=dup)


def _one_site(row: float, col: float, site_id: str = "S", **cols: Any) -> gpd.GeoDataFrame:
    data = {"site_id": [site_id], **{k: [v] for k, v in cols.items()}}
    return gpd.GeoDataFrame(data, geometry=grid_points([(row, col)]), crs=4326)


def test_grid_rural_covered_at_18_urban_not_at_16(grid_net: Network) -> None:
    # one candidate at node (0, 0); no existing halls. Walking: A 4, B 16 (urban, > 15),
    # C 18 (rural, <= 20), D 12, E 18 (rural).
    r = propose_halls(grid_communities(), None, _one_site(0, 0), grid_net)
    assert r.site_ids == ["S"]
    com = r.communities.set_index("community_id")
    assert com.loc["C", "status"] == siting.STATUS_NEWLY_COVERED
    assert com.loc["C", "travel_time_min"] == pytest.approx(18.0)
    assert com.loc["C", "threshold_min"] == 20
    assert com.loc["B", "status"] == siting.STATUS_UNCOVERABLE
    unc = r.uncoverable.set_index("community_id")
    assert unc.loc["B", "reason"] == "no candidate site within 15 min; nearest candidate 16.0 min"
    assert r.groups.set_index("hall_id").loc["S", "members"] == ["A", "D", "C", "E"]
    assert r.groups.set_index("hall_id").loc["S", "max_travel_time_min"] == pytest.approx(18.0)


def test_grid_existing_halls_counted(grid_net: Network) -> None:
    sites = candidate_sites(grid_net, spacing_m=300)
    r = propose_halls(grid_communities(), grid_halls(), sites, grid_net)
    # only B (16 min from both halls) needs a new hall
    assert len(r.site_ids) == 1
    com = r.communities.set_index("community_id")
    assert com["covered_before"].tolist() == [True, False, True, True, True]
    assert com["covered_after"].all()
    ex = r.groups[r.groups["kind"] == "existing"].set_index("hall_id")
    assert set(ex.index) <= {"H1", "H2"}
    assert r.scenario["covered"].tolist() == [4, 5]
    assert r.proposals.geometry.notna().all()
    assert {"matrix_seconds", "snap_seconds"} <= set(r.solver)


def test_grid_off_network_community_listed(grid_net: Network) -> None:
    com = grid_communities()
    far = gpd.GeoDataFrame(
        {"community_id": ["F"], "kind": ["urban"], "population": [10]},
        geometry=grid_points([(4, 2)], offset_m=700),
        crs=4326,
    )
    both = gpd.GeoDataFrame(pd.concat([com, far], ignore_index=True), crs=4326)
    r = propose_halls(both, grid_halls(), candidate_sites(grid_net, spacing_m=300), grid_net)
    unc = r.uncoverable.set_index("community_id")
    assert unc.loc["F", "reason"].startswith("farther than 500 m from every road usable by walk")
    assert len(r.communities) == 6  # never dropped


def test_grid_capacitated_network(grid_net: Network) -> None:
    # households A 400, B 800, C 200, D 600, E 320 = 2,320; sites of 300 m² hold 1,000
    sites = candidate_sites(grid_net, spacing_m=300)
    r = propose_halls(
        grid_communities(),
        None,
        sites,
        grid_net,
        model="capacitated",
        max_floor_area_m2=300,
        solver="highs",
    )
    assert r.communities["covered_after"].all()
    assert (r.proposals["households"] <= 1000).all()
    assert len(r.proposals) == 3  # ceil(2,320 / 1,000)
    assert (r.proposals["floor_area_needed_m2"] <= 300).all()
    with pytest.raises(InfeasibleAllocationError, match="total capacity"):
        propose_halls(
            grid_communities(),
            None,
            sites.iloc[:2],
            grid_net,
            model="capacitated",
            max_floor_area_m2=300,
        )
    # without floor areas, a new hall's size is capped by config.max_new_hall_m2
    capped = propose_halls(
        grid_communities(),
        None,
        sites,
        grid_net,
        model="capacitated",
        config=Config(max_new_hall_m2=300),
    )
    assert len(capped.proposals) == 3
    assert (capped.proposals["floor_area_needed_m2"] <= 300).all()


def test_grid_own_hall_when_one_community_needs_more_than_the_cap(grid_net: Network) -> None:
    # a cap of 200 m² holds 666 households: B (800 households, 240 m²) gets a hall of its own
    sites = candidate_sites(grid_net, spacing_m=300)
    r = propose_halls(
        grid_communities(),
        None,
        sites,
        grid_net,
        model="capacitated",
        config=Config(max_new_hall_m2=200),
    )
    assert r.communities["covered_after"].all()
    prop = r.proposals
    own = prop[prop["reason"] != ""]
    assert own["members"].tolist() == [["B"]]
    assert own["floor_area_needed_m2"].tolist() == [240.0]
    assert own["reason"].iloc[0].startswith("needs more than the cap alone: community B")
    assert (prop.loc[prop["reason"] == "", "floor_area_needed_m2"] <= 200).all()


def test_describe_sites_by_road_and_community(grid_net: Network) -> None:
    # (2, 2.5): on "row 2" at community C; (2.2, 0.5): 60 m from "row 2" (150 m from the
    # columns), nearest community D at (3, 0) (283 m); (-2, -2): 849 m from the nearest road
    # (beyond 200 m, so no road named), nearest community A (1,082 m)
    sites = gpd.GeoDataFrame(
        {"site_id": ["on", "off", "far"]},
        geometry=grid_points([(2, 2.5), (2.2, 0.5), (-2, -2)]),
        crs=4326,
    )
    where = siting.describe_sites(sites, grid_net, grid_communities())
    assert where["road_name"].tolist() == ["row 2", "row 2", ""]
    assert where["road_m"].iloc[:2].tolist() == pytest.approx([0.0, 60.0], abs=0.1)
    assert where["near_community"].tolist() == ["村C", "社区D", "社区A"]
    assert where["near_community_m"].iloc[1] == pytest.approx(283.0, abs=0.5)
    assert where["description_zh"].tolist() == ["row 2旁，近村C", "row 2旁，近社区D", "近社区A"]
    assert where["description"].tolist()[0] == "by row 2, near 村C"
    r = propose_halls(
        grid_communities(), grid_halls(), candidate_sites(grid_net, spacing_m=600), grid_net
    )
    assert r.proposals["description_zh"].str.contains("近").all()


def test_grid_verify_proposal(grid_net: Network) -> None:
    sites = candidate_sites(grid_net, spacing_m=600)
    r = propose_halls(grid_communities(), grid_halls(), sites, grid_net)
    audit = verify_proposal(r, grid_communities(), grid_halls(), grid_net)
    assert audit.communities["covered"].all()
    assert set(r.site_ids) <= set(audit.halls["hall_id"])
    with pytest.raises(InputDataError, match="no geometry"):
        verify_proposal(
            propose_halls_from_cost_matrix(COST_4X3, POP_4, 15), grid_communities(), None, grid_net
        )


def test_grid_coverage_curve(grid_net: Network) -> None:
    sites = candidate_sites(grid_net, spacing_m=300)
    curve = coverage_curve(grid_communities(), None, sites, grid_net, 3)
    assert (np.diff(curve["population_covered"]) >= 0).all()
    assert curve["population_covered"].iloc[0] == 0
    assert curve["population_covered_share"].iloc[-1] == 1.0


def test_inputs_not_changed(grid_net: Network) -> None:
    com, halls = grid_communities(), grid_halls()
    sites = candidate_sites(grid_net, spacing_m=600)
    copies = (com.copy(), halls.copy(), sites.copy())
    propose_halls(com, halls, sites, grid_net, model="mclp", p=1)
    for before, after in zip(copies, (com, halls, sites), strict=True):
        pd.testing.assert_frame_equal(pd.DataFrame(before), pd.DataFrame(after))


# --------------------------------------------------------------------------------------------
# the bundled real sample (central Hangzhou, 2,280 street blocks, 73 illustrative halls)


@pytest.fixture(scope="module")
def real(hangzhou: Sample) -> dict[str, Any]:
    sites = candidate_sites(hangzhou.network, spacing_m=500)
    lscp = propose_halls(
        hangzhou.communities, hangzhou.halls, sites, hangzhou.network, time_limit_s=60
    )
    mclp = propose_halls(
        hangzhou.communities,
        hangzhou.halls,
        sites,
        hangzhou.network,
        model="mclp",
        p=15,
        time_limit_s=60,
    )
    return {"sites": sites, "lscp": lscp, "mclp": mclp}


def test_real_lscp_and_mclp(real: dict[str, Any]) -> None:
    lscp, mclp = real["lscp"], real["mclp"]
    for r in (lscp, mclp):
        assert r.solver["optimal"]
        assert r.solver["mip_gap"] == pytest.approx(0.0, abs=1e-9)
        assert len(r.communities) == 2280
    # LSCP covers every community that is not uncoverable (or a map-data problem)
    com = lscp.communities
    left_out = com["status"].isin([siting.STATUS_UNCOVERABLE, siting.STATUS_DATA_PROBLEM])
    assert (com["covered_after"] | left_out).all()
    assert lscp.solver["objective"] == len(lscp.proposals)
    assert lscp.solver["objective"] <= lscp.solver["greedy_objective"]
    # MCLP: 15 sites, newly covered population = objective, marginal gains decreasing order
    assert len(mclp.proposals) == 15
    gained = mclp.proposals["new_population_covered"].sum()
    assert gained == pytest.approx(mclp.solver["objective"])
    before, after = mclp.scenario["population_covered"].tolist()
    assert after - before == pytest.approx(gained)


@pytest.mark.parametrize("which", ["lscp", "mclp"])
def test_real_verify_routed(real: dict[str, Any], hangzhou: Sample, which: str) -> None:
    r = real[which]
    audit = verify_proposal(r, hangzhou.communities, hangzhou.halls, hangzhou.network)
    routed = audit.communities.set_index("community_id")["covered"]
    model = r.communities.set_index("community_id")["covered_after"]
    said_covered = model[model].index
    assert routed.loc[said_covered].all(), "the model says covered, the routed audit does not"
    assert int(routed.sum()) == int(model.sum())


# --------------------------------------------------------------------------------------------
# cross-check against spopt on the same matrices


def _spopt_solver() -> Any:
    """CBC for spopt, the binary PuLP ships (``PULP_CBC_CMD`` without its deprecation)."""
    import pulp

    path = siting._milp._cbc_path()
    if path is None:
        pytest.skip("spopt needs CBC; none found")
    return pulp.COIN_CMD(path=path, msg=False)


def _spopt_lscp(cover: np.ndarray) -> float:
    spopt_locate = pytest.importorskip("spopt.locate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = spopt_locate.LSCP.from_cost_matrix(np.where(cover, 0.0, 2.0), service_radius=1.0)
        model = model.solve(_spopt_solver())
    return float(model.problem.objective.value())


def _spopt_mclp(cover: np.ndarray, weights: np.ndarray, p: int) -> float:
    spopt_locate = pytest.importorskip("spopt.locate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = spopt_locate.MCLP.from_cost_matrix(
            np.where(cover, 0.0, 2.0), weights, service_radius=1.0, p_facilities=p
        )
        model = model.solve(_spopt_solver())
    return float(model.problem.objective.value())


def test_spopt_equal_on_trap() -> None:
    pytest.importorskip("spopt")
    cost, _ = _trap()
    cover = np.isfinite(cost)
    ours = propose_halls_from_cost_matrix(cost, np.ones(28), 15)
    assert ours.solver["objective"] == _spopt_lscp(cover) == 2
    for p in (1, 2, 3):
        mine = propose_halls_from_cost_matrix(cost, np.ones(28), 15, model="mclp", p=p)
        assert mine.solver["objective"] == _spopt_mclp(cover, np.ones(28), p)


def test_spopt_equal_on_real_sample(hangzhou: Sample, real: dict[str, Any]) -> None:
    pytest.importorskip("spopt")
    net = hangzhou.network
    com = hangzhou.communities
    # one planning zone, so that spopt's dense model stays small
    zone = com[com["district"] == min(com["district"].unique())]
    sites = real["sites"]
    cost_s = travel_time_matrix(
        net, snap(net, zone.geometry), snap(net, sites.geometry), limit_s=15 * 60
    )
    cost_s = cost_s[:, np.flatnonzero(cost_s.getnnz(axis=0) > 0)]  # sites that reach the zone
    cost = sp.csr_matrix((cost_s.data / 60, cost_s.indices, cost_s.indptr), shape=cost_s.shape)
    pop = zone["population"].to_numpy(dtype=float)
    cover = _stored(cost) & (cost.toarray() <= 15 + 1e-9)
    coverable = cover.any(axis=1)
    ours = propose_halls_from_cost_matrix(cost, pop, 15, solver="highs")
    assert ours.solver["objective"] == _spopt_lscp(cover[coverable])
    ours_cbc = propose_halls_from_cost_matrix(cost, pop, 15)
    assert ours_cbc.solver["objective"] == ours.solver["objective"]
    for p in (5, 12):
        mine = propose_halls_from_cost_matrix(cost, pop, 15, model="mclp", p=p)
        assert mine.solver["optimal"]
        assert mine.solver["objective"] == pytest.approx(_spopt_mclp(cover, pop, p))


def _stored(m: sp.csr_matrix) -> np.ndarray:
    """Where a sparse matrix has a stored entry (explicit zeros included)."""
    out = np.zeros(m.shape, dtype=bool)
    coo = m.tocoo()
    out[coo.row, coo.col] = True
    return out


def test_point_geometry_required(grid_net: Network) -> None:
    poly = gpd.GeoDataFrame({"site_id": ["P"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(InputDataError, match="point geometries"):
        propose_halls(grid_communities(), None, poly, grid_net)


# --------------------------------------------------------------------------------------------
# map-data islands: a data problem, not demand


def _grid_with_island() -> Network:
    """The 5 x 5 grid plus a lone 300 m road 1.2 km east of it (a 2-node fragment)."""
    from coverage.network import load_network
    from coverage.testing import grid_graph

    G = grid_graph()
    pts = grid_points([(2, 8), (2, 9)])
    for key, p in zip((100, 101), pts, strict=True):
        G.add_node(key, x=p.x, y=p.y)
    for a, b in ((100, 101), (101, 100)):
        G.add_edge(a, b, length=300.0, highway="residential", name="island")
    return load_network(G)


def _with_islander() -> gpd.GeoDataFrame:
    com = grid_communities()
    extra = gpd.GeoDataFrame(
        {
            "community_id": ["I"],
            "name": ["岛"],
            "district": ["East"],
            "street": ["e1"],
            "kind": ["urban"],
            "population": [300],
            "households": [120],
        },
        geometry=grid_points([(2, 8.5)], offset_m=50),
        crs=4326,
    )
    return gpd.GeoDataFrame(pd.concat([com, extra], ignore_index=True), crs=4326)


def test_island_communities_are_a_data_problem_not_demand() -> None:
    net = _grid_with_island()
    sites = candidate_sites(net, spacing_m=300)
    assert (sites.geometry.x > grid_points([(2, 7)]).x.iloc[0]).any()  # sites on the island
    r = propose_halls(_with_islander(), grid_halls(), sites, net)
    # B (16 min from both halls) needs one new hall; I, 50 m from a road that reaches nothing
    # else, is left out: no hall is proposed for it
    assert len(r.proposals) == 1
    assert "I" not in [m for ms in r.groups["members"] for m in ms]
    status = dict(zip(r.communities["community_id"], r.communities["status"], strict=True))
    assert status["I"] == siting.STATUS_DATA_PROBLEM
    assert r.data_problems["community_id"].tolist() == ["I"]
    (reason,) = r.data_problems["reason"]
    assert reason.startswith("data problem: its only road within 500 m is a 2-node piece")
    assert "include_islands=True" in reason
    (reason_zh,) = r.data_problems["reason_zh"]
    assert reason_zh.startswith("数据问题：500 米内唯一的道路属于与路网其余部分断开的 2 个节点")
    # on request, the island is planned for like any place
    every = propose_halls(_with_islander(), grid_halls(), sites, net, include_islands=True)
    assert len(every.proposals) == 2
    assert ["I"] in every.groups["members"].tolist()
    assert every.data_problems.empty


def test_default_sample_proposes_no_hall_for_a_map_data_island(hangzhou: Sample) -> None:
    net = hangzhou.network
    sites = candidate_sites(net, spacing_m=400)
    r = propose_halls(hangzhou.communities, hangzhou.halls, sites, net)
    # HZ2158 sits 54 m from a 5-node road fragment, with no connected road within 500 m
    assert r.data_problems["community_id"].tolist() == ["HZ2158"]
    members = {m for ms in r.groups["members"] for m in ms}
    assert "HZ2158" not in members
    islanders = set(r.data_problems["community_id"])
    assert all(set(ms) - islanders for ms in r.groups["members"])


def test_proposal_folder_is_meeting_ready(grid_net: Network, tmp_path: Path) -> None:
    import openpyxl

    from coverage.reports import proposal_text, proposal_title, write_proposal_reports

    sites = candidate_sites(grid_net, spacing_m=600)
    r = propose_halls(grid_communities(), grid_halls(), sites, grid_net, model="capacitated")
    after = verify_proposal(r, grid_communities(), grid_halls(), grid_net)
    title = f"网格: {proposal_title('zh')}"
    write_proposal_reports(tmp_path, r, after, title=title, basemap="blank")
    assert {"summary.html", "report.xlsx", "map.html", "proposals.csv"} <= {
        p.name for p in tmp_path.iterdir()
    }
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert "<h1>网格: 共享服务中心选址建议（一站多居）</h1>" in page
    assert "capacitated" not in page  # words, not model codes
    assert "lscp" not in page
    assert "80.0% → 100.0%" in page  # communities covered: 4 of 5 before, 5 after
    assert r.proposals["description_zh"].iloc[0] in page
    assert 'href="report.xlsx"' in page
    where = r.proposals["description_zh"].iloc[0]
    assert where == "col 3旁，近村C"  # node (3, 3); C at (2, 2.5) is the nearest community
    assert json.dumps(where)[1:-1] in (tmp_path / "map.html").read_text(encoding="utf-8")
    # the plan's group of the new hall at (3, 3) is B alone (240 m²); counted by nearest hall,
    # C (6 min from it, 14 min from H2) joins it: 1,000 households > its group's 800
    assert r.proposals["site_id"].tolist() == ["N:18"]
    assert "按就近统计，1 个新建服务中心中有 1 个所服务的户数超出其分组" in page
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert "建议选址" in wb.sheetnames
    assert "新建规模分布" in wb.sheetnames
    heads = [c.value for c in wb["建议选址"][1]]
    assert heads[:3] == ["优先顺序", "位置", "选址编号"]
    assert wb["建议选址"]["B2"].value == r.proposals["description_zh"].iloc[0]
    text = proposal_text(r, tmp_path, lang="en")
    lines = text.splitlines()
    assert lines[0] == "                     before   after"
    assert "share covered         80.0%  100.0%" in lines  # B (2,000 of 5,800) newly covered
    assert "population covered    3,800   5,800" in lines
    assert "largest 240 m², median 240 m²" in lines  # B: 800 households / 100 * 30 m²
    assert f"open first: {tmp_path / 'summary.html'}" in text
