"""Reading OSM extracts: the streaming reader against the osmnx route and its peers.

Usage::

    .venv/bin/python bench/bench_ingest.py            # 8 x 8 tiles; bench/results/ingest.json
    .venv/bin/python bench/bench_ingest.py --tiles 2  # a quick run on 2 x 2 tiles

Only small extracts ship, so the city-size input is made here, deterministically: the bundled
Liechtenstein extract (``data/raw/liechtenstein_2015-07.osm.pbf``) tiled ``n x n`` times,
each copy shifted east and north by the extract's own size (plus a gap) with node and way
ids shifted by ``tile << 34``; nodes and ways only (relations play no part in a road
network). It is written once to ``bench/data/`` (not tracked) with pyosmium.

Each approach runs in a fresh process; the table gives wall time and the process's peak
resident memory (``ru_maxrss``):

- **ours, streaming**: ``load_network(path)`` without the cache (read + routing view), and
  ``read_table`` alone;
- **today's route (osmnx)**: ``read_graph`` (pyosmium → OSM XML → ``osmnx.graph_from_xml``
  → ``simplify_graph``) + ``EdgeTable.from_graph`` + ``build_routing``, as ``load_network``
  did before the streaming reader; stopped after ``--limit`` seconds;
- **osmnx XML parse alone**: ``osmnx.graph_from_xml`` of the roads written as XML;
- **cache reload**: ``load_network`` of the same file the second time (the planner's next run);
- **first audit**: read + routing view + snapping + ``audit()`` of the tiled communities and
  halls of the Liechtenstein sample (every tile's copy).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from _common import RESULTS_DIR, ROOT, fmt_s, fmt_x, log
from _tiled import SOURCE, make_tiled

_PRELUDE = """
import resource, sys, time, warnings, json
from pathlib import Path
warnings.simplefilter("ignore")
path = Path(sys.argv[1])
import osmium, pyproj, scipy.sparse.csgraph, shapely  # imports are not what is timed
import coverage.network, coverage.audit
def done(**extra):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": rss, **extra}))
"""

_JOBS = {
    "ours, streaming: load_network (read + routing view)": """
from coverage.config import Config
from coverage.network import load_network
t0 = time.perf_counter()
net = load_network(path, config=Config(use_cache=False))
done(nodes=net.n_nodes, segments=len(net.seg_u))
""",
    "ours, streaming: read_table alone": """
from coverage.network import read_table
t0 = time.perf_counter()
table, _ = read_table(path)
done(edges=len(table.u))
""",
    "today's route: read_graph + from_graph + build_routing": """
from coverage.network import EdgeTable, build_routing, read_graph
import osmnx
t0 = time.perf_counter()
net = build_routing(EdgeTable.from_graph(read_graph(path)), source=str(path))
done(nodes=net.n_nodes, segments=len(net.seg_u))
""",
    "osmnx.graph_from_xml alone (roads as XML, no simplify)": """
import osmium, osmnx as ox, tempfile
from coverage.network import is_road
xml = Path(tempfile.mkdtemp()) / "roads.osm"
with osmium.SimpleWriter(str(xml)) as w:  # the roads and their nodes, as today's route writes
    fp = osmium.FileProcessor(str(path)).with_locations().with_filter(
        osmium.filter.EntityFilter(osmium.osm.WAY)).with_filter(osmium.filter.KeyFilter("highway"))
    seen = set()
    for way in fp:
        if not is_road(way.tags.get("highway") or "", way.tags.get("area") or ""):
            continue
        refs = [n.ref for n in way.nodes if n.location.valid()]
        for n in way.nodes:
            if n.location.valid() and n.ref not in seen:
                seen.add(n.ref)
                w.add_node(osmium.osm.mutable.Node(id=n.ref, location=(n.lon, n.lat)))
        tags = {"highway": way.tags["highway"]}
        w.add_way(osmium.osm.mutable.Way(id=way.id, nodes=refs, tags=tags))
t0 = time.perf_counter()
G = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
done(nodes=G.number_of_nodes())
""",
    "cache reload: load_network, second run": """
import tempfile
from coverage.config import Config
from coverage.network import load_network
cfg = Config(cache_dir=tempfile.mkdtemp())
load_network(path, config=cfg)
t0 = time.perf_counter()
net = load_network(path, config=cfg)
done(nodes=net.n_nodes)
""",
    "first audit: read + routing view + snap + audit": """
from coverage.audit import audit
from coverage.config import Config
from coverage.network import load_network
sys.path.insert(0, sys.argv[3])
from _tiled import tiled_sample
com, hal, _ = tiled_sample(int(sys.argv[2]))
t0 = time.perf_counter()
net = load_network(path, config=Config(use_cache=False))
res = audit(com, hal, net, config=Config(check_coordinates=False))
done(communities=len(com), covered=int(res.communities["covered"].sum()))
""",
}


def run(label: str, path: Path, limit: float, extra: list[str]) -> dict[str, object]:
    """One job in a fresh process: its JSON line, or why there is none."""
    code = _PRELUDE + textwrap.dedent(_JOBS[label])
    log(f"{label} …")
    t0 = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, "-c", code, str(path), *extra],
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {limit:g} s", "seconds": time.perf_counter() - t0}
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1][:200]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Make the input, run every job, print a markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", type=int, default=8, help="tiles per side (default 8)")
    ap.add_argument("--limit", type=float, default=900, help="seconds per job (default 900)")
    args = ap.parse_args()
    log(f"making the {args.tiles}×{args.tiles} input (once) …")
    path = make_tiled(args.tiles)
    size_mb = path.stat().st_size / 1e6
    shift = [str(args.tiles), str(Path(__file__).parent)]
    rows = {}
    for label in _JOBS:
        extra = shift if label.startswith("first audit") else []
        rows[label] = run(label, path, args.limit, extra)
    single = {label: run(label, SOURCE, args.limit, []) for label in list(_JOBS)[:3]}
    print(f"Input: {path.name}, {size_mb:.1f} MB ({args.tiles}×{args.tiles} tiles of the "
          f"Liechtenstein extract)\n")  # fmt: skip
    ours = rows[next(iter(_JOBS))].get("seconds")
    print("| approach | wall time | peak memory | vs ours | notes |\n|---|---:|---:|---:|---|")
    for label, r in rows.items():
        secs = r.get("seconds")
        ratio = fmt_x(secs / ours) if isinstance(secs, float) and isinstance(ours, float) else ""
        notes = r.get("error") or ", ".join(
            f"{k} {v:,}" for k, v in r.items() if k not in {"seconds", "peak_mb"}
        )
        peak = f"{r['peak_mb']:,.0f} MB" if "peak_mb" in r else ""
        print(f"| {label} | {fmt_s(secs if isinstance(secs, float) else None)} | {peak} | "
              f"{ratio} | {notes} |")  # fmt: skip
    print("\nThe bundled Liechtenstein extract itself (1.3 MB):\n")
    print("| approach | wall time | peak memory |\n|---|---:|---:|")
    for label, r in single.items():
        secs = r.get("seconds")
        peak = f"{r['peak_mb']:,.0f} MB" if "peak_mb" in r else ""
        print(f"| {label} | {fmt_s(secs if isinstance(secs, float) else None)} | {peak} |")
    RESULTS_DIR.mkdir(exist_ok=True)
    name = "ingest.json" if args.tiles == 8 else f"ingest_{args.tiles}x{args.tiles}.json"
    (RESULTS_DIR / name).write_text(
        json.dumps(
            {"input": path.name, "size_mb": size_mb, "tiled": rows, "single": single}, indent=2
        )
    )
    log(f"wrote {(RESULTS_DIR / name).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
