"""A scenario's audit beside the baseline's: per community, district and hall."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import InputDataError, ScenarioError
from coverage.audit import ALL_DISTRICTS, AuditResult, audit
from coverage.scenarios._run import EditedInputs, apply_scenario, audit_edited

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

    from coverage.config import Config
    from coverage.network import Network
    from coverage.scenarios._model import Scenario


@dataclass
class Comparison:
    """A scenario's audit beside the baseline's (:func:`compare`).

    Attributes
    ----------
    name
        The scenario's name.
    communities
        Per community (every one, input order): before/after kind, nearest hall, minutes,
        threshold, status and covered, ``delta_min`` and ``change`` (one of
        :data:`CHANGES`); EPSG:4326 points.
    districts
        Per district and the total row ``"(all)"``: each figure ``_before``, ``_after`` and
        ``_delta`` (communities and population covered, urban and rural apart), and the
        communities ``gained``, ``lost``, ``faster``, ``slower``.
    halls
        Per hall of either side: ``change`` (``"kept"``, ``"closed"``, ``"added"``,
        ``"moved"``), communities, population and households served before and after, the
        required floor area and its adequacy before and after (the audit's own hall table).
    """

    name: str
    communities: gpd.GeoDataFrame
    districts: pd.DataFrame
    halls: gpd.GeoDataFrame

    @property
    def headline(self) -> dict[str, Any]:
        """The total row of :attr:`districts` (a district's part: its row) as a plain dict."""
        total = self.districts["district"] == ALL_DISTRICTS
        row = self.districts[total].iloc[0] if total.any() else self.districts.iloc[0]
        return {str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}

    def district(self, name: str) -> Comparison:
        """The part of the comparison for one district.

        Parameters
        ----------
        name
            A district name as in the ``district`` column.

        Returns
        -------
        Comparison
            The district's communities, its row of the district table, and the halls that
            serve its communities before or after.
        """
        com = self.communities[self.communities["district"].astype(str) == name]
        used = set(com["nearest_hall_id_before"].dropna().astype(str))
        used |= set(com["nearest_hall_id_after"].dropna().astype(str))
        halls = self.halls[self.halls["hall_id"].astype(str).isin(used)]
        districts = self.districts[self.districts["district"].astype(str) == name]
        return Comparison(self.name, com, districts, halls)

    def __repr__(self) -> str:
        """One line: the changes."""
        h = self.headline
        return (
            f"Comparison({self.name!r}: covered {h['covered_before']} -> {h['covered_after']}; "
            f"{h['gained']} gained, {h['lost']} lost, {h['faster']} faster, {h['slower']} slower)"
        )


#: The district figures compared.
DISTRICT_FIGURES = (
    "communities",
    "covered",
    "not_covered",
    "unreachable",
    "covered_share",
    "population",
    "population_covered",
    "population_covered_share",
    "urban_communities",
    "urban_covered",
    "urban_population_covered",
    "rural_communities",
    "rural_covered",
    "rural_population_covered",
)

_HALL_FIGURES = (
    "communities_served",
    "population_served",
    "households_served",
    "required_floor_area_m2",
    "floor_area_adequate",
    "floor_area_gap_m2",
)


def _changes(before: pd.DataFrame, after: pd.DataFrame) -> NDArray[np.object_]:
    """The change of each community (see :data:`CHANGES`)."""
    cb = before["covered"].to_numpy(bool)
    ca = after["covered"].to_numpy(bool)
    tb = before["travel_time_min"].to_numpy(float)
    ta = after["travel_time_min"].to_numpy(float)
    tb = np.where(np.isnan(tb), np.inf, tb)
    ta = np.where(np.isnan(ta), np.inf, ta)
    return np.select(
        [ca & ~cb, cb & ~ca, ta < tb, ta > tb], ["gained", "lost", "faster", "slower"], "unchanged"
    ).astype(object)


def compare(baseline: AuditResult, scenario: AuditResult, *, name: str = "scenario") -> Comparison:
    """Set a scenario's audit beside the baseline's.

    Parameters
    ----------
    baseline
        The baseline's audit.
    scenario
        The scenario's audit (:func:`run_scenario`): the same communities, in the same order.
    name
        The scenario's name.

    Returns
    -------
    Comparison
        Per community, per district and per hall, before and after.

    Raises
    ------
    InputDataError
        If the two audits do not hold the same communities.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls, grid_lonlat
    >>> from coverage.network import load_network
    >>> from coverage.audit import audit
    >>> from coverage.scenarios import AddHall, Scenario, run_scenario
    >>> net = load_network(grid_graph())
    >>> base = audit(grid_communities(), grid_halls(), net)
    >>> s = Scenario("H3", edits=(AddHall("H3", *grid_lonlat(2, 2)),))
    >>> c = compare(base, run_scenario(grid_communities(), grid_halls(), net, s))
    >>> c.communities["change"].tolist()
    ['unchanged', 'gained', 'faster', 'unchanged', 'unchanged']
    """
    b, a = baseline.communities, scenario.communities
    if len(b) != len(a) or not np.array_equal(
        b["community_id"].astype(str).to_numpy(), a["community_id"].astype(str).to_numpy()
    ):
        msg = "compare: the baseline and the scenario hold different communities"
        raise InputDataError(msg)
    cols: dict[str, Any] = {c: b[c] for c in ("community_id", "name", "district", "street")}
    for col, out in (
        ("kind", "kind"),
        ("population", "population"),
        ("households", "households"),
        ("nearest_hall_id", "nearest_hall_id"),
        ("travel_time_min", "travel_time_min"),
        ("threshold_min", "threshold_min"),
        ("status", "status"),
        ("covered", "covered"),
    ):
        cols[f"{out}_before"] = b[col].to_numpy()
        cols[f"{out}_after"] = a[col].to_numpy()
    cols["delta_min"] = np.round(
        a["travel_time_min"].to_numpy(float) - b["travel_time_min"].to_numpy(float), 2
    )
    change = _changes(b, a)
    cols["change"] = change
    communities = gpd.GeoDataFrame(cols, index=b.index, geometry=b.geometry.to_numpy(), crs=b.crs)
    # per district
    db = baseline.districts.set_index("district")
    da = scenario.districts.set_index("district")
    names = [d for d in db.index if d != ALL_DISTRICTS]
    names += [d for d in da.index if d not in db.index and d != ALL_DISTRICTS]
    names.append(ALL_DISTRICTS)
    dist: dict[str, Any] = {"district": names}
    for fig in DISTRICT_FIGURES:
        before = db[fig].reindex(names).fillna(0).to_numpy()
        after = da[fig].reindex(names).fillna(0).to_numpy()
        dist[f"{fig}_before"] = before
        dist[f"{fig}_after"] = after
        dist[f"{fig}_delta"] = after - before
    district_of = b["district"].astype(str).to_numpy()
    for kind in ("gained", "lost", "faster", "slower"):
        counts = pd.Series(change == kind).groupby(district_of).sum()
        dist[kind] = [
            int(counts.get(d, 0)) if d != ALL_DISTRICTS else int((change == kind).sum())
            for d in names
        ]
    districts = pd.DataFrame(dist)
    halls = _compare_halls(baseline.halls, scenario.halls)
    return Comparison(name, communities, districts, halls)


def _compare_halls(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Per hall of either side: change, and the load figures before and after."""
    hb = before.assign(_key=before["hall_id"].astype(str)).set_index("_key")
    ha = after.assign(_key=after["hall_id"].astype(str)).set_index("_key")
    keys = [*hb.index, *[k for k in ha.index if k not in hb.index]]
    in_b = np.isin(keys, hb.index)
    in_a = np.isin(keys, ha.index)
    gb = hb.geometry.to_crs(4326).reindex(keys)
    ga = ha.geometry.to_crs(4326).reindex(keys)
    moved = np.array(
        [
            bool(x is not None and y is not None and not x.equals_exact(y, 1e-9))
            for x, y in zip(gb, ga, strict=True)
        ]
    )
    change = np.where(~in_a, "closed", np.where(~in_b, "added", np.where(moved, "moved", "kept")))
    name_b = hb["name"].reindex(keys) if "name" in hb.columns else pd.Series(keys, index=keys)
    name_a = ha["name"].reindex(keys) if "name" in ha.columns else pd.Series(keys, index=keys)
    cols: dict[str, Any] = {
        "hall_id": keys,
        "name": name_a.where(in_a, name_b).to_numpy(),
        "change": change.astype(object),
        "floor_area_m2": ha["floor_area_m2"]
        .reindex(keys)
        .where(in_a, hb["floor_area_m2"].reindex(keys))
        .to_numpy(float),
    }
    for fig in _HALL_FIGURES:
        vb = hb[fig].reindex(keys)
        va = ha[fig].reindex(keys)
        cols[f"{fig}_before"] = vb.to_numpy()
        cols[f"{fig}_after"] = va.to_numpy()
    cols["households_served_delta"] = np.nan_to_num(
        ha["households_served"].reindex(keys).to_numpy(float)
    ) - np.nan_to_num(hb["households_served"].reindex(keys).to_numpy(float))
    geometry = ga.where(in_a, gb).to_numpy()
    return gpd.GeoDataFrame(cols, geometry=list(geometry), crs=4326)


def compare_many(baseline: AuditResult, scenarios: Mapping[str, AuditResult]) -> pd.DataFrame:
    """Several scenarios side by side: per district, the baseline's figures and each one's.

    Parameters
    ----------
    baseline
        The baseline's audit.
    scenarios
        Each scenario's audit by its name (in the order the columns take).

    Returns
    -------
    pandas.DataFrame
        One row per district and the total ``"(all)"``; columns ``(scenario, figure)``
        (a two-level index): for ``"baseline"`` the communities and population covered
        (urban and rural apart) and the shares; for each scenario the same figures, their
        change from the baseline (``*_delta``) and the communities ``gained`` and ``lost``.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls, grid_lonlat
    >>> from coverage.network import load_network
    >>> from coverage.audit import audit
    >>> from coverage.scenarios import AddHall, Scenario, run_scenario
    >>> net = load_network(grid_graph())
    >>> com, halls = grid_communities(), grid_halls()
    >>> base = audit(com, halls, net)
    >>> s = Scenario("H3", edits=(AddHall("H3", *grid_lonlat(2, 2)),))
    >>> t = compare_many(base, {"H3": run_scenario(com, halls, net, s)})
    >>> t.loc["(all)", ("H3", "covered_delta")]
    np.float64(1.0)
    """
    figures = (
        "covered",
        "covered_share",
        "population_covered",
        "population_covered_share",
        "urban_covered",
        "urban_population_covered",
        "rural_covered",
        "rural_population_covered",
    )
    parts: dict[tuple[str, str], Any] = {}
    comps = {n: compare(baseline, r, name=n) for n, r in scenarios.items()}
    first = next(iter(comps.values()), None)
    base_d = baseline.districts.set_index("district")
    index = list(first.districts["district"]) if first is not None else list(base_d.index)
    for fig in ("communities", *figures):
        parts[("baseline", fig)] = base_d[fig].reindex(index).to_numpy(float)
    for n, c in comps.items():
        d = c.districts.set_index("district").reindex(index)
        for fig in figures:
            parts[(n, fig)] = d[f"{fig}_after"].to_numpy(float)
            parts[(n, f"{fig}_delta")] = d[f"{fig}_delta"].to_numpy(float)
        parts[(n, "gained")] = d["gained"].to_numpy(float)
        parts[(n, "lost")] = d["lost"].to_numpy(float)
    out = pd.DataFrame(parts, index=pd.Index(index, name="district"))
    out.columns = pd.MultiIndex.from_tuples(list(parts), names=["scenario", "figure"])
    return out


@dataclass
class ScenarioRun:
    """One scenario run against the baseline (:func:`run_scenarios`).

    Attributes
    ----------
    scenario
        The scenario.
    edited
        Its edited inputs (the edited roads and halls for maps).
    result
        Its audit.
    comparison
        Its audit beside the baseline's.
    seconds
        Time to apply and audit it, seconds.
    """

    scenario: Scenario
    edited: EditedInputs
    result: AuditResult
    comparison: Comparison
    seconds: float


def run_scenarios(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    network: Network,
    scenarios: Sequence[Scenario],
    *,
    config: Config | None = None,
) -> tuple[AuditResult, list[ScenarioRun]]:
    """Audit the baseline once and each scenario against it.

    Parameters
    ----------
    communities, halls, network
        The baseline inputs (never changed).
    scenarios
        The scenarios; their names must differ (they name the columns and folders).
    config
        As for :func:`coverage.audit.audit`.

    Returns
    -------
    tuple
        The baseline's audit and one :class:`ScenarioRun` per scenario, in order.

    Raises
    ------
    ScenarioError
        If two scenarios share a name, or (naming the edit) an edit does not fit the baseline.
    """
    names = [s.name for s in scenarios]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        msg = f"two or more scenarios are named {', '.join(map(repr, twice))}: names must differ"
        raise ScenarioError(msg)
    baseline = audit(communities, halls, network, config=config)
    runs = []
    for s in scenarios:
        started = time.perf_counter()
        edited = apply_scenario(communities, halls, network, s, config=config)
        result = audit_edited(edited, baseline=baseline)
        seconds = time.perf_counter() - started
        runs.append(ScenarioRun(s, edited, result, compare(baseline, result, name=s.name), seconds))
    return baseline, runs
