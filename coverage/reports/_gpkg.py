"""Every layer of an audit in one GeoPackage (for QGIS and ArcGIS)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from coverage._errors import CrsError, InputDataError
from coverage._files import (
    atomic_write,
)
from coverage.audit import (
    ALL_DISTRICTS,
    AuditResult,
)

if TYPE_CHECKING:
    import os


logger = logging.getLogger(__name__)


def geometry_name(frame: pd.DataFrame) -> str | None:
    """Name of a GeoDataFrame's active geometry column (``None`` for plain tables)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return None
    name = frame.active_geometry_name
    return str(name) if name is not None and name in frame.columns else None


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
        "districts": districts,
        "isochrones": isochrones,
        "catchments": catchments,
        "proposals": proposals,
    }
    for name, frame in given.items():
        if frame is None:
            continue
        if geometry_name(frame) is None:
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
