"""The door for planners: communities, halls, candidate sites and a network."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from coverage._errors import (
    DuplicateIdError,
    InputDataError,
    MissingColumnError,
    list_ids,
)
from coverage.audit import audit
from coverage.engine import fragment_segments, nearest_facility, snap, travel_time_matrix
from coverage.i18n import reason_text
from coverage.siting._describe import describe_sites
from coverage.siting._from_matrix import curve_table, run_model
from coverage.siting._problem import Input, capacity_households, prepare

if TYPE_CHECKING:
    import shapely
    from numpy.typing import NDArray

    from coverage.audit import AuditResult
    from coverage.config import Config
    from coverage.network import Network
    from coverage.siting._common import Model, Solver
    from coverage.siting._result import ProposalResult

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

logger = logging.getLogger(__name__)


def _with_islands(
    reasons: NDArray[np.object_],
    island: BoolArray,
    network: Network,
    seg: IntArray,
    cfg: Config,
) -> tuple[NDArray[np.object_], NDArray[np.object_] | None]:
    """The reasons with those of the islanders set, in English and (for them) Chinese."""
    if not island.any():
        return reasons, None
    zh = reasons.copy()
    reasons = reasons.copy()
    reasons[island] = _island_reasons(network, seg[island], cfg, "en")
    zh[island] = _island_reasons(network, seg[island], cfg, "zh")
    return reasons, zh


def _island_reasons(network: Network, seg: IntArray, cfg: Config, lang: str) -> list[str]:
    """Why communities on the given segments (on fragments) are left out of the siting."""
    piece = network.component_sizes[network.component[network.seg_u[seg]]]
    snap = f"{cfg.max_snap_m:g}"
    return [reason_text("data_problem", lang, snap=snap, nodes=int(k)) for k in piece]


def _without_rows(cost: sp.csr_matrix, drop: BoolArray) -> sp.csr_matrix:
    """The same matrix with the entries of the dropped rows removed (explicit zeros kept)."""
    coo = cost.tocoo()
    keep = ~drop[coo.row]
    return sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=cost.shape)


def _require(frame: object, columns: list[str], what: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        msg = f"{what}: a GeoDataFrame with a CRS is needed"
        raise InputDataError(msg)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{what}: missing column(s) {', '.join(map(repr, missing))}"
        raise MissingColumnError(msg)
    if len(frame) and not frame.geom_type.isin(["Point"]).all():
        bad = frame.index[~frame.geom_type.isin(["Point"])]
        msg = f"{what}: point geometries are needed (rows {list_ids(bad)} are not points)"
        raise InputDataError(msg)
    return frame


def _unique_ids(ids: pd.Series, what: str) -> None:
    dup = ids[ids.duplicated()]
    if len(dup):
        msg = f"{what}: duplicate identifiers {list_ids(dup.unique())}"
        raise DuplicateIdError(msg)


def candidate_sites(
    network: Network,
    *,
    spacing_m: float | None = None,
    communities: gpd.GeoDataFrame | None = None,
    include: gpd.GeoDataFrame | None = None,
    exclude: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites for new halls: your own sites, thinned network nodes, or communities.

    The sources given are combined (duplicates by ``site_id`` are an error). Existing halls
    are not candidates: pass them to :func:`propose_halls` as ``halls``, where they stay fixed.

    Parameters
    ----------
    network
        The network; its nodes are the generated candidates.
    spacing_m
        Generate one candidate per ``spacing_m`` × ``spacing_m`` cell (metres, in the
        network's metric CRS): the node nearest the centre of each cell that holds nodes.
    communities
        Use the community locations (``community_id``) as candidates, ``site_id = "C:<id>"``.
    include
        Your own sites: a point GeoDataFrame with ``site_id`` (any CRS); an optional
        ``floor_area_m2`` column (m²) gives each site's floor area for the capacitated model.
    exclude
        Polygons (any CRS; a bare shapely geometry is taken as EPSG:4326) where no hall may
        go, e.g. water, parks, rail yards: candidates inside or on them are removed.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``source`` (``"user"``, ``"network node"``, ``"community"``),
        ``floor_area_m2`` (m², ``nan`` where unknown); points in EPSG:4326.

    Raises
    ------
    InputDataError
        If no source is given, or ``spacing_m`` is not positive.
    DuplicateIdError
        If two candidates share a ``site_id``.

    Examples
    --------
    >>> from coverage.testing import grid_graph
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> sites = candidate_sites(net, spacing_m=600)
    >>> len(sites), sites["site_id"].iloc[0]
    (9, 'N:6')
    """
    parts: list[gpd.GeoDataFrame] = []
    if include is not None:
        inc = _require(include, ["site_id"], "include").to_crs(4326)
        area = inc["floor_area_m2"] if "floor_area_m2" in inc.columns else np.nan
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": inc["site_id"].to_numpy(),
                    "source": "user",
                    "floor_area_m2": np.asarray(area, dtype=float) if np.ndim(area) else np.nan,
                },
                geometry=inc.geometry.to_numpy(),
                crs=4326,
            )
        )
    if spacing_m is not None:
        if not spacing_m > 0:
            msg = f"spacing_m must be a positive number of metres, got {spacing_m!r}"
            raise InputDataError(msg)
        xy = network.node_xy
        # millimetre rounding keeps nodes of a regular grid off the cell borders
        rel = np.round(xy - xy.min(axis=0), 3)
        cell = np.floor(rel / spacing_m).astype(np.int64)
        centre = xy.min(axis=0) + (cell + 0.5) * spacing_m
        d = np.hypot(*(xy - centre).T)
        order = np.lexsort((np.arange(len(xy)), d, cell[:, 1], cell[:, 0]))
        c = cell[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = (c[1:] != c[:-1]).any(axis=1)
        nodes = np.sort(order[first])
        import shapely  # noqa: PLC0415

        pts = gpd.GeoSeries(shapely.points(xy[nodes]), crs=network.crs).to_crs(4326)
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": [f"N:{v}" for v in network.node_ids[nodes]],
                    "source": "network node",
                    "floor_area_m2": np.nan,
                },
                geometry=pts.to_numpy(),
                crs=4326,
            )
        )
    if communities is not None:
        com = _require(communities, ["community_id"], "communities").to_crs(4326)
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": [f"C:{v}" for v in com["community_id"]],
                    "source": "community",
                    "floor_area_m2": np.nan,
                },
                geometry=com.geometry.to_numpy(),
                crs=4326,
            )
        )
    if not parts:
        msg = "candidate_sites: give include=, spacing_m= or communities= (or several)"
        raise InputDataError(msg)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    _unique_ids(out["site_id"], "candidate sites")
    if exclude is not None:
        if isinstance(exclude, gpd.GeoDataFrame | gpd.GeoSeries):
            if exclude.crs is None:
                msg = "exclude: a CRS is needed"
                raise InputDataError(msg)
            zone = exclude.to_crs(4326).union_all()
        else:
            zone = exclude
        out = out[~out.geometry.intersects(zone)].reset_index(drop=True)
    return out


def _thresholds(com: gpd.GeoDataFrame, cfg: Config) -> FloatArray:
    return cfg.thresholds_min(com["kind"].astype(str).to_numpy())


def _households(com: gpd.GeoDataFrame, cfg: Config) -> FloatArray:
    pop = com["population"].to_numpy(dtype=float)
    if "households" not in com.columns:
        return cfg.households_from(pop)
    hh = pd.to_numeric(com["households"], errors="coerce").to_numpy(dtype=float)
    out: FloatArray = np.where(np.isnan(hh), cfg.households_from(pop), hh)
    return out


@dataclass
class _Routed:
    inp: Input
    timings: dict[str, float]


def _route(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    network: Network,
    cfg: Config,
    *,
    model: str,
    p: int | None,
    solver: str,
    max_floor_area_m2: float | None,
    include_islands: bool = False,
) -> _Routed:
    com = _require(communities, ["community_id", "kind", "population"], "communities")
    cand = _require(candidates, ["site_id"], "candidates")
    _unique_ids(com["community_id"], "communities")
    _unique_ids(cand["site_id"], "candidates")
    t0 = time.perf_counter()
    thr = _thresholds(com, cfg)
    c_snap = snap(network, com.geometry, config=cfg)
    s_snap = snap(network, cand.geometry, config=cfg)
    t1 = time.perf_counter()
    limit_s = float(thr.max()) * 60.0 if len(thr) else 0.0
    cost_s = travel_time_matrix(network, c_snap, s_snap, limit_s=limit_s)
    t2 = time.perf_counter()
    cost = sp.csr_matrix((cost_s.data / 60.0, cost_s.indices, cost_s.indptr), shape=cost_s.shape)
    island = np.zeros(len(com), dtype=bool)
    if not include_islands:  # map-data islands are a data problem, not demand
        island = c_snap.ok & fragment_segments(network)[np.maximum(c_snap.seg, 0)]
        if island.any():
            cost = _without_rows(cost, island)
    before = np.full(len(com), np.inf)
    hall_of = np.full(len(com), None, dtype=object)
    if halls is not None and len(halls):
        hal = _require(halls, ["hall_id"], "halls")
        near = nearest_facility(network, c_snap, snap(network, hal.geometry, config=cfg))
        before = near.time_s / 60.0
        ids = np.array([*hal["hall_id"].tolist(), None], dtype=object)
        hall_of = ids[near.facility]
    nearest_cand = nearest_facility(network, c_snap, s_snap)
    t3 = time.perf_counter()
    capacity = None
    if model == "capacitated":
        area = (
            pd.to_numeric(cand["floor_area_m2"], errors="coerce").to_numpy(dtype=float)
            if "floor_area_m2" in cand.columns
            else np.full(len(cand), np.nan)
        )
        new_hall_m2 = cfg.max_new_hall_m2 if max_floor_area_m2 is None else max_floor_area_m2
        if not (np.isfinite(new_hall_m2) and new_hall_m2 > 0):
            msg = (
                "the largest floor area of a new hall must be a positive number of m² (e.g. "
                f"{{max_floor_area_m2}}), got {new_hall_m2!r}"
            )
            raise InputDataError.naming(msg, max_floor_area_m2="800")
        area = np.where(np.isnan(area), float(new_hall_m2), area)
        capacity = capacity_households(area, config=cfg)
    inp = prepare(
        cost,
        com["population"].to_numpy(dtype=float),
        thr,
        existing_cover=before,
        existing_hall=hall_of,
        households=_households(com, cfg),
        capacity=capacity,
        community_ids=com["community_id"].to_numpy(dtype=object),
        site_ids=cand["site_id"].to_numpy(dtype=object),
        model=model,
        p=p,
        solver=solver,
        config=cfg,
    )
    inp.nearest_min = nearest_cand.time_s / 60.0
    reasons = np.full(len(com), "", dtype=object)
    off = ~c_snap.ok
    reasons[off] = [
        f"farther than {cfg.max_snap_m:g} m from every road usable by {network.mode} "
        f"({d:.0f} m): no site can reach it"
        for d in c_snap.dist_m[off]
    ]
    no_route = c_snap.ok & ~np.isfinite(inp.nearest_min)
    reasons[no_route] = "no route to any candidate site (separate piece of the road network)"
    inp.reasons, inp.reasons_zh = _with_islands(reasons, island, network, c_snap.seg, cfg)
    inp.data_problem = island if island.any() else None
    timings = {"snap_seconds": t1 - t0, "matrix_seconds": t2 - t1, "nearest_seconds": t3 - t2}
    return _Routed(inp, timings)


def propose_halls(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    network: Network,
    *,
    model: Model = "lscp",
    p: int | None = None,
    config: Config | None = None,
    time_limit_s: float = 60.0,
    max_floor_area_m2: float | None = None,
    solver: Solver = "auto",
    mip_gap: float = 0.0,
    existing_groups: bool = True,
    include_islands: bool = False,
) -> ProposalResult:
    """Propose new shared halls (一站多居) from candidate sites, over the road network.

    Parameters
    ----------
    communities
        ``community_id``, ``kind`` (``"urban"``/``"rural"``: 15/20-minute thresholds from
        ``config``), ``population``; optional ``households``; points, any CRS.
    halls
        Existing halls (``hall_id``; points, any CRS), kept fixed and counted as coverage;
        ``None`` or empty for none.
    candidates
        Candidate sites from :func:`candidate_sites` (``site_id``; optional
        ``floor_area_m2``, m²).
    network
        Network with its routing view; its mode and speed decide the travel times.
    model
        ``"lscp"``, ``"mclp"`` or ``"capacitated"`` (see the module notes).
    p
        Number of new halls for ``"mclp"``.
    config
        Thresholds (minutes), snap limit (metres), floor-area standard, household size.
    time_limit_s
        Wall-clock limit of the exact solver, seconds.
    max_floor_area_m2
        Capacitated model: the floor area (m²) of a new hall at a candidate without its own
        ``floor_area_m2``, i.e. the cap on a new hall's size; default
        ``config.max_new_hall_m2`` (800 m²). A community needing more than any site within
        reach holds gets a hall of its own, larger than the cap, and its proposal says so
        (``reason``).
    solver
        ``"auto"``, ``"cbc"``, ``"highs"`` or ``"greedy"``.
    mip_gap
        Relative optimality gap accepted (0 = prove optimality).
    existing_groups
        Also list the existing halls' groups.
    include_islands
        Plan for communities on map-data islands too (their only road within the snap limit
        is a fragment cut off from almost all of the network,
        :func:`coverage.engine.fragment_segments`). By default they are left out of the
        siting with status ``"data problem"`` (:attr:`ProposalResult.data_problems`): a hall
        built for a gap in the map serves nobody.

    Returns
    -------
    ProposalResult
        ``proposals`` carry the candidates' geometry (EPSG:4326) and where each lies in words
        (:func:`describe_sites`: ``road_name``, ``near_community``, ``description``,
        ``description_zh``); ``solver`` also holds the snapping, matrix and nearest-hall
        times (seconds).

    Raises
    ------
    MissingColumnError, DuplicateIdError, InputDataError
        For unusable inputs.
    InfeasibleAllocationError
        If the capacitated model cannot be satisfied; the message gives the numbers.

    Examples
    --------
    On the 5 × 5 test grid (300 m edges, 4 minutes each), B at (2, 2) is 16 minutes from
    both halls; one new hall covers it:

    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> sites = candidate_sites(net, spacing_m=600)
    >>> r = propose_halls(grid_communities(), grid_halls(), sites, net)
    >>> len(r.proposals), r.communities["status"].tolist()[1]
    (1, 'newly covered')
    >>> r.scenario[["scenario", "covered"]].to_dict("list")
    {'scenario': ['before', 'after'], 'covered': [4, 5]}
    """
    cfg = network.routing_config(config)
    routed = _route(
        communities,
        halls,
        candidates,
        network,
        cfg,
        model=model,
        p=p,
        solver=solver,
        max_floor_area_m2=max_floor_area_m2,
        include_islands=include_islands,
    )
    result = run_model(
        routed.inp, model, p, solver, time_limit_s, mip_gap, cfg, existing_groups=existing_groups
    )
    result.solver.update(routed.timings)
    cand = candidates.to_crs(4326).set_index(candidates["site_id"].to_numpy())
    geom = cand.geometry.reindex(result.proposals["site_id"].to_numpy()).to_numpy()
    result.proposals = result.proposals.set_geometry(
        gpd.GeoSeries(geom, index=result.proposals.index, crs=4326)
    )
    extra = [c for c in ("source", "floor_area_m2") if c in cand.columns]
    for col in extra:
        result.proposals[col] = cand[col].reindex(result.proposals["site_id"].to_numpy()).to_numpy()
    where = describe_sites(result.proposals, network, communities)
    for col in where.columns:
        result.proposals[col] = where[col].to_numpy()
    return result


def coverage_curve(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    network: Network,
    k: int,
    *,
    config: Config | None = None,
    solver: Solver = "auto",
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> pd.DataFrame:
    """Population covered with the best ``p`` new halls, ``p = 0 … k`` ("how many for 95 %?").

    Parameters
    ----------
    communities, halls, candidates, network, config
        As in :func:`propose_halls`.
    k
        Largest number of new halls.
    solver
        ``"auto"``, ``"cbc"``, ``"highs"`` or ``"greedy"``.
    time_limit_s
        Time limit of each solve, seconds.
    mip_gap
        Relative optimality gap accepted (0 = prove optimality).

    Returns
    -------
    pandas.DataFrame
        As :func:`coverage_curve_from_cost_matrix`: one row per ``p``, shares of the whole
        population with existing halls counted.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> sites = candidate_sites(net, spacing_m=600)
    >>> curve = coverage_curve(grid_communities(), grid_halls(), sites, net, 2)
    >>> curve["population_covered_share"].round(3).tolist()
    [0.655, 1.0, 1.0]
    """
    if isinstance(k, bool) or int(k) != k or k < 0:
        msg = f"k must be a whole number >= 0, got {k!r}"
        raise InputDataError(msg)
    cfg = network.routing_config(config)
    routed = _route(
        communities,
        halls,
        candidates,
        network,
        cfg,
        model="mclp",
        p=0,
        solver=solver,
        max_floor_area_m2=None,
    )
    return curve_table(routed.inp, int(k), solver, time_limit_s, mip_gap)


def verify_proposal(
    result: ProposalResult,
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame | None,
    network: Network,
    *,
    config: Config | None = None,
) -> AuditResult:
    """Re-run the routed audit with the existing halls plus the proposed ones.

    Parameters
    ----------
    result
        A result of :func:`propose_halls` (its proposals need geometries).
    communities, halls, network
        The inputs given to :func:`propose_halls`.
    config
        Defaults to the configuration of ``result``.

    Returns
    -------
    coverage.audit.AuditResult
        The audit; proposed halls have ``hall_id`` = ``site_id``, ``kind="proposed"`` and
        ``floor_area_m2`` = the floor area they need (m²).

    Raises
    ------
    InputDataError
        If the proposals have no geometry (a result of the cost-matrix door).

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> sites = candidate_sites(net, spacing_m=600)
    >>> r = propose_halls(grid_communities(), grid_halls(), sites, net)
    >>> audit = verify_proposal(r, grid_communities(), grid_halls(), net)
    >>> bool(audit.communities["covered"].all())
    True
    """
    cfg = config or result.config
    prop = result.proposals
    if len(prop) and prop.geometry.isna().any():
        msg = "verify_proposal: the proposals have no geometry (use propose_halls())"
        raise InputDataError(msg)
    new = gpd.GeoDataFrame(
        {
            "hall_id": prop["site_id"].to_numpy(),
            "name": [f"proposed {s}" for s in prop["site_id"]],
            "kind": "proposed",
            "floor_area_m2": prop["floor_area_needed_m2"].to_numpy(dtype=float),
        },
        geometry=prop.geometry.to_numpy(),
        crs=4326,
    )
    parts = [new]
    if halls is not None and len(halls):
        old = halls.to_crs(4326).copy()
        parts.insert(0, old)
    all_halls = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    return audit(communities, all_halls, network, config=cfg)
