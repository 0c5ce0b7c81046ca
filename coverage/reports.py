"""Output folders: per-district map, tables and summary, written safely.

Every file is written to a temporary name in the same folder and then renamed, so an
interrupted run never leaves a half-written file. Folder names come from
:func:`safe_name`, so a district called ``../../etc`` or ``西湖区/北山`` stays inside the
output folder.

Files for people who were not at the computer:

- :func:`write_excel`: a workbook (district summary, communities, halls, proposals) with
  Chinese or English headers, numbers as numbers, shares as percentages;
- :func:`write_geopackage`: every layer in one GeoPackage for QGIS/ArcGIS;
- :func:`write_html_summary`: a one-page, self-contained HTML summary with the key figures,
  two charts, the worst-served communities and links to the maps.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import io
import json
import logging
import math
import re
import unicodedata
import urllib.parse
import warnings
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._errors import CrsError, InputDataError
from coverage._files import (
    atomic_write,
    inside,
    safe_name,
    write_csv,
    write_json,
    write_text_atomic,
)
from coverage.audit import (
    ALL_DISTRICTS,
    STATUS_COVERED,
    STATUS_NOT_COVERED,
    STATUS_UNREACHABLE,
    AuditResult,
    district_table,
)
from coverage.i18n import MODE_ZH, coord_check_text, reason_zh

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    from matplotlib.figure import Figure

    from coverage.maps import Basemap
    from coverage.siting import ProposalResult

logger = logging.getLogger(__name__)


def district_summary(result: AuditResult) -> dict[str, Any]:
    """The ``summary.json`` content of an audit (or of one district's part of it).

    Parameters
    ----------
    result
        An audit result.

    Returns
    -------
    dict
        Headline figures, the district rows, the configuration, the network summary and the
        coordinate-system checks of the inputs (``coordinate_check``: each with its
        ``verdict``, ``"doubt"`` when the points fit another system far better).
    """
    cfg = result.config
    halls = result.halls
    adequate = halls["floor_area_adequate"] if "floor_area_adequate" in halls else pd.Series()
    return {
        "districts": result.districts.to_dict(orient="records"),
        "halls": {
            "count": len(halls),
            "on_network": int(halls["on_network"].sum()) if "on_network" in halls else None,
            "with_floor_area": int(adequate.notna().sum()),
            "floor_area_adequate": int((adequate == True).sum()),  # noqa: E712 (NA is not True)
            "illustrative": int(
                halls.get("illustrative", pd.Series(dtype=bool)).eq(other=True).sum()
            ),
        },
        "rules": {
            "urban_threshold_min": cfg.urban_threshold_min,
            "rural_threshold_min": cfg.rural_threshold_min,
            "mode": result.network.get("mode"),
            "speed_kph": result.network.get("speed_kph"),
            "max_snap_m": cfg.max_snap_m,
            "floor_area_m2_per_100_households": cfg.floor_area_m2_per_100_households,
        },
        "network": result.network,
        "coordinate_check": [c.to_dict() for c in result.coordinate_checks],
        "attribution": "Road data © OpenStreetMap contributors, ODbL 1.0",
    }


# --------------------------------------------------------------------------------------------
# Tables for meetings: Excel, GeoPackage
# --------------------------------------------------------------------------------------------

Lang = Literal["zh", "en"]

#: Chinese headers of the audit's columns; columns not listed keep their own name.
ZH_HEADERS: dict[str, str] = {
    # district table
    "district": "区县",
    "communities": "社区数",
    "covered": "已覆盖",
    "not_covered": "未覆盖",
    "unreachable": "不可达",
    "covered_share": "覆盖率",
    "population": "人口",
    "population_covered": "覆盖人口",
    "population_covered_share": "人口覆盖率",
    "urban_communities": "城市社区数",
    "urban_covered": "城市社区已覆盖",
    "urban_covered_share": "城市社区覆盖率",
    "urban_population": "城市社区人口",
    "urban_population_covered": "城市社区覆盖人口",
    "urban_population_covered_share": "城市社区人口覆盖率",
    "rural_communities": "农村社区数",
    "rural_covered": "农村社区已覆盖",
    "rural_covered_share": "农村社区覆盖率",
    "rural_population": "农村社区人口",
    "rural_population_covered": "农村社区覆盖人口",
    "rural_population_covered_share": "农村社区人口覆盖率",
    "median_travel_time_min": "出行时间中位数(分钟)",
    "max_travel_time_min": "最长出行时间(分钟)",
    # communities
    "community_id": "社区编号",
    "name": "名称",
    "street": "街道(乡镇)",
    "kind": "类型",
    "households": "户数",
    "households_estimated": "户数为估算",
    "nearest_hall_id": "最近服务中心编号",
    "nearest_hall_name": "最近服务中心",
    "travel_time_min": "出行时间(分钟)",
    "threshold_min": "标准(分钟)",
    "shortfall_min": "超出时间(分钟)",
    "status": "状态",
    "reason": "说明",
    "snap_dist_m": "距道路(米)",
    "area_m2": "面积(㎡)",
    "population_source": "人口来源",
    "source": "来源",
    "source_row": "源文件行号",
    "lon": "经度(WGS-84)",
    "lat": "纬度(WGS-84)",
    # halls
    "hall_id": "服务中心编号",
    "floor_area_m2": "用房面积(㎡)",
    "illustrative": "示意位置",
    "on_network": "位于路网",
    "communities_served": "服务社区数",
    "communities_covered": "服务且覆盖社区数",
    "population_served": "服务人口",
    "households_served": "服务户数",
    "required_floor_area_m2": "所需用房面积(㎡)",
    "floor_area_adequate": "用房面积达标",
    "floor_area_gap_m2": "用房面积缺口(㎡)",
    # proposals
    "site_id": "选址编号",
    "order": "优先顺序",
    "new_population_covered": "新增覆盖人口",
    "new_communities_covered": "新增覆盖社区数",
    "members": "服务社区",
    "n_members": "服务社区数",
    "capacity_households": "容量(户)",
    "floor_area_needed_m2": "所需用房面积(㎡)",
}

_ZH_VALUES: dict[str, dict[str, str]] = {
    "status": {
        STATUS_COVERED: "已覆盖",
        STATUS_NOT_COVERED: "未覆盖",
        STATUS_UNREACHABLE: "不可达",
        "in use": "在用",
    },
    "kind": {"urban": "城市", "rural": "农村"},
}

#: Sheet names per language (summary, communities, halls, proposals, about).
SHEET_NAMES: dict[str, dict[str, str]] = {
    "zh": {
        "summary": "汇总",
        "communities": "社区",
        "halls": "服务中心",
        "proposals": "建议选址",
        "about": "说明",
    },
    "en": {k: k for k in ("summary", "communities", "halls", "proposals", "about")},
}

#: Label of the district table's total row in the workbook and the HTML summary.
TOTAL_LABEL: dict[str, str] = {"zh": "合计", "en": ALL_DISTRICTS}

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAX_WIDTH = 50


def _check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        msg = f"lang must be 'zh' or 'en', not {lang!r}"
        raise InputDataError(msg)


def _header(column: str, lang: Lang) -> str:
    return ZH_HEADERS.get(column, column) if lang == "zh" else column


def _number_format(column: str) -> str | None:
    """Excel number format of a numeric column, from its name (units are in the names)."""
    if column.endswith("_share"):
        return "0.0%"
    if column.endswith("_min"):
        return "0.0"
    if column in ("lon", "lat"):
        return "0.0000000"
    if column.endswith("_m2"):
        return "#,##0.0"
    if column.endswith("_m") or "population" in column or "households" in column:
        return "#,##0"
    return None


def _display_width(text: str) -> int:
    """Width of text in character cells (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell_value(value: object) -> object:
    """A value openpyxl stores as a number, boolean, date or text (missing: empty cell)."""
    if isinstance(value, list | tuple | set | np.ndarray):
        return ", ".join(str(v) for v in value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | dt.date | dt.time):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    return _ILLEGAL_XML.sub("", str(value))


def _geometry_name(frame: pd.DataFrame) -> str | None:
    """Name of a GeoDataFrame's active geometry column (``None`` for plain tables)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return None
    name = frame.active_geometry_name
    return str(name) if name is not None and name in frame.columns else None


def _flatten(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """A plain table: the geometry becomes ``lon``/``lat`` (EPSG:4326, degrees).

    Points keep their coordinates; other shapes are represented by a point inside them.
    Other geometry columns become WKT text.
    """
    geom_name = _geometry_name(frame)
    if geom_name is None:
        return pd.DataFrame(frame).copy()
    geom = frame.geometry
    if geom.crs is None:
        msg = f"{what}: the geometries have no CRS, so they cannot be converted to lon/lat"
        raise CrsError(msg)
    types = geom.geom_type.dropna()
    points = geom if types.eq("Point").all() else geom.representative_point()
    points = points.to_crs(4326)
    drop = [geom_name, *(c for c in ("lon", "lat") if c in frame.columns)]
    out = pd.DataFrame(frame.drop(columns=drop))
    for col in out.columns:
        if isinstance(out[col].dtype, gpd.array.GeometryDtype):
            out[col] = gpd.GeoSeries(out[col]).to_wkt()
    out["lon"] = points.x.round(7).to_numpy()
    out["lat"] = points.y.round(7).to_numpy()
    return out


def _put(
    ws: Any,  # noqa: ANN401 (openpyxl has no type hints)
    row: int,
    column: int,
    raw: object,
    fmt: str | None,
    mapping: dict[str, str],
) -> str:
    """Write one cell (typed, formatted); returns the text shown, for the column width."""
    value = _cell_value(raw)
    if isinstance(value, str):
        value = mapping.get(value, value)
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula (a name like "=1+1")
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if fmt:
            cell.number_format = fmt
        return f"{value:.1%}" if fmt == "0.0%" else f"{value:,.1f}"
    return "" if value is None else str(value)


def _write_sheet(
    wb: Any,  # noqa: ANN401 (openpyxl has no type hints)
    title: str,
    frame: pd.DataFrame,
    lang: Lang,
    *,
    bold_rows: set[int] | None = None,
) -> None:
    """One sheet: bold frozen header, typed cells, number formats, column widths, filter."""
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    ws = wb.create_sheet(title)
    columns = [str(c) for c in frame.columns]
    headers = [_header(c, lang) for c in columns]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE4EE")
    for j, text in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=j, value=text)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    widths = [min(_display_width(h), _MAX_WIDTH) for h in headers]
    translate = _ZH_VALUES if lang == "zh" else {}
    for j, col in enumerate(columns, start=1):
        fmt = _number_format(col)
        mapping = translate.get(col, {})
        for i, raw in enumerate(frame.iloc[:, j - 1].tolist(), start=2):
            shown = _put(ws, i, j, raw, fmt, mapping)
            if i < 1000:  # noqa: PLR2004 (enough rows to size a column)
                widths[j - 1] = max(widths[j - 1], min(_display_width(shown), _MAX_WIDTH))
    for row in bold_rows or set():
        for j in range(1, len(columns) + 1):
            ws.cell(row=row + 2, column=j).font = bold
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(width, 6) + 2
    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(frame) + 1}"


def _about_rows(result: AuditResult, lang: Lang) -> list[tuple[str, object]]:
    """Rules and provenance of an audit, as (label, value) rows."""
    cfg = result.config
    net = result.network
    source = net.get("source")
    rows_en: list[tuple[str, object]] = [
        ("urban threshold (min)", cfg.urban_threshold_min),
        ("rural threshold (min)", cfg.rural_threshold_min),
        ("travel mode", net.get("mode")),
        ("speed (km/h)", net.get("speed_kph")),
        ("max. distance to a road (m)", cfg.max_snap_m),
        ("floor area standard (m² per 100 households)", cfg.floor_area_m2_per_100_households),
        ("network file", PurePath(str(source)).name if source else None),
        ("coordinates", "WGS-84 (EPSG:4326)"),
        ("attribution", "Road data © OpenStreetMap contributors, ODbL 1.0"),
    ]
    checks = [
        ("坐标系核查" if lang == "zh" else "coordinate check",
         coord_check_text(c.label, c.declared, c.fits, c.points, lang))
        for c in result.coordinate_checks
    ]  # fmt: skip
    if lang == "en":
        return rows_en + checks
    labels = ["城市社区标准(分钟)", "农村社区标准(分钟)", "出行方式", "速度(千米/小时)",
              "距道路最大距离(米)", "用房面积标准(㎡/百户)", "路网文件", "坐标系",
              "数据来源"]  # fmt: skip
    return [(z, v) for z, (_, v) in zip(labels, rows_en, strict=True)] + checks


def write_excel(
    path: str | os.PathLike[str],
    result: AuditResult,
    *,
    proposals: pd.DataFrame | None = None,
    lang: Lang = "zh",
) -> Path:
    """Write an audit as an Excel workbook for meetings, atomically.

    Sheets (names in the chosen language): the district summary with a total row, the
    communities, the halls, the proposed halls (if given) and the rules used. Numbers are
    stored as numbers; shares are formatted as percentages (``0.0%``), minutes with one
    decimal, people and households with thousands separators. Geometries become ``lon`` and
    ``lat`` columns (EPSG:4326, degrees; shapes other than points are represented by a point
    inside them). The header row is bold and frozen, with a filter.

    Parameters
    ----------
    path
        Destination ``.xlsx`` file; its folder is created if needed.
    result
        An audit result (or one district's part of it).
    proposals
        Optional proposed halls (a DataFrame or a GeoDataFrame in any CRS).
    lang
        ``"zh"``: Chinese sheet names, headers (e.g. 区县, 覆盖率, 出行时间(分钟)) and status
        and kind values (已覆盖, 城市); ``"en"``: the column names as they are.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    CrsError
        If a frame has geometries but no CRS.

    Examples
    --------
    >>> import tempfile
    >>> import openpyxl
    >>> from coverage.audit import audit
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> result = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     wb = openpyxl.load_workbook(write_excel(Path(d) / "report.xlsx", result))
    >>> wb.sheetnames
    ['汇总', '社区', '服务中心', '说明']
    >>> [c.value for c in wb["汇总"]["A"]]
    ['区县', 'East', 'West', '合计']
    >>> wb["汇总"]["F4"].value, wb["汇总"]["F4"].number_format
    (0.8, '0.0%')
    """
    from openpyxl import Workbook  # noqa: PLC0415

    _check_lang(lang)
    names = SHEET_NAMES[lang]
    summary = result.districts.copy()
    total = summary["district"] == ALL_DISTRICTS
    summary.loc[total, "district"] = TOTAL_LABEL[lang]
    communities = _flatten(result.communities, "communities")
    if lang == "zh" and "reason" in communities.columns:
        communities["reason"] = _reasons_zh(communities["reason"])
    tables: list[tuple[str, pd.DataFrame, set[int]]] = [
        (names["summary"], summary, set(np.flatnonzero(total.to_numpy()).tolist())),
        (names["communities"], communities, set()),
        (names["halls"], _flatten(result.halls, "halls"), set()),
    ]
    if proposals is not None:
        tables.append((names["proposals"], _flatten(proposals, "proposals"), set()))
    about = pd.DataFrame(
        _about_rows(result, lang), columns=["项目", "内容"] if lang == "zh" else ["item", "value"]
    )
    tables.append((names["about"], about, set()))

    wb = Workbook()
    wb.remove(wb.active)
    for title, frame, bold_rows in tables:
        _write_sheet(wb, title, frame, lang, bold_rows=bold_rows)
    logger.debug("writing %s (%d sheets)", path, len(tables))
    return atomic_write(Path(path), wb.save, suffix=".xlsx")


def _reasons_zh(reasons: pd.Series) -> pd.Series:
    """The audit's reasons in Chinese (each distinct text translated once)."""
    return reasons.map({r: reason_zh(r) for r in reasons.dropna().unique()}).where(
        reasons.notna(), reasons
    )


def _gpkg_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types GeoPackage stores well: text names, plain booleans, lists as text."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.BooleanDtype) and not s.isna().any():
            out[col] = s.astype(bool)
        elif s.dtype == object and s.map(lambda v: isinstance(v, list | tuple | set)).any():
            out[col] = s.map(
                lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple | set) else v
            )
    return out


def write_geopackage(
    path: str | os.PathLike[str],
    result: AuditResult,
    *,
    districts: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    proposals: gpd.GeoDataFrame | None = None,
) -> Path:
    """Write an audit's layers to one GeoPackage, atomically.

    Layers: ``communities`` and ``halls`` (the audit's tables, EPSG:4326), ``districts``
    (the district polygons joined with the district table on ``district``, if given),
    ``isochrones``, ``catchments`` and ``proposals`` (if given, in their own CRS), and
    ``summary``: the
    district table as a table without geometry. Nullable booleans with missing values are
    stored as 1/0/null.

    Parameters
    ----------
    path
        Destination ``.gpkg`` file; its folder is created if needed. An existing file is
        replaced as a whole.
    result
        An audit result.
    districts
        Optional district polygons with a ``district`` name column, any CRS.
    isochrones
        Optional service-area bands (see :mod:`coverage.isochrones`), any CRS.
    catchments
        Optional catchments of the halls (``per="hall"``), any CRS.
    proposals
        Optional proposed halls, any CRS.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    CrsError
        If a layer has no CRS.
    InputDataError
        If a layer is not a GeoDataFrame.

    Examples
    --------
    >>> import tempfile
    >>> import pyogrio
    >>> from coverage.audit import audit
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> result = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     layers = pyogrio.list_layers(write_geopackage(Path(d) / "audit.gpkg", result))
    >>> layers[:, 0].tolist()
    ['communities', 'halls', 'summary']
    """
    import pyogrio  # noqa: PLC0415

    spatial: dict[str, gpd.GeoDataFrame] = {
        "communities": result.communities,
        "halls": result.halls,
    }
    given = {
        "districts": districts, "isochrones": isochrones, "catchments": catchments,
        "proposals": proposals,
    }  # fmt: skip
    for name, frame in given.items():
        if frame is None:
            continue
        if _geometry_name(frame) is None:
            msg = f"{name}: a GeoDataFrame with geometries is needed, got {type(frame).__name__}"
            raise InputDataError(msg)
        if name == "districts" and "district" in frame.columns:
            table = result.districts[result.districts["district"] != ALL_DISTRICTS]
            frame = frame.assign(district=frame["district"].astype(str)).merge(  # noqa: PLW2901
                table, on="district", how="left", suffixes=("", "_audit")
            )
        spatial[name] = frame
    for name, frame in spatial.items():
        if frame.crs is None:
            msg = f"{name}: the layer has no CRS; set one (e.g. frame.set_crs(4326))"
            raise CrsError(msg)
    layers: dict[str, pd.DataFrame] = {**spatial, "summary": pd.DataFrame(result.districts)}

    def write(tmp: Path) -> None:
        tmp.unlink()  # GDAL creates the file itself
        for name, frame in layers.items():
            pyogrio.write_dataframe(_gpkg_ready(frame), tmp, layer=name, driver="GPKG")

    logger.debug("writing %s (layers %s)", path, ", ".join(layers))
    return atomic_write(Path(path), write, suffix=".gpkg")


# --------------------------------------------------------------------------------------------
# One-page HTML summary
# --------------------------------------------------------------------------------------------

#: Font families tried, in order, for Chinese text in the charts.
CJK_FONT_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans SC",
    "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Droid Sans Fallback",
)  # fmt: skip
_CJK_PROBE = "社区覆盖率出行时间分钟区县"
_CJK_FILE_HINTS = ("notosanscjk", "sourcehansans", "wqy", "droidsansfallback", "msyh", "simhei")

_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "communities": "社区",
        "covered_share": "社区覆盖率",
        "population_covered_share": "人口覆盖率",
        "unreachable": "不可达社区",
        "halls_below": "用房面积不达标的服务中心",
        "covered_of": "已覆盖 {covered:,} 个，未覆盖 {not_covered:,} 个",
        "population_of": "覆盖 {population_covered:,.0f} 人 / 共 {population:,.0f} 人",
        "unreachable_note": "无法经路网到达任何服务中心",
        "halls_of": "共 {halls} 个服务中心，其中 {known} 个有面积数据",
        "no_area": "共 {halls} 个服务中心，均无面积数据",
        "by_district": "各区县覆盖情况",
        "times": "出行时间分布",
        "worst": "服务最差的 {n} 个社区",
        "maps": "地图",
        "rules": (
            "城市社区 {urban:g} 分钟、农村社区 {rural:g} 分钟服务圈；出行方式 {mode}，"
            "速度 {speed} 千米/小时；用房面积标准 每百户 {area:g} ㎡。"
            "出行时间按路网计算，而非直线距离。"
        ),
        "illustrative": "注意：{n} 个服务中心的位置为示意位置，并非真实地址。",
        "rank": "序号",
        "name": "名称",
        "id": "编号",
        "district": "区县",
        "kind": "类型",
        "population": "人口",
        "minutes": "出行时间(分钟)",
        "threshold": "标准(分钟)",
        "over": "超出(分钟)",
        "nearest": "最近服务中心",
        "status": "状态",
        "reason": "说明",
        "n_communities": "社区数",
        "n_covered": "已覆盖",
        "median": "出行时间中位数(分钟)",
        "chart_bar": "各区县覆盖率图",
        "chart_hist": "出行时间分布图",
        "numbered": "图中的区县以下表中的序号表示。",
    },
    "en": {
        "communities": "Communities",
        "covered_share": "Communities covered",
        "population_covered_share": "Population covered",
        "unreachable": "Unreachable communities",
        "halls_below": "Halls below the floor-area standard",
        "covered_of": "{covered:,} covered, {not_covered:,} not covered",
        "population_of": "{population_covered:,.0f} of {population:,.0f} residents",
        "unreachable_note": "no route to any hall over the network",
        "halls_of": "of {halls} halls, {known} with a floor area",
        "no_area": "{halls} halls, none with a floor area",
        "by_district": "Coverage by district",
        "times": "Travel times",
        "worst": "The {n} worst-served communities",
        "maps": "Maps",
        "rules": (
            "Service circles: urban {urban:g} min, rural {rural:g} min; mode {mode} at "
            "{speed} km/h; floor-area standard {area:g} m² per 100 households. Travel "
            "times are routed over the road network, not straight-line distances."
        ),
        "illustrative": "Note: {n} hall location(s) are illustrative, not real addresses.",
        "rank": "#",
        "name": "Name",
        "id": "ID",
        "district": "District",
        "kind": "Kind",
        "population": "Population",
        "minutes": "Travel time (min)",
        "threshold": "Limit (min)",
        "over": "Over (min)",
        "nearest": "Nearest hall",
        "status": "Status",
        "reason": "Reason",
        "n_communities": "Communities",
        "n_covered": "Covered",
        "median": "Median travel time (min)",
        "chart_bar": "Chart of coverage by district",
        "chart_hist": "Chart of travel times",
        "numbered": "The chart shows districts by their number (#) in the table below.",
    },
}

_CHART_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "bar_title": "各区县覆盖率",
        "bar_com": "社区覆盖率",
        "bar_pop": "人口覆盖率",
        "bar_more": "（仅列出最差的 {n} 个区县）",
        "hist_title": "到最近服务中心的出行时间",
        "hist_unreachable": "（另有 {n} 个社区不可达）",
        "xlabel": "出行时间（分钟）",
        "ylabel": "社区数",
        "urban": "城市社区",
        "rural": "农村社区",
        "other": "其他",
        "limit_urban": "城市标准 {t:g} 分钟",
        "limit_rural": "农村标准 {t:g} 分钟",
        "limit_both": "标准 {t:g} 分钟",
        "no_times": "没有可到达服务中心的社区",
    },
    "en": {
        "bar_title": "Coverage by district",
        "bar_com": "communities covered",
        "bar_pop": "population covered",
        "bar_more": " (the {n} worst districts only)",
        "hist_title": "Travel time to the nearest hall",
        "hist_unreachable": " ({n} unreachable not shown)",
        "xlabel": "travel time (minutes)",
        "ylabel": "communities",
        "urban": "urban",
        "rural": "rural",
        "other": "other",
        "limit_urban": "urban limit {t:g} min",
        "limit_rural": "rural limit {t:g} min",
        "limit_both": "limit {t:g} min",
        "no_times": "no community reaches a hall",
    },
}

_MODE_NAMES: dict[str, dict[str, str]] = {"zh": MODE_ZH, "en": {"ebike": "e-bike"}}

_MAX_BARS = 40
_WORST = 10


FontRef = tuple[str, int]  # font file, face index in a collection (.ttc)


@functools.cache
def _charmap(font: FontRef) -> frozenset[int]:
    """Code points a font face has glyphs for."""
    from matplotlib.ft2font import FT2Font  # noqa: PLC0415

    return frozenset(FT2Font(font[0], face_index=font[1]).get_charmap())


def _covers_chinese(font: FontRef) -> bool:
    try:
        cmap = _charmap(font)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in cmap for ch in _CJK_PROBE)


def _find_cjk_family() -> tuple[str, FontRef] | None:
    """The first of :data:`CJK_FONT_FAMILIES` (then any "CJK" family) matplotlib knows."""
    from matplotlib import font_manager  # noqa: PLC0415

    known: dict[str, FontRef] = {}
    for entry in font_manager.fontManager.ttflist:
        known.setdefault(entry.name, (str(entry.fname), int(getattr(entry, "index", 0))))
    others = sorted(n for n in known if "CJK" in n and "Mono" not in n)
    for family in [*CJK_FONT_FAMILIES, *others]:
        if family in known and _covers_chinese(known[family]):
            return family, known[family]
    return None


@functools.cache
def _cjk_font() -> tuple[str, FontRef] | None:
    """``(family, (file, face index))`` of an installed font with Chinese glyphs, or ``None``.

    Looks in matplotlib's font list for Noto Sans CJK and other common Chinese fonts first;
    matplotlib caches that list, which may predate the installation of e.g. fonts-noto-cjk,
    so the system's font folders are searched next and a font found there is registered
    with matplotlib (every face of a ``.ttc`` collection; the simplified-Chinese face is
    preferred).
    """
    from matplotlib import font_manager  # noqa: PLC0415

    found = _find_cjk_family()
    if found is not None:
        return found
    files = [
        f
        for f in font_manager.findSystemFonts()
        if any(h in Path(f).name.lower().replace("-", "") for h in _CJK_FILE_HINTS)
    ]
    # sans before serif, regular before bold
    files.sort(key=lambda f: ("serif" in f.lower(), "bold" in f.lower(), f))
    for font_file in files:
        if _covers_chinese((font_file, 0)):
            font_manager.fontManager.addfont(font_file)
            logger.debug("registered the fonts of %s with matplotlib", font_file)
            found = _find_cjk_family()
            if found is not None:
                return found
    return None


def _base_font() -> FontRef:
    import matplotlib as mpl  # noqa: PLC0415

    return str(Path(mpl.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), 0


def _drawable(text: str, fonts: list[FontRef]) -> bool:
    """Whether every character of ``text`` has a glyph in one of the fonts (no tofu)."""
    cmaps = [_charmap(f) for f in fonts]
    return all(ch.isspace() or any(ord(ch) in c for c in cmaps) for ch in text)


def _png(fig: Figure) -> str:
    """The figure as a base64 PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _bar_chart(table: pd.DataFrame, labels: list[str], text: dict[str, str]) -> Figure:
    """Horizontal bars: share of communities and of population covered, per district."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415

    n = len(table)
    fig = Figure(figsize=(7.6, max(2.4, 0.46 * n + 1.4)), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    y = np.arange(n)
    h = 0.4
    com = table["covered_share"].fillna(0.0).to_numpy(float)
    pop = table["population_covered_share"].fillna(0.0).to_numpy(float)
    bars_c = ax.barh(y + h / 2, com, height=h, color="#1a9850", label=text["bar_com"])
    bars_p = ax.barh(y - h / 2, pop, height=h, color="#a6d96a", label=text["bar_pop"])
    for bars, values in ((bars_c, com), (bars_p, pop)):
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], padding=2, fontsize=8)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1.13)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_title(text["bar_title"], loc="left")
    return fig


def _bin_width(longest: float) -> float:
    for step in (1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0):
        if longest / step <= 40:  # noqa: PLR2004 (at most about 40 bars)
            return step
    return math.ceil(longest / 40 / 60) * 60.0


def _histogram(
    communities: pd.DataFrame, urban_min: float, rural_min: float, text: dict[str, str]
) -> Figure:
    """Travel times stacked by kind, with the urban and rural limits as vertical lines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    fig = Figure(figsize=(7.6, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    minutes = pd.to_numeric(communities["travel_time_min"], errors="coerce")
    kind = communities["kind"].astype(str)
    n_unreachable = int(minutes.isna().sum())
    title = text["hist_title"]
    if n_unreachable:
        title += text["hist_unreachable"].format(n=n_unreachable)
    ax.set_title(title, loc="left")
    groups = [
        (minutes[kind == "urban"].dropna(), text["urban"], "#4575b4"),
        (minutes[kind == "rural"].dropna(), text["rural"], "#fdae61"),
        (minutes[~kind.isin(["urban", "rural"])].dropna(), text["other"], "#999999"),
    ]
    groups = [g for g in groups if len(g[0])]
    # the limit of each kind present (both when there are neither or both)
    has_urban, has_rural = (kind == "urban").any(), (kind == "rural").any()
    if math.isclose(urban_min, rural_min):
        limits = [(urban_min, text["limit_both"], "--")]
    elif has_urban != has_rural:
        limits = [(urban_min, text["limit_urban"], "--")] if has_urban else []
        limits += [(rural_min, text["limit_rural"], ":")] if has_rural else []
    else:
        limits = [(urban_min, text["limit_urban"], "--"), (rural_min, text["limit_rural"], ":")]
    longest = max([float(g[0].max()) for g in groups] + [t for t, _, _ in limits])
    step = _bin_width(longest)
    edges = np.arange(0.0, longest + 1.5 * step, step)  # one empty bin beyond the last limit
    if groups:
        ax.hist(
            # bins closed on the right, (a, b]: a community at exactly 15.0 min is covered and
            # is drawn left of the 15-min line
            [np.maximum(g[0].to_numpy(float) - 1e-9, 0.0) for g in groups],
            bins=edges.tolist(),
            stacked=True,
            color=[g[2] for g in groups],
            label=[g[1] for g in groups],
            edgecolor="white",
            linewidth=0.5,
        )
    else:
        ax.text(0.5, 0.5, text["no_times"], transform=ax.transAxes, ha="center", va="center")
    for t, label, style in limits:
        ax.axvline(t, color="#d73027", linestyle=style, linewidth=1.8, label=label.format(t=t))
    ax.set_xlim(0, edges[-1])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(text["xlabel"])
    ax.set_ylabel(text["ylabel"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, framealpha=0.9)
    return fig


def _charts(result: AuditResult, districts: pd.DataFrame, lang: Lang) -> tuple[str, str, bool]:
    """The two charts as base64 PNGs, and whether district names had to become numbers.

    Chinese labels are used only when a font with Chinese glyphs is installed; otherwise the
    labels are English, and district names that the available fonts cannot draw are shown
    as their number in the HTML table (``#1``, ``#2``, ...), so no empty boxes appear.
    """
    try:
        import matplotlib as mpl  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - matplotlib is a test dependency
        msg = "the HTML summary's charts need matplotlib: pip install matplotlib"
        raise ImportError(msg) from exc

    cjk = _cjk_font()
    fonts = [_base_font()] if cjk is None else [cjk[1], _base_font()]
    chart_lang: Lang = lang if cjk is not None else "en"
    text = _CHART_TEXT[chart_lang]
    names = [str(d) for d in districts["district"]]
    numbered = not all(_drawable(n, fonts) for n in names)
    labels = [f"#{i}" for i in range(1, len(names) + 1)] if numbered else names
    # worst district at the top: barh draws the first row at the bottom
    order = districts.assign(_label=labels).sort_values(
        ["covered_share", "population_covered_share", "_label"],
        ascending=[True, True, True],
        kind="stable",
        na_position="first",
    )
    bar_text = dict(text)
    if len(order) > _MAX_BARS:
        order = order.head(_MAX_BARS)
        bar_text["bar_title"] += text["bar_more"].format(n=_MAX_BARS)
    order = order.iloc[::-1]
    families = ([cjk[0]] if cjk else []) + ["DejaVu Sans"]
    cfg = result.config
    with (
        mpl.rc_context(
            {"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False}
        ),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        bar = _png(_bar_chart(order, order["_label"].tolist(), bar_text))
        hist = _png(
            _histogram(result.communities, cfg.urban_threshold_min, cfg.rural_threshold_min, text)
        )
    for w in caught:  # e.g. a glyph missing despite the checks above: log, do not leak
        logger.warning("chart: %s", w.message)
    return bar, hist, numbered


def _esc(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    return html.escape(str(value), quote=True)


def _num(value: object, fmt: str = "{:,.1f}") -> str:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return fmt.format(x) if math.isfinite(x) else "–"


def _href(target: str | PurePath) -> str:
    """A relative link, percent-encoded and escaped; absolute URLs and paths are refused."""
    text = target.as_posix() if isinstance(target, PurePath) else str(target).replace("\\", "/")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme or parts.netloc or text.startswith("/") or not parts.path:
        msg = f"maps: {text!r} is not a relative path to a map file (e.g. 'map.html')"
        raise InputDataError(msg)
    href = urllib.parse.quote(parts.path, safe="/")
    if parts.fragment:
        href += "#" + urllib.parse.quote(parts.fragment, safe="")
    return html.escape(href, quote=True)


def _worst(communities: pd.DataFrame, n: int = _WORST) -> pd.DataFrame:
    """The ``n`` worst-served communities: unreachable first, then by minutes over the limit."""
    minutes = pd.to_numeric(communities["travel_time_min"], errors="coerce")
    margin = (minutes - pd.to_numeric(communities["threshold_min"], errors="coerce")).fillna(np.inf)
    pop = pd.to_numeric(communities["population"], errors="coerce").fillna(0)
    order = pd.DataFrame({"margin": margin.to_numpy(), "pop": pop.to_numpy()})
    idx = order.sort_values(["margin", "pop"], ascending=False, kind="stable").index[:n]
    return communities.iloc[idx]


_CSS = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC",
"WenQuanYi Micro Hei",system-ui,sans-serif;margin:0;background:#f4f6f9;color:#222;}
main{max-width:1100px;margin:0 auto;padding:24px 28px 40px;background:#fff;}
h1{font-size:1.6em;margin:0 0 4px;}h2{font-size:1.2em;margin:28px 0 10px;
border-bottom:2px solid #2c5aa0;padding-bottom:4px;}
.rules{color:#555;font-size:.9em;margin:4px 0 0;}
.note{background:#fff4e5;border-left:4px solid #f0a030;padding:6px 10px;font-size:.9em;}
.doubt{background:#fdecea;border-left:4px solid #d73027;padding:6px 10px;font-weight:600;}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;
margin-top:18px;}
.card{border:1px solid #d8dee8;border-radius:8px;padding:12px 14px;background:#fafbfd;}
.card .label{font-size:.85em;color:#555;}.card .value{font-size:1.9em;font-weight:700;
margin:2px 0;}.card .sub{font-size:.8em;color:#666;}
.card.bad .value{color:#d73027;}.card.good .value{color:#1a9850;}
.charts{display:grid;grid-template-columns:1fr;gap:14px;}
.charts img{max-width:100%;height:auto;border:1px solid #e3e7ee;border-radius:6px;}
table{border-collapse:collapse;width:100%;font-size:.85em;}
th,td{border:1px solid #d8dee8;padding:4px 6px;text-align:left;vertical-align:top;}
th{background:#dde4ee;}tr:nth-child(even) td{background:#f7f9fc;}
td{white-space:nowrap;}td.r{white-space:normal;min-width:18em;}
td.n{text-align:right;}tr.total td{font-weight:700;}
.s-covered{color:#1a9850;}.s-not{color:#d73027;font-weight:600;}.s-unreach{color:#555;
font-weight:600;}
ul.maps{padding-left:20px;}ul.maps li{margin:3px 0;}
footer{margin-top:30px;color:#777;font-size:.8em;}
@media print{body{background:#fff;}main{padding:0;}h2{break-after:avoid;}
.charts img{break-inside:avoid;}}
"""


def _with_total(result: AuditResult) -> pd.DataFrame:
    """The district table with its total row (a district's part of a result has none)."""
    if (result.districts["district"] == ALL_DISTRICTS).any():
        return result.districts
    return district_table(result.communities)


def _cards(result: AuditResult, table: pd.DataFrame, t: dict[str, str]) -> str:
    row = table[table["district"] == ALL_DISTRICTS].iloc[0]
    h = {str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    halls = result.halls
    adequate = halls["floor_area_adequate"] if "floor_area_adequate" in halls else pd.Series()
    known = int(adequate.notna().sum())
    below = int((adequate == False).sum())  # noqa: E712 (NA is not False)
    halls_sub = (
        t["halls_of"].format(halls=len(halls), known=known)
        if known
        else t["no_area"].format(halls=len(halls))
    )
    cards = [
        ("", t["communities"], f"{h['communities']:,}", ""),
        ("good" if h["covered_share"] >= 1 else "", t["covered_share"],
         _num(h["covered_share"], "{:.1%}"), t["covered_of"].format(**h)),
        ("", t["population_covered_share"], _num(h["population_covered_share"], "{:.1%}"),
         t["population_of"].format(**h)),
        ("bad" if h["unreachable"] else "", t["unreachable"], f"{h['unreachable']:,}",
         t["unreachable_note"]),
        ("bad" if below else "", t["halls_below"], f"{below:,}" if known else "–", halls_sub),
    ]  # fmt: skip
    return "".join(
        f'<div class="card {cls}"><div class="label">{_esc(label)}</div>'
        f'<div class="value">{_esc(value)}</div><div class="sub">{_esc(sub)}</div></div>'
        for cls, label, value, sub in cards
    )


def _district_rows(table: pd.DataFrame, lang: Lang) -> str:
    rows = []
    for i, r in enumerate(table.to_dict(orient="records"), start=1):
        total = r["district"] == ALL_DISTRICTS
        name = TOTAL_LABEL[lang] if total else r["district"]
        rows.append(
            f'<tr{" class=total" if total else ""}><td class="n">{"" if total else i}</td>'
            f"<td>{_esc(name)}</td><td class=n>{_num(r['communities'], '{:,.0f}')}</td>"
            f"<td class=n>{_num(r['covered'], '{:,.0f}')}</td>"
            f"<td class=n>{_num(r['covered_share'], '{:.1%}')}</td>"
            f"<td class=n>{_num(r['population_covered_share'], '{:.1%}')}</td>"
            f"<td class=n>{_num(r['unreachable'], '{:,.0f}')}</td>"
            f"<td class=n>{_num(r['median_travel_time_min'])}</td></tr>"
        )
    return "".join(rows)


_STATUS_CLASS = {
    STATUS_COVERED: "s-covered",
    STATUS_NOT_COVERED: "s-not",
    STATUS_UNREACHABLE: "s-unreach",
}


def _worst_rows(worst: pd.DataFrame, lang: Lang) -> str:
    values = _ZH_VALUES if lang == "zh" else {}
    rows = []
    for i, (_, r) in enumerate(worst.iterrows(), start=1):
        status = str(r["status"])
        kind = str(r["kind"])
        rows.append(
            f"<tr><td class=n>{i}</td><td>{_esc(r.get('name'))}</td>"
            f"<td>{_esc(r['community_id'])}</td><td>{_esc(r.get('district'))}</td>"
            f"<td>{_esc(values.get('kind', {}).get(kind, kind))}</td>"
            f"<td class=n>{_num(r['population'], '{:,.0f}')}</td>"
            f"<td class=n>{_num(r['travel_time_min'])}</td>"
            f"<td class=n>{_num(r['threshold_min'], '{:g}')}</td>"
            f"<td class=n>{_num(r['shortfall_min'])}</td>"
            f"<td>{_esc(r.get('nearest_hall_name'))}</td>"
            f'<td class="{_STATUS_CLASS.get(status, "")}">'
            f"{_esc(values.get('status', {}).get(status, status))}</td>"
            f"<td class=r>{_esc(reason_zh(r.get('reason')) if lang == 'zh' else r.get('reason'))}"
            "</td></tr>"
        )
    return "".join(rows)


def html_summary(
    result: AuditResult,
    *,
    title: str,
    maps: Mapping[str, str | PurePath] | None = None,
    lang: Lang = "zh",
) -> str:
    """The one-page HTML summary of an audit, as text (see :func:`write_html_summary`).

    Parameters
    ----------
    result
        An audit result.
    title
        Page title (escaped).
    maps
        Link text → relative path of a map file (e.g. ``{"全部": "map.html"}``).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        A complete HTML document with no external resources.

    Examples
    --------
    >>> from coverage.audit import audit
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> result = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> page = html_summary(result, title="网格", maps={"全部": "map.html"})
    >>> '<div class="value">80.0%</div>' in page, 'href="map.html"' in page
    (True, True)
    """
    _check_lang(lang)
    t = _TEXT[lang]
    cfg = result.config
    table = _with_total(result)
    per_district = table[table["district"] != ALL_DISTRICTS]
    links = "".join(
        f'<li><a href="{_href(target)}">{_esc(label)}</a></li>'
        for label, target in (maps or {}).items()
    )
    bar, hist, numbered = _charts(result, per_district, lang)
    n_illus = (
        int(result.halls["illustrative"].fillna(value=False).astype(bool).sum())
        if "illustrative" in result.halls
        else 0
    )
    mode = result.network.get("mode", cfg.mode)
    rules = t["rules"].format(
        urban=cfg.urban_threshold_min,
        rural=cfg.rural_threshold_min,
        mode=_MODE_NAMES[lang].get(str(mode), str(mode)),
        speed=_num(result.network.get("speed_kph"), "{:g}"),
        area=cfg.floor_area_m2_per_100_households,
    )
    worst = _worst(result.communities)
    source = result.network.get("source")
    foot = "Road data © OpenStreetMap contributors, ODbL 1.0"
    if source:
        foot = f"{PurePath(str(source)).name} · {foot}"
    district_head = "".join(
        f"<th>{_esc(x)}</th>"
        for x in ("#", t["district"], t["n_communities"], t["n_covered"], t["covered_share"],
                  t["population_covered_share"], t["unreachable"], t["median"])
    )  # fmt: skip
    worst_head = "".join(
        f"<th>{_esc(t[k])}</th>"
        for k in ("rank", "name", "id", "district", "kind", "population", "minutes",
                  "threshold", "over", "nearest", "status", "reason")
    )  # fmt: skip
    doubts = "".join(
        f"<p class=doubt>{_esc(coord_check_text(c.label, c.declared, c.fits, c.points, lang))}</p>"
        for c in result.coordinate_checks
        if c.doubt
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_esc(title)}</h1><p class=rules>{_esc(rules)}</p>",
        f"<p class=note>{_esc(t['illustrative'].format(n=n_illus))}</p>" if n_illus else "",
        doubts,
        f"<section class=cards>{_cards(result, table, t)}</section>",
        f"<h2>{_esc(t['by_district'])}</h2><div class=charts>",
        f'<img alt="{_esc(t["chart_bar"])}" src="data:image/png;base64,{bar}">',
        f"<p class=rules>{_esc(t['numbered'])}</p>" if numbered else "",
        f"<table class=districts><thead><tr>{district_head}</tr></thead>",
        f"<tbody>{_district_rows(table, lang)}</tbody></table>",
        f"</div><h2>{_esc(t['times'])}</h2><div class=charts>",
        f'<img alt="{_esc(t["chart_hist"])}" src="data:image/png;base64,{hist}"></div>',
        f"<h2>{_esc(t['worst'].format(n=len(worst)))}</h2>",
        f"<table class=worst><thead><tr>{worst_head}</tr></thead>",
        f"<tbody>{_worst_rows(worst, lang)}</tbody></table>",
        f"<h2>{_esc(t['maps'])}</h2><ul class=maps>{links}</ul>" if links else "",
        f"<footer>{_esc(foot)}</footer></main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def write_html_summary(
    path: str | os.PathLike[str],
    result: AuditResult,
    *,
    title: str,
    maps: Mapping[str, str | PurePath] | None = None,
    lang: Lang = "zh",
) -> Path:
    """Write a one-page HTML summary of an audit for meetings, atomically.

    The page holds the key figures (communities, share of communities and of population
    covered, unreachable communities, halls below the floor-area standard), a bar chart of
    coverage by district with the district table, a histogram of travel times (minutes) with
    the urban and rural limits marked, the 10 worst-served communities, and links to the
    maps. Charts are drawn with matplotlib (Agg) and embedded as base64 PNG images; the page
    loads nothing from elsewhere. Chart labels are Chinese when a font with Chinese glyphs
    is installed (e.g. Noto Sans CJK), English otherwise. All names are escaped.

    Parameters
    ----------
    path
        Destination ``.html`` file; its folder is created if needed.
    result
        An audit result (or one district's part of it).
    title
        Page title (plain text; escaped).
    maps
        Link text → path of a map file relative to ``path``'s folder, e.g.
        ``{"全部": "map.html", "示意片区A": "示意片区A/map.html"}``.
    lang
        ``"zh"`` or ``"en"`` page text.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputDataError
        If a map link is an absolute path or URL.

    Examples
    --------
    >>> import tempfile
    >>> from coverage.audit import audit
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> result = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     page = write_html_summary(Path(d) / "summary.html", result, title="Grid <test>",
    ...                               maps={"all": "map.html"}, lang="en")
    ...     text = page.read_text(encoding="utf-8")
    >>> "<h1>Grid &lt;test&gt;</h1>" in text, text.count("data:image/png;base64,")
    (True, 2)
    """
    text = html_summary(result, title=title, maps=maps, lang=lang)
    return write_text_atomic(Path(path), text)


# --------------------------------------------------------------------------------------------
# Everything for one run: a folder per district
# --------------------------------------------------------------------------------------------


def _fingerprint(part: AuditResult, title: str, opts: dict[str, Any], offline: bool) -> str:
    """A hash of a district's results and the output options, to recognise finished folders."""
    import hashlib  # noqa: PLC0415

    table = pd.DataFrame(part.communities.drop(columns=part.communities.geometry.name))
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(table.astype(str), index=True).to_numpy().tobytes())
    digest.update(repr((title, sorted(opts.items()), offline)).encode("utf-8"))
    return digest.hexdigest()[:20]


def _finished(folder: Path, stamp: str) -> bool:
    """Whether a district folder was completed by a run with the same fingerprint."""
    summary = folder / "summary.json"
    try:
        return bool(json.loads(summary.read_text(encoding="utf-8")).get("fingerprint") == stamp)
    except (OSError, ValueError):
        return False


def write_district_reports(  # noqa: PLR0915 (one folder after another, kept in one place)
    out_dir: str | os.PathLike[str],
    result: AuditResult,
    *,
    districts: gpd.GeoDataFrame | None = None,
    title: str = "社区服务中心覆盖评估",
    lang: Lang = "zh",
    basemap: Basemap = "osm",
    run: str | None = None,
    progress: bool = False,
    tianditu_key: str | None = None,
    offline: bool = True,
    isochrones: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    resume: bool = False,
) -> dict[str, Path]:
    """Write a run's folder: every file for the whole audit and one sub-folder per district.

    ``out_dir`` receives ``map.html``, ``communities.csv``, ``halls.csv``, ``summary.csv``,
    ``summary.json``, ``report.xlsx``, ``report.gpkg`` and ``summary.html`` (linking to every
    district's map); each district's folder (named by :func:`safe_name`, made unique)
    receives ``map.html``, ``communities.csv``, ``halls.csv``, ``summary.json``,
    ``report.xlsx`` and ``summary.html``. Every file is written atomically.

    Parameters
    ----------
    out_dir
        The run's folder; created if needed. No file is written outside it.
    result
        An audit result; every district in its ``communities`` gets a folder.
    districts
        Optional district polygons with a ``district`` column, any CRS (maps, GeoPackage).
    title
        Title of the maps and summaries (plain text); district pages add the district name.
    lang
        ``"zh"`` or ``"en"``: labels of the maps, workbooks and summaries.
    basemap
        Map tiles (see :func:`coverage.maps.new_map`); ``"blank"`` needs no network.
    run
        Name of the run, recorded in the top ``summary.json``.
    progress
        Show a progress bar over the districts.
    tianditu_key
        Tianditu API key (for ``basemap="tianditu"``).
    offline
        Embed Leaflet in every map (see :func:`coverage.maps.save_map`).
    isochrones
        Optional service-area bands (:func:`coverage.isochrones.isochrones`, ``per="all"``)
        drawn on the maps and stored in the GeoPackage; each district map shows them around
        its communities.
    catchments
        Optional catchments of the halls (``per="hall"``): a map layer (each district map
        shows its halls' catchments) and a GeoPackage layer.
    resume
        Keep district folders that an earlier, interrupted run finished with the same results
        and options (their ``summary.json``, written last, carries a fingerprint); write the
        rest. Each file is written atomically, so no folder holds a half-written file.

    Returns
    -------
    dict of str to pathlib.Path
        District name → its folder; ``"(all)"`` → ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> from coverage.audit import audit
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> result = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     folders = write_district_reports(d, result, basemap="blank")
    ...     files = sorted(p.name for p in folders["West"].iterdir())
    >>> sorted(folders)
    ['(all)', 'East', 'West']
    >>> files
    ['communities.csv', 'halls.csv', 'map.html', 'report.xlsx', 'summary.html', 'summary.json']
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    from coverage.maps import coverage_map, save_map  # noqa: PLC0415

    _check_lang(lang)
    opts: dict[str, Any] = {"lang": lang, "basemap": basemap, "tianditu_key": tianditu_key}
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    names = sorted(result.communities["district"].astype(str).unique())
    polygons = districts if districts is not None and "district" in districts.columns else None
    folders: dict[str, Path] = {}
    used: set[str] = set()
    if resume:  # temporary files of an interrupted run: never renamed, so never complete
        for stale in root.rglob(".*.tmp"):
            stale.unlink(missing_ok=True)
    for district in tqdm(names, desc="writing districts", disable=not progress, unit="district"):
        folder = safe_name(district)
        while folder in used:
            folder += "_"
        used.add(folder)
        ddir = inside(root, root / folder)
        part = result.district(district)
        stamp = _fingerprint(part, title, opts, offline)
        folders[district] = ddir
        if resume and _finished(ddir, stamp):
            logger.info("resume: %s is complete, kept as it is", ddir)
            continue
        dpoly = None
        if polygons is not None:
            dpoly = polygons[polygons["district"].astype(str) == district]
        page_title = f"{title}: {district}"
        iso = _around(isochrones, part.communities)
        catch = None
        if catchments is not None:
            catch = catchments[catchments["hall_id"].isin(part.halls["hall_id"])]
        m = coverage_map(
            part, districts=dpoly, title=page_title, isochrones=iso, catchments=catch, **opts
        )
        save_map(m, ddir / "map.html", offline=offline)
        write_csv(ddir / "communities.csv", part.communities)
        write_csv(ddir / "halls.csv", part.halls)
        write_excel(ddir / "report.xlsx", part, lang=lang)
        write_html_summary(
            ddir / "summary.html", part, title=page_title, maps={district: "map.html"}, lang=lang
        )
        # written last: its presence (with this fingerprint) marks the folder complete
        write_json(
            ddir / "summary.json",
            district_summary(part) | {"district": district, "folder": folder, "fingerprint": stamp},
        )
    m = coverage_map(
        result, districts=districts, title=title, isochrones=isochrones, catchments=catchments,
        **opts,
    )  # fmt: skip
    save_map(m, root / "map.html", offline=offline)
    write_csv(root / "communities.csv", result.communities)
    write_csv(root / "halls.csv", result.halls)
    write_csv(root / "summary.csv", result.districts)
    extra = {"run": run} if run is not None else {}
    write_json(root / "summary.json", district_summary(result) | extra)
    write_excel(root / "report.xlsx", result, lang=lang)
    write_geopackage(
        root / "report.gpkg", result, districts=districts, isochrones=isochrones,
        catchments=catchments,
    )  # fmt: skip
    everything = "全部" if lang == "zh" else "all districts"
    links = {everything: "map.html"} | {d: PurePath(p.name, "map.html") for d, p in folders.items()}
    write_html_summary(root / "summary.html", result, title=title, maps=links, lang=lang)
    folders[ALL_DISTRICTS] = root
    return folders


#: District maps show the service areas this far around their communities, metres.
AREA_MARGIN_M = 3000.0


def _around(areas: gpd.GeoDataFrame | None, points: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The service areas clipped to the communities' extent plus :data:`AREA_MARGIN_M`."""
    if areas is None or len(points) == 0 or len(areas) == 0:
        return areas
    metric = points.geometry.estimate_utm_crs()
    x0, y0, x1, y1 = points.geometry.to_crs(metric).total_bounds
    box = gpd.GeoSeries(
        [
            shapely.box(
                x0 - AREA_MARGIN_M, y0 - AREA_MARGIN_M, x1 + AREA_MARGIN_M, y1 + AREA_MARGIN_M
            )
        ],
        crs=metric,
    ).to_crs(areas.crs)
    return areas.clip(box.iloc[0])


def write_proposal_reports(
    out_dir: str | os.PathLike[str],
    result: ProposalResult,
    after: AuditResult,
    *,
    districts: gpd.GeoDataFrame | None = None,
    title: str = "社区服务中心选址建议",
    lang: Lang = "zh",
    basemap: Basemap = "osm",
    tianditu_key: str | None = None,
    offline: bool = True,
) -> dict[str, Path]:
    """Write a proposal's folder: tables, a map, and one sub-folder per district.

    ``out_dir`` receives ``proposals.csv``, ``groups.csv`` (一站多居 groups; members joined
    by ``;``), ``uncoverable.csv``, ``data_problems.csv`` (communities on map-data islands,
    left out of the siting, with the reason), ``scenario.csv`` (before/after),
    ``communities_after.csv``, ``solver.json`` and ``map.html``; each district's folder (named
    by :func:`safe_name`) its ``proposals.csv``, ``groups.csv`` (the groups that serve its
    communities) and ``map.html``. Every file is written atomically.

    Parameters
    ----------
    out_dir
        The folder; created if needed.
    result
        The proposal (:func:`coverage.siting.propose_halls`).
    after
        The audit with the proposed halls open (:func:`coverage.siting.verify_proposal`).
    districts
        Optional district polygons with a ``district`` column, any CRS.
    title
        Title of the maps (district maps add the district name).
    lang, basemap, tianditu_key, offline
        Map options (see :func:`write_district_reports`).

    Returns
    -------
    dict of str to pathlib.Path
        District name → its folder; ``"(all)"`` → ``out_dir``.
    """
    from coverage.maps import coverage_map, save_map  # noqa: PLC0415

    opts: dict[str, Any] = {"lang": lang, "basemap": basemap, "tianditu_key": tianditu_key}
    out = Path(out_dir)
    proposals = result.proposals.copy()
    proposals["members"] = proposals["members"].map(lambda m: ";".join(map(str, m)))
    groups = result.groups.copy()
    groups["members"] = groups["members"].map(lambda m: ";".join(map(str, m)))
    problems = after.communities.drop(columns="reason").merge(
        result.data_problems[["community_id", "reason"]], on="community_id", how="inner"
    )
    for name, table in (
        ("proposals", proposals), ("groups", groups), ("uncoverable", result.uncoverable),
        ("data_problems", problems), ("scenario", result.scenario),
        ("communities_after", after.communities),
    ):  # fmt: skip
        write_csv(out / f"{name}.csv", table)
    write_json(out / "solver.json", {"model": result.model, **result.solver})
    assigned = after.communities.assign(site_id=result.communities["assigned_hall_id"].to_numpy())
    m = coverage_map(
        after, districts=districts, title=title, proposals=result.proposals,
        assignments=assigned, data_problems=problems, **opts,
    )  # fmt: skip
    save_map(m, out / "map.html", offline=offline)
    folders = {ALL_DISTRICTS: out}
    # one folder per district: the groups that serve its communities, and its map
    district_of = dict(
        zip(after.communities["community_id"], after.communities["district"], strict=True)
    )
    for name in sorted(after.communities["district"].astype(str).unique()):
        ddir = folders[name] = inside(out, out / safe_name(name))
        part_groups = groups[
            [any(district_of.get(c) == name for c in ms) for ms in result.groups["members"]]
        ]
        part_props = proposals[proposals["site_id"].isin(part_groups["hall_id"])]
        write_csv(ddir / "proposals.csv", part_props)
        write_csv(ddir / "groups.csv", part_groups)
        dpoly = None
        if districts is not None and "district" in districts.columns:
            dpoly = districts[districts["district"].astype(str) == name]
        m = coverage_map(
            after.district(name), districts=dpoly, title=f"{title}: {name}",
            proposals=result.proposals[result.proposals["site_id"].isin(part_props["site_id"])],
            assignments=assigned[assigned["district"].astype(str) == name],
            data_problems=problems[problems["district"].astype(str) == name], **opts,
        )  # fmt: skip
        save_map(m, ddir / "map.html", offline=offline)
    return folders
