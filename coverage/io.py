"""Validating loaders: communities and halls from files or frames, into GeoDataFrames.

Planners bring lists from many places: CSV or Excel files with Chinese or English headers
(often GBK-encoded, often with a title row above the header and merged header cells),
GeoJSON, GeoPackage or Shapefile layers, or frames already in a notebook. The two loaders,
:func:`read_communities` and :func:`read_halls`, accept all of them and return one shape:
a GeoDataFrame of points in EPSG:4326 (WGS-84) with canonical column names, the user's other
columns kept, and a ``source_row`` column pointing back at the spreadsheet row.

Headers are matched case-insensitively against aliases (``人口``, ``常住人口``, ``pop`` ...),
ignoring spaces, brackets and units such as ``(㎡)``; ``columns=`` maps any other header
explicitly. Coordinates from Amap/Tencent (GCJ-02) or Baidu (BD-09) are converted with
``coord_system=``. Every problem in the input is gathered and raised as one
:class:`~coverage._errors.InputDataError` naming the file, layer or sheet, column and rows.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import logging
import re
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from coverage._errors import CoverageWarning, InputDataError, counted, list_ids
from coverage._validate import (
    ColumnMatch,
    Problems,
    Rows,
    alias_lookup,
    clean_text,
    closest_header,
    did_you_mean,
    is_null,
    match_columns,
    normalise_header,
    parse_bools,
    parse_numbers,
    recognise,
    warn,
)
from coverage.config import DEFAULT_CONFIG, Config
from coverage.coords import COORD_SYSTEMS, CoordSystem, out_of_china, to_wgs84

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import geopandas as gpd
    import numpy.typing as npt

__all__ = [
    "COMMUNITY_ALIASES",
    "COMMUNITY_COLUMNS",
    "HALL_ALIASES",
    "HALL_COLUMNS",
    "read_communities",
    "read_halls",
]

logger = logging.getLogger(__name__)

Source = str | PathLike[str] | pd.DataFrame
"""A path to a CSV, Excel, GeoJSON, GeoPackage or Shapefile (``.shp`` or ``.zip``) file, or a
DataFrame / GeoDataFrame in memory."""

_LON_ALIASES = ("lon", "经度", "lng", "long", "longitude", "x", "东经", "经度(e)")
_LAT_ALIASES = ("lat", "纬度", "latitude", "y", "北纬", "纬度(n)")

COMMUNITY_ALIASES: dict[str, tuple[str, ...]] = {
    "community_id": ("id", "社区编码", "编码", "编号", "code", "社区代码", "社区编号", "村社编码"),
    "name": (
        "社区名称",
        "名称",
        "社区",
        "村名",
        "村(社区)",
        "社区(村)",
        "村社区",
        "村社名称",
        "村(社区)名称",
        "community",
        "community_name",
    ),
    "district": (
        "所属区县",
        "区县",
        "区",
        "县",
        "county",
        "所属区",
        "区(县)",
        "区(县、市)",
        "县(市、区)",
        "区县(市)",
    ),
    "street": (
        "街道",
        "乡镇",
        "街道(乡镇)",
        "乡镇(街道)",
        "街镇",
        "镇街",
        "subdistrict",
        "town",
        "所属街道",
        "所属乡镇",
        "所属街道(乡镇)",
    ),
    "kind": ("类型", "社区类型", "type", "城乡类型", "城乡属性"),
    "population": (
        "人口",
        "常住人口",
        "户籍人口",
        "pop",
        "residents",
        "人口数",
        "总人口",
        "居民人数",
    ),
    "households": ("户数", "住户数", "hh", "总户数", "居民户数"),
    "lon": _LON_ALIASES,
    "lat": _LAT_ALIASES,
    "area_m2": ("面积", "占地面积", "area", "辖区面积", "用地面积"),
}
"""Accepted headers of each canonical community column (besides the canonical name itself),
the preferred spelling first. Matching ignores case, spaces, brackets and units."""

HALL_ALIASES: dict[str, tuple[str, ...]] = {
    "hall_id": ("id", "编码", "编号", "站点编号", "code", "站点编码", "中心编号", "设施编号"),
    "name": (
        "名称",
        "服务中心名称",
        "站点名称",
        "name",
        "中心名称",
        "站点",
        "服务中心",
        "设施名称",
    ),
    "floor_area_m2": (
        "面积",
        "建筑面积",
        "用房面积",
        "使用面积",
        "floor_area",
        "area",
        "服务用房面积",
        "配套用房面积",
    ),
    "kind": ("类型", "type", "站点类型", "设施类型"),
    "illustrative": ("示意", "是否示意", "示意点位"),
    "lon": _LON_ALIASES,
    "lat": _LAT_ALIASES,
}
"""Accepted headers of each canonical hall column (besides the canonical name itself)."""

COMMUNITY_COLUMNS: tuple[str, ...] = (
    "community_id",
    "name",
    "district",
    "street",
    "kind",
    "population",
    "households",
    "households_estimated",
    "area_m2",
    "lon",
    "lat",
)
"""Canonical columns of :func:`read_communities`, in output order (then ``lon_<system>`` /
``lat_<system>`` when converted, the user's columns, ``source_row`` and ``geometry``)."""

HALL_COLUMNS: tuple[str, ...] = (
    "hall_id",
    "name",
    "kind",
    "floor_area_m2",
    "illustrative",
    "lon",
    "lat",
)
"""Canonical columns of :func:`read_halls`, in output order."""

_URBAN = frozenset(
    normalise_header(v)
    for v in (
        "urban",
        "城市",
        "城镇",
        "社区",
        "城区",
        "居委会",
        "城市社区",
        "居民委员会",
        "撤村建居",
    )
)
_RURAL = frozenset(
    normalise_header(v)
    for v in ("rural", "农村", "乡村", "村", "村委会", "农村社区", "行政村", "村民委员会")
)

_CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
_EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
_VECTOR_SUFFIXES = frozenset({".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb", ".gml", ".kml"})
_HEADER_SCAN_ROWS = 10
# Larger values cannot be true of one community or hall: no community houses 10 million people,
# and Hangzhou's largest halls have a few thousand m². Such values are typos or wrong units.
_MAX_VALUE = {
    "population": 1e7,
    "households": 5e6,
    "area_m2": 1e10,
    "floor_area_m2": 1e6,
}
_UNNAMED = re.compile(r"^unnamed(:\s*\d+)?$", re.IGNORECASE)

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


@dataclass(frozen=True)
class _Spec:
    what: str
    id_col: str
    id_prefix: str
    id_width: int
    aliases: Mapping[str, Sequence[str]]
    required: tuple[str, ...]


_COMMUNITIES = _Spec("communities", "community_id", "C", 4, COMMUNITY_ALIASES, ("population",))
_HALLS = _Spec("halls", "hall_id", "H", 3, HALL_ALIASES, ())


@dataclass
class _Table:
    """An input read as it is, before any column is interpreted."""

    label: str
    data: pd.DataFrame  # attribute columns, string headers, RangeIndex
    source_row: npt.NDArray[np.int64]
    row_labels: list[object]
    row_noun: str
    geometry: Any = None  # geopandas.GeoSeries aligned with data, or None
    notes: list[str] = field(default_factory=list)


# --- public API ----------------------------------------------------------------------------------


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
    table = _load(source, layer=layer, sheet=sheet, spec=_COMMUNITIES, columns=columns)
    return _build(table, _COMMUNITIES, coord_system, columns, config)


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
    table = _load(source, layer=layer, sheet=sheet, spec=_HALLS, columns=columns)
    return _build(table, _HALLS, coord_system, columns, DEFAULT_CONFIG)


def _check_coord_system(coord_system: str) -> None:
    if coord_system not in COORD_SYSTEMS:
        known = ", ".join(map(repr, COORD_SYSTEMS))
        msg = f"coord_system must be one of {known}, got {coord_system!r}"
        raise InputDataError(msg)


# --- reading -------------------------------------------------------------------------------------


def _load(
    source: Source,
    *,
    layer: str | int | None,
    sheet: str | int | None,
    spec: _Spec,
    columns: Mapping[str, str] | None,
) -> _Table:
    """Read any supported source into a :class:`_Table`, turning library errors into ours."""
    lookup = alias_lookup(spec.aliases)
    explicit = {normalise_header(k) for k in (columns or {})} | {
        normalise_header(v) for v in (columns or {}).values()
    }
    if isinstance(source, pd.DataFrame):
        return _from_frame(source, spec)
    candidate: object = source  # checked at run time: notebooks pass anything
    if not isinstance(candidate, str | PathLike):
        msg = (
            f"{spec.what}: source must be a file path, a DataFrame or a GeoDataFrame, "
            f"got {type(candidate).__name__}"
        )
        raise InputDataError(msg)
    path = Path(candidate)
    if not path.exists():
        msg = f"{path}: file not found"
        raise InputDataError(msg)
    suffix = path.suffix.lower()
    label = path.name
    # Libraries warn about what they skip (GDAL: "Invalid coord dimension"; openpyxl: "Data
    # Validation extension is not supported"). Our own checks report what matters, naming rows;
    # their warnings go to the log instead of reaching the planner unexplained.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if suffix in _CSV_SUFFIXES:
                table = _read_csv(path, lookup, explicit)
            elif suffix in _EXCEL_SUFFIXES:
                table = _read_excel(path, sheet, lookup, explicit)
            else:
                table = _read_vector(path, layer, lookup, explicit)
        except InputDataError:
            raise
        except Exception as exc:  # noqa: BLE001  (boundary: no raw library traceback escapes)
            kinds = "CSV, Excel, GeoJSON, GeoPackage or Shapefile"
            hint = (
                ""
                if suffix in _CSV_SUFFIXES | _EXCEL_SUFFIXES | _VECTOR_SUFFIXES
                else (f" (supported: {kinds})")
            )
            what = _sniff_excel(path) if suffix in _EXCEL_SUFFIXES else None
            detail = what or f"{type(exc).__name__}: {exc}"
            msg = f"{label}: cannot read the file{hint}: {detail}"
            raise InputDataError(msg) from None
        finally:
            for w in caught:
                logger.info("%s: %s: %s", label, w.category.__name__, w.message)
    return table


def _decode_head(head: bytes, encoding: str) -> str | None:
    """Decode the first bytes of a file, allowing a character cut at the end."""
    for cut in range(4):
        try:
            return head[: len(head) - cut].decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _sniff_excel(path: Path) -> str | None:
    """Say what a file with an Excel name that is not a workbook really is, if it is clear."""
    with path.open("rb") as f:
        head = f.read(4096)
    if not head:
        return "the file is empty (0 bytes)"
    if head.startswith(b"\xd0\xcf\x11\xe0") and path.suffix.lower() != ".xls":
        return "this is an old-style Excel 97-2003 workbook; rename it to .xls or save it as .xlsx"
    if head.startswith(b"PK"):
        return None  # a zip file: a damaged workbook, the library's message says more
    for encoding in ("utf-8-sig", "gb18030", "utf-16"):
        text = _decode_head(head, encoding)
        if text and all(c.isprintable() or c in "\r\n\t" for c in text):
            return (
                "this is a text file, not an Excel workbook (a CSV saved with an Excel name?); "
                "rename it to .csv"
            )
    return "this is not an Excel workbook (.xlsx files are zip archives)"


def _from_frame(frame: pd.DataFrame, spec: _Spec) -> _Table:
    import geopandas as gpd  # noqa: PLC0415

    label = f"<{type(frame).__name__} of {spec.what}>"
    if len(frame) == 0:
        msg = f"{label}: the frame has no rows"
        raise InputDataError(msg)
    geometry = None
    data = frame
    if isinstance(frame, gpd.GeoDataFrame):
        try:
            geometry = frame.geometry
        except AttributeError:  # a GeoDataFrame without an active geometry column
            geometry = None
        if geometry is not None:
            data = pd.DataFrame(frame.drop(columns=geometry.name))
            geometry = geometry.reset_index(drop=True)
    data = data.reset_index(drop=True)
    data.columns = pd.Index(_dedupe([_header_text(c, i) for i, c in enumerate(data.columns)]))
    return _Table(
        label=label,
        data=data,
        source_row=np.arange(1, len(data) + 1, dtype=np.int64),
        row_labels=list(frame.index),
        row_noun="index",
        geometry=geometry,
    )


def _decode(raw: bytes, label: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != "utf-8-sig":
            logger.info("%s: read as %s (GBK/GB18030)", label, encoding)
        return text
    msg = f"{label}: cannot decode the file as UTF-8 or GB18030/GBK; save it as 'CSV UTF-8'"
    raise InputDataError(msg)


def _read_csv(path: Path, lookup: Mapping[str, str], explicit: set[str]) -> _Table:
    label = path.name
    raw = path.read_bytes()
    text = _decode(raw, label)
    if not text.strip():
        msg = f"{label}: the file is empty"
        raise InputDataError(msg)
    lines = [line for line in text.splitlines()[: 2 * _HEADER_SCAN_ROWS] if line.strip()]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    delimiter = max(counts, key=lambda d: (counts[d], d == ","))
    if counts[delimiter] == 0:
        delimiter = ","
    rows: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return _table_from_rows(rows, label, lookup, explicit)


def _read_excel(
    path: Path, sheet: str | int | None, lookup: Mapping[str, str], explicit: set[str]
) -> _Table:
    if path.suffix.lower() == ".xls":
        return _read_xls(path, sheet, lookup, explicit)
    import openpyxl  # noqa: PLC0415

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        names = list(workbook.sheetnames)
        chosen = _choose_sheet(path.name, names, sheet)
        if chosen is None:
            chosen = names[0]
            for name in names:
                head = list(
                    workbook[name].iter_rows(min_row=1, max_row=_HEADER_SCAN_ROWS, values_only=True)
                )
                if any(_count_recognised(row, lookup, explicit) >= 2 for row in head):  # noqa: PLR2004
                    chosen = name
                    break
            if len(names) > 1:
                logger.info("%s: reading sheet %r (of %s)", path.name, chosen, ", ".join(names))
        rows = [list(r) for r in workbook[chosen].iter_rows(min_row=1, values_only=True)]
    finally:
        workbook.close()
    label = f"{path.name}[sheet={chosen}]" if len(names) > 1 or sheet is not None else path.name
    return _table_from_rows(rows, label, lookup, explicit)


def _read_xls(
    path: Path, sheet: str | int | None, lookup: Mapping[str, str], explicit: set[str]
) -> _Table:
    if importlib.util.find_spec("xlrd") is None:
        msg = (
            f"{path.name}: reading .xls files needs the 'xlrd' package "
            "(pip install xlrd), or save the workbook as .xlsx"
        )
        raise InputDataError(msg) from None
    book = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="xlrd")
    names = [str(n) for n in book]
    chosen = _choose_sheet(path.name, names, sheet) or names[0]
    frame = book[chosen]
    rows = [[None if is_null(v) else v for v in r] for r in frame.itertuples(index=False)]
    label = f"{path.name}[sheet={chosen}]" if len(names) > 1 or sheet is not None else path.name
    return _table_from_rows(rows, label, lookup, explicit)


def _choose_sheet(file_label: str, names: list[str], sheet: str | int | None) -> str | None:
    if sheet is None:
        return None
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 0 <= sheet < len(names):
            return names[sheet]
        msg = f"{file_label}: there is no sheet number {sheet} (sheets: {list_ids(names)})"
        raise InputDataError(msg)
    if sheet in names:
        return str(sheet)
    msg = f"{file_label}: there is no sheet {sheet!r} (sheets: {list_ids(names)})"
    raise InputDataError(msg)


def _vector_target(path: Path, layer: str | int | None) -> tuple[str, str | int | None]:
    """Return the GDAL path to open, and the layer still to choose inside it."""
    if path.suffix.lower() != ".zip":
        return str(path), layer
    with zipfile.ZipFile(path) as archive:
        members = [
            m
            for m in archive.namelist()
            if Path(m).suffix.lower() in {".shp", ".gpkg", ".geojson", ".json"}
            and not Path(m).name.startswith(("._", "."))
        ]
    if not members:
        msg = f"{path.name}: the zip file holds no .shp, .gpkg or .geojson file"
        raise InputDataError(msg)
    member = members[0]
    if isinstance(layer, str):
        by_stem = [m for m in members if Path(m).stem == layer]
        if by_stem:
            member = by_stem[0]
    if len(members) > 1:
        logger.info("%s: reading %s (of %s)", path.name, member, ", ".join(members))
    inner_layer = layer if Path(member).suffix.lower() == ".gpkg" else None
    return f"/vsizip/{path.resolve()}/{member}", inner_layer


def _choose_layer(
    target: str,
    file_label: str,
    layer: str | int | None,
    lookup: Mapping[str, str],
    explicit: set[str],
) -> tuple[str, int]:
    """Return the layer to read and how many layers the file has."""
    import pyogrio  # noqa: PLC0415

    layers = [str(name) for name in pyogrio.list_layers(target)[:, 0]]
    if not layers:
        msg = f"{file_label}: the file holds no layer"
        raise InputDataError(msg)
    if layer is None:
        chosen = layers[0]
        if len(layers) > 1:
            for name in layers:
                fields = pyogrio.read_info(target, layer=name)["fields"]
                if _count_recognised(list(fields), lookup, explicit) >= 2:  # noqa: PLR2004
                    chosen = name
                    break
            logger.info("%s: reading layer %r (of %s)", file_label, chosen, ", ".join(layers))
        return chosen, len(layers)
    if isinstance(layer, int) and not isinstance(layer, bool) and 0 <= layer < len(layers):
        return layers[layer], len(layers)
    if layer in layers:
        return str(layer), len(layers)
    what = f"number {layer}" if isinstance(layer, int) else repr(layer)
    msg = f"{file_label}: there is no layer {what} (layers: {list_ids(layers)})"
    raise InputDataError(msg)


_HIGH_RUN = re.compile(r"[\u0080-\u00ff]+")


def _has_cpg(path: Path, target: str) -> bool:
    """Tell whether a shapefile comes with a .cpg file naming its text encoding."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = {n.lower() for n in archive.namelist()}
        stem = target.rsplit("/", 1)[-1][:-4].lower()
        return any(n.endswith(f"{stem}.cpg") for n in names)
    return any(path.with_suffix(s).exists() for s in (".cpg", ".CPG"))


def _is_gbk_shapefile_without_cpg(path: Path, target: str, frame: pd.DataFrame) -> bool:
    """Tell whether a shapefile's text is GBK read as Latin-1 (Chinese DBF without .cpg).

    GDAL falls back to ISO-8859-1 when a shapefile has no .cpg file, which turns GBK field
    names and values into mojibake such as ``'Ãû³Æ'`` for 名称. The text is taken as GBK when
    the high bytes come in pairs and every such string decodes as GB18030 to Chinese.
    """
    if not target.lower().endswith(".shp") or _has_cpg(path, target):
        return False
    texts = [str(c) for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            texts.extend(v for v in frame[column].head(200) if isinstance(v, str))
    suspects = [t for t in texts if _HIGH_RUN.search(t)]
    runs = [run for t in suspects for run in _HIGH_RUN.findall(t)]
    # Latin-1 accents come alone; GBK bytes come in pairs.
    if not runs or sum(len(run) % 2 == 0 for run in runs) < 0.9 * len(runs):
        return False
    try:
        decoded = [t.encode("latin-1").decode("gb18030") for t in suspects]
    except UnicodeError:
        return False
    return any("\u4e00" <= ch <= "\u9fff" for t in decoded for ch in t)


def _read_vector(
    path: Path, layer: str | int | None, lookup: Mapping[str, str], explicit: set[str]
) -> _Table:
    import geopandas as gpd  # noqa: PLC0415

    target, inner_layer = _vector_target(path, layer)
    chosen, n_layers = _choose_layer(target, path.name, inner_layer, lookup, explicit)
    label = f"{path.name}[layer={chosen}]" if n_layers > 1 or layer is not None else path.name
    frame = gpd.read_file(target, layer=chosen, engine="pyogrio")
    if _is_gbk_shapefile_without_cpg(path, target, frame):
        logger.info("%s: no .cpg file and the text reads as GBK; decoded as GB18030", label)
        frame = gpd.read_file(target, layer=chosen, engine="pyogrio", encoding="gb18030")
    if len(frame) == 0:
        msg = f"{label}: the layer has no features"
        raise InputDataError(msg)
    geometry = None
    data = pd.DataFrame(frame)
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        geometry = frame.geometry.reset_index(drop=True)
        data = pd.DataFrame(frame.drop(columns=geometry.name))
    data = data.reset_index(drop=True)
    data.columns = pd.Index(_dedupe([_header_text(c, i) for i, c in enumerate(data.columns)]))
    return _Table(
        label=label,
        data=data,
        source_row=np.arange(1, len(data) + 1, dtype=np.int64),
        row_labels=list(range(1, len(data) + 1)),
        row_noun="feature",
        geometry=geometry,
    )


# --- spreadsheets: header row, merged cells ----------------------------------------------------


def _is_blank(value: object) -> bool:
    return is_null(value) or (isinstance(value, str) and bool(_UNNAMED.match(value.strip())))


def _count_recognised(row: Sequence[object], lookup: Mapping[str, str], explicit: set[str]) -> int:
    return sum(
        1
        for cell in row
        if not _is_blank(cell)
        and (recognise(cell, lookup) is not None or normalise_header(cell) in explicit)
    )


def _header_text(cell: object, position: int) -> str:
    if _is_blank(cell):
        return f"unnamed_{position + 1}"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _dedupe(names: list[str]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _table_from_rows(
    rows: list[list[object]], label: str, lookup: Mapping[str, str], explicit: set[str]
) -> _Table:
    """Find the header row, merge a two-row header, and keep the spreadsheet row numbers."""
    filled = [i for i, row in enumerate(rows) if any(not _is_blank(c) for c in row)]
    if not filled:
        msg = f"{label}: the file is empty"
        raise InputDataError(msg)
    width = max(len(r) for r in rows)
    rows = [list(r) + [None] * (width - len(r)) for r in rows]
    scan = filled[:_HEADER_SCAN_ROWS]
    header_at = next(
        (i for i in scan if _count_recognised(rows[i], lookup, explicit) >= 2),  # noqa: PLR2004
        next((i for i in scan if _count_recognised(rows[i], lookup, explicit) >= 1), filled[0]),
    )
    header, data_from = _merged_header(rows, header_at, filled, lookup, explicit)
    if header_at > 0:
        logger.info("%s: header found on row %d", label, header_at + 1)
    data_rows = [i for i in filled if i >= data_from]
    if not data_rows:
        msg = f"{label}: there is a header (row {header_at + 1}) but no data rows"
        raise InputDataError(msg)
    names = _dedupe([_header_text(c, j) for j, c in enumerate(header)])
    data = pd.DataFrame([rows[i] for i in data_rows], columns=names, dtype=object)
    # Columns with neither a header nor data are artefacts of merged cells or formatting.
    empty = [
        name
        for j, name in enumerate(names)
        if _is_blank(header[j]) and all(_is_blank(v) for v in data[name])
    ]
    data = data.drop(columns=empty)
    return _Table(
        label=label,
        data=data,
        source_row=np.array([i + 1 for i in data_rows], dtype=np.int64),
        row_labels=[i + 1 for i in data_rows],
        row_noun="row",
    )


def _merged_header(
    rows: list[list[object]],
    header_at: int,
    filled: list[int],
    lookup: Mapping[str, str],
    explicit: set[str],
) -> tuple[list[object], int]:
    """Return the header cells, completed from merged cells, and the first data row index."""
    header = list(rows[header_at])
    data_from = header_at + 1
    # A two-row header: a group title merged over several columns (位置 over 经度/纬度), with
    # the real names in the row below.
    below = next((i for i in filled if i > header_at), None)
    if below is not None and _continues_header(header, rows[below], lookup, explicit):
        for j, cell in enumerate(rows[below]):
            known = recognise(cell, lookup) is not None or normalise_header(cell) in explicit
            if not _is_blank(cell) and (known or _is_blank(header[j])):
                header[j] = cell
        data_from = below + 1
    # Cells of a header merged vertically with the rows above are empty in openpyxl: take
    # the value above when it is a recognised name.
    for j, cell in enumerate(header):
        if not _is_blank(cell):
            continue
        above = [rows[i][j] for i in range(header_at - 1, -1, -1) if not _is_blank(rows[i][j])]
        if above and recognise(above[0], lookup) is not None:
            header[j] = above[0]
    return header, data_from


def _continues_header(
    header: Sequence[object], below: Sequence[object], lookup: Mapping[str, str], explicit: set[str]
) -> bool:
    gained = 0
    for top, cell in zip(header, below, strict=True):
        if _is_blank(cell):
            continue
        known = recognise(cell, lookup) is not None or normalise_header(cell) in explicit
        top_known = not _is_blank(top) and (
            recognise(top, lookup) is not None or normalise_header(top) in explicit
        )
        if known and not top_known:
            gained += 1
        elif not known and top_known:
            return False  # a data value under a known header: this is a data row
    return gained > 0


# --- interpreting columns ------------------------------------------------------------------------


def _unit_factor(header: str, canonical: str) -> float:
    """Scale factor given by a unit in the header: 面积(公顷) -> 1e4 m², 人口(万人) -> 1e4."""
    norm = normalise_header(header)
    if canonical in {"area_m2", "floor_area_m2"}:
        if any(u in norm for u in ("km2", "平方公里", "平方千米")):
            return 1e6
        if any(u in norm for u in ("公顷", "hm2", "(ha)")):
            return 1e4
        if "亩" in norm:
            return 10000.0 / 15.0
    if canonical in {"population", "households"} and "万" in norm:
        return 1e4
    return 1.0


@dataclass
class _Context:
    table: _Table
    spec: _Spec
    problems: Problems
    header_of: dict[str, str]
    rows: Rows
    warnings: list[str] = field(default_factory=list)
    near_misses: dict[str, tuple[str, str]] = field(default_factory=dict)

    def column(self, canonical: str) -> str:
        header = self.header_of.get(canonical, canonical)
        return f"column '{canonical}'" + (f" (header '{header}')" if header != canonical else "")

    def values(self, canonical: str) -> list[object]:
        return list(self.table.data[self.header_of[canonical]])

    def numbers(self, canonical: str, *, nulls_allowed: bool) -> npt.NDArray[np.float64] | None:
        """Parse a numeric column; report non-numeric, negative and (optionally) null values."""
        if canonical not in self.header_of:
            return None
        raw = self.values(canonical)
        numbers, null, bad = parse_numbers(raw)
        col = self.column(canonical)
        if bad.any():
            shown = list_ids(list(dict.fromkeys(str(raw[i]) for i in np.flatnonzero(bad))), 5)
            self.problems.add(
                "value",
                f"{col} has {counted(int(bad.sum()), 'non-numeric value')} "
                f"({self.rows.describe(bad)}): {shown}",
            )
        if null.any() and not nulls_allowed:
            self.problems.add(
                "value",
                f"{col} has {counted(int(null.sum()), 'null value')} ({self.rows.describe(null)})",
            )
        negative = np.nan_to_num(numbers, nan=0.0) < 0
        if negative.any():
            self.problems.add(
                "value",
                f"{col} has {counted(int(negative.sum()), 'negative value')} "
                f"({self.rows.describe(negative)})",
            )
        factor = _unit_factor(self.header_of[canonical], canonical)
        if factor != 1.0:
            logger.info("%s: %s scaled by %g (unit in the header)", self.table.label, col, factor)
        with np.errstate(over="ignore"):
            numbers = numbers * factor
        limit = _MAX_VALUE.get(canonical, np.inf)
        huge = ~bad & (np.nan_to_num(np.abs(numbers), nan=0.0) > limit)
        if huge.any():
            self.problems.add(
                "value",
                f"{col} has {counted(int(huge.sum()), 'value')} too large to be true "
                f"(> {limit:,.0f}) ({self.rows.describe(huge)})",
            )
            numbers = np.where(huge, np.nan, numbers)
        return numbers

    def text(self, canonical: str) -> list[str | None] | None:
        if canonical not in self.header_of:
            return None
        return [clean_text(v) for v in self.values(canonical)]


_ADDRESS = re.compile(r"地址|住址|address|addr")
_SUGGEST_CUTOFF = 0.75


def _missing_message(
    canonical: str, spec: _Spec, headers: Sequence[str], used: Sequence[str]
) -> str:
    accepted = list(dict.fromkeys([canonical, *spec.aliases[canonical]]))
    msg = (
        f"required column '{canonical}' is missing; accepted headers: "
        f"{', '.join(accepted)} (any case, spaces and units ignored); "
        f"headers found: {list_ids(headers, 30)}"
    )
    suggestion = did_you_mean(accepted, headers, used)
    if suggestion is not None:
        msg += f"; did you mean {suggestion!r}? (pass columns={{{suggestion!r}: {canonical!r}}})"
    address = next((h for h in headers if _ADDRESS.search(normalise_header(h))), None)
    if canonical == "lon" and address is not None and suggestion is None:
        msg += (
            f"; the table has an address column ({address!r}) but no coordinates: geocode the "
            "addresses first (Amap gives GCJ-02: pass coord_system='gcj02'; Baidu BD-09: 'bd09')"
        )
    return msg


def _near_misses(
    spec: _Spec, headers: Sequence[str], match: ColumnMatch, skip: set[str]
) -> dict[str, tuple[str, str]]:
    """Unrecognised headers that look like a spelling of a column the table lacks.

    Returns canonical name -> (header in the file, accepted spelling it resembles).
    """
    used = set(match.header_of.values()) | set(match.ignored)
    found: dict[str, tuple[str, str]] = {}
    for canonical, names in spec.aliases.items():
        if canonical in match.header_of or canonical in skip:
            continue
        accepted = list(dict.fromkeys([canonical, *names]))
        hit = closest_header(accepted, headers, used, cutoff=_SUGGEST_CUTOFF)
        if hit is not None:
            found[canonical] = hit
            used.add(hit[0])
    return found


def _near_miss_warning(label: str, misses: Mapping[str, tuple[str, str]]) -> str:
    looks = ", ".join(
        f"{header!r} looks like {spelling!r} (column '{canonical}')"
        for canonical, (header, spelling) in misses.items()
    )
    mapping = ", ".join(f"{header!r}: {canonical!r}" for canonical, (header, _) in misses.items())
    if len(misses) == 1:
        kept, hold, fix = "header kept as an ordinary column", "it holds", "header"
    else:
        kept, hold, fix = "headers kept as ordinary columns", "they hold", "headers"
    return (
        f"{label}: unrecognised {kept}: {looks}; if that is what {hold}, fix the {fix} or "
        f"pass columns={{{mapping}}}"
    )


def _build(
    table: _Table,
    spec: _Spec,
    coord_system: CoordSystem,
    columns: Mapping[str, str] | None,
    config: Config,
) -> gpd.GeoDataFrame:
    problems = Problems(table.label)
    headers = [str(c) for c in table.data.columns]
    match = match_columns(headers, spec.aliases, columns, problems)
    header_of = dict(match.header_of)
    has_geometry = table.geometry is not None
    if has_geometry:
        # The geometry gives the location; longitude/latitude attributes stay as they are.
        header_of.pop("lon", None)
        header_of.pop("lat", None)
    for header, canonical in match.ignored.items():
        logger.info(
            "%s: header %r also reads as '%s'; using %r, keeping %r as it is",
            table.label,
            header,
            canonical,
            header_of.get(canonical),
            header,
        )
    n = len(table.data)
    rows = Rows(table.row_labels, table.row_noun, None, spec.id_col)
    ctx = _Context(table, spec, problems, header_of, rows)

    required = list(spec.required) + ([] if has_geometry else ["lon", "lat"])
    for canonical in (c for c in required if c not in header_of):
        used = list(header_of.values())
        problems.add("missing", _missing_message(canonical, spec, headers, used))
    skip = set(required) | ({"lon", "lat"} if has_geometry else set())
    ctx.near_misses = _near_misses(spec, headers, match, skip)

    ids = _ids(ctx, n)
    out: dict[str, Any] = {spec.id_col: ids}
    if spec is _COMMUNITIES:
        out.update(_community_columns(ctx, ids, config))
    else:
        out.update(_hall_columns(ctx, ids))

    lon_in, lat_in, area = _locations(ctx, config, want_area=spec is _COMMUNITIES)
    problems.raise_if_any()
    _warn_all(ctx, ids, out["name"] if "name" in header_of else None, lon_in, lat_in)

    if spec is _COMMUNITIES:
        given = out["area_m2"]
        filled = np.isnan(given) & ~np.isnan(area)
        if filled.any():
            out["area_m2"] = np.where(filled, area, given)
    lon, lat = to_wgs84(lon_in, lat_in, coord_system)
    out["lon"] = np.asarray(lon, dtype=np.float64)
    out["lat"] = np.asarray(lat, dtype=np.float64)
    if coord_system != "wgs84":
        out[f"lon_{coord_system}"] = lon_in
        out[f"lat_{coord_system}"] = lat_in
        logger.info("%s: converted %d points from %s to WGS-84", table.label, n, coord_system)

    return _assemble(out, table, set(header_of.values()))


def _warn_all(
    ctx: _Context,
    ids: Sequence[str],
    names: Sequence[str] | None,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
) -> None:
    """Issue the warnings gathered while reading, and the one about repeated rows."""
    if ctx.near_misses:
        ctx.warnings.insert(0, _near_miss_warning(ctx.table.label, ctx.near_misses))
    repeated = _repeated_rows(ctx, ids, names, lon, lat)
    if repeated is not None:
        ctx.warnings.append(repeated)
    for message in ctx.warnings:
        warn(message, CoverageWarning)


def _assemble(out: dict[str, Any], table: _Table, used: set[str]) -> gpd.GeoDataFrame:
    """Canonical columns, then the user's other columns, ``source_row`` and the points."""
    import geopandas as gpd  # noqa: PLC0415

    frame = pd.DataFrame(out)
    reserved = set(frame.columns) | {"source_row", "geometry"}
    for header in (str(c) for c in table.data.columns):
        if header not in used:
            name = header if header not in reserved else f"{header}_input"
            frame[name] = _user_column(table.data[header])
    frame["source_row"] = table.source_row
    gdf = gpd.GeoDataFrame(frame, geometry=shapely.points(out["lon"], out["lat"]), crs="EPSG:4326")
    gdf.attrs["source"] = table.label  # for messages of later checks (audit, coverage.checks)
    return gdf


def _ids(ctx: _Context, n: int) -> list[str]:
    spec = ctx.spec
    ids_or_none = ctx.text(spec.id_col)
    if ids_or_none is None:
        width = max(spec.id_width, len(str(n)))
        logger.info(
            "%s: no '%s' column; generated %s%0*d...",
            ctx.table.label,
            spec.id_col,
            spec.id_prefix,
            width,
            1,
        )
        return [f"{spec.id_prefix}{i + 1:0{width}d}" for i in range(n)]
    ctx.rows.ids = ids_or_none
    col = ctx.column(spec.id_col)
    null = np.array([v is None for v in ids_or_none])
    if null.any():
        ctx.problems.add(
            "value",
            f"{col} has {counted(int(null.sum()), 'empty value')} ({ctx.rows.describe(null)})",
        )
    counts = Counter(v for v in ids_or_none if v is not None)
    duplicated = sorted(v for v, c in counts.items() if c > 1)
    if duplicated:
        where = np.array([v in set(duplicated) for v in ids_or_none])
        plain = Rows(ctx.rows.labels, ctx.rows.noun)
        copies = _exact_copies(ctx.table, where)
        note = ""
        if copies.any():
            k = int(copies.sum())
            is_are, it = ("is an exact copy", "it") if k == 1 else ("are exact copies", "them")
            note = f"; {plain.describe(copies)} {is_are} of an earlier {ctx.rows.noun}: delete {it}"
        ctx.problems.add(
            "duplicate",
            f"{col} has {counted(len(duplicated), 'duplicated id')}: {list_ids(duplicated)} "
            f"({plain.describe(where)}){note}",
        )
    return [v if v is not None else "" for v in ids_or_none]


def _row_keys(table: _Table, skip: str | None = None) -> list[str]:
    """One key per input row: equal keys mean equal cells (and equal geometry).

    ``skip`` names a column left out of the comparison (the id column).
    """
    data = table.data.drop(columns=[skip]) if skip in table.data.columns else table.data
    cells = [
        tuple(None if is_null(v) else v for v in row)
        for row in data.itertuples(index=False, name=None)
    ]
    if table.geometry is not None:
        wkb = shapely.to_wkb(np.asarray(table.geometry.to_numpy(), dtype=object))
        return [repr((c, g)) for c, g in zip(cells, wkb, strict=True)]
    return [repr(c) for c in cells]


def _exact_copies(table: _Table, among: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Rows (within ``among``) whose every cell repeats an earlier row of ``among``."""
    keys = _row_keys(table)
    seen: set[str] = set()
    copies = np.zeros(len(keys), dtype=bool)
    for i in np.flatnonzero(among):
        copies[i] = keys[i] in seen
        seen.add(keys[i])
    return copies


def _repeated_rows(
    ctx: _Context,
    ids: Sequence[str],
    names: Sequence[str] | None,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
) -> str | None:
    """A warning naming rows that repeat an earlier row's name and coordinates, or None.

    Such rows are accepted (two communities may share a name and a point) but are counted
    again in every total, so the planner is told which they are. Without a name column, rows
    must repeat every cell but the id. Rows sharing an id are an error
    (:class:`~coverage._errors.DuplicateIdError`) instead.
    """
    keys = (
        _row_keys(ctx.table, ctx.header_of.get(ctx.spec.id_col)) if names is None else list(names)
    )
    groups: dict[tuple[str, float, float], list[int]] = {}
    for i, (key, x, y) in enumerate(zip(keys, lon, lat, strict=True)):
        if np.isfinite(x) and np.isfinite(y):
            groups.setdefault((key, float(x), float(y)), []).append(i)
    repeated = [rows for rows in groups.values() if len(rows) > 1]
    if not repeated:
        return None
    labels, noun = ctx.table.row_labels, ctx.rows.noun
    nouns = noun if noun == "index" else noun + "s"

    def describe(rows: list[int]) -> str:
        where = [str(labels[i]) for i in rows]
        listed = f"{', '.join(where[:-1])} and {where[-1]}"
        name = f"{names[rows[0]]!r}; " if names is not None else ""
        return f"{nouns} {listed} ({name}{ctx.spec.id_col} {list_ids([ids[i] for i in rows])})"

    extra = sum(len(rows) - 1 for rows in repeated)
    shown = ", ".join(describe(rows) for rows in repeated[:10])
    if len(repeated) > 10:  # noqa: PLR2004
        shown += f" and {len(repeated) - 10} more groups"
    same = "name and coordinates" if names is not None else "values"
    verb, be, advice = (
        ("repeats", "is", "the repeat if it is a copy")
        if extra == 1
        else ("repeat", "are", "the repeats if they are copies")
    )
    return (
        f"{ctx.table.label}: {counted(extra, noun, nouns)} {verb} the {same} of an earlier "
        f"{noun} and {be} counted again in the {ctx.spec.what}' totals: {shown}; "
        f"delete {advice}"
    )


def _community_columns(ctx: _Context, ids: list[str], config: Config) -> dict[str, Any]:
    label = ctx.table.label
    n = len(ids)
    out: dict[str, Any] = {}
    names = ctx.text("name")
    if names is None:
        logger.info("%s: no 'name' column; using community_id as the name", label)
        names = list(ids)
    out["name"] = [v if v is not None else i for v, i in zip(names, ids, strict=True)]
    for canonical in ("district", "street"):
        values = ctx.text(canonical)
        out[canonical] = ["(none)" if v is None else v for v in (values or [None] * n)]
    out["kind"] = _kinds(ctx, n)

    population = ctx.numbers("population", nulls_allowed=False)
    households = ctx.numbers("households", nulls_allowed=True)
    out["population"] = _maybe_int(population if population is not None else np.full(n, np.nan))
    pph = config.persons_per_household
    if population is None:
        estimated = np.ones(n, dtype=bool)
        hh = np.full(n, np.nan)
    else:
        estimated = np.ones(n, dtype=bool) if households is None else np.isnan(households)
        hh = households if households is not None else np.full(n, np.nan)
        hh = np.where(estimated, config.households_from(population), hh)
        if estimated.any():
            logger.info(
                "%s: households estimated for %d communities as population / %g",
                label,
                int(estimated.sum()),
                pph,
            )
    out["households"] = _maybe_int(hh)
    out["households_estimated"] = estimated
    area = ctx.numbers("area_m2", nulls_allowed=True)
    out["area_m2"] = area if area is not None else np.full(n, np.nan)
    return out


def _kinds(ctx: _Context, n: int) -> list[str]:
    raw = ctx.values("kind") if "kind" in ctx.header_of else [None] * n
    kinds: list[str] = []
    unknown: list[int] = []
    missing = 0
    for i, value in enumerate(raw):
        if is_null(value):
            kinds.append("urban")
            missing += 1
            continue
        norm = normalise_header(value)
        if norm in _URBAN:
            kinds.append("urban")
        elif norm in _RURAL:
            kinds.append("rural")
        else:
            kinds.append("urban")
            unknown.append(i)
    if unknown:
        values = list(dict.fromkeys(str(raw[i]) for i in unknown))
        ctx.problems.add(
            "value",
            f"{ctx.column('kind')} has {counted(len(unknown), 'unknown value')} "
            f"{list_ids(values, 5)} "
            f"({ctx.rows.describe(np.array(unknown))}); use 城市/城镇/社区/urban for urban "
            "and 农村/乡村/村/rural for rural communities",
        )
    if missing == n and "kind" not in ctx.header_of:
        hint = "Add a column with 城市/农村 (urban/rural)."
        miss = ctx.near_misses.pop("kind", None)
        if miss is not None:
            hint = (
                f"Header {miss[0]!r} looks like {miss[1]!r}: if it holds the kind, fix the "
                f"header or pass columns={{{miss[0]!r}: 'kind'}}."
            )
        ctx.warnings.append(
            f"{ctx.table.label}: no 'kind' column (类型); all {n} communities are taken as "
            f"urban (15-minute threshold). {hint}"
        )
    elif missing:
        ctx.warnings.append(
            f"{ctx.table.label}: {ctx.column('kind')} is empty for {missing} communities "
            f"({ctx.rows.describe(np.array([is_null(v) for v in raw]))}); taken as urban"
        )
    return kinds


def _hall_columns(ctx: _Context, ids: list[str]) -> dict[str, Any]:
    n = len(ids)
    out: dict[str, Any] = {}
    names = ctx.text("name")
    out["name"] = [v if v is not None else i for v, i in zip(names or [None] * n, ids, strict=True)]
    out["kind"] = ctx.text("kind") or [None] * n
    area = ctx.numbers("floor_area_m2", nulls_allowed=True)
    if area is None:
        logger.info(
            "%s: no floor-area column (建筑面积); floor-area adequacy cannot be checked",
            ctx.table.label,
        )
    out["floor_area_m2"] = area if area is not None else np.full(n, np.nan)
    illustrative = np.zeros(n, dtype=bool)
    if "illustrative" in ctx.header_of:
        raw = ctx.values("illustrative")
        flags, _, bad = parse_bools(raw)
        if bad.any():
            shown = list_ids(list(dict.fromkeys(str(raw[i]) for i in np.flatnonzero(bad))), 5)
            ctx.problems.add(
                "value",
                f"{ctx.column('illustrative')} has "
                f"{counted(int(bad.sum()), 'value that is', 'values that are')} not "
                f"true/false ({ctx.rows.describe(bad)}): {shown}",
            )
        illustrative = flags
    out["illustrative"] = illustrative
    return out


def _maybe_int(values: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
    """Integers when every value is a whole number (population, households), else floats."""
    finite = np.isfinite(values)
    if finite.all() and np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53):
        return values.astype(np.int64)
    return values


def _user_column(series: pd.Series[Any]) -> pd.Series[Any]:
    """Keep a user's column; strings that are all numbers become numbers (not "0571...")."""
    values = [None if is_null(v) else v for v in series]
    texts = [v for v in values if isinstance(v, str)]
    if not texts:
        return (
            pd.Series(values, dtype=object)
            if series.dtype == object
            else series.reset_index(drop=True)
        )
    if any(re.match(r"^\s*[+-]?0\d", t) for t in texts):
        return pd.Series(values, dtype=object)
    converted = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    if int(converted.notna().sum()) == sum(v is not None for v in values):
        return converted
    return pd.Series(values, dtype=object)


# --- locations -----------------------------------------------------------------------------------


def _locations(
    ctx: _Context, config: Config, *, want_area: bool
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
    ctx: _Context, config: Config, *, want_area: bool
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
    ctx: _Context, geoms: npt.NDArray[np.object_], type_id: npt.NDArray[np.int64]
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
    ctx: _Context,
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
    ctx: _Context,
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
    ctx: _Context,
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
