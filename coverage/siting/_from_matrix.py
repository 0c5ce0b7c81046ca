"""The door for research: any cost matrix in minutes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage._errors import (
    InputDataError,
)
from coverage.config import DEFAULT_CONFIG, Config
from coverage.siting._milp import resolve_solver
from coverage.siting._models import solve_capacitated, solve_cover
from coverage.siting._problem import Input, prepare, reduce_problem
from coverage.siting._tables import finish_result, nearest_open, plain_value

if TYPE_CHECKING:
    from collections.abc import Sequence

    import scipy.sparse as sp
    from numpy.typing import ArrayLike, NDArray

    from coverage.siting._common import Model, Solver
    from coverage.siting._result import ProposalResult

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

logger = logging.getLogger(__name__)


def run_model(
    inp: Input,
    model: str,
    p: int | None,
    solver: str,
    time_limit_s: float,
    mip_gap: float,
    config: Config,
    *,
    existing_groups: bool,
) -> ProposalResult:
    if model == "capacitated":
        chosen, site_of, minutes, info, alone = solve_capacitated(
            inp, solver, time_limit_s, mip_gap, config
        )
        return finish_result(
            inp,
            model,
            chosen,
            info,
            config,
            assigned_site=site_of,
            assigned_min=minutes,
            own_halls=alone,
            existing_groups=existing_groups,
        )
    chosen, info, _ = solve_cover(inp, model, int(p or 0), solver, time_limit_s, mip_gap)
    return finish_result(inp, model, chosen, info, config, existing_groups=existing_groups)


def propose_halls_from_cost_matrix(
    cost: ArrayLike | sp.spmatrix | sp.sparray,
    demand: ArrayLike,
    thresholds: ArrayLike,
    *,
    existing_cover: ArrayLike | None = None,
    existing_hall: Sequence[Any] | NDArray[Any] | None = None,
    model: Model = "lscp",
    p: int | None = None,
    capacity: ArrayLike | None = None,
    households: ArrayLike | None = None,
    community_ids: Sequence[Any] | NDArray[Any] | None = None,
    site_ids: Sequence[Any] | NDArray[Any] | None = None,
    solver: Solver = "auto",
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    existing_groups: bool = True,
    config: Config | None = None,
) -> ProposalResult:
    """Propose new halls from a communities × candidate-sites cost matrix (minutes).

    Parameters
    ----------
    cost
        Travel times from each community (row) to each candidate site (column), minutes.
        Dense: ``inf`` or ``nan`` = unreachable. ``scipy.sparse``: absent = unreachable,
        a stored ``0`` = at the same spot.
    demand
        Population of each community (persons); the weight of maximal covering.
    thresholds
        Service-circle threshold of each community, minutes (one number applies to all).
    existing_cover
        Coverage by the existing halls, per community: minutes to the nearest existing hall
        (``inf`` = none), or booleans (covered or not, time unknown). Covered communities are
        left out of the models and stay with their existing hall.
    existing_hall
        Identifier of each community's nearest existing hall (for the shared-hall groups).
    model
        ``"lscp"`` (fewest new sites covering every coverable community), ``"mclp"`` (best
        ``p`` sites by newly covered population) or ``"capacitated"``.
    p
        Number of new sites for ``"mclp"``.
    capacity
        Capacity of each candidate site in households (``"capacitated"`` only); one number
        applies to all. :func:`capacity_households` converts floor areas (m²).
    households
        Households of each community; default ``round(demand / config.persons_per_household)``
        as in the audit.
    community_ids, site_ids
        Identifiers of the rows and columns (default: positions).
    solver
        ``"auto"`` (CBC for ``"mclp"`` if available, HiGHS otherwise; greedy above
        ``GREEDY_ABOVE_PAIRS`` coverage pairs), ``"cbc"``, ``"highs"`` or ``"greedy"``.
    time_limit_s
        Wall-clock limit of the exact solver, seconds (the capacitated model's two stages
        share it).
    mip_gap
        Relative optimality gap accepted by the exact solver (0 = prove optimality).
    existing_groups
        Also list the existing halls' groups in ``groups``.
    config
        Floor-area standard (m² per 100 households) and household size.

    Returns
    -------
    ProposalResult
        Proposals, groups, uncoverable communities, per-community status, before/after
        scenario and solver information (status, objective, gap, seconds).

    Raises
    ------
    InputDataError
        If the inputs do not fit together (shapes, negative values, a missing ``p``).
    InfeasibleAllocationError
        If the capacitated model cannot be satisfied; the message gives the numbers.

    Examples
    --------
    Four communities, three candidate sites (minutes); community 3 is rural (20 minutes):

    >>> import numpy as np
    >>> cost = np.array([[ 5, 16, np.inf],
    ...                  [10, 12, 30],
    ...                  [25,  9, 14],
    ...                  [30, 21, 18]])
    >>> r = propose_halls_from_cost_matrix(cost, [100, 200, 300, 400], [15, 15, 15, 20],
    ...                                    site_ids=["S1", "S2", "S3"])
    >>> r.site_ids, r.solver["optimal"]
    (['S3', 'S1'], True)
    >>> r = propose_halls_from_cost_matrix(cost, [100, 200, 300, 400], [15, 15, 15, 20],
    ...                                    model="mclp", p=1, site_ids=["S1", "S2", "S3"])
    >>> r.site_ids, r.solver["objective"]
    (['S3'], 700.0)
    """
    cfg = config or DEFAULT_CONFIG
    inp = prepare(
        cost,
        demand,
        thresholds,
        existing_cover=existing_cover,
        existing_hall=existing_hall,
        households=households,
        capacity=capacity,
        community_ids=community_ids,
        site_ids=site_ids,
        model=model,
        p=p,
        solver=solver,
        config=cfg,
    )
    return run_model(
        inp, model, p, solver, time_limit_s, mip_gap, cfg, existing_groups=existing_groups
    )


def coverage_curve_from_cost_matrix(
    cost: ArrayLike | sp.spmatrix | sp.sparray,
    demand: ArrayLike,
    thresholds: ArrayLike,
    k: int,
    *,
    existing_cover: ArrayLike | None = None,
    site_ids: Sequence[Any] | NDArray[Any] | None = None,
    solver: Solver = "auto",
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> pd.DataFrame:
    """Population covered with the best ``p`` new sites, for ``p = 0 … k`` (maximal covering).

    Each ``p`` starts from the solution for ``p - 1`` plus the best greedy addition, so the
    curve never goes down, even where a solve stops at its time limit.

    Parameters
    ----------
    cost, demand, thresholds, existing_cover, site_ids
        As in :func:`propose_halls_from_cost_matrix` (minutes, persons).
    k
        Largest number of new sites.
    solver
        ``"auto"``, ``"cbc"``, ``"highs"`` or ``"greedy"``.
    time_limit_s
        Time limit of each solve (each ``p``), seconds.
    mip_gap
        Relative optimality gap accepted (0 = prove optimality).

    Returns
    -------
    pandas.DataFrame
        One row per ``p``: ``p``, ``population_covered``, ``population_covered_share`` (of
        all communities' population, existing coverage included), ``communities_covered``,
        ``communities_covered_share``, ``sites`` (ids), ``method``, ``optimal``, ``mip_gap``,
        ``seconds``.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[5, 16, np.inf], [10, 12, 30], [25, 9, 14], [30, 21, 18]])
    >>> curve = coverage_curve_from_cost_matrix(cost, [100, 200, 300, 400], [15, 15, 15, 20], 3)
    >>> curve["population_covered"].tolist()
    [0.0, 700.0, 1000.0, 1000.0]
    >>> int(curve.loc[curve["population_covered_share"] >= 0.95, "p"].min())
    2
    """
    if isinstance(k, bool) or int(k) != k or k < 0:
        msg = f"k must be a whole number >= 0, got {k!r}"
        raise InputDataError(msg)
    inp = prepare(
        cost,
        demand,
        thresholds,
        existing_cover=existing_cover,
        existing_hall=None,
        households=None,
        capacity=None,
        community_ids=None,
        site_ids=site_ids,
        model="mclp",
        p=0,
        solver=solver,
        config=DEFAULT_CONFIG,
    )
    return curve_table(inp, int(k), solver, time_limit_s, mip_gap)


def curve_table(
    inp: Input, k: int, solver: str, time_limit_s: float, mip_gap: float
) -> pd.DataFrame:
    method = resolve_solver(solver, int(inp.active[inp.ri].sum()), "mclp")
    red = reduce_problem(inp, model="mclp", dominance=method != "greedy")
    before = inp.covered_before
    base_pop = float(inp.pop[before].sum())
    total_pop = float(inp.pop.sum())
    reachable = float(red.w.sum())
    rows: list[dict[str, Any]] = []
    prev: list[int] = []
    chosen = np.zeros(0, dtype=np.int64)
    info: dict[str, Any] = {"method": "none", "optimal": True, "mip_gap": 0.0, "seconds": 0.0}
    for p in range(k + 1):
        done = rows and rows[-1]["population_covered"] >= base_pop + reachable - 1e-9
        if p > 0 and not done:
            chosen, info, prev = solve_cover(
                inp, "mclp", p, solver, time_limit_s, mip_gap, red=red, initial=prev
            )
        site, _ = nearest_open(inp, chosen)
        cov = before | (site >= 0)
        pop_cov = float(inp.pop[cov].sum())
        rows.append(
            {
                "p": p,
                "population_covered": pop_cov,
                "population_covered_share": pop_cov / total_pop if total_pop else float("nan"),
                "communities_covered": int(cov.sum()),
                "communities_covered_share": float(cov.mean()) if inp.n else float("nan"),
                "sites": [plain_value(v) for v in inp.site_ids[chosen]],
                "method": info.get("method"),
                "optimal": bool(info.get("optimal")),
                "mip_gap": info.get("mip_gap"),
                "seconds": float(info.get("seconds", 0.0)) if not done else 0.0,
            }
        )
    return pd.DataFrame(rows)
