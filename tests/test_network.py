"""Networks from every supported source, mode rules, and clear errors for bad files."""

from __future__ import annotations

import bz2
import gzip
import shutil

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pyproj
import pytest
import shapely

from coverage._errors import NetworkError
from coverage.config import Config
from coverage.engine import nearest_facility, snap
from coverage.network import download_network, load_network, way_modes
from coverage.samples import sample_path
from coverage.testing import grid_graph, grid_points

XIHU_BZ2 = sample_path("hangzhou-xihu", "network").parent / "hangzhou_xihu_2015-02.osm.bz2"


def test_osm_bz2_and_pbf_give_the_same_walk_network():
    bz = load_network(XIHU_BZ2)
    pbf = load_network(sample_path("hangzhou-xihu", "network"))
    assert bz.n_nodes == pbf.n_nodes
    assert len(bz.seg_u) == len(pbf.seg_u)
    assert bz.seg_length_m.sum() == pytest.approx(pbf.seg_length_m.sum(), rel=1e-9)
    # footways are part of the walking network of the raw OSM extract
    from coverage.network import read_graph

    hw = {d.get("highway") for _, _, d in read_graph(XIHU_BZ2).edges(data=True)}
    assert "footway" in hw
    walk_only = [d for _, _, d in pbf.G.edges(data=True) if d.get("cp_modes") == "w"]
    assert walk_only  # footways and steps: walkable, closed to bikes and cars


def test_modes_differ_on_real_osm():
    walk = load_network(sample_path("hangzhou-xihu", "network"), mode="walk")
    drive = walk.with_mode("drive")
    # footways and pedestrian streets are closed to cars; one-way streets only one way
    assert walk.seg_length_m.sum() > drive.seg_length_m.sum()
    assert np.isinf(drive.seg_bwd_s).any()
    assert not np.isinf(walk.seg_bwd_s).any()
    assert drive.speed_kph == 30.0


def test_plain_and_gzipped_graphml(tmp_path):
    G = grid_graph()
    plain = tmp_path / "g.graphml"
    ox.save_graphml(G, plain)
    gz = tmp_path / "g.graphml.gz"
    with plain.open("rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    a, b = load_network(plain), load_network(gz)
    assert a.n_nodes == b.n_nodes == 25
    assert a.csr.nnz == b.csr.nnz == 80


def test_road_centreline_file(tmp_path):
    G = grid_graph()
    lines = [
        shapely.LineString([(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])])
        for u, v in G.edges()
        if u < v
    ]
    gdf = gpd.GeoDataFrame({"name": [f"r{i}" for i in range(len(lines))]}, geometry=lines, crs=4326)
    path = tmp_path / "roads.gpkg"
    gdf.to_crs(32651).to_file(path, engine="pyogrio")  # a projected file: converted on load
    net = load_network(path)
    assert net.n_nodes == 25
    r = nearest_facility(net, snap(net, grid_points([(4, 4)])), snap(net, grid_points([(0, 0)])))
    # lengths are measured on the ellipsoid: the 8 edges from (4, 4) to (0, 0), by pyproj.Geod
    geod = pyproj.Geod(ellps="WGS84")
    path = [24, 23, 22, 21, 20, 15, 10, 5, 0]  # along row 4, then down column 0
    xs = [G.nodes[n]["x"] for n in path]
    ys = [G.nodes[n]["y"] for n in path]
    metres = geod.line_length(xs, ys)
    assert 2398 < metres < 2400  # UTM grid metres are 0.05 % longer than ground metres here
    assert r.time_s[0] == pytest.approx(metres / (4.5 / 3.6), abs=1e-6)


def test_speeds_come_from_config():
    cfg = Config(speeds_kph={"ebike": 15.0})
    net = load_network(grid_graph(), mode="ebike", config=cfg)
    assert net.speed_kph == 15.0
    assert net.csr[0, 1] == pytest.approx(300 / (15 / 3.6))


@pytest.mark.parametrize(
    ("tags", "modes"),
    [
        ({"highway": "residential"}, "wbd"),
        ({"highway": "footway"}, "w"),
        ({"highway": "footway", "bicycle": "yes"}, "wb"),
        ({"highway": "steps"}, "w"),
        ({"highway": "motorway"}, "d"),
        # worldwide (OSM wiki): trunk links may be walked; China closes them (below)
        ({"highway": "trunk_link"}, "wbd"),
        # a cycleway without a foot tag is not for walkers (wiki worldwide default)
        ({"highway": "cycleway"}, "b"),
        ({"highway": "service", "access": "private"}, ""),
        ({"highway": "service", "access": "private", "foot": "yes"}, "w"),
        ({"highway": "residential", "foot": "no"}, "bd"),
        ({"highway": "construction"}, ""),
        ({"highway": "pedestrian", "area": "yes"}, ""),
        ({"building": "yes"}, ""),
    ],
)
def test_way_modes(tags, modes):
    assert way_modes(tags) == modes


# One case per rule of the access hierarchy (OSM wiki Key:access): the most specific key
# with a known value decides; forestry/agricultural/delivery close; a class closed to a mode
# opens only by the mode's own key.
@pytest.mark.parametrize(
    ("tags", "walk", "bike", "drive"),
    [
        # access=forestry / agricultural: only forestry / farm traffic, walkers too
        ({"highway": "track", "access": "forestry"}, False, False, False),
        ({"highway": "track", "access": "forestry", "foot": "yes"}, True, False, False),
        ({"highway": "track", "access": "agricultural"}, False, False, False),
        ({"highway": "track", "access": "agricultural", "foot": "designated"}, True, False, False),
        ({"highway": "track", "access": "agricultural", "bicycle": "yes"}, False, True, False),
        # only motor vehicles restricted: walkers and cyclists unaffected
        ({"highway": "track", "motor_vehicle": "forestry"}, True, True, False),
        ({"highway": "service", "access": "delivery"}, False, False, False),
        ({"highway": "service", "access": "destination"}, True, True, True),
        ({"highway": "service", "access": "customers"}, True, True, True),
        # the more specific key wins, either way
        ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, False, False, True),
        ({"highway": "residential", "vehicle": "no"}, True, False, False),
        ({"highway": "residential", "foot": "use_sidepath"}, False, True, True),
        ({"highway": "residential", "access": "unknown"}, True, True, True),  # says nothing
        # cycleways: walkers only with a foot tag, and a general access=yes is not one
        ({"highway": "cycleway", "foot": "yes"}, True, True, False),
        ({"highway": "cycleway", "foot": "designated"}, True, True, False),
        ({"highway": "cycleway", "foot": "permissive"}, True, True, False),
        ({"highway": "cycleway", "access": "yes"}, False, True, False),
        ({"highway": "bridleway"}, False, True, False),  # (bike classes as before)
        # motor roads: motorroad=yes closes walking and cycling, whatever the class
        ({"highway": "primary", "motorroad": "yes"}, False, False, True),
        ({"highway": "trunk", "motorroad": "yes"}, False, False, True),
        ({"highway": "trunk", "motorroad": "yes", "access": "yes"}, False, False, True),
        ({"highway": "trunk", "motorroad": "yes", "foot": "yes"}, True, False, True),
        # worldwide, trunk roads and their links are walkable
        ({"highway": "trunk"}, True, True, True),
        ({"highway": "trunk_link"}, True, True, True),
    ],
)
def test_access_hierarchy(tags, walk, bike, drive):
    modes = way_modes(tags)
    assert ("w" in modes, "b" in modes, "d" in modes) == (walk, bike, drive)


ELEVATED = {"highway": "trunk", "oneway": "yes", "bridge": "yes", "layer": "2"}


@pytest.mark.parametrize(
    ("tags", "country", "walk"),
    [
        # China: an urban expressway (one-way trunk on a viaduct, a bridge or in a tunnel, as
        # 中河高架 in the West Lake extract) and every trunk link (ramps) are closed to walkers
        (ELEVATED, "CN", False),
        (ELEVATED, "", True),  # the worldwide default walks it
        ({**ELEVATED, "bridge": "no", "layer": "0"}, "CN", True),  # at grade: a national road
        ({"highway": "trunk", "oneway": "yes", "tunnel": "yes"}, "CN", False),
        ({"highway": "trunk", "bridge": "yes"}, "CN", True),  # two-way: a national road bridge
        ({"highway": "trunk_link"}, "CN", False),
        ({"highway": "trunk_link", "layer": "1", "oneway": "yes"}, "CN", False),
        ({**ELEVATED, "foot": "yes"}, "CN", True),
        ({**ELEVATED, "sidewalk": "both"}, "CN", True),
        ({"highway": "cycleway"}, "CN", False),
        # Switzerland: trunk is an Autostrasse; cycle and bridle ways may be walked
        ({"highway": "trunk"}, "CH", False),
        ({"highway": "trunk_link"}, "CH", False),
        ({"highway": "cycleway"}, "CH", True),
        ({"highway": "bridleway"}, "CH", True),
        # Liechtenstein: no row in the wiki's table, the worldwide defaults
        ({"highway": "trunk"}, "LI", True),
        ({"highway": "cycleway"}, "LI", False),
    ],
)
def test_per_country_defaults(tags, country, walk):
    assert ("w" in way_modes(tags, country=country)) is walk


def test_country_by_location():
    from coverage.network import country_at

    assert country_at(120.16, 30.27) == "CN"  # Hangzhou
    assert country_at(126.63, 45.75) == "CN"  # Harbin
    assert country_at(110.35, 20.02) == "CN"  # Haikou
    assert country_at(9.52, 47.14) == "LI"  # Vaduz
    assert country_at(8.54, 47.37) == "CH"  # Zürich
    assert country_at(105.85, 21.03) == ""  # Hanoi: the worldwide defaults
    assert country_at(126.98, 37.57) == ""  # Seoul


def _osm_file(tmp_path, ways, *, lon=120.16, lat=30.27):
    """A tiny OSM XML file: nodes along a line 100 m apart, ways as (tags, node numbers)."""
    step = 100 / 111_320 / np.cos(np.radians(lat))
    nodes = sorted({n for _, refs in ways for n in refs})
    xml = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6'>"]
    xml += [f"<node id='{n}' lat='{lat}' lon='{lon + n * step:.7f}'/>" for n in nodes]
    for k, (tags, refs) in enumerate(ways, start=1):
        xml.append(f"<way id='{k}'>")
        xml += [f"<nd ref='{n}'/>" for n in refs]
        xml += [f"<tag k='{a}' v='{b}'/>" for a, b in tags.items()]
        xml.append("</way>")
    xml.append("</osm>")
    path = tmp_path / f"roads_{lon:.0f}.osm"
    path.write_text("\n".join(xml), encoding="utf-8")
    return path


def test_osm_file_uses_the_country_where_it_lies(tmp_path):
    """The same elevated trunk: closed to walkers in Hangzhou, walkable where no rule applies."""
    ways = [({"highway": "residential"}, [1, 2]), (ELEVATED, [2, 3])]
    cfg = Config(use_cache=False)
    hangzhou = load_network(_osm_file(tmp_path, ways), config=cfg)
    assert hangzhou.G.graph["cp_access_country"] == "CN"
    assert hangzhou.seg_length_m.sum() == pytest.approx(100, rel=0.01)  # the street only
    elsewhere = load_network(_osm_file(tmp_path, ways, lon=2.35, lat=48.86), config=cfg)
    assert elsewhere.G.graph["cp_access_country"] == ""
    assert elsewhere.seg_length_m.sum() == pytest.approx(200, rel=0.01)
    chosen = load_network(_osm_file(tmp_path, ways), config=cfg, country="")
    assert chosen.seg_length_m.sum() == pytest.approx(200, rel=0.01)


def test_country_choice_has_its_own_cache_entry(tmp_path):
    from coverage.network import cache_path

    path = _osm_file(tmp_path, [({"highway": "residential"}, [1, 2])])
    cfg = Config(cache_dir=str(tmp_path / "cache"))
    assert cache_path(path, cfg) != cache_path(path, cfg, country="CN")
    assert cache_path(path, cfg, country="cn") == cache_path(path, cfg, country="CN")


def test_osmnx_graph_gets_the_country_rules_without_being_changed():
    """An osmnx graph with OSM tags (no cp_modes): modes by location, on a copy."""
    G = grid_graph(n=3)  # in Hangzhou
    for _, _, d in G.edges(data=True):
        d.update(highway="residential")
    for a, b in ((0, 1), (1, 0)):
        G.edges[a, b, 0].update(highway="trunk", oneway=True, bridge="yes")
    net = load_network(G)
    assert all("cp_modes" not in d for _, _, d in G.edges(data=True))  # the input is unchanged
    assert net.seg_length_m.sum() == pytest.approx(11 * 300)  # 12 streets less the viaduct


def test_xihu_walk_rule_on_the_real_extract():
    """中河高架 / 上塘高架 (elevated trunk) and all trunk links are closed to walkers, and
    cycleways without a foot tag; cars keep the trunk roads."""
    from coverage.network import read_graph

    G = read_graph(sample_path("hangzhou-xihu", "network"))
    assert G.graph["cp_access_country"] == "CN"
    by_hw: dict[str, set[str]] = {}
    for _, _, d in G.edges(data=True):
        hw = d.get("highway")
        for h in hw if isinstance(hw, list) else [hw]:
            by_hw.setdefault(h, set()).add(d["cp_modes"])
    assert by_hw["trunk"] == {"d"}  # every trunk way of this extract is an elevated road
    assert by_hw["trunk_link"] == {"d"}
    assert "w" not in "".join(by_hw["cycleway"])  # none has a foot tag in this extract
    assert all("w" in m and "d" not in m for m in by_hw["footway"])


def test_liechtenstein_forestry_tracks_are_not_walked():
    """Tracks tagged access=forestry|agricultural without a foot tag are closed on foot."""
    from coverage.network import read_graph

    G = read_graph(sample_path("liechtenstein", "network"))
    assert G.graph["cp_access_country"] == "LI"
    walked = {
        o
        for _, _, d in G.edges(data=True)
        if "w" in d["cp_modes"]
        for o in (d["osmid"] if isinstance(d["osmid"], list) else [d["osmid"]])
    }
    import osmium

    closed, open_ = [], []
    for w in osmium.FileProcessor(str(sample_path("liechtenstein", "network")), osmium.osm.WAY):
        if w.tags.get("access") in {"forestry", "agricultural"} and "highway" in w.tags:
            (open_ if w.tags.get("foot") in {"yes", "designated"} else closed).append(w.id)
    assert len(closed) > 20
    assert not walked & set(closed)
    assert set(open_) <= walked | set(open_)  # (kept when they have their two nodes)


def test_missing_file_is_a_network_error(tmp_path):
    with pytest.raises(NetworkError, match="network file not found"):
        load_network(tmp_path / "nope.osm.pbf")


def test_unknown_format(tmp_path):
    p = tmp_path / "roads.docx"
    p.write_text("x", encoding="utf-8")
    with pytest.raises(NetworkError, match="unknown network format"):
        load_network(p)


def test_truncated_osm_file(tmp_path):
    src = XIHU_BZ2
    raw = bz2.decompress(src.read_bytes())
    p = tmp_path / "cut.osm"
    p.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(NetworkError, match=r"cut\.osm"):
        load_network(p)


def test_not_a_network(tmp_path):
    p = tmp_path / "nothing.osm"
    p.write_text(
        "<?xml version='1.0'?><osm version='0.6'><node id='1' lat='30' lon='120'/>"
        "<way id='2'><nd ref='1'/><tag k='building' v='yes'/></way></osm>",
        encoding="utf-8",
    )
    with pytest.raises(NetworkError, match="no highway ways found"):
        load_network(p)


def test_garbage_graphml(tmp_path):
    p = tmp_path / "bad.graphml"
    p.write_text("this is not xml", encoding="utf-8")
    with pytest.raises(NetworkError, match=r"bad\.graphml: cannot read"):
        load_network(p)


def test_graph_without_coordinates():
    G = nx.MultiDiGraph(crs="epsg:4326")
    G.add_edge(1, 2, length=10.0)
    with pytest.raises(NetworkError, match="'x' and 'y'"):
        load_network(G)


def test_components_are_counted(hangzhou_net):
    s = hangzhou_net.summary()
    assert s["nodes"] == 14469
    assert s["components"] > 1  # closing car-only tunnels to walkers cuts off some pieces
    assert s["largest_component_nodes"] > 0.95 * s["nodes"]


@pytest.mark.web
def test_download_by_place_name():
    net = download_network("Vaduz, Liechtenstein", mode="walk")
    assert net.n_nodes > 100


def test_cache_is_used_identical_and_invalidated(tmp_path):
    import time

    from coverage.network import cache_path

    shutil.copy(sample_path("hangzhou-central", "network"), tmp_path / "net.graphml.gz")
    src = tmp_path / "net.graphml.gz"
    cfg = Config(cache_dir=str(tmp_path / "cache"))
    t0 = time.perf_counter()
    first = load_network(src, config=cfg)
    t_parse = time.perf_counter() - t0
    cached = cache_path(src, cfg)
    assert cached is not None
    assert cached.exists()
    t0 = time.perf_counter()
    second = load_network(src, config=cfg)
    t_cache = time.perf_counter() - t0
    print(f"parse {t_parse:.2f} s, cache {t_cache:.2f} s, ratio {t_parse / t_cache:.1f}")  # noqa: T201
    assert (first.csr != second.csr).nnz == 0
    np.testing.assert_array_equal(first.seg_fwd_s, second.seg_fwd_s)
    np.testing.assert_array_equal(first.node_ids, second.node_ids)
    assert second.G.number_of_edges() == first.G.number_of_edges() - sum(
        1 for u, v in first.G.edges() if u == v
    )
    # a changed source file gets a new cache entry; the stale one is removed
    with gzip.open(src, "rb") as f:
        data = f.read()
    with gzip.open(src, "wb") as f:
        f.write(data.replace(b"</graphml>", b"<!-- edited --></graphml>"))
    assert cache_path(src, cfg) != cached
    load_network(src, config=cfg)
    assert not cached.exists()
    assert cache_path(src, cfg).exists()


def test_cache_off(tmp_path):
    cfg = Config(use_cache=False, cache_dir=str(tmp_path))
    load_network(sample_path("hangzhou-xihu", "network"), config=cfg)
    assert list(tmp_path.iterdir()) == []


def _same_routing(a, b):
    assert (a.csr != b.csr).nnz == 0
    for k in (
        "node_ids",
        "node_xy",
        "seg_u",
        "seg_v",
        "seg_length_m",
        "seg_fwd_s",
        "seg_bwd_s",
        "seg_edge",
        "seg_xy",
        "seg_xy_start",
        "component",
    ):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
    assert (a.mode, a.speed_kph, a.crs) == (b.mode, b.speed_kph, b.crs)


def test_routing_view_is_cached_per_mode_speed_and_source(tmp_path, caplog):
    """A second run reads the routing view; another mode, speed or source rebuilds it."""
    import logging

    from coverage.network import EdgeTable, cache_path, routing_cache_path

    src = tmp_path / "net.graphml.gz"
    shutil.copy(sample_path("hangzhou-central", "network"), src)
    cfg = Config(cache_dir=str(tmp_path / "cache"), mode="walk")
    first = load_network(src, config=cfg)
    table_file = cache_path(src, cfg)
    assert table_file is not None
    walk_file = routing_cache_path(table_file, cfg)
    assert walk_file.exists()  # written by the first (parsing) run
    with caplog.at_level(logging.INFO, logger="coverage.network"):
        second = load_network(src, config=cfg)
    assert "routing view read from cache" in caplog.text
    _same_routing(first, second)
    assert second._table is None
    np.testing.assert_array_equal(
        shapely.get_coordinates(first.seg_geom), shapely.get_coordinates(second.seg_geom)
    )
    np.testing.assert_array_equal(first.seg_name, second.seg_name)
    assert isinstance(second.table, EdgeTable)
    # another mode or speed: its own file, built from the table, equal to a fresh build
    bike = cfg.replace(mode="bike")
    assert routing_cache_path(table_file, bike) != walk_file
    _same_routing(load_network(src, config=bike), first.with_mode("bike", config=bike))
    assert routing_cache_path(table_file, bike).exists()
    slow = cfg.replace(speeds_kph={**cfg.speeds_kph, "walk": 3.0})
    assert routing_cache_path(table_file, slow) != walk_file
    slow_net = load_network(src, config=slow)
    assert slow_net.speed_kph == 3.0
    np.testing.assert_allclose(slow_net.seg_fwd_s, first.seg_fwd_s * 4.5 / 3.0)
    # a stale file under the current name (e.g. copied over) is not used
    stale = routing_cache_path(table_file, bike)
    shutil.copy(stale, walk_file)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="coverage.network"):
        again = load_network(src, config=cfg)
    assert "routing view read from cache" not in caplog.text
    _same_routing(again, first)
    # a changed source: new table cache, the old table's routing views are removed
    with gzip.open(src, "rb") as f:
        data = f.read()
    with gzip.open(src, "wb") as f:
        f.write(data.replace(b"</graphml>", b"<!-- edited --></graphml>"))
    load_network(src, config=cfg)
    assert not walk_file.exists()
    assert routing_cache_path(cache_path(src, cfg), cfg) != walk_file
    assert routing_cache_path(cache_path(src, cfg), cfg).exists()


def test_cached_network_from_a_table_file(tmp_path):
    """load_cached_network: the path of a planner's second run of a saved EdgeTable."""
    from coverage.network import build_routing, load_cached_network, routing_cache_path

    net = load_network(sample_path("hangzhou-xihu", "network"), mode="walk")
    path = tmp_path / "table.npz"
    net.table.save(path)
    cfg = Config(mode="walk", metric_crs=net.crs)
    built = load_cached_network(path, config=cfg)  # builds and stores the routing view
    assert routing_cache_path(path, cfg).exists()
    read = load_cached_network(path, config=cfg)
    _same_routing(built, read)
    _same_routing(read, build_routing(net.table, config=cfg))
    # the table file changes (here: its modification time): the stored view is not used
    import os

    old_file = routing_cache_path(path, cfg)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert routing_cache_path(path, cfg) != old_file
    _same_routing(load_cached_network(path, config=cfg), built)
    assert routing_cache_path(path, cfg).exists()
    assert not old_file.exists()


# --------------------------------------------------------------------------------------------
# loop roads (a way that starts and ends at one node)

_TO_LL = pyproj.Transformer.from_crs("EPSG:32651", 4326, always_xy=True)
_O = (226_000.0, 3_350_000.0)
# a 300 m road from node 0 (0, 0) to node 1 (300, 0), and a 280 m loop road at node 1 that
# runs round a 70 m square east of it; the middle of its far side, (370, 0), is 140 m from
# node 1 either way round
_RING = [(300, 0), (300, 35), (370, 35), (370, -35), (300, -35), (300, 0)]


def _ll(x: float, y: float) -> tuple[float, float]:
    return _TO_LL.transform(_O[0] + x, _O[1] + y)


def _loop_graph(*, oneway_loop: bool = False, str_ids: bool = False) -> nx.MultiDiGraph:
    key = (lambda n: f"n{n}") if str_ids else (lambda n: n)
    G = nx.MultiDiGraph(crs="epsg:4326")
    for n, (x, y) in {0: (0, 0), 1: (300, 0)}.items():
        lon, lat = _ll(x, y)
        G.add_node(key(n), x=lon, y=lat)
    line = shapely.LineString([_ll(0, 0), _ll(300, 0)])
    G.add_edge(key(0), key(1), length=300.0, highway="residential", geometry=line)
    G.add_edge(key(1), key(0), length=300.0, highway="residential", geometry=line.reverse())
    ring = shapely.LineString([_ll(*p) for p in _RING])
    G.add_edge(key(1), key(1), length=280.0, highway="service", geometry=ring, oneway=oneway_loop)
    if not oneway_loop:
        G.add_edge(key(1), key(1), length=280.0, highway="service", geometry=ring.reverse())
    return G


def _metric_points(*xy: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.Point(_O[0] + x, _O[1] + y) for x, y in xy], crs="EPSG:32651")


@pytest.mark.parametrize("str_ids", [False, True])
def test_loop_road_is_routed(str_ids):
    net = load_network(_loop_graph(str_ids=str_ids))
    # the two directions of the loop share its two new nodes: 1 road, 3 segments of 93.3 m
    assert net.loop_roads == 1
    assert net.summary()["loop_roads"] == 1
    assert sorted(net.seg_length_m.round(6).tolist()) == [93.333333] * 3 + [300.0]
    home = snap(net, _metric_points((375, 0)))  # 5 m beyond the loop's far side
    hall = snap(net, _metric_points((0, 0)))
    assert home.dist_m[0] == pytest.approx(5.0, abs=1e-3)
    r = nearest_facility(net, home, hall)
    # 5 m off-road + 140 m round the loop + 300 m to the hall, at 75 m per minute; without
    # the loop the home would snap to node 1, 75 m away, and take 5.0 minutes
    assert r.time_s[0] / 60 == pytest.approx(445 / 75, abs=1e-4)


def test_one_way_loop_road_by_car():
    net = load_network(_loop_graph(oneway_loop=True), mode="drive")
    assert net.loop_roads == 1
    home = snap(net, _metric_points((300, 30)))  # beside the loop's first leg, 30 m in
    hall = snap(net, _metric_points((0, 0)))
    r = nearest_facility(net, home, hall)
    # by car the loop runs one way: on round it (250 m of it) to node 1, then 300 m, at 30 km/h
    access = home.access_s[0]
    assert r.time_s[0] == pytest.approx(access + (280 - 30 + 300) / (30 / 3.6), abs=0.01)


def test_loop_road_from_every_input_format(tmp_path):
    G = _loop_graph()
    graphml = tmp_path / "loop.graphml"
    ox.save_graphml(G, graphml)
    lines = gpd.GeoDataFrame(
        geometry=[
            shapely.LineString([_ll(0, 0), _ll(300, 0)]),
            shapely.LineString([_ll(*p) for p in _RING]),
        ],
        crs=4326,
    )
    gpkg = tmp_path / "loop.gpkg"
    lines.to_file(gpkg, engine="pyogrio")
    osm = tmp_path / "loop.osm"
    pts = [(0, 0), *_RING[:-1]]  # node ids 1..6; the loop way closes on node 2
    nodes = "".join(
        f'<node id="{i + 1}" version="1" lat="{_ll(*p)[1]:.9f}" lon="{_ll(*p)[0]:.9f}"/>'
        for i, p in enumerate(pts)
    )
    osm.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">'
        + nodes
        + '<way id="1" version="1"><nd ref="1"/><nd ref="2"/>'
        '<tag k="highway" v="residential"/></way>'
        '<way id="2" version="1"><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/>'
        '<nd ref="6"/><nd ref="2"/><tag k="highway" v="service"/></way></osm>',
        encoding="utf-8",
    )
    for path in (graphml, gpkg, osm):
        net = load_network(path)
        assert net.loop_roads == 1, path.name
        r = nearest_facility(
            net, snap(net, _metric_points((375, 0))), snap(net, _metric_points((0, 0)))
        )
        # lengths from files are measured on the sphere or the ellipsoid (osmnx, pyproj):
        # within 0.3 % of the UTM metres here
        assert r.time_s[0] / 60 == pytest.approx(445 / 75, rel=3e-3), path.name


@pytest.mark.parametrize(
    ("sample", "loops"), [("hangzhou-central", 0), ("hangzhou-xihu", 2), ("liechtenstein", 5)]
)
def test_every_loop_of_the_bundled_networks_is_routable(sample, loops):
    net = load_network(sample_path(sample, "network"))
    first = int(net.table.meta["loop_nodes_from"])
    assert net.loop_roads == loops
    mids = np.flatnonzero(np.arange(net.n_nodes) >= first)  # two per loop road
    assert len(mids) == 2 * loops
    # a point at the middle of each loop snaps onto that loop and reaches its junction (with
    # a 1 m snap limit: one Liechtenstein loop lies on a fragment, Rhine-dam tracks joined to
    # the rest only by access=agricultural tracks, and a point there would go to the
    # connected road 117-130 m away within the default limit)
    from coverage.engine import fragment_nodes

    assert fragment_nodes(net)[mids].sum() == (2 if sample == "liechtenstein" else 0)
    at_node = Config(max_snap_m=1.0)
    to_ll = pyproj.Transformer.from_crs(net.crs, 4326, always_xy=True)
    lon, lat = to_ll.transform(net.node_xy[mids, 0], net.node_xy[mids, 1])
    at_mid = snap(net, gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326), config=at_node)
    assert (at_mid.dist_m < 0.01).all()
    on_loop = (net.seg_u[at_mid.seg] >= first) | (net.seg_v[at_mid.seg] >= first)
    assert on_loop.all()
    junction = np.where(
        net.seg_u[at_mid.seg] >= first, net.seg_v[at_mid.seg], net.seg_u[at_mid.seg]
    )
    jlon, jlat = to_ll.transform(net.node_xy[junction, 0], net.node_xy[junction, 1])
    to_junction = nearest_facility(
        net,
        at_mid,
        snap(net, gpd.GeoSeries(gpd.points_from_xy(jlon, jlat), crs=4326), config=at_node),
    )
    assert np.isfinite(to_junction.time_s).all()


def test_things_kept_on_a_network_have_an_owner_and_a_bound():
    calls = []

    def build(k):
        calls.append(k)
        return k * 10

    net = load_network(grid_graph())
    assert net.memo("tests", 1, lambda: build(1), keep=2) == 10
    assert net.memo("tests", 1, lambda: build(1), keep=2) == 10  # kept: built once
    net.memo("tests", 2, lambda: build(2), keep=2)
    net.memo("tests", 1, lambda: build(1), keep=2)  # 1 used again: 2 is now the oldest
    net.memo("tests", 3, lambda: build(3), keep=2)  # the bound drops 2
    assert list(net.cache["tests"]) == [1, 3]
    assert calls == [1, 2, 3]
    net.forget("tests")
    assert "tests" not in net.cache
    # the engine keeps its index in its own slot
    snap(net, grid_points([(0, 0.5)]))
    assert "snap_index" in net.cache["coverage.engine"]
