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
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import InputDataError, MissingColumnError, list_ids
from coverage.checks import detect_gcj02_declared_as_wgs84
from coverage.config import DEFAULT_CONFIG, Config
from coverage.engine import nearest_facility, snap

if TYPE_CHECKING:
    from coverage.network import Network

logger = logging.getLogger(__name__)

STATUS_COVERED = "covered"
STATUS_NOT_COVERED = "not covered"
STATUS_UNREACHABLE = "unreachable"
STATUSES = (STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE)

#: Total row label of the district table.
ALL_DISTRICTS = "(all)"

#: Points farther than this outside the network's bounding box are input errors (swapped
#: lon/lat, wrong coordinate system), not merely "unreachable", metres.
FAR_OUTSIDE_M = 20_000.0

COMMUNITY_COLUMNS = [
    "community_id", "name", "district", "street", "kind", "population", "households",
    "nearest_hall_id", "nearest_hall_name", "travel_time_min", "threshold_min", "covered",
    "shortfall_min", "status", "reason", "snap_dist_m",
]  # fmt: skip


class CoverageWarning(UserWarning):
    """A recoverable problem in the audit's input (e.g. a hall far from every road)."""


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
    """

    communities: gpd.GeoDataFrame
    halls: gpd.GeoDataFrame
    districts: pd.DataFrame
    config: Config
    network: dict[str, Any] = field(default_factory=dict)

    def district(self, name: str) -> AuditResult:
        """The part of the result for one district.

        Parameters
        ----------
        name
            District name as in the ``district`` column.

        Returns
        -------
        AuditResult
            Communities of that district, the halls that serve them or lie in it, and the
            district's row of the table.
        """
        com = self.communities[self.communities["district"] == name]
        if com.empty:
            known = sorted(self.communities["district"].unique())
            msg = f"no district {name!r}; known districts: {', '.join(map(str, known))}"
            raise InputDataError(msg)
        used = set(com["nearest_hall_id"].dropna())
        halls = self.halls[self.halls["hall_id"].isin(used) | (self.halls["district"] == name)]
        table = self.districts[self.districts["district"] == name]
        return AuditResult(com, halls, table, self.config, self.network)

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
            ("population covered",
             f"{h['population_covered']:,.0f} ({h['population_covered_share']:.1%})"),
            ("halls", f"{len(self.halls):,}"),
            ("mode", f"{self.network.get('mode', '')} at {self.network.get('speed_kph', '')} km/h"),
            ("thresholds", (f"urban {self.config.urban_threshold_min:g} min, "
                            f"rural {self.config.rural_threshold_min:g} min")),
        ]  # fmt: skip
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


def _require(frame: gpd.GeoDataFrame, columns: list[str], what: str, reader: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"{what}: missing column(s) {', '.join(map(repr, missing))}; "
            f"load the file with coverage.io.{reader}() to map Chinese or English headers"
        )
        raise MissingColumnError(msg)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        msg = f"{what}: a GeoDataFrame with a CRS is needed"
        raise InputDataError(msg)


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
            f"{what}: {len(far)} point(s) lie more than {FAR_OUTSIDE_M / 1000:g} km from every "
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
        If halls lie farther than ``config.max_snap_m`` from every road (they are left out),
        or if points declared WGS-84 fit the roads as GCJ-02 (Amap) coordinates.

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
    cfg = config or DEFAULT_CONFIG
    _require(communities, ["community_id", "kind", "population"], "communities", "read_communities")
    _require(halls, ["hall_id"], "halls", "read_halls")
    com_source = str(communities.attrs.get("source", "communities"))
    hall_source = str(halls.attrs.get("source", "halls"))
    com = communities.to_crs(4326)
    hal = halls.to_crs(4326)
    for col, default in (("name", ""), ("district", "(none)"), ("street", "(none)")):
        if col not in com.columns:
            com[col] = default
    com["district"] = com["district"].fillna("(none)").astype(str)
    if "households" not in com.columns:
        com["households"] = np.nan
    est = com["households"].isna()
    com.loc[est, "households"] = np.round(com.loc[est, "population"] / cfg.persons_per_household)
    if "name" not in hal.columns:
        hal["name"] = hal["hall_id"].astype(str)
    if "floor_area_m2" not in hal.columns:
        hal["floor_area_m2"] = np.nan

    c_snap = snap(network, com.geometry, config=cfg)
    h_snap = snap(network, hal.geometry, config=cfg)
    _check_far_outside(c_snap.dist_m, com, "community_id", com_source)
    _check_far_outside(h_snap.dist_m, hal, "hall_id", hall_source)
    if (~h_snap.ok).any():
        off = np.flatnonzero(~h_snap.ok)
        dists = ", ".join(f"{d:,.0f} m" for d in h_snap.dist_m[off][:10])
        warnings.warn(
            f"{hall_source}: {len(off)} hall(s) lie farther than {cfg.max_snap_m:g} m from every "
            f"road usable by {network.mode} and are left out of routing: "
            f"{list_ids(hal['hall_id'].iloc[off])} ({dists}; {_rows(hal, off)})",
            CoverageWarning,
            stacklevel=2,
        )
    checks = ((com, com_source), (hal, hall_source)) if cfg.check_coordinates else ()
    for frame, label in checks:
        shifted = detect_gcj02_declared_as_wgs84(frame.geometry, network, label=label)
        if shifted is not None:
            warnings.warn(shifted, CoverageWarning, stacklevel=2)
    nearest = nearest_facility(network, c_snap, h_snap)

    minutes = nearest.time_s / 60.0
    kind = com["kind"].astype(str).to_numpy()
    threshold = np.where(kind == "rural", cfg.rural_threshold_min, cfg.urban_threshold_min)
    reached = nearest.facility >= 0
    # a trailing None stands for "no hall", so index -1 needs no special case
    hall_ids = np.array([*hal["hall_id"].tolist(), None], dtype=object)
    hall_names = np.array([*hal["name"].astype(str).tolist(), None], dtype=object)
    nid = hall_ids[nearest.facility]
    nname = hall_names[nearest.facility]
    covered = reached & (minutes <= threshold + 1e-9)
    shortfall = np.where(reached, np.maximum(minutes - threshold, 0.0), np.nan)
    status = np.where(
        covered, STATUS_COVERED, np.where(reached, STATUS_NOT_COVERED, STATUS_UNREACHABLE)
    )
    reasons = _reasons(network, c_snap.dist_m, c_snap.seg, minutes, threshold, nid, nname,
                       status, h_snap, cfg)  # fmt: skip

    out = com.copy()
    out["nearest_hall_id"] = nid
    out["nearest_hall_name"] = nname
    out["travel_time_min"] = np.where(reached, np.round(minutes, 2), np.nan)
    out["threshold_min"] = threshold.astype(float)
    out["covered"] = covered
    out["shortfall_min"] = np.round(shortfall, 2)
    out["status"] = status
    out["reason"] = reasons
    out["snap_dist_m"] = np.round(c_snap.dist_m, 1)
    extra = [c for c in out.columns if c not in COMMUNITY_COLUMNS and c != "geometry"]
    out = gpd.GeoDataFrame(out[COMMUNITY_COLUMNS + extra + ["geometry"]], geometry="geometry")

    hall_out = _hall_table(hal, h_snap, out, nearest.facility, cfg, network)
    districts = district_table(out)
    return AuditResult(out, hall_out, districts, cfg, network.summary())


def _reasons(
    net: Network,
    dist_m: np.ndarray,
    seg: np.ndarray,
    minutes: np.ndarray,
    threshold: np.ndarray,
    nid: np.ndarray,
    nname: np.ndarray,
    status: np.ndarray,
    h_snap: Any,  # noqa: ANN401
    cfg: Config,
) -> list[str]:
    """A plain-language reason for each community's status."""
    comp_size = np.bincount(net.component)
    hall_comps = set(net.component[net.seg_u[h_snap.seg[h_snap.ok]]].tolist())
    n_halls_ok = int(h_snap.ok.sum())
    out: list[str] = []
    for i, st in enumerate(status):
        if st == STATUS_COVERED:
            out.append(
                f"{minutes[i]:.1f} min to {nname[i]} ({nid[i]}), "
                f"within the {threshold[i]:g}-min limit"
            )
        elif st == STATUS_NOT_COVERED:
            out.append(
                f"nearest hall {nname[i]} ({nid[i]}) is {minutes[i]:.1f} min away, "
                f"{minutes[i] - threshold[i]:.1f} min over the {threshold[i]:g}-min limit"
            )
        elif seg[i] < 0:
            out.append(
                f"unreachable: {dist_m[i]:.0f} m from the nearest road usable by {net.mode} "
                f"(limit {cfg.max_snap_m:g} m)"
            )
        elif n_halls_ok == 0:
            out.append("unreachable: no hall lies on the road network")
        else:
            comp = int(net.component[net.seg_u[seg[i]]])
            if comp not in hall_comps:
                out.append(
                    f"unreachable: its road network piece ({comp_size[comp]} nodes) is not "
                    "joined to any piece with a hall"
                )
            else:
                out.append(f"unreachable: no route to any hall by {net.mode} (one-way rules)")
    return out


def _hall_table(
    hal: gpd.GeoDataFrame,
    h_snap: Any,  # noqa: ANN401
    com: gpd.GeoDataFrame,
    facility: np.ndarray,
    cfg: Config,
    net: Network,
) -> gpd.GeoDataFrame:
    """Per hall: network status, communities served, floor-area adequacy."""
    n = len(hal)
    served = facility[facility >= 0]
    pop = com["population"].to_numpy(float)[facility >= 0]
    hh = com["households"].to_numpy(float)[facility >= 0]
    cov = com["covered"].to_numpy(bool)[facility >= 0]
    out = hal.copy()
    out["snap_dist_m"] = np.round(h_snap.dist_m, 1)
    out["on_network"] = h_snap.ok
    out["status"] = np.where(
        h_snap.ok,
        "in use",
        [f"off network: {d:.0f} m from the nearest road (limit {cfg.max_snap_m:g} m)"
         for d in h_snap.dist_m],
    )  # fmt: skip
    out["communities_served"] = np.bincount(served, minlength=n)
    out["communities_covered"] = np.bincount(served[cov], minlength=n)
    out["population_served"] = np.bincount(served, weights=pop, minlength=n)
    out["households_served"] = np.bincount(served, weights=hh, minlength=n)
    add_floor_area_adequacy(out, cfg)
    # the district a hall serves: where most of its communities are (ties: first by name)
    districts = com["district"].to_numpy(object)[facility >= 0]
    pairs = pd.DataFrame({"h": served, "d": districts}).value_counts().reset_index(name="n")
    pairs = pairs.sort_values(["h", "n", "d"], ascending=[True, False, True])
    main = pairs.drop_duplicates("h").set_index("h")["d"].to_dict()
    out["district"] = [main.get(i) for i in range(n)]
    del net
    return out


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
    need = halls["households_served"] / 100.0 * config.floor_area_m2_per_100_households
    halls["required_floor_area_m2"] = need.round(1)
    area = pd.to_numeric(halls["floor_area_m2"], errors="coerce")
    adequate = pd.Series(area >= need, index=halls.index, dtype="boolean")
    halls["floor_area_adequate"] = adequate.mask(area.isna())
    halls["floor_area_gap_m2"] = np.where(area.isna(), np.nan, np.maximum(need - area, 0).round(1))


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
    """
    kind = communities["kind"].astype(str).to_numpy()
    covered = communities["covered"].astype(bool).to_numpy()
    status = communities["status"].to_numpy()
    pop = communities["population"].astype(float).to_numpy()
    cols: dict[str, np.ndarray] = {
        "communities": np.ones(len(kind)),
        "covered": covered,
        "not_covered": status == STATUS_NOT_COVERED,
        "unreachable": status == STATUS_UNREACHABLE,
        "population": pop,
        "population_covered": pop * covered,
    }
    for k in ("urban", "rural"):
        is_k = kind == k
        cols[f"{k}_communities"] = is_k
        cols[f"{k}_covered"] = is_k & covered
        cols[f"{k}_population"] = pop * is_k
        cols[f"{k}_population_covered"] = pop * (is_k & covered)
    frame = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in cols.items()})
    frame["district"] = communities["district"].astype(str).to_numpy()
    frame["minutes"] = communities["travel_time_min"].astype(float).to_numpy()
    sums = frame.drop(columns="minutes").groupby("district", sort=True).sum()
    sums.loc[ALL_DISTRICTS] = frame.drop(columns=["district", "minutes"]).sum()
    by = frame.groupby("district", sort=True)["minutes"]
    median = pd.concat([by.median(), pd.Series({ALL_DISTRICTS: frame["minutes"].median()})])
    longest = pd.concat([by.max(), pd.Series({ALL_DISTRICTS: frame["minutes"].max()})])
    out = pd.DataFrame(index=sums.index)
    counts = ["communities", "covered", "not_covered", "unreachable"]
    for k in counts + [f"{k}_{c}" for k in ("urban", "rural") for c in ("communities", "covered")]:
        out[k] = sums[k].astype(int)
    out.insert(4, "covered_share", _share(sums["covered"], sums["communities"]))
    out.insert(5, "population", sums["population"])
    out.insert(6, "population_covered", sums["population_covered"])
    out.insert(7, "population_covered_share",
               _share(sums["population_covered"], sums["population"]))  # fmt: skip
    for k in ("urban", "rural"):
        out[f"{k}_covered_share"] = _share(sums[f"{k}_covered"], sums[f"{k}_communities"])
        out[f"{k}_population"] = sums[f"{k}_population"]
        out[f"{k}_population_covered"] = sums[f"{k}_population_covered"]
        out[f"{k}_population_covered_share"] = _share(
            sums[f"{k}_population_covered"], sums[f"{k}_population"]
        )
    out["median_travel_time_min"] = median.round(2)
    out["max_travel_time_min"] = longest.round(2)
    order = ["communities", "covered", "not_covered", "unreachable", "covered_share",
             "population", "population_covered", "population_covered_share"]  # fmt: skip
    per_kind = ("communities", "covered", "covered_share", "population", "population_covered",
                "population_covered_share")  # fmt: skip
    for k in ("urban", "rural"):
        order += [f"{k}_{c}" for c in per_kind]
    order += ["median_travel_time_min", "max_travel_time_min"]
    return out[order].rename_axis("district").reset_index()


def _share(num: pd.Series, den: pd.Series) -> pd.Series:
    """Num / den, NaN where den is 0."""
    return (num / den.where(den > 0)).astype(float)
