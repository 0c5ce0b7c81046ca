"""Isochrones: display polygons of the area reachable from each hall, per time band.

:func:`isochrones` draws, for every hall and every band (15 and 20 minutes by default), the
part of the road network reachable from the hall within the band, buffered by a few metres
and dissolved into one polygon. Partly reached roads count with their reached part only: a
road whose start is reached at 13 minutes contributes the first two minutes of its length,
cut along its geometry.

Two ways to draw the same reach: ``method="grid"`` (the default, fast: the reached roads
are drawn on a square grid and the polygons traced in numpy, see :mod:`coverage._isogrid`)
and ``method="exact"`` (the exact buffer of the reached roads, built in GEOS as described
below; slower, for a few halls or for print).

Isochrones are for **display only**. Whether a community is covered always comes from routed
travel times (:func:`coverage.audit.audit`), never from these polygons: a polygon also holds
land that is near a reached road but far, by road, from the hall (across a river or a rail
line), and it leaves out whatever lies farther than the buffer from every reached road.

How it works (``method="exact"``)
---------------------------------
1. Halls are snapped to their nearest road segment (:func:`coverage.engine.snap`); halls
   beyond ``config.max_snap_m`` are left out, with a warning.
2. One bounded :func:`scipy.sparse.csgraph.dijkstra` call per chunk of 256 halls
   (``limit`` = the widest band) on the routing matrix with one virtual node per hall (its
   position along its segment, off-road walk included) gives every hall its time to every
   node within the widest band. Times run *from* the hall.
3. For every (hall, segment) pair with a reached end, numpy works out the reached fractions
   of the segment per band: ``(band - t) / time of the whole segment`` from each reached end.
4. The reached network is drawn as a *thin polygon* (4 mm wide) and buffered once. Unioning
   hundreds of buffered road pieces per hall is the slow way (tens of milliseconds per
   polygon in GEOS); instead the network is cut once per call into thin pieces that meet
   along shared edges: a small polygon around every node and a ribbon along every segment,
   stopping 0.1 m short of its nodes (up to 3 m where two roads leave a node at almost the
   same angle). Where two roads cross without a shared node (bridges), one of the two
   ribbons has a short gap. The pieces a hall reaches, partial ribbons cut exactly where the
   time runs out, form a valid polygon coverage, dissolved in linear time by
   :func:`shapely.coverage_union_all`; one :func:`shapely.buffer` of that thin polygon gives
   the isochrone. The few pieces that cannot take part in a coverage (degenerate geometry)
   are joined with an ordinary union instead.
5. Bands are built as rings: each band buffers only what it adds to the previous band, and
   its polygon is the union of that with the previous band's polygon, done in EPSG:4326, the
   output's coordinates. So the bands nest (15 ⊂ 20) by construction in the returned
   geometries, not only in theory (buffers of nested networks are not exactly nested in
   floating point: GEOS simplifies a buffer's input by up to 1 % of the distance). Hall
   polygons are built in a thread pool (shapely releases the GIL).

The drawn edge is within about 0.5 m of the exact buffer of the reached network (the buffer's
arcs are drawn with 4 segments per quarter circle, GEOS simplifies its input by up to 1 % of
the buffer distance, and the thin polygon is up to 0.1 m wider than the roads at their nodes,
3 m at nodes where two roads leave at almost the same angle).
"""

from __future__ import annotations

import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.sparse.csgraph import dijkstra

from coverage import _isogrid
from coverage._errors import CrsError, InputDataError, MissingColumnError, list_ids
from coverage.audit import CoverageWarning
from coverage.config import DEFAULT_CONFIG, Config
from coverage.engine import _along, _augmented, snap

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from coverage.engine import Snapped
    from coverage.network import Network

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]
    GeomArray = NDArray[np.object_]

logger = logging.getLogger(__name__)

Per = Literal["hall", "district", "all"]
Method = Literal["grid", "exact"]

#: Halls per bounded Dijkstra call (the distance block is halls x nodes x 8 bytes).
CHUNK = 256
#: Halls per chunk of the grid method (routed, then drawn in a worker thread).
GRID_CHUNK = 128
#: Smallest grid cell, metres (grid rows and columns are 32-bit integers).
MIN_CELL_M = 0.1
#: Segments per quarter circle of the buffer's round ends: the drawn edge stays within 2 % of
#: the buffer distance (0.5 m at 25 m) inside the exact one.
QUAD_SEGS = 4
#: Half-width of the thin ribbons drawn along the roads, metres.
_HALF_W = 0.002
#: Ribbons stop this far from their nodes; the node polygons fill the gap, metres.
_TRIM = 0.1
#: The drawn off-road walk of a hall stops this far from its road (no overlap), metres.
_LINK_GAP = 3.0 + 4 * _HALF_W
#: Pieces shorter than this are not drawn, metres.
_MIN_M = 1e-3
#: Ribbons of roads leaving a node at almost the same angle start at most this far out, m.
_MAX_TRIM = _LINK_GAP - 4 * _HALF_W
#: Gaps longer than this (roads crossing at very flat angles) make a fallback case, metres.
_MAX_GAP = 5.0
#: Turns sharper than about 145 degrees within a segment make its ribbon a fallback case.
_SHARP = 0.1


def isochrones(
    network: Network,
    halls: gpd.GeoDataFrame,
    *,
    minutes: Sequence[float] = (15, 20),
    buffer_m: float = 25.0,
    per: Per = "hall",
    method: Method = "grid",
    cell_m: float | None = None,
    config: Config | None = None,
    n_jobs: int | None = None,
) -> gpd.GeoDataFrame:
    """Nested polygons of the area reachable from each hall within each time band.

    Isochrones are for display only; compliance always comes from routed travel times
    (:func:`coverage.audit.audit`), never from these polygons.

    A band's polygon is the road network reached from the hall within the band, including
    the reached part of partly reached roads (cut along the road where the time runs out),
    buffered by ``buffer_m`` and dissolved (drawn on a grid unless ``method="exact"``).
    Times run from the hall outwards, its off-road walk to the road included, at the
    network's travel mode and speed. Each band's polygon contains the previous band's
    exactly (grid: its cells are among the next band's; exact: it is built as their union).

    Parameters
    ----------
    network
        Network with its routing view (:func:`coverage.network.load_network`); its mode and
        speed decide the travel times.
    halls
        Halls: a GeoDataFrame with ``hall_id``, optional ``name`` and ``district``, and point
        geometries in any CRS. Halls farther than ``config.max_snap_m`` (metres) from every
        road usable by the network's mode are left out, with a warning naming them.
    minutes
        Time bands, minutes (e.g. ``(15, 20)``), in any order; returned in ascending order.
    buffer_m
        Distance drawn on each side of a reached road, metres (> 0).
    per
        ``"hall"``: one row per hall and band; ``"district"``: the union per district and
        band (needs a ``district`` column); ``"all"``: one row per band, over every hall.
    method
        ``"grid"`` (default): the reached roads are drawn on a square grid of ``cell_m``
        metres and the polygons traced from it in numpy, many times faster than
        ``"exact"``; every reached road point is inside its polygon, and the drawn edge lies
        within about a cell of the exact buffer (see :mod:`coverage._isogrid`).
        ``"exact"``: the exact buffer of the reached roads (GEOS), for a few halls or print.
        The routing, and so what is reached, is the same in both.
    cell_m
        Grid cell size for ``method="grid"``, metres; default ``buffer_m / 2``.
    config
        ``max_snap_m`` (metres) and ``access_speed_kph`` (km/h, the off-road walk) are used.
    n_jobs
        Threads for the polygon work; ``None`` uses every core available to the process.

    Returns
    -------
    geopandas.GeoDataFrame
        Polygons in EPSG:4326, ordered by hall (input order), district (sorted) or band, then
        by band. ``per="hall"``: ``hall_id``, ``name`` (if the halls have one), ``band_min``,
        ``area_m2`` (m², measured in the network's metric CRS), ``geometry``.
        ``per="district"``: ``district``, ``band_min``, ``area_m2``, ``halls`` (number of
        halls drawn), ``geometry``. ``per="all"``: ``band_min``, ``area_m2``, ``halls``,
        ``geometry``. A band shorter than a hall's off-road walk reaches no road; its
        polygon then covers only the walk.

    Raises
    ------
    MissingColumnError
        If ``hall_id`` (or ``district`` with ``per="district"``) is missing.
    CrsError
        If the halls have no CRS.
    InputDataError
        If the bands, the buffer or ``per`` are not valid, or geometries are not points.

    Examples
    --------
    On the test grid (300 m edges, 4 minutes each at 4.5 km/h), a hall on a corner node
    reaches one edge in each direction within 4 minutes, two within 8:

    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_graph, grid_halls
    >>> net = load_network(grid_graph())
    >>> iso = isochrones(net, grid_halls(), minutes=[8, 4], buffer_m=10, method="exact")
    >>> iso[["hall_id", "band_min"]].to_numpy().tolist()
    [['H1', 4.0], ['H1', 8.0], ['H2', 4.0], ['H2', 8.0]]
    >>> iso.crs.to_epsg()
    4326

    Two 300 m roads with 10 m on each side cover 12,293 m² (two 300 m × 20 m strips with
    round ends, less their overlap at the corner); the six roads reached within 8 minutes,
    35,871 m². The 4-minute polygon lies inside the 8-minute one:

    >>> (iso["area_m2"] / 1000).round(1).tolist()
    [12.3, 35.9, 12.3, 35.9]
    >>> float(iso.geometry.iloc[0].difference(iso.geometry.iloc[1]).area)
    0.0

    Drawn on a grid (the default; 5 m cells here), the same roads take a little more room:

    >>> grid = isochrones(net, grid_halls(), minutes=[8, 4], buffer_m=10)
    >>> (grid["area_m2"] / iso["area_m2"]).round(2).tolist()
    [1.26, 1.27, 1.27, 1.28]
    """
    cfg = config or DEFAULT_CONFIG
    bands_min = _check_inputs(halls, minutes, buffer_m, per, method, cell_m)
    workers = max(1, n_jobs if n_jobs is not None else _cores())
    snapped = snap(network, halls.geometry, config=cfg)
    if (~snapped.ok).any():
        bad = halls["hall_id"][~snapped.ok]
        warnings.warn(
            f"{len(bad)} hall(s) lie farther than {cfg.max_snap_m:g} m from every road usable "
            f"by {network.mode} and have no isochrone: {list_ids(bad)}",
            CoverageWarning,
            stacklevel=2,
        )
    ok = np.flatnonzero(snapped.ok)
    hall_xy = shapely.get_coordinates(network.to_metric(halls.geometry))[ok]
    if method == "grid":
        return _grid_frame(
            network, halls, snapped, hall_xy, bands_min, buffer_m, cell_m or buffer_m / 2, per,
            workers,
        )  # fmt: skip
    to_lonlat = pyproj.Transformer.from_crs(network.crs, 4326, always_xy=True)
    rings = _hall_rings(
        network, snapped, hall_xy, np.asarray(bands_min) * 60.0, buffer_m, workers
    )  # what each band adds, (halls drawn, bands), metric CRS
    rings = _transform(rings, to_lonlat)
    n_bands = len(bands_min)
    if per == "hall":
        geoms = _nest_bands(list(rings), workers).reshape(-1)
        table: dict[str, Any] = {"hall_id": np.repeat(halls["hall_id"].to_numpy()[ok], n_bands)}
        if "name" in halls.columns:
            table["name"] = np.repeat(halls["name"].to_numpy()[ok], n_bands)
        table["band_min"] = np.tile(np.asarray(bands_min, dtype=float), len(ok))
        frame = pd.DataFrame(table)
    else:
        if per == "district":
            keys = halls["district"].fillna("(none)").astype(str).to_numpy()[ok]
        else:
            keys = np.full(len(ok), "(all)", dtype=object)
        names = sorted(set(keys.tolist()))
        per_band = [
            [rings[keys == name, k] for k in range(n_bands)] for name in names
        ]  # every hall's additions of each band, per district
        geoms = _nest_bands(per_band, workers).reshape(-1)
        frame = pd.DataFrame({
            "district": np.repeat(np.asarray(names, dtype=object), n_bands),
            "band_min": np.tile(np.asarray(bands_min, dtype=float), len(names)),
            "halls": np.repeat([int((keys == nm).sum()) for nm in names], n_bands),
        })  # fmt: skip
        frame["halls"] = frame["halls"].astype(np.int64)
        if per == "all":
            frame = frame.drop(columns="district")
    to_metric = pyproj.Transformer.from_crs(4326, network.crs, always_xy=True)
    area = shapely.area(_transform(geoms, to_metric)) if len(geoms) else np.empty(0)
    frame.insert(len(frame.columns) - (0 if per == "hall" else 1), "area_m2", area)
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326))
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# validation


def _check_inputs(
    halls: gpd.GeoDataFrame,
    minutes: Sequence[float],
    buffer_m: float,
    per: str,
    method: str = "grid",
    cell_m: float | None = None,
) -> list[float]:
    """Check the arguments, gather every problem, raise once; return the sorted bands."""
    missing = ["hall_id"] if "hall_id" not in halls.columns else []
    if per == "district" and "district" not in halls.columns:
        missing.append("district")
    if missing:
        need = " (per='district' needs a district per hall)" if "district" in missing else ""
        msg = (
            f"halls: missing column(s) {', '.join(map(repr, missing))}{need}; "
            "load the file with coverage.io.read_halls() to map Chinese or English headers"
        )
        raise MissingColumnError(msg)
    if not isinstance(halls, gpd.GeoDataFrame) or halls.crs is None:
        msg = "halls: a GeoDataFrame with a CRS is needed (points, any CRS)"
        raise CrsError(msg)
    bands, problems = _check_bands(minutes)
    if per not in {"hall", "district", "all"}:
        problems.append(f"per must be 'hall', 'district' or 'all', got {per!r}")
    if (
        isinstance(buffer_m, bool)
        or not isinstance(buffer_m, int | float)
        or not np.isfinite(buffer_m)
        or buffer_m <= 0
    ):
        problems.append(f"buffer_m must be a positive number of metres, got {buffer_m!r}")
    if method not in {"grid", "exact"}:
        problems.append(f"method must be 'grid' or 'exact', got {method!r}")
    if cell_m is not None and (
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
    return sorted(bands)


def _check_bands(minutes: Sequence[float]) -> tuple[list[float], list[str]]:
    """The bands as floats, and what is wrong with them."""
    try:
        bands = [float(m) for m in minutes]
    except (TypeError, ValueError):
        return [], [f"minutes must be a list of minutes, got {minutes!r}"]
    if not bands:
        return bands, ["minutes: give at least one time band, e.g. minutes=(15, 20)"]
    if not all(np.isfinite(b) and b > 0 for b in bands):
        return bands, [f"minutes must be positive and finite, got {bands!r}"]
    if len(set(bands)) != len(bands):
        return bands, [f"minutes has repeated bands: {bands!r}"]
    return bands, []


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


# --------------------------------------------------------------------------------------------
# segment geometry


@dataclass(frozen=True)
class _SegmentCoords:
    """Vertices of every segment, with the running length over all of them."""

    xy: FloatArray  # (vertices, 2)
    cum: FloatArray  # running length, non-decreasing; 0 step into each segment's first vertex
    first: IntArray  # index of each segment's first vertex
    last: IntArray  # index of each segment's last vertex
    length: FloatArray  # geometric length of each segment, metres
    normal: FloatArray  # (vertices, 2) left unit normal of the piece starting at each vertex


def _segment_coords(geoms: GeomArray) -> _SegmentCoords:
    xy = shapely.get_coordinates(geoms)
    count = shapely.get_num_coordinates(geoms).astype(np.int64)
    first = np.cumsum(count) - count
    last = first + np.maximum(count, 1) - 1
    delta = np.zeros_like(xy)
    delta[:-1] = xy[1:] - xy[:-1]
    delta[last] = delta[np.maximum(last - 1, first)]  # the last vertex takes its piece's
    step = np.hypot(delta[:, 0], delta[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        normal = np.column_stack([-delta[:, 1], delta[:, 0]]) / step[:, None]
    run = np.zeros(len(xy))
    run[1:] = step[:-1]
    run[first] = 0.0
    cum = np.cumsum(run)
    return _SegmentCoords(
        xy=xy, cum=cum, first=first, last=last, length=cum[last] - cum[first], normal=normal
    )


def _locate(sc: _SegmentCoords, seg: IntArray, d: FloatArray) -> tuple[IntArray, FloatArray]:
    """Vertex index starting the piece at distance ``d`` along each segment, and the point."""
    first, last = sc.first[seg], sc.last[seg]
    at = sc.cum[first] + d
    i = np.clip(np.searchsorted(sc.cum, at, side="right") - 1, first, np.maximum(last - 1, first))
    j = np.minimum(i + 1, last)
    span = sc.cum[j] - sc.cum[i]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(np.where(span > 0, (at - sc.cum[i]) / span, 0.0), 0.0, 1.0)[:, None]
    return i, sc.xy[i] * (1 - t) + sc.xy[j] * t


def _cut(sc: _SegmentCoords, seg: IntArray, start: FloatArray, end: FloatArray) -> GeomArray:
    """Pieces of segments between two fractions of their length, as LineStrings."""
    n = len(seg)
    if n == 0:
        return np.empty(0, dtype=object)
    length = sc.length[seg]
    d0, d1 = start * length, end * length
    _, p0 = _locate(sc, seg, d0)
    _, p1 = _locate(sc, seg, d1)
    lo, hi = _inner(sc, seg, d0, d1)
    inner = hi - lo
    size = inner + 2
    piece = np.repeat(np.arange(n), size)
    pos = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    xy = sc.xy[np.minimum(lo[piece] + pos - 1, len(sc.xy) - 1)]
    head = pos == 0
    tail = pos == size[piece] - 1
    xy[head] = p0
    xy[tail] = p1
    return np.asarray(shapely.linestrings(xy, indices=piece), dtype=object)


def _inner(
    sc: _SegmentCoords, seg: IntArray, d0: FloatArray, d1: FloatArray
) -> tuple[IntArray, IntArray]:
    """Range ``lo:hi`` of the vertices strictly between two distances along each segment."""
    first, last = sc.first[seg], sc.last[seg]
    base = sc.cum[first]
    lo = np.clip(np.searchsorted(sc.cum, base + d0, side="right"), first + 1, last)
    hi = np.clip(np.searchsorted(sc.cum, base + d1, side="left"), lo, last)
    return lo, hi


# --------------------------------------------------------------------------------------------
# the thin network: node polygons and ribbons that meet edge to edge


@dataclass(frozen=True)
class _Thin:
    """The network cut into thin pieces that form a polygon coverage.

    Ribbons run along the segments, ``trim`` short of their nodes (longer where two roads
    leave a node at almost the same angle), where a small polygon around each node takes
    over; a ribbon's end edge is an edge of its node's polygon. Where two roads cross without
    a shared node (bridges), the ribbon of one of them has a short gap (``gap_lo``..
    ``gap_hi``), so that no two pieces overlap.
    """

    sc: _SegmentCoords
    trim: FloatArray  # (segments, 2) distance of the ribbon ends from seg_u and seg_v, m
    corner: FloatArray  # (segments, 4, 2): left/right corner at the seg_u end, then seg_v
    mitre: FloatArray  # (vertices, 2) offset of the ribbon's left side at each vertex
    gap_ptr: IntArray  # gaps of segment s: gap_lo/gap_hi[gap_ptr[s]:gap_ptr[s + 1]], metres
    gap_lo: FloatArray
    gap_hi: FloatArray
    seg_ok: BoolArray  # segment drawn with ribbons (else with an ordinary union)
    node_ok: BoolArray  # node drawn with its polygon (else with stubs, ordinary union)
    ribbon: GeomArray  # whole-segment ribbon (None where not seg_ok)
    node_poly: GeomArray  # polygon around each node (None where not node_ok)
    stub_ptr: IntArray  # stubs of the other nodes: stub_geom[stub_ptr[k]:stub_ptr[k + 1]]
    stub_geom: GeomArray


def _thin(network: Network) -> _Thin:
    """Cut the network into thin pieces (vectorised; once per call)."""
    n = network.n_nodes
    su, sv = network.seg_u, network.seg_v
    n_seg = len(su)
    geoms = np.asarray(shapely.remove_repeated_points(network.seg_geom, 1e-6), dtype=object)
    sc = _segment_coords(geoms)
    seg_ok = (sc.length > 4 * _TRIM) & (sc.last > sc.first)
    # left offsets of the ribbon edges at the vertices (mitred); sharp turns are left out
    inner = np.ones(len(sc.xy), dtype=bool)
    inner[sc.first] = False
    inner[sc.last] = False
    before = np.roll(sc.normal, 1, axis=0)
    dot = np.einsum("ij,ij->i", before, sc.normal)
    with np.errstate(invalid="ignore", divide="ignore"):
        mitre = np.where(inner[:, None], (before + sc.normal) / (1 + dot)[:, None], sc.normal)
    mitre *= _HALF_W
    seg_of_vertex = np.repeat(np.arange(n_seg), sc.last - sc.first + 1)
    broken = (inner & ~(1 + dot > _SHARP)) | ~np.isfinite(mitre).all(axis=1)
    seg_ok[seg_of_vertex[broken]] = False
    node_trim = _node_trims(network.node_xy, su, sv, sc)
    trim = np.column_stack([node_trim[su], node_trim[sv]])
    seg_ok &= trim.sum(axis=1) < sc.length / 2
    trim = np.minimum(trim, (sc.length / 4)[:, None])
    all_seg = np.arange(n_seg)
    iu, pu = _locate(sc, all_seg, trim[:, 0])
    iv, pv = _locate(sc, all_seg, sc.length - trim[:, 1])
    nu, nv = sc.normal[iu] * _HALF_W, sc.normal[iv] * _HALF_W
    corner = np.stack([pu + nu, pu - nu, pv + nv, pv - nv], axis=1)
    seg_ok &= np.isfinite(corner).all(axis=(1, 2))
    node_poly, node_ok, crowded = _node_polygons(network.node_xy, su, sv, corner, seg_ok, n)
    seg_ok &= ~crowded
    gap_ptr, gap_lo, gap_hi, gap_bad = _crossing_gaps(network, geoms, sc, seg_ok, node_trim)
    seg_ok &= ~gap_bad
    good = np.flatnonzero(seg_ok)
    ribbon = np.full(n_seg, None, dtype=object)
    ones = np.ones(len(good), dtype=bool)
    # the whole-segment ribbons (built from the geometry fields only)
    th = _Thin(sc, trim, corner, mitre, gap_ptr, gap_lo, gap_hi, seg_ok, node_ok, ribbon,
               node_poly, np.zeros(n + 1, dtype=np.int64), np.empty(0, dtype=object))  # fmt: skip
    src, polys = _ribbons(th, good, trim[good, 0], sc.length[good] - trim[good, 1], ones, ones)
    ribbon[good] = _by_source(polys, src, len(good))
    seg_ok &= ribbon != None  # noqa: E711 (element-wise; a short road inside a gap has none)
    stub_ptr, stub_geom = _stubs(network.node_xy, su, sv, corner, np.flatnonzero(~node_ok), n)
    logger.debug(
        "thin network: %d of %d segments and %d of %d nodes need an ordinary union",
        int((~seg_ok).sum()), n_seg, int((~node_ok).sum()), n,
    )  # fmt: skip
    return _Thin(sc, trim, corner, mitre, gap_ptr, gap_lo, gap_hi, seg_ok, node_ok, ribbon,
                 node_poly, stub_ptr, stub_geom)  # fmt: skip


def _node_trims(node_xy: FloatArray, su: IntArray, sv: IntArray, sc: _SegmentCoords) -> FloatArray:
    """Distance from each node at which its ribbons start, metres.

    ``_TRIM``, or more where two roads leave the node at almost the same angle: far enough
    for their ribbons to be apart there.
    """
    n = len(node_xy)
    out = np.full(n, _TRIM)
    if len(su) == 0:
        return out
    step_u = sc.xy[np.minimum(sc.first + 1, sc.last)] - sc.xy[sc.first]
    step_v = sc.xy[np.maximum(sc.last - 1, sc.first)] - sc.xy[sc.last]
    node = np.concatenate([su, sv])
    step = np.concatenate([step_u, step_v])
    ang = np.arctan2(step[:, 1], step[:, 0])
    order = np.lexsort((ang, node))
    node, ang = node[order], ang[order]
    start = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
    stop = np.r_[start[1:], len(node)]
    gap = np.empty(len(node))
    gap[:-1] = ang[1:] - ang[:-1]
    gap[stop - 1] = ang[start] + 2 * np.pi - ang[stop - 1]
    narrow = np.minimum.reduceat(gap, start)
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(narrow < np.pi, 2 * _HALF_W / np.tan(narrow / 2), _TRIM)
    out[node[start]] = np.clip(np.nan_to_num(need, nan=_MAX_TRIM), _TRIM, _MAX_TRIM)
    return out


def _node_polygons(
    node_xy: FloatArray, su: IntArray, sv: IntArray, corner: FloatArray, seg_ok: BoolArray,
    n: int,
) -> tuple[GeomArray, BoolArray, BoolArray]:  # fmt: skip
    """A small polygon around each node through the ribbon corners of its segments.

    The corners are joined in angular order, so each ribbon's end edge is an edge of the
    node polygon; where the corners leave a gap wider than half a turn (dead ends, corners),
    the node itself is added, so that the polygon holds the road up to the ribbons. Roads
    leaving a node at nearly the same angle (their corners interleave) make the node and its
    segments fallback cases.

    Returns
    -------
    polygons, node_ok, crowded
        Polygon per node (None where not usable), which nodes are usable, and segments
        leaving a crowded node.
    """
    out = np.full(n, None, dtype=object)
    node_ok = np.zeros(n, dtype=bool)
    crowded = np.zeros(len(su), dtype=bool)
    good = np.flatnonzero(seg_ok)
    if len(good) == 0:
        return out, node_ok, crowded
    end = np.concatenate([good * 2, good * 2, good * 2 + 1, good * 2 + 1])
    node = np.concatenate([su[good], su[good], sv[good], sv[good]])
    pts = np.concatenate([corner[good, 0], corner[good, 1], corner[good, 2], corner[good, 3]])
    rel = pts - node_xy[node]
    ang = np.arctan2(rel[:, 1], rel[:, 0])
    order = np.lexsort((ang, node))
    node, pts, ang, end = node[order], pts[order], ang[order], end[order]
    start = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
    stop = np.r_[start[1:], len(node)]
    # the two corners of each road end must follow each other (cyclically) around the node
    nxt = np.arange(len(node)) + 1
    nxt[stop - 1] = start
    pos = np.arange(len(node)) - np.repeat(start, stop - start)
    paired_even = np.ones(len(node), dtype=bool)
    paired_odd = np.ones(len(node), dtype=bool)
    even = pos % 2 == 0
    paired_even[even] = end[even] == end[nxt[even]]
    paired_odd[~even] = end[~even] == end[nxt[~even]]
    fine = np.logical_and.reduceat(paired_even, start) | np.logical_and.reduceat(paired_odd, start)
    gap = np.empty(len(node))
    gap[:-1] = ang[1:] - ang[:-1]
    gap[stop - 1] = ang[start] + 2 * np.pi - ang[stop - 1]
    widest = np.lexsort((gap, node))[stop - 1]  # largest gap of each node
    centre = gap[widest] >= np.pi - 1e-9
    key = np.concatenate([np.arange(len(node), dtype=float), widest[centre] + 0.5])
    all_node = np.concatenate([node, node[widest[centre]]])
    all_pts = np.concatenate([pts, node_xy[node[widest[centre]]]])
    seq = np.argsort(key, kind="stable")
    all_node, all_pts = all_node[seq], all_pts[seq]
    ids, ring_of = np.unique(all_node, return_inverse=True)
    polys = np.asarray(shapely.polygons(shapely.linearrings(all_pts, indices=ring_of)))
    usable = fine & shapely.is_valid(polys)
    out[ids[usable]] = polys[usable]
    node_ok[ids[usable]] = True
    bad_node = np.zeros(n, dtype=bool)
    bad_node[ids[~fine]] = True  # an invalid polygon alone is replaced by stubs
    crowded[good] = bad_node[su[good]] | bad_node[sv[good]]
    return out, node_ok, crowded


def _crossing_gaps(
    network: Network, geoms: GeomArray, sc: _SegmentCoords, seg_ok: BoolArray,
    node_trim: FloatArray,
) -> tuple[IntArray, FloatArray, FloatArray, BoolArray]:  # fmt: skip
    """Gaps in the ribbons of roads that cross others, or pass a node, without a shared node.

    Of two crossing roads, the one with the higher index gets the gap; a road passing through
    (or within a few centimetres of) another road's node gets a gap around that node. The gap
    is long enough for the other ribbon to pass at the crossing angle; crossings at very flat
    angles make the segment a fallback case.

    Returns
    -------
    gap_ptr, gap_lo, gap_hi, bad
        Gaps per segment (CSR, distances along the segment, merged), and segments to draw
        with an ordinary union instead.
    """
    su, sv = network.seg_u, network.seg_v
    n_seg = len(su)
    tree = shapely.STRtree(geoms)
    bad = np.zeros(n_seg, dtype=bool)
    a, b = tree.query(geoms, predicate="intersects")
    a, b = a[a < b], b[a < b]
    # roads sharing a node meet there; keep them only if they also cross elsewhere
    shared = (su[a] == su[b]) | (su[a] == sv[b]) | (sv[a] == su[b]) | (sv[a] == sv[b])
    curved = (sc.last - sc.first > 1)[a] | (sc.last - sc.first > 1)[b]
    check = shared & curved
    keep = ~shared
    keep[check] = shapely.crosses(geoms[a[check]], geoms[b[check]])
    a, b = a[keep], b[keep]
    inter = shapely.intersection(geoms[a], geoms[b])
    parts, pair = shapely.get_parts(inter, return_index=True)
    not_point = shapely.get_type_id(parts) != 0
    bad[a[pair[not_point]]] = True
    bad[b[pair[not_point]]] = True
    parts, pair = parts[~not_point], pair[~not_point]
    reach = node_trim + 4 * _HALF_W  # a node's polygon reaches no farther, metres
    ends = shapely.points(network.node_xy)
    # a crossing at (or next to) one road's node is handled below, as a pass by that node
    at_node = np.zeros(len(parts), dtype=bool)
    for s_of in (a[pair], b[pair]):
        for e in (su, sv):
            at_node |= shapely.distance(parts, ends[e[s_of]]) <= reach[e[s_of]]
    pa, pb, pp = a[pair[~at_node]], b[pair[~at_node]], parts[~at_node]
    # roads passing by a node that is not theirs
    nn, ns = tree.query(ends, predicate="dwithin", distance=_MAX_TRIM + 4 * _HALF_W)
    near = ~((su[ns] == nn) | (sv[ns] == nn))
    near[near] = shapely.distance(ends[nn[near]], geoms[ns[near]]) <= reach[nn[near]]
    nn, ns = nn[near], ns[near]
    under = np.concatenate([pb, ns])
    where = np.concatenate([pp, ends[nn]])
    pos = shapely.line_locate_point(geoms[under], where)
    # sine of the crossing angle: with the other road, or the flattest road leaving the node
    i, _ = _locate(sc, under, pos)
    d_under = sc.normal[i]
    j, _ = _locate(sc, pa, shapely.line_locate_point(geoms[pa], pp))
    sin_cross = np.abs(_cross(d_under[: len(pa)], sc.normal[j]))
    sin_node = _node_sine(network, sc, nn, d_under[len(pa) :])
    sin = np.concatenate([sin_cross, sin_node])
    clear = np.concatenate([np.full(len(pa), _TRIM), node_trim[nn]])
    half = clear + 4 * _HALF_W + 4 * _HALF_W / np.maximum(sin, 1e-9)
    too_flat = half > _MAX_GAP
    bad[under[too_flat]] = True
    lo = np.clip(pos - half, 0.0, None)
    hi = np.minimum(pos + half, sc.length[under])
    row, glo, ghi = _merge_intervals([(lo, hi)], rows=under, scale=sc.length)
    ptr = np.zeros(n_seg + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_seg), out=ptr[1:])
    bad &= seg_ok
    return ptr, glo, ghi, bad


def _node_sine(
    network: Network, sc: _SegmentCoords, nodes: IntArray, direction: FloatArray
) -> FloatArray:
    """Smallest sine of the angle between a direction and the roads leaving each node."""
    if len(nodes) == 0:
        return np.empty(0)
    su, sv = network.seg_u, network.seg_v
    out = np.ones(len(nodes))
    for ends, at_end in ((su, False), (sv, True)):
        order, ptr = _incidence(ends, network.n_nodes)
        row, seg = _expand(np.arange(len(nodes)), nodes, order, ptr)
        d = np.where(at_end, sc.length[seg] - _TRIM, _TRIM)
        i, _ = _locate(sc, seg, np.clip(d, 0.0, sc.length[seg]))
        sine = np.nan_to_num(np.abs(_cross(direction[row], sc.normal[i])), nan=1.0)
        np.minimum.at(out, row, sine)
    return out


def _cross(u: FloatArray, v: FloatArray) -> FloatArray:
    """Z component of the cross products of 2-D vectors, row by row."""
    return np.asarray(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])


def _by_source(polys: GeomArray, source: IntArray, n: int) -> GeomArray:
    """One geometry per source: the polygon, or a MultiPolygon of its parts."""
    out = np.full(n, None, dtype=object)
    count = np.bincount(source, minlength=n)
    single = count[source] == 1
    out[source[single]] = polys[single]
    multi = np.flatnonzero(count > 1)
    if len(multi):
        m = ~single
        ids, idx = np.unique(source[m], return_inverse=True)
        out[ids] = shapely.multipolygons(polys[m], indices=idx)
    return out


def _stubs(
    node_xy: FloatArray, su: IntArray, sv: IntArray, corner: FloatArray, nodes: IntArray, n: int
) -> tuple[IntArray, GeomArray]:
    """Thin polygons from each fallback node to the ribbon ends of its segments (CSR)."""
    is_bad = np.zeros(n, dtype=bool)
    is_bad[nodes] = True
    finite = np.isfinite(corner).all(axis=(1, 2))
    mu, mv = is_bad[su] & finite, is_bad[sv] & finite
    node = np.concatenate([su[mu], sv[mv]])
    end = np.concatenate([corner[mu, :2].mean(axis=1), corner[mv, 2:].mean(axis=1)])
    order = np.argsort(node, kind="stable")
    node, end = node[order], end[order]
    geom = np.empty(0, dtype=object)
    if len(node):
        lines = shapely.linestrings(np.stack([node_xy[node], end], axis=1))
        geom = np.asarray(shapely.buffer(lines, 2 * _HALF_W, quad_segs=1), dtype=object)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(node, minlength=n), out=ptr[1:])
    return ptr, geom


def _ribbons(
    th: _Thin, seg: IntArray, d0: FloatArray, d1: FloatArray, att0: BoolArray, att1: BoolArray
) -> tuple[IntArray, GeomArray]:
    """Thin polygons along segments between two distances from their start (vectorised).

    An end attached to a node (``att0``/``att1``) uses the segment's shared corners, so it
    meets the node polygon edge to edge; a free end is cut square. A piece that spans a gap
    of its segment comes out in several parts.

    Returns
    -------
    source, polygons
        Position of the piece each polygon belongs to, and the polygons.
    """
    src = np.arange(len(seg))
    if len(th.gap_lo):
        src, d0, d1, att0, att1 = _minus_gaps(th, seg, d0, d1, att0, att1)
        seg = seg[src]
    sc = th.sc
    n = len(seg)
    if n == 0:
        return src, np.empty(0, dtype=object)
    i0, p0 = _locate(sc, seg, d0)
    i1, p1 = _locate(sc, seg, d1)
    n0, n1 = sc.normal[i0] * _HALF_W, sc.normal[i1] * _HALF_W
    s_left = np.where(att0[:, None], th.corner[seg, 0], p0 + n0)
    s_right = np.where(att0[:, None], th.corner[seg, 1], p0 - n0)
    e_left = np.where(att1[:, None], th.corner[seg, 2], p1 + n1)
    e_right = np.where(att1[:, None], th.corner[seg, 3], p1 - n1)
    lo, hi = _inner(sc, seg, d0, d1)
    inner = hi - lo
    size = 2 * inner + 4
    piece = np.repeat(np.arange(n), size)
    pos = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    k = inner[piece]
    xy = np.empty((len(pos), 2))
    left = (pos >= 1) & (pos <= k)
    right = (pos >= k + 3) & (pos <= 2 * k + 2)
    vl = lo[piece[left]] + pos[left] - 1
    vr = lo[piece[right]] + (2 * k[right] + 2 - pos[right])
    xy[left] = sc.xy[vl] + th.mitre[vl]
    xy[right] = sc.xy[vr] - th.mitre[vr]
    xy[pos == 0] = s_left
    xy[pos == k + 1] = e_left
    xy[pos == k + 2] = e_right
    xy[pos == size[piece] - 1] = s_right
    rings = shapely.linearrings(xy, indices=piece)
    return src, np.asarray(shapely.polygons(rings), dtype=object)


def _minus_gaps(
    th: _Thin, seg: IntArray, d0: FloatArray, d1: FloatArray, att0: BoolArray, att1: BoolArray
) -> tuple[IntArray, FloatArray, FloatArray, BoolArray, BoolArray]:
    """Split ``[d0, d1]`` pieces around the gaps of their segments (vectorised)."""
    n_gaps = th.gap_ptr[seg + 1] - th.gap_ptr[seg]
    size = n_gaps + 1
    src = np.repeat(np.arange(len(seg)), size)
    pos = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    g = th.gap_ptr[seg[src]] + pos  # gap after this part (if pos < n_gaps)
    before = th.gap_ptr[seg[src]] + pos - 1  # gap before this part (if pos > 0)
    start = np.where(pos > 0, th.gap_hi[np.clip(before, 0, None)], -np.inf)
    stop = np.where(pos < n_gaps[src], th.gap_lo[np.clip(g, 0, len(th.gap_lo) - 1)], np.inf)
    a = np.maximum(start, d0[src])
    b = np.minimum(stop, d1[src])
    keep = b - a > _MIN_M
    first = keep & (a == d0[src])
    last = keep & (b == d1[src])
    return (
        src[keep],
        a[keep],
        b[keep],
        (att0[src] & first)[keep],
        (att1[src] & last)[keep],
    )


# --------------------------------------------------------------------------------------------
# reached pieces of one chunk of halls


def _incidence(ends: IntArray, n_nodes: int) -> tuple[IntArray, IntArray]:
    """Segments by end node: ``order[ptr[k]:ptr[k + 1]]`` are the segments ending at node k."""
    order = np.argsort(ends, kind="stable").astype(np.int64)
    ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n_nodes), out=ptr[1:])
    return order, ptr


def _expand(
    rows: IntArray, nodes: IntArray, order: IntArray, ptr: IntArray
) -> tuple[IntArray, IntArray]:
    """``(row, item)`` pairs for every item listed under each ``(row, node)`` pair (CSR)."""
    deg = ptr[nodes + 1] - ptr[nodes]
    r = np.repeat(rows, deg)
    start = np.repeat(ptr[nodes], deg)
    within = np.arange(int(deg.sum())) - np.repeat(np.cumsum(deg) - deg, deg)
    return r, order[start + within]


def _reach(remaining: FloatArray, time_s: FloatArray) -> FloatArray:
    """Fraction of a segment covered with ``remaining`` seconds left (0 where none, max 1)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(remaining > 0, remaining / time_s, 0.0)
    return np.asarray(np.clip(np.nan_to_num(f, nan=0.0, posinf=1.0), 0.0, 1.0), dtype=float)


def _merge_intervals(
    parts: list[tuple[FloatArray, FloatArray]],
    *,
    rows: IntArray | None = None,
    scale: FloatArray | None = None,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Union of intervals per row, as sorted disjoint ``[a, b]`` with their row (vectorised).

    ``parts`` are interval lists of equal length, one interval per row each (row ``i`` of
    every list), unless ``rows`` gives the row of each interval. Ends are clipped to
    ``[0, scale[row]]`` (``[0, 1]`` without ``scale``).
    """
    n = len(parts[0][0])
    row = np.tile(np.arange(n), len(parts)) if rows is None else np.asarray(rows)
    top = np.ones(len(row)) if scale is None else scale[row]
    a = np.clip(np.concatenate([p[0] for p in parts]), 0.0, top)
    b = np.clip(np.concatenate([p[1] for p in parts]), 0.0, top)
    real = b > a
    row, a, b = row[real], a[real], b[real]
    order = np.lexsort((a, row))
    row, a, b = row[order], a[order], b[order]
    # running maximum of the ends within each row (rows are spaced further apart than any end)
    space = 2.0 * (float(top.max()) if len(top) else 1.0) + 1.0
    reach = np.maximum.accumulate(row * space + b) - row * space if len(row) else b
    new = np.ones(len(row), dtype=bool)
    new[1:] = (row[1:] != row[:-1]) | (a[1:] > reach[:-1])
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [len(row)]])[: len(first)].astype(np.int64) - 1
    return row[first], a[first], reach[last]


class _Collector:
    """Thin pieces per (hall, band) group: coverage pieces, and pieces for an ordinary union."""

    def __init__(self, th: _Thin) -> None:
        self.th = th
        self.groups: list[IntArray] = []
        self.geoms: list[GeomArray] = []
        self.fb_groups: list[IntArray] = []
        self.fb_geoms: list[GeomArray] = []
        self.rib: list[tuple[IntArray, ...]] = []
        self.rib_f: list[tuple[FloatArray, FloatArray]] = []
        self.lines: list[tuple[IntArray, IntArray, FloatArray, FloatArray]] = []

    def ready(self, group: IntArray, geoms: GeomArray) -> None:
        self.groups.append(group)
        self.geoms.append(geoms)

    def fallback(self, group: IntArray, geoms: GeomArray) -> None:
        self.fb_groups.append(group)
        self.fb_geoms.append(geoms)

    def piece(self, group: IntArray, seg: IntArray, a: FloatArray, b: FloatArray) -> None:
        """Reached fractions ``[a, b]`` of segments (ribbons, or fallback lines)."""
        th = self.th
        good = th.seg_ok[seg]
        if not good.all():
            self.lines.append((group[~good], seg[~good], a[~good], b[~good]))
            group, seg, a, b = group[good], seg[good], a[good], b[good]
        length, trim_u, trim_v = th.sc.length[seg], th.trim[seg, 0], th.trim[seg, 1]
        d0, d1 = a * length, b * length
        att0, att1 = d0 <= trim_u, d1 >= length - trim_v
        d0 = np.where(att0, trim_u, d0)
        d1 = np.where(att1, length - trim_v, d1)
        whole = att0 & att1
        if whole.any():
            self.ready(group[whole], th.ribbon[seg[whole]])
        part = ~whole & (d1 - d0 > _MIN_M)
        if part.any():
            self.rib.append((group[part], seg[part], att0[part], att1[part]))
            self.rib_f.append((d0[part], d1[part]))

    def build(self) -> tuple[IntArray, GeomArray, IntArray, GeomArray]:
        """All pieces, the partial ribbons and fallback lines built in one pass each."""
        th = self.th
        if self.rib:
            g, s, a0, a1 = (np.concatenate(x) for x in zip(*self.rib, strict=True))
            d0, d1 = (np.concatenate(x) for x in zip(*self.rib_f, strict=True))
            src, polys = _ribbons(th, s, d0, d1, a0.astype(bool), a1.astype(bool))
            self.ready(g[src], polys)
        if self.lines:
            g, s, a, b = (np.concatenate(x) for x in zip(*self.lines, strict=True))
            lines = _cut(th.sc, s, a, b)
            self.fallback(g, np.asarray(shapely.buffer(lines, 2 * _HALF_W, quad_segs=1)))
        empty_i = np.empty(0, dtype=np.int64)
        empty_g = np.empty(0, dtype=object)
        return (
            np.concatenate([empty_i, *self.groups]),
            np.concatenate([empty_g, *self.geoms]),
            np.concatenate([empty_i, *self.fb_groups]),
            np.concatenate([empty_g, *self.fb_geoms]),
        )


def _chunk_pieces(
    network: Network,
    th: _Thin,
    dist: FloatArray,
    own: Snapped,
    link: tuple[FloatArray, FloatArray],
    bands_s: FloatArray,
    inc: tuple[tuple[IntArray, IntArray], tuple[IntArray, IntArray]],
) -> tuple[IntArray, GeomArray, IntArray, GeomArray]:
    """Thin pieces a chunk of halls adds in each band, grouped by ``hall * n_bands + band``.

    ``dist`` holds node times (seconds), one row per hall. A segment with end times ``tu``,
    ``tv`` is reached over ``[0, fu]`` from ``seg_u`` and ``[1 - fv, 1]`` from ``seg_v``
    (fractions of its length); band k's pieces are what it adds to band k - 1.
    """
    n_bands = len(bands_s)
    top = bands_s[-1]
    col = _Collector(th)
    su, sv = network.seg_u, network.seg_v
    # (hall, segment) pairs with a reached end, each once, without the hall's own segment
    h, s = _reached_pairs(network, dist, float(top), inc)
    not_own = s != own.seg[h]
    h, s = h[not_own], s[not_own]
    tu, tv = dist[h, su[s]], dist[h, sv[s]]
    fwd, bwd = network.seg_fwd_s[s], network.seg_bwd_s[s]
    hall = np.arange(len(own))
    o_seg = own.seg
    o_tu, o_tv = dist[hall, su[o_seg]], dist[hall, sv[o_seg]]
    o_fwd, o_bwd = network.seg_fwd_s[o_seg], network.seg_bwd_s[o_seg]
    fu_prev = np.zeros(len(s))
    fv_prev = np.zeros(len(s))
    whole_prev = np.zeros(len(s), dtype=bool)
    own_prev = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
    drawn = np.zeros(len(o_seg))
    floor = -np.inf
    for k, band in enumerate(bands_s):
        # nodes first reached in this band
        hn, nn = np.nonzero((dist <= band) & (dist > floor))
        good = th.node_ok[nn]
        col.ready(hn[good] * n_bands + k, th.node_poly[nn[good]])
        if not good.all():
            gh, gi = _expand(hn[~good], nn[~good], np.arange(len(th.stub_geom)), th.stub_ptr)
            col.fallback(gh * n_bands + k, th.stub_geom[gi])
        # segments reached from their ends; the band adds what the previous one lacked
        fu, fv = _reach(band - tu, fwd), _reach(band - tv, bwd)
        whole = fu + fv >= 1.0
        grp = h * n_bands + k
        m = whole & ~whole_prev
        col.piece(grp[m], s[m], fu_prev[m], 1.0 - fv_prev[m])
        m = ~whole & (fu > fu_prev)
        col.piece(grp[m], s[m], fu_prev[m], fu[m])
        m = ~whole & (fv > fv_prev)
        col.piece(grp[m], s[m], 1.0 - fv[m], 1.0 - fv_prev[m])
        fu_prev, fv_prev, whole_prev = fu, fv, whole
        # each hall's own segment: from either end and straight from the hall, merged; the
        # band adds what the previous band's intervals lack
        left = band - own.access_s
        reached = _merge_intervals([
            (np.zeros(len(o_seg)), _reach(band - o_tu, o_fwd)),
            (1.0 - _reach(band - o_tv, o_bwd), np.ones(len(o_seg))),
            (own.frac - _reach(left, o_bwd), own.frac + _reach(left, o_fwd)),
        ])  # fmt: skip
        og, oa, ob = _increments(reached, own_prev)
        col.piece(og * n_bands + k, o_seg[og], oa, ob)
        own_prev = reached
        # the off-road walk from the hall towards its road
        drawn = _add_link(col, link, own.access_s, band, drawn, k, n_bands)
        floor = band
    return col.build()


def _increments(
    now: tuple[IntArray, FloatArray, FloatArray], before: tuple[IntArray, FloatArray, FloatArray]
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Parts of each row's intervals ``now`` not covered by its intervals ``before``.

    Both are sorted, disjoint intervals per row (as :func:`_merge_intervals` gives them); a
    part starts and ends exactly where an interval of ``before`` ends and starts, so the thin
    pieces of successive bands meet edge to edge.
    """
    rows, starts, ends = [], [], []
    b_row, b_a, b_b = before
    bounds = np.searchsorted(b_row, np.arange(int(max(now[0].max(initial=-1), 0)) + 2))
    for r, a, b in zip(*now, strict=True):
        lo, hi = bounds[r], bounds[r + 1]
        cursor = a
        for pa, pb in zip(b_a[lo:hi], b_b[lo:hi], strict=True):
            if pb <= cursor or pa >= b:
                continue
            if pa > cursor:
                rows.append(r)
                starts.append(cursor)
                ends.append(pa)
            cursor = max(cursor, pb)
        if b > cursor:
            rows.append(r)
            starts.append(cursor)
            ends.append(b)
    return (
        np.asarray(rows, dtype=np.int64),
        np.asarray(starts, dtype=float),
        np.asarray(ends, dtype=float),
    )


def _add_link(
    col: _Collector,
    link: tuple[FloatArray, FloatArray],
    access_s: FloatArray,
    band: float,
    before: FloatArray,
    k: int,
    n_bands: int,
) -> FloatArray:
    """Thin ribbon of the part of each hall's off-road walk the band adds; the drawn lengths.

    The walk stops ``_LINK_GAP`` short of the road: every point of it is then at least that
    far from every road (the road point is the nearest one to the hall), so it overlaps no
    other piece.
    """
    ends, length = link
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(access_s > 0, np.minimum(1.0, band / access_s), 0.0)
    drawn = np.minimum(length * share, np.maximum(length - _LINK_GAP, 0.0))
    m = drawn - before > _MIN_M
    if m.any():
        hall = ends[m, 0]
        unit = (ends[m, 1] - hall) / length[m, None]
        tail = hall + unit * before[m, None]
        tip = hall + unit * drawn[m, None]
        side = np.column_stack([-unit[:, 1], unit[:, 0]]) * _HALF_W
        ring = np.stack([tail + side, tip + side, tip - side, tail - side], axis=1)
        polys = np.asarray(shapely.polygons(ring), dtype=object)
        col.ready(np.flatnonzero(m) * n_bands + k, polys)
    return np.where(m, drawn, before)


# --------------------------------------------------------------------------------------------
# polygons


def _hall_rings(
    network: Network,
    snapped: Snapped,
    hall_xy: FloatArray,
    bands_s: FloatArray,
    buffer_m: float,
    workers: int,
) -> GeomArray:
    """What each band adds to each hall's polygon (metric CRS), ``(halls drawn, bands)``."""
    ok = np.flatnonzero(snapped.ok)
    n_bands = len(bands_s)
    out = np.empty((len(ok), n_bands), dtype=object)
    if len(ok) == 0:
        return out
    n = network.n_nodes
    mat, sources = _augmented(network, snapped, to_facility=False)
    inc = _incidences(network)
    th = _thin(network)
    own = snapped.take(ok)
    on_road = shapely.get_coordinates(
        shapely.line_interpolate_point(network.seg_geom[own.seg], own.frac, normalized=True)
    )
    link_len = np.hypot(*(on_road - hall_xy).T)
    link_end = np.stack([hall_xy, on_road], axis=1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = []
        for start in range(0, len(ok), CHUNK):
            rows = np.arange(start, min(start + CHUNK, len(ok)))
            dist = dijkstra(mat, directed=True, indices=sources[rows], limit=float(bands_s[-1]))
            dist = np.atleast_2d(dist)[:, :n]
            group, geoms, fb_group, fb_geoms = _chunk_pieces(
                network, th, dist, own.take(rows), (link_end[rows], link_len[rows]), bands_s, inc
            )
            n_groups = len(rows) * n_bands
            split = _split(group, geoms, n_groups)
            fb_split = _split(fb_group, fb_geoms, n_groups)
            futures += [
                pool.submit(_thicken, split[g], fb_split[g], buffer_m) for g in range(n_groups)
            ]  # the next chunk's routing overlaps these
        flat = out.reshape(-1)
        for g, future in enumerate(futures):
            flat[g] = future.result()
    return out


def _thicken(clean: GeomArray, fallback: GeomArray, buffer_m: float) -> Any:  # noqa: ANN401
    """Buffer of the thin pieces one band adds to one hall (an empty Polygon if none)."""
    thin = _coverage_union(clean)
    if len(fallback):
        thin = shapely.union_all(np.concatenate([[thin], fallback]))
    if shapely.is_empty(thin):
        return shapely.Polygon()
    return shapely.buffer(thin, buffer_m, quad_segs=QUAD_SEGS)


def _transform(geoms: GeomArray, transformer: pyproj.Transformer) -> GeomArray:
    """Geometries in another CRS, every coordinate transformed in one call."""
    if geoms.size == 0:
        return geoms
    flat = shapely.transform(
        geoms.reshape(-1),
        lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
    )
    return np.asarray(flat, dtype=object).reshape(geoms.shape)


def _nest_bands(rows: list[Any], workers: int) -> GeomArray:
    """Nested band polygons: each band's is the previous one's joined with what it adds.

    ``rows`` holds, per output row (hall or district), the additions of each band: one
    polygon, or an array of polygons to dissolve.
    """

    def nest(additions: Any) -> list[Any]:  # noqa: ANN401 (shapely geometries)
        out: list[Any] = []
        prev: Any = None
        for add in additions:
            if isinstance(add, np.ndarray):
                add = shapely.union_all(add) if len(add) else shapely.Polygon()  # noqa: PLW2901
            if prev is None or shapely.is_empty(prev):
                prev = add
            elif not shapely.is_empty(add):
                prev = _nest(prev, add)
            prev = _polygonal(prev)
            out.append(prev)
        return out

    if not rows:
        return np.empty((0, 0), dtype=object)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        nested = list(pool.map(nest, rows))
    return np.asarray(nested, dtype=object).reshape(len(rows), -1)


def _split(group: IntArray, geoms: GeomArray, n_groups: int) -> list[GeomArray]:
    order = np.argsort(group, kind="stable")
    group, geoms = group[order], geoms[order]
    bounds = np.searchsorted(group, np.arange(n_groups + 1))
    return [geoms[bounds[g] : bounds[g + 1]] for g in range(n_groups)]


def _nest(inner: Any, outer: Any) -> Any:  # noqa: ANN401 (shapely geometries)
    """Union of two polygons that keeps the first one whole.

    Where the union meets edges that are almost collinear (a band's buffer running along
    the previous one's), GEOS may fall back to snapping and shift the first polygon's edges
    by micrometres; a second union against the first polygon then restores them. A leak of
    ``inner`` out of the union is bounded by edges of both, so it shows as a vertex of
    ``inner`` outside the union or a vertex of the union inside ``inner``: two point tests,
    much cheaper than a difference.
    """
    poly = shapely.union(inner, outer)
    mine = shapely.get_coordinates(inner)
    theirs = shapely.get_coordinates(poly)
    shapely.prepare(poly)
    shapely.prepare(inner)
    leaks = not shapely.intersects_xy(poly, mine[:, 0], mine[:, 1]).all() or bool(
        shapely.contains_xy(inner, theirs[:, 0], theirs[:, 1]).any()
    )
    if leaks:
        poly = shapely.union(poly, inner)
    return poly


def _coverage_union(pieces: GeomArray) -> Any:  # noqa: ANN401 (a shapely geometry)
    if len(pieces) == 0:
        return shapely.Polygon()
    try:
        return shapely.coverage_union_all(pieces)
    except shapely.errors.GEOSException:  # pragma: no cover (a piece slipped the checks)
        logger.debug("coverage union of %d pieces failed; using an ordinary union", len(pieces))
        return shapely.union_all(pieces)


def _polygonal(geom: Any) -> Any:  # noqa: ANN401 (a shapely geometry)
    """Polygon or MultiPolygon (an empty result becomes an empty Polygon)."""
    if geom is None or shapely.is_empty(geom):
        return shapely.Polygon()
    if shapely.get_type_id(geom) == 7:  # noqa: PLR2004 (a GeometryCollection)
        parts = [g for g in shapely.get_parts(geom) if shapely.get_type_id(g) in (3, 6)]
        return shapely.union_all(parts) if parts else shapely.Polygon()
    return geom


# --------------------------------------------------------------------------------------------
# grid polygons (method="grid")


def _grid_polygons(
    network: Network,
    snapped: Snapped,
    hall_xy: FloatArray,
    bands_s: FloatArray,
    buffer_m: float,
    cell_m: float,
    group: IntArray,
    n_groups: int,
    workers: int,
) -> tuple[GeomArray, FloatArray]:
    """Band polygons (EPSG:4326) and areas (m²) per group of halls, ``(groups, bands)``.

    ``group`` gives the group of every hall drawn (the rows of ``snapped``, all snapped);
    a group's polygon is the union of its halls' reach. One bounded Dijkstra per chunk of
    single-hall groups, one ``min_only`` Dijkstra per group of several halls.
    """
    n_bands = len(bands_s)
    top = float(bands_s[-1])
    n = network.n_nodes
    samples = _samples(network, cell_m)
    mat, sources = _augmented(network, snapped, to_facility=False)
    inc = _incidences(network)
    on_road = shapely.get_coordinates(
        shapely.line_interpolate_point(network.seg_geom[snapped.seg], snapped.frac, normalized=True)
    )
    offsets = _isogrid.footprint(buffer_m, cell_m)
    if len(group) == n_groups and (group == np.arange(n_groups)).all():
        # one hall per group: route a chunk, then draw it in a worker thread while the next
        # chunk is routed
        geoms = np.empty(n_groups * n_bands, dtype=object)
        area = np.zeros(n_groups * n_bands)

        def draw(lo: int, hi: int, marks: _isogrid.Marks) -> None:
            part = slice(lo * n_bands, hi * n_bands)
            geoms[part], area[part] = _isogrid.draw(
                marks, hi - lo, n_bands, offsets, cell_m, network.crs
            )

        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = []
            for lo in range(0, n_groups, GRID_CHUNK):
                rows = np.arange(lo, min(lo + GRID_CHUNK, n_groups))
                marks = _isogrid.Marks.empty()
                _grid_own(network, samples, snapped.take(rows), rows - lo, hall_xy[rows],
                          on_road[rows], bands_s, marks)  # fmt: skip
                d = dijkstra(mat, directed=True, indices=sources[rows], limit=top)
                _grid_roads(network, samples, np.atleast_2d(d)[:, :n], 0, bands_s, inc, marks)
                futures.append(pool.submit(draw, int(lo), int(rows[-1]) + 1, marks))
            for future in futures:
                future.result()
        return geoms.reshape(n_groups, n_bands), area.reshape(n_groups, n_bands)
    # groups of halls: one min_only Dijkstra per group, the union drawn once
    marks = _isogrid.Marks.empty()
    _grid_own(network, samples, snapped, group, hall_xy, on_road, bands_s, marks)
    for g in range(n_groups):
        members = np.flatnonzero(group == g)
        if len(members):
            d = dijkstra(mat, directed=True, indices=sources[members], limit=top, min_only=True)
            _grid_roads(network, samples, np.atleast_2d(d)[:, :n], g, bands_s, inc, marks)
    geoms, area = _isogrid.draw(
        marks, n_groups, n_bands, offsets, cell_m, network.crs, workers=workers
    )
    return geoms.reshape(n_groups, n_bands), area.reshape(n_groups, n_bands)


def _samples(network: Network, cell_m: float) -> _isogrid.Samples:
    """Road samples for a cell size, computed once per network."""
    key = f"iso_samples:{float(cell_m)!r}"
    found = network.cache.get(key)
    if found is None:
        geoms = network.seg_geom
        xy = shapely.get_coordinates(geoms)
        count = shapely.get_num_coordinates(geoms).astype(np.int64)
        first = np.zeros(len(count) + 1, dtype=np.int64)
        np.cumsum(count, out=first[1:])
        step = np.zeros(len(xy))
        if len(xy) > 1:
            step[1:] = np.hypot(*(xy[1:] - xy[:-1]).T)
        step[first[:-1][count > 0]] = 0.0
        found = _isogrid.make_samples(xy, first, np.cumsum(step), cell_m)
        network.cache[key] = found
    return found


def _reached_pairs(
    network: Network,
    dist: FloatArray,
    top: float,
    inc: tuple[tuple[IntArray, IntArray], tuple[IntArray, IntArray]],
) -> tuple[IntArray, IntArray]:
    """``(row, segment)`` pairs, each once, for every segment with an end reached by a row."""
    hr, nr = np.nonzero(dist < top)
    h_u, s_u = _expand(hr, nr, *inc[0])
    h_v, s_v = _expand(hr, nr, *inc[1])
    keep_v = ~(dist[h_v, network.seg_u[s_v]] < top)  # else already listed from seg_u
    return np.concatenate([h_u, h_v[keep_v]]), np.concatenate([s_u, s_v[keep_v]])


def _cells_of(sm: _isogrid.Samples, seg: IntArray) -> tuple[IntArray, IntArray]:
    """Every cell record of each listed segment, and the list position it belongs to."""
    cnt = sm.ptr[seg + 1] - sm.ptr[seg]
    idx = np.repeat(sm.ptr[seg] - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
    return idx, np.repeat(np.arange(len(seg)), cnt)


def _incidences(network: Network) -> tuple[tuple[IntArray, IntArray], tuple[IntArray, IntArray]]:
    """Segments by their ``seg_u`` and by their ``seg_v`` node (CSR), once per network."""
    inc = network.cache.get("iso_incidence")
    if inc is None:
        n = network.n_nodes
        inc = (_incidence(network.seg_u, n), _incidence(network.seg_v, n))
        network.cache["iso_incidence"] = inc
    return inc


def _grid_roads(
    network: Network,
    sm: _isogrid.Samples,
    dist: FloatArray,
    offset: int,
    bands_s: FloatArray,
    inc: tuple[tuple[IntArray, IntArray], tuple[IntArray, IntArray]],
    marks: _isogrid.Marks,
) -> None:
    """Reached samples of every segment with a reached end, for rows ``offset + i``."""
    h, s = _reached_pairs(network, dist, float(bands_s[-1]), inc)
    tu, tv = dist[h, network.seg_u[s]], dist[h, network.seg_v[s]]
    idx, rep = _cells_of(sm, s)
    ss = s[rep]
    t = np.minimum(
        tu[rep] + _along(sm.fmin[idx], network.seg_fwd_s[ss]),
        tv[rep] + _along(1.0 - sm.fmax[idx], network.seg_bwd_s[ss]),
    )  # the earliest time at which any part of the road in the cell is reached
    marks.add(h[rep] + offset, sm.row[idx], sm.col[idx], _isogrid.band_of(t, bands_s))


def _grid_own(
    network: Network,
    sm: _isogrid.Samples,
    own: Snapped,
    group: IntArray,
    hall_xy: FloatArray,
    on_road: FloatArray,
    bands_s: FloatArray,
    marks: _isogrid.Marks,
) -> None:
    """Samples of each hall's own road reached straight from the hall, and its off-road walk."""
    s = own.seg
    idx, rep = _cells_of(sm, s)
    f = own.frac[rep]
    lo, hi = sm.fmin[idx], sm.fmax[idx]
    t = own.access_s[rep] + np.where(
        lo > f,
        _along(lo - f, network.seg_fwd_s[s[rep]]),
        np.where(hi < f, _along(f - hi, network.seg_bwd_s[s[rep]]), 0.0),
    )  # the cell's part of the road nearest to the hall along it
    marks.add(group[rep], sm.row[idx], sm.col[idx], _isogrid.band_of(t, bands_s))
    # the off-road walk, hall to road
    length = np.hypot(*(on_road - hall_xy).T)
    n = np.ceil(length / (sm.cell / 3.0)).astype(np.int64) + 1
    rep = np.repeat(np.arange(len(s)), n)
    q = (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)) / np.maximum(n - 1, 1)[rep]
    xy = hall_xy[rep] + (on_road - hall_xy)[rep] * q[:, None]
    t = own.access_s[rep] * q
    marks.add(
        group[rep],
        np.floor(xy[:, 1] / sm.cell).astype(np.int64),
        np.floor(xy[:, 0] / sm.cell).astype(np.int64),
        _isogrid.band_of(t, bands_s),
    )


def _grid_frame(
    network: Network,
    halls: gpd.GeoDataFrame,
    snapped: Snapped,
    hall_xy: FloatArray,
    bands_min: list[float],
    buffer_m: float,
    cell_m: float,
    per: str,
    workers: int,
) -> gpd.GeoDataFrame:
    """The output frame of ``method="grid"`` (same columns and order as the exact method)."""
    ok = np.flatnonzero(snapped.ok)
    n_bands = len(bands_min)
    bands_s = np.asarray(bands_min) * 60.0
    own = snapped.take(ok)
    table: dict[str, Any]
    if per == "hall":
        group = np.arange(len(ok))
        table = {"hall_id": np.repeat(halls["hall_id"].to_numpy()[ok], n_bands)}
        if "name" in halls.columns:
            table["name"] = np.repeat(halls["name"].to_numpy()[ok], n_bands)
        table["band_min"] = np.tile(np.asarray(bands_min, dtype=float), len(ok))
        n_groups = len(ok)
    else:
        if per == "district":
            keys = halls["district"].fillna("(none)").astype(str).to_numpy()[ok]
        else:
            keys = np.full(len(ok), "(all)", dtype=object)
        names, group = np.unique(keys.astype(str), return_inverse=True)
        n_groups = len(names)
        table = {
            "district": np.repeat(names.astype(object), n_bands),
            "band_min": np.tile(np.asarray(bands_min, dtype=float), n_groups),
            "halls": np.repeat(np.bincount(group, minlength=n_groups), n_bands).astype(np.int64),
        }
    if len(ok):
        geoms, area = _grid_polygons(
            network, own, hall_xy, bands_s, buffer_m, cell_m, group.astype(np.int64), n_groups,
            workers,
        )  # fmt: skip
    else:
        geoms, area = np.empty((0, n_bands), dtype=object), np.empty((0, n_bands))
    frame = pd.DataFrame(table)
    frame.insert(len(frame.columns) - (0 if per == "hall" else 1), "area_m2", area.reshape(-1))
    if per == "all":
        frame = frame.drop(columns="district")
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms.reshape(-1), crs=4326))
    return out.reset_index(drop=True)
