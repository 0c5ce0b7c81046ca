"""Loading a network: from a file (through the cache), an osmnx graph, or a download."""

from __future__ import annotations

import logging
from pathlib import Path

import networkx as nx

from coverage._errors import NetworkError
from coverage.config import DEFAULT_CONFIG, Config, Mode
from coverage.network._cache import cache_path, drop_stale, load_cached_network, try_save_routing
from coverage.network._readers import (
    add_way_modes,
    needs_modes,
    osmnx_way_tags,
    read_table,
    to_lonlat,
)
from coverage.network._routing import Network, build_routing
from coverage.network._table import EdgeTable

logger = logging.getLogger(__name__)


def load_network(
    source: str | Path | nx.MultiDiGraph,
    *,
    mode: Mode | None = None,
    config: Config | None = None,
    country: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
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
    bbox
        OpenStreetMap files only: read just this part of the file, ``(min lon, min lat,
        max lon, max lat)``, degrees (EPSG:4326), e.g. a district's outline plus the batch
        buffer, so a province extract needs the memory of the part only. Clipping the part
        to an area inside the box gives what clipping the whole network gives (see
        :func:`read_osm_table`). Cached apart from the whole file.

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
    cached = cache_path(path, cfg, country=country, bbox=bbox)
    if cached is not None and cached.exists():
        try:
            net = load_cached_network(cached, config=cfg, source=str(path))
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring unreadable network cache %s (%s)", cached, exc)
        else:
            logger.info("network read from cache %s", cached)
            return net
    table, G = read_table(path, country=country, bbox=bbox)
    net = build_routing(table, config=cfg, source=str(path))
    if cached is not None and _save_table(table, cached, keep_others=bbox is not None):
        net.table_path = cached
        try_save_routing(net, cached, cfg)
    if G is not None:
        net._G = G  # noqa: SLF001
    return net


def _save_table(table: EdgeTable, cached: Path, *, keep_others: bool = False) -> bool:
    """Write a freshly read table to the cache; whether it was.

    Other entries of the same file name are stale (their source changed) and go first, except
    beside a part of a file (``keep_others``): the parts of one province file, and the whole,
    are cached side by side.
    """
    try:
        if not keep_others:
            drop_stale(cached)
        table.save(cached)
    except OSError as exc:
        logger.warning("cannot write the network cache %s (%s)", cached, exc)
        return False
    return True


def _load_graph(source: nx.MultiDiGraph, cfg: Config, country: str | None) -> Network:
    """:func:`load_network` of a graph in memory (never changed: modes go on a copy)."""
    G = to_lonlat(source)
    if needs_modes(G):  # OSM tags without modes: work them out on a copy
        G = G.copy()
        add_way_modes(G, country)
    net = build_routing(EdgeTable.from_graph(G), config=cfg, source="graph")
    net._G = G  # noqa: SLF001
    return net


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
    with osmnx_way_tags(
        [
            "foot",
            "bicycle",
            "vehicle",
            "motor_vehicle",
            "motorcar",
            "motorroad",
            "layer",
            "sidewalk",
        ]
    ):
        try:
            if isinstance(query, str):
                G = ox.graph_from_place(query, network_type="all", retain_all=True)
            else:
                G = ox.graph_from_bbox(query, network_type="all", retain_all=True)
        except Exception as exc:  # osmnx raises many kinds of errors for network failures
            msg = f"cannot download the network for {query!r}: {exc}"
            raise NetworkError(msg) from exc
    add_way_modes(G, None)  # (the country at the downloaded network's centre)
    for _, _, data in G.edges(data=True):
        data.setdefault("cp_modes", "wbd")
    return build_routing(G, config=cfg, source=f"osmnx:{query}")
