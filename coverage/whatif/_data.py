"""The what-if page's data: every community's sites ordered by travel time, computed once.

For each community the open site nearest to it is the first open site in its row, whatever
sites are switched on: so the page (and :meth:`WhatIfData.figures`) needs no routing, only a
scan of a few entries per community. Rows hold every reachable site, not only those within
the largest circle, because the audit's hall loads count communities served beyond their
circle too, its median and longest minutes are those of the nearest hall at any distance, and
"unreachable" means no open site at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import DuplicateIdError, InputDataError, MissingColumnError
from coverage.audit import ALL_DISTRICTS, add_floor_area_adequacy, district_table
from coverage.engine import snap_many, travel_time_matrix

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import NDArray

    from coverage.config import Config
    from coverage.network import Network

#: Kind codes of the page: urban, rural, anything else (counted in neither).
KIND_CODES = {"urban": 0, "rural": 1}


@dataclass(frozen=True)
class WhatIfData:
    """Communities, sites and each community's sites in order of travel time.

    Attributes
    ----------
    communities
        One row per community, input order: ``community_id``, ``name``, ``district``,
        ``kind``, ``population``, ``households`` (estimated where missing, as the audit
        does), ``threshold_min`` (minutes), ``lon``, ``lat`` (EPSG:4326).
    sites
        Existing halls, then candidate sites: ``site_id``, ``name``, ``existing``,
        ``floor_area_m2`` (m², NaN where unknown), ``on_network``, ``lon``, ``lat``
        (EPSG:4326), ``geometry``.
    districts
        District names, sorted as the audit's district table sorts them.
    district_code
        Each community's position in ``districts``.
    row_ptr
        Community ``i``'s entries are ``row_ptr[i]:row_ptr[i + 1]``.
    site
        Site (position in ``sites``) of each entry, nearest first; equal times in site order.
    time_s
        Travel time of each entry, seconds (community to site).
    centi_min
        The entry's minutes as the audit rounds them (``numpy.round(minutes, 2)``), times 100.
    within
        Per community, how many leading entries lie within its circle (minutes ≤ threshold,
        as the audit tests it).
    config
        The configuration used (thresholds, floor-area standard).
    network
        The network's summary (``Network.summary()``).
    sources
        Names of the inputs (communities, halls, candidates).
    computed
        When the data were computed (local time, ISO 8601).
    tied
        Entries whose time equals the previous entry's in the same row (the page gives such a
        tie to the site listed first; the audit's routing pass may choose the other).
    """

    communities: pd.DataFrame
    sites: gpd.GeoDataFrame
    districts: list[str]
    district_code: NDArray[np.int64]
    row_ptr: NDArray[np.int64]
    site: NDArray[np.int64]
    time_s: NDArray[np.float64]
    centi_min: NDArray[np.int64]
    within: NDArray[np.int64]
    config: Config
    network: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    computed: str = ""
    tied: int = 0

    def mask(self, open_sites: Iterable[object] | None = None) -> NDArray[np.bool_]:
        """A mask over ``sites``: the given site ids switched on (default: existing halls)."""
        if open_sites is None:
            return np.asarray(self.sites["existing"], dtype=bool)
        wanted = set(open_sites)
        ids = self.sites["site_id"].tolist()
        unknown = wanted - set(ids)
        if unknown:
            msg = f"unknown site id(s): {', '.join(sorted(map(repr, unknown)))}"
            raise InputDataError(msg)
        return np.array([s in wanted for s in ids], dtype=bool)

    def halls(self, is_open: NDArray[np.bool_]) -> gpd.GeoDataFrame:
        """The open sites as a hall table for :func:`coverage.audit.audit` (``hall_id`` …)."""
        out = self.sites[np.asarray(is_open, dtype=bool)]
        out = out[["site_id", "name", "floor_area_m2", "geometry"]]
        return out.rename(columns={"site_id": "hall_id"}).reset_index(drop=True)

    def nearest(self, is_open: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Per community: the entry of its nearest open site (``-1``: none) and that site."""
        is_open = np.asarray(is_open, dtype=bool)
        n = len(self.row_ptr) - 1
        entry = np.full(n, -1, dtype=np.int64)
        hit = np.flatnonzero(is_open[self.site])
        if len(hit):
            row = np.searchsorted(self.row_ptr, hit, side="right") - 1
            first = np.r_[True, row[1:] != row[:-1]]
            entry[row[first]] = hit[first]
        site = np.where(entry >= 0, self.site[np.maximum(entry, 0)], -1)
        return entry, site

    def figures(self, is_open: NDArray[np.bool_]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The district table and the hall loads the page shows for a set of open sites.

        Parameters
        ----------
        is_open
            One flag per site (:meth:`mask` makes one from ids).

        Returns
        -------
        tuple of pandas.DataFrame
            The district table (the columns of ``audit(...).districts``) and per open site
            ``hall_id``, ``communities_served``, ``communities_covered``,
            ``population_served``, ``households_served``, ``required_floor_area_m2``,
            ``floor_area_adequate``, ``floor_area_gap_m2``, as the audit computes them.
        """
        entry, site = self.nearest(is_open)
        reached = entry >= 0
        pos = entry - self.row_ptr[:-1]
        covered = reached & (pos < self.within)
        minutes = np.where(reached, self.centi_min[np.maximum(entry, 0)] / 100.0, np.nan)
        status = np.where(covered, "covered", np.where(reached, "not covered", "unreachable"))
        com = pd.DataFrame(
            {
                "district": np.asarray(self.districts, dtype=object)[self.district_code],
                "kind": self.communities["kind"].to_numpy(),
                "covered": covered,
                "status": status,
                "population": self.communities["population"].to_numpy(float),
                "travel_time_min": minutes,
            }
        )
        districts = district_table(com)
        opened = np.flatnonzero(np.asarray(is_open, dtype=bool))
        n_s = len(self.sites)
        got = site[reached]
        hh = self.communities["households"].to_numpy(float)[reached]
        pop = self.communities["population"].to_numpy(float)[reached]
        halls = pd.DataFrame(
            {
                "hall_id": self.sites["site_id"].to_numpy()[opened],
                "communities_served": np.bincount(got, minlength=n_s)[opened],
                "communities_covered": np.bincount(got[covered[reached]], minlength=n_s)[opened],
                "population_served": np.bincount(got, weights=pop, minlength=n_s)[opened],
                "households_served": np.bincount(got, weights=hh, minlength=n_s)[opened],
                "floor_area_m2": self.sites["floor_area_m2"].to_numpy(float)[opened],
            }
        )
        add_floor_area_adequacy(halls, self.config)
        return districts, halls


def _frame(frame: gpd.GeoDataFrame, id_col: str, what: str) -> gpd.GeoDataFrame:
    if id_col not in frame.columns:
        msg = f"{what}: missing column {id_col!r}"
        raise MissingColumnError(msg)
    if frame.crs is None:
        msg = f"{what}: a GeoDataFrame with a CRS is needed"
        raise InputDataError(msg)
    return frame.to_crs(4326)


def _sites(halls: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Existing halls then candidates, one table (``site_id``, ``name``, ``existing`` …)."""
    parts = []
    for frame, id_col, existing, what in (
        (halls, "hall_id", True, "halls"),
        (candidates, "site_id", False, "candidates"),
    ):
        if frame is None:
            continue
        col = id_col if id_col in frame.columns or existing else "hall_id"
        g = _frame(frame, col, what)
        ids = g[col]
        names = g["name"] if "name" in g.columns else ids
        area = g["floor_area_m2"] if "floor_area_m2" in g.columns else np.nan
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": ids.to_numpy(dtype=object),
                    "name": pd.Series(names).fillna("").astype(str).to_numpy(dtype=object),
                    "existing": existing,
                    "floor_area_m2": pd.to_numeric(pd.Series(area, index=g.index)).to_numpy(float),
                },
                geometry=g.geometry.to_numpy(),
                crs=4326,
            )
        )
    sites = pd.concat(parts, ignore_index=True) if parts else gpd.GeoDataFrame()
    dup = sites["site_id"][sites["site_id"].duplicated()]
    if len(dup):
        msg = "halls and candidates: site ids must be unique across both, repeated: " + ", ".join(
            map(repr, dup.unique()[:10].tolist())
        )
        raise DuplicateIdError(msg)
    sites["lon"] = sites.geometry.x
    sites["lat"] = sites.geometry.y
    return gpd.GeoDataFrame(sites, geometry="geometry", crs=4326)


def whatif_data(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    network: Network,
    candidates: gpd.GeoDataFrame | None = None,
    *,
    config: Config | None = None,
) -> WhatIfData:
    """Compute the what-if page's data: one snap, one matrix pass.

    Parameters
    ----------
    communities
        As for :func:`coverage.audit.audit` (``community_id``, ``kind``, ``population``;
        optional ``name``, ``district``, ``households``; points, any CRS).
    halls
        Existing halls (``hall_id``; optional ``name``, ``floor_area_m2`` in m²), any CRS.
    network
        Network with its routing view; its mode and speed decide the travel times.
    candidates
        Candidate sites (``site_id``, or ``hall_id``; optional ``name``, ``floor_area_m2``),
        e.g. the ``proposals`` of :func:`coverage.siting.propose_halls`; any CRS.
    config
        Thresholds (minutes), snap limit (metres), floor-area standard, household size.

    Returns
    -------
    WhatIfData
        Its :meth:`~WhatIfData.figures` equal ``audit(communities, open sites, network)``'s
        district table and hall loads for any set of open sites.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> data = whatif_data(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> districts, halls = data.figures(data.mask(["H1"]))
    >>> districts["covered"].tolist(), halls["households_served"].tolist()
    ([2, 2, 4], [2320.0])
    """
    cfg = network.routing_config(config)
    com = _frame(communities, "community_id", "communities")
    for col in ("kind", "population"):
        if col not in com.columns:
            msg = f"communities: missing column {col!r}"
            raise MissingColumnError(msg)
    sites = _sites(halls, candidates)
    c_snap, s_snap = snap_many(network, [com.geometry, sites.geometry], config=cfg)
    sites["on_network"] = s_snap.ok
    mat = travel_time_matrix(network, c_snap, s_snap, limit_s=np.inf).tocoo()
    keep = np.isfinite(mat.data)
    row, col, t = mat.row[keep].astype(np.int64), mat.col[keep].astype(np.int64), mat.data[keep]
    order = np.lexsort((col, t, row))
    row, col, t = row[order], col[order], t[order]
    n = len(com)
    row_ptr = np.r_[0, np.cumsum(np.bincount(row, minlength=n))].astype(np.int64)
    minutes = t / 60.0
    kind = com["kind"].to_numpy(dtype=object)
    threshold = cfg.thresholds_min(kind)
    within = np.bincount(row[minutes <= threshold[row] + 1e-9], minlength=n).astype(np.int64)
    centi = np.rint(minutes * 100.0).astype(np.int64)  # numpy.round(minutes, 2) is this / 100
    tied = int(np.sum((row[1:] == row[:-1]) & (t[1:] == t[:-1])))
    households = (
        pd.to_numeric(com["households"]).to_numpy(float)
        if "households" in com.columns
        else np.full(n, np.nan)
    )
    est = np.isnan(households)
    if est.any():
        households[est] = cfg.households_from(com.loc[est, "population"])
    district = (
        com["district"].fillna("(none)").astype(str)
        if "district" in com.columns
        else pd.Series("(none)", index=com.index)
    )
    code, names = pd.factorize(district.to_numpy(dtype=object), sort=True)
    if ALL_DISTRICTS in set(names):
        msg = f"communities: {ALL_DISTRICTS!r} is the total row's label, not a district name"
        raise InputDataError(msg)
    table = pd.DataFrame(
        {
            "community_id": com["community_id"].to_numpy(dtype=object),
            "name": com["name"].fillna("").astype(str) if "name" in com.columns else "",
            "district": district.to_numpy(dtype=object),
            "kind": pd.Series(kind).astype(str).to_numpy(dtype=object),
            "population": com["population"].to_numpy(float),
            "households": households,
            "threshold_min": threshold.astype(float),
            "lon": com.geometry.x.to_numpy(),
            "lat": com.geometry.y.to_numpy(),
        }
    )
    sources = {
        "communities": str(communities.attrs.get("source", "communities")),
        "halls": str(halls.attrs.get("source", "halls")),
        "candidates": (
            str(candidates.attrs.get("source", "candidates")) if candidates is not None else ""
        ),
    }
    return WhatIfData(
        communities=table,
        sites=sites,
        districts=[str(x) for x in names],
        district_code=np.asarray(code, dtype=np.int64),
        row_ptr=row_ptr,
        site=col,
        time_s=t,
        centi_min=centi,
        within=within,
        config=cfg,
        network=network.summary(),
        sources=sources,
        computed=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        tied=tied,
    )


def proposal_candidates(
    proposals: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None = None,
    *,
    lang: str = "zh",
) -> gpd.GeoDataFrame:
    """Candidate sites for the page: the proposed halls, then any other given candidates.

    Parameters
    ----------
    proposals
        ``ProposalResult.proposals`` of :func:`coverage.siting.propose_halls`: ``site_id``,
        ``floor_area_needed_m2`` (m²), optional ``floor_area_m2`` and ``description`` /
        ``description_zh`` (the site in words); EPSG:4326.
    candidates
        More sites (``site_id``; optional ``name``, ``floor_area_m2``), any CRS; those
        already proposed are left out.
    lang
        Language of the names made from the proposals' descriptions.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``name``, ``floor_area_m2`` (m²: the site's own, else the floor area
        the proposal needs), EPSG:4326.
    """
    desc_col = "description_zh" if lang == "zh" else "description"
    ids = proposals["site_id"]
    own = (
        pd.to_numeric(proposals["floor_area_m2"])
        if "floor_area_m2" in proposals.columns
        else pd.Series(np.nan, index=proposals.index)
    )
    need = pd.to_numeric(proposals.get("floor_area_needed_m2", pd.Series(np.nan, index=ids.index)))
    names = (
        proposals[desc_col].fillna("").astype(str)
        if desc_col in proposals.columns
        else ids.astype(str)
    )
    parts = [
        gpd.GeoDataFrame(
            {
                "site_id": ids.to_numpy(dtype=object),
                "name": names.to_numpy(dtype=object),
                "floor_area_m2": own.fillna(need).to_numpy(float),
            },
            geometry=proposals.geometry.to_crs(4326).to_numpy(),
            crs=4326,
        )
    ]
    if candidates is not None and len(candidates):
        more = candidates[~candidates["site_id"].isin(set(ids))].to_crs(4326)
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": more["site_id"].to_numpy(dtype=object),
                    "name": (
                        more["name"].fillna("").astype(str)
                        if "name" in more.columns
                        else more["site_id"].astype(str)
                    ).to_numpy(dtype=object),
                    "floor_area_m2": (
                        pd.to_numeric(more["floor_area_m2"]).to_numpy(float)
                        if "floor_area_m2" in more.columns
                        else np.full(len(more), np.nan)
                    ),
                },
                geometry=more.geometry.to_numpy(),
                crs=4326,
            )
        )
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
