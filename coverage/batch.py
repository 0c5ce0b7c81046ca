"""City- and province-scale audits: one independent job per district.

A whole city or province is audited as a batch of district jobs. Each job

1. clips the network to the district polygon plus a buffer (:func:`clip_network`; people
   cross district lines to reach a hall, so roads just outside the district must stay),
2. takes the district's communities (by their ``district`` column) and every hall inside the
   buffered polygon (halls of neighbouring districts count), and
3. runs :func:`coverage.audit.audit` on the clipped network (:func:`audit_district`).

:func:`run_batch` runs the jobs one after another in this process (``workers=1``), on local
worker processes (``workers>1``, a :class:`dask.distributed.LocalCluster`), or on an existing
dask.distributed cluster (``scheduler="tcp://host:8786"``). The network's flat arrays
(:class:`~coverage.network.EdgeTable`) are sent to every worker once; each job rebuilds the
routing view of its own clipped part there. The combined result lists every community of the
batch exactly once, in input order; a district whose job fails is reported in
:attr:`BatchResult.failures` and does not lose the others.

The ``audit`` command does not clip: with ``--workers`` it audits the whole network once, as
without, and spreads the district folders over the processes (a
:class:`~coverage.pool.DistrictPool`), because routing is a small share of a run and
one audit gives the same figures whatever the number of processes. Clipped district jobs are
for a Python user who cannot hold the whole network, e.g. a province read district by
district (``load_network(..., bbox=...)``).

The buffer decides whether a district's result equals the whole-network audit (measured in
``bench/README.md``, "District buffers"). The default, 2,000 m, is the walk of the longest
threshold (20 min at 4.5 km/h = 1,500 m) plus the snap limit (500 m); for faster modes use
``threshold × speed + max_snap_m``.
"""

from __future__ import annotations

import logging
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._errors import InputDataError, MissingColumnError, list_ids
from coverage._files import inside, safe_name, write_csv, write_json
from coverage._validate import match_names
from coverage.audit import (
    AuditResult,
    add_floor_area_adequacy,
    audit,
    district_table,
    serving_districts,
)
from coverage.config import DEFAULT_CONFIG, Config
from coverage.network import (
    DEFAULT_BUFFER_M,
    EdgeTable,
    Network,
    clip_config,
    clip_network,
    clip_to_area,
    metric_area,
    network_source,
)
from coverage.pool import DistrictPool

if TYPE_CHECKING:
    from collections.abc import Sequence

    from distributed import Client
    from numpy.typing import NDArray

__all__ = [
    "DEFAULT_BUFFER_M",
    "BatchFailure",
    "BatchResult",
    "DistrictPool",
    "DistrictWriter",
    "audit_district",
    "clip_network",  # (lives in coverage.network; kept here, where it was first)
    "run_batch",
    "write_district",
]

logger = logging.getLogger(__name__)

#: Column that carries each row's input position through the jobs (removed from results).
_ROW = "_batch_row"


Stage = Literal["input", "audit", "write"]


class DistrictWriter(Protocol):
    """A function that writes one district's files: ``write(district, result, folder)``."""

    def __call__(self, district: str, result: AuditResult, folder: Path) -> object:
        """Write the files of ``district`` (its :class:`AuditResult`) into ``folder``."""


@dataclass(frozen=True)
class BatchFailure:
    """A district job that failed.

    Attributes
    ----------
    district
        District name.
    error
        ``"<ExceptionType>: <message>"``.
    stage
        ``"audit"`` (clipping or auditing failed: the district has no result) or ``"write"``
        (the result exists, writing its files failed).
    traceback
        The formatted traceback, for bug reports.
    """

    district: str
    error: str
    stage: Stage = "audit"
    traceback: str = field(default="", repr=False)


@dataclass
class BatchResult:
    """Result of :func:`run_batch`.

    Attributes
    ----------
    communities
        Every community of the audited districts exactly once, in input order and with the
        input index; columns as :attr:`coverage.audit.AuditResult.communities`; EPSG:4326.
    halls
        Every input hall once, in input order: snapping status from the jobs it took part in,
        communities / population / households served summed over all jobs, floor-area
        adequacy recomputed from those sums, and the district most of its communities are in.
    districts
        :func:`coverage.audit.district_table` of :attr:`communities` (total row ``"(all)"``).
    results
        Each successful district's own :class:`~coverage.audit.AuditResult` (its communities,
        the halls of its buffered polygon, the network summary of its clipped network).
    failures
        The district jobs that failed (:class:`BatchFailure`), in district order.
    not_audited
        Communities of the requested districts whose job failed (input columns, input order);
        together with :attr:`communities` every requested community appears exactly once.
    config
        Configuration used for the audits, with the network's mode, speed and metric CRS
        filled in (every district is routed in that CRS).
    network
        Summary of the whole (unclipped) network.
    buffer_m
        Buffer around each district polygon, metres.
    seconds
        Wall time of each district job, seconds (clip + audit + write), and ``"(all)"`` for
        the whole batch including start-up of worker processes.
    """

    communities: gpd.GeoDataFrame
    halls: gpd.GeoDataFrame
    districts: pd.DataFrame
    results: dict[str, AuditResult]
    failures: list[BatchFailure]
    not_audited: gpd.GeoDataFrame
    config: Config
    network: dict[str, Any]
    buffer_m: float
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every district job succeeded."""
        return not self.failures

    def to_audit_result(self) -> AuditResult:
        """The combined result as one :class:`~coverage.audit.AuditResult`.

        Returns
        -------
        AuditResult
            Combined communities, halls and district table; ``result.district(name)`` then
            gives one district's part, as for a whole-network audit.
        """
        return AuditResult(
            self.communities, self.halls, self.districts, self.config, dict(self.network)
        )

    def __repr__(self) -> str:
        """Short text form: districts, communities, failures."""
        return (
            f"BatchResult({len(self.results)} district(s) audited, {len(self.communities)} "
            f"communities, {len(self.failures)} failure(s), buffer {self.buffer_m:g} m)"
        )


# --------------------------------------------------------------------------------------------
# one district


def _require_district(frame: pd.DataFrame, what: str) -> None:
    if "district" not in frame.columns:
        msg = (
            f"{what}: missing column 'district'; load the file with "
            "coverage.io.read_communities() to map Chinese or English headers (所属区县, 区县, 区)"
        )
        raise MissingColumnError(msg)


def _district_names(communities: pd.DataFrame) -> pd.Series:
    """District name of each community as :func:`coverage.audit.audit` labels it."""
    return communities["district"].fillna("(none)").astype(str)


def _halls_inside(halls: gpd.GeoDataFrame, area: shapely.Geometry, crs: str) -> NDArray[np.bool_]:
    if halls.crs is None:
        msg = "halls: a GeoDataFrame with a CRS is needed"
        raise InputDataError(msg)
    if len(halls) == 0:
        return np.zeros(0, dtype=bool)
    xy = shapely.get_coordinates(halls.geometry.to_crs(crs).representative_point().values)
    return np.asarray(shapely.contains_xy(area, xy[:, 0], xy[:, 1]), dtype=bool)


def audit_district(
    district: str,
    polygon: shapely.Geometry,
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    network: Network | EdgeTable,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    config: Config | None = None,
) -> AuditResult:
    """Audit one district on the network clipped to its polygon plus a buffer.

    Parameters
    ----------
    district
        District name, as in the communities' ``district`` column.
    polygon
        The district's polygon, degrees, EPSG:4326.
    communities
        Communities (all districts may be passed; those whose ``district`` is ``district``
        are audited), as for :func:`coverage.audit.audit`.
    halls
        Halls (all may be passed; those inside the buffered polygon take part, whichever
        district they belong to).
    network
        The whole network (:class:`~coverage.network.Network` or
        :class:`~coverage.network.EdgeTable`), clipped with :func:`clip_network`.
    buffer_m
        Buffer around the polygon, metres. Communities near the district's edge whose best
        route or nearest hall lies beyond the buffer get a worse time than on the whole
        network.
    config
        Thresholds, snap limit and standards for the audit (see :func:`clip_network` for
        the routing settings).

    Returns
    -------
    AuditResult
        The district's communities (input index), the halls inside the buffered polygon,
        and the district's table.

    Raises
    ------
    InputDataError
        If no community belongs to ``district``, or the polygon or buffer is unusable.
    NetworkError
        If no road lies within the buffered polygon.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import shapely
    >>> from coverage.network import load_network
    >>> from coverage.testing import GRID_CRS, grid_communities, grid_graph, grid_halls, grid_xy
    >>> east = gpd.GeoSeries([shapely.box(*grid_xy(-0.5, 2.25), *grid_xy(4.5, 4.5))],
    ...                      crs=GRID_CRS).to_crs(4326).iloc[0]
    >>> r = audit_district("East", east, grid_communities(), grid_halls(),
    ...                    load_network(grid_graph()), buffer_m=500)
    >>> r.communities["travel_time_min"].tolist(), r.halls["hall_id"].tolist()
    ([14.0, 14.0], ['H2'])
    """
    return _audit_district(district, polygon, communities, halls, network, buffer_m, config)


def _audit_district(
    district: str,
    polygon: shapely.Geometry,
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    network: Network | EdgeTable,
    buffer_m: float,
    config: Config | None,
    source: str | None = None,
) -> AuditResult:
    _require_district(communities, "communities")
    cfg_route = clip_config(network, config)
    crs = str(cfg_route.metric_crs)
    com = communities[(_district_names(communities) == district).to_numpy()]
    if com.empty:
        known = sorted(_district_names(communities).unique())
        msg = f"no community in district {district!r}; districts: {list_ids(known)}"
        raise InputDataError(msg)
    area = metric_area(polygon, crs, buffer_m, district)
    net = clip_to_area(network, area, cfg_route, district, buffer_m, source)
    hal = halls[_halls_inside(halls, area, crs)]
    return audit(com, hal, net, config=config)


# --------------------------------------------------------------------------------------------
# the batch


@dataclass
class _Job:
    """What a worker needs for one district (the network and halls are shipped apart)."""

    district: str
    polygon: shapely.Geometry
    communities: gpd.GeoDataFrame
    folder: Path | None
    source: str


@dataclass
class _Outcome:
    district: str
    result: AuditResult | None = None
    community_rows: NDArray[np.int64] | None = None
    hall_rows: NDArray[np.int64] | None = None
    failures: list[BatchFailure] = field(default_factory=list)
    warnings: list[tuple[type[Warning], str]] = field(default_factory=list)
    seconds: float = 0.0


def _lost_job(job: _Job, exc: BaseException) -> _Outcome:
    """The outcome of a job whose worker died for good."""
    return _Outcome(job.district, failures=[_failure(job.district, exc, "audit")])


def _failure(district: str, exc: BaseException, stage: Stage) -> BatchFailure:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return BatchFailure(district, f"{type(exc).__name__}: {exc}", stage, tb)


def _run_job(
    job: _Job,
    network: Network | EdgeTable,
    halls: gpd.GeoDataFrame,
    buffer_m: float,
    config: Config | None,
    write: DistrictWriter | None,
) -> _Outcome:
    """One district job; never raises (errors become failures of the outcome)."""
    t0 = time.perf_counter()
    out = _Outcome(job.district)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = _audit_district(
                job.district,
                job.polygon,
                job.communities,
                halls,
                network,
                buffer_m,
                config,
                job.source,
            )
        except Exception as exc:  # noqa: BLE001 (one district's failure must not stop the batch)
            out.failures.append(_failure(job.district, exc, "audit"))
        else:
            out.community_rows = result.communities[_ROW].to_numpy(np.int64)
            out.hall_rows = result.halls[_ROW].to_numpy(np.int64)
            result.communities = result.communities.drop(columns=_ROW)
            result.halls = result.halls.drop(columns=_ROW)
            out.result = result
            if write is not None and job.folder is not None:
                try:
                    write(job.district, result, job.folder)
                except Exception as exc:  # noqa: BLE001
                    out.failures.append(_failure(job.district, exc, "write"))
    out.warnings = [(w.category, str(w.message)) for w in caught]
    out.seconds = time.perf_counter() - t0
    return out


def write_district(district: str, result: AuditResult, folder: Path) -> None:
    """Default writer of :func:`run_batch`: ``communities.csv``, ``halls.csv``, ``summary.json``.

    Every file is written atomically (see :mod:`coverage.reports`).

    Parameters
    ----------
    district
        District name (stored in ``summary.json``).
    result
        The district's audit result.
    folder
        Destination folder; created if needed.
    """
    from coverage.reports import district_summary  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "communities.csv", result.communities)
    write_csv(folder / "halls.csv", result.halls)
    write_json(
        folder / "summary.json",
        district_summary(result) | {"district": district, "folder": folder.name},
    )


def _select(
    names_in_data: list[str], polygons: dict[str, shapely.Geometry], names: object
) -> list[str]:
    """The districts to run (full names or their beginnings), with a community and a polygon."""
    if isinstance(names, str) and names == "all":
        wanted = names_in_data
    else:
        try:
            given = [names] if isinstance(names, str) else [str(d) for d in names]  # type: ignore[attr-defined]
        except TypeError:
            msg = f"names must be 'all' or a list of district names, got {names!r}"
            raise InputDataError(msg) from None
        wanted = match_names(given, names_in_data, what="district")
    no_polygon = [d for d in wanted if d not in polygons]
    if no_polygon:
        msg = (
            f"districts: no polygon for district(s) {list_ids(no_polygon)} of the "
            f"communities; polygons are given for: {list_ids(sorted(polygons))}"
        )
        raise InputDataError(msg)
    return wanted


def _polygons(districts: gpd.GeoDataFrame) -> dict[str, shapely.Geometry]:
    if not isinstance(districts, gpd.GeoDataFrame) or districts.crs is None:
        msg = "districts: a GeoDataFrame of district polygons with a CRS is needed"
        raise InputDataError(msg)
    if "district" not in districts.columns:
        msg = (
            "districts: missing column 'district' (the district name); columns: "
            f"{', '.join(map(str, districts.columns))}"
        )
        raise MissingColumnError(msg)
    frame = districts.to_crs(4326)
    out: dict[str, shapely.Geometry] = {}
    for name, part in frame.groupby(frame["district"].astype(str), sort=True):
        geoms = [g for g in part.geometry.to_numpy() if g is not None]
        # several rows of one district are joined; a broken polygon is left for its job to
        # report, so one district's bad geometry does not stop the others
        out[str(name)] = geoms[0] if len(geoms) == 1 else _union(geoms)
    return out


def _union(geoms: list[shapely.Geometry]) -> shapely.Geometry:
    try:
        return shapely.union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.GeometryCollection(geoms)


def _folders(names: list[str], out_dir: Path) -> dict[str, Path]:

    used: set[str] = set()
    out: dict[str, Path] = {}
    for name in names:
        folder = safe_name(name)
        while folder in used:
            folder += "_"
        used.add(folder)
        out[name] = inside(out_dir, out_dir / folder)
    return out


def _network_summary(network: Network | EdgeTable, cfg: Config) -> dict[str, Any]:
    if isinstance(network, Network):
        return network.summary()
    return {
        "source": network.meta.get("source", "table"),
        "mode": cfg.mode,
        "speed_kph": cfg.speed_kph,
        "nodes": len(network.node_ids),
        "edges": len(network.u),
    }


def run_batch(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    network: Network | EdgeTable,
    districts: gpd.GeoDataFrame,
    *,
    names: Literal["all"] | Sequence[str] = "all",
    buffer_m: float = DEFAULT_BUFFER_M,
    workers: int = 1,
    scheduler: str | Client | DistrictPool | None = None,
    out_dir: str | Path | None = None,
    write: DistrictWriter | None = None,
    config: Config | None = None,
) -> BatchResult:
    """Audit many districts as independent jobs, serially or on dask workers.

    Parameters
    ----------
    communities
        Communities of every district, with a ``district`` column (as for
        :func:`coverage.audit.audit`).
    halls
        Every hall; each job uses those inside its district's buffered polygon.
    network
        The whole network (:class:`~coverage.network.Network`, or its
        :class:`~coverage.network.EdgeTable` with mode and speeds from ``config``).
    districts
        District polygons with a ``district`` name column, any CRS. Several rows of one
        name are joined.
    names
        ``"all"`` (every district of the communities) or a list of district names.
    buffer_m
        Buffer around each district polygon, metres.
    workers
        1: run the jobs one after another in this process. More: start a
        :class:`dask.distributed.LocalCluster` of that many single-threaded worker
        processes for this batch (closed at the end), unless the first district, timed here,
        shows less than ``config.parallel_pays_s`` seconds of work left: then the rest runs
        here too, with a :class:`~coverage.CoverageWarning` saying so.
    scheduler
        Address of an existing dask.distributed scheduler (``"tcp://host:8786"``), or a
        connected :class:`dask.distributed.Client`, or a :class:`DistrictPool` shared with
        the run's other steps; ``workers`` is then ignored. The cluster is left running.
    out_dir
        Folder for per-district output: ``out_dir/<safe district name>/`` (see
        :func:`coverage.reports.safe_name`). On a remote cluster it must be a folder the
        workers can write to.
    write
        ``write(district, result, folder)`` writes one district's files; it runs inside the
        job, on the worker, right after the district's audit. Default with ``out_dir``:
        :func:`write_district`. A failing write is reported in
        :attr:`BatchResult.failures` with ``stage="write"``; the audit result is kept.
    config
        Thresholds, snap limit and standards (and mode, speeds and metric CRS when
        ``network`` is an :class:`~coverage.network.EdgeTable`).

    Returns
    -------
    BatchResult
        Combined and per-district results, failures and timings.

    Raises
    ------
    MissingColumnError
        If ``communities`` or ``districts`` has no ``district`` column.
    InputDataError
        If a requested district has no community or no polygon, or ``workers`` < 1.
    ImportError
        If ``workers`` > 1 or ``scheduler`` is given and dask.distributed is not installed.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import shapely
    >>> from coverage.network import load_network
    >>> from coverage.testing import GRID_CRS, grid_communities, grid_graph, grid_halls, grid_xy
    >>> boxes = [shapely.box(*grid_xy(-0.5, -0.5), *grid_xy(4.5, 2.25)),
    ...          shapely.box(*grid_xy(-0.5, 2.25), *grid_xy(4.5, 4.5))]
    >>> zones = gpd.GeoDataFrame({"district": ["West", "East"]}, geometry=boxes, crs=GRID_CRS)
    >>> batch = run_batch(grid_communities(), grid_halls(), load_network(grid_graph()), zones,
    ...                   buffer_m=1000)
    >>> batch.communities["travel_time_min"].tolist(), batch.ok
    ([4.0, 16.0, 14.0, 12.0, 14.0], True)
    >>> batch.districts["district"].tolist()
    ['East', 'West', '(all)']
    """
    t_start = time.perf_counter()
    cfg = (
        network.routing_config(config) if isinstance(network, Network) else config or DEFAULT_CONFIG
    )
    _require_district(communities, "communities")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        msg = f"workers must be a whole number >= 1, got {workers!r}"
        raise InputDataError(msg)
    if write is not None and out_dir is None:
        msg = "write= needs out_dir= (the folder each district's files go to)"
        raise InputDataError(msg)
    if not isinstance(buffer_m, int | float) or not np.isfinite(buffer_m) or buffer_m < 0:
        msg = f"buffer_m must be a number of metres >= 0, got {buffer_m!r}"
        raise InputDataError(msg)
    polygons = _polygons(districts)
    com_names = _district_names(communities)
    names = _select(sorted(com_names.unique()), polygons, names)
    com = communities.copy()
    com[_ROW] = np.arange(len(com), dtype=np.int64)
    hal = halls.copy()
    hal[_ROW] = np.arange(len(hal), dtype=np.int64)
    folders = _folders(names, Path(out_dir)) if out_dir is not None else {}
    writer: DistrictWriter | None = (write or write_district) if out_dir is not None else None
    source = network_source(network)
    jobs = [
        _Job(d, polygons[d], com[(com_names == d).to_numpy()], folders.get(d), source)
        for d in names
    ]
    # every part is routed in the same metric CRS, mode and speed as the whole network; the
    # same settings go with the table to dask workers, so both paths give the same result
    cfg = clip_config(network, cfg)
    logger.info("batch: %d district job(s), buffer %g m", len(jobs), buffer_m)
    table = network.table if isinstance(network, Network) else network
    pool = (
        scheduler
        if isinstance(scheduler, DistrictPool)
        else DistrictPool(workers, scheduler, config=cfg)
    )
    try:
        outcomes = pool.run(
            _run_job,
            jobs,
            (network, hal, buffer_m, cfg, writer),
            remote=(table, hal, buffer_m, cfg, writer),  # workers clip the flat arrays
            desc="districts",
            on_error=_lost_job,
        )
    finally:
        if pool is not scheduler:
            pool.close()
    for o in outcomes:
        logger.info("district %s done in %.2f s", o.district, o.seconds)
    for o in outcomes:
        for category, message in o.warnings:
            warnings.warn(f"district {o.district!r}: {message}", category, stacklevel=2)
    result = _combine(outcomes, communities, halls, com_names, cfg, buffer_m)
    result.network = _network_summary(network, cfg)
    result.seconds["(all)"] = time.perf_counter() - t_start
    return result


def _combine(
    outcomes: list[_Outcome],
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    com_names: pd.Series,
    cfg: Config,
    buffer_m: float,
) -> BatchResult:
    ok = [o for o in outcomes if o.result is not None]
    failures = [f for o in outcomes for f in o.failures]
    results = {o.district: o.result for o in ok if o.result is not None}
    if ok:
        parts = [o.result.communities for o in ok if o.result is not None]
        rows = np.concatenate([o.community_rows for o in ok if o.community_rows is not None])
        combined = pd.concat(parts)
        combined = combined.iloc[np.argsort(rows, kind="stable")]
        com_out = gpd.GeoDataFrame(combined, geometry="geometry", crs=4326)
    else:
        com_out = gpd.GeoDataFrame(
            communities.iloc[:0].to_crs(4326), geometry=communities.geometry.name
        )
    failed = {o.district for o in outcomes if o.result is None}
    not_audited = communities[com_names.isin(failed).to_numpy()]
    table = district_table(com_out) if ok else pd.DataFrame()
    hall_out = _combine_halls(ok, halls, com_out, cfg)
    seconds = {o.district: o.seconds for o in outcomes}
    return BatchResult(
        communities=com_out,
        halls=hall_out,
        districts=table,
        results=results,
        failures=failures,
        not_audited=not_audited,
        config=cfg,
        network={},
        buffer_m=float(buffer_m),
        seconds=seconds,
    )


_SUMMED = ["communities_served", "communities_covered", "population_served", "households_served"]


def _combine_halls(
    ok: list[_Outcome], halls: gpd.GeoDataFrame, communities: pd.DataFrame, cfg: Config
) -> gpd.GeoDataFrame:
    """One row per input hall, with the served counts summed over the jobs."""
    out = halls.to_crs(4326)
    n = len(out)
    parts = [
        o.result.halls.assign(**{_ROW: o.hall_rows})
        for o in ok
        if o.result is not None and o.hall_rows is not None
    ]
    if not parts:
        return out
    joined = pd.concat([pd.DataFrame(p.drop(columns=p.geometry.name)) for p in parts])
    sums = joined.groupby(_ROW)[_SUMMED].sum().reindex(range(n), fill_value=0)
    # snapping: the job where the hall lies closest to a road (the same road in every job
    # unless a buffer cut it off)
    best = joined.sort_values([_ROW, "snap_dist_m"]).drop_duplicates(_ROW).set_index(_ROW)
    best = best.reindex(range(n))
    seen = best["snap_dist_m"].notna().to_numpy()
    if "name" not in out.columns:
        out["name"] = out["hall_id"].astype(str)
    if "floor_area_m2" not in out.columns:
        out["floor_area_m2"] = np.nan
    out["snap_dist_m"] = best["snap_dist_m"].to_numpy()
    out["on_network"] = (
        best["on_network"].astype("boolean").fillna(value=False).to_numpy(bool) & seen
    )
    out["status"] = np.where(
        seen, best["status"].astype(object), "outside every district's buffered polygon"
    )
    for col in _SUMMED:
        values = sums[col].to_numpy()
        out[col] = values.astype(int) if col.startswith("communities") else values.astype(float)
    add_floor_area_adequacy(out, cfg)
    out["district"] = serving_districts(
        out["hall_id"].to_numpy(), communities["nearest_hall_id"], communities["district"]
    )
    return out
