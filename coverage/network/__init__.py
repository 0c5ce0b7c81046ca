"""Road and path networks: loading, mode filters and the compact routing view.

:func:`load_network` reads a network once and returns a :class:`Network`: the osmnx
``MultiDiGraph`` (EPSG:4326, kept for display) plus a routing view built once for one travel
mode: node coordinates in a metric CRS, the road *segments* used for snapping (one per road
piece, with the travel time in each direction it may be travelled), and a
``scipy.sparse.csr_matrix`` of travel times in seconds for
:mod:`scipy.sparse.csgraph` shortest paths.

Accepted sources
----------------
- OpenStreetMap files: ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``, read in one
  streaming pass with pyosmium straight into arrays (:func:`read_osm_table`: highway ways
  kept, per way the modes that may use it worked out from its tags, shape-only nodes joined
  as osmnx's ``simplify_graph`` joins them; no XML and no graph on the way).
  :func:`read_graph` still builds the osmnx graph of such a file for those who want one
  (``osmnx.graph_from_xml``); both give the same network (tested). osmnx GraphML files and
  graphs whose edges carry OSM tags get their modes the same way.
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

Package layout: ``_load`` (:func:`load_network`, :func:`download_network`), ``_readers``
(file formats), ``_osm`` (OSM files straight into arrays), ``_modes`` (which modes may use
a road), ``_table`` (:class:`EdgeTable`), ``_routing`` (:class:`Network`,
:func:`build_routing`), ``_cache`` (the on-disk caches), ``_clip`` (a district's part of a
network).
"""

from coverage.network._cache import (
    cache_path,
    load_cached_network,
    memo_arrays,
    routing_cache_path,
)
from coverage.network._clip import (
    DEFAULT_BUFFER_M,
    clip_config,
    clip_network,
    clip_to_area,
    metric_area,
    network_source,
)
from coverage.network._load import download_network, load_network
from coverage.network._modes import (
    ACCESS_ALLOW,
    ACCESS_DENY,
    COUNTRY_BOXES,
    COUNTRY_CLOSED,
    MODE_BIT,
    country_at,
    is_road,
    way_modes,
)
from coverage.network._osm import OSM_SUFFIXES, read_osm_table, read_osm_way
from coverage.network._readers import read_graph, read_table
from coverage.network._routing import Network, build_routing, utm_crs
from coverage.network._table import CACHE_VERSION, EdgeTable, sorted_coords

__all__ = [
    "ACCESS_ALLOW",
    "ACCESS_DENY",
    "CACHE_VERSION",
    "COUNTRY_BOXES",
    "COUNTRY_CLOSED",
    "DEFAULT_BUFFER_M",
    "MODE_BIT",
    "OSM_SUFFIXES",
    "EdgeTable",
    "Network",
    "build_routing",
    "cache_path",
    "clip_config",
    "clip_network",
    "clip_to_area",
    "country_at",
    "download_network",
    "is_road",
    "load_cached_network",
    "load_network",
    "memo_arrays",
    "metric_area",
    "network_source",
    "read_graph",
    "read_osm_table",
    "read_osm_way",
    "read_table",
    "routing_cache_path",
    "sorted_coords",
    "utm_crs",
    "way_modes",
]
