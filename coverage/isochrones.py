"""Service areas: where a community would be covered, by the audit's own rule.

A community's travel time (:func:`coverage.audit.audit`) is its off-road walk to the nearest
usable road segment (within ``config.max_snap_m``), plus the time along that segment to one
of its ends, plus the network time to the nearest hall. :func:`travel_time_surface` applies
exactly that rule to the centre of every cell of a square grid (``cell_m`` metres, 20 by
default) laid over the network: the cells are snapped with the communities' snapping index
(:func:`coverage.engine.snap_xy`) and timed by the same multi-source pass
(:func:`coverage.engine.nearest_facility`). A cell therefore carries the time, and the nearest
hall, that a community at its centre would get. Cells farther than the snap limit from every
usable road have no time and are not drawn.

:meth:`TravelTimeSurface.polygons` (and :func:`isochrones`, which makes the surface and draws
it) turns the cells into polygons:

- ``per="all"``: one polygon per band (e.g. 15 and 20 minutes), the cells whose time is
  within the band: *where a community would be covered*. The bands nest exactly.
- ``per="hall"``: **catchments**, the cells whose nearest hall is that hall, per band: which
  hall serves which block. Catchments of different halls never overlap.
- ``per="district"``: the catchments of the halls of each district, merged.

A cell that holds a community takes the community's own time and hall (given with
``communities=``): where roads meet, a point's nearest road can change within a few metres,
and a grid cannot sample every such sliver.

Drawing: cells are traced into rings through the mid-points of the cell edges, so corners
are cut at 45 degrees (:mod:`coverage._isogrid`); where two cells of one polygon touch only
at a corner, one of them moves to a later band (one that holds no community where it can),
so no cell is claimed by two halls and a community's cell keeps its band. The drawn areas
and the audit's verdicts agree to within about a cell (tested on every bundled sample).

The surface is a picture of the audit's verdicts, not a second computation of them: whether
a community is covered always comes from its own routed time.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._errors import (
    CoverageWarning,
    CrsError,
    InputDataError,
    MissingColumnError,
    counted,
    list_ids,
)
from coverage._isogrid import MAX_TILE_CELLS, Marks, draw
from coverage.engine import Snapped, nearest_facility, snap, snap_xy
from coverage.network import memo_arrays

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from coverage.config import Config
    from coverage.network import Network

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

__all__ = ["TravelTimeSurface", "isochrones", "travel_time_surface"]

logger = logging.getLogger(__name__)

Per = Literal["hall", "district", "all"]

#: Smallest grid cell, metres.
MIN_CELL_M = 1.0
#: Side of the coarse blocks used to find the cells within reach of a road, in cells.
_BLOCK = 8


@dataclass(frozen=True)
class TravelTimeSurface:
    """Travel time to the nearest hall at the centre of every grid cell within reach of a road.

    Cell ``(row, col)`` covers ``col * cell_m <= x < (col + 1) * cell_m`` and
    ``row * cell_m <= y < (row + 1) * cell_m`` in the network's metric CRS; only the cells
    whose centre lies within ``config.max_snap_m`` of a usable road are held.

    Attributes
    ----------
    row, col
        Grid indices of the cells held.
    time_s
        Travel time from the cell's centre to its nearest hall, seconds, by the audit's rule
        (``inf`` where no hall can be reached).
    hall
        Position (0-based, among the halls passed) of the nearest hall, ``-1`` if none.
    cell_m
        Cell size, metres.
    crs
        The metric CRS of the grid (the network's).
    halls
        The halls the surface was made for (as passed).
    pinned
        Cells that hold a community and took its time (see :func:`travel_time_surface`).
    max_min
        If set, the surface holds only the cells that may lie within this many minutes of a
        hall (see :func:`travel_time_surface`); longer bands cannot be drawn from it.
    """

    row: IntArray
    col: IntArray
    time_s: FloatArray
    hall: IntArray
    cell_m: float
    crs: str
    halls: gpd.GeoDataFrame
    pinned: BoolArray
    max_min: float | None = None

    def __len__(self) -> int:
        """Number of cells held."""
        return len(self.row)

    def cell_of(self, points: gpd.GeoSeries) -> IntArray:
        """Position (in the surface's arrays) of the cell holding each point, ``-1`` if none.

        Parameters
        ----------
        points
            Points with a CRS.

        Returns
        -------
        numpy.ndarray
            One position per point; ``-1`` where the point's cell is not held (beyond the
            snap limit from every road, or outside the grid).
        """
        xy = shapely.get_coordinates(np.asarray(points.to_crs(self.crs).values, dtype=object))
        r = np.floor(xy[:, 1] / self.cell_m).astype(np.int64)
        c = np.floor(xy[:, 0] / self.cell_m).astype(np.int64)
        key = _key(self.row, self.col)
        order = np.argsort(key, kind="stable")
        want = _key(r, c)
        at = np.clip(np.searchsorted(key[order], want), 0, max(len(key) - 1, 0))
        found = (key[order][at] == want) if len(key) else np.zeros(len(want), dtype=bool)
        return np.where(found, order[at] if len(key) else -1, -1)

    def polygons(
        self,
        minutes: Sequence[float] = (15, 20),
        *,
        per: Per = "all",
        n_jobs: int | None = None,
    ) -> gpd.GeoDataFrame:
        """Polygons of the cells within each time band, per band, hall or district.

        Parameters
        ----------
        minutes
            Time bands, minutes, in any order; returned in ascending order.
        per
            ``"all"``: one polygon per band (where a community would be covered);
            ``"hall"``: each hall's catchment per band (cells whose nearest hall it is;
            catchments never overlap); ``"district"``: the catchments of each district's
            halls merged (needs a ``district`` column on the halls).
        n_jobs
            Threads for tracing; ``None`` uses every core available to the process.

        Returns
        -------
        geopandas.GeoDataFrame
            Polygons in EPSG:4326. ``per="all"``: ``band_min``, ``area_m2``, ``halls``
            (halls whose catchment is not empty). ``per="hall"``: ``hall_id``, ``name``
            (if the halls have one), ``district`` (if they have one), ``band_min``,
            ``area_m2``, one row per hall and band in input order (empty polygons for halls
            that serve no cell, e.g. beyond the snap limit). ``per="district"``:
            ``district``, ``band_min``, ``area_m2``, ``halls``. Areas in m², measured on the
            grid.
        """
        bands_min = _check_request(minutes, per, self.halls)
        if self.max_min is not None and max(bands_min, default=0.0) > self.max_min + 1e-9:
            msg = (
                f"minutes {max(bands_min):g}: this surface holds only the cells within "
                f"{self.max_min:g} minutes of a hall; make it with max_min={max(bands_min):g}"
            )
            raise InputDataError(msg)
        workers = max(1, n_jobs if n_jobs is not None else _cores())
        n_bands = len(bands_min)
        band = _band_of(self.time_s, bands_min)
        drawn = band >= 0
        halls = self.halls
        table: dict[str, Any]
        if per == "hall":
            label = self.hall
            n_groups = len(halls)
            table = {"hall_id": np.repeat(halls["hall_id"].to_numpy(dtype=object), n_bands)}
            for column in ("name", "district"):
                if column in halls.columns:
                    table[column] = np.repeat(halls[column].to_numpy(dtype=object), n_bands)
        else:
            if per == "district":
                keys = halls["district"].fillna("(none)").astype(str).to_numpy()
                names, code = np.unique(keys.astype(str), return_inverse=True)
            else:  # one area, even without halls
                names, code = np.array(["(all)"]), np.zeros(len(halls), dtype=np.int64)
            n_groups = len(names)
            label = code[self.hall] if len(code) else np.full(len(self.hall), -1)
            label[self.hall < 0] = -1
            serving = np.zeros(len(halls), dtype=bool)
            serving[self.hall[drawn]] = True
            table = {
                "district": np.repeat(names.astype(object), n_bands),
                "halls": np.repeat(np.bincount(code[serving], minlength=n_groups), n_bands),
            }
        table["band_min"] = np.tile(np.asarray(bands_min, dtype=float), n_groups)
        row, col = self.row[drawn], self.col[drawn]
        label, band = _untie_corners(row, col, label[drawn], band[drawn], self.pinned[drawn])
        keep = band >= 0
        geoms, area = _draw_apart(
            label[keep], row[keep], col[keep], band[keep], n_groups, n_bands, self, workers
        )
        frame = pd.DataFrame(table)
        if per == "all":
            frame = frame.drop(columns="district")
        order = ["hall_id", "name", "district", "band_min", "area_m2", "halls"]
        frame["area_m2"] = area
        frame = frame[[c for c in order if c in frame.columns]]
        out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326))
        return out.reset_index(drop=True)


def travel_time_surface(
    network: Network,
    halls: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    cell_m: float | None = None,
    config: Config | None = None,
    max_min: float | None = None,
) -> TravelTimeSurface:
    """Travel time to the nearest hall on a grid over the network, by the audit's rule.

    Each cell's centre is snapped to the nearest usable road segment within
    ``config.max_snap_m`` (fragments rule included) exactly as a community is, and timed by
    one multi-source pass from all halls (:func:`coverage.engine.nearest_facility`): off-road
    walk at ``config.access_speed_kph``, time along the segment, network time. The cells and
    their snapping are computed once per network, cell size and snapping rule, and kept on
    the network.

    Parameters
    ----------
    network
        Network with its routing view (:func:`coverage.network.load_network`).
    halls
        Halls: ``hall_id``, optional ``name`` and ``district``, point geometries in any
        CRS. Halls farther than ``config.max_snap_m`` (metres) from every usable road serve
        no cell, with a warning naming them (as in the audit).
    communities
        Optional community points (any CRS; polygons are not accepted). A cell holding a
        community takes the community's own time and nearest hall (the latest, if it holds
        several), so a community never sits in a cell that says otherwise, even where its
        nearest road differs from that of its cell's centre (where roads meet, a point's
        nearest road can change within a few metres).
    cell_m
        Grid cell size, metres; default ``config.area_cell_m``.
    config
        ``max_snap_m`` (metres), ``access_speed_kph`` (km/h) and ``area_cell_m`` are used.
    max_min
        The longest band that will be drawn, minutes. On a network whose grid would exceed
        :data:`FULL_GRID_CELLS` cells (a whole city or province), only the cells that may
        lie within this time of a hall are made (those within ``2 * max_snap_m`` plus the
        distance the fastest road covers in that time, straight line): the same bands, in
        bounded memory. ``None``: every cell within reach of a road.

    Returns
    -------
    TravelTimeSurface
        Times (seconds) and nearest halls of the cells within reach of a road.

    Examples
    --------
    On the test grid (300 m edges, 4 minutes each at 4.5 km/h), the cell whose centre is
    10 m off the road half-way between the halls' corner and the next node:

    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_graph, grid_halls, grid_points
    >>> net = load_network(grid_graph())
    >>> s = travel_time_surface(net, grid_halls())
    >>> i = s.cell_of(grid_points([(0, 0.5)], offset_m=10))
    >>> round(float(s.time_s[i][0]) / 60, 3)  # 150 m along + 10 m off the road
    2.133
    """
    cfg = network.routing_config(config)
    cell_m = cfg.area_cell_m if cell_m is None else cell_m
    _check_halls(halls, cell_m)
    h_snap = snap(network, halls.geometry, config=cfg)
    if (~h_snap.ok).any():
        bad = halls["hall_id"][~h_snap.ok]
        warnings.warn(
            f"{counted(len(bad), 'hall')} {'lies' if len(bad) == 1 else 'lie'} farther than "
            f"{cfg.max_snap_m:g} m from every road usable "
            f"by {network.mode} and serve no area: {list_ids(bad)}",
            CoverageWarning,
            stacklevel=2,
        )
    row, col, c_snap, held_min = _cells(network, halls, float(cell_m), cfg, max_min)
    n_cells = len(row)
    points = None
    if communities is not None and len(communities):
        geom = communities.geometry if isinstance(communities, gpd.GeoDataFrame) else communities
        xy = network.points_xy(geom)
        p_snap = snap_xy(network, xy, config=cfg, measure_far=False)
        c_snap = Snapped(
            *(
                np.concatenate([getattr(c_snap, f), getattr(p_snap, f)])
                for f in ("seg", "frac", "dist_m", "access_s")
            )
        )
        points = xy
    nearest = nearest_facility(network, c_snap, h_snap)
    time_s, hall = nearest.time_s[:n_cells], nearest.facility[:n_cells]
    pinned = np.zeros(n_cells, dtype=bool)
    if points is not None:
        row, col, time_s, hall, pinned = _pin(
            row,
            col,
            time_s,
            hall,
            points,
            nearest.time_s[n_cells:],
            nearest.facility[n_cells:],
            float(cell_m),
        )
    return TravelTimeSurface(
        row=row,
        col=col,
        time_s=time_s,
        hall=hall,
        cell_m=float(cell_m),
        crs=network.crs,
        halls=halls,
        pinned=pinned,
        max_min=held_min,
    )


def _pin(
    row: IntArray,
    col: IntArray,
    time_s: FloatArray,
    hall: IntArray,
    xy: FloatArray,
    p_time: FloatArray,
    p_hall: IntArray,
    cell_m: float,
) -> tuple[IntArray, IntArray, FloatArray, IntArray, BoolArray]:
    """Cells holding points take the points' times (the latest per cell), and are marked."""
    p_row = np.floor(xy[:, 1] / cell_m).astype(np.int64)
    p_col = np.floor(xy[:, 0] / cell_m).astype(np.int64)
    keep = np.flatnonzero(np.isfinite(xy).all(axis=1))
    p_row, p_col, p_time, p_hall = p_row[keep], p_col[keep], p_time[keep], p_hall[keep]
    # the latest point of each cell (unreachable ones are latest of all)
    order = np.lexsort((p_time, _key(p_row, p_col)))[::-1]
    p_key = _key(p_row, p_col)[order]
    first = np.r_[True, p_key[1:] != p_key[:-1]] if len(p_key) else np.empty(0, dtype=bool)
    take = order[first]
    p_key, p_row, p_col = p_key[first], p_row[take], p_col[take]
    p_time, p_hall = p_time[take], p_hall[take]
    key = _key(row, col)
    sorter = np.argsort(key, kind="stable")
    at = np.clip(np.searchsorted(key[sorter], p_key), 0, max(len(key) - 1, 0))
    held = key[sorter][at] == p_key if len(key) else np.zeros(len(p_key), dtype=bool)
    time_s, hall = time_s.copy(), hall.copy()
    time_s[sorter[at[held]]] = p_time[held]
    hall[sorter[at[held]]] = p_hall[held]
    pinned = np.zeros(len(row), dtype=bool)
    pinned[sorter[at[held]]] = True
    new = ~held & np.isfinite(p_time)  # a point within reach in a cell whose centre is not
    return (
        np.concatenate([row, p_row[new]]),
        np.concatenate([col, p_col[new]]),
        np.concatenate([time_s, p_time[new]]),
        np.concatenate([hall, p_hall[new]]),
        np.concatenate([pinned, np.ones(int(new.sum()), dtype=bool)]),
    )


def isochrones(
    network: Network,
    halls: gpd.GeoDataFrame,
    *,
    minutes: Sequence[float] = (15, 20),
    per: Per = "all",
    communities: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    cell_m: float | None = None,
    config: Config | None = None,
    n_jobs: int | None = None,
) -> gpd.GeoDataFrame:
    """Service areas per time band: where a community would be covered, and each hall's catchment.

    The polygons of :func:`travel_time_surface` (see :meth:`TravelTimeSurface.polygons`):
    a band's area holds the cells whose centre the audit would call within the band, so a
    community inside the drawn area is covered and one outside is not, to within about a
    cell.

    Parameters
    ----------
    network
        Network with its routing view; its mode and speed decide the travel times.
    halls
        Halls: ``hall_id``, optional ``name`` and ``district``, point geometries, any CRS.
    minutes
        Time bands, minutes (e.g. ``(15, 20)``), in any order; returned ascending.
    per
        ``"all"`` (one row per band), ``"hall"`` (catchments, one row per hall and band) or
        ``"district"`` (catchments merged per hall district).
    communities
        Optional community points: their cells take their own times (see
        :func:`travel_time_surface`).
    cell_m
        Grid cell size, metres; default ``config.area_cell_m`` (20 m).
    config
        ``max_snap_m`` (metres), ``access_speed_kph`` (km/h) and ``area_cell_m`` are used.
    n_jobs
        Threads for tracing; ``None`` uses every core available to the process.

    Returns
    -------
    geopandas.GeoDataFrame
        Polygons in EPSG:4326, see :meth:`TravelTimeSurface.polygons`.

    Raises
    ------
    MissingColumnError
        If ``hall_id`` (or ``district`` with ``per="district"``) is missing.
    CrsError
        If the halls have no CRS.
    InputDataError
        If the bands, the cell size or ``per`` are not valid, or geometries are not points.

    Examples
    --------
    On the test grid a hall on a corner node reaches 300 m of road in each direction in
    4 minutes; cells within 4 minutes lie along those roads (less the off-road walk):

    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_graph, grid_halls
    >>> net = load_network(grid_graph())
    >>> iso = isochrones(net, grid_halls(), minutes=[8, 4])
    >>> iso["band_min"].tolist(), iso["halls"].tolist()
    ([4.0, 8.0], [2, 2])
    >>> catch = isochrones(net, grid_halls(), minutes=[8], per="hall")
    >>> catch["hall_id"].tolist()
    ['H1', 'H2']
    >>> bool(catch.geometry.iloc[0].intersection(catch.geometry.iloc[1]).area == 0)
    True
    """
    _check_request(minutes, per, halls)  # before the surface: bad arguments fail at once
    surface = travel_time_surface(
        network,
        halls,
        communities=communities,
        cell_m=cell_m,
        config=config,
        max_min=max(minutes, default=None),
    )
    return surface.polygons(minutes, per=per, n_jobs=n_jobs)


# --------------------------------------------------------------------------------------------
# validation


def _check_halls(halls: gpd.GeoDataFrame, cell_m: float) -> None:
    """Check the halls and the cell size, gather every problem, raise once."""
    if "hall_id" not in halls.columns:
        msg = (
            "halls: missing column 'hall_id'; load the file with coverage.io.read_halls() to "
            "map Chinese or English headers"
        )
        raise MissingColumnError(msg)
    try:
        crs = halls.crs
    except AttributeError:  # a frame without an active geometry column
        crs = None
    if not isinstance(halls, gpd.GeoDataFrame) or crs is None:
        msg = "halls: a GeoDataFrame with a CRS is needed (points, any CRS)"
        raise CrsError(msg)
    problems = []
    if (
        isinstance(cell_m, bool)
        or not isinstance(cell_m, int | float)
        or not np.isfinite(cell_m)
        or cell_m < MIN_CELL_M
    ):
        problems.append(f"cell_m must be at least {MIN_CELL_M:g} metres, got {cell_m!r}")
    geom = halls.geometry
    not_point = (geom.isna() | geom.is_empty | (geom.geom_type != "Point")).to_numpy()
    if not_point.any():
        problems.append(
            f"{int(not_point.sum())} hall geometries are not points "
            f"(hall_id: {list_ids(halls['hall_id'][not_point])})"
        )
    if problems:
        msg = "isochrones: " + "; ".join(problems)
        raise InputDataError(msg)


def _check_request(minutes: Sequence[float], per: str, halls: gpd.GeoDataFrame) -> list[float]:
    """Check the bands and ``per`` against the halls; return the bands, sorted."""
    bands = _check_bands(minutes)
    if per not in {"hall", "district", "all"}:
        msg = f"isochrones: per must be 'hall', 'district' or 'all', got {per!r}"
        raise InputDataError(msg)
    if per == "district" and "district" not in halls.columns:
        msg = "halls: missing column 'district' (per='district' needs a district per hall)"
        raise MissingColumnError(msg)
    return bands


def _check_bands(minutes: Sequence[float]) -> list[float]:
    """The bands as sorted floats; raise on anything else."""
    try:
        bands = [float(m) for m in minutes]
    except (TypeError, ValueError):
        msg = f"isochrones: minutes must be a list of minutes, got {minutes!r}"
        raise InputDataError(msg) from None
    problem = ""
    if not bands:
        problem = "give at least one time band, e.g. minutes=(15, 20)"
    elif not all(np.isfinite(b) and b > 0 for b in bands):
        problem = f"minutes must be positive and finite, got {bands!r}"
    elif len(set(bands)) != len(bands):
        problem = f"minutes has repeated bands: {bands!r}"
    if problem:
        msg = f"isochrones: {problem}"
        raise InputDataError(msg)
    return sorted(bands)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


# --------------------------------------------------------------------------------------------
# the grid


def _band_of(time_s: FloatArray, bands_min: list[float]) -> IntArray:
    """First band each time is within (as the audit compares minutes), ``-1`` if none."""
    edges = np.asarray(bands_min) + 1e-9  # the audit's `minutes <= threshold + 1e-9`
    k = np.searchsorted(edges, time_s / 60.0, side="left").astype(np.int64)
    k[k >= len(edges)] = -1
    return k


def _key(row: IntArray, col: IntArray) -> IntArray:
    """One sortable integer per cell."""
    return (row.astype(np.int64) << 32) + (col.astype(np.int64) & 0xFFFFFFFF)


#: Bumped when the cells a grid holds, or their snapping, would change (stored grids go stale).
CELLS_VERSION = 1

#: Grids kept on a network (one per cell size and snapping rule), at most.
KEEP_GRIDS = 2


#: Grids estimated to hold more cells than this are made only near the halls (``max_min``).
FULL_GRID_CELLS = 10_000_000


def _cells(
    network: Network,
    halls: gpd.GeoDataFrame,
    cell_m: float,
    cfg: Config,
    max_min: float | None,
) -> tuple[IntArray, IntArray, Snapped, float | None]:
    """Cells whose centre is within the snap limit of a usable road, and their snapping.

    The whole grid is kept on the network per cell size, snap limit and access speed (the
    last :data:`KEEP_GRIDS` of them), and on disk beside a cached network, so the next run
    of the same network reads it. A grid larger than :data:`FULL_GRID_CELLS` is made only
    near the halls when ``max_min`` is given (kept the same way, per set of halls); the last
    value returned is then ``max_min``, else ``None``.
    """
    key = ("cells", CELLS_VERSION, cell_m, float(cfg.max_snap_m), float(cfg.access_speed_kph))
    if max_min is None or _grid_estimate(network, cell_m, cfg) <= FULL_GRID_CELLS:
        a = memo_arrays(
            network, __name__, key, lambda: _grid_cells(network, cell_m, cfg), keep=KEEP_GRIDS
        )
        held = None
    else:
        near = network.points_xy(halls.geometry)
        near = near[np.isfinite(near).all(axis=1)]
        reach = _reach_m(network, cfg, max_min)
        digest = hashlib.sha256(np.ascontiguousarray(near).tobytes()).hexdigest()[:16]
        a = memo_arrays(
            network,
            __name__,
            (*key, "near", round(reach, 3), digest),
            lambda: _grid_cells(network, cell_m, cfg, near=near, reach_m=reach),
            keep=KEEP_GRIDS,
        )
        held = float(max_min)
    return a["row"], a["col"], Snapped(a["seg"], a["frac"], a["dist_m"], a["access_s"]), held


def _grid_estimate(network: Network, cell_m: float, cfg: Config) -> float:
    """At least the number of cells of the whole grid.

    The smaller of the network's box and its roads' buffers, in cells.
    """
    xy = network.node_xy
    if len(xy) == 0:
        return 0.0
    pad = float(cfg.max_snap_m)
    box = float(np.prod(xy.max(axis=0) - xy.min(axis=0) + 2 * pad))
    strips = float(network.seg_length_m.sum()) * 2 * pad + len(xy) * math.pi * pad**2
    return min(box, strips) / cell_m**2


def _reach_m(network: Network, cfg: Config, max_min: float) -> float:
    """How far (straight line, metres) a cell within ``max_min`` minutes can lie from a hall.

    Two off-road walks of at most the snap limit each, and the distance the fastest road
    covers in that time.
    """
    t = np.minimum(network.seg_fwd_s, network.seg_bwd_s)
    ok = np.isfinite(t) & (t > 0)
    speed = float(np.max(network.seg_length_m[ok] / t[ok])) if ok.any() else 0.0
    return 2 * float(cfg.max_snap_m) + speed * float(max_min) * 60.0


def _grid_cells(
    network: Network,
    cell_m: float,
    cfg: Config,
    *,
    near: FloatArray | None = None,
    reach_m: float = 0.0,
) -> dict[str, NDArray[Any]]:
    reach = float(cfg.max_snap_m)
    # coarse blocks of _BLOCK x _BLOCK cells with a road vertex or piece within reach
    block = cell_m * _BLOCK
    xy = network.seg_xy
    if len(xy) > 1:  # points every block/2 along each straight part, so no block is missed
        a, b = xy[:-1], xy[1:]
        same = np.ones(len(a), dtype=bool)
        same[network.seg_xy_start[1:-1] - 1] = False
        a, b = a[same], b[same]
        n = np.maximum(1, np.ceil(np.hypot(*(b - a).T) / (block / 2))).astype(np.int64)
        t = (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n, n)
        pts = np.vstack(
            [
                a[np.repeat(np.arange(len(a)), n)]
                + (b - a)[np.repeat(np.arange(len(a)), n)] * t[:, None],
                xy,
            ]
        )
    else:
        pts = xy
    brow = np.floor(pts[:, 1] / block).astype(np.int64)
    bcol = np.floor(pts[:, 0] / block).astype(np.int64)
    pad = math.ceil(reach / block) + 1
    r0, c0 = int(brow.min()) - pad, int(bcol.min()) - pad
    occupied = np.zeros((int(brow.max()) - r0 + pad + 1, int(bcol.max()) - c0 + pad + 1), bool)
    occupied[brow - r0, bcol - c0] = True
    br, bc = np.nonzero(_dilate(occupied, pad))
    if near is not None:  # only the blocks that may hold a cell within reach_m of a hall
        from scipy.spatial import cKDTree  # noqa: PLC0415

        centre_b = np.column_stack([(bc + c0 + 0.5) * block, (br + r0 + 0.5) * block])
        limit = reach_m + block * math.sqrt(0.5)
        if len(near):
            dist, _ = cKDTree(near).query(centre_b, distance_upper_bound=limit)
            keep_b = np.isfinite(dist)
        else:
            keep_b = np.zeros(len(br), dtype=bool)
        br, bc = br[keep_b], bc[keep_b]
    # the cells of those blocks
    k = np.arange(_BLOCK * _BLOCK)
    row = ((br + r0) * _BLOCK)[:, None] + (k // _BLOCK)[None, :]
    col = ((bc + c0) * _BLOCK)[:, None] + (k % _BLOCK)[None, :]
    row, col = row.ravel(), col.ravel()
    centre = np.column_stack([(col + 0.5) * cell_m, (row + 0.5) * cell_m])
    snapped = snap_xy(network, centre, config=cfg, measure_far=False)
    ok = np.flatnonzero(snapped.ok)
    kept = snapped.take(ok)
    logger.info("travel-time surface: %d cells of %g m within reach of a road", len(ok), cell_m)
    return {
        "row": row[ok],
        "col": col[ok],
        "seg": kept.seg,
        "frac": kept.frac,
        "dist_m": kept.dist_m,
        "access_s": kept.access_s,
    }


def _dilate(mask: NDArray[np.bool_], r: int) -> NDArray[np.bool_]:
    """A boolean grid grown by ``r`` cells in every direction (a square), same shape."""
    out = mask.copy()
    for axis in (0, 1):  # running maximum over a window of 2r + 1, along each axis
        acc = out.copy()
        for s in range(1, r + 1):
            lead = [slice(None)] * 2
            trail = [slice(None)] * 2
            lead[axis], trail[axis] = slice(s, None), slice(None, -s)
            acc[tuple(lead)] |= out[tuple(trail)]
            acc[tuple(trail)] |= out[tuple(lead)]
        out = acc
    return out


def _untie_corners(
    row: IntArray, col: IntArray, label: IntArray, band: IntArray, pinned: BoolArray
) -> tuple[IntArray, IntArray]:
    """Move cells to later bands until no two cells of a group touch only at a corner.

    Where cells ``a`` and ``d`` of one group (the whole area, a hall or a district) meet
    diagonally and neither of the other two cells of their 2 x 2 window is in the group in
    a band up to theirs, the tracer would have to add one of those cells: land whose time
    says otherwise, perhaps a community's cell, perhaps another hall's. Instead one of ``a``
    and ``d`` moves to the band from which one of the other two joins the group (or out of
    every band): one that holds no community if there is one, else the later. So groups
    never overlap, and a community's cell keeps its band wherever another cell can give
    way. Bands only grow, so this ends.
    """
    if len(row) == 0:
        return label, band
    # one key per cell, row-major, with an empty column on the right so windows do not wrap
    w = int(col.max()) - int(col.min()) + 2
    size = (int(row.max()) - int(row.min()) + 2) * w
    key = (row - row.min()) * w + (col - col.min())
    cells = _CellStore(key, label, band, pinned, size, w)
    lab, bnd, pin = cells.lab, cells.bnd, cells.pin
    # windows by their lower-left cell: a (row, col), b (row, col+1), c (row+1, col),
    # d (row+1, col+1); the pairs (a, d) and (b, c). A window's test reads only its own four
    # cells, so after its first look at every window, each pass looks only at the windows
    # that hold a cell moved since it last ran: the same moves, in the same order, as passes
    # over the whole grid until nothing moves.
    passes = ((0, w + 1, 1, w), (1, w, 0, w + 1))
    pending: list[list[IntArray] | None] = [None, None]  # None: every window
    while any(p is None or p for p in pending):
        for k, (p, q, s, t) in enumerate(passes):
            todo = pending[k]
            if todo is not None and not todo:
                continue
            win = cells.windows if todo is None else _windows_of(np.concatenate(todo), w)
            pending[k] = []
            ia, id_, ib, ic = (
                cells.at(win + p),
                cells.at(win + q),
                cells.at(win + s),
                cells.at(win + t),
            )
            la, ld = lab[ia], lab[id_]
            ba, bd = bnd[ia], bnd[id_]
            bb = np.where(lab[ib] == la, bnd[ib], _NO_BAND)
            bc = np.where(lab[ic] == la, bnd[ic], _NO_BAND)
            joins = np.minimum(bb, bc)
            hit = np.flatnonzero((la >= 0) & (la == ld) & (np.maximum(ba, bd) < joins))
            if len(hit) == 0:
                continue
            pa, pd = pin[ia[hit]], pin[id_[hit]]
            move_d = np.where(pa == pd, bd[hit] >= ba[hit], pa)
            cell = np.where(move_d, id_[hit], ia[hit])
            bnd[cell] = joins[hit]
            lab[cell[joins[hit] == _NO_BAND]] = -1
            for later in pending:  # (a pass still due for its first look needs no list)
                if later is not None:
                    later.append(cells.key_of(cell))
    band_out = bnd[cells.mine]
    return lab[cells.mine], np.where(band_out == _NO_BAND, -1, band_out)


def _draw_apart(
    label: IntArray,
    row: IntArray,
    col: IntArray,
    band: IntArray,
    n_groups: int,
    n_bands: int,
    surface: TravelTimeSurface,
    workers: int,
) -> tuple[NDArray[np.object_], FloatArray]:
    """:func:`draw`, with a group too wide for one tile traced in parts that never touch.

    A group whose cells span more than :data:`MAX_TILE_CELLS` (the halls of a whole
    province) is split by the connected pieces of its 8 x 8-cell blocks: cells of different
    pieces are never neighbours, so each piece's outline is exactly its part of the group's,
    and the parts are joined again per band.
    """
    largest = 0
    if len(label):  # the largest tile any group needs (its box plus a border)
        order = np.argsort(label, kind="stable")
        first = np.flatnonzero(np.r_[True, np.diff(label[order]) != 0])
        r, c = row[order], col[order]
        h = np.maximum.reduceat(r, first) - np.minimum.reduceat(r, first) + 3
        w = np.maximum.reduceat(c, first) - np.minimum.reduceat(c, first) + 3
        largest = int((h * w).max())
    marks = Marks.empty()
    if largest <= MAX_TILE_CELLS:
        marks.add(label, row, col, band)
        return draw(marks, n_groups, n_bands, surface.cell_m, surface.crs, workers=workers)
    piece = _pieces(row // _BLOCK, col // _BLOCK)
    pair, part = np.unique(np.column_stack([label, piece]), axis=0, return_inverse=True)
    part = part.ravel()
    marks.add(part, row, col, band)
    g_parts, a_parts = draw(marks, len(pair), n_bands, surface.cell_m, surface.crs, workers=workers)
    geoms = np.array([shapely.Polygon()] * (n_groups * n_bands), dtype=object)
    area = np.zeros(n_groups * n_bands)
    for g in np.unique(pair[:, 0]):
        mine = np.flatnonzero(pair[:, 0] == g)
        for b in range(n_bands):
            at = mine * n_bands + b
            geoms[g * n_bands + b] = shapely.union_all(g_parts[at])
            area[g * n_bands + b] = float(a_parts[at].sum())
    return geoms, area


def _pieces(brow: IntArray, bcol: IntArray) -> IntArray:
    """The connected piece (8 neighbours) of each cell's block."""
    from scipy.sparse import coo_matrix  # noqa: PLC0415
    from scipy.sparse.csgraph import connected_components  # noqa: PLC0415

    key = _key(brow, bcol)
    blocks, of_cell = np.unique(key, return_inverse=True)
    br, bc = blocks >> 32, blocks & 0xFFFFFFFF
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
        other = _key(br + dr, bc + dc)
        i = np.minimum(np.searchsorted(blocks, other), len(blocks) - 1)
        hit = np.flatnonzero(blocks[i] == other)
        rows.append(hit)
        cols.append(i[hit])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(len(blocks),) * 2)
    _, comp = connected_components(graph, directed=False)
    return np.asarray(comp, dtype=np.int64)[of_cell.ravel()]


def _windows_of(keys: IntArray, w: int) -> IntArray:
    """The windows (by the key of their lower-left cell) that hold one of the cells ``keys``."""
    return np.unique(np.concatenate([keys, keys - 1, keys - w, keys - w - 1]))


class _CellStore:
    """The cells of :func:`_untie_corners`, by key.

    A dense grid where the cells fill much of their bounding box, else sorted keys (groups
    far apart, e.g. several cities) looked up by binary search. A last entry stands for every
    key that holds no cell.
    """

    def __init__(
        self,
        key: IntArray,
        label: IntArray,
        band: IntArray,
        pinned: BoolArray,
        size: int,
        w: int,
    ) -> None:
        self.dense = size <= _DENSE_CELLS * len(key) + 1_000_000
        if self.dense:
            self.size = size
            self.mine = key
        else:
            order = np.argsort(key, kind="stable")
            self.keys = key[order]
            self.size = len(key)
            self.mine = np.empty(len(key), dtype=np.int64)
            self.mine[order] = np.arange(len(key))
        self.lab = np.full(self.size + 1, -1, dtype=np.int64)
        self.bnd = np.full(self.size + 1, _NO_BAND, dtype=np.int64)
        self.pin = np.zeros(self.size + 1, dtype=bool)
        self.lab[self.mine], self.bnd[self.mine], self.pin[self.mine] = label, band, pinned
        # every window that may hold a cell
        self.windows = np.arange(size) if self.dense else _windows_of(self.keys, w)

    def at(self, key: IntArray) -> IntArray:
        """Where the cells ``key`` are stored (the last entry for keys with no cell)."""
        if self.dense:
            return np.where((key >= 0) & (key < self.size), key, self.size)
        i = np.minimum(np.searchsorted(self.keys, key), self.size - 1)
        return np.where(self.keys[i] == key, i, self.size)

    def key_of(self, stored: IntArray) -> IntArray:
        """The keys of stored cells."""
        return stored if self.dense else self.keys[stored]


#: A dense grid for :func:`_untie_corners` while its bounding box holds at most this many
#: cells per cell that exists (plus a million).
_DENSE_CELLS = 16


#: A cell in no band (while untying corners).
_NO_BAND = np.int64(1 << 30)
