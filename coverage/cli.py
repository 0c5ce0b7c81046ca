"""Command line: ``coverage-planner audit | samples``.

The command is ``coverage-planner`` (not ``coverage``, which belongs to coverage.py).

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
    Batch mode: some districts failed (named on stderr and in ``failures.json``); the others
    were written.
6
    No plan meets the constraints (``propose --model capacitated`` with too little floor
    area within reach; the message gives the numbers).
130
    Interrupted (Ctrl-C). Files already written are complete; none is half-written.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from coverage._errors import (
    CoordinateSystemWarning,
    CoverageError,
    InfeasibleAllocationError,
    InputDataError,
    OfflineExportError,
    list_ids,
)
from coverage.config import DEFAULT_CONFIG, MODES, Config

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from coverage.coords import CoordSystem

logger = logging.getLogger("coverage")

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_PARTIAL = 5  # a batch finished with some districts failed
EXIT_NO_SOLUTION = 6  # the inputs are valid, but no plan meets the constraints


class _StopError(InputDataError):
    """Bad input explained in one line in the run's language (printed as it is)."""

    def __init__(self, line: str, code: int = EXIT_INPUT) -> None:
        super().__init__(line)
        self.line = line
        self.code = code


def _parser() -> argparse.ArgumentParser:
    from coverage.samples import DEFAULT_SAMPLE  # noqa: PLC0415

    p = argparse.ArgumentParser(
        prog="coverage-planner",
        description=(
            "Service-coverage planning for community service halls: network travel times, "
            "15/20-minute audits, maps and tables."
        ),
        epilog="Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input, 4 cannot write output.",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser(
        "audit",
        help="audit communities against their 15/20-minute service circle",
        description=(
            "Audit every community against its service circle (urban 15 min, rural 20 min by "
            f"default). With no arguments, audits the bundled sample {DEFAULT_SAMPLE!r} and "
            "writes maps/<sample>/<district>/ folders."
        ),
    )
    _input_options(a)
    a.add_argument("--workers", type=int, help="batch: audit districts in N local processes")
    a.add_argument("--scheduler", help="batch: address of an existing dask cluster (tcp://...)")
    a.add_argument(
        "--buffer-m",
        type=float,
        default=2000.0,
        help="batch: each district's network reaches this far beyond it, metres (default 2000)",
    )

    a.add_argument(
        "--no-isochrones",
        action="store_true",
        help="leave the service areas (bands and catchments) off the maps",
    )
    a.add_argument(
        "--cell",
        type=float,
        help="grid cell of the service areas, metres (default: area_cell_m of the "
        f"configuration, {DEFAULT_CONFIG.area_cell_m:g})",
    )
    a.add_argument(
        "--resume",
        action="store_true",
        help="keep district folders an interrupted run already finished (same results)",
    )

    iso = sub.add_parser(
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
        "--minutes", type=float, nargs="+", help="bands, minutes (default: the thresholds)"
    )
    iso.add_argument(
        "--per",
        choices=["all", "hall", "district"],
        default="all",
        help="all: one area per band (default); hall: each hall's catchment; district: the "
        "catchments of each district's halls",
    )
    iso.add_argument(
        "--cell",
        type=float,
        help=f"grid cell, metres (default: area_cell_m, {DEFAULT_CONFIG.area_cell_m:g})",
    )
    iso.add_argument("--format", choices=["gpkg", "geojson"], default="gpkg")

    pr = sub.add_parser(
        "propose",
        help="propose new shared halls (一站多居) that close the coverage gap",
        description=(
            "Propose new halls from candidate sites. By default (capacitated) the fewest "
            "halls such that every reachable community is served within its threshold by a "
            "hall no larger than --max-hall-m2; a community that alone needs more gets a hall "
            "of its own, and the proposal says so. --model lscp: the fewest halls covering "
            "every reachable community, of any size; --model mclp: the best --p halls for "
            "population. Writes OUT/<run>/proposals/ (summary.html, report.xlsx, map.html, "
            "CSV tables)."
        ),
    )
    _input_options(pr)
    pr.add_argument(
        "--model",
        choices=["capacitated", "lscp", "mclp"],
        default="capacitated",
        help="capacitated: fewest halls within the size cap (default); lscp: fewest halls, "
        "any size; mclp: the best --p halls by population covered",
    )
    pr.add_argument("--p", type=int, help="number of new halls (mclp)")
    pr.add_argument("--candidates", type=Path, help="candidate sites file (points, any format)")
    pr.add_argument(
        "--spacing",
        type=float,
        default=400.0,
        help="without --candidates: network nodes thinned to this spacing, metres",
    )
    pr.add_argument(
        "--max-hall-m2",
        "--max-floor-area",
        dest="max_hall_m2",
        type=float,
        help="capacitated: the largest floor area of a new hall, m² (default: max_new_hall_m2 "
        f"of the configuration, {DEFAULT_CONFIG.max_new_hall_m2:g}, after the 2024 "
        "embedded-facility guideline's complexes of about 600-800 m²); candidate sites "
        "with their own floor_area_m2 keep it",
    )
    pr.add_argument("--time-limit", type=float, default=60.0, help="solver time limit, seconds")
    pr.add_argument(
        "--include-islands",
        action="store_true",
        help="plan for communities on map-data islands too (by default they are listed in "
        "data_problems.csv and left out: their only road is a fragment cut off from the network)",
    )

    sub.add_parser("samples", help="list the bundled sample regions")
    return p


def _input_options(a: argparse.ArgumentParser) -> None:
    """Options shared by the commands that read a sample or the user's files."""
    from coverage.samples import DEFAULT_SAMPLE, SAMPLES  # noqa: PLC0415

    a.add_argument(
        "--sample", choices=sorted(SAMPLES), help=f"bundled sample (default {DEFAULT_SAMPLE})"
    )
    a.add_argument(
        "--communities",
        type=Path,
        help="communities file (CSV, Excel, GeoJSON, GeoPackage, Shapefile)",
    )
    a.add_argument("--halls", type=Path, help="halls file (same formats)")
    a.add_argument(
        "--network",
        type=Path,
        help="network file (.osm, .osm.bz2, .osm.pbf, .graphml(.gz), road lines)",
    )
    a.add_argument(
        "--districts-file",
        type=Path,
        help="district polygons (GeoPackage/GeoJSON/Shapefile) for the map",
    )
    a.add_argument("--district-column", default="district", help="name column of --districts-file")
    a.add_argument("--coord-system", choices=["wgs84", "gcj02", "bd09"],
                   help="coordinate system of the input files: wgs84 (GPS, OSM; the default), "
                   "gcj02 (Amap, Tencent) or bd09 (Baidu); without it, a run whose points fit "
                   "another system far better stops and names it")  # fmt: skip
    a.add_argument("--config", type=Path, help="TOML file with thresholds, mode and speeds")
    a.add_argument("--mode", choices=MODES, help="travel mode (overrides the config file)")
    a.add_argument("--district", action="append", metavar="NAME",
                   help="only these districts (repeatable); default: all")  # fmt: skip
    a.add_argument("--out", type=Path, default=Path("maps"), help="output folder (default maps/)")
    a.add_argument("--lang", choices=["zh", "en"], default="zh", help="map labels (default zh)")
    a.add_argument(
        "--basemap",
        choices=["osm", "amap", "amap-satellite", "tianditu", "blank"],
        default="osm",
        help="map background (amap: overlays shifted to GCJ-02; blank: no tiles, fully offline)",
    )
    a.add_argument("--tianditu-key", help="Tianditu API key (for --basemap tianditu)")
    a.add_argument(
        "--online-assets",
        action="store_true",
        help="link Leaflet from the web instead of embedding it (smaller files, needs internet)",
    )
    a.add_argument("--no-progress", action="store_true", help="hide progress bars")


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
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s: %(message)s",
    )
    try:
        commands = {"samples": lambda _a: _samples(), "propose": _propose,
                    "isochrones": _isochrones, "audit": _audit}  # fmt: skip
        return _plain_warnings(commands[args.command], args)
    except _StopError as exc:
        print(exc.line, file=sys.stderr)  # noqa: T201
        return exc.code
    except CoverageError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return _exit_code(exc)
    except OSError as exc:
        if args.debug:
            raise
        print(  # noqa: T201
            f"error: cannot write or read {exc.filename or ''}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_OUTPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)  # noqa: T201
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        print(  # noqa: T201
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


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

    def show(message: Warning | str, *_: object, **__: object) -> None:
        print(f"warning: {message}", file=sys.stderr)  # noqa: T201

    with warnings.catch_warnings():
        if not args.debug:
            warnings.showwarning = show
        return command(args)


def _samples() -> int:
    from coverage.samples import SAMPLES, sample_path  # noqa: PLC0415

    for name, spec in SAMPLES.items():
        ok = "" if sample_path(name, "network").exists() else "  [data missing]"
        print(f"{name:18s} {spec.title}{ok}")  # noqa: T201
    return EXIT_OK


def _step(label: str, progress: bool) -> float:
    if progress:
        print(f"• {label} …", file=sys.stderr, flush=True)  # noqa: T201
    return time.perf_counter()


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
    coordinate_checks: list[Any] = field(default_factory=list)


def _inputs(args: argparse.Namespace) -> _Inputs:
    """Read the sample or the user's files named on the command line."""
    from coverage._files import safe_name  # noqa: PLC0415
    from coverage.io import read_communities, read_halls  # noqa: PLC0415
    from coverage.network import load_network  # noqa: PLC0415
    from coverage.samples import DEFAULT_SAMPLE, SAMPLES, load_sample  # noqa: PLC0415

    progress = not args.no_progress
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
        _step(f"reading network {args.network}", progress)
        net = load_network(args.network, config=cfg)
        coord: CoordSystem = args.coord_system or "wgs84"
        communities = read_communities(args.communities, coord_system=coord, config=cfg)
        halls = read_halls(args.halls, coord_system=coord)
        run_name = safe_name(Path(args.communities).stem)
        title = Path(args.communities).name
    else:
        name = args.sample or DEFAULT_SAMPLE
        _step(f"loading sample {name}", progress)
        sample = load_sample(name, config=cfg)
        net, communities, halls = sample.network, sample.communities, sample.halls
        districts = sample.districts
        run_name = name
        title = SAMPLES[name].title
    if args.districts_file:
        districts = gpd.read_file(args.districts_file, engine="pyogrio")
        if args.district_column not in districts.columns:
            msg = (f"{args.districts_file}: no column {args.district_column!r}; columns: "
                   f"{', '.join(map(str, districts.columns))}")  # fmt: skip
            raise InputDataError(msg)
        districts = districts.rename(columns={args.district_column: "district"})
    checks = _check_coordinates(args, cfg, net, communities, halls, own=any(own))
    return _Inputs(cfg, net, communities, halls, districts, run_name, title, checks)


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
        [(f.geometry, declared_coord_system(f), str(f.attrs.get("source", what)))
         for f, what in ((communities, "communities"), (halls, "halls"))],
        net,
    )  # fmt: skip
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


def _district_names(communities: gpd.GeoDataFrame, wanted: list[str] | None) -> list[str]:
    """The districts to write: all, or the ones asked for (unknown names are an error)."""
    names = sorted(communities["district"].astype(str).unique())
    if wanted:
        unknown = [d for d in wanted if d not in names]
        if unknown:
            msg = f"unknown district(s) {list_ids(unknown)}; known: {', '.join(names)}"
            raise InputDataError(msg)
        names = [d for d in names if d in wanted]
    return names


def _map_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"lang": args.lang, "basemap": args.basemap, "tianditu_key": args.tianditu_key}


def _audit(args: argparse.Namespace) -> int:
    from coverage._files import inside, safe_name, write_json  # noqa: PLC0415
    from coverage.audit import audit  # noqa: PLC0415
    from coverage.reports import write_district_reports  # noqa: PLC0415

    progress = not args.no_progress
    inp = _inputs(args)
    net = inp.network
    _step(
        f"routing {len(inp.communities):,} communities to {len(inp.halls):,} halls ({net.mode})",
        progress,
    )
    failures: list[Any] = []
    if args.workers or args.scheduler:
        result, failures = _batch(args, inp)
        result.coordinate_checks = inp.coordinate_checks
    else:
        result = audit(inp.communities, inp.halls, net, config=inp.config)
    names = _district_names(result.communities, args.district)
    root = Path(args.out)
    run_dir = inside(root, root / safe_name(inp.run_name))
    subset = result if not args.district else result.subset(names)
    bands = catchments = None
    if not args.no_isochrones:
        from coverage.isochrones import travel_time_surface  # noqa: PLC0415

        _step("service areas and catchments for the maps", progress)
        surface = travel_time_surface(
            net, inp.halls, communities=inp.communities, cell_m=args.cell, config=inp.config
        )
        bands = surface.polygons(_bands(inp.config))
        catchments = surface.polygons(_bands(inp.config), per="hall")
    write_district_reports(
        run_dir, subset, districts=inp.districts, title=inp.title, run=inp.run_name,
        progress=progress, offline=not args.online_assets, isochrones=bands,
        catchments=catchments, resume=args.resume, **_map_options(args),
    )  # fmt: skip
    _print_table(subset.districts, run_dir)
    if failures:
        write_json(run_dir / "failures.json", {"failures": [f.__dict__ for f in failures]})
        for f in failures:
            print(f"error: district {f.district!r} failed: {f.error}", file=sys.stderr)  # noqa: T201
        return EXIT_PARTIAL
    return EXIT_OK


def _batch(args: argparse.Namespace, inp: _Inputs) -> tuple[Any, list[Any]]:
    """Audit district by district on clipped networks, on dask workers."""
    from coverage.batch import run_batch  # noqa: PLC0415

    if inp.districts is None:
        msg = "batch mode (--workers/--scheduler) needs district polygons: give --districts-file"
        raise InputDataError(msg)
    batch = run_batch(
        inp.communities, inp.halls, inp.network, inp.districts,
        names=args.district or "all", buffer_m=args.buffer_m, workers=args.workers or 1,
        scheduler=args.scheduler,
        config=inp.config.replace(check_coordinates=False),  # checked once, on the whole input
    )  # fmt: skip
    return batch.to_audit_result(), list(batch.failures)


def _bands(cfg: Config) -> list[float]:
    """The isochrone bands a map shows: the configured thresholds."""
    return sorted({cfg.urban_threshold_min, cfg.rural_threshold_min})


def _isochrones(args: argparse.Namespace) -> int:
    from coverage._files import (  # noqa: PLC0415
        inside,
        safe_name,
        write_layer,
    )
    from coverage.isochrones import travel_time_surface  # noqa: PLC0415

    inp = _inputs(args)
    halls = inp.halls
    per = args.per
    if args.district:
        if "district" not in halls.columns:
            msg = "--district needs a 'district' column in the halls file"
            raise InputDataError(msg)
        per = "district" if per == "all" else per  # the area the district's halls serve
    minutes = args.minutes or _bands(inp.config)
    _step(f"service areas of {len(halls):,} halls, bands {minutes} min", not args.no_progress)
    surface = travel_time_surface(
        inp.network, halls, communities=inp.communities, cell_m=args.cell, config=inp.config
    )
    iso = surface.polygons(minutes, per=per)
    if args.district:
        iso = iso[iso["district"].astype(str).isin(args.district)].reset_index(drop=True)
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

    progress = not args.no_progress
    inp = _inputs(args)
    communities = inp.communities
    if args.district:
        names = _district_names(communities, args.district)
        communities = communities[communities["district"].astype(str).isin(names)]
    if args.candidates:
        sites = read_halls(args.candidates, coord_system=args.coord_system or "wgs84")
        candidates = candidate_sites(
            inp.network, include=sites.rename(columns={"hall_id": "site_id"})
        )
    else:
        candidates = candidate_sites(inp.network, spacing_m=args.spacing)
    _step(
        f"{args.model}: {len(communities):,} communities, {len(candidates):,} candidate sites",
        progress,
    )
    result = propose_halls(
        communities,
        inp.halls,
        candidates,
        inp.network,
        model=args.model,
        p=args.p,
        config=inp.config,
        time_limit_s=args.time_limit,
        max_floor_area_m2=args.max_hall_m2,
        include_islands=args.include_islands,
    )
    after = verify_proposal(result, communities, inp.halls, inp.network, config=inp.config)
    root = Path(args.out)
    out = inside(root, root / safe_name(inp.run_name) / "proposals")
    write_proposal_reports(
        out,
        result,
        after,
        districts=inp.districts,
        title=f"{inp.title}: {proposal_title(args.lang)}",
        offline=not args.online_assets,
        **_map_options(args),
    )
    print(proposal_text(result, out, lang=args.lang))  # noqa: T201
    return EXIT_OK


def _print_table(table: Any, run_dir: Path) -> None:  # noqa: ANN401
    lines = [f"{'district':<34} {'communities':>11} {'covered':>8} {'share':>7} {'pop. share':>10}"]
    lines += [
        f"{str(row.district)[:34]:<34} {row.communities:>11,} {row.covered:>8,} "
        f"{row.covered_share:>7.1%} {row.population_covered_share:>10.1%}"
        for row in table.itertuples(index=False)
    ]
    lines.append(f"written to {run_dir}")
    print("\n".join(lines))  # noqa: T201


if __name__ == "__main__":
    raise SystemExit(main())
