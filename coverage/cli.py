"""Command line: ``coverage-planner audit | isochrones | propose | scenario | samples``.

The command is ``coverage-planner`` (not ``coverage``, which belongs to coverage.py). It only
reads options and calls the package's public functions. Its messages speak in options: an
error raised with :meth:`coverage.CoverageError.naming` names Python parameters, which
:data:`_FLAGS` spells as the options that set them (``max_floor_area_m2=700`` →
``--max-floor-area-m2 700``); rules joining several options are usage errors (exit 2).

Exit codes
----------
0
    Success (whether or not every community is covered).
1
    Internal error (a bug: please report it; ``--debug`` shows the traceback).
2
    Wrong command-line usage.
3
    Bad input: a file, column, row or setting the message names.
4
    Output could not be written (permissions, disk full, a map asset that cannot be
    embedded offline).
5
    Reserved: some districts failed and the others were written (a batch of district audits
    on clipped networks; ``audit`` now routes the whole network at once, so it no longer
    ends this way).
6
    No plan meets the constraints (``propose --model capacitated`` with too little floor
    area within reach; the message gives the numbers).
130
    Interrupted (Ctrl-C). Files already written are complete; none is half-written.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from coverage._errors import (
    CoordinateSystemWarning,
    CoverageError,
    CoverageWarning,
    InfeasibleAllocationError,
    InputDataError,
    OfflineExportError,
)
from coverage.config import DEFAULT_CONFIG, MODES, Config

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from coverage.coords import CoordSystem
    from coverage.reports import Lang

logger = logging.getLogger("coverage")

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_PARTIAL = 5  # reserved: a batch of district audits finished with some failed
EXIT_NO_SOLUTION = 6  # the inputs are valid, but no plan meets the constraints


class _StopError(InputDataError):
    """Bad input explained in one line in the run's language (printed as it is)."""

    def __init__(self, line: str, code: int = EXIT_INPUT) -> None:
        super().__init__(line)
        self.line = line
        self.code = code


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, unless the help already states it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default is argparse.SUPPRESS:
            return text
        if action.nargs == 0 and action.default is False:  # a switch
            return f"{text} (default: off)"
        if action.default is None:
            return text  # the help must say what happens without it (tested)
        return f"{text} (default: %(default)s)"


def _number(
    kind: Callable[[str], float], minimum: float, *, above: bool = False
) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind`` at least (or, with ``above``, over) ``minimum``."""

    def parse(text: str) -> float:
        value = kind(text)  # ValueError: argparse says "invalid <kind> value"
        if not math.isfinite(value) or value < minimum or (above and value == minimum):
            msg = f"must be {'>' if above else '>='} {minimum:g}, got {text}"
            raise argparse.ArgumentTypeError(msg)
        return value

    parse.__name__ = getattr(kind, "__name__", "number")
    return parse


_POSITIVE = _number(float, 0, above=True)


def _measure(
    a: argparse.ArgumentParser,
    flag: str,
    old: str,
    *,
    help: str,  # noqa: A002 (argparse's name)
    default: float | None = None,
    kind: Callable[[str], Any] = _POSITIVE,
) -> None:
    """An option whose name ends in its unit (``--spacing-m``) and its older spelling.

    The older spelling (``--spacing``) is still accepted, so scripts keep working, but is not
    shown in the help.
    """
    dest = flag.removeprefix("--").replace("-", "_")
    unit = flag.rsplit("-", 1)[1].upper()
    a.add_argument(flag, metavar=unit, type=kind, default=default, help=help)
    a.add_argument(old, dest=dest, type=kind, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _parser() -> argparse.ArgumentParser:
    from coverage import __version__  # noqa: PLC0415
    from coverage.samples import DEFAULT_SAMPLE  # noqa: PLC0415

    p = argparse.ArgumentParser(
        prog="coverage-planner",
        description=(
            "Service-coverage planning for community service halls: network travel times, "
            "15/20-minute audits, maps and tables."
        ),
        epilog=(
            "Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input, 4 cannot write output, "
            "5 some districts failed, 6 no plan meets the constraints, 130 interrupted."
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="show informative log lines (also dask's)"
    )
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:  # noqa: A002
        a = sub.add_parser(name, formatter_class=_HelpFormatter, help=help, description=description)
        a.set_defaults(usage_error=a.error)
        return a

    a = command(
        "audit",
        help="audit communities against their 15/20-minute service circle",
        description=(
            "Audit every community against its service circle (urban 15 min, rural 20 min by "
            f"default). With no arguments, audits the bundled sample {DEFAULT_SAMPLE!r} and "
            "writes maps/<sample>/<district>/ folders."
        ),
    )
    _input_options(a)
    _report_options(a)
    a.add_argument(
        "--workers",
        metavar="N",
        type=_number(int, 1),
        help="write the district folders on N local processes, started only when the work "
        "pays for them; the results are the same (default: 1, this process)",
    )
    a.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="write the district folders on an existing dask cluster, tcp://host:8786 "
        "(default: none)",
    )
    _measure(
        a,
        "--buffer-m",
        "--buffer",
        help=argparse.SUPPRESS,  # no longer used: accepted, with a warning, so scripts run
        kind=_number(float, 0),
    )
    a.add_argument(
        "--no-isochrones",
        action="store_true",
        help="leave the service areas (bands and catchments) off the maps",
    )
    _measure(
        a,
        "--cell-m",
        "--cell",
        help="grid cell of the service areas, metres (default: area_cell_m of the "
        f"configuration, {DEFAULT_CONFIG.area_cell_m:g})",
    )
    a.add_argument(
        "--resume",
        action="store_true",
        help="keep district folders an interrupted run already finished (same results)",
    )
    a.add_argument(
        "--services",
        metavar="STANDARD",
        help="also audit the community life circle against a standard: a bundled one "
        "(gb50180-2018, hangzhou-2017) or your TOML file laid out like them; writes "
        "life_circle.html, life_circle.xlsx and life_circle_map.html into the run's folder "
        "(default: no life circle)",
    )
    a.add_argument(
        "--service-sites",
        metavar="FILE",
        type=Path,
        help="with --services: the services' sites, any format the halls file takes, with a "
        "'service' column naming each site's service by its key in the standard (default: "
        "the sites the standard's OSM tags find in the OSM extract of the sample or of "
        "--network; a service 'hall' takes the run's halls)",
    )

    iso = command(
        "isochrones",
        help="write service areas (where a community would be covered) as GeoPackage or GeoJSON",
        description=(
            "Service areas by the audit's own rule: every cell of a grid is timed as a "
            "community at its centre would be (nearest road within the snap limit, off-road "
            "walk, network time to the nearest hall); the cells within each band become "
            "nested polygons (--per all), each hall's catchment (--per hall) or each "
            "district's (--per district). Cells holding a community take its own time, so "
            "the areas agree with the audit's verdicts."
        ),
    )
    _input_options(iso)
    iso.add_argument(
        "--minutes",
        type=_POSITIVE,
        nargs="+",
        help="bands, minutes (default: the thresholds of the configuration)",
    )
    iso.add_argument(
        "--per",
        choices=["all", "hall", "district"],
        default="all",
        help="all: one area per band; hall: each hall's catchment; district: the catchments "
        "of each district's halls",
    )
    _measure(
        iso,
        "--cell-m",
        "--cell",
        help=f"grid cell, metres (default: area_cell_m, {DEFAULT_CONFIG.area_cell_m:g})",
    )
    iso.add_argument(
        "--format", choices=["gpkg", "geojson"], default="gpkg", help="file format of the areas"
    )

    pr = command(
        "propose",
        help="propose new shared halls (一站多居) that close the coverage gap",
        description=(
            "Propose new halls from candidate sites. By default (capacitated) the fewest "
            "halls such that every reachable community is served within its threshold by a "
            "hall no larger than --max-hall-m2; a community that alone needs more gets a hall "
            "of its own, and the proposal says so. --model lscp: the fewest halls covering "
            "every reachable community, of any size; --model mclp: the best --p halls for "
            "population. Writes OUT/<run>/proposals/ (summary.html, report.xlsx, map.html, "
            "CSV tables) and whatif.html (switch existing halls and the proposed sites on and off, "
            "offline)."
        ),
    )
    _input_options(pr)
    _report_options(pr)
    pr.add_argument(
        "--model",
        choices=["capacitated", "lscp", "mclp"],
        default="capacitated",
        help="capacitated: fewest halls within the size cap (see --max-hall-m2); lscp: fewest "
        "halls, any size; mclp: the best --p halls by population covered",
    )
    pr.add_argument(
        "--p",
        metavar="N",
        type=_number(int, 0),
        help="number of new halls, needed by --model mclp (default: none)",
    )
    pr.add_argument(
        "--candidates",
        metavar="FILE",
        type=Path,
        help="candidate sites file, points in any format (default: road-network nodes, see "
        "--spacing-m)",
    )
    _measure(
        pr,
        "--spacing-m",
        "--spacing",
        help="without --candidates: network nodes thinned to this spacing, metres",
        default=400.0,
    )
    _measure(
        pr,
        "--max-hall-m2",
        "--max-floor-area",
        help="capacitated: the largest floor area of a new hall, m² (default: max_new_hall_m2 "
        f"of the configuration, {DEFAULT_CONFIG.max_new_hall_m2:g}, after the 2024 "
        "embedded-facility guideline's complexes of about 600-800 m²); candidate sites "
        "with their own floor_area_m2 keep it",
    )
    pr.add_argument(  # (the spelling of an earlier version)
        "--max-floor-area-m2", dest="max_hall_m2", type=_POSITIVE, help=argparse.SUPPRESS
    )
    _measure(pr, "--time-limit-s", "--time-limit", help="solver time limit, seconds", default=60.0)
    pr.add_argument(
        "--include-islands",
        action="store_true",
        help="plan for communities on map-data islands too (by default they are listed in "
        "data_problems.csv and left out: their only road is a fragment cut off from the network)",
    )

    sc = command(
        "scenario",
        help="audit scenarios (halls, communities, roads edited) against the baseline",
        description=(
            "Audit one or more scenarios written as TOML (see docs/scenario.toml: halls "
            "closed, added or moved; communities reclassified; roads added, closed, barred or "
            "slowed) against the baseline. Writes OUT/<run>/scenarios/: summary.html (the "
            "scenarios side by side), scenarios.xlsx/.csv, baseline/ and one folder per "
            "scenario (communities before/after/delta CSV, report.xlsx, the difference map, "
            "summary.html)."
        ),
    )
    sc.add_argument(
        "files",
        metavar="TOML",
        type=Path,
        nargs="+",
        help="scenario file(s) (default: none, give one or more)",
    )
    _input_options(sc)
    _report_options(sc)

    command("samples", help="list the bundled sample regions")
    return p


def _input_options(a: argparse.ArgumentParser) -> None:
    """Options shared by the commands that read a sample or the user's files."""
    from coverage.samples import DEFAULT_SAMPLE, SAMPLES  # noqa: PLC0415

    a.add_argument(
        "--sample",
        choices=sorted(SAMPLES),
        help=f"bundled sample (default: {DEFAULT_SAMPLE}, unless your own files are given)",
    )
    a.add_argument(
        "--communities",
        metavar="FILE",
        type=Path,
        help="communities file: CSV, Excel, GeoJSON, GeoPackage, Shapefile (default: the sample)",
    )
    a.add_argument(
        "--halls", metavar="FILE", type=Path, help="halls file, same formats (default: the sample)"
    )
    a.add_argument(
        "--network",
        metavar="FILE",
        type=Path,
        help="network file: .osm, .osm.bz2, .osm.pbf, .graphml(.gz), road lines "
        "(default: the sample)",
    )
    a.add_argument(
        "--coord-system",
        choices=["wgs84", "gcj02", "bd09"],
        help="coordinate system of the input files: wgs84 (GPS, OSM), gcj02 (Amap, Tencent) or "
        "bd09 (Baidu) (default: wgs84; a run whose points fit another system far better stops "
        "and names it)",
    )
    a.add_argument(
        "--config",
        metavar="TOML",
        type=Path,
        help="TOML file with thresholds, mode and speeds (default: built-in settings)",
    )
    a.add_argument(
        "--mode", choices=MODES, help="travel mode (default: the config file's, else walk)"
    )
    a.add_argument(
        "--district",
        action="append",
        metavar="NAME",
        help="only this district, by its full name or its beginning, e.g. 示意片区A "
        "(repeatable; default: all)",
    )
    a.add_argument("--out", metavar="FOLDER", type=Path, default=Path("maps"), help="output folder")
    a.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the outputs")
    a.add_argument("--no-progress", action="store_true", help="no step lines and no progress bars")


def _report_options(a: argparse.ArgumentParser) -> None:
    """Options of the commands that write maps and reports."""
    a.add_argument(
        "--title",
        help="title of the maps and reports (default: the sample's title, or the name of "
        "your communities file)",
    )
    a.add_argument(
        "--districts-file",
        metavar="FILE",
        type=Path,
        help="district polygons (GeoPackage/GeoJSON/Shapefile) for the maps (default: the "
        "sample's, none for your own files)",
    )
    a.add_argument(
        "--district-column",
        metavar="COLUMN",
        default="district",
        help="name column of --districts-file",
    )
    a.add_argument(
        "--basemap",
        choices=["auto", "osm", "amap", "amap-satellite", "tianditu", "blank"],
        default="auto",
        help="map background (default auto: amap for --lang zh maps of places in China, osm "
        "elsewhere; amap: overlays shifted to GCJ-02; blank: no tiles, fully offline)",
    )
    a.add_argument(
        "--tianditu-key",
        metavar="KEY",
        help="Tianditu API key, needed by --basemap tianditu (default: none)",
    )
    a.add_argument(
        "--online-assets",
        action="store_true",
        help="link Leaflet from the web instead of embedding it (smaller files, needs internet)",
    )


#: The command line's spelling of the Python parameters that error messages name.
_FLAGS = {
    "tianditu_key": "--tianditu-key",
    "max_floor_area_m2": "--max-hall-m2",
    "model": "--model",
    "p": "--p",
    "buffer_m": "--buffer-m",
    "cell_m": "--cell-m",
    "spacing_m": "--spacing-m",
    "time_limit_s": "--time-limit-s",
    "include_islands": "--include-islands",
}


def _flag(name: str, example: str) -> str:
    """How the command line names a parameter: ``max_floor_area_m2=700`` → ``--max-...-m2 700``."""
    if name not in _FLAGS:
        return f"{name}={example}"
    value = example.strip("'\"")
    return _FLAGS[name] if value in {"True", ""} else f"{_FLAGS[name]} {value}"


def _check_usage(args: argparse.Namespace) -> None:
    """Rules that join several options (argparse checks each option alone): exit 2."""
    model = getattr(args, "model", None)
    if model == "mclp" and args.p is None:
        args.usage_error("--model mclp needs --p, the number of new halls")
    if model is not None and model != "mclp" and args.p is not None:
        args.usage_error(f"--p is only used by --model mclp (got --model {model})")
    if getattr(args, "basemap", None) == "tianditu" and not args.tianditu_key:
        args.usage_error("--basemap tianditu needs --tianditu-key KEY (from lbs.tianditu.gov.cn)")
    if getattr(args, "scheduler", None) and getattr(args, "workers", None):
        args.usage_error("give --workers or --scheduler, not both")
    if getattr(args, "service_sites", None) and not getattr(args, "services", None):
        args.usage_error("--service-sites needs --services, the standard they serve")
    if args.command == "scenario" and args.district:
        args.usage_error(
            "scenario: --district is not supported; the scenarios cover every district"
        )


def _setup_logging(args: argparse.Namespace) -> None:
    """Warnings only, unless -v (info, dask's too) or --debug; dask's INFO lines stay hidden."""
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    handler = logging.StreamHandler()
    # the level sits on the handler: libraries that set their own loggers' levels (dask's
    # distributed logs at INFO) are filtered too
    handler.setLevel(level)
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Parameters
    ----------
    argv
        Arguments (without the program name); ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        The exit code (see the module docstring).
    """
    args = _parser().parse_args(argv)
    _check_usage(args)
    _setup_logging(args)
    try:
        commands = {
            "samples": lambda _a: _samples(),
            "propose": _propose,
            "isochrones": _isochrones,
            "audit": _audit,
            "scenario": _scenario,
        }
        return _plain_warnings(commands[args.command], args)
    except _StopError as exc:
        print(exc.line, file=sys.stderr)  # noqa: T201
        return exc.code
    except CoverageError as exc:
        if args.debug:
            raise
        print(f"error: {exc.spelled(_flag)}", file=sys.stderr)  # noqa: T201
        return _exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)  # noqa: T201
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        if isinstance(exc, OSError):
            line = f"error: cannot write or read {exc.filename or ''}: {exc.strerror or exc}"
        else:
            line = (
                f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            )
        print(line, file=sys.stderr)  # noqa: T201
        return EXIT_OUTPUT if isinstance(exc, OSError) else EXIT_INTERNAL


def _exit_code(exc: CoverageError) -> int:
    """The exit code of a planner error: what the user has to do about it."""
    if isinstance(exc, InfeasibleAllocationError):
        return EXIT_NO_SOLUTION  # change the plan's constraints (e.g. floor areas)
    if isinstance(exc, OfflineExportError):
        return EXIT_OUTPUT  # the map could not be written as asked
    if isinstance(exc, InputDataError):
        return EXIT_INPUT
    return EXIT_INTERNAL


def _plain_warnings(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command showing each warning as one plain line (no source path) unless --debug."""
    from coverage.i18n import cli_line  # noqa: PLC0415

    lang = args.lang if "lang" in args else "en"

    def show(message: Warning | str, *_: object, **__: object) -> None:
        text = message.text(lang) if isinstance(message, CoverageWarning) else str(message)
        line = cli_line("warning", lang, text=" ".join(text.split()))  # one line
        print(line, file=sys.stderr)  # noqa: T201

    with warnings.catch_warnings():
        if not args.debug:
            warnings.showwarning = show
        return command(args)


def _samples() -> int:
    from coverage.samples import SAMPLES, sample_path  # noqa: PLC0415

    for name, spec in SAMPLES.items():
        ok = "" if sample_path(name, "network").exists() else "  [data missing]"
        print(f"{name:18s} {spec.title_zh} / {spec.title}{ok}")  # noqa: T201
    return EXIT_OK


def _step(label: str, args: argparse.Namespace) -> None:
    """One line on stderr saying what the run does now (not with --no-progress)."""
    if not args.no_progress:
        print(f"• {label} …", file=sys.stderr, flush=True)  # noqa: T201


def _bars(args: argparse.Namespace) -> bool:
    """Progress bars: only on a terminal (a log file would fill with carriage returns)."""
    return not args.no_progress and sys.stderr.isatty()


@dataclass
class _Inputs:
    """What a command works on: the network, the frames, and names for the output."""

    config: Config
    network: Any
    communities: gpd.GeoDataFrame
    halls: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame | None
    run_name: str
    title: str
    chosen: list[str] | None = None
    coordinate_checks: list[Any] = field(default_factory=list)


def _inputs(args: argparse.Namespace, *, districts_of: str = "communities") -> _Inputs:
    """Read the sample or the user's files named on the command line.

    The ``--district`` names are matched (full names or their beginnings) against the
    district column of ``districts_of`` before the network of the user's files is read.
    """
    from coverage.io import read_communities, read_halls  # noqa: PLC0415
    from coverage.network import load_network  # noqa: PLC0415
    from coverage.samples import DEFAULT_SAMPLE, SAMPLES, load_sample  # noqa: PLC0415

    cfg = Config.from_toml(args.config) if args.config else DEFAULT_CONFIG
    if args.mode:
        cfg = cfg.replace(mode=args.mode)
    own = [args.communities, args.halls, args.network]
    districts: gpd.GeoDataFrame | None = None
    if any(x is not None for x in own):
        if args.sample:
            msg = "give either --sample or your own --communities/--halls/--network, not both"
            raise InputDataError(msg)
        flags = ("--communities", "--halls", "--network")
        missing = [n for n, x in zip(flags, own, strict=True) if x is None]
        if missing:
            msg = f"your own data needs {', '.join(missing)} as well"
            raise InputDataError(msg)
        coord: CoordSystem = args.coord_system or "wgs84"
        communities = read_communities(args.communities, coord_system=coord, config=cfg)
        halls = read_halls(args.halls, coord_system=coord)
        chosen = _chosen(args, communities if districts_of == "communities" else halls)
        _step(f"reading network {args.network}", args)
        net = load_network(args.network, config=cfg)
        run_name = Path(args.communities).stem
        title = Path(args.communities).stem
    else:
        name = args.sample or DEFAULT_SAMPLE
        _step(f"loading sample {name}", args)
        sample = load_sample(name, config=cfg)
        net, communities, halls = sample.network, sample.communities, sample.halls
        chosen = _chosen(args, communities if districts_of == "communities" else halls)
        districts = sample.districts
        run_name = name
        title = SAMPLES[name].title_in(getattr(args, "lang", "en"))
    if getattr(args, "districts_file", None):
        districts = gpd.read_file(args.districts_file, engine="pyogrio")
        if args.district_column not in districts.columns:
            msg = (
                f"{args.districts_file}: no column {args.district_column!r}; columns: "
                f"{', '.join(map(str, districts.columns))}"
            )
            raise InputDataError(msg)
        districts = districts.rename(columns={args.district_column: "district"})
    checks = _check_coordinates(args, cfg, net, communities, halls, own=any(own))
    title = getattr(args, "title", None) or title
    return _Inputs(cfg, net, communities, halls, districts, run_name, title, chosen, checks)


def _chosen(args: argparse.Namespace, frame: gpd.GeoDataFrame) -> list[str] | None:
    """The full names of the ``--district`` districts (``None``: all)."""
    from coverage._validate import match_names  # noqa: PLC0415

    if not args.district:
        return None
    if "district" not in frame.columns:
        msg = "--district needs a 'district' column in the halls file"
        raise InputDataError(msg)
    known = sorted(frame["district"].fillna("(none)").astype(str).unique())
    return match_names(args.district, known, what="district")


def _check_coordinates(
    args: argparse.Namespace,
    cfg: Config,
    net: Any,  # noqa: ANN401
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame,
    *,
    own: bool,
) -> list[Any]:
    """Check the inputs' coordinate system (coverage.checks) and speak in the run's language.

    When the points fit another system far better, the run stops with one line naming the
    ``--coord-system`` to give, unless ``--coord-system`` was given: then one line says the
    run goes on as asked, and the reports note the doubt.
    """
    from coverage.checks import check_coord_systems, declared_coord_system  # noqa: PLC0415
    from coverage.i18n import coord_doubt_line, coord_stop_line  # noqa: PLC0415

    if not cfg.check_coordinates:
        return []
    # this function speaks for the check: audit()'s warning (Python wording) is not shown
    warnings.filterwarnings("ignore", category=CoordinateSystemWarning)
    checks = check_coord_systems(
        [
            (f.geometry, declared_coord_system(f), str(f.attrs.get("source", what)))
            for f, what in ((communities, "communities"), (halls, "halls"))
        ],
        net,
    )
    groups: dict[tuple[str, str], list[str]] = {}
    for check in checks:
        if check.doubt and check.fits is not None:
            groups.setdefault((check.declared, check.fits), []).extend(check.label.split(" + "))
    if groups and own and args.coord_system is None:
        fits: dict[str, list[str]] = {}
        for (_, system), labels in groups.items():
            fits.setdefault(system, []).extend(labels)
        raise _StopError(coord_stop_line(fits, "wgs84", args.lang))
    for (declared, system), labels in groups.items():
        print(coord_doubt_line(labels, declared, system, args.lang), file=sys.stderr)  # noqa: T201
    return checks


def _map_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"lang": args.lang, "basemap": args.basemap, "tianditu_key": args.tianditu_key}


def _audit(args: argparse.Namespace) -> int:
    from coverage._files import inside, safe_name  # noqa: PLC0415
    from coverage.audit import audit  # noqa: PLC0415
    from coverage.pool import DistrictPool  # noqa: PLC0415
    from coverage.reports import (  # noqa: PLC0415
        FOLDER_S,
        life_circle_section,
        write_district_reports,
        write_life_circle,
    )

    inp = _inputs(args)
    net = inp.network
    if args.buffer_m is not None:
        from coverage.i18n import cli_line  # noqa: PLC0415

        print(cli_line("warning", args.lang, text=cli_line("buffer_gone", args.lang)),  # noqa: T201
              file=sys.stderr)  # fmt: skip
    # one pool for the district steps; on a big run its processes start now, in the background
    with DistrictPool(args.workers or 1, args.scheduler, config=inp.config) as pool:
        pool.prestart(_district_count(inp) * FOLDER_S)
        _step(
            f"routing {len(inp.communities):,} communities to {len(inp.halls):,} halls "
            f"({net.mode})",
            args,
        )
        result = audit(inp.communities, inp.halls, net, config=inp.config)
        root = Path(args.out)
        run_dir = inside(root, root / safe_name(inp.run_name))
        subset = result if inp.chosen is None else result.subset(inp.chosen)
        life = _life_circle(args, inp) if args.services else None

        def areas() -> tuple[Any, Any]:
            from coverage.isochrones import travel_time_surface  # noqa: PLC0415

            _step("service areas and catchments for the maps", args)
            surface = travel_time_surface(
                net,
                inp.halls,
                communities=inp.communities,
                cell_m=args.cell_m,
                config=inp.config,
                max_min=max(inp.config.bands_min),
            )
            return (
                surface.polygons(inp.config.bands_min),
                surface.polygons(inp.config.bands_min, per="hall"),
            )

        folders = write_district_reports(
            run_dir,
            subset,
            districts=inp.districts,
            title=inp.title,
            run=inp.run_name,
            progress=_bars(args),
            offline=not args.online_assets,
            make_areas=None if args.no_isochrones else areas,
            resume=args.resume,
            section="" if life is None else life_circle_section(life[0], lang=args.lang),
            district_sections=None if life is None else _district_sections(life[0], args.lang),
            pool=pool,
            **_map_options(args),
        )
    if life is not None:
        _step("life circle: map, workbook and page", args)
        write_life_circle(
            run_dir,
            *life,
            network=None if args.no_isochrones else net,
            districts=inp.districts,
            title=_life_title(inp.title, life[0].standard, args.lang),
            folders=folders,
            offline=not args.online_assets,
            **_map_options(args),
        )
    _print_table(subset.districts, args.lang)
    if life is not None:
        _print_services(life[0], args.lang)
    _print_where(run_dir, args.lang)
    return EXIT_OK


def _district_count(inp: _Inputs) -> int:
    """How many district folders the run writes."""
    if inp.chosen is not None:
        return len(inp.chosen)
    if "district" not in inp.communities.columns:
        return 1
    return int(inp.communities["district"].nunique())


_OSM_SUFFIXES = (".pbf", ".osm", ".bz2")


def _life_circle(args: argparse.Namespace, inp: _Inputs) -> tuple[Any, dict[str, Any]]:
    """The life-circle audit of ``--services``: the result and the sites of each service."""
    from coverage.lifecircle import PRESETS, audit_services, load_standard  # noqa: PLC0415

    if args.services not in PRESETS and not Path(args.services).is_file():
        msg = (
            f"--services {args.services!r}: neither a bundled standard "
            f"({', '.join(PRESETS)}) nor a TOML file"
        )
        raise InputDataError(msg)
    try:
        std = load_standard(args.services)
    except InputDataError as exc:
        msg = f"--services: {exc}"
        raise InputDataError(msg) from None
    sites = _service_sites(args, inp, std)
    empty = [
        s.name if args.lang == "zh" else s.name_en for s in std.services if len(sites[s.key]) == 0
    ]
    if empty:
        from coverage.i18n import cli_line  # noqa: PLC0415

        text = cli_line(
            "no_sites", args.lang, services=("、" if args.lang == "zh" else ", ").join(empty)
        )
        print(cli_line("warning", args.lang, text=text), file=sys.stderr)  # noqa: T201
    communities = inp.communities
    if inp.chosen is not None:
        communities = communities[communities["district"].astype(str).isin(inp.chosen)]
    _step(f"life circle: {len(std.services)} service(s), {len(communities):,} communities", args)
    result = audit_services(communities, sites, inp.network, standard=std, config=inp.config)
    return result, sites


def _district_sections(result: Any, lang: Lang) -> dict[str, str]:  # noqa: ANN401
    """Each district page's life-circle section, linking to the district's own page."""
    from coverage.reports import life_circle_section  # noqa: PLC0415

    names = result.communities["district"].astype(str).unique()
    return {d: life_circle_section(result.district(d), lang=lang) for d in names}


def _life_title(title: str, standard: Any, lang: str) -> str:  # noqa: ANN401
    """The life circle's title: the run's title and the standard's name, in ``lang``."""
    return f"{title}：{standard.name}" if lang == "zh" else f"{title}: {standard.name_en}"


def _service_sites(args: argparse.Namespace, inp: _Inputs, std: Any) -> dict[str, Any]:  # noqa: ANN401
    """Each service's sites: ``--service-sites``, else the OSM extract, else the run's halls."""
    from coverage.io import read_halls, read_osm_pois  # noqa: PLC0415
    from coverage.lifecircle import osm_tags, service_sites, sites_by_service  # noqa: PLC0415
    from coverage.samples import DEFAULT_SAMPLE, sample_path  # noqa: PLC0415

    keys = [s.key for s in std.services]
    if args.service_sites:
        frame = read_halls(args.service_sites, coord_system=args.coord_system or "wgs84")
        sites = sites_by_service(frame, std, source=f"--service-sites {args.service_sites}")
    else:
        extract = (
            args.network
            if args.network is not None
            else (sample_path(args.sample or DEFAULT_SAMPLE, "network"))
        )
        if osm_tags(std) and Path(extract).suffix.lower() in _OSM_SUFFIXES:
            sites = service_sites(read_osm_pois(extract, osm_tags(std)), std)
        elif osm_tags(std):
            msg = (
                f"--services: {Path(extract).name} is not an OSM extract to read the services' "
                "sites from: give --service-sites FILE"
            )
            raise InputDataError(msg)
        else:
            sites = dict.fromkeys(keys, inp.halls.iloc[:0])
    if "hall" in sites and len(sites["hall"]) == 0 and not std.services[keys.index("hall")].osm:
        sites["hall"] = inp.halls  # the service hall of the standard is the run's halls
    return sites


def _print_services(result: Any, lang: str) -> None:  # noqa: ANN401
    """The life circle per service on the terminal, names aligned by display width."""
    from coverage.i18n import cli_line  # noqa: PLC0415

    heads = cli_line("services_head", lang).split("|")
    names = [
        str(r["name"] if lang == "zh" else r["name_en"])
        for r in result.services.to_dict(orient="records")
    ]
    width = min(max([_width(heads[0]), *map(_width, names)]), _NAME_WIDTH)
    rows = [[_pad(heads[0], width), *heads[1:]]]
    for name, r in zip(names, result.services.to_dict(orient="records"), strict=True):
        share, pop = r["share_within"], r["population_share_within"]
        rows.append(
            [
                _pad(_fit(name, width), width),
                f"{r['sites']:,}",
                f"{r['communities_required']:,}",
                f"{r['communities_within']:,}",
                "–" if share != share else f"{share:.1%}",  # noqa: PLR0124 (NaN)
                "–" if pop != pop else f"{pop:.1%}",  # noqa: PLR0124
            ]
        )
    sizes = [max(_width(r[i]) for r in rows) for i in range(1, len(heads))]
    print()  # noqa: T201
    for r in rows:
        cells = [" " * (w - _width(c)) + c for c, w in zip(r[1:], sizes, strict=True)]
        print("  ".join([r[0], *cells]))  # noqa: T201


def _isochrones(args: argparse.Namespace) -> int:
    from coverage._files import inside, safe_name, write_layer  # noqa: PLC0415
    from coverage.isochrones import travel_time_surface  # noqa: PLC0415

    inp = _inputs(args, districts_of="halls")
    halls = inp.halls
    per = args.per
    if inp.chosen is not None:
        per = "district" if per == "all" else per  # the area the district's halls serve
    minutes = args.minutes or inp.config.bands_min
    _step(f"service areas of {len(halls):,} halls, bands {minutes} min", args)
    surface = travel_time_surface(
        inp.network,
        halls,
        communities=inp.communities,
        cell_m=args.cell_m,
        config=inp.config,
        max_min=max(minutes),
    )
    iso = surface.polygons(minutes, per=per)
    if inp.chosen is not None:
        iso = iso[iso["district"].astype(str).isin(inp.chosen)].reset_index(drop=True)
    root = Path(args.out)
    name = {"all": "isochrones", "hall": "catchments", "district": "district_areas"}[per]
    out = inside(root, root / safe_name(inp.run_name) / f"{name}.{args.format}")
    write_layer(out, iso, layer=name)
    print(f"{len(iso)} service-area polygon(s) written to {out}")  # noqa: T201
    return EXIT_OK


def _propose(args: argparse.Namespace) -> int:
    from coverage._files import inside, safe_name  # noqa: PLC0415
    from coverage.io import read_halls  # noqa: PLC0415
    from coverage.reports import (  # noqa: PLC0415
        proposal_text,
        proposal_title,
        write_proposal_reports,
    )
    from coverage.siting import candidate_sites, propose_halls, verify_proposal  # noqa: PLC0415
    from coverage.whatif import proposal_candidates, whatif_map  # noqa: PLC0415

    inp = _inputs(args)
    communities = inp.communities
    if inp.chosen is not None:
        communities = communities[communities["district"].astype(str).isin(inp.chosen)]
    user_sites = None
    if args.candidates:
        sites = read_halls(args.candidates, coord_system=args.coord_system or "wgs84")
        user_sites = sites.rename(columns={"hall_id": "site_id"})
        candidates = candidate_sites(inp.network, include=user_sites)
    else:
        candidates = candidate_sites(inp.network, spacing_m=args.spacing_m)
    _step(
        f"{args.model}: {len(communities):,} communities, {len(candidates):,} candidate sites", args
    )
    result = propose_halls(
        communities,
        inp.halls,
        candidates,
        inp.network,
        model=args.model,
        p=args.p,
        config=inp.config,
        time_limit_s=args.time_limit_s,
        max_floor_area_m2=args.max_hall_m2,
        include_islands=args.include_islands,
    )
    after = verify_proposal(result, communities, inp.halls, inp.network, config=inp.config)
    root = Path(args.out)
    out = inside(root, root / safe_name(inp.run_name) / "proposals")
    title = args.title or f"{inp.title}: {proposal_title(args.lang)}"
    write_proposal_reports(
        out,
        result,
        after,
        districts=inp.districts,
        title=title,
        offline=not args.online_assets,
        **_map_options(args),
    )
    whatif_map(
        out / "whatif.html",
        communities,
        inp.halls,
        inp.network,
        proposal_candidates(result.proposals, user_sites, lang=args.lang),
        config=inp.config,
        lang=args.lang,
        basemap="auto" if args.basemap == "tianditu" else args.basemap,
    )
    print(proposal_text(result, out, lang=args.lang))  # noqa: T201
    return EXIT_OK


def _scenario(args: argparse.Namespace) -> int:
    from coverage._files import inside, safe_name  # noqa: PLC0415
    from coverage.reports import headline_text, write_scenario_reports  # noqa: PLC0415
    from coverage.scenarios import load_scenario, run_scenarios  # noqa: PLC0415

    scenarios = [load_scenario(path) for path in args.files]  # (bad files stop the run first)
    inp = _inputs(args)
    _step(f"{len(scenarios)} scenario(s) against the baseline ({inp.network.mode})", args)
    baseline, runs = run_scenarios(
        inp.communities, inp.halls, inp.network, scenarios, config=inp.config
    )
    root = Path(args.out)
    out = inside(root, root / safe_name(inp.run_name) / "scenarios")
    _step("writing tables, maps and pages", args)
    write_scenario_reports(
        out,
        baseline,
        runs,
        districts=inp.districts,
        offline=not args.online_assets,
        toml_texts=[Path(p).read_text(encoding="utf-8") for p in args.files],
        **_map_options(args),
    )
    for run in runs:
        line = f"{run.scenario.name}: {headline_text(run.comparison, args.lang)}"
        print(f"{line} ({run.seconds:.2f} s)")  # noqa: T201
    _print_where(out, args.lang)
    return EXIT_OK


def _print_where(folder: Path, lang: str) -> None:
    """The run's last lines: the page to open first (when there is one) and the folder."""
    from coverage.i18n import cli_line  # noqa: PLC0415

    page = folder / "summary.html"
    if page.exists():
        print(cli_line("open_first", lang, path=page))  # noqa: T201
    print(cli_line("folder", lang, path=folder))  # noqa: T201


def _print_table(table: Any, lang: str) -> None:  # noqa: ANN401
    """The district table on the terminal, names aligned by display width (CJK: 2 columns)."""
    from coverage.audit import ALL_DISTRICTS  # noqa: PLC0415
    from coverage.i18n import cli_line  # noqa: PLC0415
    from coverage.reports import TOTAL_LABEL  # noqa: PLC0415

    heads = cli_line("table_head", lang).split("|")
    total = TOTAL_LABEL.get(lang, ALL_DISTRICTS)
    names = [total if d == ALL_DISTRICTS else str(d) for d in table["district"]]
    width = min(max([_width(heads[0]), *map(_width, names)]), _NAME_WIDTH)
    rows = [[_pad(heads[0], width), *heads[1:]]]
    rows += [
        [
            _pad(_fit(name, width), width),
            f"{row.communities:,}",
            f"{row.covered:,}",
            f"{row.covered_share:.1%}",
            f"{row.population_covered_share:.1%}",
        ]
        for name, row in zip(names, table.itertuples(index=False), strict=True)
    ]
    sizes = [max(_width(r[i]) for r in rows) for i in range(1, len(heads))]
    for r in rows:
        cells = [" " * (w - _width(c)) + c for c, w in zip(r[1:], sizes, strict=True)]
        print("  ".join([r[0], *cells]))  # noqa: T201


#: The widest a name column gets on the terminal, in display columns.
_NAME_WIDTH = 40


def _width(text: str) -> int:
    """Display width on a terminal: wide and full-width characters (CJK) take two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _fit(text: str, width: int) -> str:
    """``text`` shortened to ``width`` display columns with ``…``, cut between words.

    Latin words are not cut: the text ends at the last space that fits; Chinese text (no
    spaces) is cut between characters.
    """
    if _width(text) <= width:
        return text
    out = ""
    for c in text:
        if _width(out + c) > width - 1:
            break
        out += c
    cut = text[len(out)]
    if out and " " in out and not cut.isspace() and (out[-1].isascii() and out[-1].isalnum()):
        out = out[: out.rindex(" ")]  # do not cut a Latin word
    return out.rstrip(" (,;-") + "…"


if __name__ == "__main__":
    raise SystemExit(main())
