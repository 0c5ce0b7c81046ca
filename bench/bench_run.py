"""The default ``coverage-planner audit`` run, end to end and stage by stage.

Usage::

    .venv/bin/python bench/bench_run.py            # 5 repeats; writes bench/results/run.json
    .venv/bin/python bench/bench_run.py --quick    # 2 repeats

Three views of the same run (the default sample, warm network cache):

1. **End to end**: the command a planner types, in a fresh process, wall clock (median).
2. **Stages**: the public functions the command calls, timed one by one in one process
   (imports, sample, audit, service areas, the report folder).
3. **Inside the report folder**: one profiled ``write_district_reports`` call, its time split
   by the library that spends it (folium/jinja2 for maps, openpyxl for Excel, matplotlib for
   charts, pyogrio for the GeoPackage, pyproj, our own code). Profiling slows the call; the
   shares are what count.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from _common import RESULTS_DIR, ROOT, fmt_s, log

if TYPE_CHECKING:
    from collections.abc import Callable

P = ParamSpec("P")
R = TypeVar("R")

#: Where a profiled function's own time is booked, by the first path part that matches.
_LIBRARIES = (
    ("folium", "maps (folium, branca, jinja2)"),
    ("branca", "maps (folium, branca, jinja2)"),
    ("jinja2", "maps (folium, branca, jinja2)"),
    ("coverage/maps", "maps (ours)"),
    ("coverage/_offline", "maps (ours)"),
    ("openpyxl", "Excel (openpyxl)"),
    ("xlsxwriter", "Excel (xlsxwriter)"),
    ("coverage/reports/_excel", "Excel (ours)"),
    ("matplotlib", "charts (matplotlib)"),
    ("PIL", "charts (matplotlib)"),
    ("coverage/reports/_charts", "charts (ours)"),
    ("pyogrio", "GeoPackage / files (pyogrio)"),
    ("pyproj", "CRS (pyproj)"),
    ("shapely", "geometry (shapely)"),
    ("geopandas", "tables (pandas, geopandas)"),
    ("pandas", "tables (pandas, geopandas)"),
    ("coverage/", "ours, elsewhere"),
)


def _command(out: Path) -> list[str]:
    code = "import sys; from coverage.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, "audit", "--out", str(out), "--no-progress"]


def end_to_end(repeats: int, work: Path) -> list[float]:
    """Wall-clock seconds of the default run in a fresh process, ``repeats`` times."""
    subprocess.run(_command(work / "warm"), check=True, capture_output=True)  # warm the cache
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(_command(work / f"e2e{i}"), check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def import_seconds(repeats: int) -> float:
    """Median seconds to import what the default run imports, less a bare interpreter."""
    mods = "coverage.cli, coverage.audit, coverage.isochrones, coverage.reports, coverage.maps"

    def run(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t0

    bare = statistics.median(run("pass") for _ in range(repeats))
    full = statistics.median(run(f"import {mods}") for _ in range(repeats))
    return full - bare


def stages(repeats: int, work: Path) -> tuple[dict[str, float], pstats.Stats]:
    """Median seconds per stage, and a profile of one report-folder call."""
    from coverage.audit import audit  # noqa: PLC0415
    from coverage.isochrones import travel_time_surface  # noqa: PLC0415
    from coverage.reports import write_district_reports  # noqa: PLC0415
    from coverage.samples import DEFAULT_SAMPLE, load_sample  # noqa: PLC0415

    runs: dict[str, list[float]] = {}

    def timed(label: str, fn: Callable[P, R], *a: P.args, **k: P.kwargs) -> R:
        t0 = time.perf_counter()
        out = fn(*a, **k)
        runs.setdefault(label, []).append(time.perf_counter() - t0)
        return out

    profile = cProfile.Profile()
    for i in range(repeats):
        sample = timed("sample (warm cache)", load_sample, DEFAULT_SAMPLE)
        result = timed("audit", audit, sample.communities, sample.halls, sample.network)
        cfg_bands = sorted({result.config.urban_threshold_min, result.config.rural_threshold_min})
        surface = timed(
            "service areas: surface",
            travel_time_surface,
            sample.network,
            sample.halls,
            communities=sample.communities,
        )
        bands = timed("service areas: bands", surface.polygons, cfg_bands)
        catch = timed("service areas: catchments", surface.polygons, cfg_bands, per="hall")
        kwargs = {"districts": sample.districts, "isochrones": bands, "catchments": catch}
        if i == 0:
            profile.enable()
        timed("report folder", write_district_reports, work / f"stage{i}", result, **kwargs)
        if i == 0:
            profile.disable()
    return {k: statistics.median(v) for k, v in runs.items()}, pstats.Stats(profile)


def by_library(stats: pstats.Stats) -> dict[str, float]:
    """Own (not cumulative) seconds of a profile, summed per library."""
    out: dict[str, float] = {}
    for (path, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        where = path.replace(os.sep, "/")
        label = next((lab for key, lab in _LIBRARIES if key in where), "other (stdlib, numpy)")
        out[label] = out.get(label, 0.0) + own
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def main() -> None:
    """Run the three views and print markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 repeats instead of 5")
    args = ap.parse_args()
    repeats = 2 if args.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        log("end to end …")
        e2e = end_to_end(repeats, work)
        log("imports …")
        imports = import_seconds(repeats)
        log("stages …")
        stage, stats = stages(repeats, work)
    libs = by_library(stats)
    total = sum(libs.values())
    spread = f"min {fmt_s(min(e2e))}, max {fmt_s(max(e2e))}"
    median = fmt_s(statistics.median(e2e))
    print(f"End to end (fresh process, warm cache, {repeats} runs): median {median} ({spread})\n")
    print("| stage | median |\n|---|---:|")
    print(f"| imports | {fmt_s(imports)} |")
    for k, v in stage.items():
        print(f"| {k} | {fmt_s(v)} |")
    print("\n| report folder, own time by library (profiled) | share |\n|---|---:|")
    for k, v in libs.items():
        print(f"| {k} | {v / total:.0%} |")
    RESULTS_DIR.mkdir(exist_ok=True)
    name = "run_quick.json" if args.quick else "run.json"
    (RESULTS_DIR / name).write_text(
        json.dumps(
            {"end_to_end_s": e2e, "imports_s": imports, "stages_s": stage, "report_by_lib": libs},
            indent=2,
        )
    )
    log(f"wrote {(RESULTS_DIR / name).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
