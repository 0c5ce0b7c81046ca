"""Benchmark: the maps of the default run (``coverage-planner audit``, hangzhou-central).

The run writes six maps (the whole sample and its five zones). This script audits the sample
and draws the service areas as the CLI does, then writes the run's folder with
``coverage.reports.write_district_reports`` several times, timing the two map steps inside it:
building each map (``coverage.maps.coverage_map``) and saving it as one self-contained file
(``coverage.maps.save_map``).

Run::

    python bench/bench_maps.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

from _common import fmt_s, log

import coverage.maps
from coverage.audit import audit
from coverage.isochrones import travel_time_surface
from coverage.reports import write_district_reports
from coverage.samples import load_sample


def main() -> None:
    """Time the map steps of the default run's folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    log("loading hangzhou-central, audit, service areas")
    s = load_sample("hangzhou-central")
    result = audit(s.communities, s.halls, s.network)
    surface = travel_time_surface(s.network, s.halls, communities=s.communities)
    minutes = sorted({result.config.urban_threshold_min, result.config.rural_threshold_min})
    bands, catchments = surface.polygons(minutes), surface.polygons(minutes, per="hall")
    spent = {"build": 0.0, "save": 0.0}
    build, save = coverage.maps.coverage_map, coverage.maps.save_map

    def timed(step: str, fn: Any) -> Any:
        def run(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            out = fn(*a, **k)
            spent[step] += time.perf_counter() - t
            return out

        return run

    coverage.maps.coverage_map = timed("build", build)  # type: ignore[assignment]
    coverage.maps.save_map = timed("save", save)  # type: ignore[assignment]
    rows = []
    for i in range(args.repeat):
        spent.update(build=0.0, save=0.0)
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            write_district_reports(d, result, districts=s.districts, isochrones=bands,
                                   catchments=catchments, title=s.title)  # fmt: skip
            folder = time.perf_counter() - t
        rows.append((spent["build"], spent["save"], folder))
        log(f"run {i + 1}: build {spent['build']:.2f} s, save {spent['save']:.2f} s")
    med = [statistics.median(r[j] for r in rows) for j in range(3)]
    print("| step (6 maps) | median |")
    print("|---|---|")
    print(f"| build (coverage_map) | {fmt_s(med[0])} |")
    print(f"| save (save_map, offline) | {fmt_s(med[1])} |")
    print(f"| maps together | {fmt_s(med[0] + med[1])} |")
    print(f"| the whole folder (maps, Excel, charts, ...) | {fmt_s(med[2])} |")


if __name__ == "__main__":
    main()
