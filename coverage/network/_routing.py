"""The routing view of a network for one travel mode (:class:`Network`, :func:`build_routing`)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypeVar, cast

import networkx as nx
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from coverage._errors import ConfigError, NetworkError
from coverage.config import DEFAULT_CONFIG, MODES, Config, Mode
from coverage.network._modes import MODE_BIT
from coverage.network._table import EdgeTable, coord_starts, gather_coords, sorted_coords

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable
    from pathlib import Path

    import geopandas as gpd
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Network:
    """A road network with its routing view for one travel mode.

    Attributes
    ----------
    mode
        Travel mode of the routing view.
    speed_kph
        Travel speed of the mode, km/h (edges with their own ``speed_kph`` keep it when driving).
    crs
        Metric CRS of ``node_xy``, ``seg_xy`` and ``seg_geom`` (a UTM zone unless configured).
    node_ids
        Graph node keys, in routing-index order.
    node_xy
        Node coordinates in ``crs``, metres, shape ``(n, 2)``.
    seg_u, seg_v
        Routing indices of the end nodes of each road segment (the segment's geometry runs
        from ``seg_u`` to ``seg_v``).
    seg_length_m
        Length of each segment, metres.
    seg_fwd_s, seg_bwd_s
        Travel time along the whole segment from ``seg_u`` to ``seg_v`` and back, seconds;
        ``inf`` where that direction is closed (one-way).
    seg_edge
        Index (into the :class:`EdgeTable`'s edges) of the edge each segment was taken from.
    seg_xy, seg_xy_start
        Segment geometries as coordinates in ``crs`` (metres), shape ``(m, 2)``: segment ``i``
        is ``seg_xy[seg_xy_start[i]:seg_xy_start[i + 1]]``, from ``seg_u`` to ``seg_v``.
    csr
        Travel times in seconds, ``csr[i, j]`` for the edge from node ``i`` to node ``j``
        (the minimum over parallel edges).
    component
        Weakly connected component label of each node.
    source
        Where the network came from (a path or a description).
    loop_roads
        Number of loop roads (rings, cul-de-sac loops) usable by the mode; each is routed as
        three segments through two nodes of its own.
    cache
        Things derived from the network and kept on it, one slot per owning module; go
        through :meth:`memo`.
    table_path
        The on-disk cache of the network's edge table (``.npz``), or ``None`` for a network
        built in memory (a clipped district, a graph): things derived from the network may be
        stored beside it (:func:`coverage.network.memo_arrays`).

    Notes
    -----
    ``table`` (the :class:`EdgeTable`), ``seg_geom`` (LineStrings) and ``seg_name`` are built
    or read on first use: a network read from the routing cache does not need them to route.
    """

    mode: str
    speed_kph: float
    crs: str
    node_ids: NDArray[Any]
    node_xy: NDArray[np.float64]
    seg_u: NDArray[np.int64]
    seg_v: NDArray[np.int64]
    seg_length_m: NDArray[np.float64]
    seg_fwd_s: NDArray[np.float64]
    seg_bwd_s: NDArray[np.float64]
    seg_edge: NDArray[np.int64]
    seg_xy: NDArray[np.float64]
    seg_xy_start: NDArray[np.int64]
    csr: sp.csr_matrix
    component: NDArray[np.int64]
    source: str
    loop_roads: int = 0
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _table: EdgeTable | None = field(default=None, repr=False)
    table_path: Path | None = field(default=None, repr=False)
    _G: nx.MultiDiGraph | None = field(default=None, repr=False)
    _csr_t: sp.csr_matrix | None = field(default=None, repr=False)
    _seg_geom: NDArray[np.object_] | None = field(default=None, repr=False)
    _seg_name: NDArray[np.object_] | None = field(default=None, repr=False)

    @property
    def table(self) -> EdgeTable:
        """The flat network (:class:`EdgeTable`) the routing view was built from.

        Read from the network cache on first use after a cached load.
        """
        if self._table is None:
            if self.table_path is None:  # pragma: no cover (always set by the loaders)
                msg = f"{self.source}: the network's edge table is not available"
                raise NetworkError(msg)
            self._table = EdgeTable.load(self.table_path)
        return self._table

    @property
    def seg_geom(self) -> NDArray[np.object_]:
        """Segment geometries (LineString) in ``crs``, metres; built on first use."""
        if self._seg_geom is None:
            counts = np.diff(self.seg_xy_start)
            index = np.repeat(np.arange(len(counts)), counts)
            self._seg_geom = np.asarray(
                shapely.linestrings(self.seg_xy, indices=index), dtype=object
            )
        return self._seg_geom

    @property
    def seg_name(self) -> NDArray[np.object_]:
        """Street names of the segments (may be empty strings); read on first use."""
        if self._seg_name is None:
            t = self.table
            self._seg_name = np.asarray(t.name_vocab[t.name_code[self.seg_edge]], dtype=object)
        return self._seg_name

    @property
    def G(self) -> nx.MultiDiGraph:  # noqa: N802 (osmnx's name for a graph)
        """The osmnx ``MultiDiGraph`` in EPSG:4326 (for display; routing uses the arrays).

        The graph read from the source file where there is one; rebuilt from the cached
        arrays after a cached load (edge attributes then are ``length``, ``geometry``,
        ``name``, ``oneway``, ``speed_kph`` and ``cp_modes``).
        """
        if self._G is None:
            self._G = self.table.to_graph()
        return self._G

    @property
    def n_nodes(self) -> int:
        """Number of routing nodes."""
        return len(self.node_ids)

    @property
    def csr_reversed(self) -> sp.csr_matrix:
        """The transposed travel-time matrix: ``[i, j]`` is the edge from ``j`` to ``i``."""
        if self._csr_t is None:
            csr_t = self.csr.T.tocsr()
            csr_t.sort_indices()
            self._csr_t = csr_t
        return self._csr_t

    def memo(
        self, owner: str, key: Hashable, build: Callable[[], T], *, keep: int | None = None
    ) -> T:
        """Something derived from the network, built once and kept on it.

        Each module that keeps things here has its own slot (``owner``, its module name), so
        what is kept, and by whom, is never ambiguous; ``keep`` bounds how many keys the slot
        holds (the least recently used goes first).

        Parameters
        ----------
        owner
            The module that owns the thing (e.g. ``"coverage.engine"``).
        key
            What it is (any hashable, e.g. ``("cells", 20.0)``).
        build
            Builds it when it is not kept yet.
        keep
            At most this many keys in the owner's slot; ``None`` for no bound.

        Returns
        -------
        object
            The kept (or newly built) thing.
        """
        slot: dict[Hashable, Any] = self.cache.setdefault(owner, {})
        if key in slot:
            value = slot.pop(key)  # (re-inserted: the most recently used is last)
        else:
            value = build()
            if keep is not None:
                while len(slot) >= keep:
                    slot.pop(next(iter(slot)))
        slot[key] = value
        return cast("T", value)

    def forget(self, owner: str) -> None:
        """Drop everything ``owner`` keeps on the network (see :meth:`memo`).

        Parameters
        ----------
        owner
            The owning module's name.
        """
        self.cache.pop(owner, None)

    @property
    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """Bounding box of the nodes, (min lon, min lat, max lon, max lat), EPSG:4326."""

        def build() -> tuple[float, float, float, float]:
            to_ll = pyproj.Transformer.from_crs(self.crs, 4326, always_xy=True)
            if self._table is not None:
                lon, lat = self._table.lon, self._table.lat
            else:
                lon, lat = to_ll.transform(self.node_xy[:, 0], self.node_xy[:, 1])
            return (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))

        return self.memo(__name__, "bounds_lonlat", build)

    def to_metric(self, geoms: gpd.GeoSeries) -> NDArray[np.object_]:
        """Project geometries (any CRS) into the network's metric CRS.

        Parameters
        ----------
        geoms
            Geometries with a CRS.

        Returns
        -------
        numpy.ndarray
            Shapely geometries in :attr:`crs`.
        """
        return np.asarray(geoms.to_crs(self.crs).values, dtype=object)

    def points_xy(self, geoms: gpd.GeoSeries) -> NDArray[np.float64]:
        """Coordinates of points (any CRS) in the network's metric CRS.

        Parameters
        ----------
        geoms
            Points with a CRS, one non-empty point per row.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, 2)``, metres in :attr:`crs`.

        Raises
        ------
        ValueError
            If a row is empty (one point per row is needed).
        """
        if geoms.crs is None:
            geoms.to_crs(self.crs)  # raises geopandas' error for naive geometries
        values = np.asarray(geoms.values, dtype=object)
        xy = shapely.get_coordinates(values)
        if len(xy) != len(values):
            msg = "snap() needs one non-empty point per row"
            raise ValueError(msg)
        crs = geoms.crs
        key = crs.srs or crs.to_wkt()  # (the text the CRS was made from; hashing writes WKT)
        transformer = self.memo(
            __name__,
            ("to_metric", key),
            lambda: pyproj.Transformer.from_crs(crs, self.crs, always_xy=True),
            keep=8,
        )
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def with_mode(self, mode: Mode, *, config: Config | None = None) -> Network:
        """Return the same network with a routing view for another mode.

        Parameters
        ----------
        mode
            ``"walk"``, ``"bike"``, ``"ebike"`` or ``"drive"``.
        config
            Speeds come from ``config.speeds_kph``.

        Returns
        -------
        Network
            A new network object sharing the graph ``G``.
        """
        cfg = (config or DEFAULT_CONFIG).replace(mode=mode, metric_crs=self.crs)
        net = build_routing(self.table, config=cfg, source=self.source)
        net._G = self._G  # noqa: SLF001
        return net

    def routing_config(self, config: Config | None = None) -> Config:
        """The configuration to route on this network with: the network's own mode and speed.

        Travel mode and speed are fixed when the routing view is built, so they have one
        source: the network. Functions that route (audit, service areas, siting, batch) take
        their configuration through this method.

        Parameters
        ----------
        config
            The caller's configuration; ``None`` stands for the default with the network's
            mode and speed.

        Returns
        -------
        Config
            ``config`` (or the default) with ``mode`` and its speed (km/h) set to the
            network's.

        Raises
        ------
        ConfigError
            If ``config`` asks for another mode or speed than the network was built for.

        Examples
        --------
        >>> from coverage.network import load_network
        >>> from coverage.testing import grid_graph
        >>> net = load_network(grid_graph(), mode="drive")
        >>> net.routing_config().mode
        'drive'
        >>> net.routing_config(Config(mode="walk"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        coverage._errors.ConfigError: the configuration routes by walk at 4.5 km/h, but ...
        """
        if config is None:
            speeds = dict(DEFAULT_CONFIG.speeds_kph)
            speeds[self.mode] = self.speed_kph
            return DEFAULT_CONFIG.replace(mode=self.mode, speeds_kph=speeds)
        if config.mode != self.mode or not math.isclose(config.speed_kph, self.speed_kph):
            msg = (
                f"the configuration routes by {config.mode} at {config.speed_kph:g} km/h, but "
                f"the network's routing view is for {self.mode} at {self.speed_kph:g} km/h: "
                "load the network with this configuration (load_network(..., config=config)) "
                f"or switch it with network.with_mode({config.mode!r}, config=config)"
            )
            raise ConfigError(msg)
        return config

    def __repr__(self) -> str:
        """One line: source, mode and speed, size (not the arrays)."""
        return (
            f"Network({PurePath(str(self.source)).name or self.source!r}: {self.mode} at "
            f"{self.speed_kph:g} km/h, {self.n_nodes:,} nodes, {len(self.seg_u):,} segments, "
            f"{float(self.seg_length_m.sum()) / 1000:,.1f} km, "
            f"{len(self.component_sizes):,} component(s))"
        )

    def summary(self) -> dict[str, Any]:
        """Headline figures of the routing view (nodes, segments, km, components)."""
        sizes = self.component_sizes
        return {
            "source": self.source,
            "mode": self.mode,
            "speed_kph": self.speed_kph,
            "nodes": self.n_nodes,
            "segments": len(self.seg_u),
            "length_km": round(float(self.seg_length_m.sum()) / 1000, 1),
            "components": len(sizes),
            "largest_component_nodes": int(sizes.max()) if len(sizes) else 0,
            "loop_roads": self.loop_roads,
        }

    @property
    def component_sizes(self) -> NDArray[np.int64]:
        """Number of nodes of each weakly connected component (by component label)."""
        return self.memo(__name__, "component_sizes", lambda: np.bincount(self.component))


def utm_crs(lon: float, lat: float) -> str:
    """The UTM zone (WGS 84) of a point, as an EPSG code.

    Parameters
    ----------
    lon, lat
        The point, degrees (EPSG:4326).

    Returns
    -------
    str
        ``"EPSG:326zz"`` north of the equator, ``"EPSG:327zz"`` south of it.

    Examples
    --------
    >>> utm_crs(120.16, 30.27)
    'EPSG:32651'
    """
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def build_routing(  # noqa: PLR0915 (one straight pipeline, kept in one place)
    table: EdgeTable | nx.MultiDiGraph,
    *,
    config: Config | None = None,
    source: str = "graph",
    edge_speed_kph: NDArray[np.float64] | None = None,
) -> Network:
    """Build the routing view of a network for the configured mode.

    Parameters
    ----------
    table
        The flat network (or an osmnx ``MultiDiGraph`` in EPSG:4326, flattened first).
    config
        Mode, speeds and metric CRS.
    source
        Description of where the network came from, for messages.
    edge_speed_kph
        Speed of each edge of ``table`` for the routing mode whatever the mode, km/h; NaN
        where the usual rule applies (a scenario's new links and speed changes, see
        :mod:`coverage.scenarios`).

    Returns
    -------
    Network
        The routing view.

    Raises
    ------
    NetworkError
        If no edge is usable by the mode.
    """
    if isinstance(table, nx.MultiDiGraph):
        table = EdgeTable.from_graph(table, source=source)
    cfg = config or DEFAULT_CONFIG
    mode = cfg.mode
    if mode not in MODES:
        msg = f"unknown mode {mode!r}; expected one of {', '.join(MODES)}"
        raise NetworkError(msg)
    speed_kph = cfg.speed_kph
    lon, lat = table.lon, table.lat
    crs = cfg.metric_crs or utm_crs(float(np.median(lon)), float(np.median(lat)))
    to_m = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_m.transform(lon, lat)
    node_xy = np.column_stack([x, y])

    # The directed edges usable by the mode (loop roads were split in three when flattening).
    keep = np.flatnonzero(table.modes & MODE_BIT[mode])
    if len(keep) == 0:
        msg = f"{source}: no road or path in this network may be used for mode {mode!r}"
        raise NetworkError(msg)
    if len(table.geom_index) > 1 and bool(np.any(np.diff(table.geom_index) < 0)):
        table = sorted_coords(table)
    starts = coord_starts(table)
    u_arr, v_arr = table.u[keep], table.v[keep]
    length_m = table.length_m[keep].copy()
    no_len = np.flatnonzero(~np.isfinite(length_m))
    if len(no_len):  # measured on the metric geometry
        ll, offsets = gather_coords(table, starts, keep[no_len])
        xy = np.column_stack(to_m.transform(ll[:, 0], ll[:, 1]))
        index = np.repeat(np.arange(len(no_len)), np.diff(offsets))
        length_m[no_len] = shapely.length(shapely.linestrings(xy, indices=index))
    speeds = table.speed_kph[keep] if mode == "drive" else np.full(len(keep), np.nan)
    speeds = np.where(np.isfinite(speeds), speeds, speed_kph)
    if edge_speed_kph is not None:
        own = np.asarray(edge_speed_kph, dtype=float)[keep]
        speeds = np.where(np.isfinite(own), own, speeds)
    time_s = length_m / (speeds / 3.6)

    # Segments: pair each edge with its reverse twin (same end nodes, same length), so that a
    # point snapped to a two-way road can leave it in both directions.
    seg = _pair_segments(u_arr, v_arr, length_m)
    # A lone direction is open both ways on foot, and by bike where the way allows it
    # (oneway:bicycle=no); other modes keep the graph's one-way topology.
    if mode == "walk":
        two_way = np.ones(len(u_arr), dtype=bool)
    elif mode in {"bike", "ebike"}:
        two_way = np.asarray(table.bike_twoway[keep], dtype=bool)
    else:
        two_way = np.zeros(len(u_arr), dtype=bool)
    fwd = time_s[seg.edge]
    bwd = np.where(seg.twin >= 0, time_s[np.maximum(seg.twin, 0)], np.inf)
    bwd = np.where((seg.twin < 0) & two_way[seg.edge], fwd, bwd)
    if mode == "walk":  # on foot both directions of a road take the same (shorter) time
        fwd = bwd = np.minimum(fwd, bwd)
    s_u, s_v = u_arr[seg.edge], v_arr[seg.edge]
    seg_edge = keep[seg.edge]

    # Geometries of the segments only (not of their reverse twins or other modes' edges),
    # projected into the metric CRS.
    ll, seg_xy_start = gather_coords(table, starts, seg_edge)
    seg_xy = np.column_stack(to_m.transform(ll[:, 0], ll[:, 1]))
    del ll

    # CSR of directed travel times, parallel edges reduced to their minimum first
    # (csr_matrix((w, (i, j))) would *add* duplicates).
    both = np.isfinite(bwd)
    rows = np.concatenate([s_u, s_v[both]])
    cols = np.concatenate([s_v, s_u[both]])
    wts = np.concatenate([fwd, bwd[both]])
    csr = _min_csr(rows, cols, wts, len(table.node_ids))
    _, comp = connected_components(csr, directed=True, connection="weak")
    first_mid = int(table.meta.get("loop_nodes_from", len(table.node_ids)))
    ends = np.concatenate([s_u, s_v])
    loop_roads = len(np.unique(ends[ends >= first_mid])) // 2  # two nodes of its own each
    net = Network(
        mode=mode,
        speed_kph=speed_kph,
        crs=crs,
        node_ids=table.node_ids,
        node_xy=node_xy,
        seg_u=s_u,
        seg_v=s_v,
        seg_length_m=length_m[seg.edge],
        seg_fwd_s=fwd,
        seg_bwd_s=bwd,
        seg_edge=seg_edge,
        seg_xy=seg_xy,
        seg_xy_start=seg_xy_start,
        csr=csr,
        component=comp.astype(np.int64),
        source=source,
        loop_roads=loop_roads,
        _table=table,
    )
    logger.info("routing view for %s: %s", mode, net.summary())
    return net


@dataclass
class _Pairs:
    edge: NDArray[np.int64]  # the edge whose direction defines the segment
    twin: NDArray[np.int64]  # its reverse twin, or -1


def _pair_segments(
    u: NDArray[np.int64], v: NDArray[np.int64], length_m: NDArray[np.float64]
) -> _Pairs:
    """Pair directed edges with their reverse twins.

    Twins join the same two nodes in opposite directions, and their lengths agree within 1 m or
    2 %. Parallel edges are paired shortest with shortest (ties: by edge order).
    """
    n = len(u)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    fwd = u < v  # u == v does not occur (loop roads are split in three)
    # sorted by node pair, then backward before forward, then length, then edge order
    order = np.lexsort((length_m, fwd, hi, lo))
    lo_s, hi_s, fwd_s = lo[order], hi[order], fwd[order]
    new_pair = np.ones(n, dtype=bool)
    new_pair[1:] = (lo_s[1:] != lo_s[:-1]) | (hi_s[1:] != hi_s[:-1])
    pair_start = np.maximum.accumulate(np.where(new_pair, np.arange(n), 0))
    pair_id = np.cumsum(new_pair) - 1
    n_back = np.bincount(pair_id, weights=~fwd_s, minlength=int(pair_id[-1]) + 1 if n else 0)
    n_back = n_back.astype(np.int64)[pair_id]
    # the k-th forward edge of a pair meets the k-th backward edge
    pos = np.arange(n)
    rank = pos - pair_start - n_back
    a = np.flatnonzero(fwd_s & (rank < n_back))
    b = pair_start[a] + rank[a]
    ia, ib = order[a], order[b]
    len_a, len_b = length_m[ia], length_m[ib]
    ok = np.abs(len_a - len_b) <= np.maximum(1.0, 0.02 * len_a)
    ia, ib = ia[ok], ib[ok]
    twin = np.full(n, -1, dtype=np.int64)
    twin[ia] = ib
    is_second = np.zeros(n, dtype=bool)
    is_second[ib] = True
    edge = np.flatnonzero(~is_second).astype(np.int64)
    return _Pairs(edge=edge, twin=twin[edge])


def _min_csr(
    rows: NDArray[np.int64], cols: NDArray[np.int64], wts: NDArray[np.float64], n: int
) -> sp.csr_matrix:
    """A CSR matrix keeping the minimum weight of duplicate (row, col) entries."""
    key = rows.astype(np.int64) * n + cols
    order = np.argsort(key, kind="stable")
    key, wts = key[order], wts[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    data = np.minimum.reduceat(wts, starts) if len(starts) else wts[:0]
    key = key[starts]
    idx = np.int32 if n < np.iinfo(np.int32).max and len(key) < np.iinfo(np.int32).max else np.int64
    indices = (key % n).astype(idx)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(key // n, minlength=n))]).astype(idx)
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))
