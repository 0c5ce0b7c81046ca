"""Scenario and its edits: what a scenario may change, as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import shapely

    from coverage.coords import CoordSystem

Point = tuple[float, float]

#: Community kinds a scenario may set.
KINDS = ("urban", "rural")

#: Changes of a community between the baseline and a scenario.
CHANGES = ("gained", "lost", "faster", "slower", "unchanged")

#: A barrier that leaves more than this share of the communities without any reachable hall
#: (that reached one in the baseline) is taken for a mistake.
CUT_OFF_SHARE = 0.5


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

    Exactly one of ``community_id`` (ids), ``district`` and ``street`` (an added key: 撤村建居
    goes street by street) picks the communities; a district or street is named in full or
    by its unambiguous beginning. ``population`` and ``households`` are set on each
    community picked; households stay as they were unless given (the audit estimates
    missing ones from population).
    """

    community_id: tuple[str, ...] = ()
    district: str | None = None
    kind: Literal["urban", "rural"] | None = None
    population: float | None = None
    households: float | None = None
    street: str | None = None


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
    """A polygon no route may cross (``[[roads.barrier]]``), e.g. a river or a building site.

    Every road crossing its boundary is dropped; new links cross it (a footbridge over the
    river). Communities and halls still reach the nearest remaining road in a straight line:
    a point whose nearest road lies across the boundary gets there (draw the polygon round
    the roads, not tight round a point).
    """

    polygon: tuple[Point, ...] | shapely.Geometry
    name: str = ""


@dataclass(frozen=True)
class SetSpeed:
    """Speed of some roads for the network's mode (``[[roads.speed]]``), km/h.

    Roads are picked by ``highway`` class (OSM ``highway=*``; networks read from OSM files
    and osmnx graphs keep it, the bundled OSRM-derived Hangzhou network has none) and by
    street name (``street``, an added key); a road matching either is changed.
    """

    speed_kph: float
    highway: tuple[str, ...] = ()
    street: tuple[str, ...] = ()


Edit = CloseHalls | AddHall | MoveHall | SetCommunities | AddRoad | CloseRoad | Barrier | SetSpeed

#: Each edit's TOML section (the first part of its label in messages).
SECTION: dict[type, str] = {
    CloseHalls: "[halls] close",
    AddHall: "[[halls.add]]",
    MoveHall: "[[halls.move]]",
    SetCommunities: "[[communities.set]]",
    AddRoad: "[[roads.add]]",
    CloseRoad: "[[roads.close]]",
    Barrier: "[[roads.barrier]]",
    SetSpeed: "[[roads.speed]]",
}

ROAD_EDITS = (AddRoad, CloseRoad, Barrier, SetSpeed)


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
            section = SECTION[type(edit)]
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
        return any(isinstance(e, ROAD_EDITS) for e in self.edits)
