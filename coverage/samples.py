"""Bundled sample regions, addressed by name.

All samples are real OpenStreetMap data (ODbL 1.0, "© OpenStreetMap contributors"); see
``data/README.md`` and ``data/PROVENANCE.md`` for what is real, what is derived by a written
rule, and what is illustrative.

=================  ==========================================================================
name               contents
=================  ==========================================================================
hangzhou-central   central Hangzhou (拱墅/西湖/上城) road network, c. 2024; communities are
                   street-bounded blocks with rule-based population; halls and planning zones
                   are illustrative
hangzhou-xihu      West Lake and the old city, raw OSM 2015 with footways and real points of
                   interest; illustrative halls
liechtenstein      a whole small country, OSM 2015: villages and hamlets (rural) and towns
                   (urban), the real town halls, the 11 municipalities as districts
=================  ==========================================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from coverage._errors import InputDataError
from coverage.config import DEFAULT_CONFIG, Config, Mode
from coverage.io import read_communities, read_halls
from coverage.network import Network, load_network

#: Attribution to show wherever bundled data is displayed.


@dataclass(frozen=True)
class SampleSpec:
    """Where a sample's files live, relative to the data folder, and its title per language."""

    name: str
    title: str
    network: str
    folder: str
    title_zh: str = ""

    def title_in(self, lang: str) -> str:
        """The title in one language (``"zh"`` or ``"en"``): one language per map title."""
        return self.title_zh if lang == "zh" and self.title_zh else self.title


SAMPLES: dict[str, SampleSpec] = {
    s.name: s
    for s in (
        SampleSpec(
            "hangzhou-central",
            "Central Hangzhou (Gongshu, Xihu, Shangcheng), OSM c.2024",
            "raw/hangzhou_central_drive_osrm2024.graphml.gz",
            "hangzhou-central",
            "杭州主城区（拱墅、西湖、上城），OSM 约 2024 年",
        ),
        SampleSpec(
            "hangzhou-xihu",
            "West Lake and old city, OSM 2015",
            "raw/hangzhou_xihu_2015-02.osm.pbf",
            "hangzhou-xihu",
            "西湖及老城区，OSM 2015 年",
        ),
        SampleSpec(
            "liechtenstein",
            "Liechtenstein, OSM 2015",
            "raw/liechtenstein_2015-07.osm.pbf",
            "liechtenstein",
            "列支敦士登，OSM 2015 年",
        ),
    )
}

DEFAULT_SAMPLE = "hangzhou-central"


def data_dir() -> Path:
    """The folder of the bundled data (``$COVERAGE_PLANNER_DATA`` overrides it).

    Returns
    -------
    pathlib.Path
        The project's ``data/`` folder.
    """
    env = os.environ.get("COVERAGE_PLANNER_DATA")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


def _spec(name: str) -> SampleSpec:
    try:
        return SAMPLES[name]
    except KeyError:
        msg = f"unknown sample {name!r}; bundled samples: {', '.join(SAMPLES)}"
        raise InputDataError(msg) from None


def sample_path(name: str, part: str) -> Path:
    """Path of one file of a sample.

    Parameters
    ----------
    name
        Sample name, e.g. ``"hangzhou-central"``.
    part
        ``"network"``, ``"communities"``, ``"halls"`` or ``"districts"``.

    Returns
    -------
    pathlib.Path
        The file's path.
    """
    spec = _spec(name)
    if part == "network":
        return data_dir() / spec.network
    return data_dir() / spec.folder / f"{part}.gpkg"


@dataclass
class Sample:
    """A loaded sample region.

    Attributes
    ----------
    name, title
        The sample's name and a human title.
    network
        The network with its routing view.
    communities
        Communities, EPSG:4326 points (canonical columns of :func:`coverage.io.read_communities`).
    halls
        Halls, EPSG:4326 points; ``illustrative`` marks made-up locations.
    districts
        District polygons (``district``, ``illustrative``), EPSG:4326.
    """

    name: str
    title: str
    network: Network
    communities: gpd.GeoDataFrame
    halls: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame

    def __repr__(self) -> str:
        """One line: the name, the counts and the network (not the frames)."""
        return (
            f"Sample({self.name!r}: {len(self.communities):,} communities, "
            f"{len(self.halls):,} halls, {len(self.districts):,} districts; {self.network!r})"
        )


def load_sample(
    name: str = DEFAULT_SAMPLE, *, mode: Mode | None = None, config: Config | None = None
) -> Sample:
    """Load a bundled sample: network, communities, halls and districts.

    Parameters
    ----------
    name
        ``"hangzhou-central"`` (default), ``"hangzhou-xihu"`` or ``"liechtenstein"``.
    mode
        Travel mode of the routing view; defaults to ``config.mode`` (walk).
    config
        Speeds and other settings.

    Returns
    -------
    Sample
        The loaded sample.
    """
    cfg = config or DEFAULT_CONFIG
    spec = _spec(name)
    net = load_network(sample_path(name, "network"), mode=mode, config=cfg)
    communities = read_communities(
        sample_path(name, "communities"), layer="communities", config=cfg
    )
    halls = read_halls(sample_path(name, "halls"), layer="halls")
    districts = gpd.read_file(sample_path(name, "districts"), layer="districts", engine="pyogrio")
    return Sample(name, spec.title, net, communities, halls, districts.to_crs(4326))
