"""Benchmark: siting models (LSCP, MCLP) built from the sparse matrix, against spopt.

Central Hangzhou, walking at 4.5 km/h, 15-minute threshold. Demand: points sampled along the
walkable road segments (length-weighted, fixed seed, up to 30 m off the road), population
100-3,000 each (fixed seed); the 5,000-point case is the first 5,000 of the 20,000. Candidates:
network nodes drawn with a fixed seed; 500 and 2,000 are the first of the 5,000.

Per case (candidates x demand):

- **matrix**: ``coverage.engine.travel_time_matrix`` (bounded at 15 minutes), seconds;
- **ours**: ``propose_halls_from_cost_matrix`` on that sparse matrix, the whole call (exact
  reductions, greedy start, MILP, result tables), with ``solver="auto"`` (HiGHS for LSCP,
  CBC for MCLP) and a 60 s limit; the solver's own wall time, status, objective and MIP gap;
- **cross-check**: the same with the other exact solver, up to 2,000 x 20,000;
- **spopt**: ``LSCP.from_cost_matrix`` / ``MCLP.from_cost_matrix`` on the same coverage (a
  dense 0/2 matrix with radius 1, the coverable rows for LSCP) + ``solve`` with CBC, spopt's
  documented solver (``pulp.COIN_CMD`` on PuLP's bundled CBC, the same binary as
  ``PULP_CBC_CMD``); skipped where its predicted time (from the smallest case, linear in matrix
  cells) exceeds ``SPOPT_BUDGET_S``.

Run::

    python bench/bench_siting.py            # full run (~15 min), writes bench/results/siting.json
    python bench/bench_siting.py --quick    # smoke run (~2 min), writes .../siting_quick.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from _common import log

from coverage.engine import snap, travel_time_matrix
from coverage.network import Network, load_network
from coverage.samples import sample_path
from coverage.siting import cbc_available, propose_halls_from_cost_matrix

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
SEED = 20_241_127
THRESHOLD_MIN = 15.0
P_MCLP = 10
TIME_LIMIT_S = 60.0
SPOPT_BUDGET_S = 180.0
TOTAL_BUDGET_S = 12 * 60.0  # no spopt run that would end the bench later than this
N_DEMAND = 20_000
N_CANDIDATES = 5_000


def demand_points(net: Network, n: int, rng: np.random.Generator) -> gpd.GeoSeries:
    length = net.seg_length_m
    seg = rng.choice(len(length), size=n, p=length / length.sum())
    pts = shapely.line_interpolate_point(net.seg_geom[seg], rng.random(n), normalized=True)
    xy = shapely.get_coordinates(pts) + rng.uniform(-30, 30, (n, 2))
    return gpd.GeoSeries(shapely.points(xy), crs=net.crs).to_crs(4326)


def candidate_points(net: Network, n: int, rng: np.random.Generator) -> gpd.GeoSeries:
    nodes = rng.choice(net.n_nodes, size=n, replace=False)
    return gpd.GeoSeries(shapely.points(net.node_xy[nodes]), crs=net.crs).to_crs(4326)


def spopt_run(model: str, cover: np.ndarray, pop: np.ndarray) -> dict[str, Any]:
    import pulp  # noqa: PLC0415 (optional, benchmark only)
    from pulp.apis import coin_api  # noqa: PLC0415
    from spopt.locate import LSCP, MCLP  # noqa: PLC0415

    solver = pulp.COIN_CMD(path=coin_api.pulp_cbc_path, msg=False)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = np.where(cover, 0.0, 2.0)
        if model == "lscp":
            keep = cover.any(axis=1)
            m = LSCP.from_cost_matrix(dense[keep], service_radius=1.0)
        else:
            m = MCLP.from_cost_matrix(dense, pop, service_radius=1.0, p_facilities=P_MCLP)
        t1 = time.perf_counter()
        m = m.solve(solver)
    t2 = time.perf_counter()
    return {
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "total_s": t2 - t0,
        "objective": float(m.problem.objective.value()),
        "status": pulp.LpStatus[m.problem.status],
    }


def ours_run(model: str, cost: sp.csr_matrix, pop: np.ndarray, solver: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    r = propose_halls_from_cost_matrix(
        cost,
        pop,
        THRESHOLD_MIN,
        model=model,
        p=P_MCLP if model == "mclp" else None,
        solver=solver,
        time_limit_s=TIME_LIMIT_S,
    )
    total = time.perf_counter() - t0
    s = r.solver
    return {
        "total_s": total,
        "solver_s": s["seconds"],
        "method": s["method"],
        "status": s["status"],
        "optimal": bool(s["optimal"]),
        "objective": float(s["objective"]),
        "bound": float(s["bound"]),
        "mip_gap": float(s["mip_gap"]),
        "greedy_objective": float(s.get("greedy_objective", float("nan"))),
        "rows_merged": s.get("rows_merged"),
        "columns_merged": s.get("columns_merged"),
        "pairs": s.get("pairs"),
    }


def fmt_s(x: float | None) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def main() -> None:  # noqa: PLR0915
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small cases only (~2 min)")
    parser.add_argument("--table", type=Path, help="only print the tables of a results file")
    args = parser.parse_args()
    if args.table:
        saved = json.loads(args.table.read_text(encoding="utf-8"))
        print_tables(saved["cases"], saved.get("hard_mclp"))
        return
    if args.quick:
        cases = [(500, 5_000), (2_000, 5_000)]
        spopt_cases = {(500, 5_000)}
    else:
        cases = [
            (500, 5_000),
            (2_000, 5_000),
            (5_000, 5_000),
            (500, 20_000),
            (2_000, 20_000),
            (5_000, 20_000),
        ]
        spopt_cases = None  # decided by the predicted time
    try:
        import spopt  # noqa: F401, PLC0415

        have_spopt = True
    except ImportError:
        have_spopt = False
        log("spopt is not installed: spopt columns skipped (pip install spopt)")
    t0 = t_start = time.perf_counter()
    net = load_network(sample_path("hangzhou-central", "network"), mode="walk")
    log(f"network loaded in {time.perf_counter() - t0:.1f} s: {net.summary()}")
    rng = np.random.default_rng(SEED)
    dem = demand_points(net, N_DEMAND, rng)
    pop = rng.integers(100, 3_001, N_DEMAND).astype(float)
    cand = candidate_points(net, N_CANDIDATES, rng)
    d_snap = snap(net, dem)
    c_snap = snap(net, cand)
    rows: list[dict[str, Any]] = []
    spopt_rate: dict[str, float] = {}  # seconds per matrix cell, from the first spopt run
    for n_c, n_d in cases:
        case: dict[str, Any] = {"candidates": n_c, "demand": n_d}
        t = time.perf_counter()
        cost_s = travel_time_matrix(
            net,
            d_snap.take(np.arange(n_d)),
            c_snap.take(np.arange(n_c)),
            limit_s=THRESHOLD_MIN * 60,
        )
        case["matrix_s"] = time.perf_counter() - t
        cost = sp.csr_matrix((cost_s.data / 60, cost_s.indices, cost_s.indptr), shape=cost_s.shape)
        case["matrix_nnz"] = int(cost.nnz)
        case["density"] = cost.nnz / (n_c * n_d)
        w = pop[:n_d]
        log(f"{n_c} x {n_d}: matrix {case['matrix_s']:.2f} s, {cost.nnz:,} pairs")
        for model in ("lscp", "mclp"):
            res: dict[str, Any] = {}
            res["ours"] = ours_run(model, cost, w, "auto")
            log(f"  {model} ours: {res['ours']}")
            if n_c * n_d <= 2_000 * 20_000 and (not args.quick or n_c <= 500):
                other = "cbc" if res["ours"]["method"] == "highs" else "highs"
                res["other"] = ours_run(model, cost, w, other)
                log(f"  {model} {other}: {res['other']}")
            if have_spopt:
                cells = n_c * n_d
                predicted = spopt_rate.get(model, 0.0) * cells
                elapsed = time.perf_counter() - t_start
                run_it = (
                    (n_c, n_d) in spopt_cases
                    if spopt_cases is not None
                    else predicted <= SPOPT_BUDGET_S and elapsed + predicted <= TOTAL_BUDGET_S
                )
                if run_it:
                    cover = np.zeros((n_d, n_c), dtype=bool)
                    coo = cost.tocoo()
                    cover[coo.row, coo.col] = coo.data <= THRESHOLD_MIN + 1e-9
                    res["spopt"] = spopt_run(model, cover, w)
                    spopt_rate[model] = max(
                        spopt_rate.get(model, 0.0), res["spopt"]["total_s"] / cells
                    )
                    log(f"  {model} spopt: {res['spopt']}")
                else:
                    res["spopt"] = {
                        "skipped": f"predicted {predicted:.0f} s"
                        if spopt_cases is None
                        else "not in --quick"
                    }
                    log(f"  {model} spopt skipped: {res['spopt']['skipped']}")
            case[model] = res
        rows.append(case)
    hard: dict[str, Any] | None = None
    if not args.quick:
        # a hard maximal-covering case: many sites, p = 50, same time limit
        n_c, n_d = 2_000, 20_000
        cost_s = travel_time_matrix(
            net, d_snap, c_snap.take(np.arange(n_c)), limit_s=THRESHOLD_MIN * 60
        )
        cost = sp.csr_matrix((cost_s.data / 60, cost_s.indices, cost_s.indptr), shape=cost_s.shape)
        t = time.perf_counter()
        r = propose_halls_from_cost_matrix(
            cost, pop, THRESHOLD_MIN, model="mclp", p=50, time_limit_s=TIME_LIMIT_S
        )
        s = r.solver
        hard = {
            "candidates": n_c,
            "demand": n_d,
            "p": 50,
            "total_s": time.perf_counter() - t,
            "solver_s": s["seconds"],
            "method": s["method"],
            "status": s["status"],
            "objective": s["objective"],
            "bound": s["bound"],
            "mip_gap": s["mip_gap"],
            "greedy_objective": s["greedy_objective"],
        }
        log(f"hard case: {hard}")
    out = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg": os.getloadavg(),
        },
        "settings": {
            "threshold_min": THRESHOLD_MIN,
            "walk_kph": net.speed_kph,
            "p": P_MCLP,
            "time_limit_s": TIME_LIMIT_S,
            "seed": SEED,
            "cbc": cbc_available(),
        },
        "cases": rows,
        "hard_mclp": hard,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    name = "siting_quick.json" if args.quick else "siting.json"
    (RESULTS_DIR / name).write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    print_tables(rows, hard)


def short(status: str, optimal: bool) -> str:
    if optimal:
        return "optimal"
    return "time limit" if "time" in status.lower() else status


def print_tables(rows: list[dict[str, Any]], hard: dict[str, Any] | None) -> None:
    print(
        "| candidates × demand | pairs (density) | matrix | model | ours: total | "
        "ours: solver | status | gap | objective | greedy | other solver (cross-check) | spopt | "
        "spopt objective | spopt / ours | spopt / (ours + matrix) |"
    )
    print("|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in rows:
        for model in ("lscp", "mclp"):
            r = c[model]
            o = r["ours"]
            sp_ = r.get("spopt", {})
            hi = r.get("other")
            hi_txt = (
                f"{hi['method']}: {fmt_s(hi['total_s'])}, "
                f"{short(hi['status'], hi['optimal'])}, obj. {hi['objective']:,.0f}"
                if hi
                else "–"
            )
            if "total_s" in sp_:
                sp_txt = fmt_s(sp_["total_s"])
                sp_obj = f"{sp_['objective']:,.0f}"
                ratio = f"{sp_['total_s'] / o['total_s']:.1f}×"
                ratio2 = f"{sp_['total_s'] / (o['total_s'] + c['matrix_s']):.1f}×"
            else:
                sp_txt = f"skipped ({sp_.get('skipped', 'not installed')})"
                sp_obj = ratio = ratio2 = "–"
            label = "LSCP" if model == "lscp" else f"MCLP p={P_MCLP}"
            print(
                f"| {c['candidates']:,} × {c['demand']:,} | {c['matrix_nnz']:,} "
                f"({c['density']:.2%}) | {fmt_s(c['matrix_s'])} | {label} | "
                f"{fmt_s(o['total_s'])} | {fmt_s(o['solver_s'])} | {o['method']}: "
                f"{short(o['status'], o['optimal'])} | {o['mip_gap']:.2%} | "
                f"{o['objective']:,.0f} | "
                f"{o['greedy_objective']:,.0f} | {hi_txt} | {sp_txt} | {sp_obj} | {ratio} | "
                f"{ratio2} |"
            )
    if hard:
        print()
        print(
            f"Hard MCLP: {hard['candidates']:,} × {hard['demand']:,}, p = {hard['p']}: "
            f"{hard['method']} {hard['status']!r} after {fmt_s(hard['solver_s'])} "
            f"(total {fmt_s(hard['total_s'])}), objective {hard['objective']:,.0f}, "
            f"bound {hard['bound']:,.0f}, gap {hard['mip_gap']:.2%}; greedy "
            f"{hard['greedy_objective']:,.0f}"
        )


if __name__ == "__main__":
    main()
