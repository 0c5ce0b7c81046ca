"""The community life circle: many services, each with its own circle, in one audit.

A *standard* (TOML, see ``coverage/presets/``) lists services and, per community kind, the
circle each must be within: minutes, or network metres (converted to minutes at the mode's
speed, so only where every road of the mode has that speed). :func:`audit_services` snaps the
communities once and runs one multi-source pass per service (:func:`coverage.engine.
nearest_facility`), the same rule as :func:`coverage.audit.audit`: a service's minutes are
exactly the audit's minutes for those sites as halls.

Per community: minutes to the nearest site of each service, within its circle or not, the
share of required services within their circles (``completeness``), and the services
missing, named in English and Chinese.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import ConfigError, InputDataError
from coverage._files import parse_toml
from coverage.config import DEFAULT_CONFIG, Config
from coverage.engine import nearest_facility, snap
from coverage.i18n import LIFE_CIRCLE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import NDArray

    from coverage.network import Network

__all__ = [
    "ELDERLY_WALK_KPH",
    "PRESETS",
    "ResidentGroup",
    "Service",
    "ServiceAudit",
    "Standard",
    "audit_services",
    "load_standard",
    "osm_tags",
    "service_areas",
    "service_sites",
    "service_table",
    "sites_by_service",
]

#: Community kinds a circle can be set for.
KINDS = ("urban", "rural")

#: Bundled standards, by name (files in ``coverage/presets/``).
PRESETS = ("hangzhou-2017", "gb50180-2018")

_SERVICE_KEYS = {"name", "name_en", "source", "assumed", "osm"} | {
    f"{k}_{u}" for k in KINDS for u in ("min", "m")
}


@dataclass(frozen=True)
class Service:
    """One service and its circles.

    Attributes
    ----------
    key
        Short identifier (column prefix), e.g. ``"clinic"``.
    name, name_en
        Names in Chinese and English.
    minutes, metres
        Circle per community kind (``"urban"``, ``"rural"``): minutes, or network metres;
        a kind with neither has no requirement for this service.
    source
        Where the values come from.
    assumed
        Whether a value is our reading rather than the standard's own table.
    osm
        The OpenStreetMap tags of its sites (``"amenity=clinic"``...), for
        :func:`osm_tags` and :func:`service_sites`.
    """

    key: str
    name: str
    name_en: str
    minutes: Mapping[str, float]
    metres: Mapping[str, float]
    source: str
    assumed: bool = False
    osm: tuple[str, ...] = ()

    def limit_min(self, kind: str, speed_kph: float) -> float:
        """The circle for ``kind`` in minutes (metres at ``speed_kph``); NaN if none."""
        if kind in self.minutes:
            return float(self.minutes[kind])
        if kind in self.metres:
            return float(self.metres[kind]) / (speed_kph * 1000 / 60)
        return math.nan


@dataclass(frozen=True)
class Standard:
    """A set of services and their circles, with its source."""

    name: str
    name_en: str
    source: str
    services: tuple[Service, ...]


#: Default walking speed of older residents, km/h: 0.9 m/s (3.0 ft/s), the speed the US
#: MUTCD (2009, section 4E.06) uses where slower pedestrians routinely cross. An assumption
#: to replace with a local survey's figure; set it per group.
ELDERLY_WALK_KPH = 3.3


@dataclass(frozen=True)
class ResidentGroup:
    """A group of residents with their own walking speed (e.g. residents over 60).

    Attributes
    ----------
    column
        The communities' column with the group's population (persons).
    speed_kph
        Their walking speed, km/h (default :data:`ELDERLY_WALK_KPH`).
    """

    column: str
    speed_kph: float = ELDERLY_WALK_KPH


def load_standard(standard: str | Path) -> Standard:
    """Read a standard: a bundled preset's name (:data:`PRESETS`) or a TOML file.

    Parameters
    ----------
    standard
        ``"hangzhou-2017"``, ``"gb50180-2018"``, or the path of a TOML file laid out like them.

    Returns
    -------
    Standard
        The services and their circles.

    Raises
    ------
    ConfigError
        On an unknown key or a bad value, naming the file and the key.
    """
    if str(standard) in PRESETS:
        text = resources.files("coverage.presets").joinpath(f"{standard}.toml").read_text("utf-8")
        where = f"preset {standard!r}"
    else:
        path = Path(standard)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"{path}: cannot read the standard ({exc.strerror or exc})"
            raise ConfigError(msg) from None
        where = str(path)
    return _standard(parse_toml(text, where, ConfigError), where)


def _standard(data: dict[str, Any], where: str) -> Standard:
    problems = [f"unknown key {k!r}" for k in sorted(set(data) - _STANDARD_KEYS)]
    services = []
    for key, raw in (data.get("services") or {}).items():
        if isinstance(raw, dict):
            services.append(_service(key, raw, problems))
        else:
            problems.append(f"'services.{key}' must be a table")
    if not services:
        problems.append("no [services.<key>] table")
    if problems:
        msg = f"{where}: " + "; ".join(problems)
        raise ConfigError(msg)
    return Standard(
        str(data.get("name", where)),
        str(data.get("name_en", data.get("name", where))),
        str(data.get("source", "")),
        tuple(services),
    )


_STANDARD_KEYS = {"name", "name_en", "source", "services"}


def _service(key: str, raw: dict[str, Any], problems: list[str]) -> Service:
    """One ``[services.<key>]`` table; what is wrong with it goes to ``problems``."""
    problems += [f"unknown key 'services.{key}.{k}'" for k in sorted(set(raw) - _SERVICE_KEYS)]
    circles: dict[str, dict[str, float]] = {"min": {}, "m": {}}
    for kind in KINDS:
        for unit, into in circles.items():
            value = raw.get(f"{kind}_{unit}")
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                problems.append(f"'services.{key}.{kind}_{unit}' must be a positive number")
            else:
                into[kind] = float(value)
        if kind in circles["min"] and kind in circles["m"]:
            problems.append(f"'services.{key}' sets both {kind}_min and {kind}_m")
    if not circles["min"] and not circles["m"]:
        problems.append(f"'services.{key}' sets no circle (urban_min, urban_m, rural_min ...)")
    if not raw.get("source"):
        problems.append(f"'services.{key}.source' is missing (say where the values come from)")
    osm = raw.get("osm", [])
    if not isinstance(osm, list) or not all(isinstance(t, str) and "=" in t for t in osm):
        problems.append(f"'services.{key}.osm' must be a list of \"key=value\" tags")
        osm = []
    return Service(
        key,
        str(raw.get("name", key)),
        str(raw.get("name_en", key)),
        circles["min"],
        circles["m"],
        str(raw.get("source", "")),
        bool(raw.get("assumed", False)),
        tuple(osm),
    )


@dataclass
class ServiceAudit:
    """What :func:`audit_services` found.

    Attributes
    ----------
    communities
        One row per input community, in input order: per service ``<key>_min`` (minutes to
        the nearest site, NaN if none reachable), ``<key>_limit_min`` (its circle for the
        community's kind, NaN if not required) and ``<key>_ok``; then ``services_required``,
        ``services_ok``, ``completeness`` (their ratio, NaN where nothing is required) and
        ``missing`` / ``missing_zh`` (the services outside their circles, with minutes).
    services
        Per service: communities required, within the circle, their share, and the
        population share.
    standard
        The standard audited against.
    districts
        Per district (``district`` column of the communities; one "(all)" row per service
        too) and service: communities required and within, their share, urban and rural
        apart, the population share within, the median minutes, and the population-weighted
        Gini of travel time (:func:`gini`); then per district the communities by
        completeness (``complete`` = 1, ``half_or_more``, ``under_half``) and its mean.
    groups
        The resident groups audited, by name.
    config
        The configuration used (snap limit, access speed).
    network
        Headline figures of the network (``mode``, ``speed_kph``, ``source``...).
    """

    communities: gpd.GeoDataFrame
    services: pd.DataFrame
    standard: Standard
    districts: pd.DataFrame
    groups: Mapping[str, ResidentGroup] = field(default_factory=dict)
    config: Config = DEFAULT_CONFIG
    network: dict[str, Any] = field(default_factory=dict)

    def metres_per_min(self) -> float:
        """Metres walked (or ridden) in a minute at the network's speed (NaN if unknown)."""
        return float(self.network.get("speed_kph", math.nan)) * 1000 / 60

    def district(self, name: str) -> ServiceAudit:
        """One district's part: its communities, and the services and district tables of them.

        Parameters
        ----------
        name
            The district, as in the communities' ``district`` column.

        Returns
        -------
        ServiceAudit
            The same verdicts for the district's communities (``sites`` still counts every
            site of the run: a district's residents may use a site beyond it).
        """
        com = self.communities
        part = com[com["district"].astype(str).to_numpy() == name]
        people = _population(part)
        sites = dict(zip(self.services["service"], self.services["sites"], strict=True))
        return ServiceAudit(
            part,
            _services(part, self.standard, people, self.groups, sites),
            self.standard,
            _districts(part, self.standard, people),
            self.groups,
            self.config,
            self.network,
        )

    def service(self, key: str) -> Service:
        """The service with this key.

        Raises
        ------
        InputDataError
            If the standard has no such service.
        """
        for service in self.standard.services:
            if service.key == key:
                return service
        keys = ", ".join(s.key for s in self.standard.services)
        msg = f"no service {key!r} in {self.standard.name_en} (services: {keys})"
        raise InputDataError(msg)


def osm_tags(standard: Standard) -> dict[str, list[str]]:
    """The OpenStreetMap tags of every service's sites (values per key).

    In the form :func:`coverage.io.read_osm_pois` takes.

    Parameters
    ----------
    standard
        The standard (its services' ``osm`` lists).

    Returns
    -------
    dict of str to list of str
        E.g. ``{"amenity": ["clinic", "hospital"], "shop": ["supermarket"]}``.
    """
    out: dict[str, list[str]] = {}
    for service in standard.services:
        for tag in service.osm:
            key, value = tag.split("=", 1)
            if value not in out.setdefault(key, []):
                out[key].append(value)
    return out


def service_sites(pois: gpd.GeoDataFrame, standard: Standard) -> dict[str, gpd.GeoDataFrame]:
    """Each service's sites among points of interest read from OSM, by its ``osm`` tags.

    Parameters
    ----------
    pois
        Points with ``key`` and ``category`` columns (:func:`coverage.io.read_osm_pois`).
    standard
        The standard; a point may serve several services (a school both tiers).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        The sites of every service of the standard (none where no point matches).
    """
    tag = pois["key"].astype(str) + "=" + pois["category"].astype(str)
    return {s.key: pois[tag.isin(s.osm).to_numpy()] for s in standard.services}


def sites_by_service(
    sites: gpd.GeoDataFrame, standard: Standard, *, source: str = "sites"
) -> dict[str, gpd.GeoDataFrame]:
    """Each service's sites from one table whose ``service`` column names the service's key.

    Parameters
    ----------
    sites
        Points (e.g. read with :func:`coverage.io.read_halls`) with a ``service`` column.
    standard
        The standard whose service keys the column uses.
    source
        Names the table in messages (a file, or a command-line option and its file).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        The sites of every service of the standard (none where no row names it).

    Raises
    ------
    InputDataError
        If there is no ``service`` column, or it names a service the standard does not have.
    """
    keys = [s.key for s in standard.services]
    if "service" not in sites.columns:
        msg = (
            f"{source}: no 'service' column naming each site's service (one of: {', '.join(keys)})"
        )
        raise InputDataError(msg)
    named = sites["service"].astype(str).str.strip()
    unknown = sorted(set(named) - set(keys))
    if unknown:
        msg = (
            f"{source}: service(s) {', '.join(map(repr, unknown))} are not in the standard "
            f"(services: {', '.join(keys)})"
        )
        raise InputDataError(msg)
    return {k: sites[(named == k).to_numpy()] for k in keys}


def audit_services(
    communities: gpd.GeoDataFrame,
    sites: Mapping[str, gpd.GeoDataFrame],
    network: Network,
    *,
    standard: Standard | str | Path = "gb50180-2018",
    groups: Mapping[str, ResidentGroup] | None = None,
    config: Config | None = None,
) -> ServiceAudit:
    """Audit every community against every service of a standard, in one pass per service.

    Parameters
    ----------
    communities
        Points (or polygons, their representative points) with ``community_id`` and
        ``kind`` (``"urban"``/``"rural"``) columns, as for :func:`coverage.audit.audit`;
        ``population`` is used where present.
    sites
        The sites of each service, by the service's key in the standard: point layers in
        any CRS. Every service of the standard needs its sites.
    network
        The network and its routing view (mode and speed decide the minutes).
    standard
        A :class:`Standard`, a preset's name or a TOML file (:func:`load_standard`).
    groups
        Resident groups with their own walking speed, by name (e.g. ``{"elderly":
        ResidentGroup("population_60plus")}``): each gets ``<key>_min_<group>`` and
        ``<key>_ok_<group>`` per community, and its population share within each circle in
        ``services``. On foot only (times scale with the walking speed).
    config
        Snap limit and access speed, as for the audit.

    Returns
    -------
    ServiceAudit
        Per community and per service.

    Raises
    ------
    InputDataError
        If a service of the standard has no sites, a key is not in the standard, or a
        community has no ``kind``.
    """
    std = standard if isinstance(standard, Standard) else load_standard(standard)
    cfg = config or DEFAULT_CONFIG
    groups = dict(groups or {})
    _check(std, sites, communities, groups, network)
    kind = communities["kind"].astype(str).to_numpy()
    points = communities.geometry.representative_point()
    c_snap = snap(network, gpd.GeoSeries(points, crs=communities.crs), config=cfg)  # once
    out = communities.copy()
    required = np.zeros(len(out), dtype=np.int64)
    within = np.zeros(len(out), dtype=np.int64)
    misses: dict[str, list[list[str]]] = {lang: [[] for _ in range(len(out))] for lang in LANGS}
    population = _population(communities)
    metres_per_min = network.speed_kph * 1000 / 60
    for service in std.services:
        if len(sites[service.key]):
            s_snap = snap(network, sites[service.key].geometry, config=cfg)
            minutes = nearest_facility(network, c_snap, s_snap).time_s / 60.0  # one pass
        else:  # no site at all: nothing to reach
            minutes = np.full(len(out), np.inf)
        limit = np.array([service.limit_min(k, network.speed_kph) for k in kind])
        need = np.isfinite(limit)
        ok = need & (minutes <= limit + 1e-9)
        out[f"{service.key}_min"] = _minutes_column(minutes)
        out[f"{service.key}_limit_min"] = np.round(limit, 2)
        out[f"{service.key}_ok"] = ok
        required += need
        within += ok
        for i in np.flatnonzero(need & ~ok).tolist():
            # a circle the standard sets in metres is said in metres
            in_metres = kind[i] in service.metres and kind[i] not in service.minutes
            scale = metres_per_min if in_metres else None
            for lang in LANGS:
                name = service.name_en if lang == "en" else service.name
                misses[lang][i].append(
                    _missed(lang, name, float(minutes[i]), float(limit[i]), scale)
                )
        for gname, group in groups.items():
            # on foot every part of a trip (road and off-road) is walked: time scales with speed
            g_min = minutes * (network.speed_kph / group.speed_kph)
            out[f"{service.key}_min_{gname}"] = _minutes_column(g_min)
            out[f"{service.key}_ok_{gname}"] = need & (g_min <= limit + 1e-9)
    out["services_required"] = required
    out["services_ok"] = within
    with np.errstate(invalid="ignore", divide="ignore"):
        out["completeness"] = np.where(required > 0, within / np.maximum(required, 1), np.nan)
    out["missing"] = [LIFE_CIRCLE["en"]["sep"].join(m) for m in misses["en"]]
    out["missing_zh"] = [LIFE_CIRCLE["zh"]["sep"].join(m) for m in misses["zh"]]
    counts = {k: len(v) for k, v in sites.items()}
    return ServiceAudit(
        out,
        _services(out, std, population, groups, counts),
        std,
        _districts(out, std, population),
        groups,
        cfg,
        network.summary(),
    )


LANGS = ("en", "zh")

#: The name of the whole-run rows in the district table (as in the audit's).
ALL = "(all)"


def _population(communities: pd.DataFrame) -> NDArray[np.float64]:
    """Residents of each community (1 each where the communities have no population)."""
    if "population" in communities.columns:
        return np.asarray(communities["population"].to_numpy(float))
    return np.ones(len(communities))


def _services(
    out: pd.DataFrame,
    std: Standard,
    population: NDArray[np.float64],
    groups: Mapping[str, ResidentGroup],
    sites: Mapping[str, int],
) -> pd.DataFrame:
    """Per service, from the communities' verdicts: required, within, shares, per group."""
    rows = []
    for service in std.services:
        need = out[f"{service.key}_limit_min"].notna().to_numpy()
        ok = out[f"{service.key}_ok"].to_numpy(bool)
        row: dict[str, Any] = {
            "service": service.key,
            "name": service.name,
            "name_en": service.name_en,
            "communities_required": int(need.sum()),
            "communities_within": int(ok.sum()),
            "share_within": float(ok.sum() / need.sum()) if need.any() else math.nan,
            "population_share_within": _share(population, ok, need),
            "sites": int(sites.get(service.key, 0)),
            "assumed": service.assumed,
        }
        for gname, group in groups.items():
            g_ok = out[f"{service.key}_ok_{gname}"].to_numpy(bool)
            g_pop = out[group.column].to_numpy(float)
            row[f"population_share_within_{gname}"] = _share(g_pop, g_ok, need)
        rows.append(row)
    return pd.DataFrame(rows)


def _districts(
    out: gpd.GeoDataFrame, std: Standard, population: NDArray[np.float64]
) -> pd.DataFrame:
    """Per district and service, coverage and equity; per district, completeness."""
    names = (
        out["district"].astype(str).to_numpy()
        if "district" in out.columns
        else np.full(len(out), ALL, dtype=object)
    )
    kind = out["kind"].astype(str).to_numpy()
    groups = [(d, names == d) for d in sorted(set(names.tolist()))]
    if len(groups) > 1 or groups[0][0] != ALL:
        groups.append((ALL, np.ones(len(out), dtype=bool)))
    rows = []
    completeness = out["completeness"].to_numpy(float)
    for district, here in groups:
        done = here & np.isfinite(completeness)
        base = {
            "district": district,
            "complete": int((completeness[done] == 1).sum()),
            "half_or_more": int(((completeness[done] >= 0.5) & (completeness[done] < 1)).sum()),  # noqa: PLR2004
            "under_half": int((completeness[done] < 0.5).sum()),  # noqa: PLR2004
            "mean_completeness": float(completeness[done].mean()) if done.any() else math.nan,
        }
        for service in std.services:
            minutes = out[f"{service.key}_min"].to_numpy(float)
            ok = out[f"{service.key}_ok"].to_numpy(bool)
            need = here & np.isfinite(out[f"{service.key}_limit_min"].to_numpy(float))
            row = {**base, "service": service.key, "communities_required": int(need.sum())}
            row["communities_within"] = int((ok & need).sum())
            for label, mask in (
                ("", need),
                ("_urban", need & (kind == "urban")),
                ("_rural", need & (kind == "rural")),
            ):
                row[f"share_within{label}"] = float(ok[mask].mean()) if mask.any() else math.nan
            row["population_share_within"] = _share(population, ok & need, need)
            reach = need & np.isfinite(minutes)
            row["median_min"] = float(np.median(minutes[reach])) if reach.any() else math.nan
            row["gini_travel_time"] = gini(minutes[need], population[need])
            rows.append(row)
    return pd.DataFrame(rows)


def _check(
    std: Standard,
    sites: Mapping[str, gpd.GeoDataFrame],
    communities: gpd.GeoDataFrame,
    groups: dict[str, ResidentGroup],
    network: Network,
) -> None:
    """The inputs fit the standard and each other, or one error saying what does not."""
    keys = [s.key for s in std.services]
    unknown = sorted(set(sites) - set(keys))
    missing = [k for k in keys if k not in sites]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"no sites for service(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"service(s) {', '.join(unknown)} are not in the standard")
        msg = f"{std.name_en}: {'; '.join(parts)} (services: {', '.join(keys)})"
        raise InputDataError(msg)
    for gname, group in groups.items():
        if group.column not in communities.columns:
            msg = f"group {gname!r}: the communities have no column {group.column!r}"
            raise InputDataError(msg)
        if not group.speed_kph > 0:
            msg = f"group {gname!r}: speed_kph must be a positive number of km/h"
            raise InputDataError(msg)
    if groups and network.mode != "walk":
        msg = f"resident groups walk at their own speed: audit on foot (mode is {network.mode!r})"
        raise InputDataError(msg)
    if "kind" not in communities.columns:
        msg = "communities need a 'kind' column (urban/rural) to know their circles"
        raise InputDataError(msg)


def _minutes_column(minutes: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(np.isfinite(minutes), np.round(minutes, 2), np.nan)


def _share(people: NDArray[np.float64], ok: NDArray[np.bool_], need: NDArray[np.bool_]) -> float:
    """Share of the people of the communities that need a service who are within its circle."""
    total = float(np.nansum(people[need]))
    return float(np.nansum(people[ok]) / total) if total > 0 else math.nan


def lorenz(
    minutes: NDArray[np.float64], population: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The Lorenz curve of travel time over the population (reachable communities only).

    Parameters
    ----------
    minutes
        Travel time of each community, minutes (non-finite ones are left out).
    population
        Residents of each community (the weights).

    Returns
    -------
    tuple of numpy.ndarray
        Cumulative population share and cumulative share of the total person-minutes, from
        the shortest trips to the longest, each starting at 0 and ending at 1.

    Examples
    --------
    >>> import numpy as np
    >>> people, time = lorenz(np.array([3.0, 1.0]), np.array([1.0, 1.0]))
    >>> people.tolist(), time.tolist()
    ([0.0, 0.5, 1.0], [0.0, 0.25, 1.0])
    """
    ok = np.isfinite(minutes) & (population > 0)
    t, w = minutes[ok], population[ok]
    order = np.argsort(t, kind="stable")
    t, w = t[order], w[order]
    people = np.concatenate([[0.0], np.cumsum(w)]) / max(float(w.sum()), 1e-300)
    time = np.concatenate([[0.0], np.cumsum(t * w)]) / max(float((t * w).sum()), 1e-300)
    return people, time


def gini(minutes: NDArray[np.float64], population: NDArray[np.float64]) -> float:
    """Population-weighted Gini coefficient of travel time (0: everyone equally far).

    Parameters
    ----------
    minutes
        Travel time of each community, minutes (non-finite ones are left out).
    population
        Residents of each community (the weights).

    Returns
    -------
    float
        ``sum_ij w_i w_j |t_i - t_j| / (2 W^2 mean)``; NaN when no one can reach the service
        or every trip takes no time.

    Examples
    --------
    >>> import numpy as np
    >>> round(gini(np.array([1.0, 3.0]), np.array([1.0, 1.0])), 6)
    0.25
    """
    people, time = lorenz(minutes, population)
    if len(people) < 2 or time[-1] == 0:  # noqa: PLR2004
        return math.nan
    area = float(np.sum(np.diff(people) * (time[1:] + time[:-1]) / 2))  # under the curve
    return 1.0 - 2.0 * area


def _missed(
    lang: str, name: str, minutes: float, limit: float, metres_per_min: float | None
) -> str:
    texts = LIFE_CIRCLE[lang]
    if not math.isfinite(minutes):
        return texts["unreachable"].format(service=name)
    if metres_per_min is not None:
        return texts["far"].format(
            service=name, metres=minutes * metres_per_min, limit=limit * metres_per_min
        )
    return texts["late"].format(service=name, minutes=minutes, limit=limit)


def service_table(result: ServiceAudit, key: str) -> pd.DataFrame:
    """One service, per community: its minutes, distance, circle and verdict (a report's sheet).

    Parameters
    ----------
    result
        What :func:`audit_services` found.
    key
        The service's key.

    Returns
    -------
    pandas.DataFrame
        One row per community: ``community_id``, ``name``, ``district``, ``kind`` and
        ``population`` where the communities have them; ``time_min`` (minutes to the nearest
        site, NaN if none reachable), ``distance_m`` (those minutes in metres at the
        network's speed, the way a circle set in metres is checked), ``circle_min``
        (minutes, NaN where the community's kind has no circle), ``circle_m`` (metres, where
        the standard sets the circle in metres), ``within``; per resident group
        ``time_min_<group>`` and ``within_<group>``.

    Examples
    --------
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> r = audit_services(grid_communities(), {"hall": grid_halls()},
    ...                    load_network(grid_graph()), standard="hangzhou-2017")
    >>> service_table(r, "hall")[["community_id", "time_min", "circle_min", "within"]].head(2)
      community_id  time_min  circle_min  within
    0            A       4.0        15.0    True
    1            B      16.0        15.0   False
    """
    service = result.service(key)
    com = result.communities
    keep = [c for c in ("community_id", "name", "district", "kind", "population") if c in com]
    out = pd.DataFrame(com[keep]).reset_index(drop=True)
    minutes = com[f"{key}_min"].to_numpy(float)
    out["time_min"] = minutes
    out["distance_m"] = np.round(minutes * result.metres_per_min(), 0)
    out["circle_min"] = com[f"{key}_limit_min"].to_numpy(float)
    kinds = com["kind"].astype(str).to_numpy()
    out["circle_m"] = [
        service.metres[k] if k in service.metres and k not in service.minutes else math.nan
        for k in kinds
    ]
    out["within"] = com[f"{key}_ok"].to_numpy(bool)
    for gname in result.groups:
        out[f"time_min_{gname}"] = com[f"{key}_min_{gname}"].to_numpy(float)
        out[f"within_{gname}"] = com[f"{key}_ok_{gname}"].to_numpy(bool)
    return out


def service_areas(
    result: ServiceAudit,
    sites: Mapping[str, gpd.GeoDataFrame],
    network: Network,
    *,
    cell_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Each service's service area: where a community would be within its circle.

    By the audit's own rule (:func:`coverage.isochrones.travel_time_surface`, one pass per
    service over a grid of cells snapped as communities are), one polygon per service and
    circle that some community of the audit is held to. A circle the standard sets in metres
    is drawn at the minutes those metres take at the network's speed, the minutes it is
    checked at; the communities' cells take their own times, so every community lies in its
    service's area exactly when the audit finds it within the circle.

    Parameters
    ----------
    result
        What :func:`audit_services` found (its communities, configuration and standard).
    sites
        The sites of each service, as passed to :func:`audit_services`.
    network
        The network of the audit.
    cell_m
        Grid cell, metres (default ``config.area_cell_m``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``service``, ``kinds`` (``"urban"``, ``"rural"`` or ``"urban rural"``: the community
        kinds held to this circle), ``band_min`` (minutes), ``circle_m`` (metres where the
        standard sets them, else NaN), ``area_m2``; polygons in EPSG:4326. Services without
        sites, or that no community needs, have no row.
    """
    from coverage.isochrones import travel_time_surface  # noqa: PLC0415 (grids, tracing)

    com = result.communities
    kinds = com["kind"].astype(str)
    points = gpd.GeoSeries(com.geometry.representative_point(), crs=com.crs)
    rows: list[dict[str, Any]] = []
    shapes: list[Any] = []
    for service in result.standard.services:
        frame = sites.get(service.key)
        need = com[f"{service.key}_limit_min"].notna()
        if frame is None or len(frame) == 0 or not need.any():
            continue
        circles: dict[float, list[str]] = {}
        metres: dict[float, float] = {}
        for kind in KINDS:
            if not (need & (kinds == kind)).any():
                continue
            band = round(service.limit_min(kind, float(result.network["speed_kph"])), 6)
            circles.setdefault(band, []).append(kind)
            if kind in service.metres and kind not in service.minutes:
                metres[band] = service.metres[kind]
        halls = gpd.GeoDataFrame(
            {"hall_id": [f"{service.key}-{i}" for i in range(len(frame))]},
            geometry=frame.geometry.to_numpy(),
            crs=frame.crs,
        )
        surface = travel_time_surface(
            network,
            halls,
            communities=points,
            cell_m=cell_m,
            config=result.config,
            max_min=max(circles),
        )
        bands = surface.polygons(sorted(circles))
        for band_min, area, shape in zip(
            bands["band_min"], bands["area_m2"], bands.geometry, strict=True
        ):
            rows.append(
                {
                    "service": service.key,
                    "kinds": " ".join(circles[round(float(band_min), 6)]),
                    "band_min": float(band_min),
                    "circle_m": metres.get(round(float(band_min), 6), math.nan),
                    "area_m2": float(area),
                }
            )
            shapes.append(shape)
    columns = ["service", "kinds", "band_min", "circle_m", "area_m2"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=shapes, crs=4326)
