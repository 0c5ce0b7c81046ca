"""Writing output files safely: folder names, paths kept inside the output folder, atomic writes.

Every file is written through a temporary file and a rename, so a stopped run leaves no
half-written file.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import stat
import tempfile
import tomllib
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from coverage._errors import CoverageError, InputDataError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "atomic_write",
    "inside",
    "safe_name",
    "write_csv",
    "write_json",
    "write_layer",
    "write_text_atomic",
]

#: GDAL drivers of the layer files :func:`write_layer` writes, by extension.
LAYER_DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON"}

#: What a folder name may not hold: anything but letters, digits (any script), ``_ - .``.
_UNSAFE = re.compile(r"[^\w.-]+")


def parse_toml(text: str, where: str, error: type[CoverageError]) -> dict[str, Any]:
    """A TOML text as a dict; a syntax error is ``error`` naming ``where``.

    Parameters
    ----------
    text
        The TOML text.
    where
        The file (or preset) it came from, for the message.
    error
        The error class to raise (e.g. :class:`~coverage.ConfigError`).

    Returns
    -------
    dict
        The parsed tables.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{where}: not a valid TOML file ({exc})"
        raise error(msg) from None


def read_toml(path: Path, what: str, error: type[CoverageError]) -> dict[str, Any]:
    """A TOML file as a dict; a missing, undecodable or invalid file is ``error`` naming it.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the message (``"configuration"``: "configuration file not
        found").
    error
        The error class to raise.

    Returns
    -------
    dict
        The parsed tables.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: {what} file not found"
        raise error(msg) from None
    except UnicodeDecodeError as exc:
        msg = f"{path}: not a valid TOML file ({exc})"
        raise error(msg) from None
    return parse_toml(text, str(path), error)


@functools.cache
def _umask() -> int:
    """The process's umask, read once (os.umask can only be read by setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def safe_name(name: object, *, fallback: str = "unnamed") -> str:
    """A folder name made from any text, safe in a shell loop, keeping the text's words.

    The rule: letters and digits of any script (Chinese characters included), ``-``, ``.``
    and ``_`` are kept; every other run of characters (spaces, brackets, slashes, quotes and
    the shell's metacharacters ``$ & ; | < > * ? ! ~ ` ' "``) becomes one ``_``; leading
    and trailing ``_ . -`` are dropped (no hidden ``.`` folders, no ``..``, no name that
    reads as a ``-option``); at most 120 characters; Windows device names get a leading
    ``_``. So ``for d in maps/run/*/; do ...; done`` needs no quoting.

    Parameters
    ----------
    name
        Any value (a district name, for example).
    fallback
        Used when nothing usable is left.

    Returns
    -------
    str
        A single path component.

    Examples
    --------
    >>> safe_name("示意片区A (illustrative zone A)")
    '示意片区A_illustrative_zone_A'
    >>> safe_name("../../etc"), safe_name("西湖区/北山"), safe_name("-rf *")
    ('etc', '西湖区_北山', 'rf')
    """
    text = unicodedata.normalize("NFC", str(name))
    parts = (p.strip("._-") for p in _UNSAFE.split(text))
    text = "_".join(p for p in parts if p)[:120].rstrip("._-")
    if text.upper() in {"CON", "PRN", "AUX", "NUL"}:
        text = f"_{text}"
    return text or fallback


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


def _file_mode(path: Path) -> int:
    """Permissions for a new output file: those of the file it replaces, else 0o666 - umask.

    (:func:`tempfile.mkstemp` creates files readable by their owner only, which would make
    reports unreadable by colleagues on a shared drive.)
    """
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def atomic_write(path: Path, write: Callable[[Path], None], *, suffix: str = ".tmp") -> Path:
    """Write ``path`` through a temporary file in its folder and a rename.

    Parameters
    ----------
    path
        Destination; its folder is created if needed.
    write
        Writes the content to the temporary path it is given.
    suffix
        Ending of the temporary file's name (some writers check the extension).

    Returns
    -------
    pathlib.Path
        The path written. On any error the temporary file is removed and ``path`` is left
        as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        Path(tmp).chmod(_file_mode(path))
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

    return atomic_write(path, write)


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
    return atomic_write(path, lambda p: out.to_csv(p, index=False, encoding="utf-8-sig"))


def write_layer(path: Path, frame: gpd.GeoDataFrame, *, layer: str) -> Path:
    """Write one layer as a GeoPackage (``.gpkg``) or GeoJSON (``.geojson``) file, atomically.

    Parameters
    ----------
    path
        Destination; the extension chooses the format.
    frame
        The layer (any CRS; GeoJSON is written in EPSG:4326).
    layer
        Layer name (what QGIS shows).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    driver = LAYER_DRIVERS[path.suffix.lower()]
    if driver == "GeoJSON":
        frame = frame.to_crs(4326)

    def write(tmp: Path) -> None:
        tmp.unlink()  # GDAL creates the file itself
        frame.to_file(tmp, layer=layer, driver=driver, engine="pyogrio")

    return atomic_write(path, write, suffix=path.suffix)
