"""The Excel workbook: district summary, communities, halls; numbers as numbers."""

from __future__ import annotations

import datetime as dt
import html
import logging
import math
import re
import unicodedata
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

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
    YES_NO,
    ZH_VALUES,
    Lang,
    check_lang,
    header,
    in_language,
    mode_name,
    number_format,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping, Sequence


logger = logging.getLogger(__name__)


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


_MAX_WIDTH = 50


def _display_width(text: str) -> int:
    """Width of text in character cells (Chinese characters take two)."""
    if text.isascii():
        return len(text)
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


def flatten_geometry(frame: pd.DataFrame, what: str) -> pd.DataFrame:
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


_DATE_FORMATS = {dt.datetime: "yyyy-mm-dd h:mm:ss", dt.date: "yyyy-mm-dd", dt.time: "h:mm:ss"}


class Sheets:
    """An openpyxl workbook whose data rows are written as XML at save time.

    openpyxl writes the package, the styles, the header rows, column widths, frozen panes and
    filters; the data rows (tens of thousands of cells) are serialised here in one pass,
    which is about ten times faster than openpyxl's cell-by-cell writer, and spliced into
    each sheet's ``<sheetData>`` when the workbook is saved.
    """

    def __init__(self) -> None:
        from openpyxl import Workbook  # noqa: PLC0415

        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        self._scratch = self.wb.create_sheet("styles")
        self._styles: dict[tuple[str | None, bool], str] = {}
        self.rows: list[tuple[str, str]] = []  # per sheet: its dimension and its data rows

    def style(self, fmt: str | None, bold: bool) -> str:
        """The ``s`` attribute of a cell with this number format and weight ("" for none)."""
        key = (fmt, bold)
        if key not in self._styles:
            from openpyxl.styles import Font  # noqa: PLC0415

            if fmt is None and not bold:
                self._styles[key] = ""
            else:
                cell = self._scratch.cell(row=len(self._styles) + 1, column=1)
                if fmt is not None:
                    cell.number_format = fmt
                if bold:
                    cell.font = Font(bold=True)
                self._styles[key] = f' s="{cell.style_id}"'
        return self._styles[key]

    def save(self, path: Path) -> None:
        """Save the workbook with its data rows to ``path``."""
        import io  # noqa: PLC0415
        import zipfile  # noqa: PLC0415

        self.wb.remove(self._scratch)  # its styles stay in the workbook's style table
        buf = io.BytesIO()
        self.wb.save(buf)
        with (
            zipfile.ZipFile(buf) as zin,
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout,
        ):
            for item in zin.infolist():
                data = zin.read(item)
                match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", item.filename)
                if match:
                    dimension, rows = self.rows[int(match.group(1)) - 1]
                    text = data.decode("utf-8")
                    text = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"', text)
                    text = text.replace("</sheetData>", rows + "</sheetData>", 1)
                    data = text.encode("utf-8")
                zout.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)


def _xml_cell(
    ref: str, value: object, fmt: str | None, bold: bool, sheets: Sheets
) -> tuple[str, str]:
    """One cell as SpreadsheetML and the text it shows (for the column width)."""
    if value is None:
        return (f'<c r="{ref}"{sheets.style(None, bold)}/>' if bold else ""), ""
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        text = html.escape(value, quote=False)
        # inline text, never a formula (a name like "=1+1" stays text)
        style = sheets.style(None, bold)
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>', value
    if isinstance(value, dt.date | dt.time):
        from openpyxl.utils.datetime import to_excel  # noqa: PLC0415

        kind = next(k for k in _DATE_FORMATS if isinstance(value, k))
        style = sheets.style(_DATE_FORMATS[kind], bold)
        return f'<c r="{ref}"{style} t="n"><v>{to_excel(value)!r}</v></c>', str(value)
    number = value if isinstance(value, int | float) else float(str(value))
    shown = f"{number:.1%}" if fmt == "0.0%" else f"{number:,.1f}"
    return f'<c r="{ref}"{sheets.style(fmt, bold)} t="n"><v>{number!r}</v></c>', shown


def _numeric_column(
    series: pd.Series,
    letter: str,
    fmt: str | None,
    bold_rows: set[int],
    sheets: Sheets,
    cells: list[list[str]],
    width: int,
) -> int:
    """Append a column of plain numbers (int or float dtype) to ``cells``; its width."""
    plain = sheets.style(fmt, bold=False)
    values = series.tolist()
    for i, v in enumerate(values):
        if v != v or v in (math.inf, -math.inf):  # NaN, infinite: an empty cell  # noqa: PLR0124
            if i in bold_rows:
                cells[i].append(f'<c r="{letter}{i + 2}"{sheets.style(None, bold=True)}/>')
            continue
        style = sheets.style(fmt, bold=True) if i in bold_rows else plain
        cells[i].append(f'<c r="{letter}{i + 2}"{style} t="n"><v>{v!r}</v></c>')
    shown = [v for v in values[:1000] if v == v and v not in (math.inf, -math.inf)]  # noqa: PLR0124
    if shown:
        text = [f"{v:.1%}" for v in shown] if fmt == "0.0%" else [f"{v:,.1f}" for v in shown]
        width = max(width, min(max(len(t) for t in text), _MAX_WIDTH))
    return width


def _any_column(
    series: pd.Series,
    letter: str,
    fmt: str | None,
    mapping: dict[str, str],
    yes_no: tuple[str, str],
    bold_rows: set[int],
    sheets: Sheets,
    cells: list[list[str]],
    width: int,
) -> int:
    """Append a column of any values to ``cells``, typed cell by cell; its width."""
    yes, no = yes_no
    for i, raw in enumerate(series.tolist()):
        value = _cell_value(raw)
        if isinstance(value, bool):
            value = yes if value else no
        elif isinstance(value, str):
            value = mapping.get(value, value)
        xml, shown = _xml_cell(f"{letter}{i + 2}", value, fmt, i in bold_rows, sheets)
        if xml:
            cells[i].append(xml)
        if i < 1000:  # noqa: PLR2004 (enough rows to size a column)
            width = max(width, min(_display_width(shown), _MAX_WIDTH))
    return width


def write_sheet(
    sheets: Sheets,
    title: str,
    frame: pd.DataFrame,
    lang: Lang,
    *,
    bold_rows: set[int] | None = None,
) -> None:
    """One sheet: bold frozen header, typed cells, number formats, column widths, filter."""
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    ws = sheets.wb.create_sheet(title)
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
    bold_rows = bold_rows or set()
    n = len(frame)
    cells: list[list[str]] = [[] for _ in range(n)]
    for j, col in enumerate(columns):
        fmt = number_format(col)
        mapping = translate.get(col, {})
        letter = get_column_letter(j + 1)
        series = frame.iloc[:, j]
        if series.dtype.kind in "iuf":  # plain numbers: the same cells, without the checks
            widths[j] = _numeric_column(series, letter, fmt, bold_rows, sheets, cells, widths[j])
            continue
        widths[j] = _any_column(
            series, letter, fmt, mapping, YES_NO[lang], bold_rows, sheets, cells, widths[j]
        )
    rows = "".join(f'<row r="{i + 2}">{"".join(c)}</row>' for i, c in enumerate(cells))
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(width, 6) + 2
    ws.freeze_panes = "A2"
    last = f"{get_column_letter(max(len(columns), 1))}{n + 1}"
    if columns:
        ws.auto_filter.ref = f"A1:{last}"
    sheets.rows.append((f"A1:{last}", rows))


def _about_rows(result: AuditResult, lang: Lang) -> list[tuple[str, object]]:
    """Rules and provenance of an audit, as (label, value) rows."""
    cfg = result.config
    net = result.network
    source = net.get("source")
    rows_en: list[tuple[str, object]] = [
        ("Urban limit (min)", cfg.urban_threshold_min),
        ("Rural limit (min)", cfg.rural_threshold_min),
        ("Travel mode", mode_name(net.get("mode"), lang)),
        ("Speed (km/h)", net.get("speed_kph")),
        ("Longest distance to a road (m)", cfg.max_snap_m),
        ("Floor-area standard (m² per 100 households)", cfg.floor_area_m2_per_100_households),
        ("Network file", PurePath(str(source)).name if source else None),
        ("Coordinates", "WGS-84 (EPSG:4326)"),
        ("Attribution", ROAD_DATA_ATTRIBUTION),
    ]
    checks = [
        (
            "坐标系核查" if lang == "zh" else "Coordinate check",
            coord_check_text(c.label, c.declared, c.fits, c.points, lang),
        )
        for c in result.coordinate_checks
    ]
    if lang == "en":
        return rows_en + checks
    labels = [
        "城市社区标准(分钟)",
        "农村社区标准(分钟)",
        "出行方式",
        "速度(千米/小时)",
        "距道路最大距离(米)",
        "用房面积标准(㎡/百户)",
        "路网文件",
        "坐标系",
        "数据来源",
    ]
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
    decimal, people and households with thousands separators; true/false as yes/no in the
    workbook's language. Geometries become ``lon`` and
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
        ``"zh"``: Chinese sheet names, headers (e.g. 区县, 覆盖率, 出行时间(分钟)), values
        (已覆盖, 城市, 是/否) and travel mode (步行); ``"en"``: headers as words with their
        units (e.g. "Travel time (min)"), Yes/No, and the mode in words ("on foot").
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
    check_lang(lang)
    names = SHEET_NAMES[lang]
    summary = result.districts.copy()
    total = summary["district"] == ALL_DISTRICTS
    summary.loc[total, "district"] = TOTAL_LABEL[lang]
    communities = in_language(flatten_geometry(result.communities, "communities"), lang)
    tables: list[tuple[str, pd.DataFrame, set[int]]] = [
        (names["summary"], summary, set(np.flatnonzero(total.to_numpy()).tolist())),
        (names["communities"], communities, set()),
        (names["halls"], flatten_geometry(result.halls, "halls"), set()),
    ]
    if proposals is not None:
        tables.append((names["proposals"], flatten_geometry(proposals, "proposals"), set()))
    for name, frame in (extra_sheets or {}).items():
        tables.append((name, flatten_geometry(frame, name), set()))
    about = pd.DataFrame(
        _about_rows(result, lang), columns=["项目", "内容"] if lang == "zh" else ["Item", "Value"]
    )
    tables.append((names["about"], about, set()))
    return write_workbook(path, tables, lang=lang)


def write_workbook(
    path: str | os.PathLike[str],
    tables: Sequence[tuple[str, pd.DataFrame, set[int]]],
    *,
    lang: Lang = "zh",
) -> Path:
    """Write tables as the sheets of one workbook, atomically (the layout of :func:`write_excel`).

    Parameters
    ----------
    path
        Destination ``.xlsx`` file.
    tables
        ``(sheet name, table, rows to set in bold)``, in order; geometries are flattened to
        ``lon``/``lat`` (EPSG:4326, degrees).
    lang
        Language of the headers and values.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    sheets = Sheets()
    for title, frame, bold_rows in tables:
        write_sheet(sheets, title, flatten_geometry(frame, title), lang, bold_rows=bold_rows)
    logger.debug("writing %s (%d sheets)", path, len(tables))
    return atomic_write(Path(path), sheets.save, suffix=".xlsx")
