"""Locations: coordinate columns or geometries to points in EPSG:4326, typos and ranges checked."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import numpy as np
import shapely

from coverage._errors import counted
from coverage.coords import out_of_china

if TYPE_CHECKING:
    import numpy.typing as npt

    from coverage.config import Config
    from coverage.io._columns import Context

logger = logging.getLogger(__name__)


# shapely geometry type ids
_POINT, _POLYGON, _MULTIPOINT, _MULTIPOLYGON = 0, 3, 4, 6


_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def locations(
    ctx: Context, config: Config, *, want_area: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Longitude and latitude in the input's system, and polygon areas (m², NaN if none)."""
    n = len(ctx.table.data)
    area = np.full(n, np.nan)
    if ctx.table.geometry is None:
        lon = ctx.numbers("lon", nulls_allowed=False)
        lat = ctx.numbers("lat", nulls_allowed=False)
        if lon is None or lat is None:
            return np.full(n, np.nan), np.full(n, np.nan), area
        _check_coordinates(ctx, lon, lat, from_geometry=False)
        return lon, lat, area
    lon, lat, area = _geometry_points(ctx, config, want_area=want_area)
    _check_coordinates(ctx, lon, lat, from_geometry=True)
    return lon, lat, area


def _geometry_points(
    ctx: Context, config: Config, *, want_area: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    import geopandas as gpd  # noqa: PLC0415

    label = ctx.table.label
    series = ctx.table.geometry
    n = len(series)
    nan = np.full(n, np.nan)
    if series.crs is None:
        shapefile = re.search(r"\.(shp|zip)\b", label.lower()) is not None
        ctx.problems.add(
            "crs",
            "has no CRS; set the one the coordinates are in, e.g. gdf.set_crs('EPSG:4326') "
            "for longitude/latitude (GCJ-02 and BD-09 data too, with coord_system='gcj02' "
            "or 'bd09')" + ("; a shapefile needs its .prj file" if shapefile else ""),
        )
        return nan, nan.copy(), nan.copy()
    if not series.crs.equals("EPSG:4326", ignore_axis_order=True):
        logger.info("%s: reprojected from %s to EPSG:4326", label, series.crs.to_string())
        try:
            series = series.to_crs("EPSG:4326")
        except Exception as exc:  # noqa: BLE001  (pyproj errors, named in the message)
            ctx.problems.add("crs", f"cannot reproject from {series.crs} to EPSG:4326: {exc}")
            return nan, nan.copy(), nan.copy()
    geoms = np.asarray(series.to_numpy(), dtype=object)
    type_id = shapely.get_type_id(geoms)
    missing, areal, invalid = _check_geometries(ctx, geoms, type_id)
    points = np.full(n, None, dtype=object)
    is_point = ~missing & (type_id == _POINT)
    points[is_point] = geoms[is_point]
    multipoint = ~missing & (type_id == _MULTIPOINT)
    reduce = (areal & ~invalid) | multipoint
    if reduce.any():
        points[reduce] = shapely.point_on_surface(geoms[reduce])
    if multipoint.any():
        k = int(multipoint.sum())
        ctx.warnings.append(
            f"{label}: {counted(k, 'MultiPoint geometry', 'MultiPoint geometries')} replaced by "
            f"one representative point{'' if k == 1 else ' each'} "
            f"({ctx.rows.describe(multipoint)})"
        )
    usable = areal & ~invalid
    area = nan.copy()
    if usable.any():
        logger.info(
            "%s: %d polygons replaced by a representative point inside each",
            label,
            int(usable.sum()),
        )
        if want_area:
            polygons = gpd.GeoSeries(geoms[usable], crs="EPSG:4326")
            metric = config.metric_crs or polygons.estimate_utm_crs()
            area[usable] = polygons.to_crs(metric).area.to_numpy()
    lon = np.where(points == None, np.nan, shapely.get_x(points))  # noqa: E711
    lat = np.where(points == None, np.nan, shapely.get_y(points))  # noqa: E711
    return lon.astype(np.float64), lat.astype(np.float64), area


def _check_geometries(
    ctx: Context, geoms: npt.NDArray[np.object_], type_id: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Report null, unsupported and invalid geometries; return the masks used afterwards."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        ctx.problems.add(
            "value",
            f"{counted(int(missing.sum()), 'null or empty geometry', 'null or empty geometries')} "
            f"({ctx.rows.describe(missing)})",
        )
    supported = np.isin(type_id, [_POINT, _POLYGON, _MULTIPOINT, _MULTIPOLYGON])
    unsupported = ~missing & ~supported
    if unsupported.any():
        names = sorted({_TYPE_NAMES.get(int(t), str(t)) for t in type_id[unsupported]})
        ctx.problems.add(
            "value",
            f"{counted(int(unsupported.sum()), 'geometry', 'geometries')} of type "
            f"{', '.join(names)} ({ctx.rows.describe(unsupported)}); expected points or polygons",
        )
    areal = ~missing & np.isin(type_id, [_POLYGON, _MULTIPOLYGON])
    invalid = areal & ~shapely.is_valid(geoms)
    if invalid.any():
        reason = shapely.is_valid_reason(geoms[np.flatnonzero(invalid)[0]])
        k = int(invalid.sum())
        ctx.problems.add(
            "value",
            f"{counted(k, 'invalid geometry', 'invalid geometries')} "
            f"({ctx.rows.describe(invalid)}){': ' if k == 1 else ', e.g. '}{reason}; "
            f"repair {'it' if k == 1 else 'them'} (shapely.make_valid, QGIS 'Fix geometries')",
        )
    return missing, areal, invalid


def _check_coordinates(
    ctx: Context,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    *,
    from_geometry: bool,
) -> None:
    finite = np.isfinite(lon) & np.isfinite(lat)
    with np.errstate(invalid="ignore"):
        swapped = finite & out_of_china(lon, lat) & ~out_of_china(lat, lon)
        outside = finite & ~swapped & ((np.abs(lon) > 180) | (np.abs(lat) > 90))  # noqa: PLR2004
    zero = finite & (lon == 0) & (lat == 0)
    where = "coordinates" if from_geometry else "columns 'lon'/'lat'"
    if not from_geometry and ("lon" in ctx.header_of and "lat" in ctx.header_of):
        where += f" (headers '{ctx.header_of['lon']}'/'{ctx.header_of['lat']}')"
    noun = "feature" if ctx.rows.noun == "feature" else "row"
    if swapped.any():
        first = int(np.flatnonzero(swapped)[0])
        ctx.problems.add(
            "value",
            f"{where}: looks like 经度/纬度 (lon/lat) are swapped in {int(swapped.sum())} of "
            f"{counted(len(lon), noun)} ({ctx.rows.describe(swapped)}), e.g. "
            f"lon={lon[first]:g}, lat={lat[first]:g}; China is at lon 73..135, lat 18..54",
        )
    infinite = np.isinf(lon) | np.isinf(lat)
    if infinite.any():
        rows = ctx.rows.describe(infinite)
        ctx.problems.add(
            "value", f"{where}: {counted(int(infinite.sum()), 'infinite coordinate')} ({rows})"
        )
    if zero.any():
        ctx.problems.add(
            "value",
            f"{where}: {counted(int(zero.sum()), 'point')} at lon=0, lat=0 "
            f"({ctx.rows.describe(zero)}); 0/0 is a placeholder for unknown coordinates: fill in "
            "the real ones",
        )
    if outside.any():
        valid = finite & ~swapped & ~outside & ~zero
        typo = _typos(lon, lat, outside, valid)
        if typo.any():
            ctx.problems.add("value", _typo_message(ctx, where, lon, lat, typo))
        _report_outside(ctx, where, lon, lat, outside & ~typo, from_geometry=from_geometry)


def _typos(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    outside: npt.NDArray[np.bool_],
    valid: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Rows with one coordinate out of range while the rest of the table is in degrees.

    A longitude typed 1120.17 for 120.17 leaves the latitude a valid degree; projected
    coordinates put both out of range. Typos cannot outnumber the valid rows.
    """
    with np.errstate(invalid="ignore"):
        lon_bad = np.abs(lon) > 180  # noqa: PLR2004
        lat_bad = np.abs(lat) > 90  # noqa: PLR2004
    one: npt.NDArray[np.bool_] = outside & (lon_bad != lat_bad)
    if int(one.sum()) > int(valid.sum()):
        return np.zeros(len(one), dtype=bool)
    return one


def _typo_message(
    ctx: Context,
    where: str,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    typo: npt.NDArray[np.bool_],
) -> str:
    with np.errstate(invalid="ignore"):
        lon_bad = typo & (np.abs(lon) > 180)  # noqa: PLR2004
    k = int(typo.sum())
    if not (typo & ~lon_bad).any():
        what = f"{counted(k, 'longitude')} outside -180..180"
    elif not lon_bad.any():
        what = f"{counted(k, 'latitude')} outside -90..90"
    else:
        what = f"{counted(k, 'coordinate')} outside lon -180..180 / lat -90..90"
    values = [
        f"lon={_as_typed(lon[i])}" if lon_bad[i] else f"lat={_as_typed(lat[i])}"
        for i in np.flatnonzero(typo)
    ]
    shown = ", ".join(values[:5]) + (f" and {len(values) - 5} more" if len(values) > 5 else "")  # noqa: PLR2004
    verdict = "looks like a typo; correct it" if k == 1 else "look like typos; correct them"
    return (
        f"{where}: {what} among otherwise valid degrees ({ctx.rows.describe(typo)}): "
        f"{shown} {verdict} in the file"
    )


def _as_typed(value: float) -> str:
    """A number as a person typed it: ``95`` not ``95.0``, every decimal kept."""
    return str(np.format_float_positional(value, trim="-"))


def _report_outside(
    ctx: Context,
    where: str,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    outside: npt.NDArray[np.bool_],
    *,
    from_geometry: bool,
) -> None:
    if not outside.any():
        return
    first = int(np.flatnonzero(outside)[0])
    k = int(outside.sum())
    hint = "; is the CRS right?" if from_geometry else ""
    if np.nanmax(np.abs(np.concatenate([lon[outside], lat[outside]]))) > 1000:  # noqa: PLR2004
        hint += (
            f"; {'this looks' if k == 1 else 'these look'} like projected coordinates in "
            "metres: give the file its CRS (or load it with geopandas and set_crs) so that it "
            "can be reprojected"
        )
    example = "" if k == 1 else "e.g. "
    ctx.problems.add(
        "value",
        f"{where}: {counted(k, 'point')} outside lon -180..180 / lat -90..90 "
        f"({ctx.rows.describe(outside)}), {example}lon={lon[first]:g}, lat={lat[first]:g}{hint}",
    )
