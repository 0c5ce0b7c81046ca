"""The three models (set covering, maximal covering, capacitated), solved with a greedy start."""

from __future__ import annotations

import logging
import time
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
    A, w = red.A, red.w
    k, mm = A.shape
    sizes = {
        "rows": red.rows_in,
        "rows_merged": k,
        "columns": red.cols_in,
        "columns_merged": mm,
        "pairs": int(A.nnz),
    }
    if model == "lscp":
        start_cols = greedy_set_cover(A, red.cnt, w)
        start_obj = float(len(start_cols))
    else:
        start_cols = greedy_max_cover(A, w, p, initial)
        start_obj = float(w[A[:, start_cols].getnnz(axis=1) > 0].sum()) if k else 0.0
    build_s = time.perf_counter() - t0
    logger.debug("%s: %s; greedy start %g (%.2f s)", model, sizes, start_obj, build_s)
    if k == 0 or mm == 0 or (model == "mclp" and p == 0):
        info = _solver_info(None, objective=start_obj, build_seconds=build_s, **sizes)
        info.update(
            method="none", status="nothing to solve", optimal=True, mip_gap=0.0, bound=start_obj
        )
        return red.cols[np.asarray(start_cols, dtype=np.int64)], info, start_cols
    if method == "greedy":
        note = "greedy heuristic (solver='greedy')"
        if solver == "auto":
            pairs = int(inp.active[inp.ri].sum())
            note = f"greedy: {pairs:,} pairs > GREEDY_ABOVE_PAIRS ({GREEDY_ABOVE_PAIRS:,})"
        info = _solver_info(None, objective=start_obj, build_seconds=build_s, note=note, **sizes)
        return red.cols[np.asarray(start_cols, dtype=np.int64)], info, start_cols
    if model == "lscp":
        x0 = np.zeros(mm)
        x0[start_cols] = 1.0
        prob = Milp(
            c=np.ones(mm),
            A=A,
            row_lo=np.ones(k),
            row_hi=np.full(k, np.inf),
            ub=np.ones(mm),
            integer=np.ones(mm, dtype=bool),
            start=x0,
        )
    else:
        # maximise w @ u  <=>  minimise -w @ u;  u_i - sum_j A_ij y_j <= 0;  sum_j y_j <= p
        C = sp.vstack(
            [
                sp.hstack([-A, sp.identity(k, format="csr")]),
                sp.hstack([sp.csr_matrix(np.ones((1, mm))), sp.csr_matrix((1, k))]),
            ]
        ).tocsr()
        x0 = np.zeros(mm + k)
        x0[start_cols] = 1.0
        x0[mm:] = (A @ x0[:mm]) > 0
        prob = Milp(
            c=np.concatenate([np.zeros(mm), -w]),
            A=C,
            row_lo=np.full(k + 1, -np.inf),
            row_hi=np.concatenate([np.zeros(k), [float(p)]]),
            ub=np.ones(mm + k),
            integer=np.concatenate([np.ones(mm, bool), np.zeros(k, bool)]),
            start=x0,
        )
    build_s = time.perf_counter() - t0
    out = solve_milp(prob, method, time_limit_s, mip_gap)
    if out.x is None:  # pragma: no cover - the greedy start is always feasible
        msg = f"internal: no solution for model={model!r} ({out.status})"
        raise CoverageError(msg)
    y = np.flatnonzero(out.x[:mm] > 0.5)  # noqa: PLR2004
    if model == "mclp":
        out.objective, out.bound = -out.objective, -out.bound
        gap = relative_gap(-out.objective, -out.bound)
    else:
        gap = relative_gap(out.objective, out.bound)
    info = _solver_info(out, build_seconds=build_s, time_limit_s=time_limit_s, **sizes)
    info["mip_gap"] = gap
    info["greedy_objective"] = start_obj
    return red.cols[y], info, y.tolist()


def _capacity_checks(inp: Input, cap: FloatArray, config: Config) -> None:
    """Arithmetic before solving: totals, single communities, and isolated clusters."""
    act = inp.active
    keep = act[inp.ri]
    ri, cj = inp.ri[keep], inp.cj[keep]
    per100 = config.floor_area_m2_per_100_households
    reach_sites = np.unique(cj)
    demand = float(inp.hh[act].sum())
    total = float(cap[reach_sites].sum())
    if demand > total + 1e-9:
        msg = (
            f"infeasible: demand {demand:,.0f} households > total capacity {total:,.0f} "
            f"households of the {len(reach_sites)} candidate site(s) within reach "
            f"(floor area {total / 100 * per100:,.0f} m² at {per100:g} m² per 100 households; "
            f"{demand / 100 * per100:,.0f} m² needed)"
        )
        raise InfeasibleAllocationError(msg)
    best = np.zeros(inp.n)
    np.maximum.at(best, ri, cap[cj])
    too_big = np.flatnonzero(act & (inp.hh > best + 1e-9))
    if len(too_big):
        i = too_big[0]
        msg = (
            f"infeasible: {len(too_big)} communit(y/ies) need more than any candidate within "
            f"their threshold can hold ({list_ids(inp.community_ids[too_big])}); e.g. "
            f"{inp.community_ids[i]!r}: {inp.hh[i]:,.0f} households > {best[i]:,.0f} "
            f"(largest reachable site, {best[i] / 100 * per100:,.0f} m²)"
        )
        raise InfeasibleAllocationError(msg)
    # clusters of communities and sites joined by coverage pairs must each fit
    graph = sp.csr_matrix((np.ones(len(ri)), (ri, inp.n + cj)), shape=(inp.n + inp.m,) * 2)
    _, label = connected_components(graph, directed=False)
    com_label = label[: inp.n]
    site_label = label[inp.n :]
    need = np.bincount(com_label[act], weights=inp.hh[act], minlength=label.max() + 1)
    has = np.bincount(site_label[reach_sites], weights=cap[reach_sites], minlength=label.max() + 1)
    short = np.flatnonzero(need > has + 1e-9)
    if len(short):
        lab = short[0]
        members = np.flatnonzero(act & (com_label == lab))
        sites = reach_sites[site_label[reach_sites] == lab]
        msg = (
            f"infeasible: {len(short)} cluster(s) of communities need more than the sites they "
            f"can reach hold; e.g. communities {list_ids(inp.community_ids[members])} need "
            f"{need[lab]:,.0f} households > capacity {has[lab]:,.0f} of sites "
            f"{list_ids(inp.site_ids[sites])}"
        )
        raise InfeasibleAllocationError(msg)


def _greedy_capacitated(
    er: IntArray, ec: IntArray, et: FloatArray, h: FloatArray, cap: FloatArray
) -> tuple[list[int], IntArray]:
    """Open the site that can take the most unassigned households; fill it nearest first.

    Returns the opened sites and, per community, the pair (entry) it is assigned to or -1.
    """
    k, mm = len(h), len(cap)
    A = sp.csr_matrix((np.ones(len(er)), (er, ec)), shape=(k, mm))
    by_col = np.lexsort((et, ec))
    col_start = np.searchsorted(ec[by_col], np.arange(mm + 1))
    assigned = np.full(k, -1, dtype=np.int64)
    usable = np.ones(mm, dtype=bool)
    opened: list[int] = []
    while (assigned < 0).any() and usable.any():
        free = (assigned < 0).astype(float)
        reach = np.asarray(A.T @ (h * free)).ravel()
        count = np.asarray(A.T @ free).ravel()
        score = np.minimum(reach, cap) + 1e-6 * count
        score[~usable | (count == 0)] = -1.0
        j = int(np.argmax(score))
        if score[j] < 0:
            break
        usable[j] = False
        left = cap[j]
        took = False
        for e in by_col[col_start[j] : col_start[j + 1]].tolist():
            i = er[e]
            if assigned[i] < 0 and h[i] <= left + 1e-9:
                assigned[i] = e
                left -= h[i]
                took = True
        if took:
            opened.append(j)
    return opened, assigned


def solve_capacitated(  # noqa: PLR0915 (model, two stages and fallbacks read as one)
    inp: Input, solver: str, time_limit_s: float, mip_gap: float, config: Config
) -> tuple[IntArray, IntArray, FloatArray, dict[str, Any]]:
    """Returns chosen sites, and per community the assigned site (-1) and its minutes."""
    t0 = time.perf_counter()
    cap = cast("FloatArray", inp.capacity)
    _capacity_checks(inp, cap, config)
    act = inp.active
    keep = act[inp.ri]
    rows = np.flatnonzero(act)
    local = np.full(inp.n, -1, dtype=np.int64)
    local[rows] = np.arange(len(rows))
    sites = np.unique(inp.cj[keep])
    spos = np.full(inp.m, -1, dtype=np.int64)
    spos[sites] = np.arange(len(sites))
    er, ec, et = local[inp.ri[keep]], spos[inp.cj[keep]], inp.tmin[keep]
    k, mm, E = len(rows), len(sites), len(er)
    h, capl = inp.hh[rows], cap[sites]
    site_of = np.full(inp.n, -1, dtype=np.int64)
    minutes = np.full(inp.n, np.nan)
    sizes = {"rows": k, "columns": mm, "pairs": E}
    if k == 0:
        info = _solver_info(None, **sizes)
        info.update(method="none", status="trivial", optimal=True, mip_gap=0.0, objective=0.0)
        return np.zeros(0, np.int64), site_of, minutes, info
    g_open, g_assign = _greedy_capacitated(er, ec, et, h, capl)
    g_ok = bool((g_assign >= 0).all())
    method = resolve_solver(solver, E, "capacitated")
    x0: FloatArray | None = None
    if g_ok:
        x0 = np.zeros(mm + E)
        x0[g_open] = 1.0
        x0[mm + g_assign] = 1.0
    e_idx = np.arange(E)
    assign_rows = sp.csr_matrix((np.ones(E), (er, mm + e_idx)), shape=(k, mm + E))
    cap_rows = sp.csr_matrix(
        (
            np.concatenate([h[er], -capl]),
            (np.concatenate([ec, np.arange(mm)]), np.concatenate([mm + e_idx, np.arange(mm)])),
        ),
        shape=(mm, mm + E),
    )
    link_rows = sp.csr_matrix(
        (
            np.concatenate([np.ones(E), -np.ones(E)]),
            (np.concatenate([e_idx, e_idx]), np.concatenate([mm + e_idx, ec])),
        ),
        shape=(E, mm + E),
    )
    C = sp.vstack([assign_rows, cap_rows, link_rows]).tocsr()
    lo = np.concatenate([np.ones(k), np.full(mm + E, -np.inf)])
    hi = np.concatenate([np.ones(k), np.zeros(mm + E)])
    integer = np.ones(mm + E, dtype=bool)
    build_s = time.perf_counter() - t0
    notes: list[str] = []
    if method == "greedy":
        if not g_ok:
            msg = (
                f"the greedy heuristic left {int((g_assign < 0).sum())} communit(y/ies) "
                "unassigned; the problem may still be feasible: use solver='cbc' or 'highs'"
            )
            raise InfeasibleAllocationError(msg)
        x = cast("FloatArray", x0)
        info = _solver_info(None, objective=float(len(g_open)), build_seconds=build_s, **sizes)
    else:
        prob1 = Milp(
            np.concatenate([np.ones(mm), np.zeros(E)]), C, lo, hi, np.ones(mm + E), integer, x0
        )
        out1 = solve_milp(prob1, method, time_limit_s, mip_gap)
        if out1.x is None:
            if out1.infeasible:
                msg = (
                    f"infeasible: the solver ({out1.method}: {out1.status}) proved that the "
                    f"{k} communities ({h.sum():,.0f} households) cannot each be assigned "
                    f"whole to one of the {mm} reachable sites (capacity "
                    f"{capl.sum():,.0f} households) within their thresholds"
                )
            else:
                msg = (
                    f"no assignment found within {time_limit_s:g} s ({out1.status}); the "
                    f"greedy heuristic left {int((g_assign < 0).sum())} communit(y/ies) "
                    "unassigned; raise time_limit_s"
                )
            raise InfeasibleAllocationError(msg)
        x = out1.x
        info = _solver_info(out1, build_seconds=build_s, time_limit_s=time_limit_s, **sizes)
        info["greedy_objective"] = float(len(g_open)) if g_ok else float("nan")
        n_open = round(out1.objective)
        remaining = time_limit_s - out1.seconds
        if remaining >= 1.0:
            C2 = sp.vstack(
                [C, sp.csr_matrix((np.ones(mm), (np.zeros(mm), np.arange(mm))), shape=(1, mm + E))]
            ).tocsr()
            prob2 = Milp(
                np.concatenate([np.zeros(mm), et]),
                C2,
                np.concatenate([lo, [-np.inf]]),
                np.concatenate([hi, [float(n_open)]]),
                np.ones(mm + E),
                integer,
                x.copy(),
            )
            out2 = solve_milp(prob2, method, remaining, mip_gap, start_label="stage 1")
            if out2.x is not None:
                x = out2.x
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
        else:
            notes.append("second stage (least total travel time) skipped: no time left")
    if notes:
        info["note"] = "; ".join(notes)
    z = x[mm:] > 0.5  # noqa: PLR2004
    site_of[rows[er[z]]] = sites[ec[z]]
    minutes[rows[er[z]]] = et[z]
    # a site counts as proposed only if the assignment uses it
    chosen_local = np.unique(ec[z])
    return sites[chosen_local], site_of, minutes, info
