"""Where a proposed site is, in words: the nearest named road and the nearest community."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from coverage.i18n import site_description

if TYPE_CHECKING:
    import geopandas as gpd

    from coverage.network import Network

logger = logging.getLogger(__name__)

#: A road's name describes a site only within this distance of it, metres.
ROAD_NAME_WITHIN_M = 200.0


def _named_roads(network: Network) -> tuple[shapely.STRtree, np.ndarray]:
    """A search tree of the named road segments (metric CRS) and their names."""

    def build() -> tuple[shapely.STRtree, np.ndarray]:
        names = network.seg_name
        named = np.flatnonzero(names != "")
        return shapely.STRtree(network.seg_geom[named]), names[named]

    return network.memo(__name__, "named_roads", build)


def describe_sites(
    sites: gpd.GeoDataFrame, network: Network, communities: gpd.GeoDataFrame | None = None
) -> pd.DataFrame:
    """Describe sites by the nearest named road and the nearest community.

    Parameters
    ----------
    sites
        Points, any CRS (e.g. :attr:`ProposalResult.proposals`).
    network
        The network whose edge names (OpenStreetMap ``name``) name the roads.
    communities
        Communities (points, any CRS) with ``name`` (else ``community_id``); ``None`` for
        roads only.

    Returns
    -------
    pandas.DataFrame
        One row per site, same index: ``road_name`` (the nearest named road within
        :data:`ROAD_NAME_WITHIN_M` metres, "" if none), ``road_m`` (metres),
        ``near_community`` (name), ``near_community_m`` (metres, straight line),
        ``description`` and ``description_zh`` (e.g. ``"文三路旁，近留石社区"``).

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities
    >>> from coverage.network import load_network
    >>> from coverage.siting import candidate_sites
    >>> net = load_network(grid_graph())
    >>> sites = candidate_sites(net, spacing_m=600).head(1)
    >>> describe_sites(sites, net, grid_communities())["near_community"].tolist()
    ['社区A']
    """
    out = pd.DataFrame(index=sites.index)
    n = len(sites)
    roads = np.full(n, "", dtype=object)
    road_m = np.full(n, np.nan)
    near = np.full(n, "", dtype=object)
    near_m = np.full(n, np.nan)
    if n:
        points = shapely.points(network.points_xy(sites.geometry))
        tree, names = _named_roads(network)
        if len(names):
            (which, hit), dist = tree.query_nearest(
                points, max_distance=ROAD_NAME_WITHIN_M, return_distance=True, all_matches=False
            )
            roads[which] = names[hit]
            road_m[which] = dist
        if communities is not None and len(communities):
            label = "name" if "name" in communities.columns else "community_id"
            com = shapely.points(network.points_xy(communities.geometry))
            (which, hit), dist = shapely.STRtree(com).query_nearest(
                points, return_distance=True, all_matches=False
            )
            near[which] = communities[label].astype(str).to_numpy()[hit]
            near_m[which] = dist
    out["road_name"] = roads
    out["road_m"] = np.round(road_m, 1)
    out["near_community"] = near
    out["near_community_m"] = np.round(near_m, 1)
    out["description"] = [site_description(r, c, "en") for r, c in zip(roads, near, strict=True)]
    out["description_zh"] = [site_description(r, c, "zh") for r, c in zip(roads, near, strict=True)]
    return out
