"""The coverage audit: every community against its 15/20-minute service circle.

:func:`audit` routes every community to its nearest hall over the road network (one
multi-source shortest-path pass, see :mod:`coverage.engine`) and returns an
:class:`AuditResult` with

- ``communities``: one row per input community, never fewer, in input order and with the
  input index: nearest hall, minutes, threshold, covered, shortfall, status and a plain reason;
- ``halls``: one row per hall: whether it is on the network, the communities it serves (those
  for which it is the nearest reachable hall), and its floor-area adequacy at
  ``config.floor_area_m2_per_100_households`` (30 m² per 100 households);
- ``districts``: per district (and a total row): communities and population covered, counts
  and shares, urban and rural apart.

Compliance always comes from routed travel times, never from isochrone polygons or
straight-line buffers.
"""

from __future__ import annotations

import html
import logging
import string
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import (
    CoordinateSystemWarning,
    CoverageWarning,
    InputDataError,
    MissingColumnError,
    counted,
    list_ids,
)
from coverage._validate import match_names
from coverage.checks import CoordCheck, check_coord_systems, declared_coord_system
from coverage.engine import Snapped, nearest_facility, snap_many
from coverage.i18n import REASONS, reason_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from coverage.config import Config
    from coverage.network import Network

logger = logging.getLogger(__name__)

STATUS_COVERED = "covered"
STATUS_NOT_COVERED = "not covered"
STATUS_UNREACHABLE = "unreachable"
STATUSES = (STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE)

#: Total row label of the district table.
ALL_DISTRICTS = "(all)"

#: Output tables take the input's columns without copying them where pandas copies on write
#: (pandas 3), so changing an output never changes the input; older pandas gets copies.
_PANDAS_COPY_ON_WRITE = 3  # the first pandas major version that always copies on write
_COPY_INPUTS = int(pd.__version__.split(".")[0]) < _PANDAS_COPY_ON_WRITE

#: Points farther than this outside the network's bounding box are input errors (swapped
#: lon/lat, wrong coordinate system), not merely "unreachable", metres.
FAR_OUTSIDE_M = 20_000.0

COMMUNITY_COLUMNS = [
    "community_id", "name", "district", "street", "kind", "population", "households",
    "nearest_hall_id", "nearest_hall_name", "travel_time_min", "threshold_min", "covered",
    "shortfall_min", "status", "reason", "reason_zh", "snap_dist_m",
]  # fmt: skip


@dataclass
class AuditResult:
    """Result of :func:`audit`.

    Attributes
    ----------
    communities
        One row per input community (input index kept), EPSG:4326 points.
    halls
        One row per input hall (input index kept), EPSG:4326 points.
    districts
        One row per district plus a total row labelled ``"(all)"``.
    config
        The configuration used.
    network
        Summary of the network's routing view.
    coordinate_checks
        The coordinate-system checks of the inputs (:func:`coverage.checks.check_coord_systems`).
    """

    communities: gpd.GeoDataFrame
    halls: gpd.GeoDataFrame
    districts: pd.DataFrame
    config: Config
    network: dict[str, Any] = field(default_factory=dict)
    coordinate_checks: list[CoordCheck] = field(default_factory=list)

    def district(self, name: str) -> AuditResult:
        """The part of the result for one district.

        Parameters
        ----------
        name
            District name as in the ``district`` column, or its unambiguous beginning
            (``"示意片区A"`` for ``"示意片区A (illustrative zone A)"``).

        Returns
        -------
        AuditResult
            Communities of that district, the halls that serve them or lie in it, and the
            district's row of the table.
        """
        known = sorted(self.communities["district"].astype(str).unique())
        name = match_names([name], known, what="district")[0]
        part = self.subset([name])
        part.districts = self.districts[self.districts["district"] == name]
        return part

    def subset(self, names: Sequence[str]) -> AuditResult:
        """The part of the result for some districts.

        Parameters
        ----------
        names
            District names as in the ``district`` column (unknown names select nothing).

        Returns
        -------
        AuditResult
            Their communities, the halls that serve them or lie in them, and their district
            table (with its own total row).
        """
        com = self.communities[self.communities["district"].isin(names)]
        used = set(com["nearest_hall_id"].dropna())
        halls = self.halls[self.halls["hall_id"].isin(used) | self.halls["district"].isin(names)]
        return AuditResult(
            com, halls, district_table(com), self.config, self.network, self.coordinate_checks
        )

    @property
    def headline(self) -> dict[str, Any]:
        """Key figures of the whole audit (the total row of the district table)."""
        row = self.districts[self.districts["district"] == ALL_DISTRICTS].iloc[0]
        return {str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}

    def _repr_html_(self) -> str:
        """Headline figures for Jupyter."""
        h = self.headline
        rows = [
            ("communities", f"{h['communities']:,}"),
            ("covered", f"{h['covered']:,} ({h['covered_share']:.1%})"),
            ("not covered", f"{h['not_covered']:,}"),
            ("unreachable", f"{h['unreachable']:,}"),
            (
                "population covered",
                f"{h['population_covered']:,.0f} ({h['population_covered_share']:.1%})",
            ),
            ("halls", f"{len(self.halls):,}"),
            ("mode", f"{self.network.get('mode', '')} at {self.network.get('speed_kph', '')} km/h"),
            (
                "thresholds",
                (
                    f"urban {self.config.urban_threshold_min:g} min, "
                    f"rural {self.config.rural_threshold_min:g} min"
                ),
            ),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<div><strong>Coverage audit</strong><table>{body}</table></div>"

    def __repr__(self) -> str:
        """Short text form with the headline figures."""
        h = self.headline
        return (
            f"AuditResult({h['communities']} communities, {h['covered']} covered "
            f"({h['covered_share']:.1%}), {h['not_covered']} not covered, "
            f"{h['unreachable']} unreachable; {len(self.halls)} halls)"
        )


def _in_wgs84(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """The points in EPSG:4326 (the series itself when it is already so labelled)."""
    if geometry.crs is not None and geometry.crs.srs.upper() == "EPSG:4326":
        return geometry
    return geometry.to_crs(4326)


def _require(frame: gpd.GeoDataFrame, columns: list[str], what: str, reader: str) -> gpd.GeoSeries:
    """Check the columns and the CRS; return the frame's geometry."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"{what}: missing column(s) {', '.join(map(repr, missing))}; "
            f"load the file with coverage.io.{reader}() to map Chinese or English headers"
        )
        raise MissingColumnError(msg)
    try:
        geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else None
    except AttributeError:  # a GeoDataFrame without an active geometry column
        geometry = None
    if geometry is None or geometry.crs is None:
        msg = f"{what}: a GeoDataFrame with a CRS is needed"
        raise InputDataError(msg)
    return geometry


def _rows(frame: pd.DataFrame, which: np.ndarray) -> str:
    """Row labels for messages: spreadsheet rows where the loader kept them, else the index."""
    rows = frame["source_row"] if "source_row" in frame.columns else frame.index.to_series()
    picked = rows.iloc[which]
    return ("row " if len(picked) == 1 else "rows ") + list_ids(picked).replace("'", "")


def _check_far_outside(dist_m: np.ndarray, frame: pd.DataFrame, id_col: str, what: str) -> None:
    """Raise if points lie far outside the network (a coordinate error, not a gap)."""
    far = np.flatnonzero(dist_m > FAR_OUTSIDE_M)
    if len(far):
        msg = (
            f"{what}: {counted(len(far), 'point')} {'lies' if len(far) == 1 else 'lie'} more "
            f"than {FAR_OUTSIDE_M / 1000:g} km from every "
            f"road of the network ({_rows(frame, far)}; {id_col}: "
            f"{list_ids(frame[id_col].iloc[far])}); check the coordinate system "
            "(wgs84/gcj02/bd09), the lon/lat order, or the network"
        )
        raise InputDataError(msg)


def audit(  # noqa: PLR0915 (one straight pipeline, kept in one place)
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    network: Network,
    *,
    config: Config | None = None,
) -> AuditResult:
    """Audit every community against its service circle, by network travel time.

    Parameters
    ----------
    communities
        Communities as read by :func:`coverage.io.read_communities`: columns
        ``community_id``, ``kind`` (``"urban"``/``"rural"``), ``population``; optional
        ``name``, ``district``, ``street``, ``households``; point geometries, any CRS.
    halls
        Halls as read by :func:`coverage.io.read_halls`: ``hall_id``; optional ``name``,
        ``floor_area_m2`` (m²), ``illustrative``; point geometries, any CRS.
    network
        Network with its routing view (:func:`coverage.network.load_network`); its mode and
        speed decide the travel times.
    config
        Thresholds (minutes), snap limit (metres), floor-area standard, household size.

    Returns
    -------
    AuditResult
        Per community, per hall and per district results.

    Raises
    ------
    MissingColumnError
        If a required column is missing.
    InputDataError
        If points lie more than 20 km from every road (a coordinate error).

    Warns
    -----
    CoverageWarning
        If halls lie farther than ``config.max_snap_m`` from every road (they are left out).
    CoordinateSystemWarning
        (a ``CoverageWarning``) If the communities or the halls fit the roads far better in
        another coordinate system than the one they were read in (``coord_system=`` of
        :mod:`coverage.io`; see :func:`coverage.checks.check_coord_system`); the message
        names the argument to give, e.g. ``coord_system="gcj02"``.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> result = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> result.communities["travel_time_min"].tolist()
    [4.0, 16.0, 14.0, 12.0, 14.0]
    >>> result.communities["status"].tolist()
    ['covered', 'not covered', 'covered', 'covered', 'covered']
    """
    cfg = network.routing_config(config)
    com_points = _require(
        communities, ["community_id", "kind", "population"], "communities", "read_communities"
    )
    hal_points = _require(halls, ["hall_id"], "halls", "read_halls")
    com_source = str(communities.attrs.get("source", "communities"))
    hall_source = str(halls.attrs.get("source", "halls"))
    com_geom = _in_wgs84(com_points)
    hal_geom = _in_wgs84(hal_points)
    c_snap, h_snap = snap_many(network, [com_geom, hal_geom], config=cfg)
    _check_far_outside(c_snap.dist_m, communities, "community_id", com_source)
    _check_far_outside(h_snap.dist_m, halls, "hall_id", hall_source)
    if (~h_snap.ok).any():
        off = np.flatnonzero(~h_snap.ok)
        dists = ", ".join(f"{d:,.0f} m" for d in h_snap.dist_m[off][:10])
        warnings.warn(
            f"{hall_source}: {counted(len(off), 'hall')} {'lies' if len(off) == 1 else 'lie'} "
            f"farther than {cfg.max_snap_m:g} m from every "
            f"road usable by {network.mode} and are left out of routing: "
            f"{list_ids(halls['hall_id'].iloc[off])} ({dists}; {_rows(halls, off)})",
            CoverageWarning,
            stacklevel=2,
        )
    checks: list[CoordCheck] = []
    if cfg.check_coordinates:
        checks = check_coord_systems(
            [
                (com_geom, declared_coord_system(communities), com_source),
                (hal_geom, declared_coord_system(halls), hall_source),
            ],
            network,
        )
        for message in filter(None, (check.message() for check in checks)):
            warnings.warn(message, CoordinateSystemWarning, stacklevel=2)
    nearest = nearest_facility(network, c_snap, h_snap)
    # plain pandas views of the inputs (no copy): column access without geopandas' overhead
    com_in = pd.DataFrame(communities, copy=False)
    hal_in = pd.DataFrame(halls, copy=False)

    minutes = nearest.time_s / 60.0
    kind = com_in["kind"].to_numpy(dtype=object)
    threshold = cfg.thresholds_min(kind)
    reached = nearest.facility >= 0
    # a trailing None stands for "no hall", so index -1 needs no special case
    hall_id_list = hal_in["hall_id"].tolist()
    hall_name_list = (
        hal_in["name"].astype(str).tolist()
        if "name" in hal_in.columns
        else hal_in["hall_id"].astype(str).tolist()
    )
    hall_ids = np.array([*hall_id_list, None], dtype=object)
    hall_names = np.array([*hall_name_list, None], dtype=object)
    nid = hall_ids[nearest.facility]
    nname = hall_names[nearest.facility]
    covered = reached & (minutes <= threshold + 1e-9)
    shortfall = np.where(reached, np.maximum(minutes - threshold, 0.0), np.nan)
    status = np.where(
        covered, STATUS_COVERED, np.where(reached, STATUS_NOT_COVERED, STATUS_UNREACHABLE)
    )
    reasons = _reasons(
        network,
        c_snap,
        minutes,
        threshold,
        nearest.facility,
        covered,
        reached,
        h_snap,
        hall_id_list,
        hall_name_list,
        cfg,
    )

    # the output frame, built once from its columns (input columns keep their dtypes)
    index = communities.index
    geom_col = com_points.name
    cols: dict[str, Any] = {c: com_in[c] for c in com_in.columns if c != geom_col}
    for col, default in (("name", ""), ("district", "(none)"), ("street", "(none)")):
        if col not in cols:
            cols[col] = pd.Series(default, index=index)
    cols["district"] = _text(cols["district"].fillna("(none)"))
    households = cols.get("households", pd.Series(np.nan, index=index))
    est = households.isna()
    if est.any():
        households = households.copy()
        households.loc[est] = cfg.households_from(com_in.loc[est, "population"])
    cols["households"] = households
    cols |= {
        "nearest_hall_id": nid,
        "nearest_hall_name": nname,
        "travel_time_min": np.where(reached, np.round(minutes, 2), np.nan),
        "threshold_min": threshold.astype(float),
        "covered": covered,
        "shortfall_min": np.round(shortfall, 2),
        "status": status.astype(str),
        "reason": reasons["en"],
        "reason_zh": reasons["zh"],
        "snap_dist_m": np.round(c_snap.dist_m, 1),
    }
    extra = [c for c in cols if c not in COMMUNITY_COLUMNS and c != "geometry"]
    order = COMMUNITY_COLUMNS + extra
    frame = {c: cols[c] for c in order} | {"geometry": com_geom}
    out = gpd.GeoDataFrame(frame, index=index, geometry="geometry", copy=_COPY_INPUTS)

    population = com_in["population"].to_numpy(float)
    districts_of = _sorted_codes(cols["district"].to_numpy(dtype=object))
    hall_out = _hall_table(
        hal_in,
        hal_geom,
        hal_points.name,
        h_snap,
        nearest.facility,
        cfg,
        population,
        households.to_numpy(float),
        covered,
        districts_of,
    )
    districts = _district_table(
        kind, covered, status, population, cols["travel_time_min"], districts_of
    )
    return AuditResult(out, hall_out, districts, cfg, network.summary(), checks)


def _reasons(
    net: Network,
    c_snap: Snapped,
    minutes: np.ndarray,
    threshold: np.ndarray,
    facility: np.ndarray,
    covered: np.ndarray,
    reached: np.ndarray,
    h_snap: Snapped,
    hall_ids: list[Any],
    hall_names: list[str],
    cfg: Config,
) -> dict[str, np.ndarray]:
    """A plain-language reason for each community's status, in English and in Chinese."""
    # The texts are joined from parts made once: each distinct tenth of a minute is written
    # once, each hall's name once (thousands of rows, a few hundred parts).
    halls = np.array(
        [f"{name} ({hid})" for hid, name in zip(hall_ids, hall_names, strict=True)], dtype=object
    )
    text = np.empty(len(minutes), dtype=object)
    text[reached] = _one_decimal(minutes[reached])
    over = reached & ~covered
    over_text = np.empty(len(minutes), dtype=object)
    over_text[over] = _one_decimal(minutes[over] - threshold[over])
    out = {lang: np.empty(len(minutes), dtype=object) for lang in REASONS}
    for limit in np.unique(threshold[reached]).tolist():
        at = threshold == limit
        for code, rows in (("within", covered & at), ("over", over & at)):
            which = np.flatnonzero(rows)
            per_row = {"minutes": text[which], "over": over_text[which]}
            for lang, target in out.items():
                target[which] = _fill(
                    REASONS[lang][code], per_row, halls, facility[which], limit=f"{limit:g}"
                )
    unreached = np.flatnonzero(~reached).tolist()
    hall_pieces = (
        set(net.component[net.seg_u[h_snap.seg[h_snap.ok]]].tolist()) if unreached else set()
    )
    for i in unreached:
        code, params = _unreachable(net, c_snap, hall_pieces, i, cfg)
        for lang, target in out.items():
            target[i] = reason_text(code, lang, **params)
    return out


def _fill(
    template: str,
    per_row: dict[str, np.ndarray],
    halls: np.ndarray,
    hall_of_row: np.ndarray,
    *,
    limit: str,
) -> np.ndarray:
    """The rows of a reason template.

    The template's runs without a per-row field (its words, the hall, the limit) are written
    once per hall, then joined with the per-row fields (minutes) row by row.
    """
    runs: list[Any] = []  # per-hall text runs and per-row fields, in order
    run = np.full(len(halls), "", dtype=object)
    for literal, name, _, _ in string.Formatter().parse(template):
        run = run + literal
        if name in per_row:
            runs += [run, per_row[name]]
            run = np.full(len(halls), "", dtype=object)
        elif name:
            run = run + (halls if name == "hall" else limit)
    runs.append(run)
    out: Any = None
    for k, part in enumerate(runs):
        if k % 2 == 0 and not any(part):
            continue  # (an empty run: the template starts or ends with a per-row field)
        piece = part[hall_of_row] if k % 2 == 0 else part
        out = piece if out is None else out + piece
    return np.asarray(out, dtype=object)


def _unreachable(
    net: Network, c_snap: Snapped, hall_pieces: set[int], i: int, cfg: Config
) -> tuple[str, dict[str, Any]]:
    """The reason code and parameters of an unreachable community.

    ``hall_pieces`` are the road pieces (components) that hold a hall.
    """
    seg = int(c_snap.seg[i])
    if seg < 0:
        dist = f"{c_snap.dist_m[i]:.0f}"
        return "too_far", {"dist": dist, "mode": net.mode, "snap": f"{cfg.max_snap_m:g}"}
    if not hall_pieces:
        return "no_hall", {}
    comp = int(net.component[net.seg_u[seg]])
    if comp not in hall_pieces:
        return "cut_off", {"nodes": int(net.component_sizes[comp])}
    return "one_way", {"mode": net.mode}


#: _one_decimal formats values this near a rounding boundary (in tenths), or this large, alone.
_NEAR_HALF = 1e-6
_LARGE = 1e9


def _one_decimal(values: np.ndarray) -> np.ndarray:
    """``format(v, ".1f")`` of each value, formatting each distinct tenth once.

    Values whose tenfold lies within 1e-6 of a rounding boundary, negative values, values of
    1e9 or more and non-finite ones are formatted one by one, so every text is exactly
    ``format``'s.
    """
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * 10.0
        tenths = np.floor(scaled + 0.5)
        near_half = ~(np.abs(scaled - np.floor(scaled) - 0.5) >= _NEAR_HALF)
        one_by_one = near_half | ~(values >= 0) | np.signbit(values) | ~(values < _LARGE)
    tenths[one_by_one] = 0.0
    distinct, position = np.unique(tenths, return_inverse=True)
    parts = np.array([format(d / 10.0, ".1f") for d in distinct.tolist()], dtype=object)
    out = parts[position.reshape(-1)]
    for i in np.flatnonzero(one_by_one).tolist():
        out[i] = format(values[i], ".1f")
    return out


def _hall_table(
    hal_in: pd.DataFrame,
    hal_geom: gpd.GeoSeries,
    geom_name: str,
    h_snap: Snapped,
    facility: np.ndarray,
    cfg: Config,
    population: np.ndarray,
    households: np.ndarray,
    covered: np.ndarray,
    districts_of: tuple[np.ndarray, np.ndarray],
) -> gpd.GeoDataFrame:
    """Per hall: network status, communities served, floor-area adequacy.

    ``districts_of`` is the communities' district names (sorted) and each community's
    position among them, as :func:`_sorted_codes` gives them.
    """
    n = len(hal_in)
    index = hal_in.index
    got = facility >= 0
    served = facility[got]
    cov = covered[got]
    cols: dict[str, Any] = {c: (hal_geom if c == geom_name else hal_in[c]) for c in hal_in.columns}
    if "name" not in cols:
        cols["name"] = hal_in["hall_id"].astype(str)
    if "floor_area_m2" not in cols:
        cols["floor_area_m2"] = np.full(n, np.nan)
    status = np.full(n, "in use", dtype=object)
    for i in np.flatnonzero(~h_snap.ok).tolist():
        status[i] = (
            f"off network: {h_snap.dist_m[i]:.0f} m from the nearest road "
            f"(limit {cfg.max_snap_m:g} m)"
        )
    households_served = np.bincount(served, weights=households[got], minlength=n)
    cols |= {
        "snap_dist_m": np.round(h_snap.dist_m, 1),
        "on_network": h_snap.ok,
        "status": status.astype(str),
        "communities_served": np.bincount(served, minlength=n),
        "communities_covered": np.bincount(served[cov], minlength=n),
        "population_served": np.bincount(served, weights=population[got], minlength=n),
        "households_served": households_served,
    }
    cols |= _floor_area_columns(households_served, cols["floor_area_m2"], cfg)
    names, code = districts_of
    cols["district"] = _main_district(n, served, names, code[got])
    return gpd.GeoDataFrame(cols, index=index, geometry=geom_name, copy=_COPY_INPUTS)


def _main_district(
    n_halls: int, served: np.ndarray, names: np.ndarray, code: np.ndarray
) -> np.ndarray:
    """The district each hall serves: where most of its communities are (ties: first by name).

    ``served`` is the hall (0..n_halls-1) of each served community, ``code`` its district as a
    position in ``names`` (sorted); halls serving nobody get ``None``.
    """
    main = np.full(n_halls, None, dtype=object)
    if len(served):
        pair, count = np.unique(served * len(names) + code, return_counts=True)
        h, d = pair // len(names), pair % len(names)
        order = np.lexsort((d, -count, h))
        h, d = h[order], d[order]
        first = np.r_[True, h[1:] != h[:-1]]
        main[h[first]] = names[d[first]]
    return main


def serving_districts(
    hall_ids: ArrayLike, nearest_hall_id: ArrayLike, district: ArrayLike
) -> np.ndarray:
    """The district each hall serves: where most of the communities it is nearest to are.

    Parameters
    ----------
    hall_ids
        The halls' ids.
    nearest_hall_id
        The nearest hall of each community (``None`` where it has none).
    district
        The district of each community.

    Returns
    -------
    numpy.ndarray
        One district per hall (ties go to the first district by name; ``None`` for a hall
        that is no community's nearest).

    Examples
    --------
    >>> serving_districts(["H1", "H2", "H3"], ["H1", "H1", "H2", None], ["B", "A", "A", "B"])
    array(['A', 'A', None], dtype=object)
    """
    halls = pd.Index(np.asarray(hall_ids, dtype=object))
    nearest = np.asarray(nearest_hall_id, dtype=object)
    where = halls.get_indexer(nearest)
    got = where >= 0
    names, code = np.unique(
        np.asarray(district, dtype=object)[got].astype(str), return_inverse=True
    )
    return _main_district(len(halls), where[got], names.astype(object), code.ravel())


def _sorted_codes(values: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values sorted, and the position of each value among them (hashing, no sort)."""
    code, uniques = pd.factorize(values, sort=True)
    return np.asarray(uniques, dtype=object), np.asarray(code, dtype=np.int64)


def _text(values: pd.Series) -> pd.Series:
    """A column as text (values that are not strings become their ``str()``).

    A column of pandas' string dtype is returned as it is; any other (object columns may
    hold numbers) goes through ``astype(str)``.
    """
    if isinstance(values.dtype, pd.StringDtype):
        return values
    return values.astype(str)


def _floor_area_columns(
    households_served: np.ndarray, floor_area_m2: pd.Series | np.ndarray, config: Config
) -> dict[str, Any]:
    """Required floor area, adequacy and gap of each hall (see add_floor_area_adequacy)."""
    need = (
        np.asarray(households_served, dtype=float) / 100.0 * config.floor_area_m2_per_100_households
    )
    if isinstance(floor_area_m2, np.ndarray) and floor_area_m2.dtype == float:
        area = floor_area_m2
    else:
        area = pd.to_numeric(pd.Series(floor_area_m2), errors="coerce").to_numpy(
            float, na_value=np.nan
        )
    unknown = np.isnan(area)
    with np.errstate(invalid="ignore"):
        adequate = pd.arrays.BooleanArray((area >= need) & ~unknown, unknown)
        gap = np.where(unknown, np.nan, np.maximum(need - area, 0).round(1))
    return {
        "required_floor_area_m2": need.round(1),
        "floor_area_adequate": adequate,
        "floor_area_gap_m2": gap,
    }


def add_floor_area_adequacy(halls: pd.DataFrame, config: Config) -> None:
    """Set the floor-area columns of a hall table from its ``households_served``, in place.

    Parameters
    ----------
    halls
        Hall table with ``households_served`` and ``floor_area_m2`` (m², NaN where unknown);
        gains ``required_floor_area_m2`` (households / 100 × the standard, m²),
        ``floor_area_adequate`` (boolean, NA where the area is unknown) and
        ``floor_area_gap_m2`` (m² missing, 0 when adequate).
    config
        ``floor_area_m2_per_100_households`` is used.
    """
    cols = _floor_area_columns(
        halls["households_served"].to_numpy(float), halls["floor_area_m2"], config
    )
    for k, v in cols.items():
        halls[k] = v


def district_table(communities: pd.DataFrame) -> pd.DataFrame:
    """Per-district coverage table, with a total row labelled ``"(all)"``.

    Parameters
    ----------
    communities
        The ``communities`` frame of an :class:`AuditResult`.

    Returns
    -------
    pandas.DataFrame
        Columns: ``district``, ``communities``, ``covered``, ``not_covered``, ``unreachable``,
        ``covered_share``, ``population``, ``population_covered``,
        ``population_covered_share``, the same counts for ``urban_*`` and ``rural_*``
        communities, and ``median_travel_time_min``, ``max_travel_time_min`` (minutes).
        Districts are sorted by name; the total row comes last.
    """
    return _district_table(
        communities["kind"].astype(str).to_numpy(),
        communities["covered"].astype(bool).to_numpy(),
        communities["status"].to_numpy(),
        communities["population"].astype(float).to_numpy(),
        communities["travel_time_min"].astype(float).to_numpy(),
        _sorted_codes(communities["district"].astype(str).to_numpy(dtype=object)),
    )


def _district_table(
    kind: np.ndarray,
    covered: np.ndarray,
    status: np.ndarray,
    pop: np.ndarray,
    minutes: np.ndarray,
    districts_of: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame:
    """:func:`district_table` from the columns as arrays (districts as :func:`_sorted_codes`)."""
    names, code = districts_of
    n_d = len(names)
    covered = np.asarray(covered, dtype=bool)
    pop = np.asarray(pop, dtype=float)
    urban, rural = kind == "urban", kind == "rural"
    # what is summed per district: (name, values); all sums in one bincount
    summed = [
        ("communities", np.ones(len(kind))),
        ("covered", covered),
        ("not_covered", status == STATUS_NOT_COVERED),
        ("unreachable", status == STATUS_UNREACHABLE),
        ("population", pop),
        ("population_covered", pop * covered),
    ]
    for k, is_k in (("urban", urban), ("rural", rural)):
        summed += [
            (f"{k}_communities", is_k),
            (f"{k}_covered", is_k & covered),
            (f"{k}_population", pop * is_k),
            (f"{k}_population_covered", pop * (is_k & covered)),
        ]
    weights = np.array([v for _, v in summed], dtype=float)  # (quantities, communities)
    n_q = len(summed)
    per = np.bincount(
        (code[None, :] + n_d * np.arange(n_q)[:, None]).ravel(),
        weights=weights.ravel(),
        minlength=n_q * n_d,
    ).reshape(n_q, n_d)
    table = np.column_stack([per, weights.sum(axis=1)])  # the total as the last district
    sums = {name: table[i] for i, (name, _) in enumerate(summed)}
    median, longest = _group_median_max(minutes, code, n_d)
    cols: dict[str, Any] = {"district": [*names.tolist(), ALL_DISTRICTS]}
    for c in ("communities", "covered", "not_covered", "unreachable"):
        cols[c] = sums[c].astype(np.int64)
    cols["covered_share"] = _share(sums["covered"], sums["communities"])
    cols["population"] = sums["population"]
    cols["population_covered"] = sums["population_covered"]
    cols["population_covered_share"] = _share(sums["population_covered"], sums["population"])
    for k in ("urban", "rural"):
        cols[f"{k}_communities"] = sums[f"{k}_communities"].astype(np.int64)
        cols[f"{k}_covered"] = sums[f"{k}_covered"].astype(np.int64)
        cols[f"{k}_covered_share"] = _share(sums[f"{k}_covered"], sums[f"{k}_communities"])
        cols[f"{k}_population"] = sums[f"{k}_population"]
        cols[f"{k}_population_covered"] = sums[f"{k}_population_covered"]
        cols[f"{k}_population_covered_share"] = _share(
            sums[f"{k}_population_covered"], sums[f"{k}_population"]
        )
    cols["median_travel_time_min"] = np.round(median, 2)
    cols["max_travel_time_min"] = np.round(longest, 2)
    return pd.DataFrame(cols)  # (copied: one block per dtype, not one per column)


def _group_median_max(
    values: np.ndarray, code: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Median and maximum of each group and of all values (last), NaN skipped."""
    ok = ~np.isnan(values)
    v, c = values[ok], code[ok]
    order = np.lexsort((v, c))
    v, c = v[order], c[order]
    counts = np.bincount(c, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    median = np.full(n_groups + 1, np.nan)
    longest = np.full(n_groups + 1, np.nan)
    has = counts > 0
    lo = starts + (counts - 1) // 2
    hi = starts + counts // 2
    median[:-1][has] = (v[lo[has]] + v[hi[has]]) / 2
    longest[:-1][has] = v[starts[has] + counts[has] - 1]
    if len(v):
        median[-1] = np.median(v)
        longest[-1] = v.max()
    return median, longest


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Num / den, NaN where den is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
