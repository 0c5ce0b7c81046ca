"""Reading networks from files: OSM (XML, bz2, gz, PBF), osmnx GraphML, road centre lines."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import logging
import shutil
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import ParseError

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import shapely

from coverage._errors import NetworkError
from coverage._licence import OSM_LICENCE
from coverage.network._modes import country_at, is_road, modes_of_edge, way_modes
from coverage.network._osm import read_osm_table
from coverage.network._table import EdgeTable

if TYPE_CHECKING:
    from collections.abc import Iterator


logger = logging.getLogger(__name__)


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
        (OSM_ENDINGS, _read_osm),
        ((".gpkg", ".shp", ".geojson", ".json", ".zip"), _read_centrelines),
    )
    reader = next((r for ends, r in readers if name.endswith(ends)), None)
    if reader is None:
        msg = (
            f"{path}: unknown network format; expected .osm, .osm.bz2, .osm.pbf, "
            ".graphml(.gz), or a road-centre-line .gpkg/.shp/.geojson"
        )
        raise NetworkError(msg)
    with unreadable(path):
        G = _read_osm(path, country=country) if reader is _read_osm else reader(path)
    if G.number_of_edges() == 0:
        msg = f"{path}: the file holds no road or path (0 usable edges)"
        raise NetworkError(msg)
    if needs_modes(G):
        add_way_modes(G, country)
    return G


#: File name endings of OpenStreetMap files (XML, compressed XML, PBF).
OSM_ENDINGS = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml")


def read_table(
    path: Path,
    *,
    country: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> tuple[EdgeTable, nx.MultiDiGraph | None]:
    """Read a network file into a flat network (and the graph, where one was built).

    OpenStreetMap files are read in one streaming pass straight into arrays
    (:func:`read_osm_table`, no graph); GraphML and road centre lines go through
    :func:`read_graph`.

    Parameters
    ----------
    path
        The network file (formats as in :func:`read_graph`).
    country
        Whose access defaults decide the modes of OSM ways (see :func:`read_graph`).
    bbox
        OSM files only: read just this part, ``(min lon, min lat, max lon, max lat)``,
        degrees (see :func:`read_osm_table`).

    Returns
    -------
    tuple
        The :class:`EdgeTable` and the graph it was made from (``None`` for OSM files).
    """
    if bbox is not None and not path.name.lower().endswith(OSM_ENDINGS):
        msg = f"{path}: reading a part (bbox) works for OpenStreetMap files only"
        raise NetworkError(msg)
    if not path.name.lower().endswith(OSM_ENDINGS):
        G = read_graph(path, country=country)
        return EdgeTable.from_graph(G, source=str(path)), G
    with unreadable(path), plain_osm(path) as src:
        table = read_osm_table(src, country=country, source=str(path), bbox=bbox)
    if len(table.u) == 0:
        msg = f"{path}: the file holds no road or path (0 usable edges)"
        raise NetworkError(msg)
    return table, None


@contextlib.contextmanager
def unreadable(path: Path) -> Iterator[None]:
    """Turn a reader's failure into one :class:`NetworkError` line naming the file."""
    try:
        yield
    except NetworkError:
        raise
    except (
        OSError,
        ValueError,
        KeyError,
        RuntimeError,
        EOFError,
        TypeError,
        ParseError,
        nx.NetworkXError,
        zlib.error,
    ) as exc:
        msg = f"{path}: cannot read this network file{_why_unreadable(path, exc)}"
        raise NetworkError(msg) from None


@contextlib.contextmanager
def plain_osm(path: Path) -> Iterator[Path]:
    """The OSM file itself, or its XML decompressed into a temporary file (``.bz2``/``.gz``).

    pyosmium reads compressed XML too, but decompressing first keeps errors clear.
    """
    name = path.name.lower()
    if not name.endswith((".osm.bz2", ".osm.gz")):
        yield path
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "input.osm"
        opener = bz2.open if name.endswith(".bz2") else gzip.open
        with opener(path, "rb") as fin, src.open("wb") as fout:
            shutil.copyfileobj(fin, fout)
        yield src


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


def needs_modes(G: nx.MultiDiGraph) -> bool:
    """Whether some edge has OSM tags (``highway``) but no ``cp_modes`` worked out yet."""
    return any("highway" in d and "cp_modes" not in d for _, _, d in G.edges(data=True))


def add_way_modes(G: nx.MultiDiGraph, country: str | None) -> None:
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
            data["cp_modes"] = modes_of_edge(data, country)


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
    return to_lonlat(G)


def to_lonlat(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    crs = G.graph.get("crs", "epsg:4326")
    if pyproj.CRS(crs).to_epsg() != 4326:  # noqa: PLR2004
        import osmnx as ox  # noqa: PLC0415

        G = ox.project_graph(G, to_latlong=True)
    return G


@contextlib.contextmanager
def osmnx_way_tags(extra: list[str]) -> Iterator[None]:
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

    with tempfile.TemporaryDirectory() as tmp, plain_osm(path) as src:
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
        with osmnx_way_tags(["cp_modes", "cp_bike_twoway"]):
            G = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
    G = ox.simplify_graph(G, edge_attrs_differ=["cp_modes", "highway"])
    G.graph["source"] = str(path)
    G.graph["license"] = OSM_LICENCE
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
        if is_road(w.tags.get("highway") or "", w.tags.get("area") or ""):
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
