"""The streaming OSM reader against the osmnx route it replaces, on every bundled extract.

The reference is independent of the reader under test: pyosmium writes the road ways as OSM
XML, ``osmnx.graph_from_xml`` builds the graph and ``osmnx.simplify_graph`` joins the shape
nodes (:func:`coverage.network.read_graph`), then :meth:`EdgeTable.from_graph` flattens it.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from coverage._errors import NetworkError
from coverage.audit import CoverageWarning, audit
from coverage.config import Config
from coverage.network import EdgeTable, build_routing, load_network, read_graph, read_table
from coverage.samples import load_sample, sample_path

RAW = sample_path("liechtenstein", "network").parent
BAD = Path(__file__).parent / "data" / "bad"
EXTRACTS = [
    RAW / "liechtenstein_2015-07.osm.pbf",
    RAW / "hangzhou_xihu_2015-02.osm.pbf",
    RAW / "hangzhou_xihu_2015-02.osm.bz2",
]


def _edges(table):
    """Each directed edge keyed by its end nodes: OSM ids, or the rounded coordinates of the
    nodes a split loop road adds (their ids are made up)."""
    ids = table.node_ids.tolist()
    loop_from = int(table.meta["loop_nodes_from"])

    def key(i):
        return ids[i] if i < loop_from else (round(table.lon[i], 6), round(table.lat[i], 6))

    names = table.name
    out = defaultdict(list)
    for i in range(len(table.u)):
        out[key(table.u[i]), key(table.v[i])].append(
            (
                int(table.modes[i]),
                bool(table.oneway[i]),
                bool(table.bike_twoway[i]),
                frozenset(str(names[i]).split(" / ")),  # osmnx lists joined names in set order
                len(table.geom_coords[table.geom_index == i]),
                float(table.length_m[i]),
            )
        )
    return {k: sorted(v) for k, v in out.items()}


@pytest.fixture(scope="module", params=EXTRACTS, ids=lambda p: p.name)
def both(request):
    path = request.param
    reference = EdgeTable.from_graph(read_graph(path), source=str(path))
    table, graph = read_table(path)
    assert graph is None  # no graph on the way
    return path, reference, table


def test_same_junctions_edges_modes_directions_and_lengths_within_1_cm(both):
    _, reference, table = both
    assert sorted(table.node_ids[table.node_ids >= 0].tolist()) == sorted(
        reference.node_ids[reference.node_ids >= 0].tolist()
    )
    assert len(table.u) == len(reference.u)
    ref, new = _edges(reference), _edges(table)
    assert new.keys() == ref.keys()
    differ = [
        k
        for k in ref
        if [r[:-1] for r in ref[k]] != [r[:-1] for r in new[k]]
        or not np.allclose([r[-1] for r in ref[k]], [r[-1] for r in new[k]], rtol=0, atol=0.01)
    ]
    assert differ == [], [(k, ref[k], new[k]) for k in differ[:3]]
    assert table.meta["loop_roads"] == reference.meta["loop_roads"]


@pytest.mark.parametrize("name", ["hangzhou-xihu", "liechtenstein"])
def test_the_samples_audit_identically(name):
    sample = load_sample(name)
    path = sample_path(name, "network")
    old = build_routing(EdgeTable.from_graph(read_graph(path)), source=str(path))
    new = build_routing(read_table(path)[0], source=str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        a = audit(sample.communities, sample.halls, old).communities
        b = audit(sample.communities, sample.halls, new).communities
    assert (old.n_nodes, len(old.seg_u)) == (new.n_nodes, len(new.seg_u))
    for column in a.columns:
        assert a[column].equals(b[column]), column
    assert np.isfinite(a["travel_time_min"]).sum() > 0.9 * len(a)


@pytest.mark.parametrize(
    "name",
    [
        "network_truncated.osm.pbf",
        "network_corrupt.osm.pbf",
        "network_truncated.osm.bz2",
        "network_corrupt.osm.gz",
        "network_empty.osm",
        "network_empty.osm.pbf",
        "network_no_roads.osm",
        "network_ways_without_nodes.osm",
    ],
)
def test_a_bad_extract_is_one_line_naming_the_file_and_leaves_no_cache(name, tmp_path):
    path = BAD / name
    with pytest.raises(NetworkError) as info:
        load_network(path, config=Config(cache_dir=str(tmp_path)))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("district", ["Vaduz", "Balzers", "Ruggell"])
def test_reading_a_districts_box_gives_what_clipping_the_whole_gives(district):
    """A province extract is read one district (+ buffer) at a time: the same routing view."""
    import geopandas as gpd

    from coverage.network import DEFAULT_BUFFER_M, clip_network

    sample = load_sample("liechtenstein")
    path = sample_path("liechtenstein", "network")
    polygon = sample.districts.set_index("district").geometry[district]
    utm = gpd.GeoSeries([polygon], crs=4326).estimate_utm_crs()
    area = gpd.GeoSeries([polygon], crs=4326).to_crs(utm).buffer(DEFAULT_BUFFER_M).to_crs(4326)
    cfg = Config(use_cache=False)
    whole = load_network(path, config=cfg)
    part = load_network(path, config=cfg, bbox=tuple(area.total_bounds))
    assert part.n_nodes < whole.n_nodes
    a = clip_network(whole, polygon, DEFAULT_BUFFER_M, name=district)
    b = clip_network(part, polygon, DEFAULT_BUFFER_M, name=district)

    def segments(net):
        ids = net.node_ids
        return sorted(
            (int(ids[u]), int(ids[v]), round(float(n), 2), round(float(f), 2), round(float(r), 2))
            for u, v, n, f, r in zip(
                net.seg_u, net.seg_v, net.seg_length_m, net.seg_fwd_s, net.seg_bwd_s, strict=True
            )
        )

    assert sorted(a.node_ids.tolist()) == sorted(b.node_ids.tolist())
    assert segments(a) == segments(b)


def test_a_box_without_roads_says_it_read_only_the_box():
    path = sample_path("liechtenstein", "network")
    with pytest.raises(NetworkError, match=r"no highway ways found .*reading only the box lon 100"):
        load_network(path, config=Config(use_cache=False), bbox=(100.0, 10.0, 100.1, 10.1))


def test_a_box_and_the_whole_file_are_cached_side_by_side(tmp_path):
    path = sample_path("liechtenstein", "network")
    cfg = Config(cache_dir=str(tmp_path))
    box = (9.45, 47.03, 9.55, 47.08)
    load_network(path, config=cfg)
    load_network(path, config=cfg, bbox=box)
    tables = [p for p in tmp_path.glob("*.npz") if ".routing." not in p.name]
    assert len(tables) == 2  # neither read dropped the other's entry
    written = {p: p.stat().st_mtime_ns for p in tables}
    again = load_network(path, config=cfg, bbox=box)
    assert again.table_path in tables
    assert {p: p.stat().st_mtime_ns for p in tables} == written  # read back, not written again
