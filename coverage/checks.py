"""Plausibility checks on inputs that pass validation but are probably wrong.

:func:`check_coord_system` catches the most damaging silent error of Chinese facility lists:
coordinates in one system declared as another. Amap and Tencent give GCJ-02 (shifted from
WGS-84 by 300-700 m), Baidu gives BD-09 (about 1 km off in Hangzhou); OpenStreetMap and GPS
are WGS-84. Read in the wrong system, every travel time is off by a third of a 15-minute walk
or more.

How it decides
--------------
Real locations have a *local* pattern relative to the roads: addresses and halls sit beside a
road (the distance to the nearest road is at a local minimum), the representative points of
street blocks and residential compounds sit in the middle, away from every road (a local
maximum). Points moved by a few hundred metres land anywhere, where the distance to the
nearest road rises in some directions and falls in others in equal measure.

So the raw coordinates (recovered from the declared system) are read three ways: as WGS-84,
as GCJ-02 and as BD-09. For each reading and point, the distance to the nearest road is
compared with the distances 20, 45 and 80 m away in 12 directions: the share of those that
are smaller is near 0 beside a road, near 1 in the middle of a block and 0.5 on average
for a point dropped at random. A one-sample t-test of that share against 0.5 over the points
gives each reading a *fit score* (a normal-equivalent z; negative: the points hug the roads,
positive: they keep clear of them). The comparison is local (at most 80 m away), so lakes,
parks and the edges of the network extract, which fool comparisons of distances over
hundreds of metres, leave it alone.

A reading is the verdict when its score is at least :data:`MIN_SCORE` in size and at least
:data:`MIN_RATIO` times the score of each other reading; otherwise the answer is "cannot
tell". Fewer than :data:`MIN_POINTS` usable points (inside China, well inside the area the
network covers in every reading) never give a verdict. Several files declared in one system
(communities and halls read with the same ``--coord-system``) can be judged together: their
per-file scores are combined (Stouffer's method when the files lean the same way, else a
chi-square test), which tells when each file alone is too small.
``bench/bench_coords.py`` measures detection and false alarms on the bundled samples.

Outside China (:func:`coverage.coords.out_of_china`) GCJ-02 equals WGS-84, so there is
nothing to tell apart: such points are left out, and a set lying there gets no verdict (the
BD-09 formulas also shift points abroad, but Chinese map offsets are not judged there).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import (
    special,  # (the functions scipy.stats' t, chi2 and norm use, without its import cost)
)

from coverage._errors import CrsError
from coverage.coords import COORD_SYSTEMS, CoordSystem, from_wgs84, out_of_china, to_wgs84
from coverage.engine import snap

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from coverage.network import Network

__all__ = [
    "MAX_POINTS",
    "MIN_POINTS",
    "MIN_RATIO",
    "MIN_SCORE",
    "CoordCheck",
    "check_coord_system",
    "check_coord_systems",
    "declared_coord_system",
]

logger = logging.getLogger(__name__)

#: Fewer usable points than this give no verdict ("cannot tell").
MIN_POINTS = 20
#: At most this many points of a set are tested (evenly spaced in input order), to bound the
#: cost (80 points: about 3,100 distance look-ups, 15-30 ms).
MAX_POINTS = 80
#: Smallest fit score (normal-equivalent z) of the verdict's reading.
MIN_SCORE = 4.0
#: The verdict's score must be at least this many times the score of every other reading.
MIN_RATIO = 2.0
#: Distances of the neighbouring positions a point is compared with, metres; each in
#: :data:`_DIRECTIONS` directions (turned by half a step from one distance to the next).
RADII_M = (20.0, 45.0, 80.0)
_DIRECTIONS = 4
#: Cells of the grid that says where the network has roads (a point is usable when every
#: reading of it lies in or next to a cell with a network node), metres.
_CELL_M = 250.0
#: Floor of the standard deviation of the per-point shares (guards the t-test against sets
#: whose shares are all alike).
_SD_FLOOR = 0.1
#: Distances closer than this count as equal, metres.
_TIE_M = 0.5
#: Checks remembered per network (the same input checked again costs nothing).
_MEMO_SIZE = 64

_NAMES = {"wgs84": "WGS-84", "gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}
_SHORT = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}


@dataclass(frozen=True)
class CoordCheck:
    """The outcome of :func:`check_coord_system` for one set of points (or several pooled).

    Attributes
    ----------
    label
        What was checked, e.g. ``"社区名单.xlsx"`` (pooled sets: labels joined by ``" + "``).
    declared
        The coordinate system the points were read in.
    points
        Points the verdict rests on (inside China, inside the network's area in every
        reading, at most :data:`MAX_POINTS` per set).
    fits
        The system the points clearly fit best, or ``None``: cannot tell (too few points,
        or no reading stands out).
    scores
        Fit score of each reading (normal-equivalent z; for a single set negative means the
        points hug the roads, positive that they keep clear of them; pooled sets: size only).
    median_dist_m
        Median distance from the points to the nearest road in each reading, metres.
    """

    label: str
    declared: CoordSystem
    points: int
    fits: CoordSystem | None
    scores: dict[str, float] = field(default_factory=dict)
    median_dist_m: dict[str, float] = field(default_factory=dict)

    @property
    def doubt(self) -> bool:
        """Whether the points fit another system clearly better than the declared one."""
        return self.fits is not None and self.fits != self.declared

    @property
    def verdict(self) -> str:
        """``"doubt"``, ``"as declared"`` or ``"cannot tell"``."""
        if self.fits is None:
            return "cannot tell"
        return "doubt" if self.doubt else "as declared"

    def message(self) -> str | None:
        """The planner's message when :attr:`doubt` (English; names the argument), else None.

        Returns
        -------
        str or None
            E.g. ``'communities.xlsx: declared WGS-84, but the points fit the roads far
            better read as GCJ-02 (Amap/Tencent): read them with coord_system="gcj02". ...'``.
        """
        if self.fits is None or not self.doubt:
            return None
        prefix = f"{self.label}: " if self.label else ""
        fits, declared = self.fits, self.declared
        text = (
            f"{prefix}declared {_NAMES[declared]}, but the points fit the roads far better read "
            f'as {_NAMES[fits]}: read them with coord_system="{fits}"'
        )
        if " + " in self.label:  # pooled sets: the scores tell no direction
            return f"{text} ({self.points} points checked)"
        kind = (
            "sit beside the roads, as addresses do"
            if self.scores.get(fits, 0.0) < 0
            else "keep clear of the roads, as block or compound centres do"
        )
        return (
            f"{text}. Read as {_SHORT[fits]} they {kind}; as declared they lie as if dropped at "
            f"random ({self.points} points checked; median distance to the nearest road "
            f"{self.median_dist_m.get(declared, 0):.0f} m as declared, "
            f"{self.median_dist_m.get(fits, 0):.0f} m as {_SHORT[fits]})."
        )

    def to_dict(self) -> dict[str, Any]:
        """The check as plain data (for ``summary.json``).

        Returns
        -------
        dict
            ``points`` (the label), ``declared``, ``verdict``, ``fits``, ``points_checked``,
            ``fit_scores``, ``median_dist_m`` and, when in doubt, ``message``.
        """
        out: dict[str, Any] = {
            "points": self.label,
            "declared": self.declared,
            "verdict": self.verdict,
            "fits": self.fits,
            "points_checked": self.points,
            "fit_scores": {k: round(v, 2) for k, v in self.scores.items()},
            "median_dist_m": {k: round(v, 1) for k, v in self.median_dist_m.items()},
        }
        if self.doubt:
            out["message"] = self.message()
        return out


def declared_coord_system(frame: pd.DataFrame | gpd.GeoSeries) -> CoordSystem:
    """The coordinate system a frame was read in by :mod:`coverage.io`.

    The loaders convert GCJ-02 and BD-09 to WGS-84 and keep the input coordinates in
    ``lon_gcj02``/``lat_gcj02`` (or ``lon_bd09``/``lat_bd09``) columns; anything else counts
    as WGS-84.

    Parameters
    ----------
    frame
        Communities or halls (a GeoSeries counts as WGS-84).

    Returns
    -------
    str
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Examples
    --------
    >>> import pandas as pd
    >>> declared_coord_system(pd.DataFrame({"lon_gcj02": [120.2], "lat_gcj02": [30.3]}))
    'gcj02'
    """
    if isinstance(frame, pd.DataFrame):
        for system in ("gcj02", "bd09"):
            if f"lon_{system}" in frame.columns:
                return system
    return "wgs84"


def check_coord_system(
    points: gpd.GeoSeries | Sequence[gpd.GeoSeries],
    network: Network,
    *,
    declared: CoordSystem = "wgs84",
    label: str | None = None,
) -> CoordCheck:
    """Tell in which coordinate system points fit the road network: WGS-84, GCJ-02 or BD-09.

    Parameters
    ----------
    points
        Point geometries with a CRS, as read (e.g. ``communities.geometry`` as returned by
        :func:`coverage.io.read_communities`, already converted to WGS-84), or several such
        sets declared in the same system, judged together. Other geometry types, empty
        points and points outside China are left out.
    network
        The road network the points will be routed on (any mode).
    declared
        The system the points were read in (``coord_system=`` of the loader).
    label
        Names the points in the message; defaults to ``points.attrs["source"]`` (the
        loaders set it to the file name), joined by ``" + "`` for several sets.

    Returns
    -------
    CoordCheck
        ``fits`` is the system the points clearly fit best (``doubt`` when it is not the
        declared one), or ``None`` when the check cannot tell (fewer than
        :data:`MIN_POINTS` usable points, or no reading stands out). A check already made
        on the same points and network is returned from memory.

    Raises
    ------
    CrsError
        If the points have no CRS.

    Examples
    --------
    The grid of :mod:`coverage.testing` is too small for a verdict:

    >>> from coverage.testing import grid_graph, grid_communities
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> check = check_coord_system(grid_communities().geometry, net)
    >>> check.verdict, check.fits
    ('cannot tell', None)
    """
    sets = [points] if isinstance(points, gpd.GeoSeries) else list(points)
    if label is None:
        label = " + ".join(str(s.attrs["source"]) for s in sets if s.attrs.get("source"))
    lonlat = [_lonlat(s, label) for s in sets]
    digest = hashlib.blake2b(digest_size=16)
    for lon, lat in lonlat:
        digest.update(lon.tobytes())
        digest.update(lat.tobytes())
        digest.update(b"|")
    key = ("check", declared, label, digest.hexdigest())
    return network.memo(
        __name__, key, lambda: _check(lonlat, network, declared, label), keep=_MEMO_SIZE
    )


def check_coord_systems(
    sets: Sequence[tuple[gpd.GeoSeries, CoordSystem, str]],
    network: Network,
) -> list[CoordCheck]:
    """Check each set of points, and sets declared alike together when none tells alone.

    Parameters
    ----------
    sets
        ``(points, declared system, label)`` per input (e.g. the communities and the halls).
    network
        The road network.

    Returns
    -------
    list of CoordCheck
        One per set, in order; then, for each declared system shared by two or more sets
        of which none gave a verdict, one check of those sets pooled.
    """
    checks = [
        check_coord_system(points, network, declared=declared, label=label)
        for points, declared, label in sets
    ]
    for system in COORD_SYSTEMS:
        group = [i for i, (_, declared, _) in enumerate(sets) if declared == system]
        if len(group) > 1 and all(checks[i].fits is None for i in group):
            checks.append(
                check_coord_system(
                    [sets[i][0] for i in group],
                    network,
                    declared=cast("CoordSystem", system),
                    label=" + ".join(sets[i][2] for i in group),
                )
            )
    return checks


def _lonlat(points: gpd.GeoSeries, label: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Longitude and latitude of the usable points: points, non-empty, finite, in China."""
    if points.crs is None:
        prefix = f"{label}: " if label else ""
        msg = f"{prefix}the points have no CRS; set it, e.g. .set_crs(4326)"
        raise CrsError(msg)
    geoms = np.asarray(points.to_crs(4326).to_numpy(), dtype=object)
    usable = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    lon = np.asarray(shapely.get_x(geoms[usable]), dtype=np.float64)
    lat = np.asarray(shapely.get_y(geoms[usable]), dtype=np.float64)
    keep = np.isfinite(lon) & np.isfinite(lat)
    keep[keep] = ~out_of_china(lon[keep], lat[keep])
    return lon[keep], lat[keep]


def _check(
    lonlat: list[tuple[NDArray[np.float64], NDArray[np.float64]]],
    network: Network,
    declared: CoordSystem,
    label: str,
) -> CoordCheck:
    """Score every reading of every set, combine the sets, decide."""
    to_m = network.memo(
        __name__, "to_m", lambda: pyproj.Transformer.from_crs(4326, network.crs, always_xy=True)
    )
    usable = sum(len(lon) for lon, _ in lonlat)
    if usable < MIN_POINTS:  # no verdict possible: spare the distance look-ups
        return CoordCheck(label, declared, usable, None)
    per_set: list[dict[str, float]] = []
    sizes: list[int] = []
    dists: dict[str, list[NDArray[np.float64]]] = {s: [] for s in COORD_SYSTEMS}
    n_points = 0
    for lon, lat in lonlat:
        readings = _readings(lon, lat, declared, to_m)
        inside = np.logical_and.reduce([_in_area(network, xy) for xy in readings.values()])
        idx = np.flatnonzero(inside)
        if len(idx) > MAX_POINTS:
            idx = idx[np.linspace(0, len(idx) - 1, MAX_POINTS).round().astype(np.int64)]
        if len(idx) < 2:  # noqa: PLR2004 (a t-test needs two points)
            continue
        shares, near = _shares(network, {s: xy[idx] for s, xy in readings.items()})
        per_set.append({s: _z(a) for s, a in shares.items()})
        sizes.append(len(idx))
        for s in COORD_SYSTEMS:
            dists[s].append(near[s])
        n_points += len(idx)
    if not per_set:
        return CoordCheck(label, declared, 0, None)
    if len(per_set) == 1:
        scores = per_set[0]
    else:  # several sets: their scores may differ in sign (halls hug roads, blocks do not)
        scores = {s: _pooled([z[s] for z in per_set], sizes) for s in COORD_SYSTEMS}
    median = {s: float(np.median(np.concatenate(d))) for s, d in dists.items()}
    fits: CoordSystem | None = None
    best = max(scores, key=lambda s: abs(scores[s]))
    strong = abs(scores[best]) >= MIN_SCORE
    clear = all(abs(scores[best]) >= MIN_RATIO * abs(v) for s, v in scores.items() if s != best)
    if n_points >= MIN_POINTS and strong and clear:
        fits = cast("CoordSystem", best)
    logger.info(
        "%s: coordinate check on %d points, declared %s: fit scores %s -> %s",
        label or "points",
        n_points,
        declared,
        ", ".join(f"{s} {v:+.1f}" for s, v in scores.items()),
        fits or "cannot tell",
    )
    return CoordCheck(label, declared, n_points, fits, scores, median)


def _readings(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    declared: CoordSystem,
    to_m: pyproj.Transformer,
) -> dict[str, NDArray[np.float64]]:
    """The points read as each system, in the network's metric CRS, shape ``(n, 2)`` each."""
    raw_lon, raw_lat = from_wgs84(lon, lat, declared)
    out = {}
    for system in COORD_SYSTEMS:
        x, y = to_wgs84(raw_lon, raw_lat, cast("CoordSystem", system))
        out[system] = np.column_stack(to_m.transform(x, y))
    return out


def _node_area(network: Network) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The origin and the mask of :data:`_CELL_M` cells holding a node or next to one."""
    origin = network.node_xy.min(axis=0) - 2 * _CELL_M
    cells = np.floor((network.node_xy - origin) / _CELL_M).astype(np.int64)
    shape = tuple(cells.max(axis=0) + 3)
    padded = np.zeros((shape[0] + 2, shape[1] + 2), dtype=bool)
    padded[cells[:, 0] + 1, cells[:, 1] + 1] = True
    near = np.zeros(shape, dtype=bool)
    for dx in range(3):  # each cell and its eight neighbours
        for dy in range(3):
            near |= padded[dx : dx + shape[0], dy : dy + shape[1]]
    return origin, near


def _in_area(network: Network, xy: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Points in or next to a :data:`_CELL_M` cell that holds a network node."""
    origin, near = network.memo(__name__, "area", lambda: _node_area(network))
    with np.errstate(invalid="ignore"):
        cell = np.floor((xy - origin) / _CELL_M)
    ok = np.asarray(np.isfinite(cell).all(axis=1), dtype=bool)
    ok[ok] = (cell[ok] >= 0).all(axis=1) & (cell[ok] < near.shape).all(axis=1)
    out = np.zeros(len(xy), dtype=bool)
    c = cell[ok].astype(np.int64)
    out[ok] = near[c[:, 0], c[:, 1]]
    return out


def _offsets() -> NDArray[np.float64]:
    """The neighbouring positions each point is compared with, metres, shape ``(12, 2)``."""
    out = []
    for i, r in enumerate(RADII_M):
        for j in range(_DIRECTIONS):
            angle = 2 * np.pi * j / _DIRECTIONS + i * np.pi / _DIRECTIONS
            out.append((r * np.cos(angle), r * np.sin(angle)))
    return np.array(out)


def _shares(
    network: Network, readings: dict[str, NDArray[np.float64]]
) -> tuple[dict[str, NDArray[np.float64]], dict[str, NDArray[np.float64]]]:
    """Per reading and point: share of neighbours nearer to a road, own distance to it.

    The share counts ties (within :data:`_TIE_M`) as half; distances are in metres.
    """
    offsets = _offsets()
    n = len(next(iter(readings.values())))
    blocks = []
    for xy in readings.values():
        blocks.append(xy)
        blocks.extend(xy + off for off in offsets)
    xy_all = np.concatenate(blocks)
    pts = gpd.GeoSeries(shapely.points(xy_all), crs=network.crs)
    dist = np.asarray(snap(network, pts).dist_m, dtype=np.float64)
    dist = dist.reshape(len(readings), len(offsets) + 1, n)
    shares = {}
    near = {}
    for k, system in enumerate(readings):
        own, around = dist[k, 0], dist[k, 1:]
        tied = np.abs(around - own) <= _TIE_M
        nearer = (around < own - _TIE_M).sum(axis=0) + 0.5 * tied.sum(axis=0)
        shares[system] = nearer / len(offsets)
        near[system] = own
    return shares, near


def _z(shares: NDArray[np.float64]) -> float:
    """Normal-equivalent z of a one-sample t-test of the shares against 0.5 (signed)."""
    n = len(shares)
    dev = shares - 0.5
    t = float(dev.mean()) / max(float(dev.std(ddof=1)), _SD_FLOOR) * np.sqrt(n)
    t = float(np.clip(t, -50.0, 50.0))
    p = float(special.stdtr(n - 1, -abs(t)))  # Student's t survival function
    z = float(-special.ndtri(p)) if p > 0 else 37.0  # the normal's inverse survival function
    return float(np.copysign(max(z, 0.0), t))


def _pooled(zs: list[float], sizes: list[int]) -> float:
    """Several sets' z for one reading combined, as a size.

    Sets that lean the same way (all beside the roads, or all clear of them) are combined by
    Stouffer's method weighted by the square root of their sizes; sets that lean different
    ways (addresses and block centres) by a chi-square test on the squares.
    """
    if all(z > 0 for z in zs) or all(z < 0 for z in zs):
        w = np.sqrt(np.asarray(sizes, dtype=np.float64))
        return float(abs(np.dot(w, zs)) / np.sqrt(np.sum(w * w)))
    p = float(special.chdtrc(len(zs), sum(z * z for z in zs)))  # chi-square survival function
    return float(-special.ndtri(p / 2)) if p > 0 else 37.0
