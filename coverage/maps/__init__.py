"""Folium maps of an audit: communities by status, halls, districts, legend.

Every map function takes ``m=None`` (a new map is made) or an existing :class:`folium.Map`,
adds its layer and returns the map, so notebook users can compose layers.

All user-supplied text (names, ids, reasons) is escaped before it reaches the page: popups and
tooltips carry text, never markup, from the data.

Package layout: ``_base`` (the base map, tiles, texts, popups, saving), ``_layers`` (one
function per layer), ``_controls`` (search box, legend), ``_full`` (:func:`coverage_map`,
:func:`life_circle_map`), ``_difference`` (:func:`difference_map`: a scenario against the
baseline).
"""

from coverage.maps._base import (
    HALL_COLOR,
    STATUS_COLORS,
    Basemap,
    Lang,
    choose_basemap,
    display_crs,
    escape,
    metric_crs,
    new_map,
    save_map,
    to_display,
)
from coverage.maps._controls import add_legend, add_search
from coverage.maps._difference import (
    CHANGE_COLORS,
    EDIT_COLORS,
    add_changes,
    add_hall_changes,
    add_road_edits,
    difference_map,
)
from coverage.maps._full import coverage_map, life_circle_map
from coverage.maps._layers import (
    BAND_COLORS,
    CATCHMENT_COLORS,
    COMPLETENESS_STEPS,
    DATA_PROBLEM_COLOR,
    PROPOSAL_COLOR,
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
    completeness_step,
)

__all__ = [
    "BAND_COLORS",
    "CATCHMENT_COLORS",
    "CHANGE_COLORS",
    "COMPLETENESS_STEPS",
    "DATA_PROBLEM_COLOR",
    "EDIT_COLORS",
    "HALL_COLOR",
    "PROPOSAL_COLOR",
    "SERVICE_COLORS",
    "STATUS_COLORS",
    "Basemap",
    "Lang",
    "add_catchments",
    "add_changes",
    "add_communities",
    "add_completeness",
    "add_data_problems",
    "add_districts",
    "add_doubts",
    "add_hall_changes",
    "add_halls",
    "add_isochrones",
    "add_legend",
    "add_proposals",
    "add_road_edits",
    "add_search",
    "add_service_area",
    "add_service_sites",
    "choose_basemap",
    "completeness_step",
    "coverage_map",
    "difference_map",
    "display_crs",
    "escape",
    "life_circle_map",
    "metric_crs",
    "new_map",
    "save_map",
    "to_display",
]
