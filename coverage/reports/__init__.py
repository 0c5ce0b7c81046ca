"""Output folders: per-district map, tables and summary, written safely.

Every file is written to a temporary name in the same folder and then renamed, so an
interrupted run never leaves a half-written file. Folder names come from
:func:`safe_name`, so a district called ``../../etc`` or ``西湖区/北山`` stays inside the
output folder.

Files for people who were not at the computer:

- :func:`write_excel`: a workbook (district summary, communities, halls, proposals) with
  Chinese or English headers, numbers as numbers, shares as percentages;
- :func:`write_geopackage`: every layer in one GeoPackage for QGIS/ArcGIS;
- :func:`write_html_summary`: a one-page, self-contained HTML summary with the key figures,
  two charts (inline SVG), the worst-served communities and links to the maps;
- :func:`display_table`: any of these tables in a notebook, with the same headers and
  formats;
- :func:`write_life_circle`: the community life circle's page, workbook, map and tables.

Package layout: ``_folders`` (run and district folders, proposal folders), ``_excel``,
``_gpkg``, ``_html`` (the summary page), ``_lifecircle`` (the life circle's files),
``_scenario`` (a scenario run's folder and pages), ``_proposal`` (a proposal's title,
terminal summary, workbook table and summary section), ``_charts`` (its SVG charts),
``_display`` (notebook tables), ``_summary``
(``summary.json``), ``_labels`` (Chinese and English headers and names). File writing itself
lives in :mod:`coverage._files`.
"""

from coverage._files import inside, safe_name, write_csv, write_json, write_text_atomic
from coverage.reports._display import display_table
from coverage.reports._excel import write_excel, write_workbook
from coverage.reports._folders import (
    FOLDER_S,
    write_district_reports,
    write_proposal_reports,
)
from coverage.reports._gpkg import write_geopackage
from coverage.reports._html import html_summary, write_html_summary
from coverage.reports._labels import EN_HEADERS, SHEET_NAMES, TOTAL_LABEL, ZH_HEADERS, Lang
from coverage.reports._lifecircle import (
    LIFE_CIRCLE_FILES,
    LIFE_CIRCLE_SHEETS,
    life_circle_html,
    life_circle_section,
    life_circle_tables,
    write_life_circle,
    write_life_circle_excel,
)
from coverage.reports._proposal import (
    proposal_section_html,
    proposal_table,
    proposal_text,
    proposal_title,
    size_lines,
)
from coverage.reports._scenario import headline_text, scenario_page, write_scenario_reports
from coverage.reports._summary import district_summary

__all__ = [
    "EN_HEADERS",
    "FOLDER_S",
    "LIFE_CIRCLE_FILES",
    "LIFE_CIRCLE_SHEETS",
    "SHEET_NAMES",
    "TOTAL_LABEL",
    "ZH_HEADERS",
    "Lang",
    "display_table",
    "district_summary",
    "headline_text",
    "html_summary",
    "inside",
    "life_circle_html",
    "life_circle_section",
    "life_circle_tables",
    "proposal_section_html",
    "proposal_table",
    "proposal_text",
    "proposal_title",
    "safe_name",
    "scenario_page",
    "size_lines",
    "write_csv",
    "write_district_reports",
    "write_excel",
    "write_geopackage",
    "write_html_summary",
    "write_json",
    "write_life_circle",
    "write_life_circle_excel",
    "write_proposal_reports",
    "write_scenario_reports",
    "write_text_atomic",
    "write_workbook",
]
