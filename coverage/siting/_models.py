"""The three models (set covering, maximal covering, capacitated), solved with a greedy start.

Each model is assembled from named blocks of constraint rows, as spopt's
``FacilityModelBuilder`` assembles its models:

- set covering (LSCP): one site variable ``y_j`` per column; :func:`add_coverage_rows`
  (every community covered by at least one open site);
- maximal covering (MCLP): site variables ``y_j``, then one "covered" variable ``u_i`` per
  community; :func:`add_covered_rows` (``u_i`` only if an open site reaches ``i``) and
  :func:`add_facility_limit` (at most ``p`` sites);
- capacitated: site variables ``y_j``, then one assignment variable ``z_e`` per coverage pair
  ``e`` = (community, site within its threshold); :func:`add_assignment_rows` (each community
  assigned to exactly one site), :func:`add_capacity_rows` (households assigned to a site
  within its capacity, and only to an open site) and :func:`add_link_rows` (a pair is used
  only if its site is open); the second stage adds :func:`add_facility_limit` with the number
  of sites of the first.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from coverage._errors import (
    CoverageError,
    InfeasibleAllocationError,
    list_ids,
)
from coverage.siting._milp import (
    GREEDY_ABOVE_PAIRS,
    Milp,
    Outcome,
    relative_gap,
    resolve_solver,
    solve_milp,
)
from coverage.siting._problem import (
    Input,
    Reduced,
    greedy_max_cover,
    greedy_set_cover,
    reduce_problem,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from coverage.config import Config

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

logger = logging.getLogger(__name__)


def _solver_info(out: Outcome | None, **extra: Any) -> dict[str, Any]:  # noqa: ANN401
    if out is None:
        info: dict[str, Any] = {
            "method": "greedy",
            "status": "greedy heuristic (no exact solve)",
            "objective": float("nan"),
            "bound": float("nan"),
            "mip_gap": float("nan"),
            "optimal": False,
            "seconds": 0.0,
        }
    else:
        info = {
            "method": out.method,
            "status": out.status,
            "objective": out.objective,
            "bound": out.bound,
            "mip_gap": relative_gap(out.objective, out.bound),
            "optimal": out.optimal,
            "seconds": out.seconds,
        }
    info.update(extra)
    return info


#: The capacitated model's first stage stops this many seconds (at most a fifth of the time
#: limit) before the limit, so that the second stage (least total travel time) always runs.
STAGE2_RESERVE_S = 10.0


@dataclass
class Rows:
    """A block of constraint rows ``lo <= A @ x <= hi`` over all the model's variables."""

    A: sp.csr_matrix
    lo: FloatArray
    hi: FloatArray


def _stack(blocks: Sequence[Rows]) -> Rows:
    """The blocks one under another, in the given order."""
    return Rows(
        sp.vstack([b.A for b in blocks]).tocsr(),
        np.concatenate([b.lo for b in blocks]),
        np.concatenate([b.hi for b in blocks]),
    )


def add_coverage_rows(cover: sp.csr_matrix) -> Rows:
    """Set covering: each community (row) has at least one open site (column) within reach.

    ``cover`` is the 0/1 community × site matrix; the variables are the sites.
    """
    n_rows = cover.shape[0]
    return Rows(cover, np.ones(n_rows), np.full(n_rows, np.inf))


def add_covered_rows(cover: sp.csr_matrix) -> Rows:
    """Maximal covering: ``u_i - sum_j cover_ij y_j <= 0`` (covered only by an open site).

    The variables are the sites ``y``, then one "covered" variable ``u`` per community.
    """
    n_rows = cover.shape[0]
    return Rows(
        sp.hstack([-cover, sp.identity(n_rows, format="csr")]),
        np.full(n_rows, -np.inf),
        np.zeros(n_rows),
    )


def add_facility_limit(n_sites: int, n_variables: int, most: float) -> Rows:
    """At most ``most`` open sites: ``sum_j y_j <= most`` (the sites are the first variables)."""
    row = sp.csr_matrix(
        (np.ones(n_sites), (np.zeros(n_sites, dtype=np.int64), np.arange(n_sites))),
        shape=(1, n_variables),
    )
    return Rows(row, np.array([-np.inf]), np.array([float(most)]))


def add_assignment_rows(pair_row: IntArray, n_rows: int, n_sites: int) -> Rows:
    """Each community is assigned to exactly one of its pairs: ``sum_e z_e = 1``.

    The variables are the sites ``y``, then one assignment variable ``z`` per pair.
    """
    n_pairs = len(pair_row)
    pair = np.arange(n_pairs)
    rows = sp.csr_matrix(
        (np.ones(n_pairs), (pair_row, n_sites + pair)), shape=(n_rows, n_sites + n_pairs)
    )
    return Rows(rows, np.ones(n_rows), np.ones(n_rows))


def add_capacity_rows(
    pair_site: IntArray, pair_households: FloatArray, capacity: FloatArray
) -> Rows:
    """Households assigned to a site stay within its capacity, if open, else are none.

    ``sum_e households_e z_e - capacity_j y_j <= 0`` for each site ``j``.
    """
    n_sites, n_pairs = len(capacity), len(pair_site)
    pair = np.arange(n_pairs)
    site = np.arange(n_sites)
    rows = sp.csr_matrix(
        (
            np.concatenate([pair_households, -capacity]),
            (np.concatenate([pair_site, site]), np.concatenate([n_sites + pair, site])),
        ),
        shape=(n_sites, n_sites + n_pairs),
    )
    return Rows(rows, np.full(n_sites, -np.inf), np.zeros(n_sites))


def add_link_rows(pair_site: IntArray, n_sites: int) -> Rows:
    """A pair is used only if its site is open: ``z_e - y_site(e) <= 0``."""
    n_pairs = len(pair_site)
    pair = np.arange(n_pairs)
    rows = sp.csr_matrix(
        (
            np.concatenate([np.ones(n_pairs), -np.ones(n_pairs)]),
            (np.concatenate([pair, pair]), np.concatenate([n_sites + pair, pair_site])),
        ),
        shape=(n_pairs, n_sites + n_pairs),
    )
    return Rows(rows, np.full(n_pairs, -np.inf), np.zeros(n_pairs))


def _binary(n: int) -> tuple[FloatArray, BoolArray]:
    """Upper bounds and integrality of ``n`` 0/1 variables."""
    return np.ones(n), np.ones(n, dtype=bool)


def set_covering_model(cover: sp.csr_matrix, start_sites: Sequence[int]) -> Milp:
    """LSCP: the fewest sites such that every community is covered."""
    n_sites = cover.shape[1]
    rows = add_coverage_rows(cover)
    start = np.zeros(n_sites)
    start[list(start_sites)] = 1.0
    upper, integer = _binary(n_sites)
    return Milp(np.ones(n_sites), rows.A, rows.lo, rows.hi, upper, integer, start)


def max_covering_model(
    cover: sp.csr_matrix, weight: FloatArray, p: int, start_sites: Sequence[int]
) -> Milp:
    """MCLP: maximise the covered weight ``weight @ u`` (minimise ``-weight @ u``), ``p`` sites.

    The covered variables ``u`` are continuous: at an optimum they are 0 or 1.
    """
    n_rows, n_sites = cover.shape
    rows = _stack([add_covered_rows(cover), add_facility_limit(n_sites, n_sites + n_rows, p)])
    start = np.zeros(n_sites + n_rows)
    start[list(start_sites)] = 1.0
    start[n_sites:] = (cover @ start[:n_sites]) > 0
    return Milp(
        c=np.concatenate([np.zeros(n_sites), -weight]),
        A=rows.A,
        row_lo=rows.lo,
        row_hi=rows.hi,
        ub=np.ones(n_sites + n_rows),
        integer=np.concatenate([np.ones(n_sites, bool), np.zeros(n_rows, bool)]),
        start=start,
    )


def solve_cover(
    inp: Input,
    model: str,
    p: int,
    solver: str,
    time_limit_s: float,
    mip_gap: float,
    *,
    red: Reduced | None = None,
    initial: Sequence[int] = (),
) -> tuple[IntArray, dict[str, Any], list[int]]:
    """LSCP or MCLP on the reduced matrix.

    Returns the chosen original site indices, the solver information, and the chosen
    columns of the reduced matrix (a warm start for the next ``p``).
    """
    t0 = time.perf_counter()
    method = resolve_solver(solver, int(inp.active[inp.ri].sum()), model)
    if red is None:
        red = reduce_problem(inp, model=model, dominance=method != "greedy")
    cover, weight = red.A, red.w
    n_rows, n_sites = cover.shape
    sizes = {
        "rows": red.rows_in,
        "rows_merged": n_rows,
        "columns": red.cols_in,
        "columns_merged": n_sites,
        "pairs": int(cover.nnz),
    }
    if model == "lscp":
        start_sites = greedy_set_cover(cover, red.cnt, weight)
        start_obj = float(len(start_sites))
    else:
        start_sites = greedy_max_cover(cover, weight, p, initial)
        covered = cover[:, start_sites].getnnz(axis=1) > 0
        start_obj = float(weight[covered].sum()) if n_rows else 0.0
    build_s = time.perf_counter() - t0
    logger.debug("%s: %s; greedy start %g (%.2f s)", model, sizes, start_obj, build_s)
    chosen_start = red.cols[np.asarray(start_sites, dtype=np.int64)]
    if n_rows == 0 or n_sites == 0 or (model == "mclp" and p == 0):
        info = _solver_info(None, objective=start_obj, build_seconds=build_s, **sizes)
        info.update(
            method="none", status="nothing to solve", optimal=True, mip_gap=0.0, bound=start_obj
        )
        return chosen_start, info, start_sites
    if method == "greedy":
        note = "greedy heuristic (solver='greedy')"
        if solver == "auto":
            pairs = int(inp.active[inp.ri].sum())
            note = f"greedy: {pairs:,} pairs > GREEDY_ABOVE_PAIRS ({GREEDY_ABOVE_PAIRS:,})"
        info = _solver_info(None, objective=start_obj, build_seconds=build_s, note=note, **sizes)
        return chosen_start, info, start_sites
    if model == "lscp":
        prob = set_covering_model(cover, start_sites)
    else:
        prob = max_covering_model(cover, weight, p, start_sites)
    build_s = time.perf_counter() - t0
    out = solve_milp(prob, method, time_limit_s, mip_gap)
    if out.x is None:  # pragma: no cover - the greedy start is always feasible
        msg = f"internal: no solution for model={model!r} ({out.status})"
        raise CoverageError(msg)
    open_sites = np.flatnonzero(out.x[:n_sites] > 0.5)  # noqa: PLR2004
    if model == "mclp":
        out.objective, out.bound = -out.objective, -out.bound
        gap = relative_gap(-out.objective, -out.bound)
    else:
        gap = relative_gap(out.objective, out.bound)
    info = _solver_info(out, build_seconds=build_s, time_limit_s=time_limit_s, **sizes)
    info["mip_gap"] = gap
    info["greedy_objective"] = start_obj
    return red.cols[open_sites], info, open_sites.tolist()


def _capacity_checks(inp: Input, capacity: FloatArray, config: Config) -> None:
    """Arithmetic before solving: totals and isolated clusters."""
    active = inp.active
    keep = active[inp.ri]
    pair_community, pair_site = inp.ri[keep], inp.cj[keep]
    per100 = config.floor_area_m2_per_100_households
    reach_sites = np.unique(pair_site)
    demand = float(inp.hh[active].sum())
    total = float(capacity[reach_sites].sum())
    if demand > total + 1e-9:
        msg = (
            f"infeasible: demand {demand:,.0f} households > total capacity {total:,.0f} "
            f"households of the {len(reach_sites)} candidate site(s) within reach "
            f"(floor area {total / 100 * per100:,.0f} m² at {per100:g} m² per 100 households; "
            f"{demand / 100 * per100:,.0f} m² needed)"
        )
        raise InfeasibleAllocationError(msg)
    # clusters of communities and sites joined by coverage pairs must each fit
    n_nodes = inp.n + inp.m
    graph = sp.csr_matrix(
        (np.ones(len(pair_community)), (pair_community, inp.n + pair_site)),
        shape=(n_nodes, n_nodes),
    )
    _, label = connected_components(graph, directed=False)
    community_label = label[: inp.n]
    site_label = label[inp.n :]
    need = np.bincount(community_label[active], weights=inp.hh[active], minlength=label.max() + 1)
    has = np.bincount(
        site_label[reach_sites], weights=capacity[reach_sites], minlength=label.max() + 1
    )
    short = np.flatnonzero(need > has + 1e-9)
    if len(short):
        lab = short[0]
        members = np.flatnonzero(active & (community_label == lab))
        sites = reach_sites[site_label[reach_sites] == lab]
        msg = (
            f"infeasible: {len(short)} cluster(s) of communities need more than the sites they "
            f"can reach hold; e.g. communities {list_ids(inp.community_ids[members])} need "
            f"{need[lab]:,.0f} households > capacity {has[lab]:,.0f} of sites "
            f"{list_ids(inp.site_ids[sites])}"
        )
        raise InfeasibleAllocationError(msg)


@dataclass
class OwnHalls:
    """Communities that need more than any site within reach can hold, on halls of their own.

    Each such community (largest need first) takes its nearest site within its threshold
    that no other such community took (or, if all are taken, the nearest); a community that
    then reaches no other site joins the nearest of these halls. The halls are larger than
    the capacity: the proposal says so (reason ``"over_cap"``).
    """

    community: IntArray  # original community index
    site: IntArray  # original site index of its hall
    minutes: FloatArray
    founder: dict[int, int]  # site -> the community that needs more than the cap alone

    @property
    def sites(self) -> IntArray:
        return np.unique(self.site)


def own_halls(inp: Input, capacity: FloatArray) -> tuple[Input, OwnHalls]:
    """Give communities needing more than any reachable site holds a hall of their own.

    Returns the problem left for the capacitated model (without these communities and
    sites) and the halls given.
    """
    keep = inp.active[inp.ri]
    pair_community, pair_site, pair_minutes = inp.ri[keep], inp.cj[keep], inp.tmin[keep]
    best = np.zeros(inp.n)
    np.maximum.at(best, pair_community, capacity[pair_site])
    over = np.flatnonzero(inp.active & (inp.hh > best + 1e-9))
    taken = np.zeros(inp.m, dtype=bool)
    community: list[int] = []
    site: list[int] = []
    minutes: list[float] = []
    founder: dict[int, int] = {}
    for i in over[np.lexsort((over, -inp.hh[over]))].tolist():
        mine = pair_community == i
        sites, times = pair_site[mine], pair_minutes[mine]
        order = np.lexsort((sites, times))
        sites, times = sites[order], times[order]
        free = ~taken[sites]
        k = int(np.argmax(free)) if free.any() else 0
        taken[sites[k]] = True
        founder.setdefault(int(sites[k]), i)
        community.append(i)
        site.append(int(sites[k]))
        minutes.append(float(times[k]))
    if community:
        # communities that reach only these halls' sites join the nearest of them
        handled = np.zeros(inp.n, dtype=bool)
        handled[community] = True
        free_pair = ~taken[pair_site]
        reach_free = np.bincount(pair_community[free_pair], minlength=inp.n) > 0
        for i in np.flatnonzero(inp.active & ~handled & ~reach_free).tolist():
            mine = pair_community == i
            sites, times = pair_site[mine], pair_minutes[mine]
            k = int(np.lexsort((sites, times))[0])
            community.append(i)
            site.append(int(sites[k]))
            minutes.append(float(times[k]))
    halls = OwnHalls(
        np.asarray(community, dtype=np.int64),
        np.asarray(site, dtype=np.int64),
        np.asarray(minutes, dtype=float),
        founder,
    )
    if not community:
        return inp, halls
    rest = ~np.isin(inp.ri, halls.community) & ~taken[inp.cj]
    return replace(inp, ri=inp.ri[rest], cj=inp.cj[rest], tmin=inp.tmin[rest]), halls


@dataclass
class Pairs:
    """The capacitated problem on the active communities and the sites they reach.

    Pair ``e`` joins community ``pair_row[e]`` (a row) and site ``pair_site[e]`` (a column),
    ``pair_minutes[e]`` apart, within the community's threshold.
    """

    rows: IntArray  # original community index of each row
    sites: IntArray  # original site index of each column
    pair_row: IntArray
    pair_site: IntArray
    pair_minutes: FloatArray
    households: FloatArray  # per row
    capacity: FloatArray  # per column, households

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_sites(self) -> int:
        return len(self.sites)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_row)


def capacitated_pairs(inp: Input, capacity: FloatArray) -> Pairs:
    """The active communities, the sites they reach, and the pairs between them."""
    keep = inp.active[inp.ri]
    rows = np.flatnonzero(inp.active)
    row_of = np.full(inp.n, -1, dtype=np.int64)
    row_of[rows] = np.arange(len(rows))
    sites = np.unique(inp.cj[keep])
    column_of = np.full(inp.m, -1, dtype=np.int64)
    column_of[sites] = np.arange(len(sites))
    return Pairs(
        rows=rows,
        sites=sites,
        pair_row=row_of[inp.ri[keep]],
        pair_site=column_of[inp.cj[keep]],
        pair_minutes=inp.tmin[keep],
        households=inp.hh[rows],
        capacity=capacity[sites],
    )


def _greedy_capacitated(pairs: Pairs) -> tuple[list[int], IntArray]:
    """Open the site that can take the most unassigned households; fill it nearest first.

    Returns the opened sites and, per community, the pair it is assigned to or -1.
    """
    pair_row, pair_site = pairs.pair_row, pairs.pair_site
    households, capacity = pairs.households, pairs.capacity
    n_rows, n_sites = pairs.n_rows, pairs.n_sites
    cover = sp.csr_matrix((np.ones(len(pair_row)), (pair_row, pair_site)), shape=(n_rows, n_sites))
    by_site = np.lexsort((pairs.pair_minutes, pair_site))
    site_start = np.searchsorted(pair_site[by_site], np.arange(n_sites + 1))
    assigned = np.full(n_rows, -1, dtype=np.int64)
    usable = np.ones(n_sites, dtype=bool)
    opened: list[int] = []
    while (assigned < 0).any() and usable.any():
        free = (assigned < 0).astype(float)
        reach = np.asarray(cover.T @ (households * free)).ravel()
        count = np.asarray(cover.T @ free).ravel()
        score = np.minimum(reach, capacity) + 1e-6 * count
        score[~usable | (count == 0)] = -1.0
        site = int(np.argmax(score))
        if score[site] < 0:
            break
        usable[site] = False
        left = capacity[site]
        took = False
        for pair in by_site[site_start[site] : site_start[site + 1]].tolist():
            row = pair_row[pair]
            if assigned[row] < 0 and households[row] <= left + 1e-9:
                assigned[row] = pair
                left -= households[row]
                took = True
        if took:
            opened.append(site)
    return opened, assigned


def capacitated_model(pairs: Pairs, start: FloatArray | None) -> Milp:
    """Stage 1: the fewest open sites such that each community is assigned within capacity.

    The variables are the sites ``y``, then one assignment variable ``z`` per pair.
    """
    n_sites, n_pairs = pairs.n_sites, pairs.n_pairs
    rows = _stack(
        [
            add_assignment_rows(pairs.pair_row, pairs.n_rows, n_sites),
            add_capacity_rows(pairs.pair_site, pairs.households[pairs.pair_row], pairs.capacity),
            add_link_rows(pairs.pair_site, n_sites),
        ]
    )
    upper, integer = _binary(n_sites + n_pairs)
    cost = np.concatenate([np.ones(n_sites), np.zeros(n_pairs)])
    return Milp(cost, rows.A, rows.lo, rows.hi, upper, integer, start)


def least_travel_model(pairs: Pairs, stage1: Milp, n_open: int, start: FloatArray) -> Milp:
    """Stage 2: stage 1's rows with at most ``n_open`` sites; least total travel time."""
    n_sites, n_pairs = pairs.n_sites, pairs.n_pairs
    rows = _stack(
        [
            Rows(stage1.A, stage1.row_lo, stage1.row_hi),
            add_facility_limit(n_sites, n_sites + n_pairs, n_open),
        ]
    )
    cost = np.concatenate([np.zeros(n_sites), pairs.pair_minutes])
    return Milp(cost, rows.A, rows.lo, rows.hi, stage1.ub, stage1.integer, start)


def _infeasible_message(pairs: Pairs, out: Outcome, greedy_left: int, limit_s: float) -> str:
    if out.infeasible:
        return (
            f"infeasible: the solver ({out.method}: {out.status}) proved that the "
            f"{pairs.n_rows} communities ({pairs.households.sum():,.0f} households) cannot "
            f"each be assigned whole to one of the {pairs.n_sites} reachable sites (capacity "
            f"{pairs.capacity.sum():,.0f} households) within their thresholds"
        )
    return (
        f"no assignment found within {limit_s:g} s ({out.status}); the greedy heuristic "
        f"left {greedy_left} communit(y/ies) unassigned; raise time_limit_s"
    )


def _second_stage(
    pairs: Pairs,
    stage1: Milp,
    out1: Outcome,
    method: str,
    remaining_s: float,
    mip_gap: float,
    info: dict[str, Any],
) -> FloatArray:
    """With stage 1's number of sites fixed, the least total travel time (updates ``info``)."""
    x = cast("FloatArray", out1.x)
    stage2 = least_travel_model(pairs, stage1, round(out1.objective), x.copy())
    out2 = solve_milp(stage2, method, remaining_s, mip_gap, start_label="stage 1")
    info["stage2"] = {
        "objective_total_travel_min": out2.objective,
        "bound": out2.bound,
        "mip_gap": relative_gap(out2.objective, out2.bound),
        "status": out2.status,
        "method": out2.method,
        "seconds": out2.seconds,
        "optimal": out2.optimal,
    }
    info["seconds"] = out1.seconds + out2.seconds
    return x if out2.x is None else out2.x


def _second_stage_on_open(
    pairs: Pairs,
    out1: Outcome,
    method: str,
    remaining_s: float,
    mip_gap: float,
    info: dict[str, Any],
) -> FloatArray:
    """Stage 2 among the sites stage 1 opened only (when stage 1 was stopped by its limit)."""
    x = cast("FloatArray", out1.x)
    n_sites = pairs.n_sites
    is_open = x[:n_sites] > 0.5  # noqa: PLR2004
    open_sites = np.flatnonzero(is_open)
    keep = is_open[pairs.pair_site]
    column_of = np.full(n_sites, -1, dtype=np.int64)
    column_of[open_sites] = np.arange(len(open_sites))
    sub = Pairs(
        rows=pairs.rows,
        sites=pairs.sites[open_sites],
        pair_row=pairs.pair_row[keep],
        pair_site=column_of[pairs.pair_site[keep]],
        pair_minutes=pairs.pair_minutes[keep],
        households=pairs.households,
        capacity=pairs.capacity[open_sites],
    )
    start = np.concatenate([np.ones(len(open_sites)), x[n_sites:][keep]])
    sub_out = replace(out1, x=start, objective=float(len(open_sites)))
    sub_x = _second_stage(
        sub, capacitated_model(sub, None), sub_out, method, remaining_s, mip_gap, info
    )
    info["stage2"]["among_open_sites"] = True
    out = np.zeros_like(x)
    out[open_sites] = sub_x[: len(open_sites)]
    out[n_sites + np.flatnonzero(keep)] = sub_x[len(open_sites) :]
    return out


def solve_capacitated(
    inp: Input, solver: str, time_limit_s: float, mip_gap: float, config: Config
) -> tuple[IntArray, IntArray, FloatArray, dict[str, Any], OwnHalls]:
    """The capacitated model, with halls of their own for communities above every capacity.

    Returns chosen sites, per community the assigned site (-1) and its minutes, the solver
    information and the halls given to communities that need more than the capacity alone.
    """
    capacity = cast("FloatArray", inp.capacity)
    rest, alone = own_halls(inp, capacity)
    chosen, site_of, minutes, info = _assign_within_capacity(
        rest, capacity, solver, time_limit_s, mip_gap, config
    )
    if len(alone.community):
        site_of[alone.community] = alone.site
        minutes[alone.community] = alone.minutes
        chosen = np.union1d(chosen, alone.sites)
        info["own_halls"] = len(alone.sites)
        note = (
            f"{len(alone.founder)} communit(y/ies) need more than the capacity alone: "
            f"{len(alone.sites)} hall(s) of their own"
        )
        info["note"] = f"{info['note']}; {note}" if "note" in info else note
    return chosen, site_of, minutes, info, alone


def _assign_within_capacity(
    inp: Input,
    capacity: FloatArray,
    solver: str,
    time_limit_s: float,
    mip_gap: float,
    config: Config,
) -> tuple[IntArray, IntArray, FloatArray, dict[str, Any]]:
    """The two-stage model on the communities within capacity (see the module notes)."""
    t0 = time.perf_counter()
    _capacity_checks(inp, capacity, config)
    pairs = capacitated_pairs(inp, capacity)
    site_of = np.full(inp.n, -1, dtype=np.int64)
    minutes = np.full(inp.n, np.nan)
    sizes = {"rows": pairs.n_rows, "columns": pairs.n_sites, "pairs": pairs.n_pairs}
    if pairs.n_rows == 0:
        info = _solver_info(None, **sizes)
        info.update(method="none", status="trivial", optimal=True, mip_gap=0.0, objective=0.0)
        return np.zeros(0, np.int64), site_of, minutes, info
    n_sites, n_pairs = pairs.n_sites, pairs.n_pairs
    greedy_open, greedy_pair = _greedy_capacitated(pairs)
    greedy_ok = bool((greedy_pair >= 0).all())
    greedy_left = int((greedy_pair < 0).sum())
    method = resolve_solver(solver, n_pairs, "capacitated")
    start: FloatArray | None = None
    if greedy_ok:
        start = np.zeros(n_sites + n_pairs)
        start[greedy_open] = 1.0
        start[n_sites + greedy_pair] = 1.0
    stage1 = capacitated_model(pairs, start)
    build_s = time.perf_counter() - t0
    notes: list[str] = []
    if method == "greedy":
        if not greedy_ok:
            msg = (
                f"the greedy heuristic left {greedy_left} communit(y/ies) "
                "unassigned; the problem may still be feasible: use solver='cbc' or 'highs'"
            )
            raise InfeasibleAllocationError(msg)
        x = cast("FloatArray", start)
        info = _solver_info(None, objective=float(len(greedy_open)), build_seconds=build_s, **sizes)
    else:
        reserve = min(STAGE2_RESERVE_S, 0.2 * time_limit_s)
        out1 = solve_milp(stage1, method, time_limit_s - reserve, mip_gap)
        if out1.x is None:
            raise InfeasibleAllocationError(
                _infeasible_message(pairs, out1, greedy_left, time_limit_s)
            )
        x = out1.x
        info = _solver_info(out1, build_seconds=build_s, time_limit_s=time_limit_s, **sizes)
        info["greedy_objective"] = float(len(greedy_open)) if greedy_ok else float("nan")
        remaining = time_limit_s - out1.seconds
        if remaining >= 1.0 and out1.optimal:
            x = _second_stage(pairs, stage1, out1, method, remaining, mip_gap, info)
        elif remaining >= 1.0:
            x = _second_stage_on_open(pairs, out1, method, remaining, mip_gap, info)
            notes.append(
                "stage 1 stopped at its time limit: the second stage reassigned the "
                "communities among the sites it opened"
            )
        else:
            notes.append("second stage (least total travel time) skipped: no time left")
    if notes:
        info["note"] = "; ".join(notes)
    used = x[n_sites:] > 0.5  # noqa: PLR2004
    site_of[pairs.rows[pairs.pair_row[used]]] = pairs.sites[pairs.pair_site[used]]
    minutes[pairs.rows[pairs.pair_row[used]]] = pairs.pair_minutes[used]
    # a site counts as proposed only if the assignment uses it
    return pairs.sites[np.unique(pairs.pair_site[used])], site_of, minutes, info
