"""Plausibility checks on inputs that pass validation but are probably wrong.

:func:`detect_gcj02_declared_as_wgs84` catches the most damaging silent error of Chinese
facility lists: coordinates copied from Amap or Tencent (GCJ-02, shifted by a few hundred
metres) but loaded as WGS-84. Every travel time computed from them is off by a third of a
15-minute walk.

How it decides
--------------
Real locations have a pattern relative to the road network: addresses and halls sit close to
the roads, the representative points of street blocks keep clear of them. GCJ-02 moves every
point by 300-700 m, which destroys that pattern: shifted points fall on the roads as if dropped
at random. So the distances from the points to their nearest road are compared in seven
placements:

- *as given*;
- *read as GCJ-02*, i.e. shifted back by :func:`coverage.coords.gcj02_to_wgs84`;
- five *controls*: shifted by the same offset in other ways (the opposite way, at right angles
  both ways, and half and one and a half times as far back). Controls tell what "dropped at
  random" looks like on this network, here; the two along the same line also absorb a mere
  edge effect (a lake or the end of the extract in the direction of the shift).

The points are taken as GCJ-02 when the distances read as GCJ-02 differ from *every* control
(two-sample Kolmogorov-Smirnov statistic at least 0.1, p < 0.001) by more than twice as much
as the distances as given do. A plain "closer to the roads" rule on median distances would not
do: in dense central Hangzhou a random point is only ~25 m from a road, and block
representative points sit *farther* from the roads than random points (median 43 m against
25 m), so the rule would miss shifted blocks and could flag genuine ones.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from scipy.stats import ks_2samp

from coverage._errors import CrsError
from coverage.coords import gcj02_to_wgs84, out_of_china
from coverage.engine import snap

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from coverage.network import Network

__all__ = ["detect_gcj02_declared_as_wgs84"]

logger = logging.getLogger(__name__)

#: Fewer usable points than this give no verdict.
MIN_POINTS = 20
#: At most this many points are tested (evenly spaced in input order), to bound the cost.
MAX_POINTS = 1000
#: Smallest Kolmogorov-Smirnov statistic that counts as a pattern.
MIN_EFFECT = 0.1
#: Largest p-value that counts as a pattern.
MAX_P_VALUE = 1e-3


def detect_gcj02_declared_as_wgs84(
    points: gpd.GeoSeries,
    network: Network,
    *,
    label: str | None = None,
) -> str | None:
    """Tell whether points declared as WGS-84 are really GCJ-02 (Amap, Tencent) coordinates.

    Parameters
    ----------
    points
        Point geometries with a CRS (e.g. ``communities.geometry`` as returned by
        :func:`coverage.io.read_communities`). Other geometry types, empty points and points
        outside China (:func:`coverage.coords.out_of_china`), where GCJ-02 equals WGS-84, are
        left out.
    network
        The road network the points will be routed on (any mode).
    label
        Names the points at the start of the message; defaults to ``points.attrs["source"]``
        (the loaders set it to the file name), else the message has no prefix.

    Returns
    -------
    str or None
        A message for the planner when the points fit the roads far better read as GCJ-02,
        else ``None`` (also when fewer than :data:`MIN_POINTS` points lie inside China and
        well inside the network's area, where no verdict is possible).

    Raises
    ------
    CrsError
        If ``points`` has no CRS.

    Examples
    --------
    The grid of :mod:`coverage.testing` is too small for a verdict (a GCJ-02 shift of ~500 m
    leaves it):

    >>> from coverage.testing import grid_graph, grid_communities
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> detect_gcj02_declared_as_wgs84(grid_communities().geometry, net) is None
    True
    """
    name = _label(points, label)
    if points.crs is None:
        msg = f"{name}the points have no CRS; set it, e.g. .set_crs(4326)"
        raise CrsError(msg)
    geoms = np.asarray(points.to_crs(4326).to_numpy(), dtype=object)
    usable = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    lon = np.full(len(geoms), np.nan)
    lat = np.full(len(geoms), np.nan)
    lon[usable] = shapely.get_x(geoms[usable])
    lat[usable] = shapely.get_y(geoms[usable])
    usable &= np.isfinite(lon) & np.isfinite(lat)
    usable[usable] = ~out_of_china(lon[usable], lat[usable])
    idx = np.flatnonzero(usable)
    if len(idx) > MAX_POINTS:
        idx = idx[np.linspace(0, len(idx) - 1, MAX_POINTS).round().astype(np.int64)]
    lon, lat = lon[idx], lat[idx]
    if len(idx) < MIN_POINTS:
        return None

    back_lon, back_lat = gcj02_to_wgs84(lon, lat)
    d_lon, d_lat = lon - back_lon, lat - back_lat  # the GCJ-02 offset, degrees
    cos = np.cos(np.radians(lat))
    placements = {
        "given": (lon, lat),
        "back": (back_lon, back_lat),
        "opposite": (lon + d_lon, lat + d_lat),
        "left": (lon - d_lat / cos, lat + d_lon * cos),
        "right": (lon + d_lat / cos, lat - d_lon * cos),
        "half": (lon - 0.5 * d_lon, lat - 0.5 * d_lat),
        "further": (lon - 1.5 * d_lon, lat - 1.5 * d_lat),
    }
    to_m = pyproj.Transformer.from_crs(4326, network.crs, always_xy=True)
    metric = {k: to_m.transform(x, y) for k, (x, y) in placements.items()}
    inside = _inside_network(network, metric)
    if inside.sum() < MIN_POINTS:
        return None
    dist = {k: _snap_dist(network, x[inside], y[inside]) for k, (x, y) in metric.items()}
    controls = [
        np.concatenate([dist[k] for k in ("opposite", "left", "right")]),
        np.concatenate([dist[k] for k in ("half", "further")]),
    ]
    s_back, p_back = _distinctness(dist["back"], controls)
    s_given, _ = _distinctness(dist["given"], controls)
    logger.info(
        "%s: GCJ-02 check on %d points: KS as given %.3f, read as GCJ-02 %.3f (p=%.2g)",
        name,
        int(inside.sum()),
        s_given,
        s_back,
        p_back,
    )
    if not (s_back >= MIN_EFFECT and p_back < MAX_P_VALUE and s_back > 2 * s_given):
        return None
    return _message(name, dist["given"], dist["back"], np.concatenate(controls))


def _label(points: gpd.GeoSeries, label: str | None) -> str:
    """Message prefix: ``"communities.csv: "``, or empty when nothing names the points."""
    source = label if label is not None else points.attrs.get("source")
    return f"{source}: " if source else ""


def _inside_network(
    network: Network, metric: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]
) -> NDArray[np.bool_]:
    """Points whose every placement lies inside the bounding box of the network's nodes."""
    lo = network.node_xy.min(axis=0)
    hi = network.node_xy.max(axis=0)
    ok = np.ones(len(next(iter(metric.values()))[0]), dtype=bool)
    for x, y in metric.values():
        ok &= (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
    return ok


def _snap_dist(
    network: Network, x: NDArray[np.float64], y: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Distance from each point (metric CRS of the network) to its nearest road, metres."""
    pts = gpd.GeoSeries(shapely.points(x, y), crs=network.crs)
    return np.asarray(snap(network, pts).dist_m, dtype=np.float64)


def _distinctness(
    sample: NDArray[np.float64], controls: list[NDArray[np.float64]]
) -> tuple[float, float]:
    """How unlike *every* control a sample of distances is: smallest KS statistic, its p."""
    results = [ks_2samp(sample, c) for c in controls]
    weakest = min(results, key=lambda r: float(r.statistic))
    return float(weakest.statistic), float(weakest.pvalue)


def _message(
    name: str,
    given: NDArray[np.float64],
    back: NDArray[np.float64],
    random: NDArray[np.float64],
) -> str:
    m_given, m_back, m_random = (float(np.median(a)) for a in (given, back, random))
    advice = (
        "declare coord_system='gcj02' when reading them (or convert with "
        "coverage.coords.gcj02_to_wgs84)"
    )
    if m_back < m_given:
        ratio = m_given / max(m_back, 0.1)
        return (
            f"{name}points sit {ratio:.1f}× closer to the roads if read as GCJ-02 (Amap/"
            f"Tencent; median distance to the nearest road {m_given:.0f} m → {m_back:.0f} m): "
            f"{advice}"
        )
    return (
        f"{name}points fit the road network if read as GCJ-02 (Amap/Tencent): as given, their "
        f"distances to the nearest road look like points dropped at random (median "
        f"{m_given:.0f} m, random {m_random:.0f} m); read as GCJ-02 they keep clear of the roads "
        f"as block or building centres do (median {m_back:.0f} m): {advice}"
    )
