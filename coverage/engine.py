"""Routing engine: snapping to road segments and shortest travel times.

Points (communities, halls, candidate sites) are snapped to the nearest road *segment*, not
only the nearest node: the point's position along the segment is kept, and the straight walk
between the point and the road counts as time at ``config.access_speed_kph``. Points farther
than ``config.max_snap_m`` from every road are unreachable.

:func:`nearest_facility` answers "which hall is nearest to every community, and how far" with
**one** multi-source Dijkstra pass (:func:`scipy.sparse.csgraph.dijkstra` with
``min_only=True``) over the network's CSR matrix, plus one virtual node per hall that carries
the hall's position along its segment. Travel times are measured from the community *to* the
hall (the resident's trip), which matters where one-way rules apply.

:func:`travel_time_matrix` gives a sparse origins × destinations matrix of times up to a bound,
for siting models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from coverage.config import DEFAULT_CONFIG, Config

if TYPE_CHECKING:
    import geopandas as gpd
    from numpy.typing import NDArray

    from coverage.network import Network

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapped:
    """Points snapped to road segments.

    Attributes
    ----------
    seg
        Index of the nearest segment of each point, or ``-1`` when it is farther than the
        maximum snap distance.
    frac
        Position along the segment, 0 at ``seg_u`` and 1 at ``seg_v``.
    dist_m
        Straight-line distance from the point to the nearest road, metres (also given for
        points beyond the limit, so messages can say how far they are).
    access_s
        Time of the off-network walk, seconds (``inf`` for points beyond the limit).
    """

    seg: NDArray[np.int64]
    frac: NDArray[np.float64]
    dist_m: NDArray[np.float64]
    access_s: NDArray[np.float64]

    def __len__(self) -> int:
        """Number of points."""
        return len(self.seg)

    @property
    def ok(self) -> NDArray[np.bool_]:
        """Whether each point is within the maximum snap distance of a road."""
        return self.seg >= 0

    def take(self, which: NDArray[Any]) -> Snapped:
        """The snapped points selected by an index or boolean mask."""
        return Snapped(self.seg[which], self.frac[which], self.dist_m[which], self.access_s[which])


def snap(
    net: Network,
    geometry: gpd.GeoSeries,
    *,
    config: Config | None = None,
) -> Snapped:
    """Snap points to the nearest road segment of the network.

    A point whose nearest road lies on a fragment of fewer than :data:`MIN_PIECE_NODES` nodes
    (cut off from the rest, e.g. by a car-only tunnel closed to walkers) is snapped to the
    nearest road of a larger piece instead, when that is within ``config.max_snap_m``.

    Parameters
    ----------
    net
        The network (its routing view decides which roads count).
    geometry
        Points, any CRS (projected into the network's metric CRS).
    config
        ``max_snap_m`` (metres) and ``access_speed_kph`` (km/h) are used.

    Returns
    -------
    Snapped
        Segment, position along it, distance and access time of each point.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_points
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> s = snap(net, grid_points([(0, 0.5)], offset_m=75))
    >>> round(float(s.dist_m[0]), 3), round(float(s.access_s[0]), 3)
    (75.0, 60.0)
    """
    cfg = config or DEFAULT_CONFIG
    pts = net.to_metric(geometry)
    n = len(pts)
    if n == 0:
        empty_i = np.empty(0, dtype=np.int64)
        empty_f = np.empty(0, dtype=float)
        return Snapped(empty_i, empty_f, empty_f, empty_f)
    xy = shapely.get_coordinates(pts)
    if len(xy) != n:
        msg = "snap() needs one non-empty point per row"
        raise ValueError(msg)
    seg, dist_m, frac = cast("_PieceIndex", _snap_index(net)).nearest(xy)
    # A point whose nearest road is a small fragment (a few nodes cut off from the rest, e.g.
    # by a car-only tunnel) goes to the nearest road of a larger piece if that is within reach.
    sizes = np.bincount(net.component)
    small = np.flatnonzero(sizes[net.component[net.seg_u[seg]]] < MIN_PIECE_NODES)
    major = _snap_index(net, major=True)
    if len(small) and major is not None:
        m_seg, m_dist, m_frac = major.nearest(xy[small])
        better = m_dist <= cfg.max_snap_m
        pick = small[better]
        seg[pick], dist_m[pick], frac[pick] = m_seg[better], m_dist[better], m_frac[better]
    too_far = dist_m > cfg.max_snap_m
    seg[too_far] = -1
    access_s = np.where(too_far, np.inf, dist_m / (cfg.access_speed_kph / 3.6))
    return Snapped(seg=seg, frac=frac, dist_m=dist_m, access_s=access_s)


#: Road pieces with fewer nodes are fragments: a point snaps to a larger piece within reach.
MIN_PIECE_NODES = 10

#: Points closer than this to a segment's end are at the end node, metres.
_AT_NODE_M = 1e-6


class _PieceIndex:
    """Exact nearest-segment search over straight pieces of at most ``max_len`` metres.

    Every segment is cut into straight pieces no longer than ``max_len``; a k-d tree holds the
    piece midpoints. A piece at distance ``d`` from a point has its midpoint within
    ``d + max_len / 2``, so after an exact check of the ``k`` nearest midpoints the result is
    proven whenever the ``k``-th midpoint lies beyond ``best + max_len / 2``; otherwise every
    piece within that radius is checked. Same answers as an R-tree nearest query, several
    times faster for many points.
    """

    def __init__(self, geoms: NDArray[np.object_], max_len: float = 25.0) -> None:
        coords, seg = shapely.get_coordinates(geoms, return_index=True)
        same = seg[:-1] == seg[1:]
        a, b, pseg = coords[:-1][same], coords[1:][same], seg[:-1][same]
        length = np.hypot(*(b - a).T)
        # offset of each piece along its segment
        cum = np.cumsum(length)
        first = np.r_[True, pseg[1:] != pseg[:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(pseg)), 0))
        offset = cum - length - (cum[group_start] - length[group_start])
        # cut long pieces into parts of at most max_len
        parts = np.maximum(1, np.ceil(length / max_len)).astype(np.int64)
        rep = np.repeat(np.arange(len(pseg)), parts)
        j = np.arange(len(rep)) - np.repeat(np.cumsum(parts) - parts, parts)
        t0, t1 = j / parts[rep], (j + 1) / parts[rep]
        d = b[rep] - a[rep]
        self.a = a[rep] + d * t0[:, None]
        self.b = a[rep] + d * t1[:, None]
        self.seg = pseg[rep].astype(np.int64)
        self.offset = offset[rep] + length[rep] * t0
        self.seg_len = shapely.length(geoms)
        self.half = max_len / 2
        self.tree = cKDTree((self.a + self.b) / 2, balanced_tree=False, compact_nodes=False)

    def _exact(
        self, xy: NDArray[np.float64], cand: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Distance from each point to each of its candidate pieces, and position on it."""
        a, b = self.a[cand], self.b[cand]
        ab = b - a
        ap = xy[:, None, :] - a
        den = np.einsum("...i,...i", ab, ab)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip(np.einsum("...i,...i", ap, ab) / den, 0.0, 1.0)
        t = np.nan_to_num(t, nan=0.0)
        near = a + ab * t[..., None]
        return np.hypot(*(xy[:, None, :] - near).transpose(2, 0, 1)), t

    def _nearest_k(
        self, xy: NDArray[np.float64], k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
        """Best of the ``k`` nearest pieces, and whether that is proven to be the nearest."""
        kd, cand = self.tree.query(xy, k=k)
        kd, cand = kd.reshape(len(xy), k), cand.reshape(len(xy), k)
        dist, t = self._exact(xy, cand)
        best = np.argmin(dist, axis=1)
        rows = np.arange(len(xy))
        best_d = dist[rows, best]
        sure = (kd[:, -1] >= best_d + self.half) | (k >= len(self.seg))
        return cand[rows, best], best_d, t[rows, best], sure

    def nearest(
        self, xy: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Nearest segment, distance (metres) and position along it (0-1) of each point."""
        piece = np.zeros(len(xy), dtype=np.int64)
        best_d = np.zeros(len(xy))
        best_t = np.zeros(len(xy))
        todo = np.arange(len(xy))
        for k in (16, 128, 1024, len(self.seg)):
            p, d, t, sure = self._nearest_k(xy[todo], min(k, len(self.seg)))
            piece[todo], best_d[todo], best_t[todo] = p, d, t
            todo = todo[~sure]
            if len(todo) == 0:
                break
        seg = self.seg[piece]
        along = self.offset[piece] + best_t * np.hypot(*(self.b[piece] - self.a[piece]).T)
        seg_len = self.seg_len[seg]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.clip(np.nan_to_num(along / seg_len, nan=0.0), 0.0, 1.0)
        # a point on a node is exactly at the segment's end, so a closed direction's infinite
        # time is never multiplied by a rounding remainder
        frac[along <= _AT_NODE_M] = 0.0
        frac[seg_len - along <= _AT_NODE_M] = 1.0
        return seg, best_d, frac


def _snap_index(net: Network, *, major: bool = False) -> _PieceIndex | None:
    """The network's snapping index, built on first use and kept on the network.

    With ``major``, an index of the segments on pieces of at least :data:`MIN_PIECE_NODES`
    nodes only (``None`` if there is no such piece, or no smaller one to avoid).
    """
    key = "snap_index_major" if major else "snap_index"
    if key not in net.cache:
        if not major:
            net.cache[key] = _PieceIndex(net.seg_geom)
        else:
            sizes = np.bincount(net.component)
            on_major = sizes[net.component[net.seg_u]] >= MIN_PIECE_NODES
            keep = np.flatnonzero(on_major)
            if len(keep) == 0 or len(keep) == len(on_major):
                net.cache[key] = None
            else:
                index = _PieceIndex(net.seg_geom[keep])
                index.seg = keep[index.seg]  # back to the network's segment numbers
                index.seg_len = shapely.length(net.seg_geom)
                net.cache[key] = index
    return cast("_PieceIndex | None", net.cache[key])


@dataclass(frozen=True)
class NearestResult:
    """Nearest facility of each origin.

    Attributes
    ----------
    time_s
        Travel time to the nearest facility, seconds (``inf`` when none can be reached).
    facility
        Position (0-based, in the facilities passed) of the nearest facility, ``-1`` if none.
    """

    time_s: NDArray[np.float64]
    facility: NDArray[np.int64]


def _along(frac: NDArray[np.float64], time_s: NDArray[np.float64]) -> NDArray[np.float64]:
    """Time to travel a fraction of a segment; no distance costs nothing, even one-way."""
    with np.errstate(invalid="ignore"):
        return np.where(frac > 0, frac * time_s, 0.0)


def _virtual_edges(
    net: Network, fac: Snapped, first_virtual: int, *, to_facility: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Edges joining one virtual node per facility to the end nodes of its segment.

    With ``to_facility`` the edges are for the *reversed* graph: a path found from the virtual
    node is a trip from a network node to the facility.
    """
    ok = np.flatnonzero(fac.ok)
    s = fac.seg[ok]
    t = fac.frac[ok]
    a = fac.access_s[ok]
    virt = first_virtual + ok
    fwd, bwd = net.seg_fwd_s[s], net.seg_bwd_s[s]
    if to_facility:
        # arrive at the facility from seg_u moving forward, or from seg_v moving backward
        w_u, w_v = _along(t, fwd) + a, _along(1 - t, bwd) + a
    else:
        # leave the facility towards seg_u moving backward, or towards seg_v moving forward
        w_u, w_v = _along(t, bwd) + a, _along(1 - t, fwd) + a
    rows = np.concatenate([virt, virt])
    cols = np.concatenate([net.seg_u[s], net.seg_v[s]])
    wts = np.concatenate([w_u, w_v])
    keep = np.isfinite(wts)
    return rows[keep], cols[keep], wts[keep]


def _augmented(
    net: Network, fac: Snapped, *, to_facility: bool
) -> tuple[sp.csr_matrix, NDArray[np.int64]]:
    """The network's CSR (reversed if ``to_facility``) plus one virtual node per facility."""
    base = net.csr_reversed if to_facility else net.csr
    n = net.n_nodes
    coo = base.tocoo()
    r, c, w = _virtual_edges(net, fac, n, to_facility=to_facility)
    size = n + len(fac)
    mat = sp.csr_matrix(
        (
            np.concatenate([coo.data, w]),
            (np.concatenate([coo.row, r]), np.concatenate([coo.col, c])),
        ),
        shape=(size, size),
    )
    return mat, n + np.flatnonzero(fac.ok)


def _origin_times(
    net: Network, org: Snapped, node_time: NDArray[np.float64], *, to_facility: bool
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Best time of each origin through either end of its segment, and which end was used."""
    n = len(org)
    s = np.where(org.ok, org.seg, 0)
    t = org.frac
    fwd, bwd = net.seg_fwd_s[s], net.seg_bwd_s[s]
    if to_facility:
        via_u = _along(t, bwd) + node_time[net.seg_u[s]]
        via_v = _along(1 - t, fwd) + node_time[net.seg_v[s]]
    else:
        via_u = _along(t, fwd) + node_time[net.seg_u[s]]
        via_v = _along(1 - t, bwd) + node_time[net.seg_v[s]]
    use_v = via_v < via_u
    best = np.where(use_v, via_v, via_u) + org.access_s
    best[~org.ok] = np.inf
    node = np.where(use_v, net.seg_v[s], net.seg_u[s])
    node[~org.ok] = -1
    del n
    return best, node


def _same_segment_times(
    net: Network, org: Snapped, fac: Snapped, *, to_facility: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Direct times between origins and facilities on the same segment (without a node)."""
    fac_ok = np.flatnonzero(fac.ok)
    org_ok = np.flatnonzero(org.ok)
    if len(fac_ok) == 0 or len(org_ok) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    order = np.argsort(fac.seg[fac_ok], kind="stable")
    fac_sorted = fac_ok[order]
    fac_segs = fac.seg[fac_sorted]
    lo = np.searchsorted(fac_segs, org.seg[org_ok], side="left")
    hi = np.searchsorted(fac_segs, org.seg[org_ok], side="right")
    counts = hi - lo
    if counts.sum() == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    o = np.repeat(org_ok, counts)
    starts = np.repeat(lo, counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    f = fac_sorted[starts + within]
    s = org.seg[o]
    d = fac.frac[f] - org.frac[o]  # > 0: facility lies further along the segment
    if not to_facility:
        d = -d
    along = np.where(d >= 0, _along(d, net.seg_fwd_s[s]), _along(-d, net.seg_bwd_s[s]))
    return o, f, along + org.access_s[o] + fac.access_s[f]


def nearest_facility(
    net: Network,
    origins: Snapped,
    facilities: Snapped,
    *,
    to_facility: bool = True,
) -> NearestResult:
    """Nearest facility and travel time for every origin, in one multi-source Dijkstra pass.

    Parameters
    ----------
    net
        Network with its routing view.
    origins
        Snapped origins (e.g. communities).
    facilities
        Snapped facilities (e.g. halls). Facilities beyond the snap limit are ignored.
    to_facility
        Measure the trip from the origin to the facility (default; the resident's trip).
        ``False`` measures from the facility to the origin. The two differ only where
        one-way rules apply.

    Returns
    -------
    NearestResult
        Time in seconds and index of the nearest facility per origin.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_points
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> homes = snap(net, grid_points([(0, 1), (2, 2.5)]))
    >>> halls = snap(net, grid_points([(0, 0), (4, 4)]))
    >>> r = nearest_facility(net, homes, halls)
    >>> (r.time_s / 60).round(6).tolist(), r.facility.tolist()
    ([4.0, 14.0], [0, 1])
    """
    n_org = len(origins)
    time_s = np.full(n_org, np.inf)
    facility = np.full(n_org, -1, dtype=np.int64)
    if n_org == 0 or not facilities.ok.any():
        return NearestResult(time_s, facility)
    mat, sources = _augmented(net, facilities, to_facility=to_facility)
    dist, _, src = dijkstra(
        mat, directed=True, indices=sources, min_only=True, return_predecessors=True
    )
    node_time = dist[: net.n_nodes]
    time_s, node = _origin_times(net, origins, node_time, to_facility=to_facility)
    reached = np.isfinite(time_s)
    facility[reached] = src[node[reached]] - net.n_nodes
    o, f, direct = _same_segment_times(net, origins, facilities, to_facility=to_facility)
    for oi, fi, tt in zip(o, f, direct, strict=True):  # few: only facilities on one's own road
        if tt < time_s[oi]:
            time_s[oi] = tt
            facility[oi] = fi
    return NearestResult(time_s, facility)


def travel_time_matrix(
    net: Network,
    origins: Snapped,
    destinations: Snapped,
    *,
    limit_s: float,
    to_destination: bool = True,
    chunk: int = 256,
) -> sp.csr_matrix:
    """Sparse matrix of travel times (seconds) up to a bound, origins × destinations.

    Each destination gets a virtual node; bounded Dijkstra runs (``limit=limit_s``) start from
    the destinations in chunks, so the cost grows with the area each reaches, not with the
    whole network.

    Parameters
    ----------
    net
        Network with its routing view.
    origins
        Snapped origins (e.g. communities).
    destinations
        Snapped destinations (e.g. candidate sites).
    limit_s
        Largest time kept, seconds; longer trips are absent from the matrix.
    to_destination
        Measure trips from origin to destination (default), else the other way round.
    chunk
        Destinations per Dijkstra call.

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(len(origins), len(destinations))``; stored entries are times in seconds
        (a stored 0.0 means "at the same spot"), absent entries are beyond ``limit_s``.
    """
    n_o, n_d = len(origins), len(destinations)
    if n_o == 0 or n_d == 0 or not destinations.ok.any():
        return sp.csr_matrix((n_o, n_d))
    mat, _ = _augmented(net, destinations, to_facility=to_destination)
    ok_d = np.flatnonzero(destinations.ok)
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    org_ok = np.flatnonzero(origins.ok)
    sub = origins.take(org_ok)
    for start in range(0, len(ok_d), chunk):
        block = ok_d[start : start + chunk]
        dist = dijkstra(mat, directed=True, indices=net.n_nodes + block, limit=limit_s)
        dist = np.atleast_2d(dist)[:, : net.n_nodes]
        for k, d in enumerate(block):
            t, _ = _origin_times(net, sub, dist[k], to_facility=to_destination)
            hit = np.flatnonzero(t <= limit_s)
            rows.append(org_ok[hit])
            cols.append(np.full(len(hit), d, dtype=np.int64))
            vals.append(t[hit])
    o, f, direct = _same_segment_times(net, origins, destinations, to_facility=to_destination)
    near = direct <= limit_s
    rows.append(o[near])
    cols.append(f[near])
    vals.append(direct[near])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    v = np.concatenate(vals)
    # keep the minimum of duplicates (same-segment direct time vs. through a node)
    order = np.lexsort((v, c, r))
    r, c, v = r[order], c[order], v[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    out = sp.coo_matrix((v[first], (r[first], c[first])), shape=(n_o, n_d)).tocsr()
    logger.debug("travel-time matrix %d x %d, %d entries", n_o, n_d, out.nnz)
    return out
