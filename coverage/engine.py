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
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from pykdtree.kdtree import KDTree
from scipy.sparse.csgraph import dijkstra

from coverage._threads import query_threads
from coverage.config import DEFAULT_CONFIG, Config

if TYPE_CHECKING:
    from collections.abc import Sequence

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
    network: Network,
    geometry: gpd.GeoSeries,
    *,
    config: Config | None = None,
) -> Snapped:
    """Snap points to the nearest road segment of the network.

    A point whose nearest road lies on a fragment (a piece cut off from almost all of the
    network, e.g. by a car-only tunnel closed to walkers: see :func:`fragment_segments`) is
    snapped to the nearest road of a piece that is not a fragment instead, when that is
    within ``config.max_snap_m``; only a point with no such road within reach stays on the
    fragment.

    Parameters
    ----------
    network
        The network (its routing view decides which roads count).
    geometry
        Points, any CRS (projected into the network's metric CRS).
    config
        ``max_snap_m`` (metres) and ``access_speed_kph`` (km/h) are used.

    Returns
    -------
    Snapped
        Segment, position along it, distance and access time of each point.

    See Also
    --------
    snap_many : several sets of points in one pass.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_points
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> s = snap(net, grid_points([(0, 0.5)], offset_m=75))
    >>> round(float(s.dist_m[0]), 3), round(float(s.access_s[0]), 3)
    (75.0, 60.0)
    """
    return snap_many(network, [geometry], config=config)[0]


def snap_many(
    network: Network,
    geometries: Sequence[gpd.GeoSeries],
    *,
    config: Config | None = None,
) -> list[Snapped]:
    """Snap several sets of points (e.g. communities and halls) in one pass.

    The same as :func:`snap` on each set, with one search over all their points.

    Parameters
    ----------
    network
        The network (its routing view decides which roads count).
    geometries
        Sets of points, each with its own CRS (projected into the network's metric CRS).
    config
        ``max_snap_m`` (metres) and ``access_speed_kph`` (km/h) are used.

    Returns
    -------
    list of Snapped
        One per set, in the order given.
    """
    cfg = config or DEFAULT_CONFIG
    sizes = [len(g) for g in geometries]
    xy = np.empty((sum(sizes), 2))
    lo = 0
    for g, size in zip(geometries, sizes, strict=True):
        if size:
            xy[lo : lo + size] = network.points_xy(g)
        lo += size
    both = snap_xy(network, xy, config=cfg)
    bounds = np.cumsum(sizes)[:-1]
    return [both.take(part) for part in np.split(np.arange(len(xy)), bounds)]


def snap_xy(
    network: Network,
    xy: NDArray[np.float64],
    *,
    config: Config | None = None,
    measure_far: bool = True,
) -> Snapped:
    """Snap points given in the network's metric CRS (the rule of :func:`snap`).

    Parameters
    ----------
    network
        The network (its routing view decides which roads count).
    xy
        Points in the network's metric CRS (:attr:`coverage.network.Network.crs`), metres,
        shape ``(n, 2)``.
    config
        ``max_snap_m`` (metres) and ``access_speed_kph`` (km/h) are used.
    measure_far
        Measure the distance of points beyond ``config.max_snap_m`` too (for messages);
        ``False`` gives them ``inf`` and saves the search (e.g. for grid cells).

    Returns
    -------
    Snapped
        Segment, position along it, distance and access time of each point.
    """
    cfg = config or DEFAULT_CONFIG
    limit = np.inf if measure_far else float(cfg.max_snap_m)
    seg = np.empty(0, dtype=np.int64)
    dist_m = frac = np.empty(0)
    if len(xy):
        index = _snap_index(network)
        fragment = fragment_segments(network)
        if not fragment.any():
            seg, dist_m, frac = index.nearest(xy, limit=limit)
        else:
            # A point goes to the nearest road that is not on a fragment when one is within
            # reach; only otherwise can a fragment (a piece cut off from almost all of the
            # network, e.g. by a car-only tunnel) be its road, if that is nearer.
            seg, dist_m, frac = index.nearest(xy, allowed=_connected_segments(network), limit=limit)
            far = np.flatnonzero(~(dist_m <= cfg.max_snap_m))
            if len(far):
                f_seg, f_dist, f_frac = index.nearest(xy[far], allowed=fragment, limit=limit)
                nearer = f_dist < dist_m[far]
                pick = far[nearer]
                seg[pick], dist_m[pick], frac[pick] = f_seg[nearer], f_dist[nearer], f_frac[nearer]
    too_far = ~(dist_m <= cfg.max_snap_m)
    seg[too_far] = -1
    access_s = np.where(too_far, np.inf, dist_m / (cfg.access_speed_kph / 3.6))
    return Snapped(seg, frac, dist_m, access_s)


#: A road piece (weakly connected component of the mode's network) holding less than this
#: share of the network's nodes is a fragment: points snap to a connected road within reach.
FRAGMENT_SHARE = 0.01
#: The bound of :data:`FRAGMENT_SHARE` is taken between these two node counts: pieces of fewer
#: than 10 nodes are fragments (where some piece is larger), of 1,000 or more never are.
MIN_PIECE_NODES = 10
MAX_FRAGMENT_NODES = 1000

#: Points closer than this to a segment's end are at the end node, metres.
_AT_NODE_M = 1e-6


class _PieceIndex:
    """Exact nearest-segment search over straight pieces of at most ``max_len`` metres.

    Every segment is cut into straight pieces no longer than ``max_len``; a k-d tree
    (:class:`pykdtree.kdtree.KDTree`) holds the piece midpoints. A piece at distance ``d``
    from a point has its midpoint within ``d + max_len / 2``, so after an exact check of the
    ``k`` nearest midpoints the result is proven whenever the ``k``-th midpoint lies beyond
    ``best + max_len / 2``; otherwise more pieces are checked. Same answers as an R-tree
    nearest query, several times faster for many points.

    Up to :attr:`KEEP_ENDS` pieces, each piece's record (ends, segment, offset along the
    segment) is kept in one row, so a candidate costs one memory access; for larger networks
    only the midpoints (in the tree) and each piece's straight part of a segment are kept, and
    a piece's record is recomputed for the few candidates a query checks.

    Parameters
    ----------
    xy, start
        Segment coordinates (metres) and the offset of each segment's first coordinate
        (``n_segments + 1`` values), as :attr:`coverage.network.Network.seg_xy` and
        ``seg_xy_start``.
    max_len
        Longest piece, metres.
    """

    _CHUNK = 1 << 20
    #: Up to this many pieces, their records are computed once and kept (48 bytes each).
    KEEP_ENDS = 1 << 21
    #: Searches of more points than this go in Z-order.
    _Z_ORDER_FROM = 64
    #: Nearest midpoints checked per point, widened for the points not yet proven.
    STEPS = (16, 64, 256, 1024, 8192)

    def __init__(
        self, xy: NDArray[np.float64], start: NDArray[np.int64], max_len: float = 25.0
    ) -> None:
        n_seg = len(start) - 1
        self._piece_rec: NDArray[np.float64] | None = None
        self._masks: list[tuple[NDArray[np.bool_], NDArray[np.bool_]]] = []
        same = np.ones(max(len(xy) - 1, 0), dtype=bool)
        same[start[1:-1] - 1] = False  # no piece from a segment's last point to the next's first
        first_pt = np.flatnonzero(same)
        del same
        # the straight parts of the segments ("lines"): start, direction, segment, offset
        self.line_seg = (np.searchsorted(start, first_pt, side="right") - 1).astype(np.int64)
        self.x0, self.y0 = xy[first_pt, 0], xy[first_pt, 1]
        self.dx = xy[first_pt + 1, 0] - self.x0
        self.dy = xy[first_pt + 1, 1] - self.y0
        del first_pt
        length = np.hypot(self.dx, self.dy)
        # segment lengths as GEOS measures them (sum of the straight parts)
        self.seg_len = np.bincount(
            self.line_seg,
            weights=np.sqrt(self.dx * self.dx + self.dy * self.dy),
            minlength=n_seg,
        )
        # offset of each line along its segment
        pseg = self.line_seg
        cum = np.cumsum(length)
        first = np.r_[True, pseg[1:] != pseg[:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(pseg)), 0))
        self.line_offset = cum - length - (cum[group_start] - length[group_start])
        self.line_len = length
        del cum, first, group_start
        # each line cut into parts of at most max_len: the pieces
        self.parts = np.maximum(1, np.ceil(length / max_len)).astype(np.int64)
        self.first_piece = np.cumsum(self.parts) - self.parts
        n_pieces = int(self.parts.sum())
        self.line = np.repeat(np.arange(len(pseg), dtype=np.int32), self.parts)
        mid = np.empty((n_pieces, 2))
        for lo in range(0, n_pieces, self._CHUNK):
            piece = np.arange(lo, min(lo + self._CHUNK, n_pieces))
            rec = self._records(piece, ends_only=True)
            mid[lo : lo + len(piece)] = (rec[..., 0:2] + rec[..., 2:4]) / 2
        self.n_pieces = n_pieces
        self.half = max_len / 2
        # the record of every piece, kept when they are few (faster queries; same values)
        if n_pieces <= self.KEEP_ENDS:
            self._piece_rec = self._records(np.arange(n_pieces))
        self.tree = KDTree(mid)

    def _records(self, piece: NDArray[np.int64], *, ends_only: bool = False) -> NDArray[np.float64]:
        """Records of pieces, ``(..., 6)``: ends ``ax, ay, bx, by``, segment, offset (m).

        The segment is the index of the piece's segment (as a float, exact); the offset is
        the distance along that segment to the piece's start. With ``ends_only`` the
        records may hold the ends alone (``(..., 4)``), where they are recomputed.
        """
        if self._piece_rec is not None:
            return self._piece_rec[piece]
        line = self.line[piece]
        j = piece - self.first_piece[line]
        parts = self.parts[line]
        t0, t1 = j / parts, (j + 1) / parts
        x0, y0, dx, dy = self.x0[line], self.y0[line], self.dx[line], self.dy[line]
        columns = [x0 + dx * t0, y0 + dy * t0, x0 + dx * t1, y0 + dy * t1]
        if not ends_only:
            columns += [self.line_seg[line], self.line_offset[line] + self.line_len[line] * t0]
        return np.stack(columns, axis=-1)

    def _exact(
        self, xy: NDArray[np.float64], cand: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Distance from each point to its candidate piece, and the position on it (flat)."""
        px, py = xy[:, 0], xy[:, 1]
        rec = self._records(cand, ends_only=True)
        x0, y0 = rec[:, 0], rec[:, 1]
        dx, dy = rec[:, 2] - x0, rec[:, 3] - y0
        with np.errstate(invalid="ignore", divide="ignore"):
            t = ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)
        np.clip(t, 0.0, 1.0, out=t)
        t[np.isnan(t)] = 0.0  # a piece of zero length
        return np.hypot(px - (x0 + dx * t), py - (y0 + dy * t)), t

    def _piece_mask(self, allowed: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Pieces of segments *not* allowed (the tree's mask), kept for the last masks given."""
        for known, mask in self._masks:
            if known is allowed:
                return mask
        mask = np.repeat(~allowed[self.line_seg], self.parts)  # (each line's pieces in a row)
        # (the array is kept with its mask, so its id cannot be reused while it is here)
        self._masks = [*self._masks[-3:], (allowed, mask)]
        return mask

    def _nearest_k(
        self,
        xy: NDArray[np.float64],
        k: int,
        mask: NDArray[np.bool_] | None,
        bound: float,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
        """Best of the ``k`` nearest pieces, and whether that is proven to be the nearest."""
        n_pieces = self.n_pieces
        with query_threads(len(xy)):  # one thread for small queries (a busy core would stall)
            kd, found = self.tree.query(
                xy, k=k, distance_upper_bound=bound if np.isfinite(bound) else None, mask=mask
            )
        kd = kd.reshape(len(xy), k)
        cand = found.reshape(len(xy), k).astype(np.int64)
        missing = cand >= n_pieces  # beyond the bound, or fewer than k allowed pieces
        cand[missing] = 0
        # Only pieces that can beat the one of the nearest midpoint are measured: every point
        # of a piece lies within `half` of its midpoint, so a piece whose midpoint is farther
        # than the nearest midpoint + `half` is farther than that midpoint's piece.
        row, col = np.nonzero((kd <= kd[:, :1] + self.half) & ~missing)
        d_flat, t_flat = self._exact(xy[row], cand[row, col])
        dist = np.full((len(xy), k), np.inf)
        dist[row, col] = d_flat
        t = np.zeros((len(xy), k))
        t[row, col] = t_flat
        best = np.argmin(dist, axis=1)
        rows = np.arange(len(xy))
        best_d = dist[rows, best]
        sure = (kd[:, -1] >= best_d + self.half) | (k >= n_pieces) | missing[:, -1]
        return cand[rows, best], best_d, t[rows, best], sure

    def nearest(
        self,
        xy: NDArray[np.float64],
        *,
        allowed: NDArray[np.bool_] | None = None,
        limit: float = np.inf,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Nearest segment, distance (metres) and position along it (0-1) of each point.

        With ``allowed`` (a mask over segments) only those segments count; with ``limit``
        (metres) only segments within that distance (``-1``, ``inf`` where there is none).
        """
        n = len(xy)
        n_pieces = self.n_pieces
        piece = np.zeros(n, dtype=np.int64)
        best_d = np.full(n, np.inf)
        best_t = np.zeros(n)
        # points searched in Z-order: neighbours in the search are near in the tree (fewer
        # cache misses); the results are put back in the input order
        todo = _z_order(xy) if n > self._Z_ORDER_FROM else np.arange(n)
        mask = None if allowed is None else self._piece_mask(allowed)
        # (a little more than the limit: the tree's bound is strict)
        bound = (limit + self.half) * (1 + 1e-9) + 1e-9 if np.isfinite(limit) else np.inf
        xy = np.ascontiguousarray(xy, dtype=np.float64)
        step_bound = bound
        for k in (*self.STEPS, n_pieces):
            p, d, t, sure = self._nearest_k(xy[todo], min(k, n_pieces), mask, step_bound)
            piece[todo], best_d[todo], best_t[todo] = p, d, t
            todo = todo[~sure]
            if len(todo) == 0:
                break
            # a piece nearer than the best so far has its midpoint within best + half: wider
            # searches need not look farther (and the best so far is within that bound)
            reach = float(best_d[todo].max()) + self.half
            step_bound = min(bound, reach * (1 + 1e-9) + 1e-9)
        rec = self._records(piece)
        along = rec[:, 5] + best_t * np.hypot(rec[:, 2] - rec[:, 0], rec[:, 3] - rec[:, 1])
        seg = rec[:, 4].astype(np.int64)
        seg_len = self.seg_len[seg]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.clip(np.nan_to_num(along / seg_len, nan=0.0), 0.0, 1.0)
        # a point on a node is exactly at the segment's end, so a closed direction's infinite
        # time is never multiplied by a rounding remainder
        frac[along <= _AT_NODE_M] = 0.0
        frac[seg_len - along <= _AT_NODE_M] = 1.0
        none = ~(best_d <= limit)  # (the search may also find a few just beyond the limit)
        seg[none] = -1
        best_d[none] = np.inf
        return seg, best_d, frac


def _z_order(xy: NDArray[np.float64]) -> NDArray[np.int64]:
    """Order of points along a Z-order (Morton) curve over their bounding box, 10 bits a side."""
    x, y = xy[:, 0], xy[:, 1]
    # (per column: numpy reduces an (n, 2) array along axis 0 an order of magnitude slower)
    x0, y0 = x.min(), y.min()
    span = max(x.max() - x0, y.max() - y0)
    if not np.isfinite(span) or span <= 0:
        return np.arange(len(xy))
    scale = (_Z_SIDE - 1) / span
    key = _Z_SPREAD[((x - x0) * scale).astype(np.intp)]
    key |= _Z_SPREAD[((y - y0) * scale).astype(np.intp)] << 1
    return np.argsort(key, kind="stable")


_Z_SIDE = 1 << 10
#: Each 10-bit number with its bits spread to the even positions (a Z-order half key).
_Z_SPREAD = np.zeros(_Z_SIDE, dtype=np.int64)
for _bit in range(10):
    _Z_SPREAD |= ((np.arange(_Z_SIDE) >> _bit) & 1) << (2 * _bit)
del _bit


def prepare_snapping(network: Network) -> None:
    """Build the network's snapping index now (it is otherwise built on the first snap).

    For a warm start (a server, a what-if page) or to time the snapping on its own.

    Parameters
    ----------
    network
        The network; the index is kept on it.
    """
    _snap_index(network)


def _snap_index(net: Network) -> _PieceIndex:
    """The network's snapping index, built on first use and kept on the network."""
    return net.memo(__name__, "snap_index", lambda: _PieceIndex(net.seg_xy, net.seg_xy_start))


def fragment_nodes(network: Network) -> NDArray[np.bool_]:
    """Which routing nodes lie on fragments: road pieces cut off from almost all the network.

    A piece is a weakly connected component of the mode's network (its segments). It is a
    fragment when it holds fewer nodes than :data:`FRAGMENT_SHARE` (1 %) of the nodes on the
    network's segments, that bound taken between :data:`MIN_PIECE_NODES` (10) and
    :data:`MAX_FRAGMENT_NODES` (1,000); when no piece reaches the bound (a network of small
    pieces only), none is a fragment. Such pieces are map-data islands (a viaduct closed to
    walkers, a footpath network whose only links are cycleways or farm tracks): points snap to
    them only when no other road is within reach, and a hall or community on one is a data
    problem rather than a place to serve. Nodes that no segment uses are not on the network
    and count as fragments too.

    Parameters
    ----------
    network
        The network (its routing view decides which roads count).

    Returns
    -------
    numpy.ndarray
        One flag per routing node (``network.node_ids`` order).

    See Also
    --------
    fragment_segments : the same per road segment.

    Examples
    --------
    >>> from coverage.testing import grid_graph
    >>> from coverage.network import load_network
    >>> bool(fragment_nodes(load_network(grid_graph())).any())
    False
    """

    def build() -> NDArray[np.bool_]:
        comp = network.component
        on_road = np.zeros(network.n_nodes, dtype=bool)
        on_road[network.seg_u] = True
        on_road[network.seg_v] = True
        sizes = np.bincount(comp[on_road], minlength=int(comp.max()) + 1 if len(comp) else 0)
        bound = min(max(FRAGMENT_SHARE * int(on_road.sum()), MIN_PIECE_NODES), MAX_FRAGMENT_NODES)
        small = sizes < bound
        if small.all():  # no piece is "the network" (a toy graph of small pieces): none is cut
            small[:] = False  # off from it
        return np.asarray(small[comp] | ~on_road)

    return network.memo(__name__, "fragment_nodes", build)


def fragment_segments(network: Network) -> NDArray[np.bool_]:
    """Which road segments lie on fragments (see :func:`fragment_nodes`).

    Parameters
    ----------
    network
        The network (its routing view decides which roads count).

    Returns
    -------
    numpy.ndarray
        One flag per segment (``network.seg_u`` order).

    Examples
    --------
    >>> from coverage.testing import grid_graph
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> fragment_segments(net).shape == net.seg_u.shape
    True
    """
    return network.memo(
        __name__, "fragment_segments", lambda: fragment_nodes(network)[network.seg_u]
    )


def _connected_segments(net: Network) -> NDArray[np.bool_]:
    """The segments not on fragments (kept, so the snapping index reuses its piece mask)."""
    return net.memo(__name__, "connected_segments", lambda: ~fragment_segments(net))


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
    r, c, w = _virtual_edges(net, fac, n, to_facility=to_facility)
    # the virtual rows appended after the network's rows (no COO round trip), each row's
    # columns in ascending order as a COO -> CSR conversion would give them
    order = np.lexsort((c, r))
    r, c, w = r[order], c[order], w[order]
    size = n + len(fac)
    counts = np.bincount(r - n, minlength=len(fac))
    itype = base.indices.dtype
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(counts)]).astype(itype)
    mat = sp.csr_matrix(
        (
            np.concatenate([base.data, w]),
            np.concatenate([base.indices, c.astype(itype)]),
            indptr,
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
    network: Network,
    origins: Snapped,
    facilities: Snapped,
    *,
    to_facility: bool = True,
) -> NearestResult:
    """Nearest facility and travel time for every origin, in one multi-source Dijkstra pass.

    Parameters
    ----------
    network
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
        Time in seconds and index of the nearest facility per origin; facilities exactly as
        near (the same time to the last bit) go to the one listed first, so the answer does
        not depend on the order the routing pass visits them in.

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
    mat, sources = _augmented(network, facilities, to_facility=to_facility)
    dist, _, src = dijkstra(
        mat, directed=True, indices=sources, min_only=True, return_predecessors=True
    )
    label = _first_sources(mat, dist, src)
    n = network.n_nodes
    node_time = dist[:n]
    time_s, node = _origin_times(network, origins, node_time, to_facility=to_facility)
    reached = np.isfinite(time_s)
    facility[reached] = label[node[reached]] - n
    # an origin as near through both ends of its segment: the first facility of the two
    s = np.where(origins.ok, origins.seg, 0)
    t = origins.frac
    fwd, bwd = network.seg_fwd_s[s], network.seg_bwd_s[s]
    ends = (network.seg_u[s], network.seg_v[s])
    via_u = _along(t, bwd if to_facility else fwd) + node_time[ends[0]]
    via_v = _along(1 - t, fwd if to_facility else bwd) + node_time[ends[1]]
    both = np.flatnonzero(reached & (via_u == via_v))
    facility[both] = np.minimum(label[ends[0][both]], label[ends[1][both]]) - n
    o, f, direct = _same_segment_times(network, origins, facilities, to_facility=to_facility)
    # the best direct time of each origin (first facility on ties, as a loop in order would)
    order = np.lexsort((f, direct, o))
    o, f, direct = o[order], f[order], direct[order]
    first = np.r_[True, o[1:] != o[:-1]] if len(o) else np.empty(0, dtype=bool)
    o, f, direct = o[first], f[first], direct[first]
    better = direct < time_s[o]
    time_s[o[better]] = direct[better]
    facility[o[better]] = f[better]
    same = direct == time_s[o]
    facility[o[same]] = np.minimum(facility[o[same]], f[same])
    return NearestResult(time_s, facility)


def _first_sources(
    mat: sp.csr_matrix, dist: NDArray[np.float64], src: NDArray[np.int32]
) -> NDArray[np.int64]:
    """For every node, the first source (lowest index) at its shortest time.

    A multi-source pass labels each node with whichever source's wave reached it first; where
    two sources reach a node in exactly the same time the heap's order decided. Here every
    label becomes the lowest source among those at that time, by passing labels along the
    *tight* edges (``dist[u] + w == dist[v]``, the sums the pass itself made). Without exact
    ties one sweep finds nothing to change.
    """
    big = np.iinfo(np.int64).max
    label = np.where(src >= 0, src, big).astype(np.int64)
    rows = np.repeat(np.arange(mat.shape[0]), np.diff(mat.indptr))
    cols = mat.indices
    with np.errstate(invalid="ignore"):
        tight = np.isfinite(dist[rows]) & (dist[rows] + mat.data == dist[cols])
    u, v = rows[tight], cols[tight]
    while len(u):
        lower = label[u] < label[v]
        if not lower.any():
            break
        np.minimum.at(label, v[lower], label[u[lower]])
    return label


def travel_time_matrix(
    network: Network,
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
    network
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
    mat, _ = _augmented(network, destinations, to_facility=to_destination)
    ok_d = np.flatnonzero(destinations.ok)
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    org_ok = np.flatnonzero(origins.ok)
    sub = origins.take(org_ok)
    # each origin's time to either end of its segment (the order of _origin_times' sums)
    s, t = sub.seg, sub.frac
    fwd, bwd = network.seg_fwd_s[s], network.seg_bwd_s[s]
    to_u = _along(t, bwd if to_destination else fwd)
    to_v = _along(1 - t, fwd if to_destination else bwd)
    end_u, end_v = network.seg_u[s], network.seg_v[s]
    # destinations per step: a few million (destination, origin) times at a time
    step = max(1, min(chunk, 4_000_000 // max(len(org_ok), 1)))
    for start in range(0, len(ok_d), chunk):
        block = ok_d[start : start + chunk]
        dist = dijkstra(mat, directed=True, indices=network.n_nodes + block, limit=limit_s)
        dist = np.atleast_2d(dist)[:, : network.n_nodes]
        for lo in range(0, len(block), step):
            part = dist[lo : lo + step]
            times = np.minimum(to_u + part[:, end_u], to_v + part[:, end_v]) + sub.access_s
            k, o = np.nonzero(times <= limit_s)
            rows.append(org_ok[o])
            cols.append(block[lo + k])
            vals.append(times[k, o])
    o, f, direct = _same_segment_times(network, origins, destinations, to_facility=to_destination)
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
