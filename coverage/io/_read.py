"""The two loaders: :func:`read_communities` and :func:`read_halls`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from coverage._errors import InputDataError
from coverage.config import DEFAULT_CONFIG, Config
from coverage.coords import COORD_SYSTEMS, CoordSystem
from coverage.io._columns import build
from coverage.io._formats import load
from coverage.io._headers import COMMUNITIES, HALLS, Source

if TYPE_CHECKING:
    from collections.abc import Mapping

    import geopandas as gpd

logger = logging.getLogger(__name__)


def read_communities(
    source: Source,
    *,
    coord_system: CoordSystem = "wgs84",
    layer: str | int | None = None,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    config: Config | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate a list of communities (社区 / 村).

    Parameters
    ----------
    source
        Path to a CSV (``.csv``, ``.txt``; UTF-8, UTF-8 with BOM or GB18030/GBK), Excel
        (``.xlsx``; ``.xls`` needs ``xlrd``), GeoJSON (``.geojson``, ``.json``), GeoPackage
        (``.gpkg``) or Shapefile (``.shp``, or a ``.zip`` holding one) file; or a DataFrame
        with longitude/latitude columns, or a GeoDataFrame (points or polygons; it must have
        a CRS). Polygons are replaced by a representative point inside them, and their area
        fills ``area_m2``.
    coord_system
        System of the input coordinates: ``"wgs84"`` (OSM, GPS), ``"gcj02"`` (Amap, Tencent)
        or ``"bd09"`` (Baidu). Files whose CRS is not EPSG:4326 are first reprojected to it;
        the shift to WGS-84 applies after.
    layer
        Layer of a GeoPackage (name or index). By default the first layer whose fields look
        like a community list.
    sheet
        Excel sheet (name or 0-based index). By default the first sheet with recognisable
        headers.
    columns
        Explicit header mapping, ``{"header in the file": "canonical name"}``, e.g.
        ``{"常住人口(2023)": "population"}``.
    config
        Supplies ``persons_per_household`` (to estimate missing households) and
        ``metric_crs`` (for polygon areas); defaults to
        :data:`~coverage.config.DEFAULT_CONFIG`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per input row (same order, fresh RangeIndex), points in EPSG:4326, with
        columns ``community_id`` (str; generated as ``C0001``... when absent), ``name``,
        ``district`` and ``street`` (``"(none)"`` when absent), ``kind`` (``"urban"`` or
        ``"rural"``), ``population`` (persons), ``households`` (estimated from population
        where missing), ``households_estimated`` (bool), ``area_m2`` (m², NaN when unknown),
        ``lon``/``lat`` (WGS-84 degrees), ``lon_<system>``/``lat_<system>`` (the input
        coordinates, when converted), then the input's other columns, ``source_row``
        (1-based spreadsheet row, feature number or position) and ``geometry``.
        ``attrs["source"]`` names the input (file name with its layer or sheet) for the
        messages of later checks.

    Raises
    ------
    InputDataError
        Listing every problem: unreadable or empty file, missing required columns
        (``population``; ``lon``/``lat`` without geometry), null, negative, non-numeric or
        impossibly large values, coordinates out of range, swapped or at 0/0, bad geometries,
        unknown ``kind`` values. The subclasses :class:`~coverage._errors.MissingColumnError`,
        :class:`~coverage._errors.DuplicateIdError` and :class:`~coverage._errors.CrsError`
        are raised when all problems are of that one kind.

    Warns
    -----
    CoverageWarning
        (a ``UserWarning``) When ``kind`` is missing for some or all rows (they are taken as
        urban), when MultiPoint features are replaced by one point, when a header is not
        recognised but looks like a misspelt one (``社区名陈`` for ``社区名称``; it is kept as
        an ordinary column), and when rows repeat the name and coordinates of an earlier row
        (they are kept, and counted again in every total; rows sharing an id are an error).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"社区名称": ["湖滨社区", "龙井村"], "类型": ["社区", "村"],
    ...                    "常住人口": [5200, 1830], "户数": [2100, None],
    ...                    "经度": [120.1618, 120.1243], "纬度": [30.2592, 30.2253]})
    >>> gdf = read_communities(df)
    >>> gdf[["community_id", "name", "kind", "population", "households"]]
      community_id  name   kind  population  households
    0        C0001  湖滨社区  urban        5200        2100
    1        C0002   龙井村  rural        1830         732
    >>> gdf.crs.to_string()
    'EPSG:4326'
    """
    config = config or DEFAULT_CONFIG
    _check_coord_system(coord_system)
    table = load(source, layer=layer, sheet=sheet, spec=COMMUNITIES, columns=columns)
    return build(table, COMMUNITIES, coord_system, columns, config)


def read_halls(
    source: Source,
    *,
    coord_system: CoordSystem = "wgs84",
    layer: str | int | None = None,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate a list of community service halls (社区服务中心 / 党群服务中心).

    Parameters
    ----------
    source
        A file path or frame, as for :func:`read_communities`.
    coord_system
        System of the input coordinates: ``"wgs84"``, ``"gcj02"`` (Amap, Tencent) or
        ``"bd09"`` (Baidu).
    layer
        Layer of a GeoPackage (name or index).
    sheet
        Excel sheet (name or 0-based index).
    columns
        Explicit header mapping, ``{"header in the file": "canonical name"}``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per input row, points in EPSG:4326, with columns ``hall_id`` (str;
        ``H001``... when absent), ``name``, ``kind`` (free text, e.g. 邻里中心; None when
        absent), ``floor_area_m2`` (m², NaN when unknown), ``illustrative`` (bool; True
        marks a location that is illustrative, not surveyed), ``lon``/``lat`` (WGS-84
        degrees), ``lon_<system>``/``lat_<system>`` when converted, the input's other
        columns, ``source_row`` and ``geometry``.

    Raises
    ------
    InputDataError
        Listing every problem, as for :func:`read_communities`.

    Warns
    -----
    CoverageWarning
        (a ``UserWarning``) When MultiPoint features are replaced by one point, when a header
        is not recognised but looks like a misspelt one (kept as an ordinary column), and when
        rows repeat the name and coordinates of an earlier row.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"站点名称": ["湖滨街道社区服务中心"], "建筑面积(㎡)": ["1,200"],
    ...                    "lng": [120.1664], "lat": [30.2565]})
    >>> halls = read_halls(df, coord_system="gcj02")
    >>> halls[["hall_id", "floor_area_m2", "illustrative"]]
      hall_id  floor_area_m2  illustrative
    0    H001         1200.0         False
    >>> round(float(halls.loc[0, "lon_gcj02"] - halls.loc[0, "lon"]), 3)  # Amap is ~450 m east
    0.005
    """
    _check_coord_system(coord_system)
    table = load(source, layer=layer, sheet=sheet, spec=HALLS, columns=columns)
    return build(table, HALLS, coord_system, columns, DEFAULT_CONFIG)


def _check_coord_system(coord_system: str) -> None:
    if coord_system not in COORD_SYSTEMS:
        known = ", ".join(map(repr, COORD_SYSTEMS))
        msg = f"coord_system must be one of {known}, got {coord_system!r}"
        raise InputDataError(msg)
