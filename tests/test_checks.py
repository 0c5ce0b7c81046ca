"""The coordinate-system check: WGS-84, GCJ-02 or BD-09, on the bundled samples.

Real points are taken from the samples (true WGS-84), encoded in another system with
:mod:`coverage.coords` and declared as something else, the way a planner's Amap or Baidu
list goes wrong. ``bench/bench_coords.py`` measures rates over thousands of random sets; these
tests pin single, deterministic cases.
"""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

from coverage._errors import CrsError
from coverage.audit import CoordinateSystemWarning, CoverageWarning, audit
from coverage.checks import (
    MIN_POINTS,
    CoordCheck,
    check_coord_system,
    check_coord_systems,
    declared_coord_system,
)
from coverage.coords import from_wgs84, to_wgs84
from coverage.io import read_communities, read_halls
from coverage.samples import data_dir, load_sample
from coverage.testing import grid_communities


@pytest.fixture(scope="module")
def xihu():
    return load_sample("hangzhou-xihu")


def encoded(frame: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    """The frame with its true WGS-84 points replaced by their ``system`` coordinates."""
    g = frame.geometry.to_crs(4326)
    lon, lat = from_wgs84(g.x.to_numpy(), g.y.to_numpy(), system)
    out = frame.to_crs(4326).set_geometry(shapely.points(lon, lat))
    out.attrs = dict(frame.attrs)
    return out


# --- no false alarm on the bundled samples as declared ---------------------------------------


@pytest.mark.parametrize("name", ["hangzhou-central", "hangzhou-xihu", "liechtenstein"])
def test_bundled_samples_as_declared_raise_no_doubt(name, hangzhou, liechtenstein, xihu):
    sample = {"hangzhou-central": hangzhou, "hangzhou-xihu": xihu, "liechtenstein": liechtenstein}
    s = sample[name]
    checks = check_coord_systems(
        [(s.communities.geometry, "wgs84", "communities"), (s.halls.geometry, "wgs84", "halls")],
        s.network,
    )
    assert not any(c.doubt for c in checks)
    verdicts = [c.verdict for c in checks]
    if name == "liechtenstein":  # outside China: GCJ-02 is WGS-84 there, no verdict at all
        assert verdicts == ["cannot tell", "cannot tell", "cannot tell"]
        assert {c.points for c in checks} == {0}
    elif name == "hangzhou-central":  # 2,280 blocks and 73 halls: both confirmed
        assert verdicts == ["as declared", "as declared"]
    else:  # 441 blocks confirmed; 20 halls (18 usable) too few on their own
        assert verdicts == ["as declared", "cannot tell"]


def test_bundled_excel_lists_fit_gcj02_as_declared(xihu):
    samples = data_dir() / "samples"
    com = read_communities(samples / "西湖社区名单_gcj02.xlsx", coord_system="gcj02")
    halls = read_halls(samples / "服务中心_gcj02.xlsx", coord_system="gcj02")
    assert declared_coord_system(com) == declared_coord_system(halls) == "gcj02"
    with warnings.catch_warnings():
        warnings.simplefilter("error", CoverageWarning)
        result = audit(com, halls, xihu.network)
    assert [c.verdict for c in result.coordinate_checks] == ["as declared", "cannot tell"]
    assert result.coordinate_checks[0].fits == "gcj02"


# --- swapped systems are caught ----------------------------------------------------------------


def test_bd09_declared_as_wgs84_is_detected(xihu):
    # Baidu coordinates are about 1 km off in Hangzhou; today's main said nothing
    shifted = encoded(xihu.communities, "bd09")
    check = check_coord_system(shifted.geometry, xihu.network, label="社区名单.xlsx")
    assert (check.verdict, check.fits, check.declared) == ("doubt", "bd09", "wgs84")
    assert check.points == 80
    assert check.scores["bd09"] > 8
    assert max(abs(check.scores["wgs84"]), abs(check.scores["gcj02"])) < 2.5
    message = check.message()
    assert message is not None
    assert re.fullmatch(
        r"社区名单\.xlsx: declared WGS-84, but the points fit the roads far better read as BD-09 "
        r'\(Baidu\): read them with coord_system="bd09"\. Read as BD-09 they keep clear of the '
        r"roads, as block or compound centres do; as declared they lie as if dropped at random "
        r"\(80 points checked; median distance to the nearest road \d+ m as declared, \d+ m as "
        r"BD-09\)\.",
        message,
    ), message


SWAPS = [("gcj02", "wgs84"), ("bd09", "wgs84"), ("wgs84", "gcj02"), ("bd09", "gcj02")]


@pytest.mark.parametrize(("truth", "declared"), SWAPS)
def test_swapped_halls_are_detected(hangzhou, truth, declared):
    # the 73 halls of central Hangzhou, in ``truth`` coordinates, read as ``declared``
    raw = encoded(hangzhou.halls, truth).geometry
    lon, lat = to_wgs84(raw.x.to_numpy(), raw.y.to_numpy(), declared)  # as read_halls does
    points = gpd.GeoSeries(shapely.points(lon, lat), crs=4326)
    check = check_coord_system(points, hangzhou.network, declared=declared, label="halls.csv")
    assert (check.fits, check.doubt) == (truth, True)
    assert check.points >= 60  # of 73: the rest lie near the network's edge in some reading
    assert f'coord_system="{truth}"' in (check.message() or "")


def test_points_beside_the_roads_are_detected(hangzhou):
    # geocoded addresses: 200 points 2-20 m from the walkable roads, in GCJ-02, read as WGS-84
    net = hangzhou.network
    rng = np.random.default_rng(5)
    seg = rng.choice(len(net.seg_length_m), 200, p=net.seg_length_m / net.seg_length_m.sum())
    on_road = shapely.line_interpolate_point(
        net.seg_geom[seg], rng.uniform(0, 1, 200), normalized=True
    )
    step = rng.uniform(2, 20, 200)
    angle = rng.uniform(0, 2 * np.pi, 200)
    xy = shapely.get_coordinates(on_road) + np.column_stack(
        [step * np.cos(angle), step * np.sin(angle)]
    )
    genuine = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=net.crs)
    assert check_coord_system(genuine.geometry, net).verdict == "as declared"
    check = check_coord_system(encoded(genuine, "gcj02").geometry, net)
    assert (check.fits, check.doubt) == ("gcj02", True)
    assert check.scores["gcj02"] < -8  # they hug the roads
    assert "Read as GCJ-02 they sit beside the roads, as addresses do" in (check.message() or "")


def test_both_shifted_audit_warns_and_records_the_doubt(xihu):
    # halls and communities both from Amap, loaded as WGS-84 (the command line)
    com = encoded(xihu.communities, "gcj02")
    halls = encoded(xihu.halls, "gcj02")
    com.attrs["source"] = "西湖社区名单.xlsx"
    halls.attrs["source"] = "服务中心.xlsx"
    with pytest.warns(CoordinateSystemWarning) as caught:
        result = audit(com, halls, xihu.network)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert messages[0].startswith(
        "西湖社区名单.xlsx: declared WGS-84, but the points fit the roads far better read as "
        'GCJ-02 (Amap/Tencent): read them with coord_system="gcj02". '
    )
    assert issubclass(caught[0].category, CoverageWarning)
    assert [c.verdict for c in result.coordinate_checks] == ["doubt", "cannot tell"]
    assert result.district(result.communities["district"].iloc[0]).coordinate_checks == (
        result.coordinate_checks
    )


def test_sets_too_small_alone_are_judged_together(hangzhou):
    # 15 communities and 15 halls, both GCJ-02 read as WGS-84: neither tells alone (< 20
    # points), together they do
    com = encoded(hangzhou.communities.iloc[:2250:150], "gcj02")
    halls = encoded(hangzhou.halls.iloc[::5], "gcj02")
    assert len(com) == len(halls) == 15
    checks = check_coord_systems(
        [(com.geometry, "wgs84", "c.xlsx"), (halls.geometry, "wgs84", "h.xlsx")],
        hangzhou.network,
    )
    assert [c.verdict for c in checks] == ["cannot tell", "cannot tell", "doubt"]
    pooled = checks[-1]
    assert (pooled.label, pooled.fits, pooled.points) == ("c.xlsx + h.xlsx", "gcj02", 30)
    assert pooled.message() == (
        "c.xlsx + h.xlsx: declared WGS-84, but the points fit the roads far better read as "
        'GCJ-02 (Amap/Tencent): read them with coord_system="gcj02" (30 points checked)'
    )


# --- no verdict where none is possible ---------------------------------------------------------


def test_small_sets_and_random_points_give_no_verdict(hangzhou, grid_net):
    few = encoded(hangzhou.communities.iloc[: MIN_POINTS - 1], "gcj02")
    check = check_coord_system(few.geometry, hangzhou.network)
    assert (check.verdict, check.fits, check.points) == ("cannot tell", None, MIN_POINTS - 1)
    assert check.message() is None
    # points dropped at random fit no reading
    rng = np.random.default_rng(11)
    lo = hangzhou.network.node_xy.min(axis=0) + 2_000
    hi = hangzhou.network.node_xy.max(axis=0) - 2_000
    random = gpd.GeoSeries(shapely.points(rng.uniform(lo, hi, (400, 2))), crs=hangzhou.network.crs)
    check = check_coord_system(random, hangzhou.network)
    assert check.points == 80
    assert check.verdict == "cannot tell"
    assert max(abs(v) for v in check.scores.values()) < 4
    # the grid of coverage.testing is far too small
    assert check_coord_system(grid_communities().geometry, grid_net).verdict == "cannot tell"


def test_the_same_input_is_checked_once(hangzhou):
    points = hangzhou.halls.geometry
    first = check_coord_system(points, hangzhou.network)
    assert isinstance(first, CoordCheck)
    assert check_coord_system(points.copy(), hangzhou.network) is first
    assert check_coord_system(points, hangzhou.network, declared="gcj02") is not first


def test_points_without_crs_are_a_crs_error(grid_net):
    with pytest.raises(CrsError, match=r"^x\.csv: the points have no CRS"):
        check_coord_system(gpd.GeoSeries([shapely.Point(120.2, 30.3)]), grid_net, label="x.csv")


def test_check_as_plain_data(xihu):
    check = check_coord_system(encoded(xihu.communities, "gcj02").geometry, xihu.network)
    data = check.to_dict()
    assert {k: data[k] for k in ("declared", "verdict", "fits", "points_checked")} == {
        "declared": "wgs84",
        "verdict": "doubt",
        "fits": "gcj02",
        "points_checked": 80,
    }
    assert set(data["fit_scores"]) == {"wgs84", "gcj02", "bd09"}
    assert 'coord_system="gcj02"' in data["message"]
