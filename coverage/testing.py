"""A tiny hand-checkable network and frames, for tests, doctests and examples.

The grid is ``n × n`` nodes, ``spacing_m`` apart, laid out in UTM zone 51N (EPSG:32651, where
Hangzhou lies) and returned in EPSG:4326 as osmnx does. Every edge is ``spacing_m`` long, so at
the default walking speed of 4.5 km/h (75 m per minute) and 300 m spacing one edge takes
exactly 4 minutes. Node ``(row, col)`` has the key ``row * n + col``; row 0 is the southern edge
and column 0 the western edge.

Examples
--------
>>> G = grid_graph()
>>> len(G), G.number_of_edges()
(25, 80)
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import shapely

GRID_CRS = "EPSG:32651"
GRID_ORIGIN = (226_000.0, 3_350_000.0)


def grid_xy(row: float, col: float, spacing_m: float = 300.0) -> tuple[float, float]:
    """Metric coordinates (EPSG:32651) of a grid position; fractions are allowed.

    Parameters
    ----------
    row, col
        Grid position; ``(1.5, 2)`` is half-way between nodes ``(1, 2)`` and ``(2, 2)``.
    spacing_m
        Distance between neighbouring nodes, metres.

    Returns
    -------
    tuple of float
        ``(x, y)`` in metres, EPSG:32651.
    """
    return GRID_ORIGIN[0] + col * spacing_m, GRID_ORIGIN[1] + row * spacing_m


def grid_graph(n: int = 5, spacing_m: float = 300.0) -> nx.MultiDiGraph:
    """An ``n × n`` grid street network, two-way everywhere, in EPSG:4326.

    Parameters
    ----------
    n
        Nodes per side.
    spacing_m
        Edge length, metres.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-style graph: nodes with ``x``/``y`` (degrees), edges with ``length`` (metres),
        ``highway="residential"`` and ``name``.
    """
    to_ll = pyproj.Transformer.from_crs(GRID_CRS, 4326, always_xy=True)
    G = nx.MultiDiGraph(crs="epsg:4326", name=f"{n}x{n} test grid")
    for r in range(n):
        for c in range(n):
            lon, lat = to_ll.transform(*grid_xy(r, c, spacing_m))
            G.add_node(r * n + c, x=float(lon), y=float(lat))
    for r in range(n):
        for c in range(n):
            a = r * n + c
            for b, name in (((r + 1) * n + c, f"col {c}"), (r * n + c + 1, f"row {r}")):
                if (name.startswith("col") and r + 1 < n) or (name.startswith("row") and c + 1 < n):
                    for s, t in ((a, b), (b, a)):
                        G.add_edge(s, t, length=spacing_m, highway="residential", name=name)
    return G


def line_graph(*, oneway: bool = False) -> nx.MultiDiGraph:
    """Three nodes in a row on the grid (positions (0, 0), (0, 1), (0, 2)), 300 m apart.

    Parameters
    ----------
    oneway
        Make both roads one-way eastward (0 -> 1 -> 2); otherwise two-way.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-style graph as :func:`grid_graph`, nodes 0, 1 and 2.
    """
    G = grid_graph(n=1)
    G.remove_nodes_from(list(G))
    for i, p in enumerate(grid_points([(0, 0), (0, 1), (0, 2)]).to_list()):
        G.add_node(i, x=p.x, y=p.y)
    for a, b in ((0, 1), (1, 2)):
        G.add_edge(a, b, length=300.0, highway="residential", oneway=oneway)
        if not oneway:
            G.add_edge(b, a, length=300.0, highway="residential", oneway=oneway)
    return G


def grid_points(
    positions: list[tuple[float, float]],
    *,
    spacing_m: float = 300.0,
    offset_m: float = 0.0,
) -> gpd.GeoSeries:
    """Points at grid positions, optionally moved north by ``offset_m``, in EPSG:4326.

    Parameters
    ----------
    positions
        ``(row, col)`` grid positions (fractions allowed).
    spacing_m
        Grid spacing, metres.
    offset_m
        Northward shift of every point, metres (an off-network access walk).

    Returns
    -------
    geopandas.GeoSeries
        Points in EPSG:4326.
    """
    xy = np.array([grid_xy(r, c, spacing_m) for r, c in positions]).reshape(-1, 2)
    pts = shapely.points(xy[:, 0], xy[:, 1] + offset_m)
    return gpd.GeoSeries(pts, crs=GRID_CRS).to_crs(4326)


def grid_lonlat(row: float, col: float, spacing_m: float = 300.0) -> tuple[float, float]:
    """Lon/lat (degrees, EPSG:4326) of a grid position; fractions are allowed.

    Parameters
    ----------
    row, col
        Grid position.
    spacing_m
        Grid spacing, metres.

    Returns
    -------
    tuple of float
        ``(lon, lat)``.
    """
    p = grid_points([(row, col)], spacing_m=spacing_m).iloc[0]
    return float(p.x), float(p.y)


def grid_communities() -> gpd.GeoDataFrame:
    """Five communities on the default grid, with hand-checkable travel times.

    With :func:`grid_halls` (halls at nodes (0, 0) and (4, 4)) and walking at 4.5 km/h:

    ====  ========  ======  ===========================  =============
    id    position  kind    nearest hall, minutes        status
    ====  ========  ======  ===========================  =============
    A     (0, 1)    urban   H1, 4                        covered
    B     (2, 2)    urban   H1, 16 (H2 as near: first)   not covered
    C     (2, 2.5)  rural   H2, 14 (H1: 18)              covered
    D     (3, 0)    urban   H1, 12                       covered
    E     (0.5, 4)  rural   H2, 14 (H1: 18)              covered
    ====  ========  ======  ===========================  =============

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``community_id``, ``name``, ``district``, ``street``, ``kind``,
        ``population``, ``households``; EPSG:4326.
    """
    positions = [(0, 1), (2, 2), (2, 2.5), (3, 0), (0.5, 4)]
    return gpd.GeoDataFrame(
        {
            "community_id": ["A", "B", "C", "D", "E"],
            "name": ["社区A", "社区B", "村C", "社区D", "村E"],
            "district": ["West", "West", "East", "West", "East"],
            "street": ["w1", "w1", "e1", "w2", "e1"],
            "kind": ["urban", "urban", "rural", "urban", "rural"],
            "population": [1000, 2000, 500, 1500, 800],
            "households": [400, 800, 200, 600, 320],
        },
        geometry=grid_points(positions),
        crs=4326,
    )


def grid_halls() -> gpd.GeoDataFrame:
    """Two halls on the default grid: H1 at node (0, 0) and H2 at node (4, 4).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``hall_id``, ``name``, ``floor_area_m2``, ``illustrative``; EPSG:4326.
    """
    return gpd.GeoDataFrame(
        {
            "hall_id": ["H1", "H2"],
            "name": ["西南服务中心", "东北服务中心"],
            "floor_area_m2": [600.0, 200.0],
            "illustrative": [True, True],
        },
        geometry=grid_points([(0, 0), (4, 4)]),
        crs=4326,
    )
