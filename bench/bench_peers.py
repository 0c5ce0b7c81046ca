"""Benchmark: nearest-hall walking distances, ours against OSRM's foot profile.

On the two bundled raw OSM extracts (``hangzhou-xihu`` and ``liechtenstein``; the central
Hangzhou graphml has no raw OSM, so OSRM cannot be built on it), every community's distance to
its nearest hall is computed

- by **ours**: ``snap_many`` + ``nearest_facility`` on the sample's walk network (the audit's
  own path), the travel time turned back into metres at the walk speed (4.5 km/h): network
  metres + the walk along the snapped segment + both off-road walks;
- by **OSRM** (``osrm-bindings``, the ``foot.lua`` profile shipped with it, MLD): the table
  service with ``annotations=distance`` from every community to every hall, plus the snapped
  waypoint distances of the community and of the hall (OSRM's off-road walks, which its
  table leaves out), minimised over the halls.

Distances, not durations, are compared, so OSRM's 5 km/h, its turn and signal penalties and
our 4.5 km/h do not matter: both sides are "metres walked at one speed".

OSRM needs Python >= 3.12 (its wheels), the project runs on 3.11: this script runs in both.
``python bench/bench_peers.py --osrm-python /tmp/benchvenv/bin/python`` (project venv) writes
the points, runs itself with ``--osrm-side`` under the other interpreter (which only needs
``osrm-bindings``: ``osrm-extract``/``partition``/``customize`` and the table), reads OSRM's
answer back, and prints and stores the comparison under ``--label`` in
``bench/results/peers.json`` (other labels already stored there are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import log

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "peers.json"
SAMPLES = {
    "hangzhou-xihu": ROOT / "data" / "raw" / "hangzhou_xihu_2015-02.osm.pbf",
    "liechtenstein": ROOT / "data" / "raw" / "liechtenstein_2015-07.osm.pbf",
}
AGREE_M = 50.0
N_WORST = 25


# --------------------------------------------------------------------------------------------
# the OSRM side (bench venv: Python >= 3.12 with osrm-bindings; no numpy, no coverage)


def osrm_side(pbf: Path, points: Path, out: Path, work: Path, weight: str) -> None:
    import shutil  # noqa: PLC0415

    import osrm  # noqa: PLC0415

    profile = Path(osrm.__file__).parent / "share" / "profiles" / "foot.lua"
    work.mkdir(parents=True, exist_ok=True)
    if weight != "duration":  # the same profile, routes chosen by another weight
        shutil.copytree(profile.parent, work / "profiles", dirs_exist_ok=True)
        text = profile.read_text(encoding="utf-8")
        if "weight_name                   = 'duration'" not in text:
            msg = "foot.lua: weight_name not found"
            raise SystemExit(msg)
        profile = work / "profiles" / "foot.lua"
        profile.write_text(
            text.replace("weight_name                   = 'duration'", f"weight_name = '{weight}'"),
            encoding="utf-8",
        )
    data = work / pbf.name
    if not data.exists():
        data.write_bytes(pbf.read_bytes())
    base = work / pbf.name.replace(".osm.pbf", ".osrm")
    t0 = time.perf_counter()
    for step in (
        ["extract", "-p", str(profile), str(data)],
        ["partition", str(base)],
        ["customize", str(base)],
    ):
        subprocess.run(
            [sys.executable, "-m", "osrm", *step], check=True, capture_output=True, cwd=work
        )
    prep_s = time.perf_counter() - t0
    pts = json.loads(points.read_text(encoding="utf-8"))
    com, hal = pts["communities"], pts["halls"]
    engine = osrm.OSRM(
        storage_config=str(base),
        algorithm="MLD",
        use_shared_memory=False,
        max_locations_distance_table=len(com) + len(hal) + 1,
    )
    params = osrm.TableParameters(
        coordinates=[tuple(p) for p in com + hal],
        sources=list(range(len(com))),
        destinations=list(range(len(com), len(com) + len(hal))),
        annotations=["distance", "duration"],
    )
    t0 = time.perf_counter()
    res = engine.Table(params)
    table_s = time.perf_counter() - t0
    # the same trips from the points where *we* snapped them (our roads' nearest points): a
    # difference that vanishes here comes from snapping to another road, not from routing
    snapped = pts.get("communities_on_road")
    again = None
    if snapped:
        params = osrm.TableParameters(
            coordinates=[tuple(p) for p in snapped + pts["halls_on_road"]],
            sources=list(range(len(snapped))),
            destinations=list(range(len(snapped), len(snapped) + len(hal))),
            annotations=["distance"],
        )
        res2 = engine.Table(params)
        again = {
            "distances": [
                [None if d is None else float(d) for d in row] for row in res2["distances"]
            ],
            "source_snap_m": [float(w["distance"]) for w in res2["sources"]],
            "destination_snap_m": [float(w["distance"]) for w in res2["destinations"]],
        }
    answer = {
        "from_our_snaps": again,
        "osrm_bindings": _version("osrm-bindings"),
        "profile": str(profile),
        "weight": weight,
        "prepare_s": prep_s,
        "table_s": table_s,
        "code": str(res["code"]),
        "distances": [[None if d is None else float(d) for d in row] for row in res["distances"]],
        "source_snap_m": [float(w["distance"]) for w in res["sources"]],
        "source_location": [[float(c) for c in w["location"]] for w in res["sources"]],
        "destination_snap_m": [float(w["distance"]) for w in res["destinations"]],
        "destination_location": [[float(c) for c in w["location"]] for w in res["destinations"]],
    }
    out.write_text(json.dumps(answer), encoding="utf-8")


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


# --------------------------------------------------------------------------------------------
# the project side (project venv)


def ours(sample: str) -> dict[str, Any]:
    import numpy as np  # noqa: PLC0415

    from coverage.engine import nearest_facility, snap_many  # noqa: PLC0415
    from coverage.samples import load_sample  # noqa: PLC0415

    s = load_sample(sample)
    net = s.network
    c_snap, h_snap = snap_many(net, [s.communities.geometry, s.halls.geometry])
    res = nearest_facility(net, c_snap, h_snap)
    to_m = net.speed_kph / 3.6
    names = net.seg_name if hasattr(net, "seg_name") else None
    seg_name = [str(names[i]) if names is not None and i >= 0 else "" for i in c_snap.seg.tolist()]
    hall_ids = s.halls["hall_id"].to_numpy()
    return {
        "communities_on_road": on_road(net, c_snap),
        "halls_on_road": on_road(net, h_snap),
        "community_id": s.communities["community_id"].astype(str).tolist(),
        "communities": [[p.x, p.y] for p in s.communities.geometry],
        "hall_id": [str(h) for h in hall_ids],
        "halls": [[p.x, p.y] for p in s.halls.geometry],
        "dist_m": [float(t * to_m) if np.isfinite(t) else None for t in res.time_s],
        "hall": [str(hall_ids[f]) if f >= 0 else None for f in res.facility.tolist()],
        "snap_m": [float(d) for d in c_snap.dist_m],
        "snap_road": seg_name,
        "hall_snap_m": [float(d) for d in h_snap.dist_m],
        "network": net.summary(),
    }


def on_road(net: Any, snapped: Any) -> list[list[float]]:
    """Where each point was snapped (lon, lat): the nearest point of its road."""
    import numpy as np  # noqa: PLC0415
    import pyproj  # noqa: PLC0415
    import shapely  # noqa: PLC0415

    seg = np.maximum(snapped.seg, 0)
    pts = shapely.line_interpolate_point(net.seg_geom[seg], snapped.frac, normalized=True)
    xy = shapely.get_coordinates(pts)
    lon, lat = pyproj.Transformer.from_crs(net.crs, 4326, always_xy=True).transform(
        xy[:, 0], xy[:, 1]
    )
    return [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]


def theirs(o: dict[str, Any]) -> dict[str, Any]:
    """OSRM's nearest hall per community: table metres + both snapped waypoint distances."""
    dist = []
    hall = []
    src, dst = o["source_snap_m"], o["destination_snap_m"]
    for i, row in enumerate(o["distances"]):
        best, which = None, None
        for j, d in enumerate(row):
            if d is None:
                continue
            total = d + src[i] + dst[j]
            if best is None or total < best:
                best, which = total, j
        dist.append(best)
        hall.append(which)
    return {"dist_m": dist, "hall_index": hall}


def compare(mine: dict[str, Any], o: dict[str, Any]) -> dict[str, Any]:
    import numpy as np  # noqa: PLC0415

    t = theirs(o)
    a = np.array([np.inf if d is None else d for d in mine["dist_m"]])
    b = np.array([np.inf if d is None else d for d in t["dist_m"]])
    both = np.isfinite(a) & np.isfinite(b)
    diff = np.where(both, a - b, np.where(np.isfinite(a) == np.isfinite(b), 0.0, np.inf))
    agree = np.abs(diff) <= AGREE_M
    order = np.argsort(-np.abs(np.where(np.isfinite(diff), diff, 1e12)))
    hall_ids = mine["hall_id"]
    worst = []
    again = None
    if o.get("from_our_snaps"):
        # OSRM from our snapped points, plus our off-road walks (community and hall)
        g = o["from_our_snaps"]
        hall_snap = mine["hall_snap_m"]
        again = np.array(
            [
                min(
                    (
                        d + mine["snap_m"][i] + hall_snap[j]
                        for j, d in enumerate(row)
                        if d is not None
                    ),
                    default=np.inf,
                )
                for i, row in enumerate(g["distances"])
            ]
        )
    explained_by_snap = (
        ~agree & (np.abs(a - again) <= AGREE_M) if again is not None else np.zeros_like(agree)
    )
    for i in order[:N_WORST].tolist():
        j = t["hall_index"][i]
        worst.append(
            {
                "osrm_from_our_snap_m": (
                    None
                    if again is None or not np.isfinite(again[i])
                    else round(float(again[i]), 1)
                ),
                "snapping_explains": bool(explained_by_snap[i]),
                "community_id": mine["community_id"][i],
                "lonlat": [round(v, 6) for v in mine["communities"][i]],
                "ours_m": None if not np.isfinite(a[i]) else round(float(a[i]), 1),
                "osrm_m": None if not np.isfinite(b[i]) else round(float(b[i]), 1),
                "diff_m": None if not np.isfinite(diff[i]) else round(float(diff[i]), 1),
                "ours_hall": mine["hall"][i],
                "osrm_hall": None if j is None else hall_ids[j],
                "ours_snap_m": round(mine["snap_m"][i], 1),
                "ours_snap_road": mine["snap_road"][i],
                "osrm_snap_m": round(o["source_snap_m"][i], 1),
                "osrm_snap_lonlat": o["source_location"][i],
            }
        )
    absd = np.abs(diff[both])
    return {
        "communities": len(a),
        "halls": len(hall_ids),
        "within_50m": int(agree.sum()),
        "share_within_50m": float(agree.mean()),
        "median_abs_diff_m": float(np.median(absd)) if len(absd) else None,
        "p90_abs_diff_m": float(np.percentile(absd, 90)) if len(absd) else None,
        "differ_only_by_snapping": int(explained_by_snap.sum()),
        "ours_unreachable": int((~np.isfinite(a)).sum()),
        "osrm_unreachable": int((~np.isfinite(b)).sum()),
        "ours_longer_by_50m": int((diff > AGREE_M).sum()),
        "ours_shorter_by_50m": int((diff < -AGREE_M).sum()),
        "hall_snap_m_ours_osrm": [
            [h, round(m, 1), round(w, 1)]
            for h, m, w in zip(hall_ids, mine["hall_snap_m"], o["destination_snap_m"], strict=True)
        ],
        "worst": worst,
        "per_community": {
            "community_id": mine["community_id"],
            "ours_m": [None if not np.isfinite(v) else round(float(v), 1) for v in a],
            "osrm_m": [None if not np.isfinite(v) else round(float(v), 1) for v in b],
        },
    }


def run(args: argparse.Namespace) -> None:
    import coverage  # noqa: PLC0415

    label = args.label
    stored: dict[str, Any] = (
        json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    )
    run_out: dict[str, Any] = {
        "coverage_from": str(Path(coverage.__file__).parent),
        "commit": args.commit,
        "python": platform.python_version(),
        "samples": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for sample, pbf in SAMPLES.items():
            if args.only and sample not in args.only:
                continue
            log(f"{label}: {sample}: ours")
            mine = ours(sample)
            pts = Path(tmp) / f"{sample}.points.json"
            keys = ("communities", "halls", "communities_on_road", "halls_on_road")
            pts.write_text(json.dumps({k: mine[k] for k in keys}), encoding="utf-8")
            out = Path(tmp) / f"{sample}.osrm.json"
            log(f"{label}: {sample}: OSRM ({args.osrm_python})")
            subprocess.run(
                [
                    args.osrm_python,
                    __file__,
                    "--osrm-side",
                    "--pbf",
                    str(pbf),
                    "--points",
                    str(pts),
                    "--out",
                    str(out),
                    "--work",
                    str(Path(tmp) / sample),
                    "--osrm-weight",
                    args.osrm_weight,
                ],
                check=True,
            )
            o = json.loads(out.read_text(encoding="utf-8"))
            cmp_ = compare(mine, o)
            cmp_["osrm"] = {
                k: o[k] for k in ("osrm_bindings", "weight", "prepare_s", "table_s", "code")
            }
            cmp_["ours_network"] = mine["network"]
            run_out["samples"][sample] = cmp_
            print_sample(label, sample, cmp_)
    stored[label] = run_out
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(stored, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log(f"stored under {label!r} in {RESULTS.relative_to(ROOT)}")


def print_sample(label: str, sample: str, c: dict[str, Any]) -> None:
    print(
        f"\n### {label}: {sample} ({c['communities']} communities, {c['halls']} halls)\n\n"
        f"within {AGREE_M:g} m of OSRM: {c['within_50m']}/{c['communities']} "
        f"({c['share_within_50m']:.1%}); median |diff| {c['median_abs_diff_m']:.1f} m; "
        f"ours longer by > 50 m: {c['ours_longer_by_50m']}, shorter: "
        f"{c['ours_shorter_by_50m']}; unreachable ours/OSRM: {c['ours_unreachable']}/"
        f"{c['osrm_unreachable']}; of the {c['communities'] - c['within_50m']} beyond 50 m, "
        f"{c['differ_only_by_snapping']} agree within 50 m when OSRM starts from our snapped "
        "points (another road at the same distance)\n"
    )
    print(
        "| community | ours (m) | OSRM (m) | ours − OSRM | OSRM from our snap (m) "
        "| hall ours / OSRM | snap ours / OSRM |"
    )
    print("|---|---:|---:|---:|---:|---|---|")
    for w in c["worst"]:
        print(
            f"| {w['community_id']} | {w['ours_m']} | {w['osrm_m']} | {w['diff_m']} | "
            f"{w['osrm_from_our_snap_m']} | {w['ours_hall']} / {w['osrm_hall']} | "
            f"{w['ours_snap_m']} m ({w['ours_snap_road'] or '-'}) / {w['osrm_snap_m']} m |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--osrm-side", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--pbf", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--points", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument(
        "--osrm-python",
        default=os.environ.get("OSRM_PYTHON", "/tmp/benchvenv/bin/python"),
        help="a Python >= 3.12 with osrm-bindings (default: $OSRM_PYTHON or /tmp/benchvenv)",
    )
    ap.add_argument(
        "--osrm-weight",
        default="duration",
        choices=["duration", "distance"],
        help="OSRM's route choice: the profile's (quickest, default) or the shortest",
    )
    ap.add_argument("--label", default="after", help="key of this run in peers.json")
    ap.add_argument("--commit", default="", help="commit of the code measured (stored)")
    ap.add_argument("--only", nargs="*", choices=list(SAMPLES), help="some samples only")
    args = ap.parse_args()
    if args.osrm_side:
        osrm_side(args.pbf, args.points, args.out, args.work, args.osrm_weight)
    else:
        run(args)


if __name__ == "__main__":
    main()
