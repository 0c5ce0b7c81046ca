"""Reading a raw table from a file or a frame: CSV (any encoding), Excel, vector layers."""

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

from coverage._errors import InputDataError, list_ids
from coverage._validate import (
    alias_lookup,
    is_null,
    normalise_header,
    recognise,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy.typing as npt

    from coverage.io._headers import Source, Spec

logger = logging.getLogger(__name__)


_CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})


_EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})


_VECTOR_SUFFIXES = frozenset({".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb", ".gml", ".kml"})


_HEADER_SCAN_ROWS = 10


# Larger values cannot be true of one community or hall: no community houses 10 million people,
# and Hangzhou's largest halls have a few thousand m². Such values are typos or wrong units.
MAX_VALUE = {
    "population": 1e7,
    "households": 5e6,
    "area_m2": 1e10,
    "floor_area_m2": 1e6,
}


_UNNAMED = re.compile(r"^unnamed(:\s*\d+)?$", re.IGNORECASE)


@dataclass
class Table:
    """An input read as it is, before any column is interpreted."""

    label: str
    data: pd.DataFrame  # attribute columns, string headers, RangeIndex
    source_row: npt.NDArray[np.int64]
    row_labels: list[object]
    row_noun: str
    geometry: Any = None  # geopandas.GeoSeries aligned with data, or None
    notes: list[str] = field(default_factory=list)


def load(
    source: Source,
    *,
    layer: str | int | None,
    sheet: str | int | None,
    spec: Spec,
    columns: Mapping[str, str] | None,
) -> Table:
    """Read any supported source into a :class:`Table`, turning library errors into ours."""
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


def _from_frame(frame: pd.DataFrame, spec: Spec) -> Table:
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
    return Table(
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


def _read_csv(path: Path, lookup: Mapping[str, str], explicit: set[str]) -> Table:
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
) -> Table:
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
) -> Table:
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
) -> Table:
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
    return Table(
        label=label,
        data=data,
        source_row=np.arange(1, len(data) + 1, dtype=np.int64),
        row_labels=list(range(1, len(data) + 1)),
        row_noun="feature",
        geometry=geometry,
    )


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
) -> Table:
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
    return Table(
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
