"""Benchmark: city and province scale, on scaled (tiled) copies of central Hangzhou.

No openly licensed province-size network is bundled, so the large networks here are
**scaled (tiled) networks**: copies of the real central-Hangzhou EdgeTable (14,469 nodes),
each shifted by the network's width or height in metric coordinates (EPSG:32651) and laid
out in a grid, with a few connector edges between neighbouring tiles so the whole is one
network. Communities, halls and the illustrative district polygons are tiled the same way and
then sampled to the wanted counts. The street pattern is real; its repetition is not.

Measured (medians of repeats; every full audit runs in a fresh process):

- **full audit**, a planner's second run of the same network: a first run (its own process,
  timed but not the target) reads the .npz network table, builds the routing view and stores
  it next to the table; the measured run, in a fresh process, reads the stored routing view
  (``load_cached_network``) → ``audit()`` (snap communities and halls, nearest hall for all,
  reasons, hall and district tables); wall time and the process's peak resident memory
  (``ru_maxrss``), with a stage breakdown measured on a later pass. Also measured: the same
  without a stored view (``EdgeTable.load`` → ``build_routing`` → ``audit()``);
- **nearest-hall pass vs bare Dijkstra**: ``nearest_facility()`` against
  ``scipy.sparse.csgraph.dijkstra(csr, indices=hall_nodes, min_only=True)`` on the same CSR;
- **networkx**: ``multi_source_dijkstra_path_length`` from the same hall nodes on a
  ``DiGraph`` built from the same CSR (distances checked against scipy's);
- **network cache**: first load (parse the GraphML) vs cached load (read the .npz) of the
  real network;
- **batch**: ``run_batch`` serial vs a 2-worker dask ``LocalCluster`` on hangzhou-central
  (5 districts) and on the ~100k-node scaled network (35 districts).

Run::

    python bench/bench_scale.py            # full run (~10 min), writes bench/results/scale.json
    python bench/bench_scale.py --quick    # smoke run (~2 min), writes scale_quick.json
    python bench/bench_scale.py --only-full --sizes 1M   # only the 1M full-audit rows
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import pickle
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy
import shapely
from _common import RESULTS_DIR, central_network, log, timed
from scipy.spatial import cKDTree

from coverage.config import DEFAULT_CONFIG
from coverage.network import (
    EdgeTable,
    Network,
    build_routing,
    load_cached_network,
    load_network,
)

ROOT = Path(__file__).resolve().parents[1]
METRIC_CRS = "EPSG:32651"  # UTM 51N, where central Hangzhou lies
SEED = 20_241_127
CONNECTORS_PER_BORDER = 8
LABEL = "scaled (tiled) network"

#: name -> (tiles, communities, halls)
SIZES: dict[str, tuple[int, int, int]] = {
    "100k": (7, 2_000, 200),
    "1M": (69, 20_000, 2_000),
}

TARGET_AUDIT_S = 10.0
TARGET_MEMORY_MB = 4096.0
TARGET_NEAREST_RATIO = 2.0
TARGET_CACHE_RATIO = 10.0


def cfg_walk() -> Any:
    return DEFAULT_CONFIG.replace(mode="walk", metric_crs=METRIC_CRS)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with Path("/proc/self/statm").open() as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def median(xs: list[float]) -> float:
    return statistics.median(xs)


# --------------------------------------------------------------------------------------------
# tiling


def tile_layout(n_tiles: int) -> list[tuple[int, int]]:
    cols = math.ceil(math.sqrt(n_tiles))
    return [(k % cols, k // cols) for k in range(n_tiles)]


def tile_table(  # noqa: PLR0915
    base: EdgeTable, net: Network, n_tiles: int
) -> tuple[EdgeTable, dict[str, Any]]:
    """``n_tiles`` shifted copies of ``base`` plus connector edges between neighbours."""
    to_m = pyproj.Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
    to_ll = pyproj.Transformer.from_crs(METRIC_CRS, 4326, always_xy=True)
    x, y = to_m.transform(base.lon, base.lat)
    gx, gy = to_m.transform(base.geom_coords[:, 0], base.geom_coords[:, 1])
    width, height = float(x.max() - x.min()), float(y.max() - y.min())
    layout = tile_layout(n_tiles)
    n, m = len(base.node_ids), len(base.u)
    shift_x = np.array([c * width for c, _ in layout])
    shift_y = np.array([r * height for _, r in layout])
    # nodes
    X = (x[None, :] + shift_x[:, None]).ravel()
    Y = (y[None, :] + shift_y[:, None]).ravel()
    lon, lat = to_ll.transform(X, Y)
    if base.node_ids.dtype.kind in "iu":
        step = int(base.node_ids.max()) + 1
        ids = (base.node_ids[None, :] + step * np.arange(n_tiles)[:, None]).ravel()
    else:
        ids = np.array([f"{k}:{i}" for k in range(n_tiles) for i in base.node_ids.tolist()])
    offs = (np.arange(n_tiles) * n)[:, None]
    u = (base.u[None, :] + offs).ravel()
    v = (base.v[None, :] + offs).ravel()
    GX = (gx[None, :] + shift_x[:, None]).ravel()
    GY = (gy[None, :] + shift_y[:, None]).ravel()
    glon, glat = to_ll.transform(GX, GY)
    gidx = (base.geom_index[None, :] + (np.arange(n_tiles) * m)[:, None]).ravel()

    # connectors: per shared border, CONNECTORS_PER_BORDER pairs of walkable nodes of the
    # largest component, the outermost node of each band on either side
    main = np.bincount(net.component).argmax()
    ok = np.zeros(n, dtype=bool)
    ok[np.flatnonzero(net.component == main)] = True
    walk_nodes = np.zeros(n, dtype=bool)
    walk_nodes[net.seg_u] = True
    walk_nodes[net.seg_v] = True
    ok &= walk_nodes
    cand = np.flatnonzero(ok)
    pairs: list[tuple[int, int]] = []
    where = {pos: k for k, pos in enumerate(layout)}
    for k, (c, r) in enumerate(layout):
        for dc, dr in ((1, 0), (0, 1)):
            j = where.get((c + dc, r + dr))
            if j is None:
                continue
            # tile j is tile k moved by (width, 0) or (0, height)
            sx, sy = dc * width, dr * height
            along = y if dc else x
            lo, hi = along[cand].min(), along[cand].max()
            edges = np.linspace(lo, hi, CONNECTORS_PER_BORDER + 1)
            for b in range(CONNECTORS_PER_BORDER):
                band = cand[(along[cand] >= edges[b]) & (along[cand] <= edges[b + 1])]
                if len(band) == 0:
                    continue
                # the closest pair (a in tile k, b in tile j) across the border in this band
                tree = cKDTree(np.column_stack([x[band], y[band]]))
                d, nearest = tree.query(np.column_stack([x[band] + sx, y[band] + sy]))
                best = int(np.argmin(d))
                pairs.append((k * n + int(band[nearest[best]]), j * n + int(band[best])))
    pa = np.array([p[0] for p in pairs], dtype=np.int64)
    pb = np.array([p[1] for p in pairs], dtype=np.int64)
    cu, cv = np.concatenate([pa, pb]), np.concatenate([pb, pa])
    clen = np.hypot(X[cu] - X[cv], Y[cu] - Y[cv])
    k_con = len(cu)
    c_coords = np.column_stack(
        [np.column_stack([lon[cu], lat[cu]]), np.column_stack([lon[cv], lat[cv]])]
    ).reshape(-1, 2)
    c_gidx = np.repeat(np.arange(k_con) + n_tiles * m, 2)

    table = EdgeTable(
        node_ids=ids,
        lon=np.asarray(lon),
        lat=np.asarray(lat),
        u=np.concatenate([u, cu]),
        v=np.concatenate([v, cv]),
        length_m=np.concatenate([np.tile(base.length_m, n_tiles), clen]),
        geom_coords=np.vstack([np.column_stack([glon, glat]), c_coords]),
        geom_index=np.concatenate([gidx, c_gidx]).astype(np.int64),
        modes=np.concatenate([np.tile(base.modes, n_tiles), np.full(k_con, 7, np.uint8)]),
        bike_twoway=np.concatenate([np.tile(base.bike_twoway, n_tiles), np.zeros(k_con, bool)]),
        speed_kph=np.concatenate([np.tile(base.speed_kph, n_tiles), np.full(k_con, np.nan)]),
        name_code=np.concatenate(
            [np.tile(base.name_code, n_tiles), np.full(k_con, len(base.name_vocab), np.int32)]
        ),
        name_vocab=np.append(base.name_vocab, "tile connector"),
        oneway=np.concatenate([np.tile(base.oneway, n_tiles), np.zeros(k_con, bool)]),
        meta={
            "name": f"{LABEL}: {n_tiles} copies of central Hangzhou",
            "source": f"{LABEL} ({n_tiles} tiles of {central_network().name})",
            "license": base.meta.get("license", "ODbL-1.0"),
        },
    )
    info = {
        "tiles": n_tiles,
        "layout_cols": max(c for c, _ in layout) + 1,
        "tile_width_m": width,
        "tile_height_m": height,
        "connector_edges": int(k_con),
        "connector_length_m_median": float(np.median(clen)) if k_con else None,
        "nodes": len(ids),
        "directed_edges": len(table.u),
    }
    return table, info


def tile_points(
    frame: gpd.GeoDataFrame, n_tiles: int, width: float, height: float, id_col: str
) -> gpd.GeoDataFrame:
    layout = tile_layout(n_tiles)
    m = frame.to_crs(METRIC_CRS)
    parts = []
    for k, (c, r) in enumerate(layout):
        part = m.copy()
        part.geometry = part.geometry.translate(c * width, r * height)
        part[id_col] = part[id_col].astype(str) + f"-T{k:02d}"
        if "district" in part.columns:
            part["district"] = f"T{k:02d}/" + part["district"].astype(str)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=METRIC_CRS).to_crs(4326)


def sample_rows(frame: gpd.GeoDataFrame, count: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(frame), size=min(count, len(frame)), replace=False))
    return frame.iloc[idx].reset_index(drop=True)


def build_inputs(size: str, base: EdgeTable, net: Network, folder: Path) -> dict[str, Any]:
    """Write the scaled network (.npz) and the tiled inputs (pickle) into ``folder``."""
    from coverage.samples import load_sample  # noqa: PLC0415

    n_tiles, n_com, n_halls = SIZES[size]
    t0 = time.perf_counter()
    table, info = tile_table(base, net, n_tiles)
    sample = load_sample("hangzhou-central")
    w, h = info["tile_width_m"], info["tile_height_m"]
    com = sample_rows(tile_points(sample.communities, n_tiles, w, h, "community_id"), n_com, SEED)
    halls = sample_rows(tile_points(sample.halls, n_tiles, w, h, "hall_id"), n_halls, SEED + 1)
    districts = tile_points(
        sample.districts.assign(zone_id=sample.districts["district"]), n_tiles, w, h, "zone_id"
    )
    folder.mkdir(parents=True, exist_ok=True)
    table.save(folder / "network.npz")
    with (folder / "inputs.pkl").open("wb") as fh:
        pickle.dump({"communities": com, "halls": halls, "districts": districts}, fh)
    info.update(
        communities=len(com),
        halls=len(halls),
        districts=int(com["district"].nunique()),
        npz_mb=(folder / "network.npz").stat().st_size / 2**20,
        build_s=time.perf_counter() - t0,
    )
    return info


# --------------------------------------------------------------------------------------------
# children (fresh processes)


def load_net(folder: Path, *, cached: bool) -> tuple[Network, float, float]:
    """The network as a planner's run reads it: (network, load seconds, build_routing seconds).

    ``cached``: :func:`load_cached_network` reads the routing view stored by an earlier run
    (the second run of the same network); otherwise ``EdgeTable.load`` + ``build_routing``.
    """
    cfg = cfg_walk()
    t0 = time.perf_counter()
    if cached:
        net = load_cached_network(folder / "network.npz", config=cfg, source="scaled")
        return net, time.perf_counter() - t0, 0.0
    table = EdgeTable.load(folder / "network.npz")
    t1 = time.perf_counter()
    net = build_routing(table, config=cfg, source="scaled")
    return net, t1 - t0, time.perf_counter() - t1


def child_prime(folder: Path) -> dict[str, Any]:
    """The planner's first run: read the table, build the routing view and store it."""
    for old in folder.glob("*.routing.npz"):
        old.unlink()
    t = time.perf_counter()
    load_cached_network(folder / "network.npz", config=cfg_walk(), source="scaled")
    return {"first_run_s": time.perf_counter() - t, "peak_rss_mb": peak_rss_mb()}


def child_full(folder: Path, *, cached: bool = True) -> dict[str, Any]:  # noqa: PLR0915
    """One full audit from the cache, then a stage breakdown on a second pass."""
    from scipy.sparse.csgraph import dijkstra  # noqa: PLC0415

    from coverage.audit import audit, district_table  # noqa: PLC0415
    from coverage.engine import nearest_facility, prepare_snapping, snap  # noqa: PLC0415

    with (folder / "inputs.pkl").open("rb") as fh:
        inputs = pickle.load(fh)
    com, halls = inputs["communities"], inputs["halls"]
    cfg = cfg_walk()
    gc.collect()
    rss_before = rss_mb()
    peak_before = peak_rss_mb()

    t0 = time.perf_counter()
    net, load_s, routing_s = load_net(folder, cached=cached)
    t2 = time.perf_counter()
    result = audit(com, halls, net, config=cfg)
    t3 = time.perf_counter()
    out: dict[str, Any] = {
        "routing_view_cached": cached,
        "full_s": t3 - t0,
        "load_npz_s": load_s,
        "build_routing_s": routing_s,
        "audit_s": t3 - t2,
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_before_mb": peak_before,
        "rss_before_mb": rss_before,
        "nodes": net.n_nodes,
        "segments": len(net.seg_u),
        "covered_share": float(result.communities["covered"].mean()),
        "unreachable": int((result.communities["status"] == "unreachable").sum()),
    }
    if not cached:
        return out
    del result, net
    gc.collect()

    # the same again in the same process: on this VM the first touch of fresh memory is
    # slow (see child_touch), the second pass reuses memory the process already touched
    t0 = time.perf_counter()
    net, load_s, routing_s = load_net(folder, cached=cached)
    t2 = time.perf_counter()
    result = audit(com, halls, net, config=cfg)
    t3 = time.perf_counter()
    out["warm"] = {
        "full_s": t3 - t0,
        "load_npz_s": load_s,
        "build_routing_s": routing_s,
        "audit_s": t3 - t2,
    }
    del result, net
    gc.collect()

    # third pass, stage by stage
    net, _, _ = load_net(folder, cached=cached)
    s: dict[str, float] = {}
    t = time.perf_counter()
    prepare_snapping(net)
    s["snap_index_build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    c_snap = snap(net, com.geometry, config=cfg)
    s["snap_communities_s"] = time.perf_counter() - t
    t = time.perf_counter()
    h_snap = snap(net, halls.geometry, config=cfg)
    s["snap_halls_s"] = time.perf_counter() - t
    t = time.perf_counter()
    _ = net.csr_reversed
    s["csr_transpose_s"] = time.perf_counter() - t
    near_s, near_t, near = timed(lambda: nearest_facility(net, c_snap, h_snap), 3)
    s["nearest_facility_s"] = near_s
    ok = h_snap.ok
    ends = np.where(h_snap.frac[ok] < 0.5, net.seg_u[h_snap.seg[ok]], net.seg_v[h_snap.seg[ok]])
    hall_nodes = np.unique(ends)
    bare_s, bare_t, _ = timed(
        lambda: dijkstra(net.csr, directed=True, indices=hall_nodes, min_only=True), 3
    )
    s["bare_dijkstra_s"] = bare_s
    t = time.perf_counter()
    res = audit(com, halls, net, config=cfg)
    s["audit_warm_s"] = time.perf_counter() - t
    t = time.perf_counter()
    district_table(res.communities)
    s["district_table_s"] = time.perf_counter() - t
    out["stages"] = s
    out["nearest_times_s"] = near_t
    out["bare_times_s"] = bare_t
    out["nearest_over_bare"] = near_s / bare_s
    out["hall_nodes"] = len(hall_nodes)
    out["reached"] = int(np.isfinite(near.time_s).sum())
    return out


def child_touch() -> dict[str, Any]:
    """Seconds to allocate and first touch 1 GiB of fresh memory, three times in a row."""
    times = []
    for _ in range(3):
        t = time.perf_counter()
        a = np.ones(2**27)  # 1 GiB of float64
        times.append(time.perf_counter() - t)
        del a
    return {"touch_1gib_s": times}


def child_nx(folder: Path, repeats: int) -> dict[str, Any]:
    """networkx multi-source Dijkstra from the hall nodes, on a DiGraph of the same CSR."""
    import networkx as nx  # noqa: PLC0415
    from scipy.sparse.csgraph import dijkstra  # noqa: PLC0415

    from coverage.engine import snap  # noqa: PLC0415

    with (folder / "inputs.pkl").open("rb") as fh:
        halls = pickle.load(fh)["halls"]
    cfg = cfg_walk()
    net = build_routing(EdgeTable.load(folder / "network.npz"), config=cfg, source="scaled")
    h_snap = snap(net, halls.geometry, config=cfg)
    ok = h_snap.ok
    ends = np.where(h_snap.frac[ok] < 0.5, net.seg_u[h_snap.seg[ok]], net.seg_v[h_snap.seg[ok]])
    hall_nodes = np.unique(ends)
    coo = net.csr.tocoo()
    t = time.perf_counter()
    G = nx.DiGraph()
    G.add_nodes_from(range(net.n_nodes))
    G.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    build_s = time.perf_counter() - t
    sources = hall_nodes.tolist()
    nx_s, nx_t, dist = timed(
        lambda: nx.multi_source_dijkstra_path_length(G, sources, weight="weight"), repeats
    )
    bare_s, bare_t, ref = timed(
        lambda: dijkstra(net.csr, directed=True, indices=hall_nodes, min_only=True), 3
    )
    mine = np.full(net.n_nodes, np.inf)
    mine[list(dist)] = list(dist.values())
    both = np.isfinite(ref)
    return {
        "nx_graph_build_s": build_s,
        "nx_s": nx_s,
        "nx_times_s": nx_t,
        "bare_s": bare_s,
        "bare_times_s": bare_t,
        "nx_over_bare": nx_s / bare_s,
        "same_reach": bool((np.isfinite(mine) == both).all()),
        "max_abs_diff_s": float(np.max(np.abs(mine[both] - ref[both]))) if both.any() else 0.0,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_child(args: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        log(proc.stderr[-3000:])
        msg = f"child {args} failed with exit code {proc.returncode}"
        raise SystemExit(msg)
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# in-process measurements


def measure_cache(path: Path, repeats_first: int, repeats_cached: int) -> dict[str, Any]:
    from coverage.network import cache_path  # noqa: PLC0415

    first: list[float] = []
    cached: list[float] = []
    table_routing: list[float] = []
    npz_only: list[float] = []
    for _ in range(repeats_first):
        with tempfile.TemporaryDirectory() as d:
            cfg = cfg_walk().replace(metric_crs=None, cache_dir=d)
            gc.collect()
            t = time.perf_counter()
            load_network(path, config=cfg)
            first.append(time.perf_counter() - t)
            npz = cache_path(path, cfg)
            assert npz is not None
            for _ in range(repeats_cached):
                gc.collect()
                t = time.perf_counter()
                load_network(path, config=cfg)
                cached.append(time.perf_counter() - t)
                t = time.perf_counter()
                build_routing(EdgeTable.load(npz), config=cfg)
                table_routing.append(time.perf_counter() - t)
                t = time.perf_counter()
                EdgeTable.load(npz)
                npz_only.append(time.perf_counter() - t)
    return {
        "first_load_s": median(first),
        "first_load_times_s": first,
        "cached_load_s": median(cached),
        "cached_load_times_s": cached,
        "table_and_build_routing_s": median(table_routing),
        "npz_read_s": median(npz_only),
        "ratio": median(first) / median(cached),
        "note": "first: parse GraphML (osmnx) + flatten + write .npz + build_routing + write "
        "the routing view; cached: read the stored routing view (the edge table is read only "
        "when needed); table_and_build_routing: read the table .npz + build_routing",
    }


def compare(ser: Any, par: Any) -> str | None:
    """``None`` when two batch results are identical (every value exactly), else what differs."""
    diffs = []
    for attr in ("communities", "halls", "districts"):
        a, b = getattr(ser, attr), getattr(par, attr)
        try:
            pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
        except AssertionError as exc:
            diffs.append(f"{attr}: {str(exc)[:300]}")
    if [f.district for f in par.failures]:
        diffs.append(f"failures: {[(f.district, f.error) for f in par.failures]}")
    return "; ".join(diffs) or None


def measure_batch(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    network: Network | EdgeTable,
    districts: gpd.GeoDataFrame,
    repeats: int,
    label: str,
) -> dict[str, Any]:
    from distributed import Client, LocalCluster  # noqa: PLC0415

    from coverage.batch import run_batch  # noqa: PLC0415

    cfg = cfg_walk()
    log(f"batch {label}: serial ...")
    ser_s, ser_t, ser = timed(
        lambda: run_batch(communities, halls, network, districts, config=cfg), repeats
    )
    differences: list[str] = []

    def parallel(**kw: Any) -> Any:
        out = run_batch(communities, halls, network, districts, config=cfg, **kw)
        d = compare(ser, out)
        if d:
            differences.append(d)
        return out

    log(f"batch {label}: 2 workers (LocalCluster started and closed per run) ...")
    cold_s, cold_t, _ = timed(lambda: parallel(workers=2), repeats)
    log(f"batch {label}: 2 workers, cluster already running ...")
    t = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    start_s = time.perf_counter() - t
    try:
        # first run warms the workers (imports, PROJ database); not counted
        parallel(scheduler=client)
        warm_s, warm_t, _ = timed(lambda: parallel(scheduler=client), repeats)
    finally:
        client.close()
        cluster.close()
    job_s = [v for k, v in ser.seconds.items() if k != "(all)"]
    return {
        "label": label,
        "districts": len(job_s),
        "communities": len(communities),
        "serial_s": ser_s,
        "serial_times_s": ser_t,
        "serial_job_s_sum": sum(job_s),
        "serial_job_s_median": median(job_s),
        "workers2_cold_s": cold_s,
        "workers2_cold_times_s": cold_t,
        "workers2_warm_s": warm_s,
        "workers2_warm_times_s": warm_t,
        "cluster_start_s": start_s,
        "speedup_cold": ser_s / cold_s,
        "speedup_warm": ser_s / warm_s,
        "parallel_runs_compared": 2 * repeats + 1,
        "identical_to_serial": not differences,
        "differences": differences,
        "loadavg_after": os.getloadavg(),
    }


def run_batches(res: dict[str, Any], work: Path, base: EdgeTable, net: Network) -> None:
    from coverage.samples import load_sample  # noqa: PLC0415

    reps = 1 if res["quick"] else 3
    s = load_sample("hangzhou-central")
    res["batch"] = [
        measure_batch(s.communities, s.halls, s.network, s.districts, reps, "hangzhou-central")
    ]
    if res["quick"]:
        return
    folder = work / "100k"
    if not (folder / "inputs.pkl").exists():
        build_inputs("100k", base, net, folder)
    with (folder / "inputs.pkl").open("rb") as fh:
        inp = pickle.load(fh)
    table = EdgeTable.load(folder / "network.npz")
    res["batch"].append(
        measure_batch(
            inp["communities"], inp["halls"], table, inp["districts"], reps, f"100k ({LABEL})"
        )
    )


# --------------------------------------------------------------------------------------------
# report


def fmt_s(s: float | None) -> str:
    if s is None or not np.isfinite(s):
        return "n/a"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_x(r: float) -> str:
    return f"{r:.1f}×" if r < 100 else f"{r:,.0f}×"


def met(ok: bool | None) -> str:
    return "not measured" if ok is None else ("MET" if ok else "NOT MET")


def render(res: dict[str, Any]) -> str:  # noqa: C901
    L = [f"## Scale benchmark{' (quick)' if res['quick'] else ''}", ""]
    L.append(
        f"Machine: {res['machine']['cpus']} cores, Python {res['machine']['python']}, scipy "
        f"{res['machine']['scipy']}, networkx {res['machine']['networkx']}; load average "
        f"{res['machine']['loadavg_at_start'][0]:.1f} at start, "
        f"{res['machine']['loadavg_at_end'][0]:.1f} at end. Walk at 4.5 km/h, 15 min. Medians."
    )
    L += ["", f"Networks ({LABEL}s of real central Hangzhou; see the script's docstring):", ""]
    L += [
        (
            "| size | tiles | nodes | directed edges | routing segments | connector edges "
            "| communities | halls | districts | .npz MB |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in res["sizes"].items():
        i, f = r["inputs"], r["full"]
        L.append(
            f"| {name} ({LABEL}) | {i['tiles']} | {i['nodes']:,} | {i['directed_edges']:,} | "
            f"{f['segments']:,} | {i['connector_edges']} | {i['communities']:,} | "
            f"{i['halls']:,} | {i['districts']} | {i['npz_mb']:.0f} |"
        )
    L += [
        "",
        (
            "Full audit in a fresh process, the planner's second run of the network: "
            "`load_cached_network` reads the routing view stored by the first run, then "
            "`audit()`:"
        ),
        "",
        (
            "| size | full audit | read routing view | audit() | peak RSS (ru_maxrss) "
            "| RSS before | nearest_facility | bare dijkstra | ratio | networkx | nx / bare |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in res["sizes"].items():
        f, x = r["full"], r.get("nx")
        st = f["stages"]
        nx_cols = [fmt_s(x["nx_s"]), fmt_x(x["nx_over_bare"])] if x else ["not run", "–"]
        L.append(
            f"| {name} | **{fmt_s(f['full_s'])}** | {fmt_s(f['load_npz_s'])} | "
            f"{fmt_s(f['audit_s'])} | "
            f"**{f['peak_rss_mb']:,.0f} MB** | {f['rss_before_mb']:,.0f} MB | "
            f"{fmt_s(st['nearest_facility_s'])} | {fmt_s(st['bare_dijkstra_s'])} | "
            f"{fmt_x(f['nearest_over_bare'])} | {' | '.join(nx_cols)} |"
        )
    L += [
        "",
        (
            "Without a stored routing view (the first run, or a changed mode or speed): "
            "`EdgeTable.load` → `build_routing` → `audit()`, fresh process:"
        ),
        "",
        (
            "| size | full audit | load .npz | build_routing | audit() | peak RSS "
            "| first run incl. storing the view |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in res["sizes"].items():
        p = r.get("plain")
        if p is None:
            continue
        first = r["inputs"].get("first_run", {}).get("first_run_s")
        L.append(
            f"| {name} | **{fmt_s(p['full_s'])}** | {fmt_s(p['load_npz_s'])} | "
            f"{fmt_s(p['build_routing_s'])} | {fmt_s(p['audit_s'])} | "
            f"{p['peak_rss_mb']:,.0f} MB | {fmt_s(first)} |"
        )
    L += [
        "",
        (
            "The same full audit run a second time in the same process (memory already touched; "
            "see the note on this VM's first-touch cost):"
        ),
        "",
        "| size | full audit (2nd pass) | read routing view | audit() |",
        "|---|---:|---:|---:|",
    ]
    for name, r in res["sizes"].items():
        w = r["full"]["warm"]
        L.append(
            f"| {name} | **{fmt_s(w['full_s'])}** | {fmt_s(w['load_npz_s'])} | "
            f"{fmt_s(w['audit_s'])} |"
        )
    touch = res["vm_memory"]["touch_1gib_s"]
    L += [
        "",
        (
            f"First touch of 1 GiB of fresh memory in a new process on this VM: "
            f"{', '.join(fmt_s(t) for t in touch)} (three allocations in a row)."
        ),
    ]
    L += [
        "",
        "Stage breakdown (third pass in the same process, one run each):",
        "",
        (
            "| size | snap index build | snap communities | snap halls | CSR transpose "
            "| nearest_facility | audit() warm | district_table |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in res["sizes"].items():
        st = r["full"]["stages"]
        L.append(
            f"| {name} | {fmt_s(st['snap_index_build_s'])} | {fmt_s(st['snap_communities_s'])} "
            f"| {fmt_s(st['snap_halls_s'])} | {fmt_s(st['csr_transpose_s'])} | "
            f"{fmt_s(st['nearest_facility_s'])} | {fmt_s(st['audit_warm_s'])} | "
            f"{fmt_s(st['district_table_s'])} |"
        )
    c = res["cache"]
    L += [
        "",
        "| network cache (real central Hangzhou, 14,469 nodes) | time |",
        "|---|---:|",
        (
            "| first load: parse GraphML + flatten + write .npz + build_routing | "
            f"{fmt_s(c['first_load_s'])} |"
        ),
        f"| cached load: read the stored routing view | {fmt_s(c['cached_load_s'])} |",
        (
            "| read the table .npz + build_routing (no stored view) | "
            f"{fmt_s(c.get('table_and_build_routing_s'))} |"
        ),
        f"| … of which reading the table .npz | {fmt_s(c['npz_read_s'])} |",
        f"| ratio | **{fmt_x(c['ratio'])}** |",
    ]
    if res.get("batch"):
        L += [
            "",
            (
                "| batch (run_batch, buffer 2,000 m) | districts | serial | 2 workers incl. "
                "cluster start | speed-up | 2 workers, running cluster | speed-up | identical |"
            ),
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for b in res["batch"]:
            L.append(
                f"| {b['label']} | {b['districts']} | {fmt_s(b['serial_s'])} | "
                f"{fmt_s(b['workers2_cold_s'])} | {fmt_x(b['speedup_cold'])} | "
                f"{fmt_s(b['workers2_warm_s'])} | {fmt_x(b['speedup_warm'])} | "
                f"{'yes' if b['identical_to_serial'] else 'NO'} |"
            )
        for b in res["batch"]:
            for d in b.get("differences", []):
                L.append(f"- {b['label']}: differs from serial: {d}")
    t = res["targets"]
    L += ["", "Targets:"]
    for key, text in (
        (
            "audit_time",
            "full audit of the 1M-node network ≤ 10 s (fresh process, stored routing view)",
        ),
        ("audit_time_plain", "the same without a stored routing view (not the target)"),
        ("audit_time_second_pass", "full audit of the 1M-node network ≤ 10 s (second pass)"),
        ("memory", "peak memory ≤ 4 GB"),
        ("nearest_ratio", "nearest-hall pass ≤ 2× bare dijkstra"),
        ("cache_ratio", "cached load ≥ 10× faster than first load"),
    ):
        if key in t:
            L.append(f"- {text}: {t[key]['value']} → {met(t[key]['met'])} ({t[key]['on']})")
    L += ["", f"Total run time: {res['total_run_s']:.0f} s."]
    return "\n".join(L)


def targets(res: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "1M" in res["sizes"]:
        f = res["sizes"]["1M"]["full"]
        out["audit_time"] = {
            "value": fmt_s(f["full_s"]),
            "met": f["full_s"] <= TARGET_AUDIT_S,
            "on": "1M nodes, 20,000 communities, 2,000 halls",
        }
        p = res["sizes"]["1M"].get("plain")
        if p is not None:
            out["audit_time_plain"] = {
                "value": fmt_s(p["full_s"]),
                "met": p["full_s"] <= TARGET_AUDIT_S,
                "on": "1M nodes, EdgeTable.load + build_routing + audit() in a fresh process",
            }
        out["audit_time_second_pass"] = {
            "value": fmt_s(f["warm"]["full_s"]),
            "met": f["warm"]["full_s"] <= TARGET_AUDIT_S,
            "on": "1M nodes, same audit run again in the same process (memory already touched)",
        }
        out["memory"] = {
            "value": f"{f['peak_rss_mb']:,.0f} MB",
            "met": f["peak_rss_mb"] <= TARGET_MEMORY_MB,
            "on": "1M nodes",
        }
        out["nearest_ratio"] = {
            "value": fmt_x(f["nearest_over_bare"]),
            "met": f["nearest_over_bare"] <= TARGET_NEAREST_RATIO,
            "on": "1M nodes",
        }
    else:
        for key in ("audit_time", "audit_time_second_pass", "memory", "nearest_ratio"):
            out[key] = {"value": "not measured", "met": None, "on": "quick run: 100k only"}
    c = res["cache"]
    out["cache_ratio"] = {
        "value": fmt_x(c["ratio"]),
        "met": c["ratio"] >= TARGET_CACHE_RATIO,
        "on": "real network",
    }
    return out


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915, C901, PLR0912
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 100k nodes, 1 repeat")
    ap.add_argument("--out", type=Path, default=None, help="JSON results file")
    ap.add_argument(
        "--only-batch",
        action="store_true",
        help="re-measure only the batch rows and update the existing JSON file",
    )
    ap.add_argument(
        "--only-full",
        action="store_true",
        help="re-measure only the full-audit rows (no networkx, cache or batch rows) and "
        "update them in the existing JSON file",
    )
    ap.add_argument(
        "--sizes", nargs="+", choices=list(SIZES), default=None, help="network sizes to run"
    )
    ap.add_argument(
        "--child", choices=["full", "plain", "prime", "nx", "touch"], help=argparse.SUPPRESS
    )
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)

    if args.child in {"full", "plain"}:
        print(json.dumps(child_full(args.dir, cached=args.child == "full")))
        return 0
    if args.child == "prime":
        print(json.dumps(child_prime(args.dir)))
        return 0
    if args.child == "touch":
        print(json.dumps(child_touch()))
        return 0
    if args.child == "nx":
        print(json.dumps(child_nx(args.dir, args.repeats)))
        return 0

    t_start = time.perf_counter()
    load_start = os.getloadavg()
    sizes = args.sizes or (["100k"] if args.quick else ["100k", "1M"])
    full_reps = 1 if args.quick else 3
    out_path = args.out or RESULTS_DIR / ("scale_quick.json" if args.quick else "scale.json")
    path = central_network()
    log(f"loading {path} ...")
    net = load_network(path, mode="walk", config=cfg_walk())
    base = net.table

    if args.only_batch:
        res = json.loads(out_path.read_text(encoding="utf-8"))
        work = Path(tempfile.mkdtemp(prefix="coverage-bench-scale-"))
        try:
            run_batches(res, work, base, net)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        res["machine"]["batch_loadavg_at_start"] = load_start
        res["machine"]["batch_loadavg_at_end"] = os.getloadavg()
        out_path.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(render(res))
        log(f"updated the batch rows of {out_path}")
        return 0
    if args.only_full:
        res = json.loads(out_path.read_text(encoding="utf-8"))
    else:
        res = {"benchmark": "scale", "quick": args.quick, "sizes": {}}
    res["vm_memory"] = run_child(["--child", "touch"])
    log(f"first touch of 1 GiB in a fresh process: {res['vm_memory']['touch_1gib_s']}")
    work = Path(tempfile.mkdtemp(prefix="coverage-bench-scale-"))
    try:
        for size in sizes:
            folder = work / size
            log(f"{size}: building the {LABEL} ...")
            info = build_inputs(size, base, net, folder)
            log(
                f"{size}: {info['nodes']:,} nodes, {info['directed_edges']:,} edges, "
                f"{info['connector_edges']} connectors ({info['build_s']:.1f} s)"
            )
            # the planner's first run of this network stores the routing view ...
            info["first_run"] = run_child(["--child", "prime", "--dir", str(folder)])
            log(
                f"{size}: first run (table + build_routing + store the routing view) "
                f"{info['first_run']['first_run_s']:.2f} s"
            )
            # ... which the second run (the measured full audit) reads
            runs = []
            for i in range(full_reps):
                log(f"{size}: full audit, fresh process {i + 1}/{full_reps} ...")
                runs.append(run_child(["--child", "full", "--dir", str(folder)]))
                log(f"  {runs[-1]['full_s']:.2f} s, peak {runs[-1]['peak_rss_mb']:,.0f} MB")
            plain_runs = []
            for _ in range(1 if size == "1M" else full_reps):
                log(f"{size}: full audit without the stored routing view, fresh process ...")
                plain_runs.append(run_child(["--child", "plain", "--dir", str(folder)]))
                log(
                    f"  {plain_runs[-1]['full_s']:.2f} s, "
                    f"peak {plain_runs[-1]['peak_rss_mb']:,.0f} MB"
                )
            plain = dict(plain_runs[0])
            for key in ("full_s", "load_npz_s", "build_routing_s", "audit_s", "peak_rss_mb"):
                plain[key] = median([r[key] for r in plain_runs])
            plain["full_times_s"] = [r["full_s"] for r in plain_runs]
            full = dict(runs[0])
            for key in (
                "full_s",
                "load_npz_s",
                "build_routing_s",
                "audit_s",
                "peak_rss_mb",
                "nearest_over_bare",
            ):
                full[key] = median([r[key] for r in runs])
            full["warm"] = {k: median([r["warm"][k] for r in runs]) for k in runs[0]["warm"]}
            full["stages"] = {k: median([r["stages"][k] for r in runs]) for k in runs[0]["stages"]}
            full["full_times_s"] = [r["full_s"] for r in runs]
            full["peak_rss_runs_mb"] = [r["peak_rss_mb"] for r in runs]
            entry: dict[str, Any] = res["sizes"].get(size, {})
            entry |= {"inputs": info, "full": full, "plain": plain}
            if not args.only_full:
                log(f"{size}: networkx ...")
                reps = "1" if size == "1M" else "3"
                entry["nx"] = run_child(["--child", "nx", "--dir", str(folder), "--repeats", reps])
                log(f"  networkx {entry['nx']['nx_s']:.2f} s, bare {entry['nx']['bare_s']:.3f} s")
            res["sizes"][size] = entry

        if not args.only_full:
            log("network cache: first vs cached load ...")
            res["cache"] = measure_cache(path, 1 if args.quick else 3, 3 if args.quick else 5)
            run_batches(res, work, base, net)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    res["machine"] = res.get("machine", {}) | {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "scipy": scipy.__version__,
        "networkx": __import__("networkx").__version__,
        "shapely": shapely.__version__,
        "loadavg_at_start": load_start,
        "loadavg_at_end": os.getloadavg(),
        "memory_measure": "ru_maxrss of the fresh process running the full audit (peak "
        "resident set size, includes the interpreter, imports and the input frames: "
        "rss_before_mb)",
    }
    res["total_run_s"] = time.perf_counter() - t_start
    res["targets"] = targets(res)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(render(res))
    log(f"wrote {out_path} (total {res['total_run_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
