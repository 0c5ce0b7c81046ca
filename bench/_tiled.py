"""A city-size input made from the bundled Liechtenstein extract, for the benches.

Only small extracts ship, so :func:`make_tiled` tiles ``data/raw/liechtenstein_2015-07.osm.pbf``
``n x n`` times, each copy shifted east and north by the extract's own size plus a gap, with
node and way ids shifted by ``tile << 34``; nodes and ways only (relations play no part in a
road network). It is written once to ``bench/data/`` (not tracked) with pyosmium.
:func:`tiled_sample` gives the sample's communities, halls and districts tiled the same way.
"""

from __future__ import annotations

import json
from pathlib import Path  # noqa: TC003 (a run-time annotation is harmless here)

from _common import ROOT

SOURCE = ROOT / "data" / "raw" / "liechtenstein_2015-07.osm.pbf"
DATA = ROOT / "bench" / "data"


def make_tiled(n: int) -> Path:
    """The ``n x n`` tiled extract (written once), its path; the shift is in ``<path>.json``."""
    out = DATA / f"liechtenstein_tiled_{n}x{n}.osm.pbf"
    if out.exists() and out.with_suffix(".json").exists():
        return out
    import osmium  # noqa: PLC0415

    DATA.mkdir(parents=True, exist_ok=True)
    nodes = []
    ways = []
    for obj in osmium.FileProcessor(str(SOURCE), osmium.osm.NODE | osmium.osm.WAY):
        if isinstance(obj, osmium.osm.Node) and obj.location.valid():
            nodes.append((obj.id, obj.location.x, obj.location.y, dict(obj.tags)))
        elif isinstance(obj, osmium.osm.Way):
            ways.append((obj.id, [r.ref for r in obj.nodes], dict(obj.tags)))
    xs = [x for _, x, _, _ in nodes]
    ys = [y for _, _, y, _ in nodes]
    dx = max(xs) - min(xs) + 50_000  # 1e-7 degrees: the extract's width plus ~0.005°
    dy = max(ys) - min(ys) + 50_000
    tmp = out.with_suffix(".tmp.pbf")
    tmp.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(tmp)) as w:
        tiles = [(i, j) for i in range(n) for j in range(n)]
        for k, (i, j) in enumerate(tiles):
            shift = k << 34
            for nid, x, y, tags in nodes:
                loc = osmium.osm.Location((x + i * dx) / 1e7, (y + j * dy) / 1e7)
                w.add_node(osmium.osm.mutable.Node(id=nid + shift, location=loc, tags=tags))
        for k in range(len(tiles)):
            shift = k << 34
            for wid, refs, tags in ways:
                nodes_k = [r + shift for r in refs]
                w.add_way(osmium.osm.mutable.Way(id=wid + shift, nodes=nodes_k, tags=tags))
    tmp.rename(out)
    out.with_suffix(".json").write_text(json.dumps({"dx_deg": dx / 1e7, "dy_deg": dy / 1e7}))
    return out


def tiled_sample(n: int):
    """The Liechtenstein sample's communities, halls and districts, tiled like the extract.

    Ids and district names get a ``-i-j`` suffix per tile.
    """
    import geopandas as gpd  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    from coverage.samples import load_sample  # noqa: PLC0415

    step = json.loads(make_tiled(n).with_suffix(".json").read_text())
    sample = load_sample("liechtenstein")

    def tile(frame, columns):
        parts = []
        for i in range(n):
            for j in range(n):
                g = frame.to_crs(4326).copy()
                g.geometry = g.geometry.translate(i * step["dx_deg"], j * step["dy_deg"])
                for c in columns:
                    if c in g:
                        g[c] = g[c].astype(str) + f"-{i}-{j}"
                parts.append(g)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)

    return (
        tile(sample.communities, ("community_id", "district")),
        tile(sample.halls, ("hall_id", "district")),
        tile(sample.districts, ("district",)),
    )
