"""Helpers every bench script shares: where things are, logging, timing, number formats.

The scripts run as ``python bench/<script>.py`` (their folder is first on ``sys.path``), so
they import this module as ``_common`` (with the standard library only, so that the OSRM side of
``bench_peers.py`` can import it in its own environment). Paths are relative to the
repository: the bundled data under ``data/`` is all a bench reads.
"""

from __future__ import annotations

import gc
import math
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
#: The central-Hangzhou walk network every central bench uses (bundled).
CENTRAL_NETWORK = ROOT / "data" / "raw" / "hangzhou_central_drive_osrm2024.graphml.gz"


def log(msg: str) -> None:
    """Progress on stderr (the tables go to stdout)."""
    print(msg, file=sys.stderr, flush=True)


def timed(
    fn: Callable[[], Any], repeats: int, *, warm_up: bool = False
) -> tuple[float, list[float], Any]:
    """Median wall time of ``repeats`` calls, all times, and the last call's result.

    A ``gc.collect()`` precedes every timed call; ``warm_up`` makes one untimed call first.
    """
    if warm_up:
        fn()
    times: list[float] = []
    out = None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def central_network() -> Path:
    """The bundled central-Hangzhou network file, or a clear exit if it is missing."""
    if not CENTRAL_NETWORK.exists():
        msg = f"{CENTRAL_NETWORK} is missing: run the bench from a full checkout of the repository"
        raise SystemExit(msg)
    return CENTRAL_NETWORK


def fmt_s(s: float | None, *, digits: int = 0) -> str:
    """Seconds for a table: milliseconds under a second, else seconds (``n/a`` if unknown)."""
    if s is None or not math.isfinite(s):
        return "n/a"
    return f"{s * 1000:.{digits}f} ms" if s < 1 else f"{s:.2f} s"


def fmt_x(r: float | None) -> str:
    """A ratio for a table: ``1.53×``, ``36×``, ``1,234×``."""
    if r is None or not math.isfinite(r):
        return "n/a"
    return f"{r:,.0f}×" if r >= 10 else f"{r:.2f}×"
