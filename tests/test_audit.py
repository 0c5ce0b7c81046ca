"""Audit: statuses, reasons, district tables and floor-area adequacy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal as assert_frame_equal
from hypothesis import given
from hypothesis import strategies as st

from coverage._errors import InputDataError, MissingColumnError
from coverage.audit import ALL_DISTRICTS, CoverageWarning, _one_decimal, audit
from coverage.config import Config
from coverage.testing import grid_communities, grid_halls, grid_points


def test_grid_audit_statuses_and_shortfall(grid_net):
    r = audit(grid_communities(), grid_halls(), grid_net)
    com = r.communities.set_index("community_id")
    assert com["status"].to_dict() == {
        "A": "covered",
        "B": "not covered",
        "C": "covered",
        "D": "covered",
        "E": "covered",
    }
    assert com.loc["B", "shortfall_min"] == pytest.approx(1.0)
    assert com.loc["B", "threshold_min"] == 15
    assert com.loc["C", "threshold_min"] == 20  # rural
    assert "1.0 min over the 15-min limit" in com.loc["B", "reason"]
    assert com.loc["E", "nearest_hall_id"] == "H2"


def test_output_keeps_every_community_and_the_index(grid_net):
    com = grid_communities()
    com.index = [10, 20, 30, 40, 50]
    r = audit(com, grid_halls(), grid_net)
    assert list(r.communities.index) == [10, 20, 30, 40, 50]
    assert r.communities["community_id"].tolist() == com["community_id"].tolist()
    assert len(r.halls) == 2


def test_thresholds_come_from_config(grid_net):
    cfg = Config(urban_threshold_min=16, rural_threshold_min=10)
    r = audit(grid_communities(), grid_halls(), grid_net, config=cfg).communities
    assert r.set_index("community_id").loc["B", "status"] == "covered"
    assert r.set_index("community_id").loc["C", "status"] == "not covered"  # 14 > 10


def test_unreachable_has_a_reason_with_the_distance(grid_net):
    com = grid_communities()
    com.loc[0, "geometry"] = grid_points([(0, 1)], offset_m=-640).iloc[0]
    r = audit(com, grid_halls(), grid_net).communities
    row = r.iloc[0]
    assert row["status"] == "unreachable"
    assert row["reason"] == "unreachable: 640 m from the nearest road usable by walk (limit 500 m)"
    assert np.isnan(row["travel_time_min"])
    assert row["covered"] is np.False_ or row["covered"] is False


def test_district_table_counts_and_shares(grid_net):
    t = audit(grid_communities(), grid_halls(), grid_net).districts.set_index("district")
    west = t.loc["West"]
    assert (west["communities"], west["covered"], west["not_covered"]) == (3, 2, 1)
    assert west["population_covered"] == 2500  # A 1000 + D 1500; B 2000 not covered
    assert west["population_covered_share"] == pytest.approx(2500 / 4500)
    assert t.loc["East", "rural_communities"] == 2
    assert t.loc[ALL_DISTRICTS, "communities"] == 5
    assert t.loc[ALL_DISTRICTS, "covered_share"] == pytest.approx(0.8)


def test_floor_area_adequacy(grid_net):
    halls = grid_halls()
    halls.loc[1, "floor_area_m2"] = 100.0  # H2 serves C and E: 520 households -> 156 m² needed
    com = grid_communities()
    # B sits at a tie (16 min from both halls); move it 30 m west so that H1 (15.6 min) wins
    com.loc[1, "geometry"] = grid_points([(2, 1.9)]).iloc[0]
    h = audit(com, halls, grid_net).halls.set_index("hall_id")
    assert h.loc["H2", "households_served"] == 520
    assert h.loc["H2", "required_floor_area_m2"] == pytest.approx(156.0)
    assert bool(h.loc["H2", "floor_area_adequate"]) is False
    assert h.loc["H2", "floor_area_gap_m2"] == pytest.approx(56.0)
    # H1 serves A, B, D: 1800 households -> 540 m² <= 600
    assert bool(h.loc["H1", "floor_area_adequate"]) is True


def test_hall_off_network_is_warned_and_listed(grid_net):
    halls = grid_halls()
    halls.loc[1, "geometry"] = grid_points([(4, 4)], offset_m=900).iloc[0]
    with pytest.warns(CoverageWarning, match="H2"):
        r = audit(grid_communities(), halls, grid_net)
    h = r.halls.set_index("hall_id")
    assert not h.loc["H2", "on_network"]
    assert h.loc["H2", "status"].startswith("off network: 900 m")
    assert set(r.communities["nearest_hall_id"].dropna()) == {"H1"}


def test_points_far_outside_the_network_are_an_input_error(grid_net):
    com = grid_communities()
    com.loc[3, "geometry"] = grid_points([(0, 0)], offset_m=50_000).iloc[0]
    with pytest.raises(InputDataError, match=r"communities: 1 point lies more than 20 km.*'D'"):
        audit(com, grid_halls(), grid_net)


def test_missing_column_names_the_reader(grid_net):
    with pytest.raises(MissingColumnError, match=r"'kind'.*read_communities"):
        audit(grid_communities().drop(columns="kind"), grid_halls(), grid_net)


def test_inputs_without_points_or_crs_are_an_input_error(grid_net):
    com = grid_communities()
    no_points = [pd.DataFrame(com.drop(columns="geometry")), com.drop(columns="geometry")]
    for bad in [*no_points, com.set_crs(None, allow_override=True)]:
        with pytest.raises(InputDataError, match="a GeoDataFrame with a CRS is needed"):
            audit(bad, grid_halls(), grid_net)


def test_district_values_that_are_not_text_become_text(grid_net):
    com = grid_communities()
    com["district"] = pd.Series([1, 2, None, "A", 2], dtype=object, index=com.index)
    r = audit(com, grid_halls(), grid_net)
    assert r.communities["district"].tolist() == ["1", "2", "(none)", "A", "2"]
    assert r.districts["district"].tolist() == ["(none)", "1", "2", "A", ALL_DISTRICTS]
    assert r.districts.set_index("district").loc["2", "communities"] == 2


def test_no_halls_at_all(grid_net):
    r = audit(grid_communities(), grid_halls().iloc[:0], grid_net)
    assert (r.communities["status"] == "unreachable").all()
    assert r.communities["reason"].str.contains("no hall").all()


def test_district_subset(grid_net):
    r = audit(grid_communities(), grid_halls(), grid_net)
    east = r.district("East")
    assert east.communities["community_id"].tolist() == ["C", "E"]
    assert east.halls["hall_id"].tolist() == ["H2"]
    with pytest.raises(InputDataError, match="unknown district 'North'; known: 'East', 'West'"):
        r.district("North")
    # a district may be named by its beginning, ignoring case
    assert r.district("ea").communities["community_id"].tolist() == ["C", "E"]


@pytest.mark.parametrize("crs", [4326, 32650])
def test_changing_the_outputs_never_changes_the_inputs(grid_net, crs):
    """The output tables may share unchanged input columns (copy-on-write), never write back."""
    com = grid_communities().to_crs(crs)
    hal = grid_halls().to_crs(crs)
    com_before, hal_before = com.copy(), hal.copy()
    r = audit(com, hal, grid_net)
    r.communities.loc[r.communities.index[0], "population"] = -1
    r.communities.loc[r.communities.index[0], "name"] = "changed"
    r.communities.loc[r.communities.index[0], "geometry"] = r.communities.geometry.iloc[1]
    r.halls.loc[r.halls.index[0], "hall_id"] = "changed"
    r.halls.loc[r.halls.index[0], "geometry"] = r.halls.geometry.iloc[1]
    r.communities["district"] = "x"
    assert_frame_equal(com, com_before)
    assert_frame_equal(hal, hal_before)


def test_repr_html_has_headline(grid_net):
    r = audit(grid_communities(), grid_halls(), grid_net)
    assert "80.0%" in r._repr_html_()
    assert "4 covered (80.0%)" in repr(r)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=60))
def test_one_decimal_is_format_of_each_value(values):
    """The reasons' minutes are written exactly as format(v, ".1f") would write them."""
    assert _one_decimal(np.array(values, dtype=float)).tolist() == [
        format(v, ".1f") for v in values
    ]


def test_one_decimal_at_rounding_boundaries():
    # tenths whose binary value lies just below or above a half, and exact halves
    values = [0.05, 0.15, 0.25, 0.35, 0.45, 1.05, 2.675, 12.25, 14.95, 0.0, -0.0, -0.04, 1e-300]
    values += [v + d for v in values for d in (-1e-12, 1e-12)]
    assert _one_decimal(np.array(values)).tolist() == [format(v, ".1f") for v in values]


# --------------------------------------------------------------------------------------------
# one source for routing settings: the network


def _routers():
    import geopandas as gpd

    from coverage.batch import run_batch
    from coverage.isochrones import isochrones
    from coverage.siting import candidate_sites, propose_halls
    from coverage.testing import GRID_CRS, grid_xy

    def zones():
        x0, y0 = grid_xy(-1, -1)
        x1, y1 = grid_xy(5, 5)
        import shapely

        return gpd.GeoDataFrame(
            {"district": ["All"]}, geometry=[shapely.box(x0, y0, x1, y1)], crs=GRID_CRS
        )

    return {
        "audit": lambda net, cfg: audit(grid_communities(), grid_halls(), net, config=cfg),
        "isochrones": lambda net, cfg: isochrones(net, grid_halls(), config=cfg),
        "propose_halls": lambda net, cfg: propose_halls(
            grid_communities(), grid_halls(), candidate_sites(net, spacing_m=600), net, config=cfg
        ),
        "run_batch": lambda net, cfg: run_batch(
            grid_communities().assign(district="All"), grid_halls(), net, zones(), config=cfg
        ),
    }


@pytest.mark.parametrize("router", ["audit", "isochrones", "propose_halls", "run_batch"])
def test_a_config_that_routes_otherwise_than_the_network_is_refused(router):
    from coverage._errors import ConfigError
    from coverage.network import load_network
    from coverage.testing import grid_graph

    walk = load_network(grid_graph(), mode="walk")
    run = _routers()[router]
    with pytest.raises(ConfigError, match=r"routes by drive at 30 km/h.*for walk at 4\.5 km/h"):
        run(walk, Config(mode="drive"))
    with pytest.raises(ConfigError, match=r"routes by walk at 4 km/h.*for walk at 4\.5 km/h"):
        run(walk, Config(speeds_kph={"walk": 4.0}))


def test_the_result_reports_the_networks_mode_and_speed():
    from coverage.network import load_network
    from coverage.testing import grid_graph

    drive = load_network(grid_graph(), mode="drive")
    result = audit(grid_communities(), grid_halls(), drive)  # no config: the network's rules
    assert result.config.mode == result.network["mode"] == "drive"
    assert result.config.speed_kph == result.network["speed_kph"] == 30.0
    # 300 m edges at 30 km/h: community A is one edge (36 s) from hall H1
    assert result.communities["travel_time_min"].iloc[0] == pytest.approx(0.6)
    same = audit(grid_communities(), grid_halls(), drive, config=Config(mode="drive"))
    assert same.communities["travel_time_min"].tolist() == (
        result.communities["travel_time_min"].tolist()
    )
