"""Service areas: the audit's rule on a grid, checked by hand, by an independent router, and
against the audit's own verdicts on every bundled sample.

Grid facts used below (see coverage.testing): 5 x 5 nodes, 300 m edges, walking at 4.5 km/h,
so 75 m take one minute. The grid's origin lies on a multiple of 20 m, so the default 20 m
cells have their centres at the origin + 10 m + multiples of 20 m.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely

from coverage._errors import CrsError, InputDataError, MissingColumnError
from coverage.audit import CoverageWarning, audit
from coverage.config import Config
from coverage.isochrones import isochrones, travel_time_surface
from coverage.maps import add_isochrones, coverage_map, new_map
from coverage.network import load_network
from coverage.samples import load_sample
from coverage.testing import GRID_CRS, GRID_ORIGIN, grid_graph, grid_halls, line_graph

WALK_M_PER_MIN = 75.0


def _metric(*xy):
    """Points at metric offsets (metres) from the grid's origin, EPSG:32651."""
    return gpd.GeoSeries(
        [shapely.Point(GRID_ORIGIN[0] + x, GRID_ORIGIN[1] + y) for x, y in xy], crs=GRID_CRS
    )


def _halls(xy, **columns):
    ids = columns.pop("hall_id", [f"H{i + 1}" for i in range(len(xy))])
    return gpd.GeoDataFrame({"hall_id": ids, **columns}, geometry=_metric(*xy).to_crs(4326))


# --- the rule, by hand ------------------------------------------------------------------------


def test_cell_times_by_hand(grid_net):
    s = travel_time_surface(grid_net, grid_halls())  # H1 at (0, 0), H2 at (1200, 1200)
    cells = s.cell_of(_metric((150, 10), (310, 150), (1190, 1050)))
    minutes = s.time_s[cells] / 60
    # 10 m off row 0, 150 m along it to H1; 10 m off column 1, 150 m down it and 300 m
    # along row 0; 10 m off column 4, 150 m up it to H2
    expected = np.array([160, 460, 160]) / WALK_M_PER_MIN
    np.testing.assert_allclose(minutes, expected, atol=1e-6)
    assert s.halls["hall_id"].to_numpy()[s.hall[cells]].tolist() == ["H1", "H1", "H2"]


def test_cell_times_match_an_independent_router():
    """Random cells of the grid against networkx + shapely: nearest edge, walk, Dijkstra."""
    G = grid_graph()
    net = load_network(G)
    halls = _halls([(300, 600), (1200, 0)])
    s = travel_time_surface(net, halls)
    to_m = pyproj.Transformer.from_crs(4326, GRID_CRS, always_xy=True)
    xy = {n: np.array(to_m.transform(d["x"], d["y"])) for n, d in G.nodes(data=True)}
    edges = sorted({tuple(sorted((u, v))) for u, v in G.edges()})
    lines = [shapely.LineString([xy[u], xy[v]]) for u, v in edges]
    H = nx.Graph()
    H.add_weighted_edges_from((u, v, 300.0) for u, v in edges)
    hall_nodes = [11, 4]  # (x 300, y 600) is node (row 2, col 1) = 11; (1200, 0) is node 4
    to_hall = [nx.single_source_dijkstra_path_length(H, h) for h in hall_nodes]
    rng = np.random.default_rng(5)
    checked = 0
    for i in rng.choice(len(s), size=400, replace=False):
        centre = shapely.Point((s.col[i] + 0.5) * 20, (s.row[i] + 0.5) * 20)
        dist = np.array([line.distance(centre) for line in lines])
        order = np.argsort(dist)
        if dist[order[1]] - dist[order[0]] < 1e-6:
            continue  # two roads equally near: either may be the one
        u, v = edges[order[0]]
        along = lines[order[0]].project(centre)  # from u
        best = min(
            min(along + t[u], 300.0 - along + t[v]) for t in to_hall
        )  # (a hall at a node: network time from either end of the nearest edge)
        assert s.time_s[i] == pytest.approx((dist[order[0]] + best) / (4.5 / 3.6), abs=1e-6)
        checked += 1
    assert checked > 300


def test_cells_beyond_the_snap_limit_are_not_held(grid_net):
    s = travel_time_surface(grid_net, grid_halls(), config=Config(max_snap_m=200))
    inside, outside = s.cell_of(_metric((-190, 610), (-230, 610)))
    assert inside >= 0
    assert s.time_s[inside] == pytest.approx((190 + 610) / WALK_M_PER_MIN * 60, abs=1e-6)
    assert outside == -1
    iso = isochrones(grid_net, grid_halls(), minutes=[60], config=Config(max_snap_m=200))
    poly = iso.to_crs(GRID_CRS).geometry.iloc[0]
    assert poly.contains(_metric((-190, 610)).iloc[0])
    assert not poly.intersects(_metric((-230, 610)).iloc[0].buffer(5))


def test_trips_run_to_the_hall_on_one_way_roads():
    net = load_network(line_graph(oneway=True), mode="drive")  # 0 -> 1 -> 2, eastward
    east, west = _halls([(600, 0)]), _halls([(0, 0)])
    # from a cell beside node 0, the hall at node 2 is reached eastward; the one at node 0
    # cannot be reached from beside node 2 (the roads run away from it)
    s_east = travel_time_surface(net, east)
    s_west = travel_time_surface(net, west)
    near_0, near_2 = _metric((10, 10)), _metric((590, 10))
    access = 10 / (4.5 / 3.6)
    assert s_east.time_s[s_east.cell_of(near_0)][0] == pytest.approx(access + 590 / (30 / 3.6))
    assert np.isinf(s_west.time_s[s_west.cell_of(near_2)][0])
    assert s_west.hall[s_west.cell_of(near_2)][0] == -1


# --- polygons ---------------------------------------------------------------------------------


def test_bands_nest_and_catchments_do_not_overlap(grid_net):
    halls = _halls([(0, 0), (1200, 1200), (600, 0)], district=["W", "E", "W"])
    s = travel_time_surface(grid_net, halls)
    bands = s.polygons([8, 4])
    assert bands["band_min"].tolist() == [4.0, 8.0]
    four, eight = bands.to_crs(GRID_CRS).geometry
    assert four.difference(eight).area < 1e-3
    assert eight.area > four.area > 0
    catch = s.polygons([4, 8], per="hall").to_crs(GRID_CRS)
    assert catch["hall_id"].tolist() == ["H1", "H1", "H2", "H2", "H3", "H3"]
    assert catch["district"].tolist() == ["W", "W", "E", "E", "W", "W"]
    for band in (4, 8):
        parts = catch[catch["band_min"] == band].geometry.to_list()
        for i in range(len(parts)):
            for j in range(i + 1, len(parts)):
                # (shared edges meet to within a millimetre in EPSG:4326 and back)
                assert parts[i].intersection(parts[j]).area < 0.01, (band, i, j)
        union = shapely.union_all(parts)
        whole = eight if band == 8 else four
        assert union.difference(whole).area < 0.01
        # catchments leave out at most the small corners where three halls' cells meet
        assert union.area / whole.area > 0.99
    districts = s.polygons([8], per="district")
    assert districts["district"].tolist() == ["E", "W"]
    assert districts["halls"].tolist() == [1, 2]
    # areas are measured on the grid: exactly what the traced polygons hold
    np.testing.assert_allclose(catch["area_m2"], catch.area, rtol=1e-6)


def test_hall_far_from_every_road_is_warned_and_serves_nothing(grid_net):
    halls = _halls([(0, 0), (-900, -900)])
    with pytest.warns(CoverageWarning, match=r"1 hall lies farther than 500 m.*H2"):
        catch = isochrones(grid_net, halls, minutes=[10], per="hall")
    assert catch["hall_id"].tolist() == ["H1", "H2"]
    assert not catch.geometry.iloc[0].is_empty
    assert catch.geometry.iloc[1].is_empty
    assert catch["area_m2"].iloc[1] == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"minutes": []}, InputDataError, "at least one"),
        ({"minutes": [15, -1]}, InputDataError, "positive"),
        ({"minutes": [15, 15]}, InputDataError, "repeated"),
        ({"minutes": "abc"}, InputDataError, "list of minutes"),
        ({"per": "street"}, InputDataError, "per must be"),
        ({"per": "district"}, MissingColumnError, "district"),
        ({"cell_m": 0.5}, InputDataError, "cell_m must be at least 1"),
    ],
)
def test_bad_arguments(grid_net, kwargs, error, match):
    with pytest.raises(error, match=match):
        isochrones(grid_net, grid_halls(), **kwargs)


def test_bad_halls(grid_net):
    with pytest.raises(MissingColumnError, match="hall_id"):
        isochrones(grid_net, grid_halls().drop(columns="hall_id"))
    with pytest.raises(CrsError):
        isochrones(grid_net, gpd.GeoDataFrame(grid_halls().drop(columns="geometry")))
    lines = grid_halls().assign(geometry=[shapely.LineString([(0, 0), (1, 1)])] * 2)
    with pytest.raises(InputDataError, match="2 hall geometries are not points"):
        isochrones(grid_net, lines)


def test_no_halls(grid_net):
    iso = isochrones(grid_net, grid_halls().iloc[:0], minutes=[15])
    assert iso["band_min"].tolist() == [15.0]
    assert iso.geometry.iloc[0].is_empty
    assert iso.crs.to_epsg() == 4326


# --- the audit's verdicts and the drawn areas, on every bundled sample ------------------------


def _within(communities, band):
    """Communities within ``band`` minutes: the audit's verdict where the band is their
    threshold, else their time (rounded to 0.01 min, as the audit writes it)."""
    minutes = communities["travel_time_min"].fillna(np.inf).to_numpy()
    own = communities["threshold_min"].to_numpy() == band
    return np.where(own, communities["covered"].to_numpy(dtype=bool), minutes <= band)


def _contradictions(communities, areas, band, crs, tol_m):
    """Communities covered within ``band`` but outside its area, and the reverse, by more than
    ``tol_m`` metres."""
    pts = communities.geometry.to_crs(crs)
    poly = areas[areas["band_min"] == band].to_crs(crs).geometry.union_all()
    inside = pts.within(poly).to_numpy()
    covered = _within(communities, band)
    out_by = pts.distance(poly).to_numpy()
    in_by = pts.distance(poly.boundary).to_numpy()
    return (
        communities["community_id"][covered & ~inside & (out_by > tol_m)].tolist(),
        communities["community_id"][~covered & inside & (in_by > tol_m)].tolist(),
    )


@pytest.fixture(scope="module", params=["hangzhou-central", "hangzhou-xihu", "liechtenstein"])
def audited(request):
    sample = load_sample(request.param)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        result = audit(sample.communities, sample.halls, sample.network)
    surface = travel_time_surface(sample.network, sample.halls, communities=sample.communities)
    return sample, result, surface


def test_drawn_areas_agree_with_the_verdicts(audited):
    sample, result, surface = audited
    bands = surface.polygons((15, 20))
    assert bands.geometry.is_valid.all()
    tol = surface.cell_m  # one cell
    for band in (15, 20):
        covered_out, late_in = _contradictions(result.communities, bands, band, surface.crs, tol)
        assert covered_out == [], (sample.name, band)
        assert late_in == [], (sample.name, band)


def test_community_cells_carry_the_audit_time(audited):
    _, result, surface = audited
    com = result.communities
    cell = surface.cell_of(com.geometry)
    reachable = com["status"].to_numpy() != "unreachable"
    assert (cell[reachable] >= 0).all()
    ours = np.round(surface.time_s[cell[reachable]] / 60, 2)
    theirs = com["travel_time_min"].to_numpy()[reachable]
    # a cell shared by several communities takes the latest one's time
    assert (ours >= theirs - 1e-9).all()
    shared = np.bincount(cell[reachable], minlength=len(surface))[cell[reachable]] > 1
    np.testing.assert_array_equal(ours[~shared], theirs[~shared])
    assert surface.pinned[cell[reachable]].all()


def test_communities_lie_in_their_nearest_halls_catchment(audited):
    sample, result, surface = audited
    catch = surface.polygons((20,), per="hall").to_crs(surface.crs).set_index("hall_id")
    com = result.communities[result.communities["travel_time_min"] <= 20]
    pts = com.geometry.to_crs(surface.crs)
    far = [
        cid
        for cid, hall, p in zip(com["community_id"], com["nearest_hall_id"], pts, strict=True)
        if catch.geometry[hall].distance(p) > surface.cell_m
    ]
    assert far == [], sample.name


def test_the_map_draws_the_same_areas(audited):
    sample, result, surface = audited
    bands = surface.polygons((15, 20))
    # both bands, whatever kinds the sample holds (coverage_map leaves out unused ones)
    m = add_isochrones(bands, m=new_map(bands, basemap="blank", lang="en"), lang="en")
    drawn = {}
    for child in m._children.values():
        name = getattr(child, "layer_name", "")
        if name.endswith("-minute area"):
            geoms = [shapely.geometry.shape(f["geometry"]) for f in child.data["features"]]
            drawn[float(name.split("-")[0])] = shapely.union_all(geoms)
    assert sorted(drawn) == [15.0, 20.0]
    frame = gpd.GeoDataFrame({"band_min": list(drawn)}, geometry=list(drawn.values()), crs=4326)
    for band in (15, 20):  # the map's simplification (4 m) stays within the cell tolerance
        covered_out, late_in = _contradictions(
            result.communities, frame, band, surface.crs, surface.cell_m
        )
        assert (covered_out, late_in) == ([], []), (sample.name, band)


def test_the_map_draws_each_halls_own_catchment(grid_net):
    halls = _halls([(0, 0), (1200, 1200), (600, 0)], name=["甲", "乙", "丙"])
    catch = isochrones(grid_net, halls, minutes=[4, 8], per="hall")
    catch = catch.iloc[::-1]  # any order and index
    m = coverage_map(
        audit(_halls_as_communities(), halls, grid_net),
        catchments=catch,
        lang="en",
        basemap="blank",
    )
    (layer,) = [
        c for c in m._children.values() if getattr(c, "layer_name", "") == "Catchment of each hall"
    ]
    features = layer.data["features"]
    assert len(features) == 3
    widest = catch[catch["band_min"] == 8].set_index("hall_id").to_crs(GRID_CRS)
    for f in features:
        hall = f["properties"]["label"].split("(")[1].split(")")[0]
        drawn = gpd.GeoSeries([shapely.geometry.shape(f["geometry"])], crs=4326).to_crs(GRID_CRS)
        # the drawn outline is that hall's catchment (simplified by at most 4 m)
        assert drawn.iloc[0].symmetric_difference(widest.geometry[hall]).area < (
            0.02 * widest.geometry[hall].area
        ), hall


def _halls_as_communities():
    return gpd.GeoDataFrame(
        {"community_id": ["A"], "kind": ["urban"], "population": [100]},
        geometry=_metric((150, 10)).to_crs(4326),
    )


# --- the stored grid ---------------------------------------------------------------------------


def test_grid_is_stored_beside_a_cached_network_and_read_back(tmp_path, monkeypatch):
    """The second run of a cached network reads the grid of snapped cells from disk and draws
    the same surface; a network built in memory stores nothing."""
    import osmnx as ox

    import coverage.isochrones as iso

    graph_file = tmp_path / "grid.graphml"
    ox.save_graphml(grid_graph(), graph_file)
    cfg = Config(cache_dir=str(tmp_path / "cache"))
    first = travel_time_surface(load_network(graph_file, config=cfg), grid_halls(), config=cfg)
    stored = list((tmp_path / "cache").glob("*.isochrones.*.npz"))
    assert len(stored) == 1

    def no_build(*_a, **_k):
        msg = "the grid was built again"
        raise AssertionError(msg)

    monkeypatch.setattr(iso, "_grid_cells", no_build)
    again = travel_time_surface(load_network(graph_file, config=cfg), grid_halls(), config=cfg)
    np.testing.assert_array_equal(again.time_s, first.time_s)
    np.testing.assert_array_equal(again.hall, first.hall)
    # another cell size is another grid (built, so it fails here); in memory nothing is stored
    with pytest.raises(AssertionError, match="built again"):
        travel_time_surface(
            load_network(graph_file, config=cfg), grid_halls(), cell_m=25, config=cfg
        )
    monkeypatch.undo()
    travel_time_surface(grid_graph_network := load_network(grid_graph()), grid_halls())
    assert grid_graph_network.table_path is None


def _untie_by_whole_grid(row, col, label, band, pinned):
    """The rule of ``_untie_corners`` written the plain way: passes over a dense grid until
    nothing moves (the reference for the sparse and the windowed versions)."""
    no = 1 << 30
    r0, c0 = row.min(), col.min()
    h, w = row.max() - r0 + 2, col.max() - c0 + 2
    lab = np.full(h * w, -1)
    bnd = np.full(h * w, no)
    pin = np.zeros(h * w, dtype=bool)
    at = (row - r0) * w + (col - c0)
    lab[at], bnd[at], pin[at] = label, band, pinned
    n = h * w - (w + 1)
    moved = True
    while moved:
        moved = False
        for p, q, s, t in ((0, w + 1, 1, w), (1, w, 0, w + 1)):
            la, ld, ba, bd = lab[p : p + n], lab[q : q + n], bnd[p : p + n], bnd[q : q + n]
            bb = np.where(lab[s : s + n] == la, bnd[s : s + n], no)
            bc = np.where(lab[t : t + n] == la, bnd[t : t + n], no)
            joins = np.minimum(bb, bc)
            hit = np.flatnonzero((la >= 0) & (la == ld) & (np.maximum(ba, bd) < joins))
            if len(hit):
                pa, pd = pin[p + hit], pin[q + hit]
                move_d = np.where(pa == pd, bd[hit] >= ba[hit], pa)
                cell = np.where(move_d, q, p) + hit
                bnd[cell] = joins[hit]
                lab[cell[joins[hit] == no]] = -1
                moved = True
    out = bnd[at]
    return lab[at], np.where(out == no, -1, out)


@pytest.mark.parametrize("gap", [0, 3000], ids=["one block (dense grid)", "far apart (sparse)"])
def test_untying_corners_equals_whole_grid_passes(gap):
    # two checkerboard-like blocks of random cells (many diagonal contacts), side by side or
    # 3,000 cells apart (the grid's box is then far larger than its cells: sorted keys)
    from coverage import isochrones as iso

    rng = np.random.default_rng(7)
    rows, cols = [], []
    for shift in (0, 60 + gap):
        cells = np.argwhere(rng.random((60, 60)) < 0.55)
        rows.append(cells[:, 0] + shift // 2)
        cols.append(cells[:, 1] + shift)
    row, col = np.concatenate(rows), np.concatenate(cols)
    label = rng.integers(0, 3, len(row))
    band = rng.integers(0, 4, len(row))
    pinned = rng.random(len(row)) < 0.2
    expect = _untie_by_whole_grid(row, col, label, band, pinned)
    got = iso._untie_corners(row, col, label.copy(), band.copy(), pinned.copy())
    assert (got[1] != band).sum() > 50  # corners were really untied
    np.testing.assert_array_equal(got[0], expect[0])
    np.testing.assert_array_equal(got[1], expect[1])


def test_a_big_grid_is_made_only_near_the_halls_and_gives_the_same_bands(
    liechtenstein, monkeypatch
):
    # Liechtenstein's grid is small; pretend it is a province's (every grid counts as big):
    # the cells far from the three town halls are left out, the bands are the same
    from coverage import isochrones as iso

    s = liechtenstein
    whole = travel_time_surface(s.network, s.halls, communities=s.communities)
    monkeypatch.setattr(iso, "FULL_GRID_CELLS", 0)
    near = travel_time_surface(s.network, s.halls, communities=s.communities, max_min=20)
    assert near.max_min == 20
    assert whole.max_min is None
    assert len(near) < 0.6 * len(whole)  # most of the country is beyond 20 minutes of a hall
    for per in ("all", "hall"):
        a = whole.polygons([15, 20], per=per)
        b = near.polygons([15, 20], per=per)
        assert b["area_m2"].tolist() == a["area_m2"].tolist()
        assert all(x.equals(y) for x, y in zip(a.geometry, b.geometry, strict=True))
    with pytest.raises(InputDataError, match="max_min=30"):
        near.polygons([15, 30])


def test_a_group_too_wide_for_one_tile_is_traced_in_pieces_with_the_same_outline(
    liechtenstein, monkeypatch
):
    # a province's halls span more than one tile can hold; here the tile limit is made tiny,
    # so the three town halls' areas are traced piece by piece and joined again
    from coverage import isochrones as iso

    s = liechtenstein
    surface = travel_time_surface(s.network, s.halls, communities=s.communities)
    whole = {per: surface.polygons([15, 20], per=per) for per in ("all", "hall")}
    drawn = surface.time_s <= 20 * 60
    pieces = iso._pieces(surface.row[drawn] // 8, surface.col[drawn] // 8)
    assert len(np.unique(pieces)) > 1  # the halls' areas do not all touch
    monkeypatch.setattr(iso, "MAX_TILE_CELLS", 1_000)
    for per, expect in whole.items():
        got = surface.polygons([15, 20], per=per)
        assert all(a.equals(b) for a, b in zip(got.geometry, expect.geometry, strict=True))
        np.testing.assert_allclose(got["area_m2"], expect["area_m2"], rtol=1e-12)
