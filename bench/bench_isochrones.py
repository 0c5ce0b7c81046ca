"""Benchmark: isochrone polygons, ours against the osmnx-examples approach.

Central Hangzhou, walking at 4.5 km/h, bands of 15 and 20 minutes, 200 and 1,000 halls (a
fixed-seed sample of points along the walkable roads; the 200 are the first 200 of the 1,000):

- **ours**: ``coverage.isochrones.isochrones(net, halls, minutes=(15, 20), buffer_m=25)``, the
  whole call (snapping, bounded Dijkstra, partial roads, polygons, nesting, EPSG:4326 output)
  with the default ``method="grid"`` (12.5 m cells);
- **ours, exact**: the same call with ``method="exact"`` (the exact buffer of the reached
  roads, built in GEOS);
- **ego-graph + convex hull** (the osmnx isochrone example): per hall and band,
  ``networkx.ego_graph(G, nearest_node, radius=band, distance="time")`` on the projected,
  undirected walk graph, then the convex hull of the reached nodes;
- **ego-graph + edge buffers** (the example's ``make_iso_polys`` variant): the same ego graphs,
  then the union of the reached edges buffered by 25 m (whole edges only: partly reached roads
  are left out, there is no such notion in an ego graph);
- **naive recipe** (``--with-naive``; an ablation of the exact method): the same routing and
  partial roads, but every reached road piece buffered on its own and dissolved per hall with
  ``shapely.union_all``; it shows why the exact method buffers a thin network polygon once.

Peers route on the same walkable edges as ours. A run predicted to take longer than about five
minutes is timed on a subset of the halls and scaled linearly (marked "extrapolated").

Also reported: the area the convex hull claims that ours does not (land between roads that
is far from any reached road, and land past the end of partly reached roads), per band; and
how far the grid polygons are from the exact ones (area ratio, symmetric difference).

Run::

    python bench/bench_isochrones.py            # full run, writes bench/results/isochrones.json
    python bench/bench_isochrones.py --quick    # smoke run, bench/results/isochrones_quick.json
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

import coverage.isochrones as iso_mod
from coverage.config import DEFAULT_CONFIG
from coverage.engine import _augmented, snap
from coverage.isochrones import isochrones
from coverage.network import Network, load_network

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]
NETWORK_NAME = "hangzhou_central_drive_osrm2024.graphml.gz"
NETWORK_CANDIDATES = [
    ROOT / "data" / "raw" / NETWORK_NAME,
    Path("/work/shared/data/hangzhou") / NETWORK_NAME,
    ROOT.parent / "shared" / "data" / "hangzhou" / NETWORK_NAME,
]
RESULTS_DIR = ROOT / "bench" / "results"

SEED = 20_241_127
BANDS_MIN = (15.0, 20.0)
BUFFER_M = 25.0
WALK_KPH = DEFAULT_CONFIG.speeds_kph["walk"]
BUDGET_S = 300.0  # a peer run predicted longer than this is timed on a subset and scaled
TARGET_RATIO = 50.0  # ours at least 50x faster than the peer at 1,000 halls
TARGET_HALLS = 1000
TARGET_OURS_S = 10.0  # ours "well under 10 s" at 1,000 halls on 2 cores
OVERCLAIM_HALLS = 200  # halls used for the area comparison


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], float, Any]:
    """Median wall time, all wall times, median CPU time (all threads) and the last result."""
    walls: list[float] = []
    cpus: list[float] = []
    out = None
    for _ in range(repeats):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), walls, statistics.median(cpus), out


def fmt_s(s: float | None) -> str:
    if s is None or not np.isfinite(s):
        return "n/a"
    return f"{s * 1000:.0f} ms" if s < 1.0 else f"{s:.2f} s"


def fmt_x(r: float | None) -> str:
    if r is None or not np.isfinite(r):
        return "n/a"
    return f"{r:,.0f}×" if r >= 10 else f"{r:.2f}×"


def network_path() -> Path:
    for p in NETWORK_CANDIDATES:
        if p.exists():
            return p
    msg = f"network file {NETWORK_NAME} not found in: " + ", ".join(map(str, NETWORK_CANDIDATES))
    raise SystemExit(msg)


def make_halls(net: Network, n: int) -> gpd.GeoDataFrame:
    """``n`` halls on walkable segments (length-weighted, fixed seed); nested prefixes."""
    rng = np.random.default_rng(SEED)
    lengths = net.seg_length_m
    idx = rng.choice(len(lengths), size=n, p=lengths / lengths.sum())
    pts = shapely.line_interpolate_point(net.seg_geom[idx], rng.random(n), normalized=True)
    return gpd.GeoDataFrame(
        {"hall_id": [f"H{i:04d}" for i in range(n)]},
        geometry=gpd.GeoSeries(pts, crs=net.crs).to_crs(4326).values,
        crs=4326,
    )


# --------------------------------------------------------------------------------------------
# ours, and the naive recipe (ablation)


def ours(net: Network, halls: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return isochrones(net, halls, minutes=BANDS_MIN, buffer_m=BUFFER_M)


def ours_exact(net: Network, halls: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return isochrones(net, halls, minutes=BANDS_MIN, buffer_m=BUFFER_M, method="exact")


def grid_vs_exact(net: Network, grid: gpd.GeoDataFrame, exact: gpd.GeoDataFrame) -> dict[str, Any]:
    """Area ratio and symmetric difference of the grid polygons against the exact ones."""
    g = grid.to_crs(net.crs).geometry.array
    e = exact.to_crs(net.crs).geometry.array
    ratio = shapely.area(g) / shapely.area(e)
    sym = shapely.area(shapely.symmetric_difference(g, e)) / shapely.area(e)
    return {
        "polygons": len(g),
        "area_ratio_mean": float(np.mean(ratio)),
        "area_ratio_min": float(np.min(ratio)),
        "area_ratio_max": float(np.max(ratio)),
        "symmetric_difference_share_mean": float(np.mean(sym)),
        "grid_vertices_per_polygon": float(np.mean(shapely.get_num_coordinates(g))),
        "exact_vertices_per_polygon": float(np.mean(shapely.get_num_coordinates(e))),
    }


def routing_only(net: Network, halls: gpd.GeoDataFrame) -> int:
    """The routing part of ours alone: snap + bounded Dijkstra in chunks (as the grid method)."""
    s = snap(net, halls.geometry)
    mat, src = _augmented(net, s, to_facility=False)
    reached = 0
    step = iso_mod.GRID_CHUNK
    for i in range(0, len(src), step):
        d = dijkstra(mat, indices=src[i : i + step], limit=max(BANDS_MIN) * 60)
        reached += int(np.isfinite(d).sum())
    return reached


def naive(net: Network, halls: gpd.GeoDataFrame) -> list[list[Any]]:
    """Same routing and partial roads, but each piece buffered and dissolved with union_all."""
    s = snap(net, halls.geometry)
    ok = np.flatnonzero(s.ok)
    own = s.take(ok)
    mat, src = _augmented(net, s, to_facility=False)
    sc = iso_mod._segment_coords(net.seg_geom)  # noqa: SLF001
    seg_buf = shapely.buffer(net.seg_geom, BUFFER_M, quad_segs=iso_mod.QUAD_SEGS)
    out: list[list[Any]] = []
    for i in range(len(ok)):
        d = dijkstra(mat, indices=src[i], limit=max(BANDS_MIN) * 60)[: net.n_nodes]
        tu, tv = d[net.seg_u], d[net.seg_v]
        prev = None
        polys = []
        for band in BANDS_MIN:
            b = band * 60
            fu = iso_mod._reach(b - tu, net.seg_fwd_s)  # noqa: SLF001
            fv = iso_mod._reach(b - tv, net.seg_bwd_s)  # noqa: SLF001
            whole = np.flatnonzero(fu + fv >= 1)
            pu = np.flatnonzero((fu + fv < 1) & (fu > 0))
            pv = np.flatnonzero((fu + fv < 1) & (fv > 0))
            left = b - own.access_s[i]
            t, sg = own.frac[i], own.seg[i]
            a = max(0.0, t - max(left, 0) / net.seg_bwd_s[sg])
            e = min(1.0, t + max(left, 0) / net.seg_fwd_s[sg])
            segs = np.r_[pu, pv, sg]
            start = np.r_[np.zeros(len(pu)), 1 - fv[pv], a]
            end = np.r_[fu[pu], np.ones(len(pv)), e]
            lines = iso_mod._cut(sc, segs, start, end)  # noqa: SLF001
            parts = np.concatenate([seg_buf[whole], shapely.buffer(lines, BUFFER_M, quad_segs=4)])
            poly = shapely.union_all(parts)
            if prev is not None:
                poly = shapely.union(prev, poly)
            polys.append(poly)
            prev = poly
        out.append(polys)
    return out


# --------------------------------------------------------------------------------------------
# the osmnx-examples approach


def ego_prepare(net: Network) -> nx.MultiGraph:
    """Projected, undirected walk graph with a ``time`` (seconds) edge attribute.

    The edges kept are exactly the node pairs of our walk routing view, so every method routes
    on the same roads.
    """
    import osmnx as ox  # noqa: PLC0415

    Gp = ox.project_graph(net.G, to_crs=net.crs)
    ids = net.node_ids
    walk_pairs = set(zip(ids[net.seg_u].tolist(), ids[net.seg_v].tolist(), strict=True))
    walk_pairs |= {(v, u) for u, v in walk_pairs}
    drop = [(u, v, k) for u, v, k in Gp.edges(keys=True) if (u, v) not in walk_pairs]
    Gp.remove_edges_from(drop)
    Gp.remove_nodes_from([n for n, d in Gp.degree() if d == 0])
    Gu = ox.convert.to_undirected(Gp)
    mps = WALK_KPH / 3.6
    for _, _, data in Gu.edges(data=True):
        data["time"] = data["length"] / mps
    return Gu


def ego_centres(net: Network, Gu: nx.MultiGraph, halls: gpd.GeoDataFrame) -> list[Any]:
    import osmnx as ox  # noqa: PLC0415

    xy = shapely.get_coordinates(halls.geometry.to_crs(net.crs).values)
    return np.atleast_1d(ox.distance.nearest_nodes(Gu, xy[:, 0], xy[:, 1])).tolist()


def ego_hulls(net: Network, Gu: nx.MultiGraph, halls: gpd.GeoDataFrame) -> list[list[Any]]:
    out = []
    for node in ego_centres(net, Gu, halls):
        row = []
        for band in BANDS_MIN:
            sub = nx.ego_graph(Gu, node, radius=band * 60, distance="time")
            xy = [(d["x"], d["y"]) for _, d in sub.nodes(data=True)]
            row.append(shapely.MultiPoint(xy).convex_hull)
        out.append(row)
    return out


def ego_edge_buffers(net: Network, Gu: nx.MultiGraph, halls: gpd.GeoDataFrame) -> list[list[Any]]:
    out = []
    for node in ego_centres(net, Gu, halls):
        row = []
        for band in BANDS_MIN:
            sub = nx.ego_graph(Gu, node, radius=band * 60, distance="time")
            lines = []
            for u, v, data in sub.edges(data=True):
                geom = data.get("geometry")
                if geom is None:
                    a, b = sub.nodes[u], sub.nodes[v]
                    geom = shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])
                lines.append(geom)
            bufs = shapely.buffer(np.asarray(lines, dtype=object), BUFFER_M)
            row.append(shapely.union_all(bufs))
        out.append(row)
    return out


def run_slow(
    name: str, fn: Callable[[gpd.GeoDataFrame], Any], halls: gpd.GeoDataFrame, repeats: int
) -> dict[str, Any]:
    """Time a slow method, on a subset scaled linearly when the full run would be too long."""
    n = len(halls)
    pilot = min(n, 10)
    t0 = time.perf_counter()
    fn(halls.iloc[:pilot])
    per_hall = (time.perf_counter() - t0) / pilot
    predicted = per_hall * n
    log(f"  {name}: pilot {per_hall * 1000:.0f} ms per hall, {n} halls predicted {predicted:.0f} s")
    if predicted > BUDGET_S:
        k = max(pilot, min(n, int(BUDGET_S / 2 / per_hall)))
        med, walls, cpu, _ = timed(lambda: fn(halls.iloc[:k]), 1)
        return {
            "extrapolated": True,
            "halls_timed": k,
            "measured_s": med,
            "median_s": med * n / k,
            "cpu_s": cpu * n / k,
            "times_s": walls,
            "repeats": 1,
            "pilot_s_per_hall": per_hall,
        }
    reps = repeats if predicted * repeats < BUDGET_S else 1
    med, walls, cpu, _ = timed(lambda: fn(halls), reps)
    return {
        "extrapolated": False,
        "halls_timed": n,
        "median_s": med,
        "cpu_s": cpu,
        "times_s": walls,
        "repeats": reps,
        "pilot_s_per_hall": per_hall,
    }


# --------------------------------------------------------------------------------------------
# area comparison


def overclaim(
    net: Network, ours_iso: gpd.GeoDataFrame, hulls: list[list[Any]], halls: gpd.GeoDataFrame
) -> dict[str, Any]:
    """How much area the convex hulls claim that ours does not, and the other way round."""
    metric = ours_iso.to_crs(net.crs)
    out: dict[str, Any] = {"halls": len(hulls)}
    for k, band in enumerate(BANDS_MIN):
        mine = metric[metric["band_min"] == band].set_index("hall_id").geometry
        ours_g = mine.reindex(halls["hall_id"]).to_numpy()
        hull_g = np.asarray([h[k] for h in hulls], dtype=object)
        hull_a = shapely.area(hull_g)
        ours_a = shapely.area(ours_g)
        extra = shapely.area(shapely.difference(hull_g, ours_g))
        missing = shapely.area(shapely.difference(ours_g, hull_g))
        share = extra / np.where(hull_a > 0, hull_a, np.nan)
        out[f"{band:g}"] = {
            "hull_area_km2_mean": float(np.mean(hull_a) / 1e6),
            "ours_area_km2_mean": float(np.mean(ours_a) / 1e6),
            "hull_not_ours_share_median": float(np.nanmedian(share)),
            "hull_not_ours_share_of_total": float(extra.sum() / hull_a.sum()),
            "hull_not_ours_km2_mean": float(np.mean(extra) / 1e6),
            "ours_not_hull_share_of_ours": float(missing.sum() / ours_a.sum()),
        }
    return out


# --------------------------------------------------------------------------------------------
# the run


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: fewer halls and repeats")
    ap.add_argument("--out", type=Path, default=None, help="JSON results file")
    ap.add_argument("--with-naive", action="store_true", help="also time the naive recipe (slow)")
    args = ap.parse_args(argv)
    logging.getLogger("osmnx").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)
    hall_counts = (20, 50) if args.quick else (200, 1000)
    repeats = 1 if args.quick else 3
    out_path = args.out or RESULTS_DIR / (
        "isochrones_quick.json" if args.quick else "isochrones.json"
    )
    t_start = time.perf_counter()
    load_before = os.getloadavg()

    path = network_path()
    log(f"loading {path} ...")
    t0 = time.perf_counter()
    net = load_network(path, mode="walk")
    load_s = time.perf_counter() - t0
    summary = net.summary()
    log(f"network: {summary}")
    halls_all = make_halls(net, max(hall_counts))

    # warm-up: the STRtree of the segments and, for the peers, the projected graph
    ours(net, halls_all.iloc[:5])
    log("ego-graph: projecting and preparing the graph ...")
    t0 = time.perf_counter()
    Gu = ego_prepare(net)
    ego_prep_s = time.perf_counter() - t0

    rows: list[dict[str, Any]] = []
    for n in hall_counts:
        hal = halls_all.iloc[:n]
        log(f"{n} halls: ours ...")
        o_s, o_t, o_cpu, o_iso = timed(lambda h=hal: ours(net, h), repeats)
        o1_s, _, o1_cpu, _ = timed(
            lambda h=hal: isochrones(net, h, minutes=BANDS_MIN, buffer_m=BUFFER_M, n_jobs=1), 1
        )
        r_s, _, _, _ = timed(lambda h=hal: routing_only(net, h), repeats)
        row: dict[str, Any] = {
            "halls": n,
            "ours_s": o_s,
            "ours_times_s": o_t,
            "ours_cpu_s": o_cpu,
            "ours_1_thread_s": o1_s,
            "ours_1_thread_cpu_s": o1_cpu,
            "ours_routing_only_s": r_s,
            "ours_vertices_per_polygon": float(
                np.mean(shapely.get_num_coordinates(o_iso.geometry.values))
            ),
        }
        log(f"{n} halls: ours {o_s:.2f} s (cpu {o_cpu:.2f} s); exact method ...")
        row["exact"] = run_slow("exact", lambda h: ours_exact(net, h), hal, repeats)
        if args.with_naive:
            log(f"{n} halls: naive recipe ...")
            row["naive"] = run_slow("naive", lambda h: naive(net, h), hal, repeats)
        log(f"{n} halls: ego-graph + convex hull ...")
        row["ego_hull"] = run_slow("ego+hull", lambda h: ego_hulls(net, Gu, h), hal, repeats)
        log(f"{n} halls: ego-graph + edge buffers ...")
        row["ego_buffers"] = run_slow(
            "ego+buffers", lambda h: ego_edge_buffers(net, Gu, h), hal, repeats
        )
        for key in ("exact", "naive", "ego_hull", "ego_buffers"):
            if key in row:
                row[f"{key}_over_ours"] = row[key]["median_s"] / o_s
        rows.append(row)
        if n == max(hall_counts):
            k = min(n, OVERCLAIM_HALLS)
            hulls = ego_hulls(net, Gu, hal.iloc[:k])
            row["overclaim"] = overclaim(net, o_iso, hulls, hal.iloc[:k])
            row["grid_vs_exact"] = grid_vs_exact(
                net, ours(net, hal.iloc[:k]), ours_exact(net, hal.iloc[:k])
            )

    total_s = time.perf_counter() - t_start
    results: dict[str, Any] = {
        "benchmark": "isochrones",
        "quick": args.quick,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_at_start": load_before,
            "loadavg_at_end": os.getloadavg(),
            "networkx": nx.__version__,
            "geopandas": gpd.__version__,
            "shapely": shapely.__version__,
            "geos": ".".join(map(str, shapely.geos_version)),
        },
        "network": {"path": str(path), "load_s": load_s, **summary},
        "halls": {"sampling": f"length-weighted points on walkable segments, seed {SEED}"},
        "bands_min": list(BANDS_MIN),
        "buffer_m": BUFFER_M,
        "walk_kph": WALK_KPH,
        "setup": {"ego_graph_prep_s": ego_prep_s},
        "rows": rows,
        "total_run_s": total_s,
    }
    import osmnx as ox  # noqa: PLC0415

    results["machine"]["osmnx"] = ox.__version__
    results["targets"] = targets(rows)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(render(results))
    log(f"wrote {out_path} (total {total_s:.0f} s)")
    return 0


def targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    at = [r for r in rows if r["halls"] == TARGET_HALLS]
    if not at:
        return {}
    r = at[0]
    return {
        "ours_under_10s_at_1000": {"ours_s": r["ours_s"], "met": r["ours_s"] < TARGET_OURS_S},
        "50x_vs_ego_hull_at_1000": {
            "ratio": r["ego_hull_over_ours"],
            "met": r["ego_hull_over_ours"] >= TARGET_RATIO,
            "extrapolated": r["ego_hull"]["extrapolated"],
        },
        "50x_vs_ego_buffers_at_1000": {
            "ratio": r["ego_buffers_over_ours"],
            "met": r["ego_buffers_over_ours"] >= TARGET_RATIO,
            "extrapolated": r["ego_buffers"]["extrapolated"],
        },
    }


def _peer(p: dict[str, Any]) -> str:
    t = fmt_s(p["median_s"])
    return t + " (extrapolated)" if p["extrapolated"] else t


def render(res: dict[str, Any]) -> str:
    net = res["network"]
    m = res["machine"]
    lines = [
        f"## Isochrones benchmark{' (quick)' if res['quick'] else ''}",
        "",
        (
            f"Network: {Path(net['path']).name}, walk at {res['walk_kph']} km/h, "
            f"{net['nodes']:,} nodes, {net['segments']:,} walkable segments; bands "
            f"{', '.join(f'{b:g}' for b in res['bands_min'])} min, buffer {res['buffer_m']:g} m. "
            f"Medians of repeated runs; {m['cpus']}-core machine, load average "
            f"{m['loadavg_at_start'][0]:.1f} at the start and {m['loadavg_at_end'][0]:.1f} at "
            "the end."
        ),
        "",
        (
            "| halls | ours (grid) | ours, CPU | ours, 1 thread | ours: routing only "
            "| ours, exact method | ego-graph + hull | ego-graph + edge buffers | exact / ours "
            "| hull / ours | edge buffers / ours |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for r in res["rows"]:
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{r['halls']:,}",
                    fmt_s(r["ours_s"]),
                    fmt_s(r["ours_cpu_s"]),
                    fmt_s(r["ours_1_thread_s"]),
                    fmt_s(r["ours_routing_only_s"]),
                    _peer(r["exact"]),
                    _peer(r["ego_hull"]),
                    _peer(r["ego_buffers"]),
                    fmt_x(r["exact_over_ours"]),
                    fmt_x(r["ego_hull_over_ours"]),
                    fmt_x(r["ego_buffers_over_ours"]),
                ]
            )
            + " |"
        )
        if "naive" in r:
            notes.append(
                f"{r['halls']:,} halls, naive recipe (ablation of the exact method): "
                f"{_peer(r['naive'])}, {fmt_x(r['naive_over_ours'])} the grid method's time."
            )
        for key, label in (
            ("exact", "exact method"),
            ("naive", "naive recipe"),
            ("ego_hull", "ego-graph + hull"),
            ("ego_buffers", "ego-graph + edge buffers"),
        ):
            p = r.get(key)
            if p and p["extrapolated"]:
                notes.append(
                    f"{r['halls']:,} halls, {label}: timed on the first {p['halls_timed']} halls "
                    f"({fmt_s(p['measured_s'])}) and scaled linearly."
                )
    lines += ["", *(f"- {n}" for n in notes)] if notes else []
    over = [r for r in res["rows"] if "overclaim" in r][-1]["overclaim"]
    lines += [
        "",
        (
            f"Area on {over['halls']} halls (metric CRS): convex hull of the ego graph's nodes "
            "against ours."
        ),
        "",
        (
            "| band | hull, mean km² | ours, mean km² | hull area not in ours (median per hall) "
            "| hull area not in ours (total) | our area not in the hull |"
        ),
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for band in res["bands_min"]:
        o = over[f"{band:g}"]
        lines.append(
            f"| {band:g} min | {o['hull_area_km2_mean']:.2f} | {o['ours_area_km2_mean']:.2f} "
            f"| {o['hull_not_ours_share_median']:.0%} | {o['hull_not_ours_share_of_total']:.0%} "
            f"| {o['ours_not_hull_share_of_ours']:.1%} |"
        )
    ge = [r for r in res["rows"] if "grid_vs_exact" in r]
    if ge:
        q = ge[-1]["grid_vs_exact"]
        lines += [
            "",
            (
                f"Grid against exact polygons ({q['polygons']} polygons, the first "
                f"{q['polygons'] // len(res['bands_min'])} halls): area ratio "
                f"{q['area_ratio_mean']:.3f} (min {q['area_ratio_min']:.3f}, max "
                f"{q['area_ratio_max']:.3f}); symmetric difference "
                f"{q['symmetric_difference_share_mean']:.1%} of the exact area; vertices per "
                f"polygon {q['grid_vertices_per_polygon']:,.0f} (exact "
                f"{q['exact_vertices_per_polygon']:,.0f})."
            ),
        ]
    t = res.get("targets", {})
    if t:
        lines += [
            "",
            (
                f"Targets at {TARGET_HALLS:,} halls: ours under {TARGET_OURS_S:g} s: "
                f"{'MET' if t['ours_under_10s_at_1000']['met'] else 'NOT MET'}; "
                f"{TARGET_RATIO:g}× faster than ego-graph + hull: "
                f"{'MET' if t['50x_vs_ego_hull_at_1000']['met'] else 'NOT MET'} "
                f"({fmt_x(t['50x_vs_ego_hull_at_1000']['ratio'])}); than ego-graph + edge "
                f"buffers: {'MET' if t['50x_vs_ego_buffers_at_1000']['met'] else 'NOT MET'} "
                f"({fmt_x(t['50x_vs_ego_buffers_at_1000']['ratio'])})."
            ),
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
