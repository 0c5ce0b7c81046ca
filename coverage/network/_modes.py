"""Which travel modes may use a road: OSM access semantics, per-country defaults."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


#: Letters of the modes in the per-edge ``cp_modes`` attribute.
_MODE_LETTER = {"walk": "w", "bike": "b", "ebike": "b", "drive": "d"}


_NOT_ROADS = {
    "construction", "proposed", "abandoned", "platform", "raceway", "razed", "disused",
    "bus_stop", "elevator", "rest_area", "services", "emergency_bay", "no", "bus_guideway",
    "busway",
}  # fmt: skip


#: Access values (OSM ``Key:access``) that let the public use a way, and values that do not.
#: Any other value (``unknown``, a typo) says nothing: the next key up the hierarchy decides.
ACCESS_ALLOW = frozenset(
    {"yes", "designated", "permissive", "destination", "customers", "official", "permit",
     "discouraged", "dismount"}
)  # fmt: skip


ACCESS_DENY = frozenset(
    {"no", "private", "agricultural", "forestry", "delivery", "use_sidepath", "military",
     "emergency"}
)  # fmt: skip


#: Access keys of each mode letter, from the most general to the mode's own (OSM's access
#: hierarchy: ``access`` < ``vehicle`` < ``motor_vehicle`` < ``motorcar``; ``access`` < ``foot``).
_ACCESS_KEYS = {
    "w": ("access", "foot"),
    "b": ("access", "vehicle", "bicycle"),
    "d": ("access", "vehicle", "motor_vehicle", "motorcar"),
}


#: Highway classes closed to a mode unless the mode's own key opens them (worldwide defaults
#: of the OSM wiki's "OSM tags for routing/Access restrictions").
_CLOSED_WORLD = {
    "w": frozenset({"motorway", "motorway_link", "cycleway", "bridleway"}),
    "b": frozenset({"motorway", "motorway_link", "steps", "footway", "pedestrian", "path",
                    "corridor"}),
    "d": frozenset({"footway", "path", "pedestrian", "steps", "cycleway", "bridleway",
                    "corridor"}),
}  # fmt: skip


#: Per-country defaults that differ from the worldwide ones: highway classes closed to walking
#: (``"w"``) or cycling (``"b"``) in that country. China's extra rule (urban expressways) is in
#: :func:`_urban_expressway`. Liechtenstein has no row in the OSM wiki's table: worldwide.
COUNTRY_CLOSED: dict[str, dict[str, frozenset[str]]] = {
    # Switzerland: trunk is an Autostrasse (motor traffic only); cycle and bridle ways may be
    # walked.
    "CH": {
        "w": frozenset({"motorway", "motorway_link", "trunk", "trunk_link"}),
        "b": _CLOSED_WORLD["b"] | {"trunk", "trunk_link"},
    },
}


#: Rough boxes (west, south, east, north; degrees) of the countries with their own defaults,
#: looked up with the network's centre; the first box that holds it wins.
COUNTRY_BOXES: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("LI", (9.47, 47.04, 9.64, 47.28)),
    ("CH", (5.95, 45.81, 10.50, 47.81)),
    ("CN", (97.5, 21.5, 122.5, 42.0)),  # east and centre (Beijing to Guangzhou, Chengdu)
    ("CN", (118.0, 38.5, 125.0, 42.5)),  # Liaoning
    ("CN", (122.5, 42.0, 135.1, 53.6)),  # Jilin, Heilongjiang
    ("CN", (108.5, 18.0, 117.5, 21.5)),  # Hainan, the Guangdong and Guangxi coast
    ("CN", (73.5, 27.0, 97.5, 49.2)),  # Xinjiang, Tibet, Qinghai
    ("CN", (97.5, 42.0, 122.5, 46.5)),  # Inner Mongolia's south (part of Mongolia too)
)


_ONEWAY = frozenset({"yes", "true", "1", "-1"})


_SIDEWALK = frozenset({"yes", "both", "left", "right"})


def is_road(highway: str, area: str) -> bool:
    """Whether a ``highway=*`` value (and ``area=*``) is a road or path some mode may use."""
    return bool(highway) and highway not in _NOT_ROADS and area != "yes"


def country_at(lon: float, lat: float) -> str:
    """The country whose access defaults apply at a point ("" for the worldwide defaults).

    A rough lookup in :data:`COUNTRY_BOXES` (China, Switzerland, Liechtenstein), not a border
    test: a network near a border gets the rules of the box that holds its centre.

    Parameters
    ----------
    lon, lat
        The point, degrees (EPSG:4326).

    Returns
    -------
    str
        ISO 3166-1 alpha-2 code (``"CN"``, ``"CH"``, ``"LI"``) or ``""``.

    Examples
    --------
    >>> country_at(120.16, 30.27), country_at(9.52, 47.14), country_at(2.35, 48.86)
    ('CN', 'LI', '')
    """
    for code, (west, south, east, north) in COUNTRY_BOXES:
        if west <= lon <= east and south <= lat <= north:
            return code
    return ""


def _urban_expressway(tags: dict[str, str]) -> bool:
    """An urban expressway (城市快速路) or one of its ramps, by China's OSM tagging.

    OSM China maps urban expressways and national roads alike as ``highway=trunk``. The
    expressways are grade separated and divided: a one-way ``trunk`` carriageway on a viaduct,
    a bridge or in a tunnel (``bridge``, ``tunnel``, or ``layer`` other than 0) is one. Every
    ``trunk_link`` counts as a ramp (匝道): the at-grade ends of the ramps carry no structure
    tag, and a national road's slip roads run beside its walkable carriageway. At-grade trunk
    roads (national roads through towns and villages) are not expressways.
    """
    hw = tags.get("highway")
    if hw == "trunk_link":
        return True
    if hw != "trunk" or tags.get("oneway", "") not in _ONEWAY:
        return False
    return (
        tags.get("bridge", "no") != "no"
        or tags.get("tunnel", "no") != "no"
        or tags.get("layer", "0").strip() not in {"", "0"}
    )


def _decide(tags: dict[str, str], letter: str, *, closed: bool) -> bool:
    """Whether a mode may use a way: its access keys, else the class default.

    The most specific key of the mode's hierarchy with a known value decides. A way whose
    class is closed to the mode (``closed``) opens only by the mode's own keys: a general
    ``access=yes`` on a motorway or a cycleway is about the traffic the way is built for.
    """
    keys = _ACCESS_KEYS[letter]
    verdict: bool | None = None
    for key in keys[1:] if closed else keys:
        value = tags.get(key)
        if value in ACCESS_ALLOW:
            verdict = True
        elif value in ACCESS_DENY:
            verdict = False
    return (not closed) if verdict is None else verdict


def way_modes(tags: dict[str, str], *, country: str = "") -> str:
    """Work out which travel modes may use an OSM way, from its tags.

    The rules (OSM wiki "Key:access" and "OSM tags for routing/Access restrictions"):

    - *access hierarchy*: ``access`` < ``foot`` (walk); ``access`` < ``vehicle`` <
      ``bicycle`` (bike); ``access`` < ``vehicle`` < ``motor_vehicle`` < ``motorcar``
      (drive). The most specific key with a known value decides: ``yes``, ``designated``,
      ``permissive``, ``destination``, ``customers`` (:data:`ACCESS_ALLOW`) open the way,
      ``no``, ``private``, ``agricultural``, ``forestry``, ``delivery``, ``use_sidepath``
      (:data:`ACCESS_DENY`) close it; so ``access=forestry`` closes a track to walkers unless
      it also says ``foot=yes``.
    - *class defaults* where no key decides: walking is closed on motorways, their links,
      ``motorroad=yes`` roads, cycleways and bridleways; cycling on motorways, their links,
      motor roads, steps and foot-only ways (footway, pedestrian, path, corridor); driving
      on footways, paths, pedestrian streets, steps, cycleways, bridleways and corridors. A
      class closed to a mode opens only by the mode's own key (``foot=yes`` on a cycleway),
      never by a general ``access=yes``.
    - *per country* (``country``): Switzerland (``"CH"``) closes ``trunk``/``trunk_link`` to
      walkers and cyclists and opens cycleways and bridleways to walkers; China (``"CN"``)
      closes urban expressways (城市快速路: one-way ``trunk`` on a viaduct, a bridge or in a
      tunnel) and every ``trunk_link`` (their ramps) to walkers and cyclists unless
      ``foot=*``/``bicycle=*`` or a mapped ``sidewalk`` says otherwise. Everywhere else, and
      in Liechtenstein, the worldwide defaults apply (``trunk`` and ``trunk_link`` walkable).

    Parameters
    ----------
    tags
        The way's OSM tags.
    country
        ISO 3166-1 alpha-2 code of the country whose defaults apply (see
        :func:`country_at`); ``""`` for the worldwide defaults.

    Returns
    -------
    str
        Letters of the allowed modes: ``w`` walk, ``b`` bike and e-bike, ``d`` drive; empty if
        the way is not a usable road or path.

    Examples
    --------
    >>> way_modes({"highway": "footway"})
    'w'
    >>> way_modes({"highway": "residential"})
    'wbd'
    >>> way_modes({"highway": "motorway"})
    'd'
    >>> way_modes({"highway": "track", "access": "forestry"}), way_modes(
    ...     {"highway": "track", "access": "forestry", "foot": "yes"}
    ... )
    ('', 'w')
    >>> way_modes({"highway": "cycleway"}), way_modes({"highway": "cycleway"}, country="CH")
    ('b', 'wb')
    """
    hw = tags.get("highway", "")
    if not is_road(hw, tags.get("area", "")):
        return ""
    code = country.upper()
    rules = COUNTRY_CLOSED.get(code, {})
    expressway = code == "CN" and _urban_expressway(tags)
    motor_road = tags.get("motorroad") == "yes" or expressway
    walk_closed = motor_road or hw in rules.get("w", _CLOSED_WORLD["w"])
    if expressway and tags.get("sidewalk") in _SIDEWALK:  # a footpath mapped along it
        walk_closed = False
    modes = ""
    if _decide(tags, "w", closed=walk_closed):
        modes += "w"
    if _decide(tags, "b", closed=hw in rules.get("b", _CLOSED_WORLD["b"]) or motor_road):
        modes += "b"
    if _decide(tags, "d", closed=hw in _CLOSED_WORLD["d"]):
        modes += "d"
    return modes


#: Bits of the per-edge mode mask.
MODE_BIT = {"walk": 1, "bike": 2, "ebike": 2, "drive": 4}


def edge_allows(data: dict[str, Any], mode: str) -> bool:
    """Whether an edge (with its attributes) may be used by a mode."""
    modes = data.get("cp_modes")
    if modes is not None:
        if isinstance(modes, list):  # merged by simplification: every part must allow it
            return all(_MODE_LETTER[mode] in m for m in modes)
        return _MODE_LETTER[mode] in str(modes)
    osrm = data.get("osrm_class")
    if osrm is not None:
        classes = set(osrm) if isinstance(osrm, list) else {osrm}
        if mode == "drive":
            return "restricted" not in classes
        return not classes & {"motorway", "tunnel"}
    if data.get("highway") is not None:  # OSM tags, no country known: worldwide defaults
        letters = modes_of_edge(data, "")
        letters = letters if isinstance(letters, list) else [letters]
        return all(_MODE_LETTER[mode] in m for m in letters)
    return True


def modes_of_edge(data: dict[str, Any], country: str) -> str | list[str]:
    """Mode letters of an edge from its OSM tags; a list where simplification merged ways."""
    scalar = {k: str(v).lower() for k, v in data.items() if isinstance(v, (str, bool, int))}
    highways = data["highway"] if isinstance(data["highway"], list) else [data["highway"]]
    # (osmnx stores oneway as a bool; OSM's value is "yes")
    if isinstance(data.get("oneway"), bool):
        scalar["oneway"] = "yes" if data["oneway"] else "no"
    out = [way_modes({**scalar, "highway": str(h)}, country=country) for h in highways]
    return out[0] if len(out) == 1 else out
