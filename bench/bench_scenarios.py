"""Scenarios on central Hangzhou: each kind of edit against re-running the audit from scratch.

Usage::

    .venv/bin/python bench/bench_scenarios.py      # writes bench/results/scenarios.json

The bundled sample ``hangzhou-central`` on foot (2,280 street blocks, 73 halls). Each
scenario is timed as a planner would run it in a notebook that already holds the baseline
(``run_scenario(communities, halls, network, scenario, baseline=...)``: apply the edits,
check them, audit the edited situation), against re-running everything from scratch in the
same process: reading the sample (network from its on-disk cache, communities, halls) into a
new network object, then ``audit()`` (which builds the snapping index again); once, the same
with the network parsed from its file (no cache). Medians of 5
(``gc.collect()`` before each) after one warm-up; road scenarios also report their stages
(``EditedInputs.seconds``: the edited table, ``build_routing``) and the audit on the edited
network (its own snapping index). The targets (issue 17): hall and community edits ≤ 0.2 s,
road edits ≤ 3 s.
"""

from __future__ import annotations

import gc
import json
import time
from typing import Any

from _common import RESULTS_DIR, fmt_s, fmt_x, log, timed

from coverage.audit import audit
from coverage.config import Config
from coverage.network import load_network
from coverage.samples import load_sample, sample_path
from coverage.scenarios import (
    AddHall,
    AddRoad,
    Barrier,
    CloseHalls,
    CloseRoad,
    MoveHall,
    Scenario,
    SetCommunities,
    SetSpeed,
    apply_scenario,
    audit_edited,
    run_scenario,
)

REPEATS = 5
#: A point in the middle of the network (lon, lat): the road edits are drawn around it.
CENTRE = (120.16, 30.29)


def _scenarios(com: Any, halls: Any) -> dict[str, tuple[str, Scenario]]:
    """The scenarios timed: (kind, scenario) by label."""
    ids = halls["hall_id"].tolist()
    at = com.geometry.iloc[[10, 500, 1500]]
    adds = tuple(AddHall(f"P-{k}", p.x, p.y, floor_area_m2=600) for k, p in enumerate(at, 1))
    zone = str(min(com["district"].unique()))
    lon, lat = CENTRE
    link = AddRoad(((lon, lat), (lon + 0.004, lat + 0.002)), name="footbridge")
    close = CloseRoad(line=((lon - 0.002, lat - 0.002), (lon + 0.002, lat + 0.002)))
    band = (
        (lon - 0.02, lat + 0.01),
        (lon + 0.02, lat + 0.01),
        (lon + 0.02, lat + 0.012),
        (lon - 0.02, lat + 0.012),
    )
    barrier = Barrier(band, name="works")
    speed = SetSpeed(3.0, street=("中山北路",))
    return {
        "close 2 halls": ("halls", Scenario("a", edits=(CloseHalls(tuple(ids[:2])),))),
        "open 3 halls": ("halls", Scenario("b", edits=adds)),
        "move 1 hall": (
            "halls",
            Scenario("c", edits=(MoveHall(ids[5], at.iloc[0].x, at.iloc[0].y),)),
        ),
        "reclassify a district (rural)": (
            "halls",
            Scenario("d", edits=(SetCommunities(district=zone, kind="rural"),)),
        ),
        "close 2 + open 3 + reclassify": (
            "halls",
            Scenario(
                "e",
                edits=(
                    CloseHalls(tuple(ids[:2])),
                    *adds,
                    SetCommunities(district=zone, kind="rural"),
                ),
            ),
        ),
        "new link (footbridge)": ("roads", Scenario("f", edits=(link,))),
        "closed road (drawn line)": ("roads", Scenario("g", edits=(close,))),
        "barrier (4 km band)": ("roads", Scenario("h", edits=(barrier,))),
        "speed of a street": ("roads", Scenario("i", edits=(speed,))),
        "all four road edits + halls": (
            "roads",
            Scenario("j", edits=(link, close, barrier, speed, *adds)),
        ),
    }


def main() -> None:
    """Time every scenario and the from-scratch re-run; print a table, write the JSON."""
    sample = load_sample("hangzhou-central")
    net, com, halls = sample.network, sample.communities, sample.halls
    baseline = audit(com, halls, net)

    def from_scratch() -> None:
        s = load_sample("hangzhou-central")  # a new network object: nothing kept on it
        audit(s.communities, s.halls, s.network)

    log("from scratch …")
    scratch = timed(from_scratch, REPEATS, warm_up=True)[0]
    log("from scratch, parsing the network file (no cache) …")
    gc.collect()
    t0 = time.perf_counter()
    cold = load_network(sample_path("hangzhou-central", "network"), config=Config(use_cache=False))
    audit(com, halls, cold)
    cold_s = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    for label, (kind, s) in _scenarios(com, halls).items():
        log(f"{label} …")
        t = timed(
            lambda s=s: run_scenario(com, halls, net, s, baseline=baseline), REPEATS, warm_up=True
        )[0]
        row: dict[str, Any] = {"scenario": label, "kind": kind, "seconds": t}
        if kind == "roads":
            edited = apply_scenario(com, halls, net, s)
            t0 = time.perf_counter()
            audit_edited(edited, baseline=baseline)
            row["audit_edited_s"] = time.perf_counter() - t0
            row |= {f"{k}_s": v for k, v in edited.seconds.items()}
            row["edited_nodes"] = edited.network.n_nodes
            row["edited_segments"] = len(edited.network.seg_u)
            row["road_features"] = len(edited.roads)
        rows.append(row)
    sizes = {
        "communities": len(com),
        "halls": len(halls),
        "nodes": net.n_nodes,
        "segments": len(net.seg_u),
        "table_edges": len(net.table.u),
    }
    out = {
        "from_scratch_s": scratch,
        "from_file_no_cache_s": cold_s,
        "scenarios": rows,
        "sizes": sizes,
        "repeats": REPEATS,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "scenarios.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(f"sizes: {sizes}")
    print("| scenario | kind | time | from scratch / time | stages |")
    print("|---|---|---:|---:|---|")
    print(f"| re-run from scratch (load + snap + audit) | – | {fmt_s(scratch)} | 1.00× | |")
    print(f"| the same, parsing the network file (no cache; 1 run) | – | {fmt_s(cold_s)} | | |")
    for r in rows:
        stages = ""
        if r["kind"] == "roads":
            stages = (
                f"table {fmt_s(r.get('table_s'))}, build_routing {fmt_s(r.get('build_routing_s'))}"
                f", audit {fmt_s(r['audit_edited_s'])}"
            )
        print(
            f"| {r['scenario']} | {r['kind']} | {fmt_s(r['seconds'])} | "
            f"{fmt_x(scratch / r['seconds'])} | {stages} |"
        )


if __name__ == "__main__":
    main()
