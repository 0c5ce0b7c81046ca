"""The full audit map and the life-circle map, every layer in its place."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from coverage.maps._base import LABELS, Basemap, Lang, LayerControl, add_legend_row, new_map
from coverage.maps._controls import add_legend, add_search
from coverage.maps._layers import (
    SERVICE_COLORS,
    add_catchments,
    add_communities,
    add_completeness,
    add_data_problems,
    add_districts,
    add_doubts,
    add_halls,
    add_isochrones,
    add_proposals,
    add_service_area,
    add_service_sites,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    import folium

    from coverage.audit import AuditResult
    from coverage.lifecircle import ServiceAudit
    from coverage.network import Network


def coverage_map(
    result: AuditResult,
    *,
    districts: gpd.GeoDataFrame | None = None,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    title: str | None = None,
    basemap: Basemap = "auto",
    tianditu_key: str | None = None,
    proposals: gpd.GeoDataFrame | None = None,
    assignments: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    data_problems: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The full audit map: districts, communities by status, halls, legend, layer control.

    The first view shows the communities, the halls that serve them (a district's nearest
    hall may lie outside it), the district outlines and any proposed halls. A service-area
    band is drawn only if some community on the map is held to it (a 20-minute band for
    rural communities, none on an all-urban map; the legend says so). In Jupyter the map
    shows itself with Leaflet embedded, as :func:`save_map` writes it (no CDN).

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
        ``"auto"`` (Amap for Chinese maps of places in China, else OpenStreetMap), ``"osm"``,
        ``"amap"``, ``"amap-satellite"``, ``"tianditu"`` or ``"blank"`` (see :func:`new_map`).
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
        _view(result, districts, proposals),
        title=title,
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
    )
    if isochrones is not None and len(isochrones):
        held = set(result.communities["threshold_min"].dropna().astype(float))
        limits = {result.config.urban_threshold_min, result.config.rural_threshold_min}
        unused = sorted(b for b in set(isochrones["band_min"].astype(float)) if b in limits - held)
        shown = isochrones[~isochrones["band_min"].astype(float).isin(unused)]
        if len(shown):
            add_isochrones(shown, m=m, lang=lang, config=result.config)
        lab = LABELS[lang]
        for band in unused:
            kind = "urban" if band == result.config.urban_threshold_min else "rural"
            add_legend_row(
                m, "note", "", lab["band_dropped"].format(band=f"{band:g}", kind=lab[kind])
            )
    if catchments is not None and len(catchments):
        add_catchments(catchments, m=m, lang=lang)
    if districts is not None and len(districts):
        add_districts(districts, m=m, lang=lang)
    add_communities(result, m=m, lang=lang)
    add_halls(result, m=m, lang=lang)
    add_doubts(result, m=m, lang=lang)
    if proposals is not None:
        add_proposals(proposals, assignments, m=m, lang=lang)
    if data_problems is not None and len(data_problems):
        add_data_problems(data_problems, m=m, lang=lang)
    add_search(m, lang=lang)
    add_legend(m, lang=lang)
    LayerControl(collapsed=False).add_to(m)
    return m


def _view(
    result: AuditResult, districts: gpd.GeoDataFrame | None, proposals: gpd.GeoDataFrame | None
) -> gpd.GeoSeries:
    """What the first view must hold: communities, their halls, districts, proposals."""
    com = result.communities
    parts = [com.geometry.to_crs(4326)]
    served = set(com["nearest_hall_id"].dropna())
    halls = result.halls
    if len(halls) and served:
        parts.append(halls[halls["hall_id"].isin(served)].geometry.to_crs(4326))
    elif len(com) == 0:
        parts.append(halls.geometry.to_crs(4326))
    parts += [f.geometry.to_crs(4326) for f in (districts, proposals) if f is not None and len(f)]
    return gpd.GeoSeries(pd.concat(parts, ignore_index=True), crs=4326)


def life_circle_map(
    result: ServiceAudit,
    sites: Mapping[str, gpd.GeoDataFrame],
    *,
    network: Network | None = None,
    areas: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    title: str | None = None,
    basemap: Basemap = "auto",
    tianditu_key: str | None = None,
    cell_m: float | None = None,
) -> folium.Map:
    """The life-circle map: communities by completeness, each service's sites and areas.

    One layer of communities coloured by completeness (a stepped scale, see
    :func:`add_completeness`; the popup names the missing services), one layer per service
    with its sites in the service's colour, and, with ``network`` or ``areas``, each
    service's service area per circle (off until switched on in the layer list; a circle set
    in metres is drawn at the minutes those metres take at the network's speed, and the
    legend says so). Save it with :func:`save_map` (Leaflet embedded, works offline).

    Parameters
    ----------
    result
        What :func:`coverage.lifecircle.audit_services` found.
    sites
        The sites of each service, as passed to the audit.
    network
        The audit's network: draws the service areas (:func:`coverage.lifecircle.
        service_areas`) unless ``areas`` are given.
    areas
        Service areas already computed (:func:`coverage.lifecircle.service_areas`).
    districts
        Optional district polygons (``district`` column), any CRS.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    title
        Map title (default: the standard's name).
    basemap, tianditu_key
        Map tiles (see :func:`new_map`).
    cell_m
        Grid cell of the service areas, metres (default ``config.area_cell_m``).

    Returns
    -------
    folium.Map
        The map.

    Examples
    --------
    >>> from coverage.lifecircle import audit_services
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> net = load_network(grid_graph())
    >>> sites = {"hall": grid_halls()}
    >>> r = audit_services(grid_communities(), sites, net, standard="hangzhou-2017")
    >>> m = life_circle_map(r, sites, network=net, lang="en", basemap="blank")
    >>> html = m.get_root().render()
    >>> "Completeness 100% (every service)" in html, "service area (15 min)" in html
    (True, True)
    """
    from coverage.lifecircle import service_areas  # noqa: PLC0415 (grids only when asked)

    lab = LABELS[lang]
    std = result.standard
    if title is None:
        title = std.name if lang == "zh" else std.name_en
    view = [result.communities.geometry.to_crs(4326)]
    if districts is not None and len(districts):
        view.append(districts.geometry.to_crs(4326))
    m = m or new_map(
        gpd.GeoSeries(pd.concat(view, ignore_index=True), crs=4326),
        title=title,
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
    )
    if areas is None and network is not None:
        areas = service_areas(result, sites, network, cell_m=cell_m)
    if districts is not None and len(districts):
        add_districts(districts, m=m, lang=lang)
    add_completeness(result, m=m, lang=lang)
    speed = float(result.network.get("speed_kph", float("nan")))
    for i, service in enumerate(std.services):
        color = SERVICE_COLORS[i % len(SERVICE_COLORS)]
        name = service.name if lang == "zh" else service.name_en
        frame = sites.get(service.key)
        if frame is not None:
            add_service_sites(frame, service=name, m=m, lang=lang, color=color)
        if areas is not None and len(areas):
            mine = areas[areas["service"] == service.key]
            if len(mine):
                add_service_area(mine, service=name, speed_kph=speed, m=m, lang=lang, color=color)
    if areas is not None and len(areas):
        add_legend_row(m, "note", "", lab["area_note"])
    add_search(m, lang=lang)
    add_legend(m, lang=lang)
    LayerControl(collapsed=False).add_to(m)
    return m
