"""District batches: serial against dask workers, counting the cluster's start.

Usage::

    .venv/bin/python bench/bench_batch.py               # 1x1, 2x2, 4x4 and 8x8 tiles
    .venv/bin/python bench/bench_batch.py --tiles 2 4   # some of them

The input is the Liechtenstein extract and sample tiled ``n x n`` (``bench/_tiled.py``): 11
districts per tile, so 11, 44, 176 and 704 districts. The network is loaded once before the
clock starts (as the CLI does before its batch). Each size runs ``run_batch`` serially and on
a :class:`dask.distributed.LocalCluster` of 2 single-threaded worker processes, whose start
and close are inside the time (``parallel_pays_s=0``: the processes are started however small
the work, to find where they begin to pay). The results must be identical (checked).

``--cli`` measures what a planner runs instead: the ``coverage-planner audit`` command on the
tiled input written to files (GeoPackages in ``bench/data/``), in a fresh process each, with
district folders (maps, workbooks, pages) and service areas: in one process (the default),
with ``--workers 2`` (the processes start only if the run's size says they pay) and with
``--workers 2`` forced on (``parallel_pays_s = 0``), to find the crossover. The variants
alternate, ``--repeat`` times (default 3); the table gives medians.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

from _common import RESULTS_DIR, ROOT, fmt_s, fmt_x, log
from _tiled import make_tiled, tiled_sample


def one(n: int, workers: int, per: str) -> tuple[float, float, object, int]:
    """Seconds of a serial run and of a run on ``workers`` processes, whether they agree."""
    from coverage.batch import run_batch  # noqa: PLC0415
    from coverage.config import Config  # noqa: PLC0415
    from coverage.network import load_network  # noqa: PLC0415

    com, hal, districts = tiled_sample(n)
    if per == "tile":  # one district per tile: the tile's suffix "-i-j"
        tile = districts["district"].str.extract(r"(-\d+-\d+)$")[0]
        districts = districts.assign(district="tile" + tile).dissolve("district").reset_index()
        com = com.assign(district="tile" + com["district"].str.extract(r"(-\d+-\d+)$")[0])
    net = load_network(make_tiled(n))
    cfg = Config(check_coordinates=False)
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    serial = run_batch(com, hal, net, districts, config=cfg)
    t_serial = time.perf_counter() - t0
    t0 = time.perf_counter()  # processes however small the work (parallel_pays_s=0)
    forced = cfg.replace(parallel_pays_s=0)
    parallel = run_batch(com, hal, net, districts, workers=workers, config=forced)
    t_parallel = time.perf_counter() - t0
    same = serial.communities.drop(columns="geometry").equals(
        parallel.communities.drop(columns="geometry")
    )
    return t_serial, t_parallel, same, len(districts)


def cli_inputs(n: int) -> list[str]:
    """The tiled input as files, and the command-line flags that name them."""
    from _tiled import DATA  # noqa: PLC0415

    com, hal, districts = tiled_sample(n)
    files = {}
    for name, frame in (("communities", com), ("halls", hal), ("districts", districts)):
        path = DATA / f"tiled_{n}x{n}_{name}.gpkg"
        if not path.exists():
            frame.to_file(path, driver="GPKG")
        files[name] = str(path)
    return [
        "--network", str(make_tiled(n)), "--communities", files["communities"],
        "--halls", files["halls"], "--districts-file", files["districts"],
        "--basemap", "blank", "--no-progress",
    ]  # fmt: skip


def one_cli(n: int, workers: int, out: str, repeat: int) -> list[dict[str, object]]:
    """Seconds of the command in one process, with ``--workers N`` and with N forced on.

    The runs alternate (one process, N workers, N forced, one process, …) so that a slow
    spell of this shared machine falls on every variant alike.
    """
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    flags = cli_inputs(n)
    cmd = [sys.executable, "-m", "coverage.cli", "audit", *flags]
    subprocess.run([*cmd, "--out", f"{out}/warm"], check=True, capture_output=True)  # cache
    forced = Path(out) / "forced.toml"
    forced.write_text("parallel_pays_s = 0\n")  # processes however small the work
    variants = (
        ("one process (the default)", []),
        (f"--workers {workers}", ["--workers", str(workers)]),
        (f"--workers {workers}, processes forced", ["--workers", str(workers), "--config",
                                                    str(forced)]),
    )  # fmt: skip
    rows = []
    for k in range(repeat):
        for label, extra in variants:
            t0 = time.perf_counter()
            run = subprocess.run([*cmd, *extra, "--out", f"{out}/run{k}"], check=True,
                                 capture_output=True, text=True)  # fmt: skip
            seconds = time.perf_counter() - t0
            here = "one after another here" in run.stderr
            rows.append({"tiles": n, "run": label, "seconds": seconds, "stayed_here": here})
            log(f"  {label}: {seconds:.1f} s{' (stayed in one process)' if here else ''}")
    return rows


def main_cli(tiles: list[int], workers: int, repeat: int) -> None:
    """The command, per size, as a markdown table of medians."""
    import statistics  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    rows = []
    for n in tiles:
        log(f"{n}x{n} tiles, the command …")
        with tempfile.TemporaryDirectory() as out:
            rows += one_cli(n, workers, out, repeat)
    print(f"| tiles | districts | one process | --workers {workers} | speed-up | "
          f"--workers {workers}, processes forced | speed-up |\n"
          "|---:|---:|---:|---:|---:|---:|---:|")  # fmt: skip
    for n in tiles:
        med = {}
        for r in rows:
            if r["tiles"] == n:
                med.setdefault(r["run"], []).append(float(r["seconds"]))  # type: ignore[arg-type]
        one, auto, forced = (statistics.median(v) for v in med.values())
        print(f"| {n} × {n} | {11 * n * n:,} | {fmt_s(one)} | {fmt_s(auto)} | "
              f"{fmt_x(one / auto)} | {fmt_s(forced)} | {fmt_x(one / forced)} |")  # fmt: skip
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "batch_cli.json").write_text(json.dumps(rows, indent=2))


def main() -> None:
    """Run each size, print a markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", type=int, nargs="+", default=[1, 2, 4, 8], help="tiles per side")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument(
        "--per", choices=["district", "tile"], default="district", help="11 districts a tile, or 1"
    )
    ap.add_argument("--cli", action="store_true", help="time the audit command, folders and all")
    ap.add_argument("--repeat", type=int, default=3, help="--cli: runs of each variant (median)")
    args = ap.parse_args()
    if args.cli:
        main_cli(args.tiles, args.workers, args.repeat)
        return
    rows = []
    for n in args.tiles:
        log(f"{n}x{n} tiles …")
        t_s, t_p, same, k = one(n, args.workers, args.per)
        rows.append({"tiles": n, "districts": k, "serial_s": t_s, "workers_s": t_p,
                     "identical": bool(same)})  # fmt: skip
    print(f"| districts | serial | {args.workers} workers (incl. cluster start) | speed-up | "
          "identical |\n|---:|---:|---:|---:|---|")  # fmt: skip
    for r in rows:
        print(f"| {r['districts']:,} | {fmt_s(r['serial_s'])} | {fmt_s(r['workers_s'])} | "
              f"{fmt_x(r['serial_s'] / r['workers_s'])} | {r['identical']} |")  # fmt: skip
    RESULTS_DIR.mkdir(exist_ok=True)
    name = f"batch_{args.per}.json"
    (RESULTS_DIR / name).write_text(json.dumps(rows, indent=2))
    log(f"wrote {(RESULTS_DIR / name).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
