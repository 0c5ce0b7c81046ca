"""Reading a scenario from the shared TOML contract, every problem named at once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from coverage._errors import ScenarioError
from coverage._files import read_toml
from coverage.coords import COORD_SYSTEMS
from coverage.scenarios._model import (
    KINDS,
    AddHall,
    AddRoad,
    Barrier,
    CloseHalls,
    CloseRoad,
    Edit,
    MoveHall,
    Point,
    Scenario,
    SetCommunities,
    SetSpeed,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

_TOP_KEYS = {"name", "description", "coord_system", "halls", "communities", "roads"}
_SECTIONS: dict[str, set[str]] = {"halls": {"close", "add", "move"}, "communities": {"set"}}
_SECTIONS["roads"] = {"add", "close", "barrier", "speed"}
_PART_ORDER = ["close", "add", "move", "set", "barrier", "speed"]
_KEYS: dict[str, tuple[set[str], set[str]]] = {  # (required, optional) keys of each table
    "halls.add": ({"hall_id", "lon", "lat"}, {"name", "floor_area_m2"}),
    "halls.move": ({"hall_id", "lon", "lat"}, set()),
    "communities.set": (
        set(),
        {"community_id", "district", "street", "kind", "population", "households"},
    ),
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
            street = self.text(table, "street", where)
            if bool(ids) + (district is not None) + (street is not None) != 1:
                self.fail(where, "give exactly one of community_id, district and street")
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
            return SetCommunities(ids, district, kind_value, pop, hh, street)
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
        streets = self.texts(table, "street", where)
        if not highway and not streets:
            self.fail(where, "give highway (road classes) or street (street names)")
            return None
        return None if speed is None else SetSpeed(speed, highway, streets)

    def section(self, table: object, section: str, parts: set[str]) -> list[Edit]:
        """The edits of one section (``[halls]``, ``[communities]``, ``[roads]``)."""
        source = self.source
        if not isinstance(table, dict):
            self.fail(source, f"[{section}] must be a table")
            return []
        bad = sorted(set(table) - parts)
        if bad:
            self.fail(
                f"{source}: [{section}]",
                f"unknown key(s) {', '.join(map(repr, bad))}; known keys: "
                f"{', '.join(sorted(parts))}",
            )
        edits: list[Edit] = []
        for part in sorted(parts, key=_PART_ORDER.index):
            if part not in table:
                continue
            if section == "halls" and part == "close":
                ids = self.texts(table, "close", f"{source}: [halls] close")
                if ids:
                    edits.append(CloseHalls(ids))
                continue
            items = table[part] if isinstance(table[part], list) else [table[part]]
            kind = f"{section}.{part}"
            for k, item in enumerate(items, start=1):
                where = f"{source}: [[{kind}]] #{k}"
                checked = self.keys(item, kind, where)
                edit = self.edit(kind, checked, where) if checked is not None else None
                if edit is not None:
                    edits.append(edit)
        return edits

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
    data = read_toml(path, "scenario", ScenarioError)
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
        edits += r.section(data.get(section, {}), section, parts)
    if r.problems:
        raise ScenarioError("; ".join(r.problems))
    return Scenario(
        name=str(name),
        description=str(description or ""),
        edits=tuple(edits),
        coord_system=coord_system,
        source=source,
    )
