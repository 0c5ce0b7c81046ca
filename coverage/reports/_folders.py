"""Run folders: every file for the whole run and one sub-folder per district or proposal."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from coverage._files import (
    inside,
    safe_name,
    write_csv,
    write_json,
)
from coverage.audit import (
    ALL_DISTRICTS,
    AuditResult,
)
from coverage.pool import DistrictPool
from coverage.reports._excel import write_excel
from coverage.reports._gpkg import write_geopackage
from coverage.reports._html import write_html_summary
from coverage.reports._labels import Lang, check_lang
from coverage.reports._proposal import proposal_section_html, proposal_table
from coverage.reports._summary import district_summary

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Mapping

    from coverage.maps import Basemap
    from coverage.siting import ProposalResult

logger = logging.getLogger(__name__)


def _fingerprint(part: AuditResult, title: str, opts: dict[str, Any], offline: bool) -> str:
    """A hash of a district's results and the output options, to recognise finished folders."""
    import hashlib  # noqa: PLC0415

    table = pd.DataFrame(part.communities.drop(columns=part.communities.geometry.name))
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(table.astype(str), index=True).to_numpy().tobytes())
    digest.update(repr((title, sorted(opts.items()), offline)).encode("utf-8"))
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class _MapWriter:
    """The map options shared by every map of a run folder or a proposal folder."""

    lang: Lang
    basemap: Basemap
    tianditu_key: str | None
    offline: bool

    def options(self) -> dict[str, Any]:
        """The options of :func:`coverage.maps.coverage_map` (for the run's fingerprint)."""
        return {"lang": self.lang, "basemap": self.basemap, "tianditu_key": self.tianditu_key}

    def save(self, path: Path, result: AuditResult, **layers: Any) -> None:  # noqa: ANN401
        """Draw ``result`` with the given layers and save it to ``path``."""
        from coverage.maps import coverage_map, save_map  # noqa: PLC0415

        save_map(coverage_map(result, **layers, **self.options()), path, offline=self.offline)


def district_polygon(districts: gpd.GeoDataFrame | None, name: str) -> gpd.GeoDataFrame | None:
    """The polygon(s) of one district, if polygons with a ``district`` column were given."""
    if districts is None or "district" not in districts.columns:
        return None
    return districts[districts["district"].astype(str) == name]


def _finished(folder: Path, stamp: str) -> bool:
    """Whether a district folder was completed by a run with the same fingerprint."""
    summary = folder / "summary.json"
    try:
        return bool(json.loads(summary.read_text(encoding="utf-8")).get("fingerprint") == stamp)
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class _FolderJob:
    """One district folder to write."""

    district: str
    folder: str
    path: Path
    stamp: str | None  # the fingerprint, if already worked out
    section: str = ""  # HTML shown on the district's page (see write_district_reports)


@dataclass(frozen=True)
class _DistrictTables:
    """Writes one district's tables, workbook and page (in this process or on a worker)."""

    title: str
    lang: Lang

    def __call__(self, job: _FolderJob, result: AuditResult) -> AuditResult:
        """Write ``communities.csv``, ``halls.csv``, ``report.xlsx`` and ``summary.html``.

        Returns the district's part of ``result``, which its map step takes.
        """
        part, ddir = result.district(job.district), job.path
        write_csv(ddir / "communities.csv", part.communities)
        write_csv(ddir / "halls.csv", part.halls)
        write_excel(ddir / "report.xlsx", part, lang=self.lang)
        write_html_summary(
            ddir / "summary.html",
            part,
            title=f"{self.title}: {job.district}",
            maps={job.district: "map.html"},
            lang=self.lang,
            workbook="report.xlsx",
            parent="../summary.html",
            section=job.section,
        )
        return part


@dataclass(frozen=True)
class _DistrictMap:
    """Draws one district's map, then writes its ``summary.json`` (after its tables)."""

    maps: _MapWriter
    title: str
    districts: gpd.GeoDataFrame | None
    isochrones: gpd.GeoDataFrame | None
    catchments: gpd.GeoDataFrame | None

    def __call__(self, job: _FolderJob, part: AuditResult) -> None:
        """Write ``map.html``, then ``summary.json``, whose presence marks the folder done."""
        ddir, district = job.path, job.district
        stamp = job.stamp or _fingerprint(part, self.title, self.maps.options(), self.maps.offline)
        dpoly = district_polygon(self.districts, district)
        catch = None
        if self.catchments is not None:
            catch = self.catchments[self.catchments["hall_id"].isin(part.halls["hall_id"])]
        self.maps.save(
            ddir / "map.html",
            part,
            districts=dpoly,
            title=f"{self.title}: {district}",
            isochrones=areas_around(self.isochrones, part.communities, dpoly, part.halls),
            catchments=catch,
        )
        # written last: its presence (with this fingerprint) marks the folder complete
        write_json(
            ddir / "summary.json",
            district_summary(part)
            | {"district": district, "folder": job.folder, "fingerprint": stamp},
        )


def _tables(job: _FolderJob, writer: _DistrictTables, result: AuditResult) -> AuditResult:
    return writer(job, result)


def _draw(job: _FolderJob, part: AuditResult, drawer: _DistrictMap) -> None:
    drawer(job, part)


#: Seconds a district folder takes to write in one process, a low estimate (its real cost is
#: in ``bench/README.md``, "The command itself"): how a run guesses, before routing, whether
#: worker processes will pay (:meth:`coverage.pool.DistrictPool.prestart`).
FOLDER_S = 0.05

#: Service areas made while the district tables are written: (bands, catchments).
Areas = tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]


def write_district_reports(
    out_dir: str | os.PathLike[str],
    result: AuditResult,
    *,
    districts: gpd.GeoDataFrame | None = None,
    title: str = "社区服务中心覆盖评估",
    lang: Lang = "zh",
    basemap: Basemap = "auto",
    run: str | None = None,
    progress: bool = False,
    tianditu_key: str | None = None,
    offline: bool = True,
    isochrones: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    resume: bool = False,
    section: str = "",
    district_sections: Mapping[str, str] | None = None,
    pool: DistrictPool | None = None,
    make_areas: Callable[[], Areas] | None = None,
) -> dict[str, Path]:
    """Write a run's folder: every file for the whole audit and one sub-folder per district.

    ``out_dir`` receives ``map.html``, ``communities.csv``, ``halls.csv``, ``summary.csv``,
    ``summary.json``, ``report.xlsx``, ``report.gpkg`` and ``summary.html`` (linking to every
    district's map and to ``report.xlsx``); each district's folder (named by
    :func:`safe_name`, made unique) receives ``map.html``, ``communities.csv``, ``halls.csv``,
    ``summary.json``, ``report.xlsx`` and ``summary.html`` (linking to its workbook, its map
    and back to the run's ``summary.html``). Every file is written atomically.

    Parameters
    ----------
    out_dir
        The run's folder; created if needed. No file is written outside it.
    result
        An audit result; every district in its ``communities`` gets a folder.
    districts
        Optional district polygons with a ``district`` column, any CRS (maps, GeoPackage).
    title
        Title of the maps and summaries (plain text); district pages add the district name.
    lang
        ``"zh"`` or ``"en"``: labels of the maps, workbooks and summaries.
    basemap
        Map tiles (see :func:`coverage.maps.new_map`); ``"blank"`` needs no network.
    run
        Name of the run, recorded in the top ``summary.json``.
    progress
        Show a progress bar over the districts.
    tianditu_key
        Tianditu API key (for ``basemap="tianditu"``).
    offline
        Embed Leaflet in every map (see :func:`coverage.maps.save_map`).
    isochrones
        Optional service-area bands (:func:`coverage.isochrones.isochrones`, ``per="all"``)
        drawn on the maps and stored in the GeoPackage; each district map shows them around
        its communities.
    catchments
        Optional catchments of the halls (``per="hall"``): a map layer (each district map
        shows its halls' catchments) and a GeoPackage layer.
    resume
        Keep district folders that an earlier, interrupted run finished with the same results
        and options (their ``summary.json``, written last, carries a fingerprint); write the
        rest. Each file is written atomically, so no folder holds a half-written file.
    section
        HTML (already escaped) shown in the run's ``summary.html`` after the worst-served
        communities, e.g. :func:`life_circle_section`.
    district_sections
        The same for each district's ``summary.html``, by district name.
    pool
        Write the district folders on worker processes (a :class:`coverage.pool.DistrictPool`
        of the run): first their tables, workbooks and pages, then their maps; the run's own
        files are written here meanwhile.
    make_areas
        Makes ``(isochrones, catchments)`` (in place of those two) while the district tables
        are written; the maps wait for them.

    Returns
    -------
    dict of str to pathlib.Path
        District name → its folder; ``"(all)"`` → ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> from coverage.audit import audit
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> result = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     folders = write_district_reports(d, result, basemap="blank")
    ...     files = sorted(p.name for p in folders["West"].iterdir())
    >>> sorted(folders)
    ['(all)', 'East', 'West']
    >>> files
    ['communities.csv', 'halls.csv', 'map.html', 'report.xlsx', 'summary.html', 'summary.json']
    """
    check_lang(lang)
    maps = _MapWriter(lang, basemap, tianditu_key, offline)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    names = sorted(result.communities["district"].astype(str).unique())
    folders: dict[str, Path] = {}
    used: set[str] = set()
    if resume:  # temporary files of an interrupted run: never renamed, so never complete
        for stale in root.rglob(".*.tmp"):
            stale.unlink(missing_ok=True)
    jobs: list[_FolderJob] = []
    for district in names:
        folder = safe_name(district)
        while folder in used:
            folder += "_"
        used.add(folder)
        ddir = inside(root, root / folder)
        folders[district] = ddir
        stamp = None
        if resume:
            stamp = _fingerprint(result.district(district), title, maps.options(), offline)
            if _finished(ddir, stamp):
                logger.info("resume: %s is complete, kept as it is", ddir)
                continue
        ddir.mkdir(parents=True, exist_ok=True)
        page_section = (district_sections or {}).get(district, "")
        jobs.append(_FolderJob(district, folder, ddir, stamp, page_section))
    runner = pool if pool is not None else DistrictPool(config=result.config)
    tables = runner.submit(
        _tables,
        jobs,
        (_DistrictTables(title, lang), result),
        desc="district tables",
        progress=progress,
    )
    if make_areas is not None:
        isochrones, catchments = make_areas()
    drawer = _DistrictMap(maps, title, districts, isochrones, catchments)
    drawn = runner.submit(
        _draw, jobs, (drawer,), desc="district maps", progress=progress, after=tables, chain=True
    )
    maps.save(
        root / "map.html",
        result,
        districts=districts,
        title=title,
        isochrones=isochrones,
        catchments=catchments,
    )
    write_csv(root / "communities.csv", result.communities)
    write_csv(root / "halls.csv", result.halls)
    write_csv(root / "summary.csv", result.districts)
    write_excel(root / "report.xlsx", result, lang=lang)
    write_geopackage(
        root / "report.gpkg",
        result,
        districts=districts,
        isochrones=isochrones,
        catchments=catchments,
    )
    everything = "全部" if lang == "zh" else "all districts"
    links = {everything: "map.html"} | {d: PurePath(p.name, "map.html") for d, p in folders.items()}
    write_html_summary(
        root / "summary.html",
        result,
        title=title,
        maps=links,
        lang=lang,
        workbook="report.xlsx",
        section=section,
    )
    tables.wait()  # (their results, the district parts, were sent to the maps, not here)
    drawn.wait()
    # the run's summary.json last: it is there once every file of the run is
    extra = {"run": run} if run is not None else {}
    write_json(root / "summary.json", district_summary(result) | extra)
    folders[ALL_DISTRICTS] = root
    return folders


#: District maps show the service areas this far around the district, metres.
AREA_MARGIN_M = 300.0


def areas_around(
    areas: gpd.GeoDataFrame | None,
    points: gpd.GeoDataFrame,
    polygon: gpd.GeoDataFrame | None = None,
    halls: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame | None:
    """The service areas a district map shows.

    Those within :data:`AREA_MARGIN_M` of the district's polygon (if given, else of the convex
    hull of its communities) and of the area spanned by its communities and the halls that
    serve them, which the map's first view shows too.
    """
    if areas is None or len(points) == 0 or len(areas) == 0:
        return areas
    from coverage.maps import metric_crs  # noqa: PLC0415 (folium loads on first use)

    metric = metric_crs(points.geometry)
    served = points.geometry.to_crs(metric)
    if halls is not None and len(halls):
        served = pd.concat([served, halls.geometry.to_crs(metric)])
    shape = served.union_all().convex_hull
    if polygon is not None and len(polygon):
        shape = shape.union(polygon.geometry.to_crs(metric).union_all())
    keep = gpd.GeoSeries([shape.buffer(AREA_MARGIN_M)], crs=metric).to_crs(areas.crs)
    return areas.clip(keep.iloc[0])


def write_proposal_reports(
    out_dir: str | os.PathLike[str],
    result: ProposalResult,
    after: AuditResult,
    *,
    districts: gpd.GeoDataFrame | None = None,
    title: str = "社区服务中心选址建议",
    lang: Lang = "zh",
    basemap: Basemap = "auto",
    tianditu_key: str | None = None,
    offline: bool = True,
) -> dict[str, Path]:
    """Write a proposal's folder: a summary page, a workbook, tables, maps, district folders.

    ``out_dir`` receives ``summary.html`` (before/after, the sizes of the proposed halls, each
    proposed site in words, then the audit with the proposed halls open, linking to every
    map), ``report.xlsx`` (headers in ``lang``: the audit with the proposed halls, the
    proposed sites, before/after and the hall sizes), ``proposals.csv``, ``groups.csv``
    (一站多居 groups; members joined by ``;``), ``uncoverable.csv``, ``data_problems.csv``
    (communities on map-data islands, left out of the siting, with the reason),
    ``scenario.csv`` (before/after), ``communities_after.csv``, ``solver.json`` and
    ``map.html``; each district's folder (named by :func:`safe_name`) its ``proposals.csv``,
    ``groups.csv`` (the groups that serve its communities) and ``map.html``. Every file is
    written atomically.

    Parameters
    ----------
    out_dir
        The folder; created if needed.
    result
        The proposal (:func:`coverage.siting.propose_halls`).
    after
        The audit with the proposed halls open (:func:`coverage.siting.verify_proposal`).
    districts
        Optional district polygons with a ``district`` column, any CRS.
    title
        Title of the maps and the summary page (district maps add the district name).
    lang, basemap, tianditu_key, offline
        Map options (see :func:`write_district_reports`); ``lang`` also sets the language of
        the summary page and the workbook.

    Returns
    -------
    dict of str to pathlib.Path
        District name → its folder; ``"(all)"`` → ``out_dir``.
    """
    check_lang(lang)
    maps = _MapWriter(lang, basemap, tianditu_key, offline)
    out = Path(out_dir)
    proposals = result.proposals.copy()
    proposals["members"] = proposals["members"].map(lambda m: ";".join(map(str, m)))
    groups = result.groups.copy()
    groups["members"] = groups["members"].map(lambda m: ";".join(map(str, m)))
    problems = after.communities.drop(columns=["reason", "reason_zh"]).merge(
        result.data_problems[["community_id", "reason", "reason_zh"]],
        on="community_id",
        how="inner",
    )
    for name, table in (
        ("proposals", proposals),
        ("groups", groups),
        ("uncoverable", result.uncoverable),
        ("data_problems", problems),
        ("scenario", result.scenario),
        ("communities_after", after.communities),
    ):
        write_csv(out / f"{name}.csv", table)
    write_json(out / "solver.json", {"model": result.model, **result.solver})
    assigned = after.communities.assign(site_id=result.communities["assigned_hall_id"].to_numpy())
    shown = _named_sites(result.proposals, lang)
    maps.save(
        out / "map.html",
        after,
        districts=districts,
        title=title,
        proposals=shown,
        assignments=assigned,
        data_problems=problems,
    )
    folders = {ALL_DISTRICTS: out}
    # one folder per district: the groups that serve its communities, and its map
    district_of = dict(
        zip(after.communities["community_id"], after.communities["district"], strict=True)
    )
    for name in sorted(after.communities["district"].astype(str).unique()):
        ddir = folders[name] = inside(out, out / safe_name(name))
        part_groups = groups[
            [any(district_of.get(c) == name for c in ms) for ms in result.groups["members"]]
        ]
        part_props = proposals[proposals["site_id"].isin(part_groups["hall_id"])]
        write_csv(ddir / "proposals.csv", part_props)
        write_csv(ddir / "groups.csv", part_groups)
        maps.save(
            ddir / "map.html",
            after.district(name),
            districts=district_polygon(districts, name),
            title=f"{title}: {name}",
            proposals=shown[shown["site_id"].isin(part_props["site_id"])],
            assignments=assigned[assigned["district"].astype(str) == name],
            data_problems=problems[problems["district"].astype(str) == name],
        )
    _proposal_pages(out, result, after, folders, title=title, lang=lang)
    return folders


def _named_sites(proposals: gpd.GeoDataFrame, lang: Lang) -> gpd.GeoDataFrame:
    """The proposals with a ``name`` for the maps: where each site lies, in words."""
    column = "description_zh" if lang == "zh" else "description"
    if column not in proposals.columns:
        return proposals
    words = proposals[column].fillna("").astype(str)
    return proposals.assign(name=words.where(words != "", proposals["site_id"].astype(str)))


def _proposal_pages(
    out: Path,
    result: ProposalResult,
    after: AuditResult,
    folders: dict[str, Path],
    *,
    title: str,
    lang: Lang,
) -> None:
    """The proposal's workbook and summary page (the audit with the proposed halls open)."""
    sheet = {"zh": ("现状与建议对比", "新建规模分布"), "en": ("before and after", "hall sizes")}
    scenario, sizes = sheet[lang]
    write_excel(
        out / "report.xlsx",
        after,
        proposals=proposal_table(result, lang),
        lang=lang,
        extra_sheets={scenario: result.scenario, sizes: result.size_distribution()},
    )
    everything = "全部" if lang == "zh" else "all districts"
    links: dict[str, str | PurePath] = {everything: "map.html"}
    links |= {d: PurePath(p.name, "map.html") for d, p in folders.items() if p != out}
    write_html_summary(
        out / "summary.html",
        after,
        title=title,
        maps=links,
        lang=lang,
        workbook="report.xlsx",
        lead=proposal_section_html(result, lang, after=after),
    )
