"""Validating loaders: communities and halls from files or frames, into GeoDataFrames.

Planners bring lists from many places: CSV or Excel files with Chinese or English headers
(often GBK-encoded, often with a title row above the header and merged header cells),
GeoJSON, GeoPackage or Shapefile layers, or frames already in a notebook. The two loaders,
:func:`read_communities` and :func:`read_halls`, accept all of them and return one shape:
a GeoDataFrame of points in EPSG:4326 (WGS-84) with canonical column names, the user's other
columns kept, and a ``source_row`` column pointing back at the spreadsheet row.

Headers are matched case-insensitively against aliases (``人口``, ``常住人口``, ``pop`` ...),
ignoring spaces, brackets and units such as ``(㎡)``; ``columns=`` maps any other header
explicitly. Coordinates from Amap/Tencent (GCJ-02) or Baidu (BD-09) are converted with
``coord_system=``. Every problem in the input is gathered and raised as one
:class:`~coverage._errors.InputDataError` naming the file, layer or sheet, column and rows.

Package layout: ``_read`` (the two loaders), ``_formats`` (raw tables from files and frames),
``_columns`` (header matching, values, ids, repeated rows), ``_points`` (coordinates and
geometries to points), ``_headers`` (the columns and their accepted spellings).
"""

from coverage.io._headers import COMMUNITY_ALIASES, COMMUNITY_COLUMNS, HALL_ALIASES, HALL_COLUMNS
from coverage.io._pois import read_osm_pois
from coverage.io._read import read_communities, read_halls

__all__ = [
    "COMMUNITY_ALIASES",
    "COMMUNITY_COLUMNS",
    "HALL_ALIASES",
    "HALL_COLUMNS",
    "read_communities",
    "read_halls",
    "read_osm_pois",
]
