"""The Excel workbook: district summary, communities, halls; numbers as numbers."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import unicodedata
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import CrsError
from coverage._files import (
    atomic_write,
)
from coverage._licence import ROAD_DATA_ATTRIBUTION
from coverage.audit import (
    ALL_DISTRICTS,
    AuditResult,
)
from coverage.i18n import coord_check_text
from coverage.reports._gpkg import geometry_name
from coverage.reports._labels import (
    SHEET_NAMES,
    TOTAL_LABEL,
    ZH_VALUES,
    Lang,
    check_lang,
    header,
    in_language,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping


logger = logging.getLogger(__name__)


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


_MAX_WIDTH = 50


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


def _flatten(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """A plain table: the geometry becomes ``lon``/``lat`` (EPSG:4326, degrees).

    Points keep their coordinates; other shapes are represented by a point inside them.
    Other geometry columns become WKT text.
    """
    geom_name = geometry_name(frame)
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
    headers = [header(c, lang) for c in columns]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE4EE")
    for j, text in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=j, value=text)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    widths = [min(_display_width(h), _MAX_WIDTH) for h in headers]
    translate = ZH_VALUES if lang == "zh" else {}
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
        ("attribution", ROAD_DATA_ATTRIBUTION),
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
    extra_sheets: Mapping[str, pd.DataFrame] | None = None,
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
    extra_sheets
        More sheets (name → table), placed before the rules sheet.

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

    check_lang(lang)
    names = SHEET_NAMES[lang]
    summary = result.districts.copy()
    total = summary["district"] == ALL_DISTRICTS
    summary.loc[total, "district"] = TOTAL_LABEL[lang]
    communities = in_language(_flatten(result.communities, "communities"), lang)
    tables: list[tuple[str, pd.DataFrame, set[int]]] = [
        (names["summary"], summary, set(np.flatnonzero(total.to_numpy()).tolist())),
        (names["communities"], communities, set()),
        (names["halls"], _flatten(result.halls, "halls"), set()),
    ]
    if proposals is not None:
        tables.append((names["proposals"], _flatten(proposals, "proposals"), set()))
    for name, frame in (extra_sheets or {}).items():
        tables.append((name, _flatten(frame, name), set()))
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
