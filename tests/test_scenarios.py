"""Scenarios: each kind of edit on the hand-checkable grid, errors, comparison, Hangzhou.

Grid facts (coverage.testing): 5 x 5 nodes 300 m apart, walking at 4.5 km/h (75 m a minute,
one edge 4 minutes). Halls H1 at node (0, 0) and H2 at (4, 4). Communities A (0, 1) urban,
B (2, 2) urban, C (2, 2.5) rural, D (3, 0) urban, E (0.5, 4) rural. Baseline minutes:
A 4 (H1), B 16, C 14 (H2; H1 18), D 12 (H1), E 14 (H2; H1 18); B alone is not covered
(16 > 15). Rows are (row, col); row 0 is the south edge.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import shapely

from coverage._errors import CoverageWarning, ScenarioError
from coverage.audit import audit
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
    compare,
    compare_many,
    load_scenario,
    run_scenario,
)
from coverage.testing import grid_communities, grid_graph, grid_halls, grid_lonlat

BASE_MIN = [4.0, 16.0, 14.0, 12.0, 14.0]
#: A river between rows 1 and 2 across the whole grid (rows 1.4 to 1.6).
RIVER = [
    grid_lonlat(1.4, -0.5),
    grid_lonlat(1.4, 4.5),
    grid_lonlat(1.6, 4.5),
    grid_lonlat(1.6, -0.5),
]


def _run(grid_net, *edits):
    com, halls = grid_communities(), grid_halls()
    base = audit(com, halls, grid_net)
    result = run_scenario(com, halls, grid_net, Scenario("t", edits=edits))
    return base, result, compare(base, result, name="t")


def _minutes(result):
    return result.communities["travel_time_min"].tolist()


def _changes(comparison):
    return comparison.communities["change"].tolist()


# --- each kind of edit, minutes worked out by hand -------------------------------------------


def test_close_a_hall(grid_net):
    # without H2 everyone walks to H1 at (0, 0): C (2, 2.5) 4 edges to (2, 2) + half an edge
    # = 18; E (0.5, 4): 4 edges along row 0 + half an edge = 18; both rural (20): still covered
    base, r, c = _run(grid_net, CloseHalls(("H2",)))
    assert _minutes(base) == BASE_MIN
    assert _minutes(r) == [4.0, 16.0, 18.0, 12.0, 18.0]
    assert set(r.communities["nearest_hall_id"]) == {"H1"}
    assert _changes(c) == ["unchanged", "unchanged", "slower", "unchanged", "slower"]
    assert c.communities["delta_min"].tolist() == [0.0, 0.0, 4.0, 0.0, 4.0]
    halls = c.halls.set_index("hall_id")
    assert halls.loc["H2", "change"] == "closed"
    # H1 served A, B, D (400 + 800 + 600 households) and now C and E too (+200 + 320)
    assert halls.loc["H1", "households_served_before"] == 1800
    assert halls.loc["H1", "households_served_after"] == 2320
    # 2,320 households x 30 m² / 100 = 696 m² > 600 m²: short by 96 m²
    assert halls.loc["H1", "required_floor_area_m2_after"] == pytest.approx(696.0)
    assert bool(halls.loc["H1", "floor_area_adequate_before"])
    assert not bool(halls.loc["H1", "floor_area_adequate_after"])
    assert halls.loc["H2", "households_served_before"] == 520
    assert np.isnan(halls.loc["H2", "households_served_after"])


def test_add_a_hall(grid_net):
    # P1 at node (2, 2): B is at it (0), C half an edge away (2); B gains (16 > 15 before)
    _, r, c = _run(grid_net, AddHall("P1", *grid_lonlat(2, 2), name="新站", floor_area_m2=300))
    assert _minutes(r) == [4.0, 0.0, 2.0, 12.0, 14.0]
    assert r.communities["nearest_hall_id"].tolist()[:3] == ["H1", "P1", "P1"]
    assert _changes(c) == ["unchanged", "gained", "faster", "unchanged", "unchanged"]
    added = c.halls.set_index("hall_id").loc["P1"]
    assert added["change"] == "added"
    assert added["floor_area_m2"] == 300
    assert len(r.halls) == 3


def test_move_a_hall(grid_net):
    # H2 from (4, 4) to (4, 2): B 2 edges north = 8 (gained), C 2 + 8 = 10, E now nearer to
    # H1 (18) than to (4, 2) (2 + 3 rows + 2 columns = 22): slower
    _, r, c = _run(grid_net, MoveHall("H2", *grid_lonlat(4, 2)))
    assert _minutes(r) == [4.0, 8.0, 10.0, 12.0, 18.0]
    assert _changes(c) == ["unchanged", "gained", "faster", "unchanged", "slower"]
    assert c.halls.set_index("hall_id").loc["H2", "change"] == "moved"
    assert r.halls["floor_area_m2"].tolist() == [600.0, 200.0]


def test_reclassify_and_change_people(grid_net):
    # B rural: its circle widens from 15 to 20 minutes, so 16 minutes is covered (gained);
    # C's households 200 -> 500: H2 serves 320 + 500 = 820 households, 246 m² > its 200 m²
    _, r, c = _run(
        grid_net,
        SetCommunities(("B",), kind="rural"),
        SetCommunities(("C",), population=1200, households=500),
    )
    assert _minutes(r) == BASE_MIN
    assert r.communities["threshold_min"].tolist() == [15.0, 20.0, 20.0, 15.0, 20.0]
    assert _changes(c) == ["unchanged", "gained", "unchanged", "unchanged", "unchanged"]
    west = c.districts.set_index("district").loc["West"]
    assert (west["urban_communities_before"], west["urban_communities_after"]) == (3, 2)
    assert (west["rural_covered_before"], west["rural_covered_after"]) == (0, 1)
    assert west["population_covered_delta"] == 2000
    east = c.districts.set_index("district").loc["East"]
    assert (east["population_before"], east["population_after"]) == (1300, 2000)
    h2 = c.halls.set_index("hall_id").loc["H2"]
    assert (h2["households_served_before"], h2["households_served_after"]) == (520, 820)
    assert h2["required_floor_area_m2_after"] == pytest.approx(246.0)
    assert not bool(h2["floor_area_adequate_after"])


def test_reclassify_a_district(grid_net):
    # 撤村建居: East's villages C and E become urban (15 min); both at 14 minutes stay covered,
    # and with H2 closed (18 minutes) both are lost
    _, r, c = _run(grid_net, SetCommunities(district="East", kind="urban"))
    assert r.communities["kind"].tolist() == ["urban"] * 5
    assert _changes(c) == ["unchanged"] * 5
    _, r, c = _run(grid_net, SetCommunities(district="East", kind="urban"), CloseHalls(("H2",)))
    assert _changes(c) == ["unchanged", "unchanged", "lost", "unchanged", "lost"]
    total = c.headline
    assert (total["covered_before"], total["covered_after"], total["lost"]) == (4, 2, 2)
    assert (total["rural_covered_before"], total["rural_covered_after"]) == (2, 0)


def test_reclassify_a_street(grid_net):
    # street e1 holds C and E (both rural, 14 minutes): 撤村建居 makes them urban (15): covered
    # still; street w1 (A, B) made rural: B's 16 minutes are within 20 (gained)
    _, r, c = _run(
        grid_net,
        SetCommunities(street="e1", kind="urban"),
        SetCommunities(street="w1", kind="rural"),
    )
    assert r.communities["kind"].tolist() == ["rural", "rural", "urban", "urban", "urban"]
    assert _changes(c) == ["unchanged", "gained", "unchanged", "unchanged", "unchanged"]
    with pytest.raises(ScenarioError, match=r"#1: .*street.*'x9'"):
        _run(grid_net, SetCommunities(street="x9", kind="urban"))


def test_new_link_splits_the_roads_it_meets(grid_net):
    # a footbridge from the middle of row 0's edge (0, 1)-(0, 2) to the middle of row 2's
    # edge (2, 1)-(2, 2): 600 m at 9 km/h (150 m a minute) = 4 minutes. H1 -> (0, 1.5) 6,
    # + 4 over the bridge, + 2 to B at (2, 2) = 12 (was 16: gained); C (2, 2.5) 14 either way
    _, r, c = _run(
        grid_net, AddRoad((grid_lonlat(0, 1.5), grid_lonlat(2, 1.5)), speed_kph=9.0, name="桥")
    )
    assert _minutes(r) == [4.0, 12.0, 14.0, 12.0, 14.0]
    assert _changes(c) == ["unchanged", "gained", "unchanged", "unchanged", "unchanged"]
    # at the walking speed the bridge takes 8 minutes: B 6 + 8 + 2 = 16, no better
    _, r, c = _run(grid_net, AddRoad((grid_lonlat(0, 1.5), grid_lonlat(2, 1.5))))
    assert _minutes(r) == BASE_MIN


def test_new_link_from_a_node(grid_net):
    # a diagonal link from H1's node (0, 0) to node (2, 2): 600 √2 m at 75 m a minute = 8 √2
    # = 11.31 minutes to B; C half an edge further (13.31; H2 14)
    _, r, c = _run(grid_net, AddRoad((grid_lonlat(0, 0), grid_lonlat(2, 2))))
    assert r.communities["travel_time_min"].tolist() == [4.0, 11.31, 13.31, 12.0, 14.0]
    assert _changes(c) == ["unchanged", "gained", "faster", "unchanged", "unchanged"]


def test_close_a_road_by_a_line(grid_net):
    # a short line across row 0's edge (0, 0)-(0, 1): A walks round by (1, 0) and (1, 1):
    # 3 edges = 12 minutes (still covered, slower)
    line = (grid_lonlat(-0.2, 0.5), grid_lonlat(0.2, 0.5))
    _, r, c = _run(grid_net, CloseRoad(line=line))
    assert _minutes(r) == [12.0, 16.0, 14.0, 12.0, 14.0]
    assert _changes(c) == ["slower", "unchanged", "unchanged", "unchanged", "unchanged"]


def test_barrier_band(grid_net):
    # a river between rows 1 and 2 across the whole grid: the south (rows 0-1, H1) and the
    # north (rows 2-4, H2) part. D (3, 0) must walk to H2: 1 row + 4 columns = 20 > 15 (lost);
    # E (0.5, 4) to H1: 4 edges + half = 18 (slower, rural: covered)
    _, r, c = _run(grid_net, Barrier(tuple(RIVER), name="河"))
    assert _minutes(r) == [4.0, 16.0, 14.0, 20.0, 18.0]
    assert r.communities["nearest_hall_id"].tolist()[3:] == ["H2", "H1"]
    assert _changes(c) == ["unchanged", "unchanged", "unchanged", "lost", "slower"]
    # and a footbridge over it (column 0.5, rows 1-2, 4 minutes at walking speed, both ends
    # mid-edge): D (3, 0) -> (2, 0) 4, -> (2, 0.5) 2, bridge 4, -> (1, 0) 2, -> H1 4 = 16
    bridge = AddRoad((grid_lonlat(1, 0.5), grid_lonlat(2, 0.5)), speed_kph=4.5)
    _, r, c = _run(grid_net, Barrier(tuple(RIVER)), bridge)
    assert _minutes(r)[3] == 16.0


def test_speed_change_by_street(grid_net):
    # row 0 at 9 km/h: each of its edges takes 2 minutes. A 2; E by row 0: 4 x 2 + 2 = 10;
    # B by row 0 to (0, 2) 4, then 2 edges north 8 = 12 (gained); C 14 either way
    _, r, c = _run(grid_net, SetSpeed(9.0, street=("row 0",)))
    assert _minutes(r) == [2.0, 12.0, 14.0, 12.0, 10.0]
    assert _changes(c) == ["faster", "gained", "unchanged", "unchanged", "faster"]


def test_speed_change_by_class(grid_net):
    # every grid road is highway=residential: at 9 km/h every edge takes 2 minutes, so every
    # walk takes half as long (the off-road walks are 0 here)
    _, r, c = _run(grid_net, SetSpeed(9.0, highway=("residential",)))
    assert _minutes(r) == [2.0, 8.0, 7.0, 6.0, 7.0]
    assert _changes(c) == ["faster", "gained", "faster", "faster", "faster"]


def test_no_edits_equal_the_baseline_exactly(grid_net, hangzhou):
    for com, halls, net in (
        (grid_communities(), grid_halls(), grid_net),
        (hangzhou.communities, hangzhou.halls, hangzhou.network),
    ):
        base = audit(com, halls, net)
        same = run_scenario(com, halls, net, Scenario("nothing"))
        pd.testing.assert_frame_equal(same.communities, base.communities)
        pd.testing.assert_frame_equal(same.halls, base.halls)
        pd.testing.assert_frame_equal(same.districts, base.districts)
        c = compare(base, same)
        assert set(c.communities["change"]) == {"unchanged"}
        assert (c.districts.filter(like="_delta").to_numpy() == 0).all()


def test_the_baseline_is_untouched(grid_net):
    com, halls = grid_communities(), grid_halls()
    com0, halls0 = com.copy(), halls.copy()
    net = grid_net
    arrays = {
        k: getattr(net, k).copy()
        for k in ("seg_u", "seg_v", "seg_fwd_s", "seg_bwd_s", "seg_xy", "node_xy", "component")
    }
    csr = net.csr.copy()
    table = {k: getattr(net.table, k).copy() for k in ("u", "v", "geom_coords", "length_m")}
    edits = (
        CloseHalls(("H2",)),
        AddHall("P1", *grid_lonlat(2, 2)),
        MoveHall("H1", *grid_lonlat(0, 1)),
        SetCommunities(("B",), kind="rural", population=10),
        AddRoad((grid_lonlat(0, 1.5), grid_lonlat(2, 1.5))),
        CloseRoad(line=(grid_lonlat(-0.2, 0.5), grid_lonlat(0.2, 0.5))),
        SetSpeed(9.0, street=("row 0",)),
    )
    edited = apply_scenario(com, halls, net, Scenario("all", edits=edits))
    audit_edited(edited)
    assert edited.network is not net
    assert edited.network.n_nodes == net.n_nodes + 2  # the two split points
    for k, v in arrays.items():
        np.testing.assert_array_equal(getattr(net, k), v)
    assert (net.csr != csr).nnz == 0
    for k, v in table.items():
        np.testing.assert_array_equal(getattr(net.table, k), v)
    pd.testing.assert_frame_equal(com, com0)
    pd.testing.assert_frame_equal(halls, halls0)
    assert _minutes(audit(com, halls, net)) == BASE_MIN
    # the hall and community edits alone route on the baseline network itself
    only = apply_scenario(com, halls, net, Scenario("h", edits=edits[:4]))
    assert only.network is net


# --- errors name the edit ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (CloseHalls(("H9",)), r"\[halls\] close: no hall with hall_id 'H9'"),
        (MoveHall("H7", 120.0, 30.0), r"\[\[halls.move\]\] #1: no hall with hall_id 'H7'"),
        (AddHall("H1", *grid_lonlat(1, 1)), r"\[\[halls.add\]\] #1: hall_id 'H1' already exists"),
        (AddHall("P1", *grid_lonlat(1, 8)), r"\[\[halls.add\]\] #1: the hall lies 1,200 m from"),
        (SetCommunities(("Z",), kind="urban"), r"#1: no community with community_id 'Z'"),
        (SetCommunities(district="North", kind="urban"), r"#1: .*district.*'North'"),
        (AddRoad((grid_lonlat(1, 0.5), grid_lonlat(1, 7))), r"#1: its end lies 900 m from"),
        (CloseRoad(osm_way_id=5), r"\[\[roads.close\]\] #1: osm_way_id needs a network read from"),
        (CloseRoad(line=(grid_lonlat(0.2, 0.2), grid_lonlat(0.8, 0.8))), r"crosses no road"),
        (SetSpeed(3.0, street=("nowhere",)), r"street 'nowhere' matches no road"),
        (SetSpeed(3.0, highway=("primary",)), r"#1: highway 'primary' matches no road usable by"),
    ],
)
def test_errors_name_the_edit(grid_net, edit, match):
    with pytest.raises(ScenarioError, match=match):
        run_scenario(grid_communities(), grid_halls(), grid_net, Scenario("bad", edits=(edit,)))


def test_second_new_hall_with_a_taken_id(grid_net):
    edits = (AddHall("P1", *grid_lonlat(1, 1)), AddHall("P1", *grid_lonlat(2, 1)))
    with pytest.raises(ScenarioError, match=r"\[\[halls.add\]\] #2: hall_id 'P1' already exists"):
        run_scenario(grid_communities(), grid_halls(), grid_net, Scenario("x", edits=edits))


def test_a_walk_across_a_barrier_is_named(grid_net):
    # a box round H1's corner (rows -0.5..0.5, columns -0.5..1.5) cuts the roads leaving it;
    # the road left inside, (0, 0)-(0, 1), is a fragment, so H1 and A snap 300 m north to row
    # 1 across the boundary: they are named (and still routed, from row 1)
    box = (
        grid_lonlat(-0.5, -0.5),
        grid_lonlat(-0.5, 1.5),
        grid_lonlat(0.5, 1.5),
        grid_lonlat(0.5, -0.5),
    )
    with pytest.warns(CoverageWarning, match=r"1 community \('A'\) and 1 hall \('H1'\) reach"):
        _run(grid_net, Barrier(box))


def test_a_barrier_that_cuts_off_most_communities(grid_net):
    # the river between rows 1 and 2 with H2 closed: B, C and D (rows 2-3) reach no hall
    s = Scenario("x", edits=(CloseHalls(("H2",)), Barrier(tuple(RIVER))))
    with pytest.raises(
        ScenarioError, match=r"\[\[roads.barrier\]\] #1: the barrier cuts off 3 of 5 communities"
    ):
        run_scenario(grid_communities(), grid_halls(), grid_net, s)


TOML = """
name = "关停一处、新建一处"
description = "会议的选择"
coord_system = "wgs84"

[halls]
close = ["H2"]

[[halls.add]]
hall_id = "P-001"
name = "候选点 1"
lon = {p_lon}
lat = {p_lat}
floor_area_m2 = 600

[[communities.set]]
community_id = ["C", "E"]
kind = "urban"

[[roads.speed]]
street = "row 0"
speed_kph = 9.0
"""


def test_load_scenario_from_toml(tmp_path, grid_net):
    lon, lat = grid_lonlat(2, 2)
    path = tmp_path / "scenario.toml"
    path.write_text(TOML.format(p_lon=lon, p_lat=lat), encoding="utf-8")
    s = load_scenario(path)
    assert s.name == "关停一处、新建一处"
    assert [type(e).__name__ for e in s.edits] == [
        "CloseHalls",
        "AddHall",
        "SetCommunities",
        "SetSpeed",
    ]
    r = run_scenario(grid_communities(), grid_halls(), grid_net, s)
    # H2 closed, P-001 at (2, 2); row 0 at 2 minutes an edge. A 2; B 0; C 2; D 12 (H1 by
    # column 0, or P-001 by 3 edges); E by row 0: 8 + 2 = 10 (P-001: 2 rows + 2 cols + 2 = 18)
    assert _minutes(r) == [2.0, 0.0, 2.0, 12.0, 10.0]


def test_a_gcj02_scenario_is_converted(grid_net):
    from coverage.coords import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(*grid_lonlat(2, 2))
    s = Scenario("g", edits=(AddHall("P1", float(lon), float(lat)),), coord_system="gcj02")
    r = run_scenario(grid_communities(), grid_halls(), grid_net, s)
    assert _minutes(r)[1] == 0.0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('name = "x"\ncolour = 1', r"scenario.toml: unknown key\(s\) 'colour'"),
        ('description = "x"', r"'name' must be a non-empty text"),
        (
            (
                'name = "x"\n[[halls.add]]\nhall_id = "P"\nlon = 1\nlat = 2\n[[halls.add]]\n'
                'hall_id = "Q"\nlon = 1'
            ),
            r"scenario.toml: \[\[halls.add\]\] #2: missing key\(s\) 'lat'",
        ),
        (
            'name = "x"\n[[halls.add]]\nhall_id = "P"\nlon = 1\nlat = 2\nfloor = 3',
            r"\[\[halls.add\]\] #1: unknown key\(s\) 'floor'",
        ),
        (
            (
                'name = "x"\n[[communities.set]]\ncommunity_id = "A"\ndistrict = "West"\n'
                'kind = "urban"'
            ),
            r"\[\[communities.set\]\] #1: give exactly one of community_id, district and street",
        ),
        (
            'name = "x"\n[[communities.set]]\ncommunity_id = "A"\nkind = "town"',
            r"kind must be 'urban' or 'rural', got 'town'",
        ),
        ('name = "x"\n[[roads.add]]\nline = [[120.1, 30.2]]', r"#1: line must be a list of at"),
        (
            'name = "x"\n[[roads.speed]]\nhighway = "primary"\nspeed_kph = -3',
            r"\[\[roads.speed\]\] #1: speed_kph must be > 0",
        ),
        ('name = "x"\ncoord_system = "utm"', r"'coord_system' must be one of"),
        ('name = "x"\n[roads]\nbridge = 1', r"\[roads\]: unknown key\(s\) 'bridge'"),
        ('name = "x"\n[[roads.barrier]]\nfile = "nowhere.geojson"', r"cannot be read"),
        ("name = ", r"not a valid TOML file"),
    ],
)
def test_bad_toml_names_the_key(tmp_path, text, match):
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=match):
        load_scenario(path)


def test_barrier_from_a_file(tmp_path, grid_net):
    import geopandas as gpd

    river = shapely.Polygon(
        [
            grid_lonlat(1.4, -0.5),
            grid_lonlat(1.4, 4.5),
            grid_lonlat(1.6, 4.5),
            grid_lonlat(1.6, -0.5),
        ]
    )
    gpd.GeoDataFrame(geometry=[river], crs=4326).to_file(tmp_path / "river.geojson")
    (tmp_path / "s.toml").write_text(
        'name = "river"\n[[roads.barrier]]\nfile = "river.geojson"\nname = "河"\n',
        encoding="utf-8",
    )
    r = run_scenario(grid_communities(), grid_halls(), grid_net, load_scenario(tmp_path / "s.toml"))
    assert _minutes(r) == [4.0, 16.0, 14.0, 20.0, 18.0]


def test_compare_many_side_by_side(grid_net):
    com, halls = grid_communities(), grid_halls()
    base = audit(com, halls, grid_net)
    runs = {
        "close H2": run_scenario(com, halls, grid_net, Scenario("a", edits=(CloseHalls(("H2",)),))),
        "add P1": run_scenario(
            com, halls, grid_net, Scenario("b", edits=(AddHall("P1", *grid_lonlat(2, 2)),))
        ),
    }
    table = compare_many(base, runs)
    assert list(table.index) == ["East", "West", "(all)"]
    assert list(table.columns.get_level_values(0).unique()) == ["baseline", "close H2", "add P1"]
    total = table.loc["(all)"]
    assert total[("baseline", "covered")] == 4
    assert total[("close H2", "covered")] == 4
    assert total[("add P1", "covered")] == 5
    assert total[("add P1", "gained")] == 1
    # B's 2,000 residents join the covered population
    assert total[("add P1", "population_covered_delta")] == 2000


# --- Hangzhou ----------------------------------------------------------------------------


def test_realistic_scenarios_on_hangzhou(hangzhou):
    com, halls, net = hangzhou.communities, hangzhou.halls, hangzhou.network
    base = audit(com, halls, net)
    ids = halls["hall_id"].tolist()
    where = com.geometry.iloc[[10, 500, 1500]]
    s = Scenario(
        "close two, open three",
        edits=(
            CloseHalls(tuple(ids[:2])),
            *(AddHall(f"P-{k}", p.x, p.y) for k, p in enumerate(where, start=1)),
            SetCommunities(district=str(com["district"].iloc[0]), kind="urban"),
        ),
    )
    run_scenario(com, halls, net, s, baseline=base)  # (warm)
    started = time.perf_counter()
    r = run_scenario(com, halls, net, s, baseline=base)
    halls_s = time.perf_counter() - started
    c = compare(base, r)
    assert len(c.communities) == len(com)  # every community, none lost
    assert c.communities["community_id"].tolist() == com["community_id"].tolist()
    # a new hall stands at each of three communities: both snap to the same road at the same
    # spot, so the trip is the two straight walks to and from that road at 75 m a minute
    # (or less where another hall is nearer)
    at = r.communities.iloc[[10, 500, 1500]]
    assert (at["travel_time_min"] <= (2 * at["snap_dist_m"] / 75).round(2) + 0.01).all()
    assert set(at["nearest_hall_id"]) <= {"P-1", "P-2", "P-3"}
    assert set(c.halls["change"]) == {"kept", "closed", "added"}
    assert (c.halls["change"] == "added").sum() == 3
    changed = c.communities["change"].value_counts()
    assert changed.sum() == len(com)
    assert c.headline["covered_after"] - c.headline["covered_before"] == (
        changed.get("gained", 0) - changed.get("lost", 0)
    )
    assert halls_s < 0.5  # (0.2 s asked; generous under a loaded CI)
    lon, lat = 120.16, 30.29
    roads = Scenario(
        "roads",
        edits=(
            AddRoad(((lon, lat), (lon + 0.004, lat + 0.002)), name="桥"),
            CloseRoad(line=((lon - 0.002, lat - 0.002), (lon + 0.002, lat + 0.002))),
            Barrier(
                (
                    (lon - 0.02, lat + 0.01),
                    (lon + 0.02, lat + 0.01),
                    (lon + 0.02, lat + 0.012),
                    (lon - 0.02, lat + 0.012),
                )
            ),
        ),
    )
    started = time.perf_counter()
    edited = apply_scenario(com, halls, net, roads)
    with pytest.warns(CoverageWarning, match=r"communities .* reach their nearest road across"):
        r2 = audit_edited(edited, baseline=base)  # (blocks in or beside the 200 m band)
    roads_s = time.perf_counter() - started
    assert roads_s < 3.0
    assert edited.network.n_nodes == net.n_nodes + 2
    assert set(edited.roads["change"]) == {"added", "closed", "barrier"}
    assert len(compare(base, r2).communities) == len(com)


def test_the_documented_example_runs_on_hangzhou(hangzhou):
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "docs" / "scenario.toml"
    s = load_scenario(path)
    assert len(s.edits) == 8
    assert s.labels()[:3] == ["[halls] close", "[[halls.add]] #1", "[[halls.move]] #1"]
    com, halls, net = hangzhou.communities, hangzhou.halls, hangzhou.network
    edited = apply_scenario(com, halls, net, s)
    assert set(edited.hall_changes["change"]) == {"closed", "added", "moved"}
    assert set(edited.roads["change"]) == {"added", "closed", "barrier", "speed"}
    with pytest.warns(CoverageWarning, match="across the barrier's boundary"):
        result = audit_edited(edited)
    zone_a = result.communities["district"].str.startswith("示意片区A")
    assert set(result.communities.loc[zone_a, "kind"]) == {"urban"}


# --- outputs: the command line, the folder, the workbook, the map ---------------------------


def _grid_files(tmp_path):
    import osmnx as ox

    com = grid_communities()
    frame = pd.DataFrame(com.drop(columns="geometry"))
    frame["lon"], frame["lat"] = com.geometry.x, com.geometry.y
    frame.to_csv(tmp_path / "communities.csv", index=False)
    halls = grid_halls()
    hall_frame = pd.DataFrame(halls.drop(columns="geometry"))
    hall_frame["lon"], hall_frame["lat"] = halls.geometry.x, halls.geometry.y
    hall_frame.to_csv(tmp_path / "halls.csv", index=False)
    ox.save_graphml(grid_graph(), tmp_path / "grid.graphml")
    return [
        "--communities",
        str(tmp_path / "communities.csv"),
        "--halls",
        str(tmp_path / "halls.csv"),
        "--network",
        str(tmp_path / "grid.graphml"),
    ]


def test_cli_writes_baseline_scenarios_and_difference(tmp_path, capsys):
    import openpyxl

    from coverage.cli import EXIT_OK, main

    files = _grid_files(tmp_path)
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('name = "关闭 H2"\n[halls]\nclose = ["H2"]\n', encoding="utf-8")
    lon, lat = grid_lonlat(2, 2)
    b.write_text(
        f'name = "<img src=x onerror=alert(1)>"\n[[halls.add]]\nhall_id = "P1"\n'
        f"lon = {lon}\nlat = {lat}\nfloor_area_m2 = 300\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(
        [
            "scenario",
            str(a),
            str(b),
            *files,
            "--out",
            str(out),
            "--basemap",
            "blank",
            "--no-progress",
        ]
    )
    assert code == EXIT_OK
    lines = capsys.readouterr().out
    assert "关闭 H2: 已覆盖社区 4 → 4（新增 0，失去 0）" in lines
    root = out / "communities" / "scenarios"
    assert {p.name for p in root.iterdir()} >= {
        "summary.html",
        "scenarios.csv",
        "scenarios.xlsx",
        "baseline",
        "关闭_H2",
    }
    one = root / "关闭_H2"
    delta = pd.read_csv(one / "communities_delta.csv", encoding="utf-8-sig")
    assert delta["travel_time_min_after"].tolist() == [4.0, 16.0, 18.0, 12.0, 18.0]
    assert delta["change"].tolist() == ["unchanged", "unchanged", "slower", "unchanged", "slower"]
    before = pd.read_csv(one / "communities_before.csv", encoding="utf-8-sig")
    assert before["travel_time_min"].tolist() == BASE_MIN
    # per district, as the audit's folders: East holds C and E (both slower)
    east = pd.read_csv(one / "East" / "communities_delta.csv", encoding="utf-8-sig")
    assert east["community_id"].tolist() == ["C", "E"]
    assert east["change"].tolist() == ["slower", "slower"]
    halls_east = pd.read_csv(one / "East" / "halls_delta.csv", encoding="utf-8-sig")
    assert sorted(halls_east["hall_id"]) == ["H1", "H2"]  # H2 before, H1 after
    assert {p.name for p in (one / "West").iterdir()} >= {"map.html", "report.xlsx"}
    assert "East/summary.html" in (one / "summary.html").read_text(encoding="utf-8")
    assert (one / "scenario.toml").read_text(encoding="utf-8").startswith('name = "关闭 H2"')
    wb = openpyxl.load_workbook(one / "report.xlsx")
    assert wb.sheetnames == ["区县变化", "社区（现状）", "社区（情景）", "社区变化", "服务中心变化"]
    heads = [c.value for c in wb["社区变化"][1]]
    assert {"出行时间(分钟)（现状）", "出行时间(分钟)（情景）", "变化"} <= set(heads)
    changes = [
        r[heads.index("变化")] for r in wb["社区变化"].iter_rows(min_row=2, values_only=True)
    ]
    assert changes == ["不变", "不变", "更慢", "不变", "更慢"]
    page = (one / "map.html").read_text(encoding="utf-8")
    assert "</span>社区: 更慢</div>" in page  # the legend
    assert "</span>社区服务中心: 关停</div>" in page
    assert "</span>社区: 新增覆盖</div>" not in page  # (nothing gained: no row)
    # the side-by-side table: both scenarios, every district; names stay text
    side = pd.read_csv(root / "scenarios.csv", encoding="utf-8-sig")
    assert side.iloc[:, 0].tolist() == ["East", "West", "合计"]
    assert side["已覆盖 [<img src=x onerror=alert(1)>]"].tolist() == [2, 3, 5]
    summary = (root / "summary.html").read_text(encoding="utf-8")
    assert "<img src=x" not in summary
    assert "&lt;img src=x onerror=alert(1)&gt;" in summary
    other = root / "img_src_x_onerror_alert_1"
    assert "&lt;img src=x onerror=alert(1)&gt;" in (other / "summary.html").read_text("utf-8")
    assert "<img src=x" not in (other / "map.html").read_text(encoding="utf-8")


def test_cli_bad_scenario_names_the_edit(tmp_path, capsys):
    from coverage.cli import EXIT_INPUT, main

    files = _grid_files(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\n[[halls.move]]\nhall_id = "H9"\nlon = 120.1\nlat = 30.2\n', encoding="utf-8"
    )
    code = main(["scenario", str(bad), *files, "--out", str(tmp_path / "o"), "--no-progress"])
    assert code == EXIT_INPUT
    err = capsys.readouterr().err
    assert "bad.toml: [[halls.move]] #1: no hall with hall_id 'H9' in the baseline" in err


def test_road_classes_are_kept_from_osm_files_through_the_cache():
    from coverage.network import load_network, read_table
    from coverage.samples import sample_path

    path = sample_path("hangzhou-xihu", "network")
    table = read_table(path)[0]
    assert table.highway is not None
    assert {"primary", "residential", "footway"} <= set(table.highway.tolist())
    net = load_network(path)  # (the cached table keeps them too)
    assert set(net.table.highway.tolist()) == set(table.highway.tolist())
    # slower primary roads make some walks longer and none shorter
    sample = load_sample_quiet("hangzhou-xihu")
    base = audit(sample.communities, sample.halls, net)
    slow = run_scenario(
        sample.communities,
        sample.halls,
        net,
        Scenario("slow", edits=(SetSpeed(2.0, highway=("primary", "secondary")),)),
        baseline=base,
    )
    change = compare(base, slow).communities["change"]
    assert (change == "slower").sum() > 0
    assert not change.isin(["faster", "gained"]).any()


def load_sample_quiet(name):
    import warnings

    from coverage.audit import CoverageWarning
    from coverage.samples import load_sample

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        return load_sample(name)


def test_hangzhou_central_has_no_classes_the_message_says_so(hangzhou):
    s = Scenario("x", edits=(SetSpeed(3.0, highway=("primary",)),))
    with pytest.raises(ScenarioError, match=r"keeps no highway classes.*street = \["):
        run_scenario(hangzhou.communities, hangzhou.halls, hangzhou.network, s)


def test_close_a_road_by_its_osm_way_id():
    # 曙光路, way 4298707 of the West Lake extract (a primary road, 33 nodes): every edge of
    # the network along it is closed, and only those; a crossing street stays open
    from coverage.samples import load_sample
    from coverage.scenarios import apply_scenario

    s = load_sample("hangzhou-xihu")
    net = s.network
    edited = apply_scenario(
        s.communities, s.halls, net, Scenario("x", edits=(CloseRoad(osm_way_id=4298707),))
    )
    closed = edited.roads[edited.roads["change"] == "closed"]
    assert len(closed) >= 2
    names = net.table.name
    lines = shapely.linestrings(net.table.geom_coords, indices=net.table.geom_index)
    shut = np.flatnonzero([any(line.equals(c) for c in closed.geometry) for line in lines])
    assert len(shut) >= 2
    assert all("曙光路" in n for n in names[shut]), set(names[shut])
    from coverage.network import read_osm_way

    way = shapely.LineString(read_osm_way(net.source, 4298707))
    other = np.array(["曙光路" not in n for n in names])
    crossing = np.flatnonzero(shapely.intersects(lines, way) & other)
    assert len(crossing) > 0  # streets that meet or cross it
    assert not set(crossing) & set(shut)
    assert edited.network.table.u.size < net.table.u.size
    with pytest.raises(ScenarioError, match="#1: no way 1 in hangzhou_xihu"):
        apply_scenario(s.communities, s.halls, net, Scenario("x", edits=(CloseRoad(osm_way_id=1),)))
