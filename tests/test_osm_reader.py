"""The streaming OSM reader against the osmnx route it replaces, on every bundled extract.

The reference is independent of the reader under test: pyosmium writes the road ways as OSM
XML, ``osmnx.graph_from_xml`` builds the graph and ``osmnx.simplify_graph`` joins the shape
nodes (:func:`coverage.network.read_graph`), then :meth:`EdgeTable.from_graph` flattens it.
"""

from __future__ import annotations

import warnings
from collections import defaultdict

import numpy as np
import pytest

from coverage.audit import CoverageWarning, audit
from coverage.network import EdgeTable, build_routing, read_graph, read_table
from coverage.samples import load_sample, sample_path

RAW = sample_path("liechtenstein", "network").parent
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
