"""Benchmark: does the coordinate-system check catch swapped systems, and never cry wolf?

``coverage.checks.check_coord_system`` reads points as WGS-84, GCJ-02 and BD-09 and says which
reading fits the roads (or "cannot tell"). Here it is run on the bundled samples with the
three systems swapped at random:

- true WGS-84 points are encoded as ``truth`` with ``coverage.coords.from_wgs84`` and read
  back as ``declared`` with ``coverage.coords.to_wgs84`` (what a loader given
  ``coord_system=declared`` does); the check is told ``declared``;
- *swapped*: every ordered pair of different systems (GCJ-02 or BD-09 declared as WGS-84,
  WGS-84 declared as GCJ-02, ...), the same number of trials each; a trial is *detected* when
  the verdict is ``truth``;
- *correct*: ``truth == declared`` (each system alike); any verdict other than ``truth`` is a
  *false alarm*;
- random subsets of 10 to 500 points, separately for three kinds of points:
  *block-interior* (the sample's communities: representative points of street blocks and
  residential areas; for Liechtenstein, of the blocks the roads enclose),
  *on-street* (points drawn along the walkable roads, length-weighted, moved 2-20 m in a
  random direction, like geocoded addresses and halls) and *halls* (the sample's halls).

Samples: hangzhou-central, hangzhou-xihu and liechtenstein. Liechtenstein lies outside
China, where GCJ-02 equals WGS-84 and the check leaves points out (it must give no verdict
there, and does). To still test the statistic on an alpine, rural network, the same
Liechtenstein roads and points are also *moved to Hangzhou* (each coordinate projected to
UTM 32N and placed at the same offset from Hangzhou's centre in UTM 51N: shapes and
distances kept), where the GCJ-02 and BD-09 offsets apply. The bundled Excel lists
(``data/samples/*_gcj02.xlsx``, GCJ-02) are also checked as declared WGS-84 and as GCJ-02.

Run::

    python bench/bench_coords.py           # full run (~1.5 min on 2 cores), results/coords.json
    python bench/bench_coords.py --quick   # smoke run (~30 s), results/coords_quick.json

Markdown tables go to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import logging
import platform
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from _common import log

import coverage
from coverage.checks import (
    MAX_POINTS,
    MIN_POINTS,
    MIN_RATIO,
    MIN_SCORE,
    check_coord_system,
    check_coord_systems,
)
from coverage.coords import COORD_SYSTEMS, from_wgs84, to_wgs84
from coverage.io import read_communities, read_halls
from coverage.network import Network, build_routing
from coverage.samples import load_sample

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
SEED = 20_260_112
SIZES = (10, 15, 20, 30, 50, 100, 200, 500)
BIG = 50  # "sets of at least 50 points"
SWAPS = [(t, d) for t in COORD_SYSTEMS for d in COORD_SYSTEMS if t != d]
NAMES = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}
HANGZHOU = (120.17, 30.27)  # where Liechtenstein is moved to (West Lake's east shore)


# --------------------------------------------------------------------------------------------
# point pools (true WGS-84 lon/lat)


def lonlat(geoms: gpd.GeoSeries) -> np.ndarray:
    g = geoms.to_crs(4326)
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def on_street(net: Network, n: int, rng: np.random.Generator) -> np.ndarray:
    """Points along walkable segments (length-weighted), moved 2-20 m in a random direction."""
    weight = net.seg_length_m / net.seg_length_m.sum()
    seg = rng.choice(len(weight), n, p=weight)
    pts = shapely.line_interpolate_point(net.seg_geom[seg], rng.uniform(0, 1, n), normalized=True)
    r = rng.uniform(2.0, 20.0, n)
    a = rng.uniform(0.0, 2 * np.pi, n)
    x = shapely.get_x(pts) + r * np.cos(a)
    y = shapely.get_y(pts) + r * np.sin(a)
    to_deg = pyproj.Transformer.from_crs(net.crs, 4326, always_xy=True)
    return np.column_stack(to_deg.transform(x, y))


def blocks(net: Network) -> np.ndarray:
    """Representative points of the blocks the roads enclose (2,000 m² to 0.5 km²)."""
    lines = shapely.union_all(net.seg_geom)
    polys = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    area = shapely.area(polys)
    keep = polys[(area >= 2_000) & (area <= 500_000)]
    pts = shapely.point_on_surface(keep)
    to_deg = pyproj.Transformer.from_crs(net.crs, 4326, always_xy=True)
    return np.column_stack(to_deg.transform(shapely.get_x(pts), shapely.get_y(pts)))


def moved_to_hangzhou(net: Network) -> tuple[Network, Any]:
    """The network moved to Hangzhou with its shape kept, and the function that moves points."""
    src = pyproj.Transformer.from_crs(4326, net.crs, always_xy=True)
    dst_crs = "EPSG:32651"
    dst = pyproj.Transformer.from_crs(dst_crs, 4326, always_xy=True)
    centre = np.median(net.node_xy, axis=0)
    target = np.array(
        pyproj.Transformer.from_crs(4326, dst_crs, always_xy=True).transform(*HANGZHOU)
    )

    def move(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = src.transform(lon, lat)
        return dst.transform(
            np.asarray(x) - centre[0] + target[0], np.asarray(y) - centre[1] + target[1]
        )

    table = net.table
    lon, lat = move(table.lon, table.lat)
    glon, glat = move(table.geom_coords[:, 0], table.geom_coords[:, 1])
    moved = dataclasses.replace(
        table, lon=np.asarray(lon), lat=np.asarray(lat), geom_coords=np.column_stack([glon, glat])
    )
    return build_routing(moved, source="liechtenstein moved to Hangzhou"), move


# --------------------------------------------------------------------------------------------
# trials


def as_read(pts: np.ndarray, truth: str, declared: str) -> gpd.GeoSeries:
    """True points encoded as ``truth``, read back as ``declared`` (what a loader does)."""
    raw = from_wgs84(pts[:, 0], pts[:, 1], truth)
    lon, lat = to_wgs84(raw[0], raw[1], declared)
    return gpd.GeoSeries(shapely.points(lon, lat), crs=4326)


def one(
    net: Network, pts: np.ndarray, truth: str, declared: str
) -> tuple[str, float, int, dict[str, float]]:
    """Encode true points as ``truth``, read them as ``declared``, check.

    Returns the verdict, the seconds taken, the points used and the fit scores.
    """
    geoms = as_read(pts, truth, declared)
    net.forget("coverage.checks")  # time the check, not the memory of it
    t0 = time.perf_counter()
    check = check_coord_system(geoms, net, declared=declared)
    seconds = time.perf_counter() - t0
    return (check.fits or "cannot tell"), seconds, check.points, dict(check.scores)


def outcome(verdict: str, truth: str) -> str:
    if verdict == "cannot tell":
        return "cannot tell"
    return "right" if verdict == truth else "wrong"


def run(
    sample: str,
    net: Network,
    pools: dict[str, np.ndarray],
    rng: np.random.Generator,
    swapped_per_size: int,
    correct_per_kind: int,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for kind, pool in pools.items():
        sizes = [s for s in SIZES if s <= len(pool)] or [len(pool)]
        plan = [
            (size, t, d, "swapped")
            for size in sizes
            for i in range(swapped_per_size)
            for t, d in [SWAPS[i % len(SWAPS)]]
        ]
        plan += [
            (sizes[i % len(sizes)], s, s, "correct")
            for i in range(correct_per_kind)
            for s in [COORD_SYSTEMS[i % 3]]
        ]
        t0 = time.perf_counter()
        for size, truth, declared, case in plan:
            pick = pool[rng.choice(len(pool), size, replace=False)]
            verdict, seconds, used, scores = one(net, pick, truth, declared)
            rows.append(
                {
                    "sample": sample,
                    "kind": kind,
                    "size": size,
                    "truth": truth,
                    "declared": declared,
                    "case": case,
                    "verdict": verdict,
                    "outcome": outcome(verdict, truth),
                    "points_used": used,
                    "seconds": seconds,
                    "scores": {k: round(v, 2) for k, v in scores.items()},
                }
            )
        log(f"  {sample} / {kind}: {len(plan)} trials in {time.perf_counter() - t0:.1f} s")
    return rows


PAIRS = [
    ("block-interior", "on-street"),
    ("block-interior", "block-interior"),
    ("on-street", "on-street"),
]


def run_pairs(
    sample: str, net: Network, pools: dict[str, np.ndarray], rng: np.random.Generator, n: int
) -> list[dict[str, Any]]:
    """Two small sets (10-19 points each) declared alike: judged alone, then together."""
    rows = []
    for i in range(n):
        kinds = PAIRS[i % len(PAIRS)]
        truth, declared = SWAPS[i % len(SWAPS)] if i % 2 else (COORD_SYSTEMS[i % 3],) * 2
        sets = []
        for j, kind in enumerate(kinds):
            pool = pools[kind]
            pick = pool[rng.choice(len(pool), int(rng.integers(10, 20)), replace=False)]
            sets.append((as_read(pick, truth, declared), declared, f"set{j}"))
        net.forget("coverage.checks")
        checks = check_coord_systems(sets, net)
        pooled = checks[2] if len(checks) > 2 else None
        verdict = "cannot tell" if pooled is None or pooled.fits is None else pooled.fits
        alone = [c.fits or "cannot tell" for c in checks[:2]]
        rows.append(
            {
                "sample": sample,
                "kinds": "+".join(kinds),
                "truth": truth,
                "declared": declared,
                "case": "correct" if truth == declared else "swapped",
                "alone": alone,
                "pooled_run": pooled is not None,
                "verdict": verdict,
                "outcome": outcome(verdict, truth),
                "alone_outcomes": [outcome(v, truth) for v in alone],
            }
        )
    log(f"  {sample} / pairs: {n} trials")
    return rows


# --------------------------------------------------------------------------------------------
# tables


def share(rows: list[dict[str, Any]], what: str) -> tuple[int, int]:
    return sum(r["outcome"] == what for r in rows), len(rows)


def pct(k: int, n: int) -> str:
    return "–" if n == 0 else f"{k / n:.1%} ({k}/{n})"


OUTSIDE = "liechtenstein (as is, outside China)"


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = collections.defaultdict(list)
    for r in rows:
        groups[(r["sample"], r["kind"])].append(r)
    detection = []
    false_alarms = []
    for (sample, kind), rs in groups.items():
        swapped = [r for r in rs if r["case"] == "swapped"]
        correct = [r for r in rs if r["case"] == "correct"]
        big = [r for r in swapped if r["size"] >= BIG]
        entry: dict[str, Any] = {"sample": sample, "kind": kind, "trials": len(big)}
        for t, d in SWAPS:
            part = [r for r in big if r["truth"] == t and r["declared"] == d]
            entry[f"{t}_as_{d}"] = share(part, "right")
        entry["all"] = share(big, "right")
        entry["cannot_tell"] = share(big, "cannot tell")
        entry["wrong"] = share(big, "wrong")
        detection.append(entry)
        false_alarms.append(
            {
                "sample": sample,
                "kind": kind,
                "trials": len(correct),
                "false_alarms": share(correct, "wrong")[0],
                "confirmed": share(correct, "right")[0],
                "cannot_tell": share(correct, "cannot tell")[0],
                "sizes": sorted({r["size"] for r in correct}),
            }
        )
    # by size: every sample in China together, per kind of points
    by_size = []
    in_china = [r for r in rows if r["sample"] != OUTSIDE]
    for kind in dict.fromkeys(r["kind"] for r in in_china):
        for size in sorted({r["size"] for r in in_china if r["kind"] == kind}):
            here = [r for r in in_china if r["kind"] == kind and r["size"] == size]
            sw = [r for r in here if r["case"] == "swapped"]
            co = [r for r in here if r["case"] == "correct"]
            by_size.append(
                {
                    "kind": kind,
                    "size": size,
                    "swapped_detected": share(sw, "right"),
                    "swapped_cannot_tell": share(sw, "cannot tell"),
                    "swapped_wrong": share(sw, "wrong"),
                    "correct_confirmed": share(co, "right"),
                    "correct_cannot_tell": share(co, "cannot tell"),
                    "correct_false_alarm": share(co, "wrong"),
                }
            )
    outside = [r for r in rows if r["sample"] == OUTSIDE]
    # how large the score of a reading that is not the truth gets (the null), and the truth's
    wrong_scores = [abs(v) for r in in_china for k, v in r["scores"].items() if k != r["truth"]]
    true_at_50 = [
        abs(r["scores"].get(r["truth"], 0.0)) for r in in_china if r["size"] == BIG and r["scores"]
    ]
    times = np.array([r["seconds"] for r in rows if r["points_used"]])
    full = np.array([r["seconds"] for r in in_china if r["size"] >= MAX_POINTS])
    return {
        "detection_at_least_50": detection,
        "false_alarms": false_alarms,
        "by_size_in_china": by_size,
        "scores": {
            "readings_not_true": len(wrong_scores),
            "max_abs_score_not_true": max(wrong_scores, default=None),
            "p999_abs_score_not_true": float(np.quantile(wrong_scores, 0.999)),
            "true_score_at_50_p05": float(np.quantile(true_at_50, 0.05)),
            "true_score_at_50_min": min(true_at_50, default=None),
        },
        "outside_china": {
            "trials": len(outside),
            "cannot_tell": share(outside, "cannot tell")[0],
        },
        "seconds_per_check": {
            "median": float(np.median(times)) if len(times) else None,
            "p95": float(np.quantile(times, 0.95)) if len(times) else None,
            "max": float(times.max()) if len(times) else None,
            "median_full_sets": float(np.median(full)) if len(full) else None,
            "p95_full_sets": float(np.quantile(full, 0.95)) if len(full) else None,
        },
    }


def summarise_pairs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for case in ("swapped", "correct"):
        rs = [r for r in rows if r["case"] == case]
        alone = [o for r in rs for o in r["alone_outcomes"]]
        out.append(
            {
                "case": case,
                "trials": len(rs),
                "alone_right": sum(o == "right" for o in alone),
                "alone_wrong": sum(o == "wrong" for o in alone),
                "alone_sets": len(alone),
                "pooled_right": share(rs, "right")[0],
                "pooled_wrong": share(rs, "wrong")[0],
                "pooled_cannot_tell": share(rs, "cannot tell")[0],
            }
        )
    return out


def render(results: dict[str, Any]) -> str:
    s = results["summary"]
    out = ["### Detection, sets of ≥ 50 points (verdict = the true system)", ""]
    head = [
        "sample",
        "points",
        *[f"{NAMES[t]} as {NAMES[d]}" for t, d in SWAPS],
        "all",
        "cannot tell",
        "wrong verdict",
    ]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
    for e in s["detection_at_least_50"]:
        if e["trials"] == 0 or e["sample"] == OUTSIDE:
            continue
        cells = [pct(*e[f"{t}_as_{d}"]) for t, d in SWAPS]
        out.append(
            f"| {e['sample']} | {e['kind']} | "
            + " | ".join(cells)
            + f" | **{pct(*e['all'])}** | {pct(*e['cannot_tell'])} | {pct(*e['wrong'])} |"
        )
    o = s["outside_china"]
    out += [
        "",
        (
            f"{OUTSIDE}: {o['cannot_tell']} of {o['trials']} trials (swapped and correct, every "
            "size) give no verdict: the check leaves points outside China out."
        ),
    ]
    out += ["", "### Correctly declared (each system alike): false alarms", ""]
    out += [
        "| sample | points | trials | sizes | false alarms | confirmed | cannot tell |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for e in s["false_alarms"]:
        sizes = ", ".join(map(str, e["sizes"]))
        out.append(
            f"| {e['sample']} | {e['kind']} | {e['trials']} | {sizes} | "
            f"**{e['false_alarms']}** | {e['confirmed']} | {e['cannot_tell']} |"
        )
    out += [
        "",
        (
            "### By set size, the samples in China together (hangzhou-central, hangzhou-xihu, "
            "liechtenstein moved to Hangzhou)"
        ),
        "",
    ]
    out += [
        (
            "| points | size | swapped: detected | cannot tell | wrong | correct: "
            "confirmed | cannot tell | false alarm |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in s["by_size_in_china"]:
        out.append(
            f"| {e['kind']} | {e['size']} | "
            + " | ".join(
                pct(*e[k])
                for k in (
                    "swapped_detected",
                    "swapped_cannot_tell",
                    "swapped_wrong",
                    "correct_confirmed",
                    "correct_cannot_tell",
                    "correct_false_alarm",
                )
            )
            + " |"
        )
    out += ["", "### Two small sets (10-19 points each) declared alike, judged together", ""]
    out += [
        (
            "| case | trials | each set alone: right / wrong (of sets) | together: right | "
            "together: wrong | together: cannot tell |"
        ),
        "|---|---:|---:|---:|---:|---:|",
    ]
    for e in results["pairs"]:
        out.append(
            f"| {e['case']} | {e['trials']} | {e['alone_right']} / {e['alone_wrong']} "
            f"(of {e['alone_sets']}) | {e['pooled_right']} | **{e['pooled_wrong']}** | "
            f"{e['pooled_cannot_tell']} |"
        )
    out += ["", "### The bundled Excel lists (GCJ-02)", ""]
    out += [
        "| file | declared | verdict | points checked | fit scores (WGS-84 / GCJ-02 / BD-09) |",
        "|---|---|---|---:|---|",
    ]
    for e in results["excel"]:
        sc = " / ".join(f"{e['fit_scores'].get(k, float('nan')):+.1f}" for k in COORD_SYSTEMS)
        out.append(
            f"| {e['points']} | {e['declared']} | {e['verdict']} ({e['fits']}) | "
            f"{e['points_checked']} | {sc} |"
        )
    sc = s["scores"]
    out += [
        "",
        (
            f"Fit scores in China: of {sc['readings_not_true']:,} readings that were not the "
            f"truth, the largest |score| was {sc['max_abs_score_not_true']:.2f} (99.9th "
            f"percentile {sc['p999_abs_score_not_true']:.2f}; a verdict needs "
            f"{MIN_SCORE:g} and {MIN_RATIO:g}x every other reading); the true reading at 50 "
            f"points scored at least {sc['true_score_at_50_min']:.2f} (5th percentile "
            f"{sc['true_score_at_50_p05']:.2f})."
        ),
    ]
    t = s["seconds_per_check"]
    out += [
        "",
        (
            f"Time per check (clean memory; one set): sets of {MAX_POINTS}+ points (the cap): "
            f"median "
            f"{t['median_full_sets'] * 1e3:.1f} ms, 95th percentile {t['p95_full_sets'] * 1e3:.1f} "
            f"ms; all trials median {t['median'] * 1e3:.1f} ms, max {t['max'] * 1e3:.1f} ms (the "
            "first call on a network builds its snapping index)."
        ),
    ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: fewer trials")
    ap.add_argument("--out", type=Path, default=None, help="JSON results file")
    ap.add_argument(
        "--keep-trials", action="store_true", help="store every trial in the JSON (a few MB)"
    )
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # the loaders' notes (polygons replaced by points, ...)
    logging.getLogger("coverage").setLevel(logging.ERROR)
    swapped_per_size = 12 if args.quick else 48
    correct_per_kind = 60 if args.quick else 400
    rng = np.random.default_rng(SEED)
    n_pairs = 48 if args.quick else 240
    rows: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []
    t_all = time.perf_counter()
    nets: dict[str, Network] = {}
    for name in ("hangzhou-central", "hangzhou-xihu", "liechtenstein"):
        log(f"loading {name}")
        s = load_sample(name)
        net = s.network
        nets[name] = net
        pools = {
            "block-interior": lonlat(s.communities.geometry),
            "on-street": on_street(net, 3_000, rng),
            "halls": lonlat(s.halls.geometry),
        }
        if name == "liechtenstein":
            pools["block-interior"] = blocks(net)
            log(f"  {len(pools['block-interior'])} street blocks")
            moved, move = moved_to_hangzhou(net)
            moved_pools = {k: np.column_stack(move(p[:, 0], p[:, 1])) for k, p in pools.items()}
            moved_pools["on-street"] = on_street(moved, 3_000, rng)
            rows += run(
                "liechtenstein (as is, outside China)",
                net,
                pools,
                rng,
                max(4, swapped_per_size // 4),
                correct_per_kind,
            )
            rows += run(
                "liechtenstein moved to Hangzhou",
                moved,
                moved_pools,
                rng,
                swapped_per_size,
                correct_per_kind,
            )
            pairs += run_pairs("liechtenstein moved to Hangzhou", moved, moved_pools, rng, n_pairs)
        else:
            rows += run(name, net, pools, rng, swapped_per_size, correct_per_kind)
            pairs += run_pairs(name, net, pools, rng, n_pairs)
    excel = []
    for declared in ("wgs84", "gcj02"):
        com = read_communities(
            ROOT / "data" / "samples" / "西湖社区名单_gcj02.xlsx", coord_system=declared
        )
        halls = read_halls(ROOT / "data" / "samples" / "服务中心_gcj02.xlsx", coord_system=declared)
        for frame in (com, halls):
            check = check_coord_system(frame.geometry, nets["hangzhou-xihu"], declared=declared)
            excel.append(check.to_dict())
    results = {
        "benchmark": "coordinate-system check (coverage.checks.check_coord_system)",
        "quick": args.quick,
        "seed": SEED,
        "settings": {
            "MIN_POINTS": MIN_POINTS,
            "MAX_POINTS": MAX_POINTS,
            "MIN_SCORE": MIN_SCORE,
            "MIN_RATIO": MIN_RATIO,
            "sizes": SIZES,
            "swapped_per_size": swapped_per_size,
            "correct_per_kind": correct_per_kind,
        },
        "machine": {
            "python": platform.python_version(),
            "coverage_planner": coverage.__version__,
            "cpus": __import__("os").cpu_count(),
        },
        "total_seconds": time.perf_counter() - t_all,
        "summary": summarise(rows),
        "pairs": summarise_pairs(pairs),
        "excel": excel,
        "trials": rows if args.keep_trials else "not kept (run with --keep-trials)",
        "pair_trials": pairs if args.keep_trials else "not kept (run with --keep-trials)",
    }
    out_path = args.out or RESULTS_DIR / ("coords_quick.json" if args.quick else "coords.json")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(render(results))
    log(f"written {out_path} ({results['total_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
