"""Siting new halls: shared halls (一站多居) by set covering, maximal covering or capacities.

Hangzhou's plan asks for one hall to serve several neighbouring communities (一站多居) where
that keeps every community inside its service circle (15 minutes urban, 20 minutes rural).
This module proposes where such shared halls should go, from a list of candidate sites, with
the existing halls kept fixed and counted as coverage.

Two doors, as in spopt:

- :func:`propose_halls` for planners: communities, existing halls, candidate sites and a
  network in; it builds the sparse community × candidate travel-time matrix with **one** call
  to :func:`coverage.engine.travel_time_matrix` (bounded at the largest threshold) and the
  existing halls' coverage with one :func:`coverage.engine.nearest_facility` pass, then calls
- :func:`propose_halls_from_cost_matrix` for tests and research: any cost matrix in minutes
  (dense numpy, ``inf``/``nan`` = unreachable; or ``scipy.sparse``, absent = unreachable, an
  explicit ``0`` = same spot), one threshold per community.

Models (each community against its *own* threshold):

``"lscp"``
    Location set covering: the fewest new sites such that every community that some
    candidate can reach in time, and that no existing hall already covers, is covered.
    Communities no candidate reaches in time are listed in ``uncoverable`` with the reason;
    they never make the problem infeasible and are never dropped silently.
``"mclp"``
    Maximal covering: the best ``p`` new sites by newly covered population.
    :func:`coverage_curve` gives the covered share for ``p = 0 … k`` ("how many halls for
    95 %?").
``"capacitated"``
    Every coverable community is assigned to exactly one new site within its threshold,
    without exceeding the site's capacity in households (``floor area / 30 m² × 100``, the
    2024 导则 standard ``config.floor_area_m2_per_100_households``); first the fewest sites,
    then, in a second stage with that number fixed, the least total travel time (among the
    sites the first stage opened, when it stopped at its time limit). Through
    :func:`propose_halls`, a candidate without its own floor area holds a new hall of at
    most ``config.max_new_hall_m2`` (800 m²). A community that alone needs more than every
    site within reach holds gets a hall of its own (larger than the cap), and its
    proposal's ``reason`` says so: nothing is dropped, nothing silently.

Solvers: exact mixed-integer programmes built straight from the sparse coverage matrix,
after exact reductions (identical communities and sites merged, sites whose communities are a
subset of another site's dropped, and for set covering, communities whose sites include all
of another community's dropped), solved by HiGHS through :func:`scipy.optimize.milp` or by
CBC (the binary that ships with PuLP, or any ``cbc`` on ``PATH``), always with a time limit
and a reported MIP gap. A vectorised greedy heuristic gives the starting solution, and is the
answer (labelled ``method="greedy"``) when the solver finds nothing better in time or for
very large cases. ``solver="auto"`` picks by measurement (``bench/README.md``): CBC for
maximal covering, HiGHS for set covering and the capacitated model; HiGHS alone when CBC is
not installed.

Communities covered by an existing hall stay with the existing halls: they are neither
re-covered nor re-assigned by the capacitated model. Shared-hall groups assign every covered
community to its nearest open hall (existing or new) within its threshold; in the capacitated
model the groups are the model's own assignment. :func:`verify_proposal` re-runs the routed
:func:`coverage.audit.audit` with the existing and proposed halls.

Package layout: ``_from_network`` (the planners' door and candidate sites), ``_describe``
(a site in words: nearest named road and community), ``_from_matrix``
(the research door and the coverage curve), ``_problem`` (the problem in plain arrays, exact
reductions, greedy heuristics), ``_models`` (the three models), ``_milp`` (the MILP container
and the CBC and HiGHS back-ends), ``_tables`` (result tables), ``_result``
(:class:`ProposalResult`), ``_common`` (statuses, models, solvers).
"""

from coverage.siting._common import (
    MODELS,
    SOLVERS,
    STATUS_COVERED_BEFORE,
    STATUS_DATA_PROBLEM,
    STATUS_NEWLY_COVERED,
    STATUS_NOT_COVERED,
    STATUS_UNCOVERABLE,
    Model,
    Solver,
)
from coverage.siting._describe import ROAD_NAME_WITHIN_M, describe_sites
from coverage.siting._from_matrix import (
    coverage_curve_from_cost_matrix,
    propose_halls_from_cost_matrix,
)
from coverage.siting._from_network import (
    candidate_sites,
    coverage_curve,
    propose_halls,
    verify_proposal,
)
from coverage.siting._milp import CBC_GRACE_S, GREEDY_ABOVE_PAIRS, cbc_available
from coverage.siting._problem import capacity_households
from coverage.siting._result import HALL_SIZE_BANDS_M2, ProposalResult

__all__ = [
    "CBC_GRACE_S",
    "GREEDY_ABOVE_PAIRS",
    "HALL_SIZE_BANDS_M2",
    "MODELS",
    "ROAD_NAME_WITHIN_M",
    "SOLVERS",
    "STATUS_COVERED_BEFORE",
    "STATUS_DATA_PROBLEM",
    "STATUS_NEWLY_COVERED",
    "STATUS_NOT_COVERED",
    "STATUS_UNCOVERABLE",
    "Model",
    "ProposalResult",
    "Solver",
    "candidate_sites",
    "capacity_households",
    "cbc_available",
    "coverage_curve",
    "coverage_curve_from_cost_matrix",
    "describe_sites",
    "propose_halls",
    "propose_halls_from_cost_matrix",
    "verify_proposal",
]
