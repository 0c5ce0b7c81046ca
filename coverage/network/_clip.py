"""Clipping a network to a district polygon plus a buffer, with its own routing view."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely

from coverage._errors import InputDataError, NetworkError
from coverage.config import DEFAULT_CONFIG, Config
from coverage.network._routing import Network, build_routing, utm_crs

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from coverage.network._table import EdgeTable

#: Default buffer around a district, metres: people cross district lines to reach a hall.
DEFAULT_BUFFER_M = 2000.0


def clip_config(network: Network | EdgeTable, config: Config | None) -> Config:
    """The configuration that rebuilds ``network``'s routing view on a part of it.

    Parameters
    ----------
    network
        The whole network or its flat arrays.
    config
        Mode and speeds for flat arrays; other settings for both.

    Returns
    -------
    Config
        The routing settings of every part.

    Notes
    -----
    Mode, speed and metric CRS are those of ``network`` when it is a :class:`Network`, so a
    clipped network routes exactly like the whole one. For an :class:`EdgeTable` the mode and
    speeds come from ``config`` and the CRS is ``config.metric_crs`` or the UTM zone of the
    whole table (not of each part, which may fall in another zone).
    """
    cfg = config or DEFAULT_CONFIG
    if isinstance(network, Network):
        speeds = dict(cfg.speeds_kph)
        speeds[network.mode] = network.speed_kph
        return cfg.replace(mode=network.mode, speeds_kph=speeds, metric_crs=network.crs)
    crs = cfg.metric_crs or utm_crs(float(np.median(network.lon)), float(np.median(network.lat)))
    return cfg.replace(metric_crs=crs)


def metric_area(polygon_4326: object, crs: str, buffer_m: float, label: str) -> shapely.Geometry:
    """The polygon projected into ``crs`` and buffered by ``buffer_m`` metres.

    Parameters
    ----------
    polygon_4326
        A polygon in degrees (EPSG:4326); an invalid one is repaired.
    crs
        The metric CRS.
    buffer_m
        Buffer, metres (>= 0).
    label
        Names the polygon in messages.

    Returns
    -------
    shapely.Geometry
        The buffered polygon in ``crs`` (prepared for point tests).

    Raises
    ------
    InputDataError
        If the polygon is empty, not a polygon, not in degrees, or the buffer is negative.
    """
    if not isinstance(buffer_m, int | float) or not np.isfinite(buffer_m) or buffer_m < 0:
        msg = f"{label}: buffer_m must be a number of metres >= 0, got {buffer_m!r}"
        raise InputDataError(msg)
    if not isinstance(polygon_4326, shapely.Geometry):
        msg = f"{label}: the district polygon must be a shapely geometry, got {polygon_4326!r}"
        raise InputDataError(msg)
    geom = polygon_4326
    if geom.is_empty or geom.geom_type not in {"Polygon", "MultiPolygon", "GeometryCollection"}:
        msg = f"{label}: the district polygon is empty or not a polygon ({geom.geom_type})"
        raise InputDataError(msg)
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):  # noqa: PLR2004
        msg = (
            f"{label}: the district polygon's bounds {geom.bounds} are not degrees; "
            "give the polygon in EPSG:4326 (lon, lat)"
        )
        raise InputDataError(msg)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    to_m = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    area = shapely.transform(geom, lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1])))
    if buffer_m > 0:
        area = area.buffer(buffer_m)
    if area.is_empty or area.area <= 0:
        msg = f"{label}: the district polygon has no area"
        raise InputDataError(msg)
    shapely.prepare(area)
    return area


def _nodes_inside(
    network: Network | EdgeTable, area: shapely.Geometry, crs: str
) -> NDArray[np.bool_]:
    """Which nodes (in :class:`EdgeTable` order) lie inside ``area`` (metric, ``crs``).

    A bounding-box test on the raw coordinates picks the candidates first, so the cost of
    the exact test grows with the district, not with the whole network.
    """
    minx, miny, maxx, maxy = area.bounds
    if isinstance(network, Network):
        xy = network.node_xy
        cand = np.flatnonzero(
            (xy[:, 0] >= minx) & (xy[:, 0] <= maxx) & (xy[:, 1] >= miny) & (xy[:, 1] <= maxy)
        )
        x, y = xy[cand, 0], xy[cand, 1]
        n = len(xy)
    else:
        # the area's bounding box in degrees, padded: a straight metric edge is slightly
        # curved in degrees, and the padding (~1 km) is far more than that bulge
        to_ll = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
        ring = shapely.get_coordinates(shapely.segmentize(shapely.envelope(area), 1000.0))
        lon_b, lat_b = to_ll.transform(ring[:, 0], ring[:, 1])
        pad = 0.01
        lon, lat = network.lon, network.lat
        cand = np.flatnonzero(
            (lon >= np.min(lon_b) - pad)
            & (lon <= np.max(lon_b) + pad)
            & (lat >= np.min(lat_b) - pad)
            & (lat <= np.max(lat_b) + pad)
        )
        to_m = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
        x, y = to_m.transform(lon[cand], lat[cand])
        n = len(lon)
    inside = np.zeros(n, dtype=bool)
    inside[cand] = shapely.contains_xy(area, np.asarray(x), np.asarray(y))
    return inside


def clip_to_area(
    network: Network | EdgeTable,
    area: shapely.Geometry,
    cfg: Config,
    label: str,
    buffer_m: float,
    source: str | None = None,
) -> Network:
    """The edges with an end node inside ``area`` (from :func:`metric_area`), routed with ``cfg``.

    Parameters
    ----------
    network
        The whole network or its flat arrays.
    area
        The area, in ``cfg.metric_crs``, metres.
    cfg
        The clipped network's routing settings (:func:`clip_config`).
    label
        Names the part in messages and in the clipped network's ``source``.
    buffer_m
        The buffer ``area`` was made with, metres (for messages).
    source
        Where the whole network came from (default :func:`network_source`).

    Returns
    -------
    Network
        The clipped network and its routing view.
    """
    table = network.table if isinstance(network, Network) else network
    crs = str(cfg.metric_crs)
    inside = _nodes_inside(network, area, crs)
    keep = inside[table.u] | inside[table.v]
    if not keep.any():
        msg = f"{label}: no road of the network lies within {buffer_m:g} m of the district polygon"
        raise NetworkError(msg)
    sub = table.subset(keep)
    if source is None:
        source = network_source(network)
    return build_routing(sub, config=cfg, source=f"{source} [{label} + {buffer_m:g} m]")


def network_source(network: Network | EdgeTable) -> str:
    """Where the network came from (the file name a Network keeps, or the table's meta).

    Parameters
    ----------
    network
        A network or its flat arrays.

    Returns
    -------
    str
        A path or a description.
    """
    if isinstance(network, Network):
        return network.source
    return network.meta.get("source", "table")


def clip_network(
    network: Network | EdgeTable,
    polygon_4326: shapely.Geometry,
    buffer_m: float = DEFAULT_BUFFER_M,
    *,
    config: Config | None = None,
    name: str = "district",
) -> Network:
    """The part of a network within a polygon plus a buffer, with its own routing view.

    An edge is kept when at least one of its end nodes lies inside the buffered polygon
    (so roads leaving the area keep their first stretch); the nodes are those the kept edges
    use. The routing view is built like the whole network's: same mode, speed and metric
    CRS when ``network`` is a :class:`~coverage.network.Network`.

    Parameters
    ----------
    network
        The whole network: a :class:`~coverage.network.Network` or its flat arrays
        (:class:`~coverage.network.EdgeTable`, then mode and speeds come from ``config``).
    polygon_4326
        District polygon (Polygon or MultiPolygon), degrees, EPSG:4326. An invalid polygon
        is repaired with :func:`shapely.make_valid`.
    buffer_m
        Buffer around the polygon, metres (in the network's metric CRS); 0 for none.
    config
        Mode, speeds and metric CRS for an :class:`~coverage.network.EdgeTable`; ignored
        for the routing of a :class:`~coverage.network.Network` (its own are kept).
    name
        District name, for messages and the clipped network's ``source``.

    Returns
    -------
    Network
        The clipped network and its routing view.

    Raises
    ------
    InputDataError
        If the polygon is empty, not a polygon, not in degrees, or ``buffer_m`` < 0.
    NetworkError
        If no road lies within the buffered polygon.

    Examples
    --------
    >>> import shapely
    >>> from coverage.network import load_network
    >>> from coverage.testing import GRID_CRS, grid_graph, grid_xy
    >>> import geopandas as gpd
    >>> net = load_network(grid_graph())  # 5 x 5 nodes, 300 m apart
    >>> west = gpd.GeoSeries([shapely.box(*grid_xy(-0.5, -0.5), *grid_xy(4.5, 1.5))],
    ...                      crs=GRID_CRS).to_crs(4326).iloc[0]  # columns 0 and 1
    >>> clip_network(net, west, 0).n_nodes  # columns 0-2 (edges leaving column 1 kept)
    15
    >>> clip_network(net, west, 400).n_nodes  # the buffer reaches column 2: columns 0-3
    20
    """
    cfg = clip_config(network, config)
    area = metric_area(polygon_4326, str(cfg.metric_crs), buffer_m, name)
    return clip_to_area(network, area, cfg, name, buffer_m)
