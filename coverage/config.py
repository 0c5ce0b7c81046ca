"""Configuration: thresholds, travel modes, speeds and standards in one frozen object.

A planner writes the rules of an audit in one TOML file::

    urban_threshold_min = 15
    rural_threshold_min = 20
    mode = "walk"

    [speeds_kph]
    walk = 4.5
    ebike = 15

``Config.from_toml(path)`` reads it and rejects unknown keys, naming them. Functions take
``config: Config | None = None`` and fall back to :data:`DEFAULT_CONFIG`; there are no
mutable module-level settings, so an audit is reproducible from its TOML file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from coverage._errors import ConfigError
from coverage._files import read_toml

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

Mode = Literal["walk", "bike", "ebike", "drive"]
MODES: tuple[str, ...] = get_args(Mode)

_DEFAULT_SPEEDS_KPH: dict[str, float] = {"walk": 4.5, "bike": 12.0, "ebike": 18.0, "drive": 30.0}


@dataclass(frozen=True)
class Config:
    """Rules and parameters of an audit.

    Attributes
    ----------
    urban_threshold_min
        Service circle of urban communities (城市社区), minutes. Hangzhou plan 2017-2020: 15.
    rural_threshold_min
        Service circle of rural communities (农村社区), minutes. Hangzhou plan 2017-2020: 20.
    mode
        Travel mode used for routing: ``"walk"``, ``"bike"``, ``"ebike"`` or ``"drive"``.
    speeds_kph
        Travel speed per mode, km/h. Walking defaults to 4.5 km/h (GB 50180-2018's 1,000 m in
        15 minutes is about 4 km/h). Drive speeds apply to every road alike unless the network
        carries its own ``speed_kph`` edge attribute.
    access_speed_kph
        Speed of the off-network walk between a point and the road it is snapped to, km/h.
    max_snap_m
        A community or hall farther than this from every road is unreachable, metres.
    area_cell_m
        Grid cell of the service areas drawn on maps (:mod:`coverage.isochrones`), metres;
        the drawn areas agree with the audit's verdicts to within about a cell.
    floor_area_m2_per_100_households
        Floor-area standard of a hall, m² per 100 households served (导则 2024: at least 30).
    max_new_hall_m2
        Largest floor area of a proposed new hall, m²: the capacity of a candidate site
        without its own floor area in the capacitated siting model (the default of
        ``coverage-planner propose``), at ``floor_area_m2_per_100_households``: 800 m² serve
        2,666 households. 城市社区嵌入式服务设施建设导则(试行), 2024, speaks of service
        complexes of about 600-800 m²; a larger need is a sub-district centre, not a
        community hall.
    persons_per_household
        Used to estimate households where only population is known.
    metric_crs
        Projected CRS used for distances (e.g. ``"EPSG:32650"``); ``None`` picks the UTM zone
        of the network.
    check_coordinates
        Warn when the communities or halls fit the roads far better in another coordinate
        system (WGS-84, GCJ-02, BD-09) than the declared one: a statistical check on up to
        80 points per input, tens of milliseconds once per input (see :mod:`coverage.checks`).
    use_cache
        Cache parsed networks on disk; later loads of the same unchanged file read the cache.
    cache_dir
        Folder of the network cache; ``None`` uses ``$COVERAGE_PLANNER_CACHE``, else
        ``~/.cache/coverage-planner``.
    verbose
        Show progress bars on long steps.
    parallel_pays_s
        Runs asked to use local worker processes (``workers > 1``) start them only for at
        least this many seconds of per-district work, guessed from the number of districts
        before routing (``audit``), else timed on a district: starting, importing into and
        stopping the processes costs seconds, more than they save on less work (see
        ``bench/README.md``, "Batch"). 0 always starts them.
    """

    urban_threshold_min: float = 15.0
    rural_threshold_min: float = 20.0
    mode: Mode = "walk"
    speeds_kph: dict[str, float] = field(default_factory=lambda: dict(_DEFAULT_SPEEDS_KPH))
    access_speed_kph: float = 4.5
    max_snap_m: float = 500.0
    area_cell_m: float = 20.0
    floor_area_m2_per_100_households: float = 30.0
    max_new_hall_m2: float = 800.0
    persons_per_household: float = 2.5
    metric_crs: str | None = None
    check_coordinates: bool = True
    use_cache: bool = True
    cache_dir: str | None = None
    verbose: bool = False
    parallel_pays_s: float = 8.0

    def __post_init__(self) -> None:
        """Check every value and raise once, naming each bad key."""
        problems: list[str] = []
        for name in (
            "urban_threshold_min",
            "rural_threshold_min",
            "access_speed_kph",
            "max_snap_m",
            "area_cell_m",
            "floor_area_m2_per_100_households",
            "max_new_hall_m2",
            "persons_per_household",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                problems.append(f"'{name}' must be a positive number, got {value!r}")
        pays = self.parallel_pays_s
        if isinstance(pays, bool) or not isinstance(pays, int | float) or not pays >= 0:
            problems.append(f"'parallel_pays_s' must be a number of seconds >= 0, got {pays!r}")
        if self.mode not in MODES:
            problems.append(f"'mode' must be one of {', '.join(MODES)}, got {self.mode!r}")
        speeds: object = self.speeds_kph
        if not isinstance(speeds, dict):
            problems.append("'speeds_kph' must be a table of mode = km/h")
        else:
            for key, value in speeds.items():
                if key not in MODES:
                    problems.append(f"unknown mode 'speeds_kph.{key}' (known: {', '.join(MODES)})")
                elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    problems.append(f"'speeds_kph.{key}' must be a positive number, got {value!r}")
            merged = dict(_DEFAULT_SPEEDS_KPH)
            merged.update(speeds)
            object.__setattr__(self, "speeds_kph", merged)
        if problems:
            msg = "invalid configuration: " + "; ".join(problems)
            raise ConfigError(msg)

    @property
    def speed_kph(self) -> float:
        """Speed of the configured mode, km/h."""
        return float(self.speeds_kph[self.mode])

    @property
    def bands_min(self) -> list[float]:
        """The service-area bands a map draws: the distinct thresholds, ascending, minutes.

        Examples
        --------
        >>> Config().bands_min, Config(rural_threshold_min=15).bands_min
        ([15.0, 20.0], [15.0])
        """
        return sorted({float(self.urban_threshold_min), float(self.rural_threshold_min)})

    def thresholds_min(self, kinds: ArrayLike) -> NDArray[np.float64]:
        """Service-circle threshold of each community, by its kind, minutes.

        The one home of the rule: ``"rural"`` communities get ``rural_threshold_min``, every
        other (``"urban"``) ``urban_threshold_min``.

        Parameters
        ----------
        kinds
            ``"urban"`` or ``"rural"`` per community.

        Returns
        -------
        numpy.ndarray
            Minutes per community.

        Examples
        --------
        >>> Config().thresholds_min(["urban", "rural"]).tolist()
        [15.0, 20.0]
        """
        kind = np.asarray(kinds, dtype=object)
        return np.where(kind == "rural", self.rural_threshold_min, self.urban_threshold_min).astype(
            float
        )

    def households_from(self, population: ArrayLike) -> NDArray[np.float64]:
        """Households estimated from population: ``round(population / persons_per_household)``.

        The one home of the rule, used wherever a community's households are missing.

        Parameters
        ----------
        population
            Residents per community.

        Returns
        -------
        numpy.ndarray
            Estimated households per community.

        Examples
        --------
        >>> Config().households_from([1000, 251]).tolist()
        [400.0, 100.0]
        """
        return np.round(np.asarray(population, dtype=float) / self.persons_per_household)

    def replace(self, **changes: Any) -> Config:  # noqa: ANN401
        """Return a copy with some fields changed (validated like a new object)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        """Read a configuration from a TOML file; unknown keys are rejected by name.

        Parameters
        ----------
        path
            Path of the TOML file.

        Returns
        -------
        Config
            The configuration, with defaults for keys the file does not set.
        """
        path = Path(path)
        data = read_toml(path, "configuration", ConfigError)
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "configuration") -> Config:
        """Build a configuration from a mapping; unknown keys are rejected by name.

        Parameters
        ----------
        data
            Keys are the field names of :class:`Config`.
        source
            Where the mapping came from, used in error messages.

        Returns
        -------
        Config
            The configuration.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            msg = (
                f"{source}: unknown key(s) {', '.join(repr(k) for k in unknown)}; "
                f"known keys: {', '.join(sorted(known))}"
            )
            raise ConfigError(msg)
        try:
            return cls(**data)
        except ConfigError as exc:
            msg = f"{source}: {exc}"
            raise ConfigError(msg) from None


DEFAULT_CONFIG = Config()
