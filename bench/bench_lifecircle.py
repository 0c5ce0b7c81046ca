"""The life-circle audit with 8 services: ours against its own floor and against pandana.

Usage::

    .venv/bin/python bench/bench_lifecircle.py      # writes bench/results/lifecircle.json

Central Hangzhou on foot (the bundled network and its 2,280 street blocks, as in
``bench_audit.py``), 8 services of 100 sites each, sampled along walkable segments
(length-weighted, fixed seeds). One run, side by side:

- **ours**: ``audit_services(communities, sites, network, standard=...)``, the whole call
  (snapping, 8 passes, verdicts, reasons, tables);
- **floor**: one ``snap`` of the communities, then per service ``snap`` of its sites and one
  ``nearest_facility`` pass: the routing alone, nothing else;
- **pandana 0.8**: ``pandana.Network`` + ``precompute(900)`` (set-up), then per service
  ``set_pois`` + ``nearest_pois`` and ``get_node_ids`` for the communities (as in
  ``bench_audit.py``; it answers per network node, without the off-road walk).

Medians of 5 (``gc.collect()`` before each), pandana's set-up once. The target (issue 16):
ours ≤ 2 × the floor.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from _common import RESULTS_DIR, ROOT, central_network, fmt_s, fmt_x, log, timed
from bench_audit import make_communities, pandana_setup, points_along_edges, quiet_stdout, xy_metric

from coverage.config import Config
from coverage.engine import nearest_facility, snap
from coverage.lifecircle import Service, Standard, audit_services
from coverage.network import load_network

if TYPE_CHECKING:
    from coverage.network import Network

N_SERVICES = 8
N_SITES = 100
REPEATS = 5
CIRCLES_MIN = [5, 10, 15, 15, 10, 5, 15, 10]


def _sites(net: Network) -> dict[str, gpd.GeoDataFrame]:
    out = {}
    for i in range(N_SERVICES):
        pts = points_along_edges(net, N_SITES, np.random.default_rng(100 + i))
        out[f"s{i}"] = gpd.GeoDataFrame(
            geometry=gpd.GeoSeries(pts, crs=net.crs).to_crs(4326).values, crs=4326
        )
    return out


def _pandana(
    net: Network, com: gpd.GeoDataFrame, sites: dict[str, gpd.GeoDataFrame]
) -> tuple[float | None, float | None]:
    """Set-up seconds and median query seconds of pandana, or ``None`` without it."""
    try:
        import pandana  # noqa: F401, PLC0415
    except ImportError:
        log("pandana not installed: skipped (pip install -r bench/requirements.txt)")
        return None, None
    log("pandana …")
    t0 = time.perf_counter()
    pnet = pandana_setup(net)()
    setup = time.perf_counter() - t0
    cx, cy = xy_metric(net, com)

    def run() -> None:
        with quiet_stdout():
            node_ids = pnet.get_node_ids(pd.Series(cx), pd.Series(cy))
            for key, frame in sites.items():
                hx, hy = xy_metric(net, frame)
                pnet.set_pois(key, 900, 1, pd.Series(hx), pd.Series(hy))
                pnet.nearest_pois(900, key, num_pois=1).reindex(node_ids.to_numpy())

    return setup, timed(run, REPEATS)[0]


def main() -> None:
    """Run the three and print a markdown table."""
    cfg = Config(check_coordinates=False)
    net = load_network(central_network(), mode="walk")
    com, where = make_communities(net)
    sites = _sites(net)
    std = Standard(
        "bench", "bench", "generated",
        tuple(Service(k, k, k, {"urban": float(m)}, {}, "bench")
              for k, m in zip(sites, CIRCLES_MIN, strict=True)),
    )  # fmt: skip
    audit_services(com, sites, net, standard=std, config=cfg)  # warm (snapping index)

    def floor() -> None:
        c = snap(net, com.geometry, config=cfg)
        for frame in sites.values():
            nearest_facility(net, c, snap(net, frame.geometry, config=cfg))

    log("ours …")
    t_ours = timed(lambda: audit_services(com, sites, net, standard=std, config=cfg), REPEATS)[0]
    log("floor …")
    t_floor = timed(floor, REPEATS)[0]
    t_setup, t_pandana = _pandana(net, com, sites)
    print(f"Central Hangzhou on foot, {where}; {N_SERVICES} services × {N_SITES} sites.\n")
    print("| approach | time | vs floor |\n|---|---:|---:|")
    print(f"| floor: 1 snap + {N_SERVICES} × (snap + pass) | {fmt_s(t_floor)} | 1.00× |")
    print(f"| **ours**: `audit_services`, whole | {fmt_s(t_ours)} | {fmt_x(t_ours / t_floor)} |")
    if t_pandana is not None and t_setup is not None:
        print(f"| pandana: queries | {fmt_s(t_pandana)} | {fmt_x(t_pandana / t_floor)} |")
        total = t_pandana + t_setup
        print(f"| pandana: set-up + queries | {fmt_s(total)} | {fmt_x(total / t_floor)} |")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = {"ours_s": t_ours, "floor_s": t_floor, "pandana_s": t_pandana, "pandana_setup_s": t_setup}
    (RESULTS_DIR / "lifecircle.json").write_text(json.dumps(out, indent=2))
    log(f"wrote {(RESULTS_DIR / 'lifecircle.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
