"""Road and path networks: loading, mode filters and the compact routing view.

:func:`load_network` reads a network once and returns a :class:`Network`: the osmnx
``MultiDiGraph`` (EPSG:4326, kept for display) plus a routing view built once for one travel
mode: node coordinates in a metric CRS, the road *segments* used for snapping (one per road
piece, with the travel time in each direction it may be travelled), and a
``scipy.sparse.csr_matrix`` of travel times in seconds for
:mod:`scipy.sparse.csgraph` shortest paths.

Accepted sources
----------------
- OpenStreetMap files: ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf`` (read with pyosmium;
  highway ways are kept, and per way the modes that may use it are worked out from its tags,
  then the graph is built by :func:`osmnx.graph_from_xml`). osmnx GraphML files and graphs
  whose edges carry OSM tags get their modes the same way.
- osmnx GraphML: ``.graphml`` or ``.graphml.gz``.
- Road centre lines: a GeoPackage, Shapefile or GeoJSON of (multi)line strings; lines meeting
  at an end point are joined there (bridges and tunnels that cross without sharing an end point
  stay apart). Optional columns: ``oneway`` (bool), ``speed_kph``, ``highway``.
- An :class:`networkx.MultiDiGraph` built by osmnx (e.g. from :func:`osmnx.graph_from_place`).
- Online, with an internet connection only: :func:`download_network` (a place name or a bbox).

Mode rules
----------
Per OSM way, from its tags (:func:`way_modes`; OSM wiki "Key:access" and "OSM tags for
routing/Access restrictions"):

- *Access hierarchy*: ``access`` < ``foot`` (walk); ``access`` < ``vehicle`` < ``bicycle``
  (bike, e-bike); ``access`` < ``vehicle`` < ``motor_vehicle`` < ``motorcar`` (drive). The
  most specific key with a known value decides. ``yes``, ``designated``, ``permissive``,
  ``destination``, ``customers`` (also ``official``, ``permit``, ``discouraged``) allow;
  ``no``, ``private``, ``agricultural``, ``forestry``, ``delivery``, ``use_sidepath``,
  ``military``, ``emergency`` deny (``access=forestry`` closes a track to walkers unless
  ``foot=yes``); other values say nothing.
- *Class defaults* where no key decides. Walk: not on motorways, motorway links, motor roads
  (``motorroad=yes``), cycleways and bridleways. Bike: not on motorways, motorway links,
  motor roads, steps, footways, pedestrian streets, paths and corridors. Drive: not on
  footways, paths, pedestrian streets, steps, cycleways, bridleways and corridors. A class
  closed to a mode opens only by the mode's own keys (``foot=yes`` on a cycleway), never by
  a general ``access=yes``. One-way rules do not apply on foot; by bike they do unless
  ``oneway:bicycle=no``.
- *Per country*, chosen by the network's centre (:func:`country_at`, rough boxes) or given
  as ``load_network(..., country="CN")``. **China**: urban expressways (城市快速路; OSM
  China maps them, like national roads, as ``highway=trunk``): a one-way ``trunk`` on a
  viaduct, a bridge or in a tunnel (``bridge``/``tunnel``/``layer``), and every
  ``trunk_link`` (their ramps), are closed to walking and cycling unless ``foot=*`` /
  ``bicycle=*`` or a mapped ``sidewalk`` opens them; at-grade trunk roads (national roads)
  stay walkable. **Switzerland**: ``trunk``/``trunk_link`` (Autostrasse) closed to walking
  and cycling, cycleways and bridleways walkable. **Liechtenstein** (no row in the wiki's
  table) and everywhere else: the worldwide defaults, ``trunk``/``trunk_link`` walkable.
- Networks without highway tags (the bundled OSRM-derived Hangzhou car network): the
  ``osrm_class`` values ``motorway`` and ``tunnel`` are closed to walking and cycling (urban
  tunnels under West Lake and the city are car-only), ``restricted`` is closed to driving.
- Road centre lines: by their ``highway`` column if any (worldwide defaults), else open to
  every mode.

Disconnected pieces are kept; points on a piece without a hall are reported as unreachable by
the audit, with the size of their piece.
"""

from __future__ import annotations

import bz2
import contextlib
import dataclasses
import gzip
import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from xml.etree.ElementTree import ParseError

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from coverage._errors import ConfigError, NetworkError
from coverage._files import atomic_write
from coverage.config import DEFAULT_CONFIG, MODES, Config, Mode

if TYPE_CHECKING:
    from collections.abc import Iterator

    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

#: Letters of the modes in the per-edge ``cp_modes`` attribute.
_MODE_LETTER = {"walk": "w", "bike": "b", "ebike": "b", "drive": "d"}

_NOT_ROADS = {
    "construction", "proposed", "abandoned", "platform", "raceway", "razed", "disused",
    "bus_stop", "elevator", "rest_area", "services", "emergency_bay", "no", "bus_guideway",
    "busway",
}  # fmt: skip

#: Access values (OSM ``Key:access``) that let the public use a way, and values that do not.
#: Any other value (``unknown``, a typo) says nothing: the next key up the hierarchy decides.
ACCESS_ALLOW = frozenset(
    {"yes", "designated", "permissive", "destination", "customers", "official", "permit",
     "discouraged", "dismount"}
)  # fmt: skip
ACCESS_DENY = frozenset(
    {"no", "private", "agricultural", "forestry", "delivery", "use_sidepath", "military",
     "emergency"}
)  # fmt: skip

#: Access keys of each mode letter, from the most general to the mode's own (OSM's access
#: hierarchy: ``access`` < ``vehicle`` < ``motor_vehicle`` < ``motorcar``; ``access`` < ``foot``).
_ACCESS_KEYS = {
    "w": ("access", "foot"),
    "b": ("access", "vehicle", "bicycle"),
    "d": ("access", "vehicle", "motor_vehicle", "motorcar"),
}

#: Highway classes closed to a mode unless the mode's own key opens them (worldwide defaults
#: of the OSM wiki's "OSM tags for routing/Access restrictions").
_CLOSED_WORLD = {
    "w": frozenset({"motorway", "motorway_link", "cycleway", "bridleway"}),
    "b": frozenset({"motorway", "motorway_link", "steps", "footway", "pedestrian", "path",
                    "corridor"}),
    "d": frozenset({"footway", "path", "pedestrian", "steps", "cycleway", "bridleway",
                    "corridor"}),
}  # fmt: skip

#: Per-country defaults that differ from the worldwide ones: highway classes closed to walking
#: (``"w"``) or cycling (``"b"``) in that country. China's extra rule (urban expressways) is in
#: :func:`_urban_expressway`. Liechtenstein has no row in the OSM wiki's table: worldwide.
COUNTRY_CLOSED: dict[str, dict[str, frozenset[str]]] = {
    # Switzerland: trunk is an Autostrasse (motor traffic only); cycle and bridle ways may be
    # walked.
    "CH": {
        "w": frozenset({"motorway", "motorway_link", "trunk", "trunk_link"}),
        "b": _CLOSED_WORLD["b"] | {"trunk", "trunk_link"},
    },
}

#: Rough boxes (west, south, east, north; degrees) of the countries with their own defaults,
#: looked up with the network's centre; the first box that holds it wins.
COUNTRY_BOXES: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("LI", (9.47, 47.04, 9.64, 47.28)),
    ("CH", (5.95, 45.81, 10.50, 47.81)),
    ("CN", (97.5, 21.5, 122.5, 42.0)),  # east and centre (Beijing to Guangzhou, Chengdu)
    ("CN", (118.0, 38.5, 125.0, 42.5)),  # Liaoning
    ("CN", (122.5, 42.0, 135.1, 53.6)),  # Jilin, Heilongjiang
    ("CN", (108.5, 18.0, 117.5, 21.5)),  # Hainan, the Guangdong and Guangxi coast
    ("CN", (73.5, 27.0, 97.5, 49.2)),  # Xinjiang, Tibet, Qinghai
    ("CN", (97.5, 42.0, 122.5, 46.5)),  # Inner Mongolia's south (part of Mongolia too)
)

_ONEWAY = frozenset({"yes", "true", "1", "-1"})
_SIDEWALK = frozenset({"yes", "both", "left", "right"})


def _is_road(highway: str, area: str) -> bool:
    """Whether a ``highway=*`` value (and ``area=*``) is a road or path some mode may use."""
    return bool(highway) and highway not in _NOT_ROADS and area != "yes"


def country_at(lon: float, lat: float) -> str:
    """The country whose access defaults apply at a point ("" for the worldwide defaults).

    A rough lookup in :data:`COUNTRY_BOXES` (China, Switzerland, Liechtenstein), not a border
    test: a network near a border gets the rules of the box that holds its centre.

    Parameters
    ----------
    lon, lat
        The point, degrees (EPSG:4326).

    Returns
    -------
    str
        ISO 3166-1 alpha-2 code (``"CN"``, ``"CH"``, ``"LI"``) or ``""``.

    Examples
    --------
    >>> country_at(120.16, 30.27), country_at(9.52, 47.14), country_at(2.35, 48.86)
    ('CN', 'LI', '')
    """
    for code, (west, south, east, north) in COUNTRY_BOXES:
        if west <= lon <= east and south <= lat <= north:
            return code
    return ""


def _urban_expressway(tags: dict[str, str]) -> bool:
    """An urban expressway (城市快速路) or one of its ramps, by China's OSM tagging.

    OSM China maps urban expressways and national roads alike as ``highway=trunk``. The
    expressways are grade separated and divided: a one-way ``trunk`` carriageway on a viaduct,
    a bridge or in a tunnel (``bridge``, ``tunnel``, or ``layer`` other than 0) is one. Every
    ``trunk_link`` counts as a ramp (匝道): the at-grade ends of the ramps carry no structure
    tag, and a national road's slip roads run beside its walkable carriageway. At-grade trunk
    roads (national roads through towns and villages) are not expressways.
    """
    hw = tags.get("highway")
    if hw == "trunk_link":
        return True
    if hw != "trunk" or tags.get("oneway", "") not in _ONEWAY:
        return False
    return (
        tags.get("bridge", "no") != "no"
        or tags.get("tunnel", "no") != "no"
        or tags.get("layer", "0").strip() not in {"", "0"}
    )


def _decide(tags: dict[str, str], letter: str, *, closed: bool) -> bool:
    """Whether a mode may use a way: its access keys, else the class default.

    The most specific key of the mode's hierarchy with a known value decides. A way whose
    class is closed to the mode (``closed``) opens only by the mode's own keys: a general
    ``access=yes`` on a motorway or a cycleway is about the traffic the way is built for.
    """
    keys = _ACCESS_KEYS[letter]
    verdict: bool | None = None
    for key in keys[1:] if closed else keys:
        value = tags.get(key)
        if value in ACCESS_ALLOW:
            verdict = True
        elif value in ACCESS_DENY:
            verdict = False
    return (not closed) if verdict is None else verdict


def way_modes(tags: dict[str, str], *, country: str = "") -> str:
    """Work out which travel modes may use an OSM way, from its tags.

    The rules (OSM wiki "Key:access" and "OSM tags for routing/Access restrictions"):

    - *access hierarchy*: ``access`` < ``foot`` (walk); ``access`` < ``vehicle`` <
      ``bicycle`` (bike); ``access`` < ``vehicle`` < ``motor_vehicle`` < ``motorcar``
      (drive). The most specific key with a known value decides: ``yes``, ``designated``,
      ``permissive``, ``destination``, ``customers`` (:data:`ACCESS_ALLOW`) open the way,
      ``no``, ``private``, ``agricultural``, ``forestry``, ``delivery``, ``use_sidepath``
      (:data:`ACCESS_DENY`) close it; so ``access=forestry`` closes a track to walkers unless
      it also says ``foot=yes``.
    - *class defaults* where no key decides: walking is closed on motorways, their links,
      ``motorroad=yes`` roads, cycleways and bridleways; cycling on motorways, their links,
      motor roads, steps and foot-only ways (footway, pedestrian, path, corridor); driving
      on footways, paths, pedestrian streets, steps, cycleways, bridleways and corridors. A
      class closed to a mode opens only by the mode's own key (``foot=yes`` on a cycleway),
      never by a general ``access=yes``.
    - *per country* (``country``): Switzerland (``"CH"``) closes ``trunk``/``trunk_link`` to
      walkers and cyclists and opens cycleways and bridleways to walkers; China (``"CN"``)
      closes urban expressways (城市快速路: one-way ``trunk`` on a viaduct, a bridge or in a
      tunnel) and every ``trunk_link`` (their ramps) to walkers and cyclists unless
      ``foot=*``/``bicycle=*`` or a mapped ``sidewalk`` says otherwise. Everywhere else, and
      in Liechtenstein, the worldwide defaults apply (``trunk`` and ``trunk_link`` walkable).

    Parameters
    ----------
    tags
        The way's OSM tags.
    country
        ISO 3166-1 alpha-2 code of the country whose defaults apply (see
        :func:`country_at`); ``""`` for the worldwide defaults.

    Returns
    -------
    str
        Letters of the allowed modes: ``w`` walk, ``b`` bike and e-bike, ``d`` drive; empty if
        the way is not a usable road or path.

    Examples
    --------
    >>> way_modes({"highway": "footway"})
    'w'
    >>> way_modes({"highway": "residential"})
    'wbd'
    >>> way_modes({"highway": "motorway"})
    'd'
    >>> way_modes({"highway": "track", "access": "forestry"}), way_modes(
    ...     {"highway": "track", "access": "forestry", "foot": "yes"}
    ... )
    ('', 'w')
    >>> way_modes({"highway": "cycleway"}), way_modes({"highway": "cycleway"}, country="CH")
    ('b', 'wb')
    """
    hw = tags.get("highway", "")
    if not _is_road(hw, tags.get("area", "")):
        return ""
    code = country.upper()
    rules = COUNTRY_CLOSED.get(code, {})
    expressway = code == "CN" and _urban_expressway(tags)
    motor_road = tags.get("motorroad") == "yes" or expressway
    walk_closed = motor_road or hw in rules.get("w", _CLOSED_WORLD["w"])
    if expressway and tags.get("sidewalk") in _SIDEWALK:  # a footpath mapped along it
        walk_closed = False
    modes = ""
    if _decide(tags, "w", closed=walk_closed):
        modes += "w"
    if _decide(tags, "b", closed=hw in rules.get("b", _CLOSED_WORLD["b"]) or motor_road):
        modes += "b"
    if _decide(tags, "d", closed=hw in _CLOSED_WORLD["d"]):
        modes += "d"
    return modes


#: Bits of the per-edge mode mask.
_MODE_BIT = {"walk": 1, "bike": 2, "ebike": 2, "drive": 4}
#: Version of the cache file layout; bump when EdgeTable changes or when the mode rules
#: (:func:`way_modes`, :func:`_edge_allows`) change the stored per-edge mode bits.
CACHE_VERSION = 4


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

    @property
    def name(self) -> NDArray[np.str_]:
        """Street name of each edge ("" where none)."""
        return self.name_vocab[self.name_code]

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
        used = np.zeros(len(self.node_ids), dtype=bool)
        used[self.u[keep]] = True
        used[self.v[keep]] = True
        nodes = np.flatnonzero(used)
        node_new = np.full(len(self.node_ids), -1, dtype=np.int64)
        node_new[nodes] = np.arange(len(nodes))
        edge_new = np.cumsum(keep, dtype=np.int64) - 1
        coord_keep = keep[self.geom_index]
        meta = dict(self.meta)
        if "loop_nodes_from" in meta:  # the nodes of split loop roads stay last
            first = int(meta["loop_nodes_from"])
            meta["loop_nodes_from"] = str(int(np.count_nonzero(nodes < first)))
            meta["loop_roads"] = str(int(np.count_nonzero(nodes >= first)) // 2)
        return EdgeTable(
            node_ids=self.node_ids[nodes],
            lon=self.lon[nodes],
            lat=self.lat[nodes],
            u=node_new[self.u[keep]],
            v=node_new[self.v[keep]],
            length_m=self.length_m[keep],
            geom_coords=self.geom_coords[coord_keep],
            geom_index=edge_new[self.geom_index[coord_keep]],
            modes=self.modes[keep],
            bike_twoway=self.bike_twoway[keep],
            speed_kph=self.speed_kph[keep],
            name_code=self.name_code[keep],
            name_vocab=self.name_vocab,
            oneway=self.oneway[keep],
            meta=meta,
        )

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
        u, v, length, modes, twoway, speed, names, oneway, geoms = ([] for _ in range(9))
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
                modes.append(sum(
                    bit for m, bit in _MODE_BIT.items() if m != "ebike" and _edge_allows(data, m)
                ))  # fmt: skip
                twoway.append(_truthy(data.get("cp_bike_twoway", False)))
                sp_kph = data.get("speed_kph")
                speed.append(float(sp_kph) if sp_kph is not None else np.nan)
                nm = data.get("name", "")
                names.append(" / ".join(map(str, nm)) if isinstance(nm, list) else str(nm or ""))
                oneway.append(_truthy(data.get("oneway", False)))
                geoms.append(geom)
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
        coords, gidx = (shapely.get_coordinates(geo, return_index=True) if len(geo)
                        else (np.empty((0, 2)), np.empty(0, dtype=np.int64)))  # fmt: skip
        node_ids = np.asarray(ids)
        if node_ids.dtype.kind not in "iu":
            node_ids = node_ids.astype(str)
        meta = {k: str(G.graph[k]) for k in ("name", "source", "license") if k in G.graph}
        meta["loop_roads"] = str(loops.count)
        meta["loop_nodes_from"] = str(loops.first)
        code, vocab = cls.encode_names(names)
        return cls(
            node_ids=node_ids, lon=lon, lat=lat, u=u_arr, v=v_arr,
            length_m=np.asarray(length, dtype=float), geom_coords=coords,
            geom_index=gidx.astype(np.int64), modes=np.asarray(modes, dtype=np.uint8),
            bike_twoway=np.asarray(twoway, dtype=bool), speed_kph=np.asarray(speed, dtype=float),
            name_code=code, name_vocab=vocab, oneway=np.asarray(oneway, dtype=bool), meta=meta,
        )  # fmt: skip

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
        for i, geom in enumerate(self.geometries()):
            attrs: dict[str, Any] = {
                "length": float(self.length_m[i]), "geometry": geom,
                "cp_modes": str(letters[i]), "oneway": bool(self.oneway[i]),
            }  # fmt: skip
            if names[i]:
                attrs["name"] = str(names[i])
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
        atomic_write(path, lambda tmp: _savez(tmp, arrays))

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
        Per-network indexes built on first use (e.g. the snapping index).

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
    _table_path: Path | None = field(default=None, repr=False)
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
            if self._table_path is None:  # pragma: no cover (always set by the loaders)
                msg = f"{self.source}: the network's edge table is not available"
                raise NetworkError(msg)
            self._table = EdgeTable.load(self._table_path)
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

    @property
    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """Bounding box of the nodes, (min lon, min lat, max lon, max lat), EPSG:4326."""
        if "bounds_lonlat" not in self.cache:
            to_ll = pyproj.Transformer.from_crs(self.crs, 4326, always_xy=True)
            if self._table is not None:
                lon, lat = self._table.lon, self._table.lat
            else:
                lon, lat = to_ll.transform(self.node_xy[:, 0], self.node_xy[:, 1])
            self.cache["bounds_lonlat"] = (
                float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))
            )  # fmt: skip
        return cast("tuple[float, float, float, float]", self.cache["bounds_lonlat"])

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
        transformers: dict[str, pyproj.Transformer] = self.cache.setdefault("transformers", {})
        crs = geoms.crs
        key = crs.srs or crs.to_wkt()  # (the text the CRS was made from; hashing writes WKT)
        transformer = transformers.get(key)
        if transformer is None:
            transformer = transformers[key] = pyproj.Transformer.from_crs(
                crs, self.crs, always_xy=True
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
        if "component_sizes" not in self.cache:
            self.cache["component_sizes"] = np.bincount(self.component)
        return cast("NDArray[np.int64]", self.cache["component_sizes"])


def load_network(
    source: str | Path | nx.MultiDiGraph,
    *,
    mode: Mode | None = None,
    config: Config | None = None,
    country: str | None = None,
) -> Network:
    """Load a road network and build its routing view for one travel mode.

    Parameters
    ----------
    source
        Path to a ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``, ``.graphml``,
        ``.graphml.gz`` file or a road-centre-line ``.gpkg`` / ``.shp`` / ``.geojson``;
        or an osmnx ``MultiDiGraph`` (EPSG:4326 or with ``G.graph["crs"]`` set).
    mode
        Travel mode; defaults to ``config.mode``.
    config
        Speeds, metric CRS; defaults to :data:`coverage.config.DEFAULT_CONFIG`.
    country
        Whose access defaults decide which OSM ways each mode may use: an ISO 3166-1
        alpha-2 code (``"CN"``, ``"CH"``, ``"LI"``...) or ``""`` for the worldwide defaults
        (see :func:`way_modes`). By default the country at the network's centre
        (:func:`country_at`; China, Switzerland and Liechtenstein are known, elsewhere the
        worldwide defaults apply).

    Returns
    -------
    Network
        The graph and its routing view.

    Raises
    ------
    NetworkError
        If the file does not exist, cannot be parsed, or holds no usable road.

    Examples
    --------
    >>> from coverage.testing import grid_graph
    >>> net = load_network(grid_graph(), mode="walk")
    >>> net.n_nodes
    25
    """
    cfg = config or DEFAULT_CONFIG
    if mode is not None:
        cfg = cfg.replace(mode=mode)
    if isinstance(source, nx.MultiDiGraph):
        return _load_graph(source, cfg, country)
    path = Path(source)
    if not path.exists():
        msg = f"{path}: network file not found"
        raise NetworkError(msg)
    cached = cache_path(path, cfg, country=country)
    if cached is not None and cached.exists():
        try:
            net = load_cached_network(cached, config=cfg, source=str(path))
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring unreadable network cache %s (%s)", cached, exc)
        else:
            logger.info("network read from cache %s", cached)
            return net
    G = read_graph(path, country=country)
    table = EdgeTable.from_graph(G, source=str(path))
    saved = False
    if cached is not None:
        try:
            _drop_stale(cached)
            table.save(cached)
            saved = True
        except OSError as exc:
            logger.warning("cannot write the network cache %s (%s)", cached, exc)
    net = build_routing(table, config=cfg, source=str(path))
    if saved and cached is not None:
        _try_save_routing(net, cached, cfg)
    net._G = G  # noqa: SLF001
    return net


def _load_graph(source: nx.MultiDiGraph, cfg: Config, country: str | None) -> Network:
    """:func:`load_network` of a graph in memory (never changed: modes go on a copy)."""
    G = _to_lonlat(source)
    if _needs_modes(G):  # OSM tags without modes: work them out on a copy
        G = G.copy()
        _add_way_modes(G, country)
    net = build_routing(EdgeTable.from_graph(G), config=cfg, source="graph")
    net._G = G  # noqa: SLF001
    return net


def cache_path(
    path: Path, config: Config | None = None, *, country: str | None = None
) -> Path | None:
    """Where the cached arrays of a network file live (``None`` if caching is off).

    The name carries a hash of the file's absolute path, size and modification time (and of
    the ``country`` whose access defaults were asked for, if one was), so an edited or
    replaced file gets a new cache entry and the old one is no longer used.

    Parameters
    ----------
    path
        The network file.
    config
        ``use_cache`` and ``cache_dir`` are used.
    country
        The ``country`` given to :func:`load_network` (``None``: chosen by location).

    Returns
    -------
    pathlib.Path or None
        The cache file path.
    """
    cfg = config or DEFAULT_CONFIG
    if not cfg.use_cache:
        return None
    folder = Path(cfg.cache_dir) if cfg.cache_dir else _default_cache_dir()
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{CACHE_VERSION}"
    if country is not None:
        key += f"|country={country.upper()}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return folder / f"{path.name}.{digest}.npz"


def _default_cache_dir() -> Path:
    own = os.environ.get("COVERAGE_PLANNER_CACHE")
    if own:
        return Path(own)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "coverage-planner"


def _drop_stale(cached: Path) -> None:
    """Remove older cache entries of the same file name (their source has changed)."""
    stem = cached.name.rsplit(".", 2)[0]
    for old in cached.parent.glob(f"{stem}.*.npz"):
        if old != cached:
            old.unlink(missing_ok=True)


def read_graph(path: Path, *, country: str | None = None) -> nx.MultiDiGraph:
    """Read a network file into an osmnx ``MultiDiGraph`` in EPSG:4326.

    Parameters
    ----------
    path
        A ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``, ``.graphml(.gz)``, ``.gpkg``,
        ``.shp`` or ``.geojson`` file.
    country
        Whose access defaults decide the modes of OSM ways (ISO 3166-1 alpha-2, ``""`` for
        the worldwide ones, see :func:`way_modes`); by default the country at the network's
        centre (:func:`country_at`).

    Returns
    -------
    networkx.MultiDiGraph
        Nodes with ``x``/``y`` (degrees), edges with ``length`` (metres), ``geometry`` and
        ``cp_modes`` (letters of the allowed modes, see :func:`way_modes`).
    """
    name = path.name.lower()
    readers = (
        ((".graphml", ".graphml.gz"), _read_graphml),
        ((".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml"), _read_osm),
        ((".gpkg", ".shp", ".geojson", ".json", ".zip"), _read_centrelines),
    )
    reader = next((r for ends, r in readers if name.endswith(ends)), None)
    if reader is None:
        msg = (
            f"{path}: unknown network format; expected .osm, .osm.bz2, .osm.pbf, "
            ".graphml(.gz), or a road-centre-line .gpkg/.shp/.geojson"
        )
        raise NetworkError(msg)
    try:
        G = _read_osm(path, country=country) if reader is _read_osm else reader(path)
    except NetworkError:
        raise
    except (
        OSError, ValueError, KeyError, RuntimeError, EOFError, TypeError, ParseError,
        nx.NetworkXError, zlib.error,
    ) as exc:  # fmt: skip
        msg = f"{path}: cannot read this network file{_why_unreadable(path, exc)}"
        raise NetworkError(msg) from None
    if G.number_of_edges() == 0:
        msg = f"{path}: the file holds no road or path (0 usable edges)"
        raise NetworkError(msg)
    if _needs_modes(G):
        _add_way_modes(G, country)
    return G


_CENTRELINE_KINDS = {
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".geojson": "GeoJSON file",
    ".json": "GeoJSON file",
    ".zip": "zipped Shapefile",
}


def _why_unreadable(path: Path, exc: BaseException) -> str:
    """The end of a one-line message saying why a network file cannot be read.

    Library messages are kept (they help a bug report) but put on one line, and the
    common cases are said in plain words first: an empty file, corrupt or cut-short
    compressed data, a file that is not the format its name says.
    """
    name = "zlib.error" if isinstance(exc, zlib.error) else type(exc).__name__
    detail = f"{name}: {' '.join(str(exc).split())}"
    lower = path.name.lower()
    packed = "gzip" if lower.endswith(".gz") else "bzip2" if lower.endswith(".bz2") else None
    kind = next((k for end, k in _CENTRELINE_KINDS.items() if lower.endswith(end)), None)
    try:
        empty = path.stat().st_size == 0
    except OSError:
        empty = False
    plain: list[tuple[bool, str]] = [
        (empty, "the file is empty (0 bytes)"),
        (
            packed == "gzip" and "Not a gzipped file" in detail,
            f"it is not gzip-compressed; remove '.gz' from its name ({detail})",
        ),
        (
            packed is not None and isinstance(exc, zlib.error | EOFError | OSError),
            f"its {packed} data is corrupt or cut short ({detail})",
        ),
        (
            lower.endswith(".pbf") and isinstance(exc, RuntimeError),
            f"its PBF data is damaged or cut short ({detail})",
        ),
        (
            kind is not None and "not recognized as" in detail,
            f"it is not a {kind} (GDAL does not recognise its format)",
        ),
        (
            kind == "GeoPackage" and "required GeoPackage tables" in detail,
            f"it is not a GeoPackage ({detail})",
        ),
    ]
    return next((f": {text}" for applies, text in plain if applies), f" ({detail})")


def _needs_modes(G: nx.MultiDiGraph) -> bool:
    """Whether some edge has OSM tags (``highway``) but no ``cp_modes`` worked out yet."""
    return any("highway" in d and "cp_modes" not in d for _, _, d in G.edges(data=True))


def _add_way_modes(G: nx.MultiDiGraph, country: str | None) -> None:
    """Set ``cp_modes`` on edges with OSM tags (e.g. an osmnx GraphML), in place.

    The tags are the edge's attributes (osmnx keeps ``highway``, ``access``, ``bridge``,
    ``tunnel``, ``oneway``...); ``country`` as in :func:`read_graph`.
    """
    if country is None:
        xy = np.asarray([(d["x"], d["y"]) for _, d in G.nodes(data=True)], dtype=float)
        country = country_at(*np.median(xy.reshape(-1, 2), axis=0).tolist()) if len(xy) else ""
    G.graph["cp_access_country"] = country
    for _, _, data in G.edges(data=True):
        if "highway" in data and "cp_modes" not in data:
            data["cp_modes"] = _modes_of_edge(data, country)


def _modes_of_edge(data: dict[str, Any], country: str) -> str | list[str]:
    """Mode letters of an edge from its OSM tags; a list where simplification merged ways."""
    scalar = {k: str(v).lower() for k, v in data.items() if isinstance(v, (str, bool, int))}
    highways = data["highway"] if isinstance(data["highway"], list) else [data["highway"]]
    # (osmnx stores oneway as a bool; OSM's value is "yes")
    if isinstance(data.get("oneway"), bool):
        scalar["oneway"] = "yes" if data["oneway"] else "no"
    out = [way_modes({**scalar, "highway": str(h)}, country=country) for h in highways]
    return out[0] if len(out) == 1 else out


def _read_graphml(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox  # noqa: PLC0415 (heavy import, only when needed)

    if path.name.lower().endswith(".gz"):
        with tempfile.TemporaryDirectory() as tmp:
            plain = Path(tmp) / "network.graphml"
            with gzip.open(path, "rb") as src, plain.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            G = ox.load_graphml(plain)
    else:
        G = ox.load_graphml(path)
    return _to_lonlat(G)


def _to_lonlat(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    crs = G.graph.get("crs", "epsg:4326")
    if pyproj.CRS(crs).to_epsg() != 4326:  # noqa: PLR2004
        import osmnx as ox  # noqa: PLC0415

        G = ox.project_graph(G, to_latlong=True)
    return G


@contextlib.contextmanager
def _osmnx_way_tags(extra: list[str]) -> Iterator[None]:
    """Temporarily add way tags to the ones osmnx keeps as edge attributes."""
    import osmnx as ox  # noqa: PLC0415

    before = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = before + [t for t in extra if t not in before]
    try:
        yield
    finally:
        ox.settings.useful_tags_way = before


def _read_osm(path: Path, *, country: str | None = None) -> nx.MultiDiGraph:
    """Read an OSM file with pyosmium, keep highway ways, and build the graph with osmnx.

    The modes of each way (:func:`way_modes`) follow the defaults of ``country``, or of the
    country at the centre of the file's highway nodes (:func:`country_at`) when not given.
    """
    import osmnx as ox  # noqa: PLC0415

    name = path.name.lower()
    with tempfile.TemporaryDirectory() as tmp:
        src = path
        if name.endswith((".osm.bz2", ".osm.gz")):
            # pyosmium reads compressed XML too, but decompressing first keeps errors clear.
            src = Path(tmp) / "input.osm"
            opener = bz2.open if name.endswith(".bz2") else gzip.open
            with opener(path, "rb") as fin, src.open("wb") as fout:
                shutil.copyfileobj(fin, fout)
        ways, found = _osm_roads(src)
        if not ways:
            msg = f"{path}: no highway ways found (is this an OSM road network?)"
            raise NetworkError(msg)
        if country is None:
            lonlat = np.asarray(list(found.values()), dtype=float).reshape(-1, 2)
            country = country_at(*np.median(lonlat, axis=0).tolist()) if len(lonlat) else ""
        logger.info("%s: access defaults of %s", path, country or "the world (no country rules)")
        xml = Path(tmp) / "roads.osm"
        if not _write_roads(xml, ways, found, country):
            if not any(sum(r in found for r in refs) >= 2 for _, refs, _ in ways):  # noqa: PLR2004
                msg = (
                    f"{path}: none of its {len(ways)} highway ways has two of its nodes in the "
                    "file (an extract without its nodes?)"
                )
            else:
                msg = f"{path}: no road or path in this file may be used by any mode"
            raise NetworkError(msg)
        with _osmnx_way_tags(["cp_modes", "cp_bike_twoway"]):
            G = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
    G = ox.simplify_graph(G, edge_attrs_differ=["cp_modes", "highway"])
    G.graph["source"] = str(path)
    G.graph["license"] = "ODbL-1.0, (c) OpenStreetMap contributors"
    G.graph["cp_access_country"] = country
    return G


def _osm_roads(
    src: Path,
) -> tuple[list[tuple[int, list[int], dict[str, str]]], dict[int, tuple[float, float]]]:
    """The road and path ways of an OSM file (id, node ids, tags) and their nodes' lon/lat."""
    import osmium  # noqa: PLC0415

    ways: list[tuple[int, list[int], dict[str, str]]] = []
    wanted: set[int] = set()
    for w in osmium.FileProcessor(str(src), osmium.osm.WAY):
        if not isinstance(w, osmium.osm.Way) or len(w.nodes) < 2:  # noqa: PLR2004
            continue
        if _is_road(w.tags.get("highway") or "", w.tags.get("area") or ""):
            refs = [n.ref for n in w.nodes]
            ways.append((w.id, refs, dict(w.tags)))
            wanted.update(refs)
    found: dict[int, tuple[float, float]] = {}
    for n in osmium.FileProcessor(str(src), osmium.osm.NODE):
        if isinstance(n, osmium.osm.Node) and n.id in wanted and n.location.valid():
            found[n.id] = (n.lon, n.lat)
    return ways, found


def _write_roads(
    xml: Path,
    ways: list[tuple[int, list[int], dict[str, str]]],
    found: dict[int, tuple[float, float]],
    country: str,
) -> int:
    """Write the ways some mode may use (with ``cp_modes``) and their nodes; how many ways."""
    import osmium  # noqa: PLC0415

    keep = ["highway", "name", "oneway", "junction", "access", "ref", "maxspeed"]
    kept: list[tuple[int, list[int], dict[str, str]]] = []
    used: set[int] = set()
    for wid, refs, tags in ways:
        modes = way_modes(tags, country=country)
        present = [r for r in refs if r in found]
        if not modes or len(present) < 2:  # noqa: PLR2004  (a truncated extract cuts ways)
            continue
        out = {k: tags[k] for k in keep if k in tags}
        if tags.get("oneway:bicycle") == "no" or tags.get("cycleway") == "opposite":
            out["cp_bike_twoway"] = "yes"
        out["cp_modes"] = modes
        kept.append((wid, present, out))
        used.update(present)
    with osmium.SimpleWriter(str(xml)) as writer:
        for nid in sorted(used):
            writer.add_node(osmium.osm.mutable.Node(id=nid, location=found[nid], tags={}))
        for wid, present, out in kept:
            writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=present, tags=out))
    return len(kept)


def _read_centrelines(path: Path) -> nx.MultiDiGraph:
    """Build a graph from road centre lines joined at their end points."""
    # GDAL warns about what it skips or doubts (a SQLite file named .gpkg: "bad
    # application_id"); the error that follows, if any, names the file. Log, do not print.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            lines = gpd.read_file(path, engine="pyogrio")
        finally:
            for w in caught:
                logger.info("%s: %s: %s", path, w.category.__name__, w.message)
    if lines.crs is None:
        msg = f"{path}: the road-centre-line file has no CRS"
        raise NetworkError(msg)
    lines = lines[~lines.geometry.isna() & ~lines.geometry.is_empty]
    lines = lines.explode(index_parts=False)
    lines = lines[lines.geom_type == "LineString"].to_crs(4326)
    if lines.empty:
        msg = f"{path}: no line geometries (road centre lines) found"
        raise NetworkError(msg)
    coords = shapely.get_coordinates(lines.geometry.values)
    counts = shapely.get_num_coordinates(lines.geometry.values)
    ends = np.cumsum(counts) - 1
    starts = ends - counts + 1
    key_xy = np.round(np.vstack([coords[starts], coords[ends]]), 7)
    uniq, inverse = np.unique(key_xy, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    n = len(lines)
    u_idx, v_idx = inverse[:n], inverse[n:]
    G = nx.MultiDiGraph(crs="epsg:4326", source=str(path))
    for i, (x, y) in enumerate(uniq):
        G.add_node(i, x=float(x), y=float(y))
    geod = pyproj.Geod(ellps="WGS84")
    oneway = (
        lines["oneway"].astype(str).str.lower().isin({"true", "1", "yes", "t"}).to_numpy()
        if "oneway" in lines.columns
        else np.zeros(n, dtype=bool)
    )
    names = lines["name"].astype(str).to_numpy() if "name" in lines.columns else None
    speeds = lines["speed_kph"].to_numpy(float) if "speed_kph" in lines.columns else None
    hw = lines["highway"].astype(str).to_numpy() if "highway" in lines.columns else None
    for i, geom in enumerate(lines.geometry.values):
        length = float(geod.geometry_length(geom))
        attrs: dict[str, Any] = {
            "length": length,
            "geometry": geom,
            "cp_modes": way_modes({"highway": hw[i]}) if hw is not None else "wbd",
            "oneway": bool(oneway[i]),
        }
        if names is not None:
            attrs["name"] = names[i]
        if speeds is not None and np.isfinite(speeds[i]):
            attrs["speed_kph"] = float(speeds[i])
        u, v = int(u_idx[i]), int(v_idx[i])
        G.add_edge(u, v, **attrs)
        if not oneway[i]:
            back = dict(attrs, geometry=geom.reverse(), reversed=True)
            G.add_edge(v, u, **back)
    return G


def _edge_allows(data: dict[str, Any], mode: str) -> bool:
    """Whether an edge (with its attributes) may be used by a mode."""
    modes = data.get("cp_modes")
    if modes is not None:
        if isinstance(modes, list):  # merged by simplification: every part must allow it
            return all(_MODE_LETTER[mode] in m for m in modes)
        return _MODE_LETTER[mode] in str(modes)
    osrm = data.get("osrm_class")
    if osrm is not None:
        classes = set(osrm) if isinstance(osrm, list) else {osrm}
        if mode == "drive":
            return "restricted" not in classes
        return not classes & {"motorway", "tunnel"}
    if data.get("highway") is not None:  # OSM tags, no country known: worldwide defaults
        letters = _modes_of_edge(data, "")
        letters = letters if isinstance(letters, list) else [letters]
        return all(_MODE_LETTER[mode] in m for m in letters)
    return True


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


def _coord_starts(table: EdgeTable) -> NDArray[np.int64]:
    """Offsets of each edge's coordinates in ``table.geom_coords`` (``n_edges + 1`` values)."""
    counts = np.bincount(table.geom_index, minlength=len(table.u))
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _gather_coords(
    table: EdgeTable, starts: NDArray[np.int64], edges: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Coordinates (degrees) of the given edges, in that order, and the offset of each."""
    counts = starts[edges + 1] - starts[edges]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    pos = np.repeat(starts[edges] - offsets[:-1], counts) + np.arange(offsets[-1])
    return table.geom_coords[pos], offsets


def build_routing(  # noqa: PLR0915 (one straight pipeline, kept in one place)
    table: EdgeTable | nx.MultiDiGraph, *, config: Config | None = None, source: str = "graph"
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
    keep = np.flatnonzero(table.modes & _MODE_BIT[mode])
    if len(keep) == 0:
        msg = f"{source}: no road or path in this network may be used for mode {mode!r}"
        raise NetworkError(msg)
    if len(table.geom_index) > 1 and bool(np.any(np.diff(table.geom_index) < 0)):
        table = _sorted_coords(table)
    starts = _coord_starts(table)
    u_arr, v_arr = table.u[keep], table.v[keep]
    length_m = table.length_m[keep].copy()
    no_len = np.flatnonzero(~np.isfinite(length_m))
    if len(no_len):  # measured on the metric geometry
        ll, offsets = _gather_coords(table, starts, keep[no_len])
        xy = np.column_stack(to_m.transform(ll[:, 0], ll[:, 1]))
        index = np.repeat(np.arange(len(no_len)), np.diff(offsets))
        length_m[no_len] = shapely.length(shapely.linestrings(xy, indices=index))
    speeds = table.speed_kph[keep] if mode == "drive" else np.full(len(keep), np.nan)
    speeds = np.where(np.isfinite(speeds), speeds, speed_kph)
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
    ll, seg_xy_start = _gather_coords(table, starts, seg_edge)
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


def _sorted_coords(table: EdgeTable) -> EdgeTable:
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


#: Version of the routing-view cache layout; bump when Network's stored arrays change.
ROUTING_VERSION = 2

_ROUTING_ARRAYS = (
    "node_ids", "node_xy", "seg_u", "seg_v", "seg_length_m", "seg_fwd_s", "seg_bwd_s",
    "seg_edge", "seg_xy", "seg_xy_start", "component",
)  # fmt: skip


def routing_cache_path(table_path: Path, config: Config | None = None) -> Path:
    """Where the routing view of a cached network is stored, for one mode, speed and CRS.

    The name carries a hash of the cached table file (name, size, modification time), the
    mode, its speed and the configured metric CRS, so a changed network or another mode or
    speed gets its own file; the same key is stored inside the file and checked on reading.

    Parameters
    ----------
    table_path
        The network's cached :class:`EdgeTable` (``.npz``, see :meth:`EdgeTable.save`).
    config
        ``mode``, ``speeds_kph`` and ``metric_crs`` are used.

    Returns
    -------
    pathlib.Path
        The routing cache file (next to ``table_path``).
    """
    cfg = config or DEFAULT_CONFIG
    key = _routing_key(table_path, cfg)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return table_path.with_name(f"{table_path.name}.{cfg.mode}.{digest}.routing.npz")


def _routing_key(table_path: Path, cfg: Config) -> str:
    st = table_path.stat()
    return json.dumps({
        "table": [table_path.name, st.st_size, st.st_mtime_ns, CACHE_VERSION],
        "mode": cfg.mode, "speed_kph": float(cfg.speed_kph), "metric_crs": cfg.metric_crs,
        "version": ROUTING_VERSION,
    }, sort_keys=True)  # fmt: skip


def _save_routing(net: Network, path: Path, key: str) -> None:
    """Write the routing view's arrays to one ``.npz`` file (no pickles), atomically."""
    arrays: dict[str, Any] = {k: getattr(net, k) for k in _ROUTING_ARRAYS}
    csr = net.csr
    arrays |= {"csr_data": csr.data, "csr_indices": csr.indices, "csr_indptr": csr.indptr}
    arrays["meta"] = np.asarray(json.dumps(
        {"key": key, "mode": net.mode, "speed_kph": net.speed_kph, "crs": net.crs,
         "loop_roads": net.loop_roads}
    ))  # fmt: skip
    atomic_write(path, lambda tmp: _savez(tmp, arrays))
    for old in path.parent.glob(path.name.rsplit(".", 3)[0] + ".*.routing.npz"):
        if old != path:
            old.unlink(missing_ok=True)


def _savez(path: Path, arrays: dict[str, Any]) -> None:
    """Numpy arrays into one ``.npz`` file (no pickles)."""
    with path.open("wb") as fh:
        np.savez(fh, **arrays)


def _load_routing(path: Path, key: str, table_path: Path, source: str) -> Network | None:
    """The routing view stored by :func:`_save_routing`, or ``None`` if it is stale."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("key") != key:
            return None
        kw = {k: z[k] for k in _ROUTING_ARRAYS}
        n = len(kw["node_ids"])
        csr = sp.csr_matrix((z["csr_data"], z["csr_indices"], z["csr_indptr"]), shape=(n, n))
    return Network(
        mode=str(meta["mode"]), speed_kph=float(meta["speed_kph"]), crs=str(meta["crs"]),
        loop_roads=int(meta["loop_roads"]), csr=csr, source=source, _table_path=table_path, **kw,
    )  # fmt: skip


def load_cached_network(
    table_path: Path, *, config: Config | None = None, source: str | None = None
) -> Network:
    """Read a cached network and its routing view (a planner's second run of a network).

    The routing view for the configured mode, speed and metric CRS is read from its cache
    file (:func:`routing_cache_path`) when there is one for this table; otherwise the table
    is read, :func:`build_routing` builds the view, and the view is written to the cache for
    the next run. The edge table itself is then read only when something needs it
    (:attr:`Network.table`, ``G``, ``seg_name``, another mode).

    Parameters
    ----------
    table_path
        The network's cached :class:`EdgeTable` (``.npz``).
    config
        Mode, speeds and metric CRS.
    source
        Description of where the network came from (defaults to ``table_path``).

    Returns
    -------
    Network
        The routing view.
    """
    cfg = config or DEFAULT_CONFIG
    src = source if source is not None else str(table_path)
    key = _routing_key(table_path, cfg)
    path = routing_cache_path(table_path, cfg)
    if path.exists():
        try:
            net = _load_routing(path, key, table_path, src)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring unreadable routing cache %s (%s)", path, exc)
        else:
            if net is not None:
                logger.info("routing view read from cache %s", path)
                return net
    net = build_routing(EdgeTable.load(table_path), config=cfg, source=src)
    _try_save_routing(net, table_path, cfg)
    return net


def _try_save_routing(net: Network, table_path: Path, cfg: Config) -> None:
    try:
        _save_routing(net, routing_cache_path(table_path, cfg), _routing_key(table_path, cfg))
    except OSError as exc:
        logger.warning("cannot write the routing cache next to %s (%s)", table_path, exc)


def download_network(
    query: str | tuple[float, float, float, float],
    *,
    mode: Mode | None = None,
    config: Config | None = None,
) -> Network:
    """Download a network from OpenStreetMap with osmnx (needs an internet connection).

    Parameters
    ----------
    query
        A place name (e.g. ``"西湖区, 杭州市"``) or a bbox ``(west, south, east, north)`` in
        degrees, EPSG:4326.
    mode
        Travel mode; defaults to ``config.mode``.
    config
        Speeds and metric CRS.

    Returns
    -------
    Network
        The downloaded graph and its routing view.
    """
    import osmnx as ox  # noqa: PLC0415

    cfg = config or DEFAULT_CONFIG
    if mode is not None:
        cfg = cfg.replace(mode=mode)
    with _osmnx_way_tags([
        "foot", "bicycle", "vehicle", "motor_vehicle", "motorcar", "motorroad", "layer",
        "sidewalk",
    ]):  # fmt: skip
        try:
            if isinstance(query, str):
                G = ox.graph_from_place(query, network_type="all", retain_all=True)
            else:
                G = ox.graph_from_bbox(query, network_type="all", retain_all=True)
        except Exception as exc:  # osmnx raises many kinds of errors for network failures
            msg = f"cannot download the network for {query!r}: {exc}"
            raise NetworkError(msg) from exc
    _add_way_modes(G, None)  # (the country at the downloaded network's centre)
    for _, _, data in G.edges(data=True):
        data.setdefault("cp_modes", "wbd")
    return build_routing(G, config=cfg, source=f"osmnx:{query}")
