"""Applying a scenario to the baseline and auditing the edited situation."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import shapely

from coverage._errors import CoverageWarning, ScenarioError, counted, list_ids
from coverage.audit import AuditResult, audit
from coverage.engine import snap_many, snap_xy
from coverage.network import build_routing, clip_config
from coverage.scenarios._frames import edit_communities, edit_halls, empty_roads, to_metric
from coverage.scenarios._model import CUT_OFF_SHARE, Barrier, Scenario
from coverage.scenarios._roads import RoadEditor

if TYPE_CHECKING:
    import geopandas as gpd

    from coverage.config import Config
    from coverage.network import Network


@dataclass
class EditedInputs:
    """A scenario's edited inputs (:func:`apply_scenario`).

    Attributes
    ----------
    scenario
        The scenario.
    communities, halls
        The edited frames (the input index kept; new halls get new rows at the end).
    network
        The baseline network itself, or (after road edits) an edited copy.
    config
        The routing configuration (the network's mode and speed).
    hall_changes
        One row per closed, added or moved hall: ``hall_id``, ``name``, ``change``
        (``"closed"``, ``"added"``, ``"moved"``), ``edit``; its new place (the old one for a
        closed hall), EPSG:4326.
    roads
        The edited roads: ``edit``, ``change`` (``"added"``, ``"closed"``, ``"barrier"``,
        ``"speed"``), ``name``; lines or polygons, EPSG:4326.
    baseline
        The baseline inputs ``(communities, halls, network)``.
    seconds
        Time taken by each step, seconds.
    """

    scenario: Scenario
    communities: gpd.GeoDataFrame
    halls: gpd.GeoDataFrame
    network: Network
    config: Config
    hall_changes: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    baseline: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Network]
    seconds: dict[str, float] = field(default_factory=dict)


def apply_scenario(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    network: Network,
    scenario: Scenario,
    *,
    config: Config | None = None,
) -> EditedInputs:
    """Apply a scenario's edits to the baseline inputs, checking each against the baseline.

    Parameters
    ----------
    communities, halls
        The baseline inputs as :func:`coverage.audit.audit` takes them (never changed).
    network
        The baseline network (never changed: road edits build an edited copy).
    scenario
        The edits.
    config
        As for :func:`coverage.audit.audit` (``max_snap_m``, metres, decides how far a new
        link's ends and a new hall may lie from a road).

    Returns
    -------
    EditedInputs
        The edited inputs and what changed.

    Raises
    ------
    ScenarioError
        Naming the edit of every problem: an unknown hall to close or move, a new hall id
        that exists, a community id or district that does not exist, a new link or hall far
        from every road, a road to close or a barrier that crosses no road, a speed change
        that matches no road.
    """
    cfg = network.routing_config(config)
    started = time.perf_counter()
    problems: list[str] = []
    labels = scenario.labels()
    new_com = edit_communities(communities, scenario, labels, problems)
    new_halls, changes, placed = edit_halls(halls, scenario, labels, problems)
    seconds = {"frames": time.perf_counter() - started}
    net = network
    roads = empty_roads()
    if scenario.has_road_edits:
        t0 = time.perf_counter()
        edited = RoadEditor(network, cfg, scenario, labels, problems)
        seconds["table"] = time.perf_counter() - t0
        roads = edited.drawn
        if not problems:
            t0 = time.perf_counter()
            net = build_routing(
                edited.table,
                config=clip_config(network, cfg),
                source=f"{network.source} [scenario {scenario.name}]",
                edge_speed_kph=edited.speed,
            )
            seconds["build_routing"] = time.perf_counter() - t0
    if placed and not problems:  # new and moved halls must lie within reach of a road
        xy = np.array([p for _, p in placed])
        got = snap_xy(net, to_metric(net, xy), config=cfg)
        for (label, _), dist in zip(placed, got.dist_m, strict=True):
            if not dist <= cfg.max_snap_m:
                problems.append(
                    f"{label}: the hall lies {dist:,.0f} m from every road usable by "
                    f"{net.mode} (limit {cfg.max_snap_m:g} m)"
                )
    if problems:
        raise ScenarioError(f"{scenario.where}: " + f"; {scenario.where}: ".join(problems))
    seconds["apply"] = time.perf_counter() - started
    return EditedInputs(
        scenario,
        new_com,
        new_halls,
        net,
        cfg,
        changes,
        roads,
        (communities, halls, network),
        seconds,
    )


def audit_edited(edited: EditedInputs, *, baseline: AuditResult | None = None) -> AuditResult:
    """Audit a scenario's edited inputs (:func:`apply_scenario`).

    Parameters
    ----------
    edited
        The edited inputs.
    baseline
        The baseline's audit, used to check barriers (computed when needed and not given).

    Returns
    -------
    AuditResult
        The audit of the edited situation.

    Raises
    ------
    ScenarioError
        If the scenario's barriers leave most communities without any reachable hall
        (more than :data:`CUT_OFF_SHARE` of them, where they reached one before).

    Warns
    -----
    CoverageWarning
        If communities or halls reach their nearest road across a barrier's boundary (their
        straight off-road walk is not stopped by it); the message names them.
    """
    result = audit(edited.communities, edited.halls, edited.network, config=edited.config)
    barriers = [
        lab
        for lab, e in zip(edited.scenario.labels(), edited.scenario.edits, strict=True)
        if isinstance(e, Barrier)
    ]
    if barriers:
        if baseline is None:
            com, halls, net = edited.baseline
            baseline = audit(com, halls, net, config=edited.config)
        before = baseline.communities["nearest_hall_id"].notna().to_numpy()
        after = result.communities["nearest_hall_id"].notna().to_numpy()
        cut = int((before & ~after).sum())
        n = len(before)
        if cut > CUT_OFF_SHARE * n:
            msg = (
                f"{edited.scenario.where}: {', '.join(barriers)}: the barrier cuts off "
                f"{cut:,} of {counted(n, 'community', 'communities')} from every hall "
                f"(communities: {list_ids(result.communities['community_id'][before & ~after])}); "
                "check the polygon and its coordinate system"
            )
            raise ScenarioError(msg)
        _warn_across(edited, result, barriers)
    return result


def _warn_across(edited: EditedInputs, result: AuditResult, labels: list[str]) -> None:
    """Warn about communities and halls whose straight walk to their road crosses a barrier."""
    polygons = edited.roads[edited.roads["change"] == "barrier"]
    if polygons.empty:
        return
    net = edited.network
    boundary = shapely.union_all(
        [shapely.transform(g, lambda xy: to_metric(net, xy)).boundary for g in polygons.geometry]
    )
    shapely.prepare(boundary)
    found: dict[str, list[str]] = {"en": [], "zh": []}
    for frame, id_col, what, zh in (
        (result.communities, "community_id", ("community", "communities"), "个社区"),
        (result.halls, "hall_id", ("hall", "halls"), "处服务中心"),
    ):
        points = frame.geometry.to_crs(4326)
        snapped = snap_many(net, [points], config=edited.config)[0]
        ok = np.flatnonzero(snapped.ok)
        if not len(ok):
            continue
        xy = net.points_xy(points.iloc[ok])
        road = shapely.line_interpolate_point(
            net.seg_geom[snapped.seg[ok]], snapped.frac[ok], normalized=True
        )
        walks = shapely.linestrings(np.stack([xy, shapely.get_coordinates(road)], axis=1))
        across = ok[shapely.intersects(boundary, walks)]
        if len(across):
            ids = frame[id_col].iloc[across]
            found["en"].append(f"{counted(len(across), *what)} ({list_ids(ids)})")
            found["zh"].append(f"{len(across)} {zh}（{list_ids(ids, lang='zh')}）")
    if found["en"]:
        where, edits = edited.scenario.where, ", ".join(labels)
        zh = (
            f"{where}：{edits}：{'、'.join(found['zh'])}到最近道路的直线步行穿过阻隔区域边界"
            "（阻隔只截断道路，不截断这段步行），其出行时间可能偏短；请沿被截断的道路画阻隔，"
            "不要紧贴某个点"
        )
        warnings.warn(
            CoverageWarning(
                f"{where}: {edits}: {' and '.join(found['en'])} reach their nearest road "
                "across the barrier's boundary (a straight off-road walk, which no barrier "
                "stops): their minutes may be too short; draw the barrier round the roads it "
                "cuts, not tight round a point",
                texts={"zh": zh},
            ),
            stacklevel=3,
        )


def run_scenario(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    network: Network,
    scenario: Scenario,
    *,
    config: Config | None = None,
    baseline: AuditResult | None = None,
) -> AuditResult:
    """Audit the situation a scenario describes.

    Parameters
    ----------
    communities, halls, network
        The baseline inputs (never changed).
    scenario
        The edits (:class:`Scenario` or :func:`load_scenario`).
    config
        As for :func:`coverage.audit.audit`.
    baseline
        The baseline's audit, if already computed (used to check barriers).

    Returns
    -------
    AuditResult
        The audit of the edited situation; compare it with :func:`compare`.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> from coverage.scenarios import CloseHalls, Scenario
    >>> net = load_network(grid_graph())
    >>> s = Scenario("close H2", edits=(CloseHalls(("H2",)),))
    >>> r = run_scenario(grid_communities(), grid_halls(), net, s)
    >>> r.communities["travel_time_min"].tolist()
    [4.0, 16.0, 18.0, 12.0, 18.0]
    """
    edited = apply_scenario(communities, halls, network, scenario, config=config)
    return audit_edited(edited, baseline=baseline)
