"""Tests of coverage.coords against published vectors, plus round trips.

Every expected value below is copied from a published source, never computed by our code:

* ``EVIL`` - googollee/eviltransform, ``python/test.py`` and ``go/transform_test.go``
  (WGS-84 -> GCJ-02 for Shanghai, Shenzhen, Beijing; given to 1e-14 degrees).
* ``WANDERGIS`` - wandergis/coordtransform, ``test/app.js`` (the "//result" block for the
  point 116.404, 39.915; the same numbers are asserted in athxx/coordtransform-rs tests).
* ``GCOORD`` - hujiulong/gcoord, ``test/fixtures/china-cities.json`` (WGS84, GCJ02 and BD09
  of city centres, rounded to 1e-7 degrees) and ``test/unit/crs/GCJ02.spec.js``.

Tolerances are stated in metres and measured with a haversine distance.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from geopandas import GeoSeries
from shapely import LineString, MultiPolygon, Point, Polygon

from coverage.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    transform_geometry,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (mean Earth radius)."""
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def test_haversine_helper_is_sane():
    # One degree of latitude is about 111.2 km on the mean sphere.
    assert haversine_m(0, 0, 0, 1) == pytest.approx(111_195, abs=1)


# (name, WGS-84 lon/lat, GCJ-02 lon/lat) - eviltransform's TESTS table (lat/lng reordered).
EVIL = [
    ("shanghai", (121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ("shenzhen", (113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ("beijing", (116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]

# wandergis/coordtransform test/app.js, all four conversions of the point (116.404, 39.915).
WANDERGIS_POINT = (116.404, 39.915)
WANDERGIS = {
    "bd09togcj02": (116.39762729119315, 39.90865673957631),
    "gcj02tobd09": (116.41036949371029, 39.92133699351021),
    "wgs84togcj02": (116.41024449916938, 39.91640428150164),
    "gcj02towgs84": (116.39775550083061, 39.91359571849836),  # their one-step approximation
}

# gcoord china-cities.json: (city, WGS84, GCJ02, BD09); the Zhejiang cities around Hangzhou,
# plus far corners of the country (Lhasa, Urumqi, Sanya, Harbin).
GCOORD = [
    ("湖州市", (120.0819509, 30.8963939), (120.0868281, 30.8943522), (120.093349, 30.9002941)),
    ("嘉兴市", (120.7511656, 30.7484263), (120.755491, 30.746132), (120.7620361, 30.7520341)),
    ("绍兴市", (120.5761439, 30.032385), (120.580236, 30.0297572), (120.5867094, 30.0359468)),
    ("宁波市", (121.6175008, 29.8621392), (121.6216018, 29.859518), (121.628174, 29.8651502)),
    ("金华市", (119.6427465, 29.0820414), (119.6474509, 29.0790641), (119.6538875, 29.0854003)),
    ("拉萨市", (91.1706414, 29.655277), (91.1721167, 29.6524954), (91.1786184, 29.6585294)),
    ("乌鲁木齐市", (87.6140048, 43.824388), (87.6168579, 43.8255962), (87.6232918, 43.8317719)),
    ("三亚市", (109.507813, 18.2545417), (109.5119135, 18.2528524), (109.5184703, 18.2585878)),
    ("哈尔滨市", (126.528903, 45.8017783), (126.5349726, 45.8037804), (126.5415875, 45.8094074)),
]


# --- WGS-84 -> GCJ-02 -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "wgs", "gcj"), EVIL, ids=[e[0] for e in EVIL])
def test_wgs84_to_gcj02_eviltransform(name, wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    # eviltransform's values carry full double precision: agree to a millimetre.
    assert haversine_m(lon, lat, *gcj) < 0.001, name


def test_wgs84_to_gcj02_wandergis():
    lon, lat = wgs84_to_gcj02(*WANDERGIS_POINT)
    assert haversine_m(lon, lat, *WANDERGIS["wgs84togcj02"]) < 0.001


@pytest.mark.parametrize("city", GCOORD, ids=[g[0] for g in GCOORD])
def test_wgs84_to_gcj02_gcoord_cities(city):
    name, wgs, gcj, _bd = city
    lon, lat = wgs84_to_gcj02(*wgs)
    # gcoord's WGS84 column is rounded to 1e-7 degrees and agrees with the standard
    # algorithm to about 0.7 m (a constant shift, from how the fixture was made).
    assert haversine_m(lon, lat, *gcj) < 1.0, name


# --- GCJ-02 <-> BD-09 -------------------------------------------------------------------------


def test_gcj02_to_bd09_wandergis():
    lon, lat = gcj02_to_bd09(*WANDERGIS_POINT)
    assert haversine_m(lon, lat, *WANDERGIS["gcj02tobd09"]) < 0.001


def test_gcj02_to_bd09_gcoord_spec():
    # gcoord test/unit/crs/GCJ02.spec.js: GCJ02 [123, 45] -> BD09 [123.00636499, 45.00636899]
    lon, lat = gcj02_to_bd09(123, 45)
    assert haversine_m(lon, lat, 123.00636499, 45.00636899) < 0.01


@pytest.mark.parametrize("city", GCOORD, ids=[g[0] for g in GCOORD])
def test_gcj02_to_bd09_gcoord_cities(city):
    name, _wgs, gcj, bd = city
    lon, lat = gcj02_to_bd09(*gcj)
    # Both columns rounded to 1e-7 degrees (about 1 cm).
    assert haversine_m(lon, lat, *bd) < 0.02, name


def test_bd09_to_gcj02_wandergis():
    lon, lat = bd09_to_gcj02(*WANDERGIS_POINT)
    # wandergis publishes the one-step closed-form inverse; ours iterates to the exact
    # inverse, which differs from it by a few centimetres.
    assert haversine_m(lon, lat, *WANDERGIS["bd09togcj02"]) < 0.1


@pytest.mark.parametrize("city", GCOORD, ids=[g[0] for g in GCOORD])
def test_bd09_to_gcj02_gcoord_cities(city):
    name, _wgs, gcj, bd = city
    lon, lat = bd09_to_gcj02(*bd)
    assert haversine_m(lon, lat, *gcj) < 0.02, name


# --- GCJ-02 -> WGS-84 (the exact inverse) ------------------------------------------------------


@pytest.mark.parametrize(("name", "wgs", "gcj"), EVIL, ids=[e[0] for e in EVIL])
def test_gcj02_to_wgs84_eviltransform(name, wgs, gcj):
    lon, lat = gcj02_to_wgs84(*gcj)
    # eviltransform requires < 0.5 m of its exact inverse; ours reaches a millimetre.
    assert haversine_m(lon, lat, *wgs) < 0.001, name


def test_gcj02_to_wgs84_gcoord_spec():
    # gcoord test/unit/crs/GCJ02.spec.js: GCJ02 [123, 45] -> WGS84 [122.99395597, 44.99804071]
    lon, lat = gcj02_to_wgs84(123, 45)
    assert haversine_m(lon, lat, 122.99395597, 44.99804071) < 0.05


def test_gcj02_to_wgs84_beats_the_one_step_approximation():
    # wandergis's gcj02towgs84 subtracts the offset once, which is off by metres; the exact
    # inverse maps back onto the GCJ-02 input, the one-step result does not.
    exact = gcj02_to_wgs84(*WANDERGIS_POINT)
    approx = WANDERGIS["gcj02towgs84"]
    assert haversine_m(*wgs84_to_gcj02(*exact), *WANDERGIS_POINT) < 0.001
    assert haversine_m(*wgs84_to_gcj02(*approx), *WANDERGIS_POINT) > 0.01


@pytest.mark.parametrize("city", GCOORD, ids=[g[0] for g in GCOORD])
def test_bd09_to_wgs84_gcoord_cities(city):
    name, wgs, _gcj, bd = city
    lon, lat = bd09_to_wgs84(*bd)
    assert haversine_m(lon, lat, *wgs) < 1.0, name
    lon, lat = wgs84_to_bd09(*wgs)
    assert haversine_m(lon, lat, *bd) < 1.0, name


# --- round trips over China ------------------------------------------------------------------


@pytest.fixture(scope="module")
def china_points():
    rng = np.random.default_rng(20240601)
    lon = rng.uniform(73.7, 134.7, 20_000)
    lat = rng.uniform(18.2, 53.5, 20_000)
    return lon, lat


def test_round_trip_gcj02(china_points):
    lon, lat = china_points
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    err = haversine_m(*back, lon, lat)
    assert err.max() < 0.5  # the requirement
    assert err.max() < 0.005  # in practice: millimetres
    # and the other way round
    back = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert haversine_m(*back, lon, lat).max() < 0.005


def test_round_trip_bd09(china_points):
    lon, lat = china_points
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert haversine_m(*back, lon, lat).max() < 0.005
    back = gcj02_to_bd09(*bd09_to_gcj02(lon, lat))
    assert haversine_m(*back, lon, lat).max() < 0.005


def test_offset_is_hundreds_of_metres(china_points):
    # Sanity: the shift is what DESIGN.md says (a few hundred metres), not zero.
    lon, lat = china_points
    shift = haversine_m(*wgs84_to_gcj02(lon, lat), lon, lat)
    assert 100 < np.median(shift) < 1000


@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09"])
def test_to_from_wgs84_round_trip(china_points, system):
    lon, lat = china_points
    back = to_wgs84(*from_wgs84(lon, lat, system), system)
    assert haversine_m(*back, lon, lat).max() < 0.005


def test_to_wgs84_dispatches():
    gcj = EVIL[0][2]
    assert np.allclose(to_wgs84(*gcj, "gcj02"), gcj02_to_wgs84(*gcj), rtol=0, atol=0)
    assert np.allclose(to_wgs84(*gcj, "bd09"), bd09_to_wgs84(*gcj), rtol=0, atol=0)
    assert to_wgs84(*gcj, "wgs84") == gcj
    with pytest.raises(ValueError, match="coord_system must be one of"):
        to_wgs84(1, 2, "gcj")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="coord_system must be one of"):
        from_wgs84(1, 2, "WGS84")  # type: ignore[arg-type]


# --- outside China ----------------------------------------------------------------------------

OUTSIDE = [
    (9.5209, 47.1410),  # Vaduz, Liechtenstein
    (-0.1276, 51.5072),  # London
    (139.6917, 35.6895),  # Tokyo: east of the box
    (121.0, 60.0),  # north of the box
    (-74.0060, 40.7128),  # New York
    (0.0, 0.0),
]


def test_out_of_china():
    lon, lat = np.array(OUTSIDE).T
    assert out_of_china(lon, lat).all()
    assert not out_of_china(120.15, 30.27)  # Hangzhou
    assert isinstance(out_of_china(120.15, 30.27), np.bool_)
    assert out_of_china([120.15, 9.52], [30.27, 47.14]).tolist() == [False, True]


@pytest.mark.parametrize(
    "func",
    [wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84],
    ids=lambda f: f.__name__,
)
def test_outside_china_gcj_is_unchanged(func):
    lon, lat = np.array(OUTSIDE).T
    if func in (wgs84_to_bd09, bd09_to_wgs84):
        # BD-09 is applied everywhere; only its GCJ-02 part is skipped outside China.
        gcj = (bd09_to_gcj02 if func is bd09_to_wgs84 else gcj02_to_bd09)(lon, lat)
        out = func(lon, lat)
        assert np.array_equal(out[0], gcj[0])
        assert np.array_equal(out[1], gcj[1])
    else:
        out = func(lon, lat)
        assert np.array_equal(out[0], lon)
        assert np.array_equal(out[1], lat)


# --- vectorised == scalar; shapes; NaN ------------------------------------------------------


@pytest.mark.parametrize(
    "func",
    [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84],
    ids=lambda f: f.__name__,
)
def test_vectorised_equals_scalar(func):
    rng = np.random.default_rng(7)
    lon = np.concatenate([rng.uniform(73, 135, 50), np.array(OUTSIDE).T[0]])
    lat = np.concatenate([rng.uniform(18, 53, 50), np.array(OUTSIDE).T[1]])
    vx, vy = func(lon, lat)
    assert vx.shape == lon.shape
    for i in range(len(lon)):
        sx, sy = func(float(lon[i]), float(lat[i]))
        assert isinstance(sx, np.float64)
        # Iterative inverses stop for the whole array at once, so they may take a step or two
        # more than the scalar run: equal to well under a millimetre.
        assert sx == pytest.approx(vx[i], abs=1e-10)
        assert sy == pytest.approx(vy[i], abs=1e-10)
    lx, ly = func(list(lon), list(lat))
    assert np.array_equal(lx, vx)
    assert np.array_equal(ly, vy)


def test_shapes_and_nan():
    lon = np.array([[120.1, 120.2], [np.nan, 120.3]])
    lat = np.array([[30.1, 30.2], [30.3, np.nan]])
    x, y = gcj02_to_wgs84(lon, lat)
    assert x.shape == (2, 2)
    assert np.isnan(x[1, 0])
    assert np.isnan(y[1, 1])
    assert np.isfinite(x[0]).all()
    # broadcasting a scalar latitude
    x, y = wgs84_to_gcj02([120.1, 120.2], 30.0)
    assert x.shape == y.shape == (2,)


# --- geometries -------------------------------------------------------------------------------


def test_transform_geometry_point_matches_published_vector():
    wgs, gcj = EVIL[0][1], EVIL[0][2]
    p = transform_geometry(Point(*wgs), "wgs84", "gcj02")
    assert haversine_m(p.x, p.y, *gcj) < 0.001
    q = transform_geometry(Point(*gcj), "gcj02", "wgs84")
    assert haversine_m(q.x, q.y, *wgs) < 0.001


def test_transform_geometry_lines_polygons_and_z():
    wgs = [g[1] for g in GCOORD[:4]]
    gcj = [g[2] for g in GCOORD[:4]]
    line = transform_geometry(LineString(wgs), "wgs84", "gcj02")
    assert max(haversine_m(*a, *b) for a, b in zip(line.coords, gcj, strict=True)) < 1.0
    poly = Polygon(wgs)
    hole_poly = Polygon(
        [(120.0, 30.0), (120.2, 30.0), (120.2, 30.2), (120.0, 30.2)],
        holes=[[(120.05, 30.05), (120.1, 30.05), (120.1, 30.1)]],
    )
    multi = MultiPolygon([poly, hole_poly])
    out = transform_geometry(np.array([poly, multi, None]), "wgs84", "bd09")
    assert out[2] is None
    assert shapely.get_num_coordinates(out[1]) == shapely.get_num_coordinates(multi)
    assert len(out[1].geoms[1].interiors) == 1
    back = transform_geometry(out, "bd09", "wgs84")
    assert shapely.equals_exact(back[0], poly, tolerance=1e-8)
    assert shapely.equals_exact(back[1], multi, tolerance=1e-8)
    p3 = transform_geometry(Point(120.1, 30.2, 15.0), "wgs84", "gcj02")
    assert p3.has_z
    assert p3.z == 15.0


def test_transform_geometry_geoseries_keeps_index_and_crs():
    wgs = [g[1] for g in GCOORD]
    gcj = [g[2] for g in GCOORD]
    s = GeoSeries([Point(*p) for p in wgs], index=list("abcdefghi"), crs="EPSG:4326", name="g")
    out = transform_geometry(s, "wgs84", "gcj02")
    assert isinstance(out, GeoSeries)
    assert list(out.index) == list("abcdefghi")
    assert out.crs == s.crs
    assert out.name == "g"
    assert max(haversine_m(p.x, p.y, *q) for p, q in zip(out, gcj, strict=True)) < 1.0
    # the input is not changed
    assert s.iloc[0].equals(Point(*wgs[0]))
    same = transform_geometry(s, "gcj02", "gcj02")
    assert same is not s
    assert same.equals(s)


def test_transform_geometry_rejects_unknown_system():
    with pytest.raises(ValueError, match="to_system must be one of"):
        transform_geometry(Point(1, 2), "wgs84", "mars")  # type: ignore[arg-type]
