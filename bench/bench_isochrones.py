"""Benchmark: service areas by the audit's rule, against the method they replaced, in one run.

Central Hangzhou walk network (the bundled graphml), walking at 4.5 km/h, bands of 15 and 20
minutes:

- **ours** (this tree): ``travel_time_surface(net, halls, communities=...)`` (20 m cells, each
  snapped and timed as a community would be, cells holding a community take its time), then
  ``.polygons((15, 20))`` (the bands) and ``.polygons((15, 20), per="hall")`` (catchments).
  Timed *cold* (the grid's cells snapped on this call) and *warm* (cells kept on the network
  from an earlier call, as the CLI's second layer or a scenario would find them).
- **before** (the replaced method, run from a ``git archive`` of ``--baseline`` in a
  subprocess with the same inputs): ``isochrones(net, halls, minutes=(15, 20))``, per-hall
  buffers (25 m) of the reached roads drawn on a 12.5 m grid, and ``per="all"``.

Halls: the bundled 60 illustrative halls (the default run), and 200 / 1,000 points sampled
along walkable segments (fixed seed, length-weighted). Also reported for the bundled halls:
the consistency of each method's drawn 15/20-minute areas with the audit's verdicts of the
2,280 bundled communities (communities within the band but outside the area, and beyond it
but inside; at any distance, and by more than one 20 m cell).

Run::

    python bench/bench_isochrones.py                 # writes bench/results/isochrones.json
    python bench/bench_isochrones.py --quick         # 200 halls only, one repeat
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from _common import RESULTS_DIR, ROOT, log, timed

from coverage.audit import CoverageWarning, audit
from coverage.isochrones import travel_time_surface
from coverage.samples import load_sample

SEED = 20_241_127
BANDS = (15.0, 20.0)
TARGET_S = 5.0  # bands and catchments for 1,000 halls


def make_halls(net: Any, n: int) -> gpd.GeoDataFrame:
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


def _within(communities, band):
    """Communities within ``band`` minutes: the audit's verdict where the band is their
    threshold, else their time (rounded to 0.01 min, as the audit writes it)."""
    minutes = communities["travel_time_min"].fillna(np.inf).to_numpy()
    own = communities["threshold_min"].to_numpy() == band
    return np.where(own, communities["covered"].to_numpy(dtype=bool), minutes <= band)


def contradictions(communities: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, crs: str) -> dict:
    """Per band: covered but outside / not covered but inside, any distance and > 20 m."""
    pts = communities.geometry.to_crs(crs)
    out: dict[str, Any] = {}
    for band in BANDS:
        poly = areas[areas["band_min"] == band].to_crs(crs).geometry.union_all()
        inside = pts.within(poly).to_numpy()
        covered = _within(communities, band)
        out_by = pts.distance(poly).to_numpy()
        in_by = pts.distance(poly.boundary).to_numpy()
        out[f"{band:g}"] = {
            "covered": int(covered.sum()),
            "not_covered": int((~covered).sum()),
            "covered_outside": int((covered & ~inside).sum()),
            "covered_outside_by_more_than_20m": int((covered & ~inside & (out_by > 20)).sum()),
            "late_inside": int((~covered & inside).sum()),
            "late_inside_by_more_than_20m": int((~covered & inside & (in_by > 20)).sum()),
        }
    return out


def ours(net: Any, halls: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, *, cold: bool) -> Any:
    if cold:  # forget the cells kept on the network
        net.forget("coverage.isochrones")
    s = travel_time_surface(net, halls, communities=communities)
    return s.polygons(BANDS), s.polygons(BANDS, per="hall")


BEFORE_SCRIPT = textwrap.dedent(
    """
    import gc, json, statistics, sys, time, warnings
    import geopandas as gpd, numpy as np, shapely
    from coverage.audit import audit
    from coverage.isochrones import isochrones
    from coverage.samples import load_sample
    sizes, repeats, out_dir, seed = json.loads(sys.argv[1])
    warnings.simplefilter("ignore")
    s = load_sample("hangzhou-central")
    net = s.network
    def make_halls(n):
        rng = np.random.default_rng(seed)
        lengths = net.seg_length_m
        idx = rng.choice(len(lengths), size=n, p=lengths / lengths.sum())
        pts = shapely.line_interpolate_point(net.seg_geom[idx], rng.random(n), normalized=True)
        return gpd.GeoDataFrame({"hall_id": [f"H{i:04d}" for i in range(n)]},
            geometry=gpd.GeoSeries(pts, crs=net.crs).to_crs(4326).values, crs=4326)
    result = {}
    r = audit(s.communities, s.halls, net)
    keep = ["community_id", "travel_time_min", "threshold_min", "covered", "geometry"]
    r.communities[keep].to_file(out_dir + "/before_communities.gpkg", engine="pyogrio")
    iso = isochrones(net, s.halls, minutes=(15, 20), per="all")
    iso.to_file(out_dir + "/before_bundled.gpkg", engine="pyogrio")
    for n in sizes:
        halls = make_halls(n)
        for per in ("hall", "all"):
            walls = []
            for _ in range(repeats):
                gc.collect(); t0 = time.perf_counter()
                isochrones(net, halls, minutes=(15, 20), per=per)
                walls.append(time.perf_counter() - t0)
            result[f"{n}:{per}"] = {"median_s": statistics.median(walls), "runs_s": walls}
    print(json.dumps(result))
    """
)


def run_before(commit: str, sizes: list[int], repeats: int, work: Path) -> dict[str, Any]:
    """Time the replaced method from a git archive of ``commit``, in a subprocess."""
    tree = work / "before"
    tree.mkdir()
    archive = work / "before.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "-o", str(archive), commit, "coverage", "data"],
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    env = dict(os.environ, PYTHONPATH=str(tree))
    env["COVERAGE_PLANNER_CACHE"] = str(work / "cache")  # its own network cache version
    (work / "before.py").write_text(BEFORE_SCRIPT, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(work / "before.py"), json.dumps([sizes, repeats, str(work), SEED])],
        env=env,
        cwd=str(work),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        msg = f"the baseline run failed:\n{proc.stderr}"
        raise SystemExit(msg)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--baseline", default="aaa6aa0", help="commit of the replaced method")
    args = parser.parse_args()
    sizes = [200] if args.quick else [200, 1000]
    repeats = 1 if args.quick else 3
    warnings.simplefilter("ignore", CoverageWarning)
    sample = load_sample("hangzhou-central")
    net = sample.network
    communities = sample.communities
    result = audit(communities, sample.halls, net)
    rows: dict[str, Any] = {}
    # the bundled halls: consistency of ours
    bands, _ = ours(net, sample.halls, communities, cold=False)
    consistency = {"ours": contradictions(result.communities, bands, net.crs)}
    for n in sizes:
        halls = make_halls(net, n)
        log(f"ours, {n} halls")
        cold, cold_runs, _ = timed(lambda h=halls: ours(net, h, communities, cold=True), repeats)
        warm, warm_runs, _ = timed(lambda h=halls: ours(net, h, communities, cold=False), repeats)
        rows[str(n)] = {
            "ours_cold_s": cold,
            "ours_cold_runs_s": cold_runs,
            "ours_warm_s": warm,
            "ours_warm_runs_s": warm_runs,
        }
    with tempfile.TemporaryDirectory() as tmp:
        log(f"before ({args.baseline}), in a subprocess")
        before = run_before(args.baseline, sizes, repeats, Path(tmp))
        old_com = gpd.read_file(Path(tmp) / "before_communities.gpkg")
        old_bands = gpd.read_file(Path(tmp) / "before_bundled.gpkg")
        consistency["before"] = contradictions(old_com, old_bands, net.crs)
    for n in sizes:
        hall_s = before[f"{n}:hall"]["median_s"]
        all_s = before[f"{n}:all"]["median_s"]
        rows[str(n)] |= {
            "before_per_hall_s": hall_s,
            "before_all_s": all_s,
            "before_both_s": hall_s + all_s,
            "before_both_over_ours_cold": (hall_s + all_s) / rows[str(n)]["ours_cold_s"],
        }
    out = {
        "benchmark": "isochrones",
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "network_nodes": net.n_nodes,
        "communities": len(communities),
        "baseline": args.baseline,
        "target_s": TARGET_S,
        "timings": rows,
        "consistency_bundled_halls": consistency,
    }
    name = "isochrones_quick.json" if args.quick else "isochrones.json"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / name).write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
    print(
        "| halls | ours cold (bands + catchments) | ours warm | before: per hall | before: all "
        "| before both / ours cold |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n, r in rows.items():
        print(
            f"| {int(n):,} | {r['ours_cold_s']:.2f} s | {r['ours_warm_s']:.2f} s | "
            f"{r['before_per_hall_s']:.2f} s | {r['before_all_s']:.2f} s | "
            f"{r['before_both_over_ours_cold']:.2f}× |"
        )
    print()
    print("| method | band | covered outside (> 20 m) | not covered inside (> 20 m) |")
    print("|---|---:|---:|---:|")
    for method, per_band in consistency.items():
        for band, c in per_band.items():
            print(
                f"| {method} | {band} | {c['covered_outside']} of {c['covered']} "
                f"({c['covered_outside_by_more_than_20m']}) | {c['late_inside']} of "
                f"{c['not_covered']} ({c['late_inside_by_more_than_20m']}) |"
            )


if __name__ == "__main__":
    main()
