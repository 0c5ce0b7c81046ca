"""Scenarios: the baseline plus edits to halls, communities and roads, audited and compared.

A :class:`Scenario` is a name and a list of edits, built in Python or read from a small TOML
file (:func:`load_scenario`; the keys are in ``docs/architecture.md`` and the module's
examples):

- halls: close (:class:`CloseHalls`), add (:class:`AddHall`) or move (:class:`MoveHall`);
- communities: reclassify (urban ↔ rural, 撤村建居) or change population and households
  (:class:`SetCommunities`);
- roads: a new link (:class:`AddRoad`, e.g. a footbridge), a closed road
  (:class:`CloseRoad`), a barrier no route may cross (:class:`Barrier`), a speed change
  (:class:`SetSpeed`).

:func:`apply_scenario` checks every edit against the baseline (errors name the edit, e.g.
``scenario.toml: [[halls.add]] #2: hall_id 'H-001' already exists``) and gives the edited
inputs; :func:`run_scenario` audits them with :func:`coverage.audit.audit`. Hall and community
edits reuse the baseline network as it is (its snapping index and routing view are kept on
it), so a scenario costs one audit pass. Road edits build an edited copy of the network's edge
table and its routing view; the baseline network is never changed. :func:`compare` and
:func:`compare_many` set a scenario's audit beside the baseline's.
"""

from __future__ import annotations

import logging
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from coverage._errors import InputDataError, ScenarioError, counted, list_ids
from coverage._validate import match_names
from coverage.audit import ALL_DISTRICTS, AuditResult, audit
from coverage.coords import COORD_SYSTEMS, to_wgs84
from coverage.engine import snap_xy
from coverage.network import MODE_BIT, EdgeTable, build_routing, clip_config, sorted_coords

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

    from coverage.config import Config
    from coverage.coords import CoordSystem
    from coverage.network import Network

logger = logging.getLogger(__name__)

Point = tuple[float, float]

#: Community kinds a scenario may set.
KINDS = ("urban", "rural")

#: Changes of a community between the baseline and a scenario.
CHANGES = ("gained", "lost", "faster", "slower", "unchanged")

#: A barrier that leaves more than this share of the communities without any reachable hall
#: (that reached one in the baseline) is taken for a mistake.
CUT_OFF_SHARE = 0.5

#: A link's end this close to a segment's end node joins that node (no split), metres.
_AT_NODE_M = 0.5


@dataclass(frozen=True)
class CloseHalls:
    """Close baseline halls (``[halls] close``)."""

    hall_ids: tuple[str, ...]


@dataclass(frozen=True)
class AddHall:
    """Open a new hall (``[[halls.add]]``): lon/lat in the scenario's ``coord_system``."""

    hall_id: str
    lon: float
    lat: float
    name: str = ""
    floor_area_m2: float | None = None


@dataclass(frozen=True)
class MoveHall:
    """Move a baseline hall (``[[halls.move]]``); its floor area stays."""

    hall_id: str
    lon: float
    lat: float


@dataclass(frozen=True)
class SetCommunities:
    """Reclassify communities or change their people (``[[communities.set]]``).

    Exactly one of ``community_id`` (ids) and ``district`` picks the communities. Households
    stay as they were unless given (the audit estimates missing ones from population).
    """

    community_id: tuple[str, ...] = ()
    district: str | None = None
    kind: Literal["urban", "rural"] | None = None
    population: float | None = None
    households: float | None = None


@dataclass(frozen=True)
class AddRoad:
    """A new link (``[[roads.add]]``), e.g. a footbridge.

    Its two ends are joined to the nearest road (split there); the points between are its
    course (it crosses other roads and barriers without meeting them, as a bridge does).
    ``speed_kph`` is its speed for the network's mode (default: the mode's speed), km/h.
    On foot every road is two-way.
    """

    line: tuple[Point, ...]
    speed_kph: float | None = None
    name: str = ""
    two_way: bool = True


@dataclass(frozen=True)
class CloseRoad:
    """Close roads (``[[roads.close]]``): by OSM way id, or every road a drawn line crosses."""

    osm_way_id: int | None = None
    line: tuple[Point, ...] | None = None


@dataclass(frozen=True)
class Barrier:
    """A polygon no route may cross (``[[roads.barrier]]``): every road crossing its boundary
    is dropped (a river, a construction site). Points still snap to the nearest remaining road
    in a straight line.
    """

    polygon: tuple[Point, ...] | shapely.Geometry
    name: str = ""


@dataclass(frozen=True)
class SetSpeed:
    """Speed of some roads for the network's mode (``[[roads.speed]]``), km/h.

    Roads are picked by ``highway`` class where the network keeps classes, or by street name
    (``street``, an added key).
    """

    speed_kph: float
    highway: tuple[str, ...] = ()
    street: tuple[str, ...] = ()


Edit = CloseHalls | AddHall | MoveHall | SetCommunities | AddRoad | CloseRoad | Barrier | SetSpeed

#: Each edit's TOML section (the first part of its label in messages).
_SECTION: dict[type, str] = {
    CloseHalls: "[halls] close",
    AddHall: "[[halls.add]]",
    MoveHall: "[[halls.move]]",
    SetCommunities: "[[communities.set]]",
    AddRoad: "[[roads.add]]",
    CloseRoad: "[[roads.close]]",
    Barrier: "[[roads.barrier]]",
    SetSpeed: "[[roads.speed]]",
}

_ROAD_EDITS = (AddRoad, CloseRoad, Barrier, SetSpeed)


@dataclass(frozen=True)
class Scenario:
    """A scenario: the baseline plus edits.

    Attributes
    ----------
    name
        Shown in tables and maps.
    description
        Free text.
    edits
        The edits, applied halls and communities first, roads as one new network.
    coord_system
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``: the system of every lon/lat in the edits.
    source
        Where it was read from (names the file in messages).

    Examples
    --------
    >>> s = Scenario("close H2", edits=(CloseHalls(("H2",)),))
    >>> s.labels()
    ['[halls] close']
    """

    name: str
    description: str = ""
    edits: tuple[Edit, ...] = ()
    coord_system: CoordSystem = "wgs84"
    source: str = ""

    def labels(self) -> list[str]:
        """Each edit's label for messages, e.g. ``[[halls.add]] #2`` (counted per section)."""
        seen: dict[type, int] = {}
        out = []
        for edit in self.edits:
            seen[type(edit)] = seen.get(type(edit), 0) + 1
            section = _SECTION[type(edit)]
            out.append(
                section if isinstance(edit, CloseHalls) else f"{section} #{seen[type(edit)]}"
            )
        return out

    @property
    def where(self) -> str:
        """The prefix of messages: the file, else the scenario's name."""
        return self.source or f"scenario {self.name!r}"

    @property
    def has_road_edits(self) -> bool:
        """Whether some edit changes the roads."""
        return any(isinstance(e, _ROAD_EDITS) for e in self.edits)


# --------------------------------------------------------------------------------------------
# reading the TOML contract


_TOP_KEYS = {"name", "description", "coord_system", "halls", "communities", "roads"}
_SECTIONS: dict[str, set[str]] = {"halls": {"close", "add", "move"}, "communities": {"set"}}
_SECTIONS["roads"] = {"add", "close", "barrier", "speed"}
_KEYS: dict[str, tuple[set[str], set[str]]] = {  # (required, optional) keys of each table
    "halls.add": ({"hall_id", "lon", "lat"}, {"name", "floor_area_m2"}),
    "halls.move": ({"hall_id", "lon", "lat"}, set()),
    "communities.set": (set(), {"community_id", "district", "kind", "population", "households"}),
    "roads.add": ({"line"}, {"speed_kph", "name", "two_way"}),
    "roads.close": (set(), {"osm_way_id", "line"}),
    "roads.barrier": (set(), {"polygon", "file", "name"}),
    "roads.speed": ({"speed_kph"}, {"highway", "street"}),
}


class _Reader:
    """Reads the tables of one scenario file, gathering every problem."""

    def __init__(self, source: str, folder: Path | None) -> None:
        self.source = source
        self.folder = folder
        self.problems: list[str] = []

    def fail(self, where: str, text: str) -> None:
        self.problems.append(f"{where}: {text}")

    def number(
        self, table: dict[str, Any], key: str, where: str, *, positive: bool = False
    ) -> float | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            self.fail(where, f"{key} must be a number, got {value!r}")
            return None
        if value < 0 or (positive and value == 0):
            self.fail(where, f"{key} must be {'> 0' if positive else '>= 0'}, got {value!r}")
            return None
        return float(value)

    def text(self, table: dict[str, Any], key: str, where: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            self.fail(where, f"{key} must be a non-empty text, got {value!r}")
            return None
        return str(value)

    def texts(self, table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if not items or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in items
        ):
            self.fail(where, f"{key} must be a text or a list of texts, got {value!r}")
            return ()
        return tuple(str(v) for v in items)

    def points(
        self, value: object, key: str, where: str, *, least: int
    ) -> tuple[Point, ...] | None:
        ok = isinstance(value, list) and len(value) >= least
        pts: list[Point] = []
        for p in value if isinstance(value, list) else []:
            if (
                isinstance(p, list)
                and len(p) == 2  # noqa: PLR2004 (lon, lat)
                and all(isinstance(c, int | float) and not isinstance(c, bool) for c in p)
                and -180 <= p[0] <= 180  # noqa: PLR2004
                and -90 <= p[1] <= 90  # noqa: PLR2004
            ):
                pts.append((float(p[0]), float(p[1])))
            else:
                ok = False
        if not ok:
            self.fail(
                where,
                f"{key} must be a list of at least {least} [lon, lat] points in degrees, "
                f"got {value!r}",
            )
            return None
        return tuple(pts)

    def lonlat(self, table: dict[str, Any], where: str) -> Point | None:
        lon, lat = self.number_any(table, "lon", where), self.number_any(table, "lat", where)
        if lon is None or lat is None:
            return None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):  # noqa: PLR2004
            self.fail(where, f"lon/lat ({lon}, {lat}) are not degrees")
            return None
        return lon, lat

    def number_any(self, table: dict[str, Any], key: str, where: str) -> float | None:
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, f"{key} must be a number, got {value!r}")
            return None
        return float(value)

    def keys(self, table: object, kind: str, where: str) -> dict[str, Any] | None:
        if not isinstance(table, dict):
            self.fail(where, f"must be a table, got {table!r}")
            return None
        required, optional = _KEYS[kind]
        unknown = sorted(set(table) - required - optional)
        if unknown:
            self.fail(
                where,
                f"unknown key(s) {', '.join(map(repr, unknown))}; known keys: "
                f"{', '.join(sorted(required | optional))}",
            )
        missing = sorted(required - set(table))
        if missing:
            self.fail(where, f"missing key(s) {', '.join(map(repr, missing))}")
            return None
        return table

    def edit(self, kind: str, table: dict[str, Any], where: str) -> Edit | None:  # noqa: C901, PLR0911, PLR0912 (one case per kind)
        if kind == "halls.add":
            hall_id = self.text(table, "hall_id", where)
            at = self.lonlat(table, where)
            area = self.number(table, "floor_area_m2", where)
            name = table.get("name", "")
            if hall_id is None or at is None:
                return None
            return AddHall(hall_id, at[0], at[1], str(name or ""), area)
        if kind == "halls.move":
            hall_id = self.text(table, "hall_id", where)
            at = self.lonlat(table, where)
            if hall_id is None or at is None:
                return None
            return MoveHall(hall_id, at[0], at[1])
        if kind == "communities.set":
            ids = self.texts(table, "community_id", where)
            district = self.text(table, "district", where)
            if bool(ids) == (district is not None):
                self.fail(where, "give exactly one of community_id and district")
                return None
            kind_value = table.get("kind")
            if kind_value is not None and kind_value not in KINDS:
                self.fail(where, f"kind must be 'urban' or 'rural', got {kind_value!r}")
                return None
            pop = self.number(table, "population", where)
            hh = self.number(table, "households", where)
            if kind_value is None and pop is None and hh is None:
                self.fail(where, "nothing to set: give kind, population or households")
                return None
            return SetCommunities(ids, district, kind_value, pop, hh)
        if kind == "roads.add":
            line = self.points(table["line"], "line", where, least=2)
            speed = self.number(table, "speed_kph", where, positive=True)
            two_way = table.get("two_way", True)
            if not isinstance(two_way, bool):
                self.fail(where, f"two_way must be true or false, got {two_way!r}")
                return None
            if line is None:
                return None
            return AddRoad(line, speed, str(table.get("name", "") or ""), two_way)
        if kind == "roads.close":
            if ("osm_way_id" in table) == ("line" in table):
                self.fail(where, "give exactly one of osm_way_id and line")
                return None
            if "line" in table:
                line = self.points(table["line"], "line", where, least=2)
                return None if line is None else CloseRoad(line=line)
            way = table["osm_way_id"]
            if isinstance(way, bool) or not isinstance(way, int):
                self.fail(where, f"osm_way_id must be a whole number, got {way!r}")
                return None
            return CloseRoad(osm_way_id=way)
        if kind == "roads.barrier":
            return self.barrier(table, where)
        # roads.speed
        speed = self.number(table, "speed_kph", where, positive=True)
        highway = self.texts(table, "highway", where)
        street = self.texts(table, "street", where)
        if not highway and not street:
            self.fail(where, "give highway (road classes) or street (street names)")
            return None
        return None if speed is None else SetSpeed(speed, highway, street)

    def barrier(self, table: dict[str, Any], where: str) -> Barrier | None:
        name = str(table.get("name", "") or "")
        if ("polygon" in table) == ("file" in table):
            self.fail(where, "give exactly one of polygon and file")
            return None
        if "polygon" in table:
            ring = self.points(table["polygon"], "polygon", where, least=3)
            return None if ring is None else Barrier(ring, name)
        path = Path(str(table["file"]))
        if not path.is_absolute() and self.folder is not None:
            path = self.folder / path
        try:
            shapes = gpd.read_file(path, engine="pyogrio")
        except Exception as exc:  # noqa: BLE001 (any reader error names the file)
            self.fail(where, f"file {str(table['file'])!r} cannot be read ({exc})")
            return None
        if shapes.crs is None:
            shapes = shapes.set_crs(4326)
        geom = shapely.union_all(shapes.to_crs(4326).geometry.to_numpy())
        if geom.is_empty or geom.geom_type not in {"Polygon", "MultiPolygon"}:
            self.fail(where, f"file {str(table['file'])!r} holds no polygon")
            return None
        return Barrier(geom, name)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from its TOML file; unknown keys and bad values are errors.

    Parameters
    ----------
    path
        The TOML file (the shared contract: ``name``, ``description``, ``coord_system``,
        ``[halls] close``, ``[[halls.add]]``, ``[[halls.move]]``, ``[[communities.set]]``,
        ``[[roads.add]]``, ``[[roads.close]]``, ``[[roads.barrier]]``, ``[[roads.speed]]``).
        A barrier's ``file`` is read relative to the TOML's folder.

    Returns
    -------
    Scenario
        The scenario (not yet checked against a baseline: :func:`apply_scenario` does that).

    Raises
    ------
    ScenarioError
        Naming the file, the edit and the key of every problem, e.g.
        ``scenario.toml: [[halls.add]] #2: missing key(s) 'lat'``.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: scenario file not found"
        raise ScenarioError(msg) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: not a valid TOML file ({exc})"
        raise ScenarioError(msg) from None
    return scenario_from_dict(data, source=path.name, folder=path.parent)


def scenario_from_dict(
    data: Mapping[str, Any], *, source: str = "scenario", folder: Path | None = None
) -> Scenario:
    """A scenario from the mapping a TOML file holds (see :func:`load_scenario`).

    Parameters
    ----------
    data
        The parsed TOML.
    source
        Names the scenario in messages.
    folder
        Where barrier files are looked for.

    Returns
    -------
    Scenario
        The scenario.

    Examples
    --------
    >>> s = scenario_from_dict({"name": "x", "halls": {"close": ["H2"]}})
    >>> s.edits
    (CloseHalls(hall_ids=('H2',)),)
    """
    r = _Reader(source, folder)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        r.fail(
            source,
            f"unknown key(s) {', '.join(map(repr, unknown))}; known keys: "
            f"{', '.join(sorted(_TOP_KEYS))}",
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        r.fail(source, f"'name' must be a non-empty text, got {name!r}")
    description = data.get("description", "")
    coord_system = data.get("coord_system", "wgs84")
    if coord_system not in COORD_SYSTEMS:
        r.fail(
            source,
            f"'coord_system' must be one of {', '.join(COORD_SYSTEMS)}, got {coord_system!r}",
        )
    edits: list[Edit] = []
    for section, parts in _SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            r.fail(source, f"[{section}] must be a table")
            continue
        bad = sorted(set(table) - parts)
        if bad:
            r.fail(
                f"{source}: [{section}]",
                f"unknown key(s) {', '.join(map(repr, bad))}; known "
                f"keys: {', '.join(sorted(parts))}",
            )
        for part in sorted(parts, key=["close", "add", "move", "set", "barrier", "speed"].index):
            if part not in table:
                continue
            if section == "halls" and part == "close":
                ids = r.texts(table, "close", f"{source}: [halls] close")
                if ids:
                    edits.append(CloseHalls(ids))
                continue
            items = table[part]
            if not isinstance(items, list):
                items = [items]
            for k, item in enumerate(items, start=1):
                kind = f"{section}.{part}"
                where = f"{source}: [[{kind}]] #{k}"
                checked = r.keys(item, kind, where)
                edit = r.edit(kind, checked, where) if checked is not None else None
                if edit is not None:
                    edits.append(edit)
    if r.problems:
        raise ScenarioError("; ".join(r.problems))
    return Scenario(
        name=str(name),
        description=str(description or ""),
        edits=tuple(edits),
        coord_system=coord_system,
        source=source,
    )


# --------------------------------------------------------------------------------------------
# applying a scenario


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
    new_com = _edit_communities(communities, scenario, labels, problems)
    new_halls, changes, placed = _edit_halls(halls, scenario, labels, problems)
    seconds = {"frames": time.perf_counter() - started}
    net = network
    roads = _empty_roads()
    if scenario.has_road_edits:
        t0 = time.perf_counter()
        edited = _RoadEditor(network, cfg, scenario, labels, problems)
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
        got = snap_xy(net, _to_metric(net, xy), config=cfg)
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


def _to_metric(network: Network, lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points given as lon/lat (EPSG:4326, degrees) in the network's metric CRS, metres."""
    to_m = network.memo(
        __name__,
        "to_metric",
        lambda: pyproj.Transformer.from_crs(4326, network.crs, always_xy=True),
    )
    x, y = to_m.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def _wgs84(scenario: Scenario, points: Sequence[Point]) -> NDArray[np.float64]:
    """The scenario's points in WGS-84 lon/lat, degrees, shape ``(n, 2)``."""
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    if scenario.coord_system == "wgs84" or not len(xy):
        return xy
    lon, lat = to_wgs84(xy[:, 0], xy[:, 1], scenario.coord_system)
    return np.column_stack([lon, lat])


def _set_column(frame: pd.DataFrame, col: str, rows: NDArray[np.bool_], value: object) -> None:
    """``frame[col][rows] = value`` without changing the column's type where it fits."""
    if col not in frame.columns:
        frame[col] = np.full(len(frame), np.nan)
    values = frame[col].to_numpy(copy=True)
    if isinstance(value, float) and values.dtype.kind in "iu" and not float(value).is_integer():
        values = values.astype(float)
    elif isinstance(value, float) and values.dtype.kind in "iu":
        value = int(value)
    elif isinstance(value, str) and values.dtype.kind not in "OUT":
        values = values.astype(object)
    values[rows] = value
    frame[col] = pd.Series(values, index=frame.index).astype(
        frame[col].dtype if isinstance(value, str) else values.dtype
    )


def _edit_communities(
    communities: gpd.GeoDataFrame, scenario: Scenario, labels: list[str], problems: list[str]
) -> gpd.GeoDataFrame:
    """The communities after ``[[communities.set]]`` edits (a copy; the input untouched)."""
    sets = [
        (lab, e)
        for lab, e in zip(labels, scenario.edits, strict=True)
        if isinstance(e, SetCommunities)
    ]
    if not sets:
        return communities
    out = communities.copy()
    ids = out["community_id"].astype(str).to_numpy()
    districts = (
        out["district"].astype(str).to_numpy() if "district" in out.columns else np.array([])
    )
    for label, edit in sets:
        if edit.district is not None:
            try:
                name = match_names([edit.district], sorted(set(districts)), what="district")[0]
            except InputDataError as exc:
                problems.append(f"{label}: {exc}")
                continue
            rows = districts == name
        else:
            unknown = [c for c in edit.community_id if c not in set(ids)]
            if unknown:
                problems.append(
                    f"{label}: no community with community_id {list_ids(unknown)} in the baseline"
                )
                continue
            rows = np.isin(ids, list(edit.community_id))
        for col in ("kind", "population", "households"):
            value = getattr(edit, col)
            if value is not None:
                _set_column(out, col, rows, value)
    return out


def _edit_halls(
    halls: gpd.GeoDataFrame, scenario: Scenario, labels: list[str], problems: list[str]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[tuple[str, Point]]]:
    """The halls after closing, moving and adding; the changes; new places to check."""
    hall_edits = [
        (lab, e)
        for lab, e in zip(labels, scenario.edits, strict=True)
        if isinstance(e, CloseHalls | AddHall | MoveHall)
    ]
    changes: list[dict[str, Any]] = []
    placed: list[tuple[str, Point]] = []
    if not hall_edits:
        return halls, _frame(changes, ["hall_id", "name", "change", "edit"]), placed
    ids = halls["hall_id"].astype(str).to_numpy()
    known = set(ids)
    names = halls["name"].astype(str).to_numpy() if "name" in halls.columns else ids
    where_ll = halls.geometry.to_crs(4326)
    keep = np.ones(len(halls), dtype=bool)
    moved_to: dict[int, Point] = {}
    added: list[tuple[AddHall, Point]] = []
    for label, edit in hall_edits:
        if isinstance(edit, CloseHalls):
            unknown = [h for h in edit.hall_ids if h not in known]
            if unknown:
                problems.append(
                    f"{label}: no hall with hall_id {list_ids(unknown)} in the baseline"
                )
            for i in np.flatnonzero(np.isin(ids, list(edit.hall_ids))).tolist():
                keep[i] = False
                changes.append(
                    {
                        "hall_id": ids[i],
                        "name": names[i],
                        "change": "closed",
                        "edit": label,
                        "geometry": where_ll.iloc[i],
                    }
                )
        elif isinstance(edit, MoveHall):
            if edit.hall_id not in known:
                problems.append(f"{label}: no hall with hall_id {edit.hall_id!r} in the baseline")
                continue
            ((lon, lat),) = _wgs84(scenario, [(edit.lon, edit.lat)])
            i = int(np.flatnonzero(ids == edit.hall_id)[0])
            moved_to[i] = (float(lon), float(lat))
            placed.append((label, moved_to[i]))
            changes.append(
                {
                    "hall_id": edit.hall_id,
                    "name": names[i],
                    "change": "moved",
                    "edit": label,
                    "geometry": shapely.Point(lon, lat),
                }
            )
        else:
            taken = known | {a.hall_id for a, _ in added}
            if edit.hall_id in taken:
                where = "in the baseline" if edit.hall_id in known else "among the new halls"
                problems.append(f"{label}: hall_id {edit.hall_id!r} already exists {where}")
                continue
            ((lon, lat),) = _wgs84(scenario, [(edit.lon, edit.lat)])
            added.append((edit, (float(lon), float(lat))))
            placed.append((label, (float(lon), float(lat))))
            changes.append(
                {
                    "hall_id": edit.hall_id,
                    "name": edit.name or edit.hall_id,
                    "change": "added",
                    "edit": label,
                    "geometry": shapely.Point(lon, lat),
                }
            )
    for i in moved_to:
        if not keep[i]:
            problems.append(f"hall {ids[i]!r} is both closed and moved")
    out = _hall_frame(halls, keep, moved_to, added)
    return out, _frame(changes, ["hall_id", "name", "change", "edit"]), placed


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> gpd.GeoDataFrame:
    """A GeoDataFrame (EPSG:4326) of rows with a ``geometry`` each."""
    if not rows:
        return gpd.GeoDataFrame(
            {c: pd.Series([], dtype=object) for c in columns}, geometry=gpd.GeoSeries([], crs=4326)
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)[[*columns, "geometry"]]


def _empty_roads() -> gpd.GeoDataFrame:
    return _frame([], ["edit", "change", "name"])


def _hall_frame(
    halls: gpd.GeoDataFrame,
    keep: NDArray[np.bool_],
    moved_to: dict[int, Point],
    added: list[tuple[AddHall, Point]],
) -> gpd.GeoDataFrame:
    """The halls kept (moved ones in their new place), then the new ones, column by column."""
    geom_name = halls.geometry.name
    geom = halls.geometry.copy()
    if moved_to:
        at = list(moved_to)
        new_pts = gpd.GeoSeries([shapely.Point(*moved_to[i]) for i in at], crs=4326).to_crs(
            halls.crs
        )
        geom.iloc[at] = new_pts.to_numpy()
    n_new = len(added)
    if n_new == 0 and keep.all():
        out = halls.copy()
        out[geom_name] = geom
        return out
    new_geom = gpd.GeoSeries([shapely.Point(*p) for _, p in added], crs=4326).to_crs(halls.crs)
    new_rows = {
        "hall_id": [a.hall_id for a, _ in added],
        "name": [a.name or a.hall_id for a, _ in added],
        "floor_area_m2": [np.nan if a.floor_area_m2 is None else a.floor_area_m2 for a, _ in added],
    }
    cols: dict[str, Any] = {}
    for col in halls.columns:
        if col == geom_name:
            continue
        old = halls[col].to_numpy()[keep]
        if col in new_rows:
            new = np.asarray(new_rows[col], dtype=object)
        elif old.dtype == bool:
            new = np.zeros(n_new, dtype=bool)
        else:
            new = np.full(n_new, None if old.dtype.kind in "OUT" else np.nan, dtype=object)
        both = np.concatenate([old.astype(object), new])
        series = pd.Series(both)
        try:
            series = series.astype(halls[col].dtype) if n_new else series
        except (TypeError, ValueError):
            series = pd.Series(both).infer_objects()
        cols[col] = series.to_numpy() if isinstance(series, pd.Series) else series
    for col, values in new_rows.items():
        if col not in halls.columns and any(v is not None for v in values):
            if col == "name":
                old = halls["hall_id"].astype(str).to_numpy()[keep]
            else:
                old = np.full(int(keep.sum()), np.nan)
            cols[col] = np.concatenate([old.astype(object), np.asarray(values, dtype=object)])
            if col == "floor_area_m2":
                cols[col] = cols[col].astype(float)
    index = halls.index[keep]
    if pd.api.types.is_integer_dtype(halls.index.dtype):
        start = int(halls.index.max()) + 1 if len(halls) else 0
        new_index = pd.Index(range(start, start + n_new))
    else:
        new_index = pd.Index([a.hall_id for a, _ in added])
    frame = pd.DataFrame(cols, index=index.append(new_index))
    for col in frame.columns:
        if col in halls.columns:
            try:
                frame[col] = frame[col].astype(halls[col].dtype)
            except (TypeError, ValueError):
                frame[col] = frame[col].infer_objects()
    points = np.concatenate([geom.to_numpy()[keep], new_geom.to_numpy()])
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, index=frame.index, crs=halls.crs))
    out = out.rename_geometry(geom_name) if geom_name != "geometry" else out
    out.attrs = dict(halls.attrs)
    return out


class _RoadEditor:
    """The edited edge table of a network: roads closed, barriers, new links, speeds.

    Works on a copy of the table's arrays (the network keeps its own). ``table`` is the
    edited table, ``speed`` the speed of each of its edges where an edit sets it (km/h, NaN
    elsewhere), ``drawn`` the edited roads for maps.
    """

    def __init__(
        self,
        network: Network,
        cfg: Config,
        scenario: Scenario,
        labels: list[str],
        problems: list[str],
    ) -> None:
        self.net = network
        self.cfg = cfg
        self.problems = problems
        t = network.table
        if len(t.geom_index) > 1 and bool(np.any(np.diff(t.geom_index) < 0)):
            t = sorted_coords(t)
        self.t = t
        self.starts = np.concatenate(
            [[0], np.cumsum(np.bincount(t.geom_index, minlength=len(t.u)))]
        )
        self.usable = (t.modes & MODE_BIT[network.mode]) > 0
        self.drop = np.zeros(len(t.u), dtype=bool)
        self.edge_speed = np.full(len(t.u), np.nan)
        drawn: list[dict[str, Any]] = []
        links: list[tuple[str, AddRoad, NDArray[np.float64]]] = []
        for label, edit in zip(labels, scenario.edits, strict=True):
            if isinstance(edit, CloseRoad):
                self._close(label, edit, scenario, drawn)
            elif isinstance(edit, Barrier):
                self._barrier(label, edit, scenario, drawn)
            elif isinstance(edit, SetSpeed):
                self._speed(label, edit, drawn)
            elif isinstance(edit, AddRoad):
                links.append((label, edit, _wgs84(scenario, edit.line)))
        self.table, self.speed = self._rebuild(links, drawn)
        self.drawn = _frame(drawn, ["edit", "change", "name"])

    # -- which edges

    def _lines(self) -> tuple[NDArray[np.object_], shapely.STRtree]:
        """Every edge's line in the network's metric CRS and a tree over them (kept)."""

        def build() -> tuple[NDArray[np.object_], shapely.STRtree]:
            xy = _to_metric(self.net, self.t.geom_coords)
            lines = np.asarray(shapely.linestrings(xy, indices=self.t.geom_index), dtype=object)
            return lines, shapely.STRtree(lines)

        return self.net.memo(__name__, "edge_lines", build)

    def _crossing(self, geom_m: shapely.Geometry) -> NDArray[np.int64]:
        """Edges usable by the mode whose line meets ``geom_m`` (metric)."""
        lines, tree = self._lines()
        hit = tree.query(geom_m, predicate="intersects")
        hit = np.unique(np.asarray(hit, dtype=np.int64))
        return hit[self.usable[hit]]

    def _metric(self, lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
        return _to_metric(self.net, lonlat)

    def _close(self, label: str, edit: CloseRoad, scenario: Scenario, drawn: list[Any]) -> None:
        if edit.osm_way_id is not None:
            self.problems.append(
                f"{label}: this network keeps no OSM way ids (its edge table has none); close "
                "the road with line = [[lon, lat], [lon, lat]] drawn across it"
            )
            return
        ll = _wgs84(scenario, edit.line or ())
        hit = self._crossing(shapely.LineString(self._metric(ll)))
        if not len(hit):
            self.problems.append(f"{label}: the line crosses no road usable by {self.net.mode}")
            return
        self.drop[hit] = True
        for line in self._lonlat_lines(hit):
            drawn.append({"edit": label, "change": "closed", "name": "", "geometry": line})

    def _barrier(self, label: str, edit: Barrier, scenario: Scenario, drawn: list[Any]) -> None:
        if isinstance(edit.polygon, shapely.Geometry):
            poly_ll = edit.polygon
            if scenario.coord_system != "wgs84":
                poly_ll = shapely.transform(poly_ll, lambda xy: _wgs84(scenario, xy.tolist()))
        else:
            poly_ll = shapely.Polygon(_wgs84(scenario, edit.polygon))
        if not poly_ll.is_valid:
            poly_ll = shapely.make_valid(poly_ll)
        poly_m = shapely.transform(poly_ll, self._metric)
        hit = self._crossing(poly_m.boundary)
        if not len(hit):
            self.problems.append(
                f"{label}: the polygon's boundary crosses no road usable by {self.net.mode}"
            )
            return
        self.drop[hit] = True
        drawn.append({"edit": label, "change": "barrier", "name": edit.name, "geometry": poly_ll})
        for line in self._lonlat_lines(hit):
            drawn.append({"edit": label, "change": "closed", "name": edit.name, "geometry": line})

    def _speed(self, label: str, edit: SetSpeed, drawn: list[Any]) -> None:
        hit = np.zeros(len(self.t.u), dtype=bool)
        if edit.highway:
            self.problems.append(
                f"{label}: highway {list_ids(edit.highway)} matches no road: this network keeps "
                "no highway classes (its edge table has none); pick the roads by street name "
                "(street = [...])"
            )
            return
        names = self.t.name
        for street in edit.street:
            match = self.usable & (names == street)
            if not match.any():
                self.problems.append(
                    f"{label}: street {street!r} matches no road usable by {self.net.mode}"
                )
            hit |= match
        if hit.any():
            self.edge_speed[hit] = edit.speed_kph
            for line in self._lonlat_lines(np.flatnonzero(hit)):
                drawn.append(
                    {
                        "edit": label,
                        "change": "speed",
                        "name": f"{edit.speed_kph:g} km/h",
                        "geometry": line,
                    }
                )

    def _lonlat_lines(self, edges: NDArray[np.int64]) -> list[shapely.LineString]:
        """The edges' lines in degrees (one per road: a two-way road's twin left out)."""
        t = self.t
        pair = np.minimum(t.u[edges], t.v[edges]) * len(t.node_ids) + np.maximum(
            t.u[edges], t.v[edges]
        )
        _, first = np.unique(pair, return_index=True)
        return [
            shapely.LineString(t.geom_coords[self.starts[e] : self.starts[e + 1]])
            for e in edges[np.sort(first)].tolist()
        ]

    # -- the new table

    def _cut_points(
        self, links: list[tuple[str, AddRoad, NDArray[np.float64]]]
    ) -> list[tuple[int, float] | None]:
        """Where each link end meets the network: (segment, fraction), checked."""
        ends = np.array([ll[i] for _, _, ll in links for i in (0, -1)]).reshape(-1, 2)
        if not len(ends):
            return []
        got = snap_xy(self.net, self._metric(ends), config=self.cfg)
        out: list[tuple[int, float] | None] = []
        for k in range(len(ends)):
            label = links[k // 2][0]
            which = "start" if k % 2 == 0 else "end"
            if not got.dist_m[k] <= self.cfg.max_snap_m:
                self.problems.append(
                    f"{label}: its {which} lies {got.dist_m[k]:,.0f} m from every road usable "
                    f"by {self.net.mode} (limit {self.cfg.max_snap_m:g} m)"
                )
                out.append(None)
                continue
            seg = int(got.seg[k])
            if self.drop[self.net.seg_edge[seg]]:
                self.problems.append(f"{label}: its {which} meets a road the scenario closes")
                out.append(None)
                continue
            out.append((seg, float(got.frac[k])))
        return out

    def _rebuild(  # noqa: PLR0915 (one straight assembly)
        self, links: list[tuple[str, AddRoad, NDArray[np.float64]]], drawn: list[Any]
    ) -> tuple[EdgeTable, NDArray[np.float64]]:
        t, net = self.t, self.net
        n_old = len(t.node_ids)
        first_loop = int(t.meta.get("loop_nodes_from", n_old))
        cuts = self._cut_points(links)
        # new nodes (cut points) and where each link end attaches: an old node or a new one
        new_ll: list[tuple[float, float]] = []
        split: dict[int, list[tuple[float, int]]] = {}  # edge -> [(distance along, node)]
        attach: list[int] = []
        for cut in cuts:
            if cut is None:
                attach.append(-1)
                continue
            seg, frac = cut
            length = float(
                np.hypot(
                    *np.diff(
                        net.seg_xy[net.seg_xy_start[seg] : net.seg_xy_start[seg + 1]], axis=0
                    ).T
                ).sum()
            )
            along = frac * length
            if along <= _AT_NODE_M:
                attach.append(int(net.seg_u[seg]))
                continue
            if length - along <= _AT_NODE_M:
                attach.append(int(net.seg_v[seg]))
                continue
            node = n_old + len(new_ll)  # (renumbered below)
            e = int(net.seg_edge[seg])
            lon, lat = self._point_along(e, along)
            new_ll.append((lon, lat))
            attach.append(node)
            split.setdefault(e, []).append((along, node))
            for twin in self._twins(e):
                split.setdefault(twin, []).append((-along, node))  # (measured from its v)
        if self.problems:
            return t, self.edge_speed
        k_new = len(new_ll)

        def renum(idx: NDArray[np.int64]) -> NDArray[np.int64]:
            """Old node indices after inserting the new nodes before the loop-road nodes."""
            idx = np.asarray(idx, dtype=np.int64)
            new = idx >= n_old
            out = np.where(idx >= first_loop, idx + k_new, idx)
            return np.where(new, idx - n_old + first_loop, out)

        keep_e = ~self.drop
        keep_e[list(split)] = False
        kept = np.flatnonzero(keep_e)
        # the parts of split edges and the links, as (u, v, coords, length, modes, ...)
        add_u: list[int] = []
        add_v: list[int] = []
        add_xy: list[NDArray[np.float64]] = []
        add_len: list[float] = []
        add_src: list[int] = []  # the edge whose attributes a part takes (-1: a link)
        add_speed: list[float] = []
        add_name: list[str] = []
        add_oneway: list[bool] = []
        for e, marks in split.items():
            coords = t.geom_coords[self.starts[e] : self.starts[e + 1]]
            total = self._metric_length(coords)
            ds = sorted((d if d >= 0 else total + d, node) for d, node in marks)
            prev_d, prev_node = 0.0, int(t.u[e])
            for d, node in [*ds, (total, int(t.v[e]))]:
                part = _sub_line(coords, self._metric(coords), prev_d, d)
                share = (d - prev_d) / total if total > 0 else 0.0
                add_u.append(prev_node)
                add_v.append(node)
                add_xy.append(part)
                add_len.append(float(t.length_m[e]) * share)
                add_src.append(e)
                add_speed.append(float(self.edge_speed[e]))
                add_name.append(str(t.name[e]))
                add_oneway.append(bool(t.oneway[e]))
                prev_d, prev_node = d, node
        node_ll = np.vstack([np.column_stack([t.lon, t.lat]), np.array(new_ll).reshape(-1, 2)])
        for j, (label, edit, ll) in enumerate(links):
            a, b = attach[2 * j], attach[2 * j + 1]
            course = np.vstack([node_ll[a], ll, node_ll[b]])
            keep_pt = np.r_[True, np.any(np.abs(np.diff(course, axis=0)) > 1e-12, axis=1)]
            course = course[keep_pt]
            length = self._metric_length(course)
            speed = np.nan if edit.speed_kph is None else edit.speed_kph
            for u, v, xy in ((a, b, course), (b, a, course[::-1]))[: 2 if edit.two_way else 1]:
                add_u.append(u)
                add_v.append(v)
                add_xy.append(xy)
                add_len.append(length)
                add_src.append(-1)
                add_speed.append(speed)
                add_name.append(edit.name)
                add_oneway.append(not edit.two_way)
            drawn.append(
                {
                    "edit": label,
                    "change": "added",
                    "name": edit.name,
                    "geometry": shapely.LineString(course),
                }
            )
        # the table: kept edges, then the parts and the links
        counts_kept = np.diff(self.starts)[kept]
        pos = np.repeat(self.starts[kept] - np.r_[0, np.cumsum(counts_kept)[:-1]], counts_kept)
        pos = pos + np.arange(int(counts_kept.sum()))
        coords = np.vstack([t.geom_coords[pos], *add_xy]) if add_xy else t.geom_coords[pos]
        n_kept, n_add = len(kept), len(add_u)
        counts = np.r_[counts_kept, [len(x) for x in add_xy]].astype(np.int64)
        src = np.asarray(add_src, dtype=np.int64)
        is_part = src >= 0
        srcp = np.where(is_part, src, 0)
        all_bits = np.uint8(MODE_BIT["walk"] | MODE_BIT["bike"] | MODE_BIT["drive"])
        names = np.r_[t.name[kept], np.asarray(add_name, dtype=str)] if n_add else t.name[kept]
        name_code, vocab = EdgeTable.encode_names(names)
        ids = t.node_ids
        if k_new:
            if ids.dtype.kind in "iu":
                low = min(int(ids.min()), 0)
                extra = np.arange(low - 1, low - 1 - k_new, -1, dtype=ids.dtype)
            else:
                extra = np.asarray([f"scenario~{i}" for i in range(k_new)])
            ids = np.concatenate([ids[:first_loop], extra, ids[first_loop:]])
        lon = np.insert(t.lon, first_loop, [p[0] for p in new_ll]) if k_new else t.lon
        lat = np.insert(t.lat, first_loop, [p[1] for p in new_ll]) if k_new else t.lat
        meta = dict(t.meta)
        if "loop_nodes_from" in meta:
            meta["loop_nodes_from"] = str(first_loop + k_new)
        table = EdgeTable(
            node_ids=ids,
            lon=np.asarray(lon, dtype=float),
            lat=np.asarray(lat, dtype=float),
            u=renum(np.r_[t.u[kept], np.asarray(add_u, dtype=np.int64)]),
            v=renum(np.r_[t.v[kept], np.asarray(add_v, dtype=np.int64)]),
            length_m=np.r_[t.length_m[kept], np.asarray(add_len, dtype=float)],
            geom_coords=coords,
            geom_index=np.repeat(np.arange(n_kept + n_add, dtype=np.int64), counts),
            modes=np.r_[t.modes[kept], np.where(is_part, t.modes[srcp], all_bits)].astype(np.uint8),
            bike_twoway=np.r_[t.bike_twoway[kept], np.where(is_part, t.bike_twoway[srcp], True)],
            speed_kph=np.r_[t.speed_kph[kept], np.where(is_part, t.speed_kph[srcp], np.nan)],
            name_code=name_code,
            name_vocab=vocab,
            oneway=np.r_[t.oneway[kept], np.asarray(add_oneway, dtype=bool)],
            meta=meta,
        )
        speed = np.r_[self.edge_speed[kept], np.asarray(add_speed, dtype=float)]
        return table, speed

    def _twins(self, e: int) -> list[int]:
        """The reverse edges of ``e`` that routing pairs with it (same nodes, same length)."""
        t = self.t
        rev = np.flatnonzero((t.u == t.v[e]) & (t.v == t.u[e]))
        if not len(rev):
            return []
        a, b = t.length_m[e], t.length_m[rev]
        same = np.abs(a - b) <= np.maximum(1.0, 0.02 * a) if np.isfinite(a) else np.isnan(b)
        return rev[same][:1].tolist()

    def _metric_length(self, lonlat: NDArray[np.float64]) -> float:
        xy = self._metric(lonlat)
        return float(np.hypot(*np.diff(xy, axis=0).T).sum())

    def _point_along(self, e: int, along: float) -> tuple[float, float]:
        coords = self.t.geom_coords[self.starts[e] : self.starts[e + 1]]
        part = _sub_line(coords, self._metric(coords), along, along)
        return float(part[0, 0]), float(part[0, 1])


def _sub_line(
    ll: NDArray[np.float64], xy: NDArray[np.float64], d0: float, d1: float
) -> NDArray[np.float64]:
    """The part of a line (degrees ``ll``, metric ``xy``) between two distances along it.

    Distances are measured on the metric line, metres; cut points are interpolated alike in
    degrees (the pieces are short: the difference is far below a millimetre).
    """
    step = np.hypot(*np.diff(xy, axis=0).T)
    cum = np.r_[0.0, np.cumsum(step)]

    def at(d: float) -> tuple[int, NDArray[np.float64]]:
        i = int(np.clip(np.searchsorted(cum, d, side="right") - 1, 0, len(step) - 1))
        f = (d - cum[i]) / step[i] if step[i] > 0 else 0.0
        return i, ll[i] + min(max(f, 0.0), 1.0) * (ll[i + 1] - ll[i])

    i0, p0 = at(d0)
    i1, p1 = at(d1)
    return np.vstack([p0, ll[i0 + 1 : i1 + 1], p1])


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
    return result


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
    >>> net = load_network(grid_graph())
    >>> s = Scenario("close H2", edits=(CloseHalls(("H2",)),))
    >>> r = run_scenario(grid_communities(), grid_halls(), net, s)
    >>> r.communities["travel_time_min"].tolist()
    [4.0, 16.0, 18.0, 12.0, 18.0]
    """
    edited = apply_scenario(communities, halls, network, scenario, config=config)
    return audit_edited(edited, baseline=baseline)


# --------------------------------------------------------------------------------------------
# comparing


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
        """The total row of :attr:`districts` as a plain dict."""
        row = self.districts[self.districts["district"] == ALL_DISTRICTS].iloc[0]
        return {str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}

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
