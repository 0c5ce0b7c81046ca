"""A network as flat arrays (:class:`EdgeTable`): the form that is cached and routed on."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from coverage._errors import NetworkError
from coverage._files import atomic_write
from coverage.network._modes import MODE_BIT, edge_allows

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from numpy.typing import NDArray

logger = logging.getLogger(__name__)


#: Version of the cache file layout; bump when EdgeTable changes or when the mode rules
#: (:func:`way_modes`, :func:`edge_allows`) change the stored per-edge mode bits.
CACHE_VERSION = 6


@dataclass
class EdgeTable:
    """A network as flat arrays: the form that is cached on disk and routed on.

    Attributes
    ----------
    node_ids
        Node keys (int64 where all keys are integers, else strings).
    lon, lat
        Node coordinates, degrees (EPSG:4326).
    u, v
        Indices (into ``node_ids``) of each directed edge's end nodes; no self-loops (a loop
        road is three edges through two nodes of its own, see ``meta["loop_roads"]``).
    length_m
        Edge length, metres (NaN where the source gave none: measured from the geometry).
    geom_coords, geom_index
        Edge geometries as coordinates (degrees) and the edge each coordinate belongs to
        (:func:`shapely.linestrings` rebuilds them).
    modes
        Bit mask of the modes allowed on each edge: 1 walk, 2 bike/e-bike, 4 drive.
    bike_twoway
        One-way edges that cyclists may ride both ways.
    speed_kph
        Edge speed where the source gives one (drive only), km/h; NaN otherwise.
    name_code, name_vocab
        Street names as codes into a vocabulary: edge ``i`` is named
        ``name_vocab[name_code[i]]`` ("" where none); :attr:`name` gives the names.
    oneway
        Edge marked one-way by the source.
    meta
        Graph attributes (source, licence, name).
    highway_code, highway_vocab
        Road classes (OSM ``highway=*``) as codes into a vocabulary, as the names are; an
        empty ``highway_code`` where the source gives no classes (:attr:`highway` is then
        ``None``). Used by scenario speed changes (:mod:`coverage.scenarios`), not by routing.
    """

    node_ids: NDArray[Any]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    length_m: NDArray[np.float64]
    geom_coords: NDArray[np.float64]
    geom_index: NDArray[np.int64]
    modes: NDArray[np.uint8]
    bike_twoway: NDArray[np.bool_]
    speed_kph: NDArray[np.float64]
    name_code: NDArray[np.int32]
    name_vocab: NDArray[np.str_]
    oneway: NDArray[np.bool_]
    meta: dict[str, str] = field(default_factory=dict)
    highway_code: NDArray[np.int32] = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    highway_vocab: NDArray[np.str_] = field(default_factory=lambda: np.asarray([""]))

    @property
    def name(self) -> NDArray[np.str_]:
        """Street name of each edge ("" where none)."""
        return self.name_vocab[self.name_code]

    @property
    def has_highway(self) -> bool:
        """Whether the source gave road classes (without building :attr:`highway`)."""
        return len(self.highway_code) == len(self.u) and len(self.u) > 0

    @property
    def highway(self) -> NDArray[np.str_] | None:
        """Road class of each edge ("" where unknown), or ``None`` if the source gave none."""
        if not self.has_highway:
            return None
        return self.highway_vocab[self.highway_code]

    def _highway_part(self, keep: NDArray[np.bool_]) -> NDArray[np.int32]:
        """The codes of the kept edges (none where the table has no classes)."""
        return self.highway_code[keep] if self.has_highway else self.highway_code

    @staticmethod
    def encode_names(names: Any) -> tuple[NDArray[np.int32], NDArray[np.str_]]:  # noqa: ANN401
        """Codes and vocabulary of street names (for :attr:`name_code`, :attr:`name_vocab`).

        Parameters
        ----------
        names
            One street name per edge (strings, "" where none).

        Returns
        -------
        tuple of numpy.ndarray
            The code of each edge (int32) and the distinct names, sorted.
        """
        vocab, code = np.unique(np.asarray(names, dtype=str), return_inverse=True)
        if len(vocab) == 0:
            vocab = np.asarray([""])
        return code.ravel().astype(np.int32), vocab

    def subset(self, keep: NDArray[np.bool_]) -> EdgeTable:
        """The edges marked in ``keep`` with their end nodes, re-indexed.

        Parameters
        ----------
        keep
            One flag per edge.

        Returns
        -------
        EdgeTable
            The smaller table (nodes in the same order, only those used by a kept edge).
        """
        edges = np.flatnonzero(keep)
        # the work grows with the part, not the whole (a district of a province): only the
        # kept edges' nodes and coordinates are touched, through offsets made once per table
        nodes = np.unique(np.concatenate([self.u[edges], self.v[edges]]))
        starts = self._starts()
        if starts is not None:
            coords, offsets = gather_coords(self, starts, edges)
            index = np.repeat(np.arange(len(edges), dtype=np.int64), np.diff(offsets))
        else:  # coordinates not grouped by edge: pick them out of the whole table
            edge_new = np.cumsum(keep, dtype=np.int64) - 1
            coord_keep = keep[self.geom_index]
            coords, index = self.geom_coords[coord_keep], edge_new[self.geom_index[coord_keep]]
        meta = dict(self.meta)
        if "loop_nodes_from" in meta:  # the nodes of split loop roads stay last
            first = int(meta["loop_nodes_from"])
            meta["loop_nodes_from"] = str(int(np.count_nonzero(nodes < first)))
            meta["loop_roads"] = str(int(np.count_nonzero(nodes >= first)) // 2)
        return EdgeTable(
            node_ids=self.node_ids[nodes],
            lon=self.lon[nodes],
            lat=self.lat[nodes],
            u=np.searchsorted(nodes, self.u[edges]).astype(np.int64),
            v=np.searchsorted(nodes, self.v[edges]).astype(np.int64),
            length_m=self.length_m[keep],
            geom_coords=coords,
            geom_index=index,
            modes=self.modes[keep],
            bike_twoway=self.bike_twoway[keep],
            speed_kph=self.speed_kph[keep],
            name_code=self.name_code[keep],
            name_vocab=self.name_vocab,
            oneway=self.oneway[keep],
            meta=meta,
            highway_code=self._highway_part(keep),
            highway_vocab=self.highway_vocab,
        )

    def _starts(self) -> NDArray[np.int64] | None:
        """Offsets of each edge's coordinates if grouped by edge, else ``None`` (made once)."""
        if "_coord_starts" not in self.__dict__:
            grouped = len(self.geom_index) < 2 or not bool(np.any(np.diff(self.geom_index) < 0))  # noqa: PLR2004
            self.__dict__["_coord_starts"] = coord_starts(self) if grouped else None
        return cast("NDArray[np.int64] | None", self.__dict__["_coord_starts"])

    @classmethod
    def from_graph(cls, G: nx.MultiDiGraph, *, source: str = "graph") -> EdgeTable:
        """Flatten an osmnx ``MultiDiGraph`` (EPSG:4326) into arrays, in one pass.

        Parameters
        ----------
        G
            The graph: nodes with ``x``/``y`` (degrees), edges with ``length`` (metres).
        source
            Description of the graph's origin, for messages.

        Returns
        -------
        EdgeTable
            The flat network.
        """
        ids = list(G.nodes)
        if not ids:
            msg = f"{source}: the network has no nodes"
            raise NetworkError(msg)
        try:
            lon = np.fromiter((G.nodes[n]["x"] for n in ids), float, len(ids))
            lat = np.fromiter((G.nodes[n]["y"] for n in ids), float, len(ids))
        except KeyError:
            msg = f"{source}: graph nodes need 'x' and 'y' coordinates (EPSG:4326)"
            raise NetworkError(msg) from None
        index = {n: i for i, n in enumerate(ids)}
        u, v, length, modes, twoway, speed, names, oneway, geoms, classes = ([] for _ in range(10))
        loops = _LoopSplitter(lon, lat, len(ids))
        for a, b, data in G.edges(data=True):
            parts = [(index[a], index[b], data.get("geometry"), 1.0)]
            if a == b:  # a loop road: three edges through two nodes of its own
                parts = loops.split(index[a], data.get("geometry"))
            for ia, ib, geom, share in parts:
                u.append(ia)
                v.append(ib)
                ln = data.get("length")
                length.append(float(ln) * share if ln is not None else np.nan)
                modes.append(
                    sum(bit for m, bit in MODE_BIT.items() if m != "ebike" and edge_allows(data, m))
                )
                twoway.append(_truthy(data.get("cp_bike_twoway", False)))
                sp_kph = data.get("speed_kph")
                speed.append(float(sp_kph) if sp_kph is not None else np.nan)
                nm = data.get("name", "")
                names.append(" / ".join(map(str, nm)) if isinstance(nm, list) else str(nm or ""))
                oneway.append(_truthy(data.get("oneway", False)))
                geoms.append(geom)
                hw = data.get("highway")
                classes.append(str(hw[0] if isinstance(hw, list) and hw else hw or ""))
        lon, lat = loops.lon, loops.lat
        ids = [*ids, *loops.new_ids(ids)]
        u_arr, v_arr = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
        geo = np.asarray(geoms, dtype=object)
        missing = np.array([g is None for g in geoms], dtype=bool)
        if missing.any():
            pts = np.column_stack([lon, lat])
            geo[missing] = shapely.linestrings(
                np.stack([pts[u_arr[missing]], pts[v_arr[missing]]], axis=1)
            )
        coords, gidx = (
            shapely.get_coordinates(geo, return_index=True)
            if len(geo)
            else (np.empty((0, 2)), np.empty(0, dtype=np.int64))
        )
        node_ids = np.asarray(ids)
        if node_ids.dtype.kind not in "iu":
            node_ids = node_ids.astype(str)
        meta = {k: str(G.graph[k]) for k in ("name", "source", "license") if k in G.graph}
        meta["loop_roads"] = str(loops.count)
        meta["loop_nodes_from"] = str(loops.first)
        code, vocab = cls.encode_names(names)
        hw_code, hw_vocab = cls.encode_names(classes) if any(classes) else (None, None)
        return cls(
            node_ids=node_ids,
            lon=lon,
            lat=lat,
            u=u_arr,
            v=v_arr,
            length_m=np.asarray(length, dtype=float),
            geom_coords=coords,
            geom_index=gidx.astype(np.int64),
            modes=np.asarray(modes, dtype=np.uint8),
            bike_twoway=np.asarray(twoway, dtype=bool),
            speed_kph=np.asarray(speed, dtype=float),
            name_code=code,
            name_vocab=vocab,
            oneway=np.asarray(oneway, dtype=bool),
            meta=meta,
            **_classes(hw_code, hw_vocab),
        )

    @classmethod
    def from_arrays(
        cls,
        *,
        node_ids: NDArray[Any],
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        u: NDArray[np.int64],
        v: NDArray[np.int64],
        length_m: NDArray[np.float64],
        geom_coords: NDArray[np.float64],
        geom_index: NDArray[np.int64],
        modes: NDArray[np.uint8],
        bike_twoway: NDArray[np.bool_],
        names: Sequence[str] | NDArray[np.object_],
        oneway: NDArray[np.bool_],
        meta: dict[str, str],
        keep_node: NDArray[np.bool_] | None = None,
        highways: Sequence[str] | NDArray[np.object_] | None = None,
    ) -> EdgeTable:
        """A flat network from edge arrays (a reader's output), loop roads split in three.

        Parameters
        ----------
        node_ids, lon, lat
            Node keys and coordinates (degrees, EPSG:4326).
        u, v
            Each directed edge's end nodes (indices into ``node_ids``); ``u == v`` is a loop
            road, split like :meth:`from_graph` splits one.
        length_m
            Edge lengths, metres.
        geom_coords, geom_index
            Edge geometries (degrees) and the edge of each coordinate, grouped by edge in
            edge order.
        modes, bike_twoway, names, oneway
            Per edge, as the attributes of the same names (``names`` as strings).
        meta
            Graph attributes (source, licence).
        keep_node
            Nodes to keep (the others must carry no edge); all by default.
        highways
            Road class of each edge (OSM ``highway=*``), if the source gives them.

        Returns
        -------
        EdgeTable
            The flat network, edges grouped by their first node (stable).
        """
        if keep_node is not None:
            new = np.cumsum(keep_node, dtype=np.int64) - 1
            node_ids, lon, lat = node_ids[keep_node], lon[keep_node], lat[keep_node]
            u, v = new[u], new[v]
        names_arr = np.asarray(names, dtype=object)
        classes = np.asarray(highways if highways is not None else [""] * len(u), dtype=object)
        starts = np.concatenate([[0], np.cumsum(np.bincount(geom_index, minlength=len(u)))])
        loops = _LoopSplitter(lon, lat, len(node_ids))
        edges = _Edges(
            u, v, length_m, geom_coords, geom_index, modes, bike_twoway, oneway, names_arr, classes
        )
        edges = _split_loops(edges, starts, loops)
        u, v, length_m, geom_coords, geom_index = (
            edges.u,
            edges.v,
            edges.length_m,
            edges.coords,
            edges.index,
        )
        modes, bike_twoway, oneway, names_arr = (
            edges.modes,
            edges.bike_twoway,
            edges.oneway,
            edges.names,
        )
        lon, lat = loops.lon, loops.lat
        ids = node_ids.tolist()
        node_ids = np.asarray([*ids, *loops.new_ids(ids)])
        if node_ids.dtype.kind not in "iu":
            node_ids = node_ids.astype(str)
        # edges grouped by their first node, as a graph lists them
        order = np.argsort(u, kind="stable")
        counts = np.bincount(geom_index, minlength=len(u))
        starts = np.concatenate([[0], np.cumsum(counts)])
        pos = np.repeat(starts[order] - np.concatenate([[0], np.cumsum(counts[order])])[:-1],
                        counts[order]) + np.arange(int(counts.sum()))  # fmt: skip
        codes, uniques = pd.factorize(pd.Series(names_arr, dtype=object).fillna(""), sort=True)
        vocab = np.asarray(uniques, dtype=str) if len(uniques) else np.asarray([""])
        code = codes.astype(np.int32)
        hw_code, hw_vocab = (
            cls.encode_names(edges.highway[order]) if highways is not None else (None, None)
        )
        return cls(
            node_ids=node_ids,
            lon=lon,
            lat=lat,
            u=u[order],
            v=v[order],
            length_m=np.asarray(length_m, dtype=float)[order],
            geom_coords=geom_coords[pos],
            geom_index=np.repeat(np.arange(len(u)), counts[order]),
            modes=np.asarray(modes, dtype=np.uint8)[order],
            bike_twoway=np.asarray(bike_twoway, dtype=bool)[order],
            speed_kph=np.full(len(u), np.nan),
            name_code=code[order],
            name_vocab=vocab,
            oneway=np.asarray(oneway, dtype=bool)[order],
            meta={**meta, "loop_roads": str(loops.count), "loop_nodes_from": str(loops.first)},
            **_classes(hw_code, hw_vocab),
        )

    def geometries(self) -> NDArray[np.object_]:
        """Edge geometries (LineString, degrees)."""
        return np.asarray(
            shapely.linestrings(self.geom_coords, indices=self.geom_index), dtype=object
        )

    def to_graph(self) -> nx.MultiDiGraph:
        """Rebuild an osmnx-style ``MultiDiGraph`` (EPSG:4326) for display and analysis."""
        G = nx.MultiDiGraph(crs="epsg:4326", **self.meta)
        for i, n in enumerate(self.node_ids.tolist()):
            G.add_node(n, x=float(self.lon[i]), y=float(self.lat[i]))
        ids = self.node_ids.tolist()
        letters = np.array(["", "w", "b", "wb", "d", "wd", "bd", "wbd"])[self.modes]
        names = self.name
        classes = self.highway
        for i, geom in enumerate(self.geometries()):
            attrs: dict[str, Any] = {
                "length": float(self.length_m[i]),
                "geometry": geom,
                "cp_modes": str(letters[i]),
                "oneway": bool(self.oneway[i]),
            }
            if names[i]:
                attrs["name"] = str(names[i])
            if classes is not None and classes[i]:
                attrs["highway"] = str(classes[i])
            if np.isfinite(self.speed_kph[i]):
                attrs["speed_kph"] = float(self.speed_kph[i])
            if self.bike_twoway[i]:
                attrs["cp_bike_twoway"] = True
            G.add_edge(ids[self.u[i]], ids[self.v[i]], **attrs)
        return G

    def save(self, path: Path) -> None:
        """Write the arrays to one ``.npz`` file (no pickles), atomically."""
        arrays = {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "meta"
        }
        arrays["meta"] = np.asarray(json.dumps(self.meta))
        arrays["version"] = np.asarray(CACHE_VERSION)
        atomic_write(path, lambda tmp: savez(tmp, arrays))

    @classmethod
    def load(cls, path: Path) -> EdgeTable:
        """Read arrays written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != CACHE_VERSION:
                msg = f"{path}: cache version {int(z['version'])} != {CACHE_VERSION}"
                raise ValueError(msg)
            kw = {f.name: z[f.name] for f in dataclasses.fields(cls) if f.name != "meta"}
            meta = json.loads(str(z["meta"]))
        return cls(**kw, meta=meta)


class _LoopSplitter:
    """Splits loop roads (edges from a node back to itself) in three.

    Routing cannot use an edge from a node to itself, but points along a ring street or a
    cul-de-sac loop must be able to reach it. Each loop becomes three edges through two new
    nodes at a third and two thirds of its length. The two directions of a two-way loop share
    those nodes (one's third is the other's two thirds), so they pair up as one road like any
    other; the parts of a one-way loop join different pairs of nodes, so none of them is
    mistaken for the way back of another.
    """

    def __init__(self, lon: NDArray[np.float64], lat: NDArray[np.float64], n_nodes: int) -> None:
        self.first = n_nodes
        self._lon: list[float] = []
        self._lat: list[float] = []
        self._at: dict[tuple[int, float, float], int] = {}
        self._base_lon, self._base_lat = lon, lat

    @property
    def count(self) -> int:
        """Number of loop roads split (the two directions of a road count once)."""
        return len(self._at) // 2

    @property
    def lon(self) -> NDArray[np.float64]:
        """Longitudes of all nodes, the new nodes last, degrees."""
        return np.concatenate([self._base_lon, np.asarray(self._lon, dtype=float)])

    @property
    def lat(self) -> NDArray[np.float64]:
        """Latitudes of all nodes, the new nodes last, degrees."""
        return np.concatenate([self._base_lat, np.asarray(self._lat, dtype=float)])

    def new_ids(self, ids: list[Any]) -> list[Any]:
        """Keys of the new nodes: negative integers below every key, or ``"loop~<k>"``."""
        n_new = len(self._at)
        if all(isinstance(n, int | np.integer) for n in ids):
            below = min(0, *(int(n) for n in ids)) if ids else 0
            return [below - 1 - k for k in range(n_new)]
        return [f"loop~{k}" for k in range(n_new)]

    def _node(self, loop_node: int, x: float, y: float) -> int:
        key = (loop_node, round(x, 7), round(y, 7))
        found = self._at.get(key)
        if found is None:
            found = self._at[key] = self.first + len(self._at)
            self._lon.append(x)
            self._lat.append(y)
        return found

    def split(self, node: int, geom: Any) -> list[tuple[int, int, Any, float]]:  # noqa: ANN401
        """The three parts ``(u, v, geometry, share of the length)`` of a loop at ``node``.

        A loop without a geometry (or of no length) has nothing to split and is dropped.
        """
        if geom is None:
            return []
        xy = shapely.get_coordinates(geom)
        if len(xy) < 3:  # noqa: PLR2004 (a loop needs two points besides its node)
            return []
        scale = np.cos(np.radians(float(xy[:, 1].mean())))  # local metres-per-degree ratio
        step = np.hypot(np.diff(xy[:, 0]) * scale, np.diff(xy[:, 1]))
        cum = np.concatenate([[0.0], np.cumsum(step)])
        if cum[-1] <= 0:
            return []
        cuts = [(0, xy[0])]  # (vertex before the cut, cut point)
        for at in (cum[-1] / 3, 2 * cum[-1] / 3):
            i = min(int(np.searchsorted(cum, at, side="right")) - 1, len(step) - 1)
            t = (at - cum[i]) / step[i] if step[i] > 0 else 0.0
            cuts.append((i, xy[i] + t * (xy[i + 1] - xy[i])))
        cuts.append((len(xy) - 2, xy[-1]))  # (the loop's last vertex is the cut point)
        ends = [node, *(self._node(node, float(p[0]), float(p[1])) for _, p in cuts[1:3]), node]
        parts = []
        for k in range(3):
            (i, p), (j, q) = cuts[k], cuts[k + 1]
            line = shapely.LineString(np.vstack([[p], xy[i + 1 : j + 1], [q]]))
            parts.append((ends[k], ends[k + 1], line, 1 / 3))
        return parts


@dataclass
class _Edges:
    """Per-edge arrays on their way into an :class:`EdgeTable`."""

    u: NDArray[np.int64]
    v: NDArray[np.int64]
    length_m: NDArray[np.float64]
    coords: NDArray[np.float64]
    index: NDArray[np.int64]
    modes: NDArray[np.uint8]
    bike_twoway: NDArray[np.bool_]
    oneway: NDArray[np.bool_]
    names: NDArray[np.object_]
    highway: NDArray[np.object_]


def _split_loops(e: _Edges, starts: NDArray[np.int64], loops: _LoopSplitter) -> _Edges:
    """Each loop road (``u == v``) replaced in its place by its three parts (or nothing)."""
    loop_at = np.flatnonzero(e.u == e.v)
    if not len(loop_at):
        return e
    pieces: list[tuple[slice, list[tuple[int, int, Any, float]] | None]] = []
    prev = 0
    for i in loop_at.tolist():
        geom = shapely.LineString(e.coords[starts[i] : starts[i + 1]])
        pieces.append((slice(prev, i), None))
        pieces.append((slice(i, i + 1), loops.split(int(e.u[i]), geom)))
        prev = i + 1
    pieces.append((slice(prev, len(e.u)), None))
    cols: dict[str, list[Any]] = {k: [] for k in ("u", "v", "len", "xy", "n", "at")}
    for sl, parts in pieces:
        if parts is None:
            cols["u"].append(e.u[sl])
            cols["v"].append(e.v[sl])
            cols["len"].append(e.length_m[sl])
            cols["xy"].append(e.coords[starts[sl.start] : starts[sl.stop]])
            cols["n"].append(np.diff(starts[sl.start : sl.stop + 1]))
            cols["at"].append(np.arange(sl.start, sl.stop))
            continue
        for a, b, line, share in parts:
            xy = shapely.get_coordinates(line)
            cols["u"].append(np.asarray([a]))
            cols["v"].append(np.asarray([b]))
            cols["len"].append(e.length_m[sl] * share)
            cols["xy"].append(xy)
            cols["n"].append(np.asarray([len(xy)]))
            cols["at"].append(np.asarray([sl.start]))
    at = np.concatenate(cols["at"]).astype(np.int64)
    u = np.concatenate(cols["u"]).astype(np.int64)
    return _Edges(
        u=u,
        v=np.concatenate(cols["v"]).astype(np.int64),
        length_m=np.concatenate(cols["len"]).astype(float),
        coords=np.vstack(cols["xy"]),
        index=np.repeat(np.arange(len(u)), np.concatenate(cols["n"])),
        modes=e.modes[at],
        bike_twoway=e.bike_twoway[at],
        oneway=e.oneway[at],
        names=e.names[at],
        highway=e.highway[at],
    )


def _classes(code: NDArray[np.int32] | None, vocab: NDArray[np.str_] | None) -> dict[str, Any]:
    """The ``highway_code``/``highway_vocab`` arguments of a table (none: the defaults)."""
    return {} if code is None or vocab is None else {"highway_code": code, "highway_vocab": vocab}


def coord_starts(table: EdgeTable) -> NDArray[np.int64]:
    """Offsets of each edge's coordinates in ``table.geom_coords`` (``n_edges + 1`` values)."""
    counts = np.bincount(table.geom_index, minlength=len(table.u))
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def gather_coords(
    table: EdgeTable, starts: NDArray[np.int64], edges: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Coordinates (degrees) of the given edges, in that order, and the offset of each."""
    counts = starts[edges + 1] - starts[edges]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    pos = np.repeat(starts[edges] - offsets[:-1], counts) + np.arange(offsets[-1])
    return table.geom_coords[pos], offsets


def sorted_coords(table: EdgeTable) -> EdgeTable:
    """The same table with its geometry coordinates grouped by edge, in edge order."""
    order = np.argsort(table.geom_index, kind="stable")
    return dataclasses.replace(
        table, geom_coords=table.geom_coords[order], geom_index=table.geom_index[order]
    )


def _truthy(value: object) -> bool:
    if isinstance(value, list):
        return any(_truthy(v) for v in value)
    if isinstance(value, str):
        return value.lower() in {"true", "yes", "1", "-1"}
    return bool(value)


def savez(path: Path, arrays: dict[str, Any]) -> None:
    """Numpy arrays into one ``.npz`` file (no pickles)."""
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
