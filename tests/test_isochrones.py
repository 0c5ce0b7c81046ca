"""Isochrones: exact partial reach on the hand-checkable grid, nesting and soundness on real data.

Grid facts used below (see coverage.testing): 5 x 5 nodes, 300 m edges, walking at 4.5 km/h,
so one edge takes 4 minutes and 75 m take one minute. ``grid_points([(row, col)])`` places a
point at a grid position; fractions are along an edge (``(0, 1.5)`` is half-way between nodes
(0, 1) and (0, 2)).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

from coverage import _isogrid
from coverage._errors import CrsError, InputDataError, MissingColumnError
from coverage.audit import CoverageWarning
from coverage.engine import snap
from coverage.isochrones import isochrones
from coverage.network import load_network
from coverage.testing import GRID_CRS, grid_graph, grid_halls, grid_points, line_graph

MIN = 60.0


def _grid_slack(cell_m):
    """How far past the exact buffer a grid polygon may reach, metres (see _isogrid)."""
    return (1 + np.sqrt(2)) * cell_m


def _halls(positions, *, offset_m=0.0, **columns):
    ids = columns.pop("hall_id", [f"H{i + 1}" for i in range(len(positions))])
    return gpd.GeoDataFrame(
        {"hall_id": ids, **columns}, geometry=grid_points(positions, offset_m=offset_m), crs=4326
    )


def _geoms(iso, band):
    """Polygons of one band in the grid's metric CRS, in row order."""
    return iso[iso["band_min"] == band].to_crs(GRID_CRS).geometry.to_list()


def _leak(inner, outer, crs=GRID_CRS):
    """Area (m²) of the part of ``inner`` outside ``outer``, both EPSG:4326."""
    return gpd.GeoSeries([inner.difference(outer)], crs=4326).to_crs(crs).area.iloc[0]


def _inside(poly, positions):
    pts = grid_points(positions).to_crs(GRID_CRS)
    return [bool(poly.covers(p)) for p in pts]


# --- hand-checkable grid ---------------------------------------------------------------------


def test_corner_hall_reaches_one_and_two_edges(grid_net):
    iso = isochrones(grid_net, _halls([(0, 0)]), minutes=[4, 8], buffer_m=10, method="exact")
    (four,) = _geoms(iso, 4)
    (eight,) = _geoms(iso, 8)
    # 4 minutes: the two edges from the corner, up to and including nodes (0, 1) and (1, 0);
    # the buffer reaches 10 m past them (9 m in, 12 m out), never 60 m
    assert (
        _inside(four, [(0, 0.99), (0.99, 0), (0, 1), (1, 0), (0, 1.03), (0.02, 0.5)]) == [True] * 6
    )
    assert _inside(four, [(0, 1.2), (0, 1.04), (1.04, 0), (0.5, 0.5), (1, 1)]) == [False] * 5
    # 8 minutes: nodes (0, 2), (1, 1), (2, 0) at exactly 8 minutes, nothing past them
    assert _inside(eight, [(1, 1), (0, 2), (2, 0), (0.5, 1), (1, 0.5), (1, 1.03)]) == [True] * 6
    assert _inside(eight, [(1, 1.5), (1, 1.04), (0, 2.1), (2.1, 0), (1.5, 1)]) == [False] * 5
    # the block (0, 0)-(1, 1) is enclosed by reached roads: its middle, 150 m from any road,
    # stays a hole
    assert _inside(eight, [(0.5, 0.5)]) == [False]
    assert _leak(*iso.geometry) <= 1e-6


def test_partial_edges_are_cut_where_the_time_runs_out(grid_net):
    # 6 minutes = one and a half edges
    iso = isochrones(grid_net, _halls([(0, 0)]), minutes=[6], buffer_m=10, method="exact")
    (six,) = _geoms(iso, 6)
    reached = [(0, 1.5), (1.5, 0), (0.5, 1), (1, 0.5), (0, 1.53)]
    assert _inside(six, reached) == [True] * 5
    beyond = [(0, 1.55), (1.55, 0), (0.55, 1), (1, 0.55)]  # 15 m past the end of reach
    assert _inside(six, beyond) == [False] * 4


def test_area_matches_the_exact_buffer_of_the_reached_roads(grid_net):
    iso = isochrones(grid_net, _halls([(0, 0), (2, 2)]), minutes=[4], buffer_m=10, method="exact")
    # an L of two 300 m roads, 10 m each side: two stadiums (300 x 20 + a 10 m disk each) less
    # their overlap at the corner (3/4 of the disk and a 10 x 10 square); a cross of four
    # roads from an inner node: two 600 m stadiums less the 20 x 20 square they share
    stadium = 300 * 20 + np.pi * 100
    l_shape = 2 * stadium - (0.75 * np.pi * 100 + 100)
    cross = 2 * (600 * 20 + np.pi * 100) - 400
    exact = np.array([l_shape, cross])
    area = iso["area_m2"].to_numpy()
    # arcs are drawn as chords (slightly inside); the node polygons add at most 0.1 m
    assert np.all(np.abs(area - exact) / exact < 0.002)
    got = shapely.area(iso.to_crs(GRID_CRS).geometry.values)
    np.testing.assert_allclose(area, got, rtol=1e-6)


def test_off_road_hall_walks_to_its_road_first(grid_net):
    # 75 m north of the middle of edge (0, 0)-(0, 1): one minute of off-road walk, so 3 of the
    # 4 minutes are left on the road: 225 m each way, then 75 m up column 0 from node (0, 0)
    halls = _halls([(0, 0.5)], offset_m=75)
    iso = isochrones(grid_net, halls, minutes=[4], buffer_m=10, method="exact")
    (four,) = _geoms(iso, 4)
    assert _inside(four, [(0, 1.25), (0, 0), (0.25, 0), (0, 1.28)]) == [True] * 4
    assert _inside(four, [(0, 1.3), (0.3, 0), (1, 0)]) == [False] * 3
    assert four.covers(halls.to_crs(GRID_CRS).geometry.iloc[0])  # the walk itself is drawn


def test_bands_shorter_than_the_off_road_walk(grid_net):
    # 120 m off the road is 1.6 minutes of walking; a one-minute band reaches no road
    halls = _halls([(0, 0.5)], offset_m=120)
    iso = isochrones(grid_net, halls, minutes=[1, 4], buffer_m=10, method="exact")
    one, four = _geoms(iso, 1)[0], _geoms(iso, 4)[0]
    hall = halls.to_crs(GRID_CRS).geometry.iloc[0]
    assert one.covers(hall)
    assert not one.intersects(grid_points([(0, 0.5)]).to_crs(GRID_CRS).iloc[0].buffer(5))
    assert _leak(*iso.geometry) <= 1e-6
    assert _inside(four, [(0, 0.5), (0, 0.75)]) == [True, True]


def test_one_way_roads_are_followed_from_the_hall():
    # 0 -> 1 -> 2 one-way eastward, driving at 30 km/h: 300 m take 36 s
    G = line_graph(oneway=True)
    drive = load_network(G, mode="drive")
    iso = isochrones(drive, _halls([(0, 1)]), minutes=[0.5, 1], buffer_m=10, method="exact")
    half, one = _geoms(iso, 0.5)[0], _geoms(iso, 1)[0]
    assert _inside(half, [(0, 1.8), (0, 1.9)]) == [True, False]  # 250 m in 30 s
    assert _inside(one, [(0, 2), (0, 0.95)]) == [True, False]  # never upstream
    walk = load_network(G, mode="walk")
    both = isochrones(walk, _halls([(0, 1)]), minutes=[4], buffer_m=10, method="exact")
    both = _geoms(both, 4)[0]
    assert _inside(both, [(0, 0), (0, 2)]) == [True, True]


def test_roads_crossing_without_a_node_and_degenerate_edges():
    # a bridge: a road crossing the grid's edge (0, 1)-(1, 1) without a shared node, a
    # duplicate node joined by zero-length edges, and two roads leaving a node almost together
    G = grid_graph(n=3)
    a, b = grid_points([(0.5, 0.5), (0.5, 1.5)]).to_list()
    G.add_node("w", x=a.x, y=a.y)
    G.add_node("e", x=b.x, y=b.y)
    for s, t in (("w", "e"), ("e", "w")):
        G.add_edge(s, t, length=300.0, highway="residential")
    p = grid_points([(0, 0)]).iloc[0]
    G.add_node("dup", x=p.x, y=p.y)
    for s, t in ((0, "dup"), ("dup", 0)):
        G.add_edge(s, t, length=0.0, highway="residential")
    q = grid_points([(2, 2.01)], offset_m=0.05).iloc[0]  # 0.2 degrees off edge (2, 1)-(2, 2)
    G.add_node("twin", x=q.x, y=q.y)
    for s, t in ((7, "twin"), ("twin", 7)):
        G.add_edge(s, t, length=303.0, highway="residential")
    G.add_edge("w", 0, length=math_hyp(150, 150), highway="residential")
    G.add_edge(0, "w", length=math_hyp(150, 150), highway="residential")
    net = load_network(G)
    iso = isochrones(net, _halls([(0, 0)]), minutes=[4, 8, 12], buffer_m=10, method="exact")
    assert iso.geometry.is_valid.all()
    assert _leak(*iso.geometry[:2]) <= 1e-6
    assert _leak(*iso.geometry[1:]) <= 1e-6
    polys = iso.to_crs(GRID_CRS).geometry.to_list()
    # the diagonal to "w" (212 m, 2.8 min) then the bridge eastward: 1.2 min = 90 m in 4 min
    assert _inside(polys[0], [(0.5, 0.5), (0.5, 0.8)]) == [True, True]
    assert _inside(polys[0], [(0.5, 0.9)]) == [False]
    assert _inside(polys[2], [(0.5, 1.5), (2, 1)]) == [True, True]  # 6.8 and 12 minutes
    assert _inside(polys[2], [(2, 1.1)]) == [False]


def math_hyp(x: float, y: float) -> float:
    return float(np.hypot(x, y))


# --- grid method (the default): same routing, polygons drawn on a grid ----------------------


def test_grid_corner_hall_reached_roads_inside_far_land_outside(grid_net):
    # buffer 10 m, cells of 5 m: the drawn edge may lie up to 12.1 m past the exact buffer
    iso = isochrones(grid_net, _halls([(0, 0)]), minutes=[4, 8], buffer_m=10, cell_m=5)
    (four,) = _geoms(iso, 4)
    (eight,) = _geoms(iso, 8)
    reached4 = [(0, 0.99), (0.99, 0), (0, 1), (1, 0), (0.02, 0.5), (0, 0.5)]
    assert _inside(four, reached4) == [True] * 6
    # 30 m and more past the end of reach, or 150 m from any reached road
    assert _inside(four, [(0, 1.1), (1.1, 0), (0.5, 0.5), (1, 1), (0.1, 0.5)]) == [False] * 5
    assert _inside(eight, [(1, 1), (0, 2), (2, 0), (0.5, 1), (1, 0.5)]) == [True] * 5
    assert _inside(eight, [(1, 1.1), (0, 2.1), (2.1, 0), (0.5, 0.5)]) == [False] * 4
    assert _leak(*iso.geometry) <= 1e-9  # the 4-minute cells are among the 8-minute ones
    assert iso.geometry.is_valid.all()


def test_grid_partial_edges_and_off_road_walk(grid_net):
    iso = isochrones(grid_net, _halls([(0, 0)]), minutes=[6], buffer_m=10, cell_m=5)
    (six,) = _geoms(iso, 6)
    assert _inside(six, [(0, 1.5), (1.5, 0), (0.5, 1), (1, 0.5)]) == [True] * 4
    assert _inside(six, [(0, 1.6), (1.6, 0), (0.6, 1), (1, 0.6)]) == [False] * 4  # 30 m past
    halls = _halls([(0, 0.5)], offset_m=75)  # one minute off the road, 3 left on it
    (four,) = _geoms(isochrones(grid_net, halls, minutes=[4], buffer_m=10, cell_m=5), 4)
    assert _inside(four, [(0, 1.25), (0, 0), (0.25, 0)]) == [True] * 3
    assert _inside(four, [(0, 1.35), (0.35, 0), (1, 0)]) == [False] * 3
    assert four.covers(halls.to_crs(GRID_CRS).geometry.iloc[0])  # the walk itself is drawn


def test_grid_one_way_roads():
    drive = load_network(line_graph(oneway=True), mode="drive")
    iso = isochrones(drive, _halls([(0, 1)]), minutes=[0.5, 1], buffer_m=10, cell_m=5)
    half, one = _geoms(iso, 0.5)[0], _geoms(iso, 1)[0]
    assert _inside(half, [(0, 1.8), (0, 1.95)]) == [True, False]  # 250 m in 30 s
    assert _inside(one, [(0, 2), (0, 0.9)]) == [True, False]  # never upstream


def test_grid_area_is_the_drawn_area_and_close_to_the_exact_one(grid_net):
    halls = _halls([(0, 0), (2, 2)])
    exact = isochrones(grid_net, halls, minutes=[4, 8], buffer_m=10, method="exact")
    for cell in (2.5, 5.0):
        grid = isochrones(grid_net, halls, minutes=[4, 8], buffer_m=10, cell_m=cell)
        got = shapely.area(grid.to_crs(GRID_CRS).geometry.values)
        np.testing.assert_allclose(grid["area_m2"], got, rtol=1e-6)
        ratio = grid["area_m2"].to_numpy() / exact["area_m2"].to_numpy()
        # cells whose centre lies within the buffer of a reached cell: a little more area
        assert np.all((ratio > 0.95) & (ratio < 1.2 + cell / 25)), (cell, ratio)
        ex = exact.to_crs(GRID_CRS).geometry.array
        gr = grid.to_crs(GRID_CRS).geometry.array
        assert np.all(shapely.hausdorff_distance(ex, gr) <= _grid_slack(cell)), cell


def test_grid_drawing_matches_the_cells():
    """Random fields: valid polygons, nested bands, every marked cell's centre inside."""
    rng = np.random.default_rng(3)
    cell = 10.0
    for trial in range(30):
        n_groups, n_bands = 3, 2
        size = int(rng.integers(3, 25))
        count = int(rng.integers(1, size * size))
        group = rng.integers(0, n_groups, count)
        row = rng.integers(-size, size, count) + 1000 * trial
        col = rng.integers(-size, size, count) - 70 * trial
        band = rng.integers(0, n_bands, count)
        marks = _isogrid.Marks.empty()
        marks.add(group, row, col, band)
        geoms, area = _isogrid.draw(marks, n_groups, n_bands, [(0, 0)], cell, None, workers=2)
        assert all(g.is_valid for g in geoms), trial
        np.testing.assert_allclose(shapely.area(geoms), area, rtol=1e-9, atol=1e-6)
        for g in range(n_groups):
            inner, outer = geoms[g * n_bands], geoms[g * n_bands + 1]
            assert shapely.difference(inner, outer).area <= 1e-9, trial
            for k in range(n_bands):
                m = (group == g) & (band <= k)
                cx, cy = (col[m] + 0.5) * cell, (row[m] + 0.5) * cell
                assert shapely.contains_xy(geoms[g * n_bands + k], cx, cy).all(), (trial, g, k)
                # cells far from every marked cell stay outside (filled corners are adjacent)
                taken = set(zip(row[m].tolist(), col[m].tolist(), strict=True))
                r_all, c_all = np.meshgrid(
                    np.arange(-size - 3, size + 3) + 1000 * trial,
                    np.arange(-size - 3, size + 3) - 70 * trial,
                    indexing="ij",
                )
                far = np.array([
                    not any((r + dr, c + dc) in taken for dr in (-1, 0, 1) for dc in (-1, 0, 1))
                    for r, c in zip(r_all.ravel().tolist(), c_all.ravel().tolist(), strict=True)
                ])  # fmt: skip
                fx = (c_all.ravel()[far] + 0.5) * cell
                fy = (r_all.ravel()[far] + 0.5) * cell
                assert not shapely.contains_xy(geoms[g * n_bands + k], fx, fy).any()


def test_grid_holes_go_to_the_right_shell():
    """One group: a square ring with an island in its hole, and a second square ring."""

    def square_ring(r0, c0, size):
        return [(r0 + i, c0 + j) for i in range(size) for j in range(size)
                if i in (0, size - 1) or j in (0, size - 1)]  # fmt: skip

    cells = [*square_ring(0, 0, 7), (3, 3), *square_ring(0, 20, 5)]
    row, col = (np.array(x) for x in zip(*cells, strict=True))
    marks = _isogrid.Marks.empty()
    zeros = np.zeros(len(cells), dtype=np.int64)
    marks.add(zeros, row, col, zeros)
    (geom,), area = _isogrid.draw(marks, 1, 1, [(0, 0)], 1.0, None)
    assert geom.is_valid
    assert geom.geom_type == "MultiPolygon"
    parts = sorted(shapely.get_parts(geom), key=lambda p: -p.area)
    assert [len(p.interiors) for p in parts] == [1, 1, 0]  # ring, ring, island
    inside = shapely.contains_xy(geom, col + 0.5, row + 0.5)
    assert inside.all()
    assert not shapely.contains_xy(geom, [2.5, 4.5, 22.5], [2.5, 4.5, 2.5]).any()  # the holes
    assert area[0] == pytest.approx(geom.area)


def test_grid_refuses_a_tile_too_large_to_draw(monkeypatch):
    marks = _isogrid.Marks.empty()
    zeros = np.zeros(2, dtype=np.int64)
    marks.add(zeros, np.array([0, 3000]), np.array([0, 3000]), zeros)
    monkeypatch.setattr(_isogrid, "MAX_TILE_CELLS", 1_000_000)
    with pytest.raises(InputDataError, match=r"span about 30 km.*larger cell_m"):
        _isogrid.draw(marks, 1, 1, [(0, 0)], 10.0, None)


def test_grid_lonlat_interpolation_is_within_a_millimetre():
    rng = np.random.default_rng(11)
    x = rng.uniform(200_000, 230_000, 5_000)
    y = rng.uniform(3_330_000, 3_360_000, 5_000)
    lattice = _isogrid.Lattice.covering((x.min(), x.max()), (y.min(), y.max()), GRID_CRS)
    lon, lat = lattice.lonlat(x, y)
    back_x, back_y = pyproj.Transformer.from_crs(4326, GRID_CRS, always_xy=True).transform(lon, lat)
    assert np.hypot(back_x - x, back_y - y).max() < 1e-3


@pytest.mark.parametrize("per", ["district", "all"])
def test_grid_unions_match_the_union_of_hall_polygons(grid_net, per):
    halls = _halls([(0, 0), (4, 4), (0, 1)], district=["West", "East", "West"])
    kw = {"minutes": [4, 8], "buffer_m": 10, "cell_m": 5}
    per_hall = isochrones(grid_net, halls, **kw).to_crs(GRID_CRS)
    union = isochrones(grid_net, halls, per=per, **kw).to_crs(GRID_CRS)
    for _, row in union.iterrows():
        members = halls["district"] == row["district"] if per == "district" else halls.index >= 0
        ids = set(halls.loc[members, "hall_id"])
        parts = per_hall[per_hall["hall_id"].isin(ids) & (per_hall["band_min"] == row["band_min"])]
        expected = shapely.union_all(parts.geometry.values)
        # the same cells, drawn once: equal up to the cut corners where two halls' cells meet
        assert row.geometry.symmetric_difference(expected).area <= 0.02 * expected.area
        assert row.geometry.area >= parts.geometry.area.max() - 1e-6


def test_per_district_and_all(grid_net):
    halls = _halls(
        [(0, 0), (4, 4), (0, 1)], district=["West", "East", "West"], name=["a", "b", "c"]
    )
    per_hall = isochrones(grid_net, halls, minutes=[4, 8], buffer_m=10)
    assert per_hall.columns.tolist() == ["hall_id", "name", "band_min", "area_m2", "geometry"]
    assert per_hall["hall_id"].tolist() == ["H1", "H1", "H2", "H2", "H3", "H3"]
    by_district = isochrones(grid_net, halls, minutes=[4, 8], buffer_m=10, per="district")
    assert by_district.columns.tolist() == ["district", "band_min", "area_m2", "halls", "geometry"]
    assert by_district[["district", "band_min", "halls"]].to_numpy().tolist() == [
        ["East", 4.0, 1], ["East", 8.0, 1], ["West", 4.0, 2], ["West", 8.0, 2],
    ]  # fmt: skip
    west = by_district[by_district["district"] == "West"].to_crs(GRID_CRS).geometry.to_list()
    h = per_hall.to_crs(GRID_CRS).geometry.to_list()
    expected = shapely.union_all([h[0], h[4]])
    assert west[0].area == pytest.approx(expected.area, rel=1e-5)
    west_lonlat = by_district[by_district["district"] == "West"].geometry
    assert _leak(*west_lonlat) <= 1e-6
    everything = isochrones(grid_net, halls, minutes=[4, 8], buffer_m=10, per="all")
    assert everything.columns.tolist() == ["band_min", "area_m2", "halls", "geometry"]
    assert everything["halls"].tolist() == [3, 3]
    assert everything["area_m2"].iloc[1] >= by_district["area_m2"].max()
    for frame in (per_hall, by_district, everything):
        assert frame.crs.to_epsg() == 4326
        assert frame.geometry.is_valid.all()


def test_name_column_only_when_given_and_input_untouched(grid_net):
    halls = grid_halls().drop(columns="name")
    before = halls.copy()
    iso = isochrones(grid_net, halls, minutes=[15], buffer_m=10)
    assert "name" not in iso.columns
    pd.testing.assert_frame_equal(pd.DataFrame(halls), pd.DataFrame(before))
    projected = grid_halls().to_crs(GRID_CRS)  # any CRS is accepted
    same = isochrones(grid_net, projected, minutes=[15], buffer_m=10)
    np.testing.assert_allclose(same["area_m2"], iso["area_m2"], rtol=1e-9)


def test_hall_far_from_every_road_is_warned_and_left_out(grid_net):
    halls = _halls([(0, 0), (2, 2)], hall_id=["near", "far"])
    halls.loc[1, "geometry"] = grid_points([(2, 2)], offset_m=20_000).iloc[0]
    with pytest.warns(CoverageWarning, match="'far'"):
        iso = isochrones(grid_net, halls, minutes=[15], buffer_m=10)
    assert iso["hall_id"].tolist() == ["near"]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"minutes": []}, InputDataError, "at least one"),
        ({"minutes": [15, 0]}, InputDataError, "positive"),
        ({"minutes": [15, 15]}, InputDataError, "repeated"),
        ({"minutes": "abc"}, InputDataError, "minutes"),
        ({"buffer_m": 0}, InputDataError, "buffer_m"),
        ({"per": "street"}, InputDataError, "per must be"),
        ({"per": "district"}, MissingColumnError, "district"),
        ({"method": "raster"}, InputDataError, "method must be"),
        ({"cell_m": 0.01}, InputDataError, "cell_m must be at least 0.1"),
    ],
)
def test_bad_arguments(grid_net, change, error, match):
    with pytest.raises(error, match=match):
        isochrones(grid_net, grid_halls(), **change)


def test_bad_halls(grid_net):
    with pytest.raises(MissingColumnError, match="hall_id"):
        isochrones(grid_net, grid_halls().drop(columns="hall_id"))
    no_crs = gpd.GeoDataFrame(grid_halls().drop(columns="geometry"), geometry=[None, None])
    with pytest.raises(CrsError):
        isochrones(grid_net, no_crs)
    polys = grid_halls().copy()
    polys["geometry"] = polys.to_crs(GRID_CRS).buffer(10).to_crs(4326)
    with pytest.raises(InputDataError, match=r"not points.*H1"):
        isochrones(grid_net, polys)


def test_no_halls(grid_net):
    iso = isochrones(grid_net, grid_halls().iloc[:0], minutes=[15])
    assert len(iso) == 0
    assert iso.crs.to_epsg() == 4326


# --- real data -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hangzhou_iso(hangzhou, hangzhou_net):
    return isochrones(hangzhou_net, hangzhou.halls, minutes=(15, 20), buffer_m=25)


def test_hangzhou_bands_are_nested(hangzhou, hangzhou_net, hangzhou_iso):
    iso = hangzhou_iso.to_crs(hangzhou_net.crs)
    assert len(iso) == 2 * len(hangzhou.halls)
    assert iso.geometry.is_valid.all()
    assert iso.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    lonlat = hangzhou_iso
    p15 = lonlat[lonlat["band_min"] == 15].geometry.to_numpy()
    p20 = lonlat[lonlat["band_min"] == 20].geometry.to_numpy()
    # in the output's own coordinates (EPSG:4326); the leak's area measured in metres
    leak = gpd.GeoSeries(shapely.difference(p15, p20), crs=4326).to_crs(hangzhou_net.crs)
    assert leak.area.max() <= 1e-6
    p15, p20 = (iso[iso["band_min"] == b].geometry.to_numpy() for b in (15, 20))
    assert (shapely.area(p20) >= shapely.area(p15)).all()


def _reached_pieces(net, snapped, hall_xy, i, band_s):
    """The road pieces reached within a band from hall i, computed independently.

    One Dijkstra from a virtual node joined to the ends of the hall's segment, then for every
    segment the part within reach of each end, cut with shapely.ops.substring.
    """
    n = net.n_nodes
    s, t, acc = int(snapped.seg[i]), float(snapped.frac[i]), float(snapped.access_s[i])
    on_road = shapely.line_interpolate_point(net.seg_geom[s], t, normalized=True)
    fwd, bwd = net.seg_fwd_s[s], net.seg_bwd_s[s]
    virt = sp.csr_matrix(
        ([acc + t * bwd, acc + (1 - t) * fwd], ([n, n], [net.seg_u[s], net.seg_v[s]])),
        shape=(n + 1, n + 1),
    )
    mat = sp.bmat([[net.csr, None], [None, sp.csr_matrix((1, 1))]]).tocsr() + virt
    time_s = dijkstra(mat, indices=n)[:n]
    pieces = [shapely.LineString([hall_xy, on_road])]
    near = (time_s[net.seg_u] < band_s) | (time_s[net.seg_v] < band_s)
    for k in np.flatnonzero(near):
        geom, length = net.seg_geom[k], net.seg_geom[k].length
        tu, tv = time_s[net.seg_u[k]], time_s[net.seg_v[k]]
        if tu < band_s:
            f = min(1.0, (band_s - tu) / net.seg_fwd_s[k])
            pieces.append(substring(geom, 0, f * length))
        if tv < band_s:
            f = min(1.0, (band_s - tv) / net.seg_bwd_s[k])
            pieces.append(substring(geom, (1 - f) * length, length))
    left = band_s - acc
    if left > 0:
        geom, length = net.seg_geom[s], net.seg_geom[s].length
        a, b = max(0.0, t - left / bwd), min(1.0, t + left / fwd)
        pieces.append(substring(geom, a * length, b * length))
    return time_s, shapely.union_all(pieces)


@pytest.mark.parametrize("method", ["grid", "exact"])
def test_hangzhou_isochrones_agree_with_routing(hangzhou, hangzhou_net, hangzhou_iso, method):
    net = hangzhou_net
    halls = hangzhou.halls
    snapped = snap(net, halls.geometry)
    hall_xy = net.to_metric(halls.geometry)
    buffer_m = 25.0
    rng = np.random.default_rng(7)
    chosen = rng.choice(np.flatnonzero(snapped.ok), size=6, replace=False)
    if method == "grid":  # the default, cells of 12.5 m: up to 30 m past the exact buffer
        iso = hangzhou_iso.to_crs(net.crs)
        slack = _grid_slack(12.5) + 1.0
    else:
        iso = isochrones(net, halls.iloc[chosen], minutes=(15, 20), buffer_m=25, method="exact")
        iso = iso.to_crs(net.crs)
        slack = 1.0
    for i in chosen:
        hall_id = halls["hall_id"].iloc[i]
        for band in (15, 20):
            poly = iso[(iso["hall_id"] == hall_id) & (iso["band_min"] == band)].geometry.iloc[0]
            time_s, reached = _reached_pieces(net, snapped, hall_xy[i], i, band * MIN)
            x, y = net.node_xy[:, 0], net.node_xy[:, 1]
            inside = shapely.contains_xy(poly, x, y)
            # every node routed within the band is drawn ...
            within = time_s <= band * MIN - 1e-6
            assert inside[within].all(), (hall_id, band, np.flatnonzero(within & ~inside)[:5])
            # ... and every node drawn is near a reached road piece (not merely near the hall)
            near = shapely.distance(shapely.points(net.node_xy[inside]), reached)
            assert near.max() <= buffer_m + slack, (hall_id, band, near.max())


def test_liechtenstein_rural_isochrones_are_real_polygons(liechtenstein):
    net = liechtenstein.network
    iso = isochrones(net, liechtenstein.halls, minutes=(15, 20))
    assert len(iso) == 2 * len(liechtenstein.halls)
    assert iso.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert not iso.geometry.is_empty.any()
    assert iso.geometry.is_valid.all()
    assert (iso["area_m2"] > 0).all()
    for hall_id, g in iso.groupby("hall_id"):
        p15, p20 = g.sort_values("band_min").geometry.to_list()
        leak = gpd.GeoSeries([p15.difference(p20)], crs=4326).to_crs(net.crs).area.iloc[0]
        assert leak <= 1e-6, hall_id
        assert g["area_m2"].iloc[1] > g["area_m2"].iloc[0]
