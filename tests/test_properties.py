"""Property tests (hypothesis): routing equals networkx; loaders fail only in our own way.

(a) On random small MultiDiGraphs near Hangzhou (connected or not, some one-way edges, some
zero-length edges, self-loops and parallel edges), the engine's nearest-hall times for points
placed exactly at nodes equal :func:`networkx.multi_source_dijkstra` within 1e-6 s: walking on
the undirected graph, driving on the directed graph from community to hall; unreachable
exactly where networkx finds no path.

(b) The loaders, given random tables (headers from the alias lists plus junk; cells None, '',
'abc', negative, huge and non-finite numbers, Chinese text), in memory or written to CSV and
Excel files, either return a valid GeoDataFrame or raise a
:class:`~coverage._errors.CoverageError`; every warning is one of their own.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import openpyxl
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from coverage._errors import CoverageError
from coverage.engine import nearest_facility, snap
from coverage.io import COMMUNITY_ALIASES, HALL_ALIASES, read_communities, read_halls
from coverage.network import load_network

if TYPE_CHECKING:
    from pathlib import Path

    from coverage.network import Network


# Modest by default so that the suite stays fast, and derandomized so that a failure is
# reproducible; COVERAGE_HYPOTHESIS_EXAMPLES=2000 hunts harder, with fresh examples.
_EXAMPLES = os.environ.get("COVERAGE_HYPOTHESIS_EXAMPLES")
SETTINGS = settings(
    max_examples=int(_EXAMPLES or 60),
    deadline=None,
    derandomize=_EXAMPLES is None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- (a) routing against networkx ----------------------------------------------------------------

UTM51 = pyproj.Transformer.from_crs(32651, 4326, always_xy=True)
WALK_KPH, DRIVE_KPH = 4.5, 30.0


# Walking also draws from a few fixed lengths, so that opposite edges of equal or nearly
# equal length (paired as the two directions of one road) are frequent.
WALK_LENGTHS = [0.0, 1.0, 7.0, 30.0, 30.5, 55.5, 120.0, 300.0, 301.0, 640.0, 1000.0, 2250.0]


@st.composite
def random_graphs(draw: st.DrawFn, *, walk: bool = False) -> dict[str, Any]:
    """A small random road graph with some halls and communities at its nodes."""
    n = draw(st.integers(2, 12))
    # node positions in general position (no three nearly collinear within snapping noise):
    # random floats from a drawn seed, at least 20 m apart, in a 2 km square in Hangzhou
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 2000.0, (n, 2))
    while n > 1 and min(math.dist(xy[i], xy[j]) for i in range(n) for j in range(i + 1, n)) < 20.0:
        xy = rng.uniform(0.0, 2000.0, (n, 2))
    lengths = st.one_of(
        st.just(0.0),  # zero-length edges
        st.floats(0.0, 3000.0, allow_nan=False, allow_infinity=False),
        st.integers(1, 3000).map(float),
        *([st.sampled_from(WALK_LENGTHS)] if walk else []),
    )
    edge = st.tuples(
        st.integers(0, n - 1),
        st.integers(0, n - 1),  # u == v: a self-loop
        lengths,
        st.booleans(),  # one-way
        st.sampled_from([None, None, 15.0, 60.0]),  # speed_kph (used when driving)
    )
    edges = draw(st.lists(edge, min_size=1, max_size=3 * n))
    halls = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
    homes = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    return {"xy": xy, "edges": edges, "halls": halls, "homes": homes}


def _graph(spec: dict[str, Any]) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(crs="epsg:4326")
    for i, (x, y) in enumerate(spec["xy"]):
        lon, lat = UTM51.transform(226_000.0 + x, 3_350_000.0 + y)
        G.add_node(i, x=float(lon), y=float(lat))
    for u, v, length, oneway, speed in spec["edges"]:
        attrs: dict[str, Any] = {"length": length, "highway": "residential"}
        if speed is not None:
            attrs["speed_kph"] = speed
        G.add_edge(u, v, **attrs)
        if not oneway:
            G.add_edge(v, u, **attrs)
    return G


def _expected(G: nx.MultiDiGraph, mode: str, halls: list[int], homes: list[int]) -> np.ndarray:
    """Nearest-hall times by networkx, seconds (inf where no hall can be reached)."""
    if mode == "walk":
        H: nx.Graph = nx.Graph()
        H.add_nodes_from(G.nodes)
        for u, v, d in G.edges(data=True):
            t = d["length"] / (WALK_KPH / 3.6)
            if u != v and (not H.has_edge(u, v) or t < H[u][v]["t"]):
                H.add_edge(u, v, t=t)
    else:
        # trips run from a community to a hall: search from the halls on the reversed graph
        H = nx.DiGraph()
        H.add_nodes_from(G.nodes)
        for u, v, d in G.edges(data=True):
            t = d["length"] / (d.get("speed_kph", DRIVE_KPH) / 3.6)
            if u != v and (not H.has_edge(v, u) or t < H[v][u]["t"]):
                H.add_edge(v, u, t=t)
    dist = nx.multi_source_dijkstra_path_length(H, set(halls), weight="t")
    return np.array([dist.get(h, np.inf) for h in homes])


def _at_nodes(G: nx.MultiDiGraph, nodes: list[int]) -> gpd.GeoSeries:
    return gpd.GeoSeries(
        shapely.points([G.nodes[i]["x"] for i in nodes], [G.nodes[i]["y"] for i in nodes]),
        crs=4326,
    )


def _on_a_road(G: nx.MultiDiGraph, nodes: list[int]) -> list[int]:
    """Nodes that touch an edge other than a self-loop (a point elsewhere snaps to a road)."""
    touched = {n for u, v in G.edges() if u != v for n in (u, v)}
    return [n for n in nodes if n in touched]


def _nearest(G: nx.MultiDiGraph, net: Network, homes: list[int], halls: list[int]) -> Any:
    return nearest_facility(net, snap(net, _at_nodes(G, homes)), snap(net, _at_nodes(G, halls)))


def _check_against_networkx(mode: str, spec: dict[str, Any]) -> None:
    G = _graph(spec)
    event("connected" if nx.is_weakly_connected(G) else "disconnected")
    halls, homes = _on_a_road(G, spec["halls"]), _on_a_road(G, spec["homes"])
    if not halls or not homes:
        return  # no road at all: load_network refuses such a graph
    net = load_network(G, mode=mode)
    result = _nearest(G, net, homes, halls)
    expected = _expected(G, mode, halls, homes)
    unreachable = np.isinf(expected)
    assert (np.isinf(result.time_s) == unreachable).all(), (result.time_s, expected)
    assert (result.facility[unreachable] == -1).all()
    np.testing.assert_allclose(result.time_s[~unreachable], expected[~unreachable], atol=1e-6)
    # the hall named is one at that time
    reached = np.flatnonzero(~unreachable)
    for k in reached:
        hall = halls[result.facility[k]]
        alone = _expected(G, mode, [hall], [homes[k]])[0]
        assert alone == pytest.approx(expected[k], abs=1e-6)


@SETTINGS
@given(spec=random_graphs(walk=True))
def test_walk_times_equal_networkx_undirected(spec):
    _check_against_networkx("walk", spec)


@SETTINGS
@given(spec=random_graphs())
def test_drive_times_equal_networkx_directed(spec):
    _check_against_networkx("drive", spec)


def test_point_at_a_node_keeps_its_node_on_a_one_way_road():
    """Found by the property above: a hall exactly at node 1, the end of a one-way road 0->1.

    The hall used to snap at ``frac = 1 - 4e-14`` (rounding); the remainder times the closed
    backward direction (inf) cut the hall off node 1. ``engine.snap`` now puts positions within
    1e-6 m of a segment end exactly on it.
    """
    spec = {
        "xy": np.array(
            [
                [1273.92337464, 539.57342753],
                [81.94704787, 33.05527106],
                [1626.5404784, 1825.51115456],
            ]
        ),
        "edges": [(0, 1, 5.0, True, None), (1, 2, 5.0, False, None)],
        "halls": [0, 1],
        "homes": [0, 1, 2],
    }
    G = _graph(spec)
    net = load_network(G, mode="drive")
    expected = _expected(G, "drive", [0, 1], [0, 1, 2])
    assert expected.tolist() == [0.0, 0.0, 0.6]  # 2 -> 1 is 5 m at 30 km/h
    result = _nearest(G, net, [0, 1, 2], [0, 1])
    np.testing.assert_allclose(result.time_s, expected, atol=1e-9)


def test_walk_uses_the_shorter_of_two_near_twin_edges():
    """Walking ignores direction, so u->v (100 m) also serves v->u beside a 101 m twin.

    ``build_routing`` pairs edges of the same end nodes whose lengths agree within
    1 m or 2 % as the two directions of one road; on foot both directions take the smaller
    time of the two.
    """
    spec = {
        "xy": np.array([[0.0, 0.0], [100.0, 0.0]]),
        "edges": [(0, 1, 100.0, True, None), (1, 0, 101.0, True, None)],
        "halls": [0],
        "homes": [1],
    }
    G = _graph(spec)
    net = load_network(G, mode="walk")
    result = nearest_facility(net, snap(net, _at_nodes(G, [1])), snap(net, _at_nodes(G, [0])))
    expected = _expected(G, "walk", [0], [1])
    assert result.time_s[0] == pytest.approx(expected[0], abs=1e-6)


# --- (b) loaders never fail in a foreign way ------------------------------------------------------

ALIASES = sorted(
    {
        name
        for aliases in (COMMUNITY_ALIASES, HALL_ALIASES)
        for k, v in aliases.items()
        for name in (k, *v)
    }
)
JUNK_HEADERS = [
    "备注",
    "",
    "Unnamed: 3",
    "社区名陈",
    "popluation",
    "类形",
    "经渡",
    "地址",
    "0",
    "x y",
]
WORDS = [
    "abc",
    "社区",
    "村",
    "城市",
    "农村",
    "郊区",
    "suburban",
    "湖滨社区",
    "—",
    "N/A",
    "是",
    "否",
    "1,234",
    "3521人",
    "120㎡",
    "１８３０",
    "#DIV/0!",
    "  ",
    "0571",
    "120.16°",
]
SAFE_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), max_size=6
)  # no surrogates or control characters: they cannot be written to CSV or Excel at all

cells = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(WORDS),
    st.integers(-(10**6), 10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, 1e20, 10**30, 0.0, -0.0]),
    st.floats(119.9, 120.4),  # longitudes of Hangzhou
    st.floats(30.1, 30.4),  # latitudes of Hangzhou
    SAFE_TEXT,
)


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    n_cols = draw(st.integers(1, 7))
    header = st.one_of(st.sampled_from(ALIASES), st.sampled_from(JUNK_HEADERS), SAFE_TEXT)
    headers = draw(st.lists(header, min_size=n_cols, max_size=n_cols))
    n_rows = draw(st.integers(0, 6))
    rows = draw(
        st.lists(
            st.lists(cells, min_size=n_cols, max_size=n_cols), min_size=n_rows, max_size=n_rows
        )
    )
    return pd.DataFrame(rows, columns=pd.Index(headers, dtype=object), dtype=object)


def _call_loader(reader: Any, source: Any) -> None:
    """Call a loader; allow only its own errors and warnings; check what it returns."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = reader(source)
        except CoverageError:
            out = None
    for w in caught:
        assert issubclass(w.category, UserWarning), (w.category, w.message)
        assert str(w.message).startswith(("<DataFrame", "<GeoDataFrame", "table.")), w.message
    if out is None:
        return
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs.to_epsg() == 4326
    assert (out.geom_type == "Point").all()
    assert np.isfinite(out["lon"]).all()
    assert np.isfinite(out["lat"]).all()
    id_col = "community_id" if reader is read_communities else "hall_id"
    assert out[id_col].is_unique
    if reader is read_communities:
        assert set(out["kind"]) <= {"urban", "rural"}
        assert (out["population"] >= 0).all()
    if isinstance(source, pd.DataFrame):
        assert len(out) == len(source)  # rows in == rows out


READERS = pytest.mark.parametrize("reader", [read_communities, read_halls])


@READERS
@SETTINGS
@given(table=tables())
def test_loaders_in_memory(reader, table):
    _call_loader(reader, table)


@READERS
@SETTINGS
@given(table=tables(), encoding=st.sampled_from(["utf-8-sig", "utf-8", "gb18030"]))
def test_loaders_on_csv(reader, table, encoding, tmp_path: Path):
    path = tmp_path / "table.csv"
    try:
        data = table.to_csv(index=False).encode(encoding)
    except UnicodeEncodeError:
        data = table.to_csv(index=False).encode("utf-8")
    path.write_bytes(data)
    _call_loader(reader, path)


def _excel_value(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # Excel has no NaN or infinity
    if isinstance(value, int) and abs(value) > 2**53:
        return float(value)
    return value


@READERS
@SETTINGS
@given(table=tables(), title=st.booleans())
def test_loaders_on_excel(reader, table, title, tmp_path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append(["测试名单"])
    ws.append([_excel_value(h) for h in table.columns])
    for row in table.itertuples(index=False):
        ws.append([_excel_value(v) for v in row])
    path = tmp_path / "table.xlsx"
    wb.save(path)
    _call_loader(reader, path)
