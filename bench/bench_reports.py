"""The report files of the default run: the 6 Excel workbooks and the 6 summary pages.

Usage::

    .venv/bin/python bench/bench_reports.py     # best of 5, prints one line

The default sample (central Hangzhou, 2,280 communities) is audited once; then the whole
run's workbook and page and the five districts' are written into a temporary folder, as
``write_district_reports`` does (maps and GeoPackage are not part of this benchmark).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from coverage.audit import audit
from coverage.reports import write_excel, write_html_summary
from coverage.samples import load_sample


def best(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    sample = load_sample("hangzhou-central")
    result = audit(sample.communities, sample.halls, sample.network)
    parts = [result, *(result.district(n) for n in sorted(result.communities["district"].unique()))]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        write_html_summary(out / "warm.html", parts[1], title="warm")  # imports
        excel = best(lambda: [write_excel(out / f"{i}.xlsx", p) for i, p in enumerate(parts)])
        pages = best(
            lambda: [
                write_html_summary(out / f"{i}.html", p, title="t") for i, p in enumerate(parts)
            ]
        )
    print(f"{len(parts)} workbooks {excel:.2f} s, {len(parts)} summary pages {pages:.2f} s")


if __name__ == "__main__":
    main()
