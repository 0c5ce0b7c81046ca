"""Attribution of the OpenStreetMap data the tool reads and ships (ODbL 1.0): one wording."""

from __future__ import annotations

#: Shown on every map (the tiles' own attribution is added by the basemap).
OSM_ATTRIBUTION = "Data © OpenStreetMap contributors, ODbL 1.0"
#: Written in every report and summary.
ROAD_DATA_ATTRIBUTION = "Road data © OpenStreetMap contributors, ODbL 1.0"
#: Stored with networks read from OSM files.
OSM_LICENCE = "ODbL-1.0, (c) OpenStreetMap contributors"
