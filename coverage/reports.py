"""Output folders: per-district map, tables and summary, written safely.

Every file is written to a temporary name in the same folder and then renamed, so an
interrupted run never leaves a half-written file. Folder names come from
:func:`safe_name`, so a district called ``../../etc`` or ``西湖区/北山`` stays inside the
output folder.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from coverage._errors import InputDataError

if TYPE_CHECKING:
    from collections.abc import Callable

    from coverage.audit import AuditResult

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_name(name: object, *, fallback: str = "unnamed") -> str:
    """A folder name made from any text: no path separators, no leading dots, not empty.

    Parameters
    ----------
    name
        Any value (a district name, for example).
    fallback
        Used when nothing usable is left.

    Returns
    -------
    str
        A single path component; Chinese characters are kept.

    Examples
    --------
    >>> safe_name("../../etc")
    'etc'
    >>> safe_name("西湖区/北山")
    '西湖区_北山'
    """
    text = unicodedata.normalize("NFC", str(name))
    parts = [p.strip(" .") for p in _UNSAFE.split(text)]
    text = "_".join(p for p in parts if p)
    if text.upper() in {"CON", "PRN", "AUX", "NUL"}:
        text = f"_{text}"
    return text[:120] or fallback


def inside(root: Path, path: Path) -> Path:
    """Check that ``path`` lies inside ``root`` and return it resolved.

    Parameters
    ----------
    root
        The output folder.
    path
        A path that must be inside it.

    Returns
    -------
    pathlib.Path
        The resolved path.

    Raises
    ------
    InputDataError
        If ``path`` would escape ``root``.
    """
    r = root.resolve()
    p = path.resolve()
    if p != r and r not in p.parents:
        msg = f"refusing to write {p}: outside the output folder {r}"
        raise InputDataError(msg)
    return p


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write text to ``path`` through a temporary file and a rename.

    Parameters
    ----------
    path
        Destination.
    text
        Content.
    encoding
        Text encoding.

    Returns
    -------
    pathlib.Path
        The path written.
    """

    def write(p: Path) -> None:
        p.write_text(text, encoding=encoding)

    return _atomic(path, write)


def _jsonable(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, data: dict[str, Any]) -> Path:
    """Write a JSON file (UTF-8, Chinese kept readable, NaN as null), atomically.

    Parameters
    ----------
    path
        Destination.
    data
        JSON-able mapping (numpy scalars are converted).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    text = json.dumps(_jsonable(data), ensure_ascii=False, indent=2)
    return write_text_atomic(path, text + "\n")


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Write a table as CSV in UTF-8 with a BOM (so Excel shows Chinese), atomically.

    Geometry columns become ``lon`` and ``lat`` (EPSG:4326, degrees).

    Parameters
    ----------
    path
        Destination.
    frame
        The table.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    out = pd.DataFrame(frame)
    if isinstance(frame, gpd.GeoDataFrame):
        pts = frame.geometry.to_crs(4326)
        out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        out["lon"] = pts.x.round(7)
        out["lat"] = pts.y.round(7)
    return _atomic(path, lambda p: out.to_csv(p, index=False, encoding="utf-8-sig"))


def district_summary(result: AuditResult) -> dict[str, Any]:
    """The ``summary.json`` content of an audit (or of one district's part of it).

    Parameters
    ----------
    result
        An audit result.

    Returns
    -------
    dict
        Headline figures, the district rows, the configuration and the network summary.
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
        "attribution": "Road data © OpenStreetMap contributors, ODbL 1.0",
    }
