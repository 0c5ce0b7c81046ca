"""OpenStreetMap files straight into an :class:`EdgeTable`: one streaming pass, no graph.

pyosmium reads the file once with its node-location index, and hands over only the ways that
carry a ``highway`` tag (the filters run in C++). Each way's node ids, coordinates, name and
tags go into flat arrays; tags are kept once per distinct tag set (a city has a few thousand),
so the mode rules (:func:`way_modes`) run per tag set, not per way. The ways are then cut into
edges, and chains of nodes that only carry a road's shape are joined, with numpy.

The result is the network that osmnx builds from the same ways (``graph_from_xml`` with
``bidirectional=False``, ``simplify_graph(edge_attrs_differ=["cp_modes", "highway"])``), the
route :func:`coverage.network.read_graph` still takes: the same junctions, the same edges and
lengths (great-circle, as osmnx measures them), the same one-way rules (``oneway`` values
and roundabouts, ``-1`` reversed), the same closed rings left out. Where osmnx's choice is
arbitrary (the order of the names of a joined edge) this reader keeps the order along the
road.
"""

from __future__ import annotations

import logging
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from coverage._errors import InputDataError, NetworkError
from coverage._licence import OSM_LICENCE
from coverage.network._modes import MODE_BIT, country_at, is_road, way_modes
from coverage.network._table import EdgeTable

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

#: ``oneway`` values osmnx reads as one-way, and those among them that run against the way.
ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
REVERSED_VALUES = frozenset({"-1", "reverse", "T"})

#: Tags that never decide a mode, left out of the tag sets (names are kept per way).
_NOT_RULES = ("name", "ref", "source", "note", "wikidata", "wikipedia", "alt_name", "old_name")

#: Earth radius of osmnx's great-circle lengths, metres.
EARTH_RADIUS_M = 6_371_009.0


@dataclass
class _Ways:
    """The road ways of a file, as flat arrays (nodes without a location left out)."""

    start: NDArray[np.int64]  # offset of each way's first node in ``ref``
    ref: NDArray[np.int64]  # node ids, way after way
    x: NDArray[np.int64]  # node longitudes, 1e-7 degrees
    y: NDArray[np.int64]  # node latitudes, 1e-7 degrees
    tagset: NDArray[np.int64]  # each way's tag set (index into ``tagsets``)
    name: list[str]  # each way's name ("" where none)
    tagsets: list[dict[str, str]]


def read_osm_table(
    path: Path,
    *,
    country: str | None = None,
    source: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> EdgeTable:
    """Read the roads and paths of an OSM file into a flat network.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm`` or ``.pbf`` file (compressed XML is decompressed by the
        caller).
    country
        Whose access defaults decide the modes (ISO 3166-1 alpha-2, ``""`` for the worldwide
        ones); by default the country at the median of the roads' nodes (:func:`country_at`).
    source
        The file name for messages and the table's ``meta`` (default ``path``).
    bbox
        Read only this part of the file: ``(min lon, min lat, max lon, max lat)``, degrees
        (EPSG:4326). Memory then grows with the part, not the file. Every edge with an end
        inside the box is the edge the whole file gives (the ways around the box are read
        with a margin that widens until that holds), so clipping to an area inside the box
        gives what clipping the whole network gives. Without ``country`` the access defaults
        are those of the box's centre.

    Returns
    -------
    EdgeTable
        Junctions and dead ends as nodes, one edge per direction of each road between them
        (geometry in EPSG:4326, length in metres), in node order.

    Raises
    ------
    NetworkError
        If the file holds no highway way, no way with two of its nodes, or no way any mode
        may use.
    """
    src = source or str(path)
    if bbox is None:
        return _read_table(_read_ways(path), country, src)
    if country is None:
        country = country_at((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    margin = MARGIN_DEG
    while True:
        box = (bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin)
        try:
            table = _read_table(_read_ways(path, _e7(box)), country, src)
        except NetworkError as exc:
            msg = (
                f"{exc} (reading only the box lon {bbox[0]:g}–{bbox[2]:g}, "
                f"lat {bbox[1]:g}–{bbox[3]:g})"
            )
            raise NetworkError(msg) from None
        if _closed(table, bbox, box):
            table.meta["bbox"] = ",".join(f"{v:.7f}" for v in bbox)
            return table
        margin *= 4
        logger.info("%s: an edge leaves the box's margin; reading a wider one", src)


#: The margin read around a box at first, degrees (about 2 km); it widens where a road with
#: an end in the box runs farther than that without a junction.
MARGIN_DEG = 0.02


def _e7(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    return (
        int(np.floor(box[0] * 1e7)),
        int(np.floor(box[1] * 1e7)),
        int(np.ceil(box[2] * 1e7)),
        int(np.ceil(box[3] * 1e7)),
    )


def _inside(lon: Any, lat: Any, box: tuple[float, float, float, float]) -> NDArray[np.bool_]:  # noqa: ANN401
    return np.asarray((lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3]))


def _closed(
    table: EdgeTable,
    bbox: tuple[float, float, float, float],
    box: tuple[float, float, float, float],
) -> bool:
    """Whether every edge with an end in ``bbox`` lies within ``box`` (the part read), node by node.

    Then every way through those nodes was read, so each node is a junction or not as in the
    whole file, and the edge is the whole file's edge.
    """
    end_in = _inside(table.lon, table.lat, bbox)
    edges = np.flatnonzero(end_in[table.u] | end_in[table.v])
    at = np.isin(table.geom_index, edges)
    xy = table.geom_coords[at]
    return bool(_inside(xy[:, 0], xy[:, 1], box).all())


def _read_table(ways: _Ways, country: str | None, src: str) -> EdgeTable:
    if len(ways.tagset) == 0:
        msg = f"{src}: no highway ways found (is this an OSM road network?)"
        raise NetworkError(msg)
    if country is None:
        _, first = np.unique(ways.ref, return_index=True)
        lon, lat = ways.x[first] / 1e7, ways.y[first] / 1e7
        country = country_at(float(np.median(lon)), float(np.median(lat))) if len(first) else ""
    logger.info("%s: access defaults of %s", src, country or "the world (no country rules)")
    rules = _tagset_rules(ways.tagsets, country)
    edges = _edges(ways, rules)
    if edges is None:
        counts = np.diff(np.append(ways.start, len(ways.ref)))
        if not (counts >= 2).any():  # noqa: PLR2004
            msg = (
                f"{src}: none of its {len(ways.tagset)} highway ways has two of its nodes in the "
                "file (an extract without its nodes?)"
            )
        else:
            msg = f"{src}: no road or path in this file may be used by any mode"
        raise NetworkError(msg)
    table = _simplify(edges, source=src)
    table.meta["cp_access_country"] = country
    return table


def _read_ways(path: Path, box: tuple[int, int, int, int] | None = None) -> _Ways:
    """The road ways of a file (with a ``box`` in 1e-7 degrees: those with a node in it)."""
    import osmium  # noqa: PLC0415 (C++ reader, only for OSM files)

    ways = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    # typed arrays, not lists: 8 bytes a node id, 4 a coordinate
    start, tagset, ref, x, y = array("q"), array("q"), array("q"), array("i"), array("i")
    name: list[str] = []
    known: dict[tuple[tuple[str, str], ...], int] = {}
    x0, y0, x1, y1 = box or (0, 0, 0, 0)
    for w in ways:
        if not isinstance(w, osmium.osm.Way):  # pragma: no cover (the filters pass ways only)
            continue
        tags = w.tags
        if len(w.nodes) < 2 or not is_road(tags.get("highway") or "", tags.get("area") or ""):  # noqa: PLR2004
            continue
        nodes = [(n.ref, loc.x, loc.y) for n in w.nodes if (loc := n.location).valid()]
        if box is not None and not any(x0 <= a <= x1 and y0 <= b <= y1 for _, a, b in nodes):
            continue
        key = tuple(sorted((t.k, t.v) for t in tags if not t.k.startswith(_NOT_RULES)))
        start.append(len(ref))
        tagset.append(known.setdefault(key, len(known)))
        name.append(tags.get("name") or "")
        for r, a, b in nodes:
            ref.append(r)
            x.append(a)
            y.append(b)
    return _Ways(
        start=np.frombuffer(start, dtype=np.int64).copy(),
        ref=np.frombuffer(ref, dtype=np.int64).copy(),
        x=np.frombuffer(x, dtype=np.int32).astype(np.int64),
        y=np.frombuffer(y, dtype=np.int32).astype(np.int64),
        tagset=np.frombuffer(tagset, dtype=np.int64).copy(),
        name=name,
        tagsets=[dict(k) for k in known],
    )


@dataclass
class _Rules:
    """What the tags of each tag set say."""

    modes: NDArray[np.uint8]  # bit mask (MODE_BIT)
    highway: NDArray[np.int64]  # code of the highway value
    highway_names: NDArray[np.str_]  # the highway values, by code
    oneway: NDArray[np.bool_]
    reverse: NDArray[np.bool_]  # one-way against the way's direction
    bike_twoway: NDArray[np.bool_]


def _tagset_rules(tagsets: list[dict[str, str]], country: str) -> _Rules:
    bits = {"w": MODE_BIT["walk"], "b": MODE_BIT["bike"], "d": MODE_BIT["drive"]}
    modes = [sum(bits[c] for c in way_modes(t, country=country)) for t in tagsets]
    oneway = [
        t.get("oneway") in ONEWAY_VALUES or t.get("junction") == "roundabout" for t in tagsets
    ]
    reverse = [
        o and t.get("oneway") in REVERSED_VALUES for o, t in zip(oneway, tagsets, strict=True)
    ]
    twoway = [t.get("oneway:bicycle") == "no" or t.get("cycleway") == "opposite" for t in tagsets]
    values, highway = np.unique([t.get("highway", "") for t in tagsets], return_inverse=True)
    return _Rules(
        modes=np.asarray(modes, dtype=np.uint8),
        highway=highway.ravel().astype(np.int64),
        highway_names=np.asarray(values, dtype=str),
        oneway=np.asarray(oneway, dtype=bool),
        reverse=np.asarray(reverse, dtype=bool),
        bike_twoway=np.asarray(twoway, dtype=bool),
    )


@dataclass
class _Edges:
    """Directed edges between consecutive nodes of the usable ways, in osmnx's order."""

    node_ids: NDArray[np.int64]  # sorted node ids (every node of a usable way)
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    way: NDArray[np.int64]  # the way of each edge (index into the ways)
    rules: _Rules
    tagset: NDArray[np.int64]  # each way's tag set
    name: list[str]


def _edges(ways: _Ways, rules: _Rules) -> _Edges | None:
    n_ways = len(ways.tagset)
    count = np.diff(np.append(ways.start, len(ways.ref)))
    usable = (rules.modes[ways.tagset] > 0) & (count >= 2)  # noqa: PLR2004 (a cut way)
    if not usable.any():
        return None
    way_of = np.repeat(np.arange(n_ways), count)
    keep = usable[way_of]
    # the nodes osmnx gets: every node of a usable way; then repeated nodes in a row go
    first = np.zeros(len(ways.ref), dtype=bool)
    first[ways.start[count > 0]] = True
    dup = ~first & (ways.ref == np.roll(ways.ref, 1))
    node_ids, inverse = np.unique(ways.ref[keep], return_inverse=True)
    pos = np.flatnonzero(keep & ~dup)
    node = np.full(len(ways.ref), -1, dtype=np.int64)
    node[keep] = inverse.ravel()
    node_first = np.zeros(len(node_ids), dtype=np.int64)
    node_first[node[keep]] = np.flatnonzero(keep)
    lon = ways.x[node_first] / 1e7
    lat = ways.y[node_first] / 1e7
    # consecutive kept positions of one way make an edge, in the way's direction ...
    w = way_of[pos]
    same = w[1:] == w[:-1]
    a, b, ew = node[pos[:-1]][same], node[pos[1:]][same], w[1:][same]
    reverse = rules.reverse[ways.tagset[ew]]
    a, b = np.where(reverse, b, a), np.where(reverse, a, b)
    # ... way after way, each way's edges, then (two-way) their reverses, as osmnx adds them
    two_way = np.flatnonzero(~rules.oneway[ways.tagset[ew]])
    u = np.concatenate([a, b[two_way]])
    v = np.concatenate([b, a[two_way]])
    way = np.concatenate([ew, ew[two_way]])
    back = np.concatenate([np.zeros(len(ew), bool), np.ones(len(two_way), bool)])
    along = np.concatenate([np.arange(len(ew)), two_way])
    order = np.lexsort((along, back, way))
    index = np.int32 if len(node_ids) < 2**31 else np.int64  # half the memory on big extracts
    return _Edges(
        node_ids=node_ids,
        lon=lon,
        lat=lat,
        u=u[order].astype(index),
        v=v[order].astype(index),
        way=way[order].astype(index),
        rules=rules,
        tagset=ways.tagset,
        name=ways.name,
    )


def _great_circle(
    lon: NDArray[np.float64], lat: NDArray[np.float64], a: NDArray[Any], b: NDArray[Any]
) -> NDArray[np.float64]:
    """Osmnx's great-circle distance from node ``a`` to node ``b``, metres (in chunks)."""
    out = np.empty(len(a))
    for i in range(0, len(a), 1 << 20):  # a million edges at a time keeps temporaries small
        sa, sb = a[i : i + (1 << 20)], b[i : i + (1 << 20)]
        y1, y2 = np.deg2rad(lat[sa]), np.deg2rad(lat[sb])
        dx = np.deg2rad(lon[sb]) - np.deg2rad(lon[sa])
        h = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(dx / 2) ** 2
        out[i : i + len(sa)] = 2 * np.arcsin(np.sqrt(np.minimum(1, h))) * EARTH_RADIUS_M
    return out


def _simplify(e: _Edges, *, source: str) -> EdgeTable:  # noqa: PLR0915 (one pass, kept together)
    """Join the chains of shape-only nodes (osmnx's ``simplify_graph`` rule), drop lone rings."""
    n = len(e.node_ids)
    u, v = e.u, e.v
    ts = e.tagset[e.way]
    modes, highway = e.rules.modes[ts], e.rules.highway[ts]
    deg_in = np.bincount(v, minlength=n)
    deg_out = np.bincount(u, minlength=n)
    degree = deg_in + deg_out
    # a node whose edges reach exactly two other nodes: its lowest and highest neighbour differ
    # and no edge reaches a third; on the same pass, the edges' mode and road class must agree
    node = np.concatenate([u, v])
    other = np.concatenate([v, u])
    lo = np.full(n, n, dtype=other.dtype)
    hi = np.full(n, -1, dtype=other.dtype)
    np.minimum.at(lo, node, other)
    np.maximum.at(hi, node, other)
    third = np.bincount(node[(other != lo[node]) & (other != hi[node])], minlength=n) > 0
    two_neighbours = (lo != hi) & ~third
    del other
    kind = (highway.astype(np.int32) << 8) | modes
    kind = np.concatenate([kind, kind])
    k_lo = np.full(n, np.iinfo(np.int32).max, dtype=np.int32)
    k_hi = np.full(n, np.iinfo(np.int32).min, dtype=np.int32)
    np.minimum.at(k_lo, node, kind)
    np.maximum.at(k_hi, node, kind)
    del node, kind
    endpoint = (deg_in == 0) | (deg_out == 0) | ~(two_neighbours & np.isin(degree, (2, 4)))
    endpoint |= (k_lo != k_hi) & (degree > 0)  # incident edges that differ in mode or class
    # components without an endpoint are lone rings: osmnx drops them
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, comp = connected_components(graph, directed=True, connection="weak")
    has_end = np.zeros(int(comp.max()) + 1 if n else 0, dtype=bool)
    has_end[comp[endpoint]] = True
    alive = has_end[comp]
    # the next edge of a chain: at a shape node reached from w, the first edge to another node
    order = np.argsort(u, kind="stable")
    out_start = np.searchsorted(u[order], np.arange(n + 1))
    nxt = np.full(len(u), -1, dtype=np.int64)
    inner = np.flatnonzero(~endpoint[v])
    for rank in range(3):  # a shape node has at most three edges out (degree 4, two neighbours)
        todo = inner[nxt[inner] < 0]
        at = out_start[v[todo]] + rank
        ok = at < out_start[v[todo] + 1]
        cand = order[at[ok]]
        good = v[cand] != u[todo[ok]]
        nxt[todo[ok][good]] = cand[good]
    # chains start at an endpoint towards a shape node (one per pair of nodes, first edge)
    starts = np.flatnonzero(endpoint[u] & ~endpoint[v] & alive[u])
    _, first = np.unique(u[starts] * n + v[starts], return_index=True)
    starts = np.sort(starts[first])
    steps_edge: list[NDArray[np.int64]] = []
    steps_chain: list[NDArray[np.int64]] = []
    cur, ids = starts, np.arange(len(starts))
    while len(cur) and len(steps_edge) <= len(u):
        steps_edge.append(cur)
        steps_chain.append(ids)
        go = ~endpoint[v[cur]]
        cur, ids = nxt[cur[go]], ids[go]
        lost = cur < 0  # (osmnx warns "unexpected simplify pattern" and ends the path here)
        cur, ids = cur[~lost], ids[~lost]
    edge_of = np.concatenate(steps_edge) if steps_edge else np.empty(0, np.int64)
    chain_of = np.concatenate(steps_chain) if steps_chain else np.empty(0, np.int64)
    # (steps were stacked in order, so a stable sort by chain keeps each chain's order)
    by_chain = np.argsort(chain_of, kind="stable")
    chain_of, edge_of = chain_of[by_chain], edge_of[by_chain]
    del deg_in, deg_out, degree, lo, hi, third, two_neighbours, k_lo, k_hi, graph, comp
    del order, out_start, nxt, inner, steps_edge, steps_chain, cur, ids, by_chain, ts, highway
    return _assemble(e, endpoint, alive, chain_of, edge_of, len(starts), modes, source)


def _names(
    e: _Edges,
    direct: NDArray[np.int64],
    chain_of: NDArray[Any],
    edge_of: NDArray[Any],
    n_chain: int,
) -> NDArray[np.object_]:
    """Each edge's street name: a joined chain's distinct names in order along it, " / "."""
    codes, uniques = pd.factorize(pd.Series(e.name, dtype=object), sort=False)
    vocab = np.asarray(uniques, dtype=object)
    named = np.asarray([bool(x) for x in vocab], dtype=bool)
    code = np.where((codes >= 0) & named[np.maximum(codes, 0)], codes, -1)  # -1: no name
    out = np.full(len(direct) + n_chain, "", dtype=object)
    d = code[e.way[direct]]
    out[: len(direct)][d >= 0] = vocab[d[d >= 0]]
    c = code[e.way[edge_of]]
    keep = np.flatnonzero(c >= 0)
    # the first place each (chain, name) pair appears, in order along the chain
    _, first = np.unique(
        chain_of[keep].astype(np.int64) * (len(vocab) + 1) + c[keep], return_index=True
    )
    at = keep[np.sort(first)]
    chain, name = chain_of[at], c[at]
    count = np.bincount(chain, minlength=n_chain)
    single = count[chain] == 1
    out[len(direct) + chain[single]] = vocab[name[single]]
    several = np.flatnonzero(~single)  # (a joined road that changes its name; chain order)
    for group in np.split(several, np.flatnonzero(np.diff(chain[several])) + 1):
        if len(group):
            out[len(direct) + chain[group[0]]] = " / ".join(vocab[name[group]])
    return out


def _assemble(
    e: _Edges,
    endpoint: NDArray[np.bool_],
    alive: NDArray[np.bool_],
    chain_of: NDArray[np.int64],
    edge_of: NDArray[np.int64],
    n_chain: int,
    modes: NDArray[np.uint8],
    source: str,
) -> EdgeTable:
    u, v = e.u, e.v
    seg_len = _great_circle(e.lon, e.lat, u, v)
    ts = e.tagset[e.way]
    # direct edges between two endpoints stay as they are
    direct = np.flatnonzero(endpoint[u] & endpoint[v] & alive[u])
    cu = np.concatenate([u[direct], np.empty(n_chain, np.int64)])
    cv = np.concatenate([v[direct], np.empty(n_chain, np.int64)])
    bounds = np.flatnonzero(np.diff(chain_of)) + 1 if len(chain_of) else np.empty(0, np.int64)
    starts = np.concatenate([[0], bounds]) if len(chain_of) else np.empty(0, np.int64)
    ends = np.append(bounds, len(chain_of)) - 1 if len(chain_of) else np.empty(0, np.int64)
    first_edge = edge_of[starts]
    last_edge = edge_of[ends]
    cu[len(direct) :] = u[first_edge]
    cv[len(direct) :] = v[last_edge]
    length = np.concatenate(
        [seg_len[direct], np.add.reduceat(seg_len[edge_of], starts) if n_chain else []]
    )
    # geometry: direct edges two points; chains every node along them
    geo_nodes: list[NDArray[np.int64]] = [np.column_stack([u[direct], v[direct]]).ravel()]
    geo_index: list[NDArray[np.int64]] = [np.repeat(np.arange(len(direct)), 2)]
    if n_chain:
        count = ends - starts + 1
        chain_nodes = np.insert(v[edge_of], starts, u[first_edge])
        geo_nodes.append(chain_nodes)
        geo_index.append(len(direct) + np.repeat(np.arange(n_chain), count + 1))
    gnode = np.concatenate(geo_nodes)
    gidx = np.concatenate(geo_index)
    coords = np.column_stack([e.lon[gnode], e.lat[gnode]])
    # attributes: the chain's first edge for what cannot differ; names along the way
    rep = np.concatenate([direct, first_edge])
    m = modes[rep]
    twoway_chain = np.zeros(n_chain, dtype=bool)
    if n_chain:
        np.logical_or.at(twoway_chain, chain_of, e.rules.bike_twoway[ts[edge_of]])
    bike_twoway = np.concatenate([e.rules.bike_twoway[ts[direct]], twoway_chain])
    names = _names(e, direct, chain_of, edge_of, n_chain)
    # nodes: endpoints of live components (shape nodes and lone rings go)
    keep_node = endpoint & alive
    return EdgeTable.from_arrays(
        node_ids=e.node_ids,
        lon=e.lon,
        lat=e.lat,
        keep_node=keep_node,
        u=cu,
        v=cv,
        length_m=length,
        geom_coords=coords,
        geom_index=gidx,
        modes=m,
        bike_twoway=bike_twoway,
        names=names,
        oneway=e.rules.oneway[ts[rep]],
        meta={"source": source, "license": OSM_LICENCE},
        highways=e.rules.highway_names[e.rules.highway[ts[rep]]].astype(object),
    )


#: File endings of the OSM formats the streaming reader takes.
OSM_SUFFIXES = (".osm", ".pbf", ".bz2", ".gz")


def read_osm_way(path: str | Path, way_id: int) -> NDArray[np.float64] | None:
    """The node locations of one OSM way, in order, degrees (EPSG:4326).

    Parameters
    ----------
    path
        An OSM file (``.osm``, ``.osm.pbf``, ``.osm.bz2``/``.gz``).
    way_id
        The way's OSM id.

    Returns
    -------
    numpy.ndarray or None
        ``(n, 2)`` lon/lat, or ``None`` if the file holds no such way.

    Raises
    ------
    InputDataError
        If the file cannot be read.
    """
    import osmium  # noqa: PLC0415 (C++ reader, only for OSM files)

    try:
        ways = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        only = osmium.filter.IdFilter([way_id])
        only.enable_for(osmium.osm.WAY)  # nodes all pass: the ways need their locations
        for obj in ways.with_locations().with_filter(only):
            if isinstance(obj, osmium.osm.Way) and obj.id == way_id:
                return np.array(
                    [(n.lon, n.lat) for n in obj.nodes if n.location.valid()], dtype=float
                )
    except RuntimeError as exc:
        msg = f"{path}: cannot read way {way_id} ({' '.join(str(exc).split())})"
        raise InputDataError(msg) from None
    return None
