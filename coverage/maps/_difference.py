"""The difference map of a scenario: communities by change, edited halls and roads."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import pandas as pd

from coverage.i18n import SCENARIO_WORDS
from coverage.maps._base import (
    HALL_COLOR,
    LABELS,
    GeoJson,
    Lang,
    LayerControl,
    add_legend_row,
    escape,
    fmt,
    map_state,
    new_map,
    to_display,
)
from coverage.maps._controls import add_legend, add_search
from coverage.maps._layers import add_districts, point_layer

if TYPE_CHECKING:
    from coverage.maps._base import Basemap, Symbol
    from coverage.scenarios import Comparison

#: Colour of each community change on the difference map.
CHANGE_COLORS = {
    "gained": "#1a9850",
    "lost": "#d73027",
    "faster": "#a6d96a",
    "slower": "#fdae61",
    "unchanged": "#bdbdbd",
}

#: Colour of each hall change and road edit on the difference map.
EDIT_COLORS = {
    "kept": HALL_COLOR,
    "closed": "#000000",
    "added": "#ff7f00",
    "moved": "#984ea3",
    "road_added": "#1f78b4",
    "road_closed": "#e31a1c",
    "road_barrier": "#e31a1c",
    "road_speed": "#ff7f00",
}


def _marker(radius: float) -> folium.CircleMarker:
    """The circle of a community or hall on the difference map, ``radius`` pixels."""
    return folium.CircleMarker(radius=radius, fill=True, fill_opacity=0.9, weight=1)


def _arrow(a: object, b: object, unit: str = "") -> str:
    """``a → b`` with missing values as –."""
    return f"{fmt(a) or '–'} → {fmt(b) or '–'}{unit}"


def add_changes(comparison: Comparison, *, m: folium.Map, lang: Lang = "zh") -> folium.Map:
    """Add the communities coloured by their change (gained, lost, faster, slower, unchanged).

    Parameters
    ----------
    comparison
        A scenario compared with the baseline (:func:`coverage.scenarios.compare`).
    m
        The map.
    lang
        ``"zh"`` or ``"en"`` labels.

    Returns
    -------
    folium.Map
        The map.
    """
    words, lab = SCENARIO_WORDS[lang], LABELS[lang]
    com = comparison.communities
    rows = [
        ("community_id", lab["id"]),
        ("district", lab["district"]),
        ("minutes", words["minutes"]),
        ("status", words["status"]),
        ("change", words["change"]),
    ]
    for change in ("unchanged", "slower", "faster", "lost", "gained"):  # most telling on top
        part = com[com["change"] == change]
        if part.empty:
            continue
        status_b = [lab.get(str(s), str(s)) for s in part["status_before"]]
        status_a = [lab.get(str(s), str(s)) for s in part["status_after"]]
        props: dict[str, list[Any]] = {
            "community_id": [fmt(v) for v in part["community_id"]],
            "district": [fmt(v) for v in part["district"]],
            "minutes": [
                _arrow(b, a)
                for b, a in zip(
                    part["travel_time_min_before"], part["travel_time_min_after"], strict=True
                )
            ],
            "status": [f"{b} → {a}" for b, a in zip(status_b, status_a, strict=True)],
            "change": [words[change]] * len(part),
            "title": [fmt(v) for v in part["name"]],
        }
        props["tip"] = [
            f"{t or ''}: {words[change]}, {mins} {lab['unit_min']}"
            for t, mins in zip(props["title"], props["minutes"], strict=True)
        ]
        layer = point_layer(
            m,
            part,
            props,
            rows,
            name=f"{lab['communities']}: {escape(words[change])} ({len(part)})",
            marker=_marker(4.0 if change == "unchanged" else 6.0),
            style={"fillColor": CHANGE_COLORS[change], "color": "#333333"},
        )
        map_state(m).search_layers.append(layer)
    for change in ("gained", "lost", "faster", "slower", "unchanged"):
        if (com["change"] == change).any():
            add_legend_row(
                m, "dot", CHANGE_COLORS[change], f"{lab['communities']}: {words[change]}"
            )
    return m


def add_hall_changes(
    comparison: Comparison,
    *,
    m: folium.Map,
    lang: Lang = "zh",
    moved_from: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Add the halls by change: kept, closed, added, moved (with a line from the old place).

    Parameters
    ----------
    comparison
        A scenario compared with the baseline.
    m
        The map.
    lang
        ``"zh"`` or ``"en"`` labels.
    moved_from
        The baseline halls (``hall_id``, points, any CRS): moved halls get a dashed line
        from their old place.

    Returns
    -------
    folium.Map
        The map.
    """
    words, lab = SCENARIO_WORDS[lang], LABELS[lang]
    halls = comparison.halls
    rows = [
        ("hall_id", lab["id"]),
        ("change", words["change"]),
        ("households", f"{lab['served']} / {words['before']} → {words['after']}"),
        ("required", f"{lab['required']} / {words['before']} → {words['after']}"),
    ]
    if moved_from is not None:
        moved = halls[halls["change"] == "moved"]
        old = moved_from.assign(_k=moved_from["hall_id"].astype(str)).set_index("_k").geometry
        old = old.reindex(moved["hall_id"].astype(str).to_numpy())
        if len(moved) and old.notna().all():
            a = to_display(m, gpd.GeoSeries(old.to_numpy(), crs=moved_from.crs))
            b = to_display(m, moved.geometry)
            lines = [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "LineString", "coordinates": [[p.x, p.y], [q.x, q.y]]},
                }
                for p, q in zip(a, b, strict=True)
            ]
            GeoJson(
                {"type": "FeatureCollection", "features": lines},
                name=escape(words["moved_from"]),
                style_function=lambda _f: {
                    "color": EDIT_COLORS["moved"],
                    "weight": 2,
                    "dashArray": "4 4",
                },
            ).add_to(m)
            add_legend_row(m, "dash", EDIT_COLORS["moved"], f"{lab['halls']}: {words['moved']}")
    for change in ("kept", "closed", "moved", "added"):
        part = halls[halls["change"] == change]
        if part.empty:
            continue
        props: dict[str, list[Any]] = {
            "hall_id": [fmt(v) for v in part["hall_id"]],
            "change": [words[change]] * len(part),
            "households": [
                _arrow(b, a)
                for b, a in zip(
                    part["households_served_before"], part["households_served_after"], strict=True
                )
            ],
            "required": [
                _arrow(b, a)
                for b, a in zip(
                    part["required_floor_area_m2_before"],
                    part["required_floor_area_m2_after"],
                    strict=True,
                )
            ],
            "title": [fmt(v) for v in part["name"]],
        }
        props["tip"] = [f"{t or ''}: {words[change]}" for t in props["title"]]
        color = EDIT_COLORS[change]
        point_layer(
            m,
            part,
            props,
            rows,
            name=f"{lab['halls']}: {escape(words[change])} ({len(part)})",
            marker=_marker(6.0 if change == "kept" else 9.0),
            style={
                "fillColor": "#ffffff" if change == "closed" else color,
                "color": color,
                "weight": 3 if change == "closed" else 2,
            },
        )
        add_legend_row(
            m, "ring" if change == "closed" else "dot", color, f"{lab['halls']}: {words[change]}"
        )
    return m


def add_road_edits(roads: gpd.GeoDataFrame, *, m: folium.Map, lang: Lang = "zh") -> folium.Map:
    """Add a scenario's road edits: new links, closed roads, barriers, roads with a new speed.

    Parameters
    ----------
    roads
        :attr:`coverage.scenarios.EditedInputs.roads`: ``edit``, ``change`` (``"added"``,
        ``"closed"``, ``"barrier"``, ``"speed"``), ``name``; lines and polygons, EPSG:4326.
    m
        The map.
    lang
        ``"zh"`` or ``"en"`` labels.

    Returns
    -------
    folium.Map
        The map.
    """
    words = SCENARIO_WORDS[lang]
    for change in ("barrier", "closed", "speed", "added"):
        part = roads[roads["change"] == change]
        if part.empty:
            continue
        key = f"road_{change}"
        color = EDIT_COLORS[key]
        label = pd.Series(
            [
                f"{e}{(': ' + n) if n else ''}"
                for e, n in zip(part["edit"], part["name"], strict=True)
            ]
        ).map(escape)
        frame = gpd.GeoDataFrame(
            {"label": label.to_numpy()},
            geometry=to_display(m, part.geometry).to_numpy(),
            crs=4326,
        )
        style = {"color": color, "weight": 5 if change == "added" else 4, "opacity": 0.9}
        if change == "barrier":
            style |= {"weight": 2, "fillColor": color, "fillOpacity": 0.15}
        if change == "closed":
            style["dashArray"] = "6 4"
        GeoJson(
            json.loads(frame.to_json()),
            name=f"{escape(words['roads'])}: {escape(words[key])} ({len(part)})",
            style_function=lambda _f, s=style: s,
            tooltip=folium.GeoJsonTooltip(["label"], labels=False, localize=False),
        ).add_to(m)
        symbol: Symbol = "area" if change == "barrier" else "dash" if change == "closed" else "line"
        add_legend_row(m, symbol, color, words[key])
    return m


def difference_map(
    comparison: Comparison,
    *,
    roads: gpd.GeoDataFrame | None = None,
    baseline_halls: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    lang: Lang = "zh",
    title: str | None = None,
    basemap: Basemap = "auto",
    tianditu_key: str | None = None,
) -> folium.Map:
    """The difference map of a scenario: what it gains and loses, and what it changes.

    Communities are coloured by their change (gained, lost, faster, slower, unchanged;
    popups give minutes and status before → after); halls by theirs (kept, closed, added,
    moved, with a dashed line from a moved hall's old place); edited roads are drawn (new
    links, closed roads, barriers, roads with a new speed). Legend and layer names in
    ``lang``; names from the data stay text.

    Parameters
    ----------
    comparison
        :func:`coverage.scenarios.compare`'s result.
    roads
        The scenario's edited roads (:attr:`coverage.scenarios.EditedInputs.roads`).
    baseline_halls
        The baseline halls, for the lines of moved halls.
    districts
        District polygons (``district`` column), any CRS.
    lang
        ``"zh"`` or ``"en"``.
    title
        Map title (default: the scenario's name).
    basemap, tianditu_key
        As for :func:`coverage.maps.new_map`.

    Returns
    -------
    folium.Map
        The map.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> from coverage.audit import audit
    >>> from coverage.scenarios import CloseHalls, Scenario, compare, run_scenario
    >>> net = load_network(grid_graph())
    >>> base = audit(grid_communities(), grid_halls(), net)
    >>> s = Scenario("close H2", edits=(CloseHalls(("H2",)),))
    >>> m = difference_map(compare(base, run_scenario(grid_communities(), grid_halls(), net, s)),
    ...                    lang="en", basemap="blank")
    >>> "Communities: slower (2)" in m.get_root().render()
    True
    """
    words = SCENARIO_WORDS[lang]
    m = new_map(
        comparison.communities,
        title=title or words["title"].format(name=comparison.name),
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
    )
    if districts is not None and len(districts):
        add_districts(districts, m=m, lang=lang)
    if roads is not None and len(roads):
        add_road_edits(roads, m=m, lang=lang)
    add_changes(comparison, m=m, lang=lang)
    add_hall_changes(comparison, m=m, lang=lang, moved_from=baseline_halls)
    add_search(m, lang=lang)
    add_legend(m, lang=lang)
    LayerControl(collapsed=False).add_to(m)
    return m
