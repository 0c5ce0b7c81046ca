"""Engine: exact times on hand-checkable graphs, and agreement with networkx on real data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from coverage.config import Config
from coverage.engine import (
    Snapped,
    _PieceIndex,
    _snap_index,
    fragment_nodes,
    fragment_segments,
    nearest_facility,
    snap,
    snap_many,
    travel_time_matrix,
)
from coverage.network import load_network
from coverage.testing import (
    GRID_CRS,
    grid_communities,
    grid_graph,
    grid_halls,
    grid_points,
    grid_xy,
    line_graph,
)

MIN = 60.0


def test_grid_times_match_hand_computation(grid_net):
    # edge = 300 m at 4.5 km/h = 4 minutes; see coverage.testing.grid_communities
    homes = snap(grid_net, grid_communities().geometry)
    halls = snap(grid_net, grid_halls().geometry)
    r = nearest_facility(grid_net, homes, halls)
    np.testing.assert_allclose(r.time_s / MIN, [4, 16, 14, 12, 14], atol=1e-9)
    assert r.facility[[0, 2, 3, 4]].tolist() == [0, 1, 0, 1]


def test_access_walk_is_counted(grid_net):
    # 75 m off the road at 4.5 km/h is exactly one minute, at both ends of the trip
    homes = snap(grid_net, grid_points([(0, 1.5)], offset_m=75))
    halls = snap(grid_net, grid_points([(0, 0)], offset_m=-150))
    r = nearest_facility(grid_net, homes, halls)
    # 1 min access + 1.5 edges (6 min) + 2 min hall access
    assert r.time_s[0] / MIN == pytest.approx(9.0, abs=1e-9)
    assert homes.dist_m[0] == pytest.approx(75.0, abs=1e-6)


def test_same_segment_without_passing_a_node(grid_net):
    # hall and home on the same edge, 0.25 of an edge apart: 1 minute, not via a node
    homes = snap(grid_net, grid_points([(0, 2.25)]))
    halls = snap(grid_net, grid_points([(0, 2.5)]))
    r = nearest_facility(grid_net, homes, halls)
    assert r.time_s[0] / MIN == pytest.approx(1.0, abs=1e-9)


def test_snap_limit_makes_points_unreachable(grid_net):
    cfg = Config(max_snap_m=100)
    s = snap(grid_net, grid_points([(0, 0.5)], offset_m=140), config=cfg)
    assert s.seg[0] == -1
    assert s.dist_m[0] == pytest.approx(140.0, abs=1e-6)
    r = nearest_facility(grid_net, s, snap(grid_net, grid_points([(0, 0)])))
    assert np.isinf(r.time_s[0])
    assert r.facility[0] == -1


def test_drive_respects_one_way_and_walk_does_not():
    G = line_graph(oneway=True)
    home = grid_points([(0, 2)])  # east end
    hall = grid_points([(0, 0)])  # west end; traffic flows west -> east only
    drive = load_network(G, mode="drive")
    r = nearest_facility(drive, snap(drive, home), snap(drive, hall))
    assert np.isinf(r.time_s[0])  # cannot drive back against the one-way
    back = nearest_facility(drive, snap(drive, home), snap(drive, hall), to_facility=False)
    assert back.time_s[0] == pytest.approx(600 / (30 / 3.6))  # hall -> home with the flow
    walk = load_network(G, mode="walk")
    w = nearest_facility(walk, snap(walk, home), snap(walk, hall))
    assert w.time_s[0] / MIN == pytest.approx(8.0)


def test_disconnected_piece_is_unreachable_not_a_crash():
    G = grid_graph(n=3)
    # an island: two nodes joined to each other only
    far = grid_points([(10, 10), (10, 11)]).to_list()
    G.add_node("i1", x=far[0].x, y=far[0].y)
    G.add_node("i2", x=far[1].x, y=far[1].y)
    G.add_edge("i1", "i2", length=300.0)
    G.add_edge("i2", "i1", length=300.0)
    net = load_network(G)
    homes = snap(net, grid_points([(10, 10.5), (1, 1)]))
    r = nearest_facility(net, homes, snap(net, grid_points([(0, 0)])))
    assert np.isinf(r.time_s[0])
    assert r.time_s[1] / MIN == pytest.approx(8.0)


def test_zero_length_edges_and_self_loops_are_harmless():
    G = grid_graph(n=2)
    G.add_edge(0, 0, length=0.0)  # self-loop
    p = grid_points([(0, 0)]).iloc[0]
    G.add_node("dup", x=p.x, y=p.y)  # a node on top of node 0, joined by zero-length edges
    G.add_edge(0, "dup", length=0.0)
    G.add_edge("dup", 0, length=0.0)
    net = load_network(G)
    r = nearest_facility(net, snap(net, grid_points([(1, 1)])), snap(net, grid_points([(0, 0)])))
    assert r.time_s[0] / MIN == pytest.approx(8.0)


def test_parallel_edges_keep_the_shorter():
    G = line_graph(oneway=False)
    G.add_edge(0, 1, length=900.0, highway="residential")  # a longer parallel road
    G.add_edge(1, 0, length=900.0, highway="residential")
    net = load_network(G)
    assert net.csr[0, 1] == pytest.approx(300 / (4.5 / 3.6))
    r = nearest_facility(net, snap(net, grid_points([(0, 2)])), snap(net, grid_points([(0, 0)])))
    assert r.time_s[0] / MIN == pytest.approx(8.0)


def test_travel_time_matrix_is_bounded_and_exact(grid_net):
    homes = snap(grid_net, grid_communities().geometry)
    sites = snap(grid_net, grid_halls().geometry)
    mat = travel_time_matrix(grid_net, homes, sites, limit_s=15 * MIN).toarray() / MIN
    expected = np.array([[4, 0], [0, 0], [0, 14], [12, 0], [0, 14]], dtype=float)
    np.testing.assert_allclose(mat, expected, atol=1e-9)


# --- real networks against an independent networkx computation ---------------------------


def _networkx_nearest(net, G_walk: nx.Graph, homes, halls) -> np.ndarray:
    """Nearest-hall time by networkx: split each snapped edge with a new node, then
    multi-source Dijkstra from all halls. Independent of scipy and of the engine's algebra."""
    H = G_walk.copy()
    speed = net.speed_kph / 3.6
    access = 4.5 / 3.6

    def attach(tag, i, seg, frac, dist):
        u, v = net.node_ids[net.seg_u[seg]], net.node_ids[net.seg_v[seg]]
        length = net.seg_length_m[seg]
        node = (tag, i)
        H.add_edge(node, u, weight=frac * length / speed + dist / access)
        H.add_edge(node, v, weight=(1 - frac) * length / speed + dist / access)
        return node

    hall_nodes = [
        attach("h", i, s, f, d)
        for i, (s, f, d) in enumerate(zip(halls.seg, halls.frac, halls.dist_m, strict=True))
        if s >= 0
    ]
    home_nodes = [
        attach("c", i, s, f, d)
        for i, (s, f, d) in enumerate(zip(homes.seg, homes.frac, homes.dist_m, strict=True))
    ]
    # homes sharing a segment with a hall: the direct along-edge path
    for hn, (hs, hf, hd) in zip(
        hall_nodes, zip(halls.seg, halls.frac, halls.dist_m, strict=True), strict=True
    ):
        for cn, cs, cf, cd in zip(home_nodes, homes.seg, homes.frac, homes.dist_m, strict=True):
            if cs == hs:
                w = abs(cf - hf) * net.seg_length_m[cs] / speed + cd / access + hd / access
                H.add_edge(hn, cn, weight=w)
    dist = nx.multi_source_dijkstra_path_length(H, hall_nodes, weight="weight")
    return np.array([dist.get(n, np.inf) for n in home_nodes])


def _walk_graph(net) -> nx.Graph:
    """The walkable roads as an undirected networkx graph, built from the osmnx graph."""
    G = nx.Graph()
    speed = net.speed_kph / 3.6
    for u, v, d in net.G.edges(data=True):
        cls = d.get("osrm_class")
        if u == v or cls in {"motorway", "tunnel"}:
            continue
        if "cp_modes" in d and "w" not in str(d["cp_modes"]):
            continue
        w = float(d["length"]) / speed
        if not G.has_edge(u, v) or G[u][v]["weight"] > w:
            G.add_edge(u, v, weight=w)
    return G


@pytest.mark.parametrize("sample_fixture", ["hangzhou", "liechtenstein"])
def test_nearest_hall_times_agree_with_networkx(sample_fixture, request):
    sample = request.getfixturevalue(sample_fixture)
    net = sample.network
    rng = np.random.default_rng(7)
    com = sample.communities
    pick = np.sort(rng.choice(len(com), size=min(300, len(com)), replace=False))
    homes = snap(net, com.geometry.iloc[pick])
    halls = snap(net, sample.halls.geometry)
    ours = nearest_facility(net, homes, halls).time_s
    theirs = _networkx_nearest(net, _walk_graph(net), homes, halls)
    reachable = np.isfinite(theirs)
    assert (np.isfinite(ours) == reachable).all()
    diff = np.abs(ours[reachable] - theirs[reachable])
    print(f"{sample_fixture}: {reachable.sum()} reachable, max |diff| = {diff.max():.2e} s")  # noqa: T201
    assert diff.max() < 1e-6


def test_hangzhou_walk_excludes_car_only_tunnels(hangzhou_net):
    from coverage.network import read_graph

    raw = read_graph(Path(hangzhou_net.source))
    tunnels = [1 for _, _, d in raw.edges(data=True) if d.get("osrm_class") == "tunnel"]
    assert tunnels  # the sample does have tunnels ...
    drive = hangzhou_net.with_mode("drive")
    assert drive.seg_length_m.sum() > hangzhou_net.seg_length_m.sum()  # ... closed on foot


def test_snap_uses_edges_not_only_nodes(hangzhou_net):
    # a point 30 m beside the middle of a long road is 30 m from the road, not ~100 m from a node
    seg = int(np.argmax(hangzhou_net.seg_length_m))
    line = hangzhou_net.seg_geom[seg]
    mid = line.interpolate(0.5, normalized=True)
    pt = gpd.GeoSeries([shapely.Point(mid.x + 30, mid.y)], crs=hangzhou_net.crs)
    s = snap(hangzhou_net, pt)
    assert s.dist_m[0] <= 30.0 + 1e-6
    assert 0.05 < s.frac[0] < 0.95 or s.seg[0] != seg


def test_grid_xy_round_trip():
    p = grid_points([(1, 2)]).to_crs(GRID_CRS).iloc[0]
    assert (p.x, p.y) == pytest.approx(grid_xy(1, 2))


def test_snap_index_agrees_with_an_rtree_nearest_query(hangzhou_net):
    """The k-d tree over road pieces finds the same distance as shapely's STRtree."""
    rng = np.random.default_rng(3)
    w, s, e, n = shapely.total_bounds(hangzhou_net.seg_geom)
    xy = np.column_stack(
        [rng.uniform(w - 2000, e + 2000, 3000), rng.uniform(s - 2000, n + 2000, 3000)]
    )
    pts = shapely.points(xy)
    seg, dist_m, frac = _snap_index(hangzhou_net).nearest(xy)
    ours = Snapped(seg, frac, dist_m, dist_m)
    tree = shapely.STRtree(hangzhou_net.seg_geom)
    (_, idx), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    np.testing.assert_allclose(ours.dist_m, dist, atol=1e-6)
    # where the nearest road is unique, it is the same road, at the same position
    same = ours.seg == idx
    assert same.mean() > 0.99
    expected = shapely.line_locate_point(
        hangzhou_net.seg_geom[idx[same]], pts[same], normalized=True
    )
    np.testing.assert_allclose(ours.frac[same], expected, atol=1e-6)


def test_snap_index_restricted_to_allowed_segments_agrees_with_brute_force(hangzhou_net):
    """Only allowed segments count (the fragments rule): same as an exhaustive search."""
    rng = np.random.default_rng(11)
    index = _snap_index(hangzhou_net)
    allowed = rng.random(len(hangzhou_net.seg_u)) < 0.05  # a sparse set: wide searches
    w, s, e, n = shapely.total_bounds(hangzhou_net.seg_geom)
    xy = np.column_stack([rng.uniform(w, e, 400), rng.uniform(s, n, 400)])
    seg, dist_m, _ = index.nearest(xy, allowed=allowed)
    dist = shapely.distance(
        shapely.points(xy)[:, None], hangzhou_net.seg_geom[allowed][None, :]
    ).min(axis=1)
    np.testing.assert_allclose(dist_m, dist, atol=1e-6)
    assert allowed[seg].all()
    # with a limit, points beyond it get no segment
    seg_l, dist_l, _ = index.nearest(xy, allowed=allowed, limit=150.0)
    near = dist <= 150.0
    assert (seg_l[~near] == -1).all()
    assert np.isinf(dist_l[~near]).all()
    np.testing.assert_allclose(dist_l[near], dist[near], atol=1e-6)


def test_snap_index_without_kept_records_gives_identical_answers(hangzhou_net, monkeypatch):
    """Large networks recompute piece records on demand: the answers are the same, bit for bit."""
    rng = np.random.default_rng(5)
    w, s, e, n = shapely.total_bounds(hangzhou_net.seg_geom)
    xy = np.column_stack([rng.uniform(w, e, 2000), rng.uniform(s, n, 2000)])
    kept = _snap_index(hangzhou_net)
    monkeypatch.setattr(_PieceIndex, "KEEP_ENDS", 0)
    lean = _PieceIndex(hangzhou_net.seg_xy, hangzhou_net.seg_xy_start)
    assert lean._piece_rec is None
    assert kept._piece_rec is not None
    allowed = rng.random(len(hangzhou_net.seg_u)) < 0.5
    for kwargs in ({}, {"allowed": allowed, "limit": 100.0}):
        for a, b in zip(kept.nearest(xy, **kwargs), lean.nearest(xy, **kwargs), strict=True):
            np.testing.assert_array_equal(a, b)


def test_snap_on_a_network_with_fewer_pieces_than_the_first_search():
    """One 20 m road is one piece, fewer than the first search asks for: still exact."""
    G = line_graph()
    G.remove_node(2)
    for u, v in ((0, 1), (1, 0)):
        G.edges[u, v, 0]["length"] = 20.0
    b = grid_points([(0, 20 / 300)]).iloc[0]
    G.nodes[1]["x"], G.nodes[1]["y"] = b.x, b.y
    net = load_network(G)
    assert _snap_index(net).n_pieces == 1
    s = snap(net, grid_points([(0, 0.01), (3, 3)], offset_m=10))
    assert s.dist_m[0] == pytest.approx(10.0, abs=1e-6)
    assert s.frac[0] == pytest.approx(3 / 20, abs=1e-6) or s.frac[0] == pytest.approx(
        17 / 20, abs=1e-6
    )
    assert s.seg[1] == -1  # about 1.3 km away: beyond the snap limit


def test_snap_many_is_snap_of_each_set(hangzhou_net):
    com = gpd.read_file(Path(__file__).parents[1] / "data/hangzhou-central/communities.gpkg")
    pts = com.representative_point().iloc[:500]
    projected = pts.iloc[:100].to_crs(hangzhou_net.crs)  # another CRS in the same call
    empty = pts.iloc[:0]
    together = snap_many(hangzhou_net, [pts, projected, empty])
    alone_each = [snap(hangzhou_net, g) for g in (pts, projected, empty)]
    for part, alone in zip(together, alone_each, strict=True):
        for field in ("seg", "frac", "dist_m", "access_s"):
            np.testing.assert_array_equal(getattr(part, field), getattr(alone, field))
    assert [len(p) for p in together] == [500, 100, 0]


def test_points_prefer_a_connected_road_to_a_nearby_fragment():
    """A fragment of 2 nodes 30 m from a home, the connected grid 150 m away: use the grid."""
    G = grid_graph(n=4)  # 16 nodes: the largest piece, never a fragment
    a, b = grid_points([(0, -0.6), (0.2, -0.6)]).to_list()
    G.add_node("f1", x=a.x, y=a.y)
    G.add_node("f2", x=b.x, y=b.y)
    G.add_edge("f1", "f2", length=60.0)
    G.add_edge("f2", "f1", length=60.0)
    net = load_network(G)
    home = grid_points([(0.1, -0.5)])  # 30 m east of the fragment, 150 m west of column 0
    s = snap(net, home)
    assert s.dist_m[0] == pytest.approx(150.0, abs=1e-6)
    r = nearest_facility(net, s, snap(net, grid_points([(0, 0)])))
    assert np.isfinite(r.time_s[0])
    near = snap(net, home, config=Config(max_snap_m=100))  # the grid is out of reach
    assert near.dist_m[0] == pytest.approx(30.0, abs=1e-6)


def _grid_with_island(n_island=14):
    """A 40 x 40 grid (1,600 nodes, 300 m apart) and, 180 m west of column 0, an island: a
    straight road of ``n_island`` nodes 20 m apart joined to nothing (as the elevated 中河高架
    was, 14 nodes, once its ramps were closed to walkers)."""
    G = grid_graph(n=40)
    pts = grid_points([(20 + k * 20 / 300, -0.6) for k in range(n_island)]).to_list()
    for k, p in enumerate(pts):
        G.add_node(f"i{k}", x=p.x, y=p.y)
    for k in range(n_island - 1):
        G.add_edge(f"i{k}", f"i{k + 1}", length=20.0)
        G.add_edge(f"i{k + 1}", f"i{k}", length=20.0)
    return G


def test_a_point_never_snaps_onto_an_island_while_a_connected_road_is_within_reach():
    """The island is 30 m from a home, the connected grid 150 m: the home uses the grid.
    (14 nodes: more than the old absolute bound of 10, less than 1 % of the 1,614 nodes.)"""
    net = load_network(_grid_with_island())
    home = grid_points([(20.1, -0.5)])  # 30 m east of the island, 150 m west of column 0
    s = snap(net, home)
    assert s.dist_m[0] == pytest.approx(150.0, abs=1e-6)
    hall = snap(net, grid_points([(20, 3)]))  # at the grid node 900 m east of column 0's node
    r = nearest_facility(net, s, hall)
    # 150 m across, then 30 m along column 0 to node (20, 0) and 900 m east: 1,080 m
    assert r.time_s[0] == pytest.approx(1080 / (4.5 / 3.6), abs=1e-6)
    # the island's 13 segments, and only they, are flagged
    frag = fragment_segments(net)
    island = np.char.startswith(net.node_ids[net.seg_u].astype(str), "i")
    assert frag.sum() == 13
    np.testing.assert_array_equal(frag, island)
    assert fragment_nodes(net).sum() == 14


def test_a_point_whose_only_road_in_reach_is_an_island_snaps_onto_it():
    net = load_network(_grid_with_island())
    home = grid_points([(20.1, -0.5)])
    s = snap(net, home, config=Config(max_snap_m=100))  # the grid (150 m) is out of reach
    assert s.dist_m[0] == pytest.approx(30.0, abs=1e-6)
    assert fragment_segments(net)[s.seg[0]]
    r = nearest_facility(net, s, snap(net, grid_points([(20, 3)])))
    assert np.isinf(r.time_s[0])  # nothing joins the island to the hall


def test_small_pieces_are_fragments_only_beside_a_piece_of_the_bound():
    """3 + 2 nodes: no piece reaches 10 nodes, none is a fragment (a toy graph); beside the
    16-node grid the 2-node piece is one."""
    G = line_graph()  # 3 nodes
    a, b = grid_points([(2, 0), (2, 1)]).to_list()
    G.add_node("f1", x=a.x, y=a.y)
    G.add_node("f2", x=b.x, y=b.y)
    G.add_edge("f1", "f2", length=300.0)
    G.add_edge("f2", "f1", length=300.0)
    assert not fragment_nodes(load_network(G)).any()
    H = grid_graph(n=4)
    H.add_node("f1", x=a.x, y=a.y - 0.01)  # about 1.1 km south of the grid
    H.add_node("f2", x=b.x, y=b.y - 0.01)
    H.add_edge("f1", "f2", length=300.0)
    H.add_edge("f2", "f1", length=300.0)
    net = load_network(H)
    flags = dict(zip(net.node_ids.astype(str).tolist(), fragment_nodes(net).tolist(), strict=True))
    assert [k for k, v in flags.items() if v] == ["f1", "f2"]


@pytest.fixture(scope="module")
def xihu():
    from coverage.samples import load_sample

    return load_sample("hangzhou-xihu")


def test_xihu_hall_on_the_old_viaduct_island_is_reached_from_every_community(xihu):
    """XH-H014 stands by 中河高架, which the old walk rule made a 14-node island the hall
    snapped onto (3 of 441 communities reached it; OSRM and Valhalla reach it from all)."""
    net = xihu.network
    c_snap, h_snap = snap_many(net, [xihu.communities.geometry, xihu.halls.geometry])
    k = int(np.flatnonzero(xihu.halls["hall_id"].to_numpy() == "XH-H014")[0])
    only = h_snap.take(np.array([k]))
    assert "中河高架" not in str(net.seg_name[only.seg[0]])
    assert not fragment_segments(net)[only.seg[0]]
    r = nearest_facility(net, c_snap, only)
    assert np.isfinite(r.time_s).sum() == len(xihu.communities) == 441


def test_xihu_communities_by_the_viaduct_are_on_connected_roads(xihu):
    net = xihu.network
    ids = xihu.communities["community_id"].to_numpy()
    pick = np.flatnonzero(np.isin(ids, ["XH0345", "XH0346", "XH0391", "XH0276"]))
    assert len(pick) == 4
    c_snap, h_snap = snap_many(net, [xihu.communities.geometry.iloc[pick], xihu.halls.geometry])
    assert c_snap.ok.all()
    assert not fragment_segments(net)[c_snap.seg].any()
    assert not any("高架" in str(n) for n in net.seg_name[c_snap.seg])
    # XH0276 was "unreachable"; all four reach a hall
    r = nearest_facility(net, c_snap, h_snap)
    assert np.isfinite(r.time_s).all()


def test_equal_times_go_to_the_first_facility_in_order(grid_net):
    """Community B (2, 2) is 16 minutes from H1 (0, 0) and from H2 (4, 4): the first listed wins."""
    homes = snap(grid_net, grid_points([(2, 2)]))
    for order, first in (([(0, 0), (4, 4)], 0), ([(4, 4), (0, 0)], 0)):
        r = nearest_facility(grid_net, homes, snap(grid_net, grid_points(order)))
        assert (r.time_s / 60).round(9).tolist() == [16.0]
        assert r.facility.tolist() == [first]
    # and with a third, nearer-listed-last hall at the same time: still the first
    three = snap(grid_net, grid_points([(4, 4), (4, 0), (0, 0)]))
    assert nearest_facility(grid_net, homes, three).facility.tolist() == [0]
