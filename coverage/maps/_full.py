"""The full audit map, every layer in its place."""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium

from coverage.maps._base import LABELS, Basemap, Lang, new_map
from coverage.maps._controls import add_legend, add_search
from coverage.maps._layers import (
    DATA_PROBLEM_COLOR,
    PROPOSAL_COLOR,
    add_catchments,
    add_communities,
    add_data_problems,
    add_districts,
    add_doubts,
    add_halls,
    add_isochrones,
    add_proposals,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from coverage.audit import AuditResult


def coverage_map(
    result: AuditResult,
    *,
    districts: gpd.GeoDataFrame | None = None,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    title: str | None = None,
    basemap: Basemap = "osm",
    tianditu_key: str | None = None,
    proposals: gpd.GeoDataFrame | None = None,
    assignments: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    data_problems: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The full audit map: districts, communities by status, halls, legend, layer control.

    Parameters
    ----------
    result
        The audit result.
    districts
        Optional district polygons (``district`` column), any CRS.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    title
        Map title.
    basemap
        ``"osm"``, ``"amap"``, ``"amap-satellite"``, ``"tianditu"`` or ``"blank"`` (see
        :func:`new_map`).
    tianditu_key
        Tianditu API key (for ``basemap="tianditu"``).
    proposals, assignments
        Optional proposed halls and the communities assigned to them
        (see :func:`add_proposals`).
    isochrones
        Optional service-area bands (see :func:`add_isochrones`).
    catchments
        Optional catchments of the halls (see :func:`add_catchments`), a layer that is off
        until switched on.
    data_problems
        Optional communities that are a map-data problem (see :func:`add_data_problems`).

    Returns
    -------
    folium.Map
        The map.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> from coverage.audit import audit
    >>> r = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> m = coverage_map(r, lang="en")
    >>> "not covered (1)" in m.get_root().render()
    True
    """
    m = m or new_map(
        result.communities, title=title, basemap=basemap, tianditu_key=tianditu_key, lang=lang
    )
    if isochrones is not None and len(isochrones):
        add_isochrones(isochrones, m=m, lang=lang)
    if catchments is not None and len(catchments):
        add_catchments(catchments, m=m, lang=lang)
    if districts is not None and len(districts):
        add_districts(districts, m=m, lang=lang)
    add_communities(result, m=m, lang=lang)
    add_halls(result, m=m, lang=lang)
    add_doubts(result, m=m, lang=lang)
    extra = []
    if proposals is not None:
        add_proposals(proposals, assignments, m=m, lang=lang)
        extra.append((PROPOSAL_COLOR, LABELS[lang]["proposed"]))
    if data_problems is not None and len(data_problems):
        add_data_problems(data_problems, m=m, lang=lang)
        extra.append((DATA_PROBLEM_COLOR, LABELS[lang]["data_problems"]))
    add_search(m, lang=lang)
    add_legend(m, lang=lang, extra=extra)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
