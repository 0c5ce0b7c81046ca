"""Benchmark: ``audit()`` on the West Lake sample with one core held by another process.

pykdtree's queries run on OpenMP threads; on two cores with one busy, a small query waits for
the busy core. ``coverage._threads`` runs queries of fewer than ``SMALL_QUERY`` points on one
thread. Each setting runs in its own process (OpenMP reads its settings once):

- **all threads**: every query on OpenMP's own count (as before ``coverage._threads``);
- **small on one**: the default;
- **OMP_NUM_THREADS=1**: the whole process on one thread.

Run::

    python bench/bench_threads.py          # 3 rounds × 60 audits per setting, busy and idle

The numbers vary with whatever else runs on the machine; compare settings within one round.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

CHILD = """
import statistics, sys, time, warnings
warnings.simplefilter("ignore")
import coverage._threads as th
if sys.argv[1] == "all":
    th.SMALL_QUERY = 0
from coverage.audit import audit
from coverage.samples import load_sample
s = load_sample("hangzhou-xihu")
audit(s.communities, s.halls, s.network)
ts = []
for _ in range(60):
    t = time.perf_counter()
    audit(s.communities, s.halls, s.network)
    ts.append(time.perf_counter() - t)
print(statistics.median(ts) * 1000)
"""

SETTINGS = {"all threads": ("all", None), "small on one": ("default", None),
            "OMP_NUM_THREADS=1": ("default", "1")}  # fmt: skip


def _run(mode: str, omp: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    out = subprocess.run([sys.executable, "-c", CHILD, mode], env=env, check=True,
                         capture_output=True, text=True)  # fmt: skip
    return float(out.stdout.strip())


def main() -> None:
    """Print the median audit time of each setting, with a core busy and without."""
    for busy in (True, False):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        time.sleep(0.5)
        try:
            rounds = {name: [_run(*s) for _ in range(3)] for name, s in SETTINGS.items()}
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
        print(f"one core busy: {busy}")
        for name, ms in rounds.items():
            print(f"  {name:18s} median of rounds {statistics.median(ms):6.1f} ms  "
                  f"(rounds: {', '.join(f'{m:.1f}' for m in ms)})")  # fmt: skip


if __name__ == "__main__":
    main()
