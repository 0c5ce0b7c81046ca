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
  then the graph is built by :func:`osmnx.graph_from_xml`).
- osmnx GraphML: ``.graphml`` or ``.graphml.gz``.
- Road centre lines: a GeoPackage, Shapefile or GeoJSON of (multi)line strings; lines meeting
  at an end point are joined there (bridges and tunnels that cross without sharing an end point
  stay apart). Optional columns: ``oneway`` (bool), ``speed_kph``, ``highway``.
- An :class:`networkx.MultiDiGraph` built by osmnx (e.g. from :func:`osmnx.graph_from_place`).
- Online, with an internet connection only: :func:`download_network` (a place name or a bbox).

Mode rules
----------
- *walk*: every way except motorways, motorway links, trunk links and ways tagged
  ``foot=no`` or (without ``foot=yes``) ``access=no|private``. One-way rules do not apply.
- *bike* / *ebike*: no motorways, steps, or foot-only ways (footway, pedestrian, path, corridor
  without ``bicycle=yes|designated``); one-way rules apply unless ``oneway:bicycle=no``.
- *drive*: no footway, path, pedestrian, steps, cycleway, bridleway, corridor, or ways with
  ``access|motor_vehicle|motorcar=no|private``; one-way rules apply.
- Networks without highway tags (the bundled OSRM-derived Hangzhou car network): the
  ``osrm_class`` values ``motorway`` and ``tunnel`` are closed to walking and cycling (urban
  tunnels under West Lake and the city are car-only), ``restricted`` is closed to driving.

Disconnected pieces are kept; points on a piece without a hall are reported as unreachable by
the audit, with the size of their piece.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import ParseError

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from coverage._errors import NetworkError
from coverage.config import DEFAULT_CONFIG, MODES, Config, Mode

if TYPE_CHECKING:
    from collections.abc import Iterator

    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

#: Letters of the modes in the per-edge ``cp_modes`` attribute.
_MODE_LETTER = {"walk": "w", "bike": "b", "ebike": "b", "drive": "d"}

_NOT_ROADS = {
    "construction", "proposed", "abandoned", "platform", "raceway", "razed", "disused",
    "bus_stop", "elevator", "rest_area", "services", "emergency_bay", "no",
}  # fmt: skip
_NO_WALK = {"motorway", "motorway_link", "trunk_link"}
_FOOT_ONLY = {"footway", "pedestrian", "path", "corridor", "steps"}
_NO_DRIVE = {"footway", "path", "pedestrian", "steps", "cycleway", "bridleway", "corridor"}
_NO = {"no", "private"}
_YES = {"yes", "designated", "permissive"}


def way_modes(tags: dict[str, str]) -> str:
    """Work out which travel modes may use an OSM way, from its tags.

    Parameters
    ----------
    tags
        The way's OSM tags.

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
    """
    hw = tags.get("highway", "")
    if not hw or hw in _NOT_ROADS or tags.get("area") == "yes":
        return ""
    access = tags.get("access", "")
    modes = ""
    foot = tags.get("foot", "")
    if hw not in _NO_WALK and foot not in _NO and (access not in _NO or foot in _YES):
        modes += "w"
    bicycle = tags.get("bicycle", "")
    bike_ok = hw not in {"motorway", "motorway_link", "steps"} and (
        hw not in _FOOT_ONLY or bicycle in _YES
    )
    if bike_ok and bicycle not in _NO and (access not in _NO or bicycle in _YES):
        modes += "b"
    motor = tags.get("motor_vehicle", tags.get("motorcar", ""))
    if hw not in _NO_DRIVE and access not in _NO and motor not in _NO:
        modes += "d"
    return modes


@dataclass
class Network:
    """A road network with its routing view for one travel mode.

    Attributes
    ----------
    G
        The osmnx ``MultiDiGraph`` in EPSG:4326 (for display; not used for routing).
    mode
        Travel mode of the routing view.
    speed_kph
        Travel speed of the mode, km/h (edges with their own ``speed_kph`` keep it when driving).
    crs
        Metric CRS of ``node_xy`` and ``seg_geom`` (a UTM zone unless configured).
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
    seg_geom
        Segment geometries (LineString) in ``crs``.
    seg_name
        Street names of the segments (may be empty strings).
    csr
        Travel times in seconds, ``csr[i, j]`` for the edge from node ``i`` to node ``j``
        (the minimum over parallel edges).
    component
        Weakly connected component label of each node.
    source
        Where the network came from (a path or a description).
    """

    G: nx.MultiDiGraph
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
    seg_geom: NDArray[np.object_]
    seg_name: NDArray[np.object_]
    csr: sp.csr_matrix
    component: NDArray[np.int64]
    source: str
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _tree: shapely.STRtree | None = field(default=None, repr=False)
    _csr_t: sp.csr_matrix | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of routing nodes."""
        return len(self.node_ids)

    @property
    def tree(self) -> shapely.STRtree:
        """Spatial index of the segments (built on first use)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.seg_geom)
        return self._tree

    @property
    def csr_reversed(self) -> sp.csr_matrix:
        """The transposed travel-time matrix: ``[i, j]`` is the edge from ``j`` to ``i``."""
        if self._csr_t is None:
            self._csr_t = self.csr.T.tocsr()
        return self._csr_t

    @property
    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """Bounding box of the nodes, (min lon, min lat, max lon, max lat), EPSG:4326."""
        xs = np.fromiter((d["x"] for _, d in self.G.nodes(data=True)), float)
        ys = np.fromiter((d["y"] for _, d in self.G.nodes(data=True)), float)
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())

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
        return build_routing(self.G, config=cfg, source=self.source)

    def summary(self) -> dict[str, Any]:
        """Headline figures of the routing view (nodes, segments, km, components)."""
        sizes = np.bincount(self.component)
        return {
            "source": self.source,
            "mode": self.mode,
            "speed_kph": self.speed_kph,
            "nodes": self.n_nodes,
            "segments": len(self.seg_u),
            "length_km": round(float(self.seg_length_m.sum()) / 1000, 1),
            "components": len(sizes),
            "largest_component_nodes": int(sizes.max()) if len(sizes) else 0,
        }


def load_network(
    source: str | Path | nx.MultiDiGraph,
    *,
    mode: Mode | None = None,
    config: Config | None = None,
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
        return build_routing(_to_lonlat(source), config=cfg, source="graph")
    path = Path(source)
    if not path.exists():
        msg = f"{path}: network file not found"
        raise NetworkError(msg)
    G = read_graph(path)
    return build_routing(G, config=cfg, source=str(path))


def read_graph(path: Path) -> nx.MultiDiGraph:
    """Read a network file into an osmnx ``MultiDiGraph`` in EPSG:4326.

    Parameters
    ----------
    path
        A ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``, ``.graphml(.gz)``, ``.gpkg``,
        ``.shp`` or ``.geojson`` file.

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
        G = reader(path)
    except NetworkError:
        raise
    except (
        OSError, ValueError, KeyError, RuntimeError, EOFError, TypeError, ParseError,
        nx.NetworkXError,
    ) as exc:  # fmt: skip
        msg = f"{path}: cannot read this network file ({type(exc).__name__}: {exc})"
        raise NetworkError(msg) from None
    if G.number_of_edges() == 0:
        msg = f"{path}: the file holds no road or path (0 usable edges)"
        raise NetworkError(msg)
    return G


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


def _read_osm(path: Path) -> nx.MultiDiGraph:  # noqa: C901
    """Read an OSM file with pyosmium, keep highway ways, and build the graph with osmnx."""
    import osmium  # noqa: PLC0415
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
        ways: list[tuple[int, list[int], dict[str, str]]] = []
        wanted: set[int] = set()
        keep = ["highway", "name", "oneway", "junction", "access", "ref", "maxspeed"]
        for w in osmium.FileProcessor(str(src), osmium.osm.WAY):
            if not isinstance(w, osmium.osm.Way):
                continue
            tags = dict(w.tags)
            modes = way_modes(tags)
            if not modes or len(w.nodes) < 2:  # noqa: PLR2004
                continue
            refs = [n.ref for n in w.nodes]
            out = {k: tags[k] for k in keep if k in tags}
            if tags.get("oneway:bicycle") == "no" or tags.get("cycleway") == "opposite":
                out["cp_bike_twoway"] = "yes"
            out["cp_modes"] = modes
            ways.append((w.id, refs, out))
            wanted.update(refs)
        if not ways:
            msg = f"{path}: no highway ways found (is this an OSM road network?)"
            raise NetworkError(msg)
        xml = Path(tmp) / "roads.osm"
        found: set[int] = set()
        with osmium.SimpleWriter(str(xml)) as writer:
            for n in osmium.FileProcessor(str(src), osmium.osm.NODE):
                if isinstance(n, osmium.osm.Node) and n.id in wanted and n.location.valid():
                    writer.add_node(
                        osmium.osm.mutable.Node(id=n.id, location=(n.lon, n.lat), tags={})
                    )
                    found.add(n.id)
            for wid, refs, tags in ways:
                present = [r for r in refs if r in found]
                if len(present) >= 2:  # noqa: PLR2004  (a truncated extract cuts ways)
                    writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=present, tags=tags))
        with _osmnx_way_tags(["cp_modes", "cp_bike_twoway"]):
            G = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
    G = ox.simplify_graph(G, edge_attrs_differ=["cp_modes", "highway"])
    G.graph["source"] = str(path)
    G.graph["license"] = "ODbL-1.0, (c) OpenStreetMap contributors"
    return G


def _read_centrelines(path: Path) -> nx.MultiDiGraph:
    """Build a graph from road centre lines joined at their end points."""
    lines = gpd.read_file(path, engine="pyogrio")
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
    hw = data.get("highway")
    if hw is not None:
        values = hw if isinstance(hw, list) else [hw]
        return all(_MODE_LETTER[mode] in way_modes({"highway": str(h)}) for h in values)
    return True


def _utm_crs(lon: float, lat: float) -> str:
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def build_routing(  # noqa: PLR0915 (one straight pipeline, kept in one place)
    G: nx.MultiDiGraph, *, config: Config | None = None, source: str = "graph"
) -> Network:
    """Build the routing view of a graph for the configured mode.

    Parameters
    ----------
    G
        osmnx ``MultiDiGraph`` in EPSG:4326 (nodes with ``x``, ``y``; edges with ``length`` in
        metres and optionally ``geometry``, ``oneway``, ``speed_kph``, ``cp_modes``).
    config
        Mode, speeds and metric CRS.
    source
        Description of where ``G`` came from, for messages.

    Returns
    -------
    Network
        The routing view.

    Raises
    ------
    NetworkError
        If no edge is usable by the mode.
    """
    cfg = config or DEFAULT_CONFIG
    mode = cfg.mode
    if mode not in MODES:
        msg = f"unknown mode {mode!r}; expected one of {', '.join(MODES)}"
        raise NetworkError(msg)
    speed_kph = cfg.speed_kph
    node_ids = np.array(list(G.nodes), dtype=object)
    try:
        lon = np.fromiter((G.nodes[n]["x"] for n in node_ids), float, len(node_ids))
        lat = np.fromiter((G.nodes[n]["y"] for n in node_ids), float, len(node_ids))
    except KeyError:
        msg = f"{source}: graph nodes need 'x' and 'y' coordinates (EPSG:4326)"
        raise NetworkError(msg) from None
    if len(node_ids) == 0:
        msg = f"{source}: the network has no nodes"
        raise NetworkError(msg)
    crs = cfg.metric_crs or _utm_crs(float(np.median(lon)), float(np.median(lat)))
    to_m = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_m.transform(lon, lat)
    node_xy = np.column_stack([x, y])
    index = {n: i for i, n in enumerate(node_ids)}

    # One record per directed edge usable by the mode; self-loops never shorten a route.
    rec_u: list[int] = []
    rec_v: list[int] = []
    rec_len: list[float] = []
    rec_speed: list[float] = []
    rec_geom: list[Any] = []
    rec_name: list[str] = []
    bike_twoway: list[bool] = []
    for u, v, data in G.edges(data=True):
        if u == v or not _edge_allows(data, mode):
            continue
        rec_u.append(index[u])
        rec_v.append(index[v])
        length = data.get("length")
        rec_len.append(float(length) if length is not None else np.nan)
        sp_kph = data.get("speed_kph") if mode == "drive" else None
        rec_speed.append(float(sp_kph) if sp_kph is not None else speed_kph)
        rec_geom.append(data.get("geometry"))
        name = data.get("name", "")
        rec_name.append(" / ".join(map(str, name)) if isinstance(name, list) else str(name or ""))
        bike_twoway.append(_truthy(data.get("cp_bike_twoway", False)))
    if not rec_u:
        msg = f"{source}: no road or path in this network may be used for mode {mode!r}"
        raise NetworkError(msg)
    u_arr = np.asarray(rec_u, dtype=np.int64)
    v_arr = np.asarray(rec_v, dtype=np.int64)
    geoms = np.asarray(rec_geom, dtype=object)
    missing = np.array([g is None for g in rec_geom])
    if missing.any():
        pts = np.column_stack([lon, lat])
        geoms[missing] = shapely.linestrings(
            np.stack([pts[u_arr[missing]], pts[v_arr[missing]]], axis=1)
        )
    geoms_m = shapely.transform(geoms, lambda c: np.column_stack(to_m.transform(c[:, 0], c[:, 1])))
    length_m = np.asarray(rec_len, dtype=float)
    no_len = ~np.isfinite(length_m)
    length_m[no_len] = shapely.length(geoms_m[no_len])
    time_s = length_m / (np.asarray(rec_speed) / 3.6)

    # Segments: pair each edge with its reverse twin (same end nodes, same length), so that a
    # point snapped to a two-way road can leave it in both directions.
    seg = _pair_segments(u_arr, v_arr, length_m)
    # A lone direction is open both ways on foot, and by bike where the way allows it
    # (oneway:bicycle=no); other modes keep the graph's one-way topology.
    if mode == "walk":
        two_way = np.ones(len(u_arr), dtype=bool)
    elif mode in {"bike", "ebike"}:
        two_way = np.asarray(bike_twoway, dtype=bool)
    else:
        two_way = np.zeros(len(u_arr), dtype=bool)
    fwd = time_s[seg.edge]
    bwd = np.where(seg.twin >= 0, time_s[np.maximum(seg.twin, 0)], np.inf)
    bwd = np.where((seg.twin < 0) & two_way[seg.edge], fwd, bwd)
    s_u, s_v = u_arr[seg.edge], v_arr[seg.edge]

    # CSR of directed travel times, parallel edges reduced to their minimum first
    # (csr_matrix((w, (i, j))) would *add* duplicates).
    both = np.isfinite(bwd)
    rows = np.concatenate([s_u, s_v[both]])
    cols = np.concatenate([s_v, s_u[both]])
    wts = np.concatenate([fwd, bwd[both]])
    csr = _min_csr(rows, cols, wts, len(node_ids))
    _, comp = connected_components(csr, directed=True, connection="weak")
    names = np.asarray(rec_name, dtype=object)[seg.edge]
    net = Network(
        G=G,
        mode=mode,
        speed_kph=speed_kph,
        crs=crs,
        node_ids=node_ids,
        node_xy=node_xy,
        seg_u=s_u,
        seg_v=s_v,
        seg_length_m=length_m[seg.edge],
        seg_fwd_s=fwd,
        seg_bwd_s=bwd,
        seg_geom=geoms_m[seg.edge],
        seg_name=names,
        csr=csr,
        component=comp.astype(np.int64),
        source=source,
    )
    logger.info("routing view for %s: %s", mode, net.summary())
    return net


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
    2 %. Parallel edges are paired shortest with shortest.
    """
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    frame = pd.DataFrame(
        {"lo": lo, "hi": hi, "len": length_m, "fwd": u <= v, "i": np.arange(len(u))}
    )
    frame = frame.sort_values(["lo", "hi", "fwd", "len", "i"])
    frame["n"] = frame.groupby(["lo", "hi", "fwd"]).cumcount()
    a = frame[frame["fwd"]]
    b = frame[~frame["fwd"]]
    m = a.merge(b, on=["lo", "hi", "n"], how="inner", suffixes=("_a", "_b"))
    ok = np.abs(m["len_a"] - m["len_b"]) <= np.maximum(1.0, 0.02 * m["len_a"])
    m = m[ok]
    twin = np.full(len(u), -1, dtype=np.int64)
    twin[m["i_a"].to_numpy()] = m["i_b"].to_numpy()
    is_second = np.zeros(len(u), dtype=bool)
    is_second[m["i_b"].to_numpy()] = True
    edge = np.flatnonzero(~is_second).astype(np.int64)
    return _Pairs(edge=edge, twin=twin[edge])


def _min_csr(
    rows: NDArray[np.int64], cols: NDArray[np.int64], wts: NDArray[np.float64], n: int
) -> sp.csr_matrix:
    """A CSR matrix keeping the minimum weight of duplicate (row, col) entries."""
    order = np.lexsort((wts, cols, rows))
    rows, cols, wts = rows[order], cols[order], wts[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sp.csr_matrix((wts[first], (rows[first], cols[first])), shape=(n, n))


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
    with _osmnx_way_tags(["foot", "bicycle", "motor_vehicle", "motorcar"]):
        try:
            if isinstance(query, str):
                G = ox.graph_from_place(query, network_type="all", retain_all=True)
            else:
                G = ox.graph_from_bbox(query, network_type="all", retain_all=True)
        except Exception as exc:  # osmnx raises many kinds of errors for network failures
            msg = f"cannot download the network for {query!r}: {exc}"
            raise NetworkError(msg) from exc
    for _, _, data in G.edges(data=True):
        tags = {k: data[k] for k in ("highway", "foot", "bicycle", "access", "motor_vehicle")
                if k in data and not isinstance(data[k], list)}  # fmt: skip
        data["cp_modes"] = way_modes(tags) if "highway" in tags else "wbd"
    return build_routing(G, config=cfg, source=f"osmnx:{query}")
