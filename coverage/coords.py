"""Chinese coordinate systems: WGS-84 (OSM), GCJ-02 (Amap, Tencent) and BD-09 (Baidu).

Facility lists in China usually come from Amap or Tencent (GCJ-02, the "Mars" coordinates of
the 国测局) or from Baidu (BD-09); OpenStreetMap is WGS-84. The offset is a few hundred metres,
a third of a 15-minute walk, and pyproj does not know these systems. This module converts
between the three. All coordinates are longitude/latitude in degrees; WGS-84 is EPSG:4326.

GCJ-02 is WGS-84 plus an obfuscating offset computed on the Krasovsky 1940 ellipsoid
(a = 6378245.0 m, e² = 0.00669342162296594323) from the published ``transformLat`` /
``transformLon`` polynomials; outside a rectangle around China the offset is zero, as the
standard algorithm has it. BD-09 adds a small rotation and scaling to GCJ-02
(``x_pi = pi * 3000 / 180``). The inverse conversions (GCJ-02 to WGS-84, BD-09 to GCJ-02) have
no closed form; here they are solved by fixed-point iteration until the step is below
1e-9 degrees (about 0.1 mm), so that converting forth and back returns the input to within
millimetres.

Every function is vectorised over numpy arrays and also accepts scalars and lists; scalars in
give numpy float64 scalars out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, get_args

import numpy as np
import numpy.typing as npt
import shapely

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "COORD_SYSTEMS",
    "CoordSystem",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "to_wgs84",
    "transform_geometry",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CoordSystem = Literal["wgs84", "gcj02", "bd09"]
"""Name of a coordinate system: ``"wgs84"`` (OSM, GPS), ``"gcj02"`` (Amap, Tencent),
``"bd09"`` (Baidu)."""

COORD_SYSTEMS: tuple[str, ...] = get_args(CoordSystem)

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
_G = TypeVar("_G")

# Krasovsky 1940 ellipsoid, as used by GCJ-02.
_A = 6378245.0
_EE = 0.00669342162296594323
# BD-09 constant.
_X_PI = np.pi * 3000.0 / 180.0

# The rectangle outside which GCJ-02 equals WGS-84 in the standard algorithm, degrees.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 50


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return ``lon`` and ``lat`` as broadcast float64 arrays."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    x, y = np.broadcast_arrays(x, y)
    return x, y


def _out(x: FloatArray, y: FloatArray) -> tuple[Any, Any]:
    """Return arrays, or numpy scalars when the input was 0-dimensional."""
    if x.ndim == 0:
        return np.float64(x), np.float64(y)
    return x, y


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> Any:  # noqa: ANN401
    """Tell which points lie outside the rectangle where GCJ-02 differs from WGS-84.

    The rectangle is longitude 72.004-137.8347 and latitude 0.8293-55.8271 degrees, as in
    the standard algorithm. It is a coarse box: it also covers parts of neighbouring
    countries, where GCJ-02 conversions are applied all the same.

    Parameters
    ----------
    lon, lat
        Longitude and latitude, degrees (any of the three systems: the box is coarse).

    Returns
    -------
    numpy.ndarray or numpy.bool_
        Boolean mask, ``True`` outside China; NaN coordinates count as inside (they stay NaN
        through every conversion).

    Examples
    --------
    >>> out_of_china([120.15, 9.52], [30.27, 47.14]).tolist()
    [False, True]
    """
    x, y = _as_arrays(lon, lat)
    mask = (x < _CHINA_LON[0]) | (x > _CHINA_LON[1]) | (y < _CHINA_LAT[0]) | (y > _CHINA_LAT[1])
    if mask.ndim == 0:
        return np.bool_(mask)
    return mask


def _transform_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    """Evaluate the published latitude polynomial of GCJ-02 (x = lon - 105, y = lat - 35)."""
    pi = np.pi
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    """Evaluate the published longitude polynomial of GCJ-02 (x = lon - 105, y = lat - 35)."""
    pi = np.pi
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS-84 at WGS-84 point (x, y), degrees; zero outside China."""
    dlat = _transform_lat(x - 105.0, y - 35.0)
    dlon = _transform_lon(x - 105.0, y - 35.0)
    radlat = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    outside = (x < _CHINA_LON[0]) | (x > _CHINA_LON[1]) | (y < _CHINA_LAT[0]) | (y > _CHINA_LAT[1])
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _wgs_to_gcj(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    dx, dy = _gcj_offset(x, y)
    return x + dx, y + dy


def _gcj_to_wgs(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    # Fixed-point iteration on w = g - offset(w). The offset changes by less than 1e-3 per
    # degree, so each step gains about three digits; three or four steps reach 1e-9 degrees.
    outside = (x < _CHINA_LON[0]) | (x > _CHINA_LON[1]) | (y < _CHINA_LAT[0]) | (y > _CHINA_LAT[1])
    wx, wy = x.copy(), y.copy()
    for _ in range(_MAX_ITERATIONS):
        gx, gy = _wgs_to_gcj(wx, wy)
        step_x, step_y = x - gx, y - gy
        wx, wy = wx + step_x, wy + step_y
        step = np.fmax(np.abs(step_x), np.abs(step_y))
        if not np.any(step >= _TOLERANCE_DEG):  # NaN steps do not hold the loop
            break
    return np.where(outside, x, wx), np.where(outside, y, wy)


def _gcj_to_bd(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    # Start from the usual closed-form approximation, then refine by fixed-point iteration
    # so that gcj02_to_bd09(bd09_to_gcj02(p)) == p to within 1e-9 degrees.
    ux, uy = x - 0.0065, y - 0.006
    z = np.sqrt(ux * ux + uy * uy) - 0.00002 * np.sin(uy * _X_PI)
    theta = np.arctan2(uy, ux) - 0.000003 * np.cos(ux * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITERATIONS):
        bx, by = _gcj_to_bd(gx, gy)
        step_x, step_y = x - bx, y - by
        gx, gy = gx + step_x, gy + step_y
        step = np.fmax(np.abs(step_x), np.abs(step_y))
        if not np.any(step >= _TOLERANCE_DEG):
            break
    return gx, gy


def _apply(
    func: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    lon: ArrayLike,
    lat: ArrayLike,
) -> tuple[Any, Any]:
    x, y = _as_arrays(lon, lat)
    rx, ry = func(np.atleast_1d(x), np.atleast_1d(y))
    return _out(rx.reshape(x.shape), ry.reshape(y.shape))


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert WGS-84 (OSM, GPS) to GCJ-02 (Amap, Tencent).

    Parameters
    ----------
    lon, lat
        WGS-84 longitude and latitude (EPSG:4326), degrees; scalars or arrays of the same
        (or broadcastable) shape.

    Returns
    -------
    tuple of numpy.ndarray or numpy.float64
        GCJ-02 longitude and latitude, degrees. Points outside China are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(121.5272106, 31.1774276)
    >>> round(float(lon), 6), round(float(lat), 6)
    (121.531542, 31.175304)
    """
    return _apply(_wgs_to_gcj, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert GCJ-02 (Amap, Tencent) to WGS-84 (OSM, GPS), exactly.

    Solved by fixed-point iteration until the step is below 1e-9 degrees, so that
    ``wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))`` returns the input to within about 0.1 mm.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray or numpy.float64
        WGS-84 longitude and latitude (EPSG:4326), degrees. Points outside China are returned
        unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(121.531541859215, 31.17530398364597)
    >>> round(float(lon), 6), round(float(lat), 6)
    (121.527211, 31.177428)
    """
    return _apply(_gcj_to_wgs, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert GCJ-02 (Amap, Tencent) to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray or numpy.float64
        BD-09 longitude and latitude, degrees. Unlike GCJ-02, BD-09 is applied everywhere.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.410369, 39.921337)
    """
    return _apply(_gcj_to_bd, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert BD-09 (Baidu) to GCJ-02 (Amap, Tencent), exactly.

    The closed-form approximation in common use is refined by fixed-point iteration until
    the step is below 1e-9 degrees.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray or numpy.float64
        GCJ-02 longitude and latitude, degrees.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.41036949371029, 39.92133699351021)
    >>> round(float(lon), 9), round(float(lat), 9)
    (116.404, 39.915)
    """
    return _apply(_bd_to_gcj, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert WGS-84 (OSM, GPS) to BD-09 (Baidu), through GCJ-02.

    Parameters
    ----------
    lon, lat
        WGS-84 longitude and latitude (EPSG:4326), degrees.

    Returns
    -------
    tuple of numpy.ndarray or numpy.float64
        BD-09 longitude and latitude, degrees.
    """
    return _apply(lambda x, y: _gcj_to_bd(*_wgs_to_gcj(x, y)), lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert BD-09 (Baidu) to WGS-84 (OSM, GPS), through GCJ-02, exactly.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray or numpy.float64
        WGS-84 longitude and latitude (EPSG:4326), degrees.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(120.093349, 30.9002941)  # Huzhou, from gcoord's fixtures
    >>> round(float(lon), 4), round(float(lat), 4)
    (120.082, 30.8964)
    """
    return _apply(lambda x, y: _gcj_to_wgs(*_bd_to_gcj(x, y)), lon, lat)


def _check_system(coord_system: str, name: str = "coord_system") -> None:
    if coord_system not in COORD_SYSTEMS:
        msg = f"{name} must be one of {', '.join(map(repr, COORD_SYSTEMS))}, got {coord_system!r}"
        raise ValueError(msg)


_TO_WGS84: dict[str, Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]] = {
    "gcj02": _gcj_to_wgs,
    "bd09": lambda x, y: _gcj_to_wgs(*_bd_to_gcj(x, y)),
}
_FROM_WGS84: dict[str, Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]] = {
    "gcj02": _wgs_to_gcj,
    "bd09": lambda x, y: _gcj_to_bd(*_wgs_to_gcj(x, y)),
}


def to_wgs84(lon: ArrayLike, lat: ArrayLike, coord_system: CoordSystem) -> tuple[Any, Any]:
    """Convert from any of the three systems to WGS-84.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in ``coord_system``, degrees.
    coord_system
        ``"wgs84"`` (returned as float arrays, unchanged), ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    tuple of numpy.ndarray or numpy.float64
        WGS-84 longitude and latitude (EPSG:4326), degrees.

    Raises
    ------
    ValueError
        If ``coord_system`` is not one of the three names.

    Examples
    --------
    >>> lon, lat = to_wgs84([116.404], [39.915], "wgs84")
    >>> lon.tolist(), lat.tolist()
    ([116.404], [39.915])
    """
    _check_system(coord_system)
    if coord_system == "wgs84":
        return _out(*_as_arrays(lon, lat))
    return _apply(_TO_WGS84[coord_system], lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, coord_system: CoordSystem) -> tuple[Any, Any]:
    """Convert from WGS-84 to any of the three systems.

    Parameters
    ----------
    lon, lat
        WGS-84 longitude and latitude (EPSG:4326), degrees.
    coord_system
        Target: ``"wgs84"`` (unchanged), ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    tuple of numpy.ndarray or numpy.float64
        Longitude and latitude in ``coord_system``, degrees.

    Raises
    ------
    ValueError
        If ``coord_system`` is not one of the three names.
    """
    _check_system(coord_system)
    if coord_system == "wgs84":
        return _out(*_as_arrays(lon, lat))
    return _apply(_FROM_WGS84[coord_system], lon, lat)


def transform_geometry(geometry: _G, from_system: CoordSystem, to_system: CoordSystem) -> _G:
    """Shift shapely geometries (points, lines, polygons) between the three systems.

    Every vertex is converted; z coordinates are kept. Useful to draw WGS-84 data on GCJ-02
    basemaps (Amap tiles) or to bring a GCJ-02 layer onto OSM.

    Parameters
    ----------
    geometry
        A shapely geometry, a numpy array of geometries, or a ``geopandas.GeoSeries`` (its
        index, name and CRS are kept; the CRS should be EPSG:4326, the three systems being
        longitude and latitude in degrees). Missing values (None) stay missing.
    from_system, to_system
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    shapely geometry, numpy.ndarray or geopandas.GeoSeries
        The same kind of object as ``geometry``, shifted. A new object: the input is not
        changed.

    Examples
    --------
    >>> from shapely import Point
    >>> p = transform_geometry(Point(121.5272106, 31.1774276), "wgs84", "gcj02")
    >>> round(p.x, 6), round(p.y, 6)
    (121.531542, 31.175304)
    """
    _check_system(from_system, "from_system")
    _check_system(to_system, "to_system")

    def shift(coords: FloatArray) -> FloatArray:
        out = coords.copy()
        x, y = coords[:, 0], coords[:, 1]
        if from_system != "wgs84":
            x, y = _TO_WGS84[from_system](x, y)
        if to_system != "wgs84":
            x, y = _FROM_WGS84[to_system](x, y)
        out[:, 0], out[:, 1] = x, y
        return out

    import geopandas as gpd  # noqa: PLC0415  (imported lazily: coords needs only numpy)

    if isinstance(geometry, gpd.GeoSeries):
        values = geometry.to_numpy()
        if from_system != to_system:
            values = shapely.transform(values, shift, include_z=None)
        result: Any = gpd.GeoSeries(
            values, index=geometry.index, crs=geometry.crs, name=geometry.name
        )
    elif from_system == to_system:
        result = geometry if isinstance(geometry, shapely.Geometry) else np.array(geometry)
    else:
        result = shapely.transform(geometry, shift, include_z=None)
    return cast("_G", result)
