"""Benchmark: the what-if map on hangzhou-central with 500 candidate sites.

Measures the page's size (and its parts), the Python time to compute the data and to write the
page, and in headless chromium (every non-file request aborted): the time from a click to
updated figures, as the page's own ``performance.now()`` sees it — the JavaScript alone
(nearest open site of 2,280 communities, district table, hall loads, tables rebuilt, markers
restyled) and up to the second animation frame after it (the map redrawn and painted). Also
saves screenshots before and after switching sites.

Run::

    python bench/bench_whatif.py [--toggles 40] [--shots DIR]
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _common import log

from coverage.samples import load_sample
from coverage.siting import candidate_sites
from coverage.whatif import whatif_data, whatif_map

ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip

PAINTED = """id => new Promise(done => {
  const t0 = performance.now();
  window.whatif.toggle(id);
  requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
})"""


def main() -> None:  # noqa: PLR0915 (one measured story, top to bottom)
    """Sizes and timings of the what-if page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toggles", type=int, default=40)
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--shots", type=Path, default=None, help="folder for screenshots")
    parser.add_argument("--hall", default=None, help="the hall clicked for the screenshots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    s = load_sample("hangzhou-central")
    cand = candidate_sites(s.network, spacing_m=300).iloc[: args.candidates]
    t = time.perf_counter()
    data = whatif_data(s.communities, s.halls, s.network, cand)
    t_data = time.perf_counter() - t
    out = Path(tempfile.mkdtemp()) / "whatif.html"
    t = time.perf_counter()
    whatif_map(out, data, basemap="blank")
    t_page = time.perf_counter() - t
    text = out.read_text(encoding="utf-8")
    start = text.index('id="wi-data">') + len('id="wi-data">')
    payload = json.loads(text[start : text.index("</script>", start)])
    packed = len(payload["bin"])
    raw = len(base64.b64decode(payload["bin"]))
    log(f"{len(data.communities):,} communities, {len(data.sites):,} sites")
    rows = {
        "communities": len(data.communities),
        "sites": len(data.sites),
        "pairs (every reachable site per community)": len(data.site),
        "pairs within the community's own circle": int(data.within.sum()),
        "page, bytes": out.stat().st_size,
        "rows: gzip + base64, bytes": packed,
        "rows: gzipped, bytes": raw,
        "whatif_data(), s": round(t_data, 2),
        "whatif_map() (packing and writing), s": round(t_page, 2),
    }
    ids = data.sites["site_id"].tolist()
    picks = [ids[(i * 37) % len(ids)] for i in range(args.toggles)]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        external: list[str] = []

        def route(r: object) -> None:
            url = r.request.url  # type: ignore[attr-defined]
            if url.startswith("file:"):
                r.continue_()  # type: ignore[attr-defined]
            else:
                external.append(url)
                r.abort()  # type: ignore[attr-defined]

        page.route("**/*", route)
        t = time.perf_counter()
        page.goto(out.as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        rows["page open until ready (decode, 2,853 markers), s"] = round(time.perf_counter() - t, 2)
        js = [page.evaluate(f"window.whatif.toggle({json.dumps(i)})") for i in picks]
        painted = [page.evaluate(PAINTED, i) for i in picks]
        if args.shots:  # before and after one real click on a hall, zoomed in around it
            args.shots.mkdir(parents=True, exist_ok=True)
            hall = args.hall or ids[0]
            page.evaluate(f"window.whatif.focus({json.dumps(hall)}, 15)")
            page.wait_for_timeout(300)
            page.screenshot(path=str(args.shots / "whatif_before.png"))
            x, y = page.evaluate(f"window.whatif.point({json.dumps(hall)})")
            page.mouse.click(x, y)
            page.wait_for_timeout(300)
            page.screenshot(path=str(args.shots / "whatif_after.png"))
            rows["clicked"] = f"{hall}: open now {hall in page.evaluate('window.whatif.open()')}"
        browser.close()
    rows["click to figures (JS), median ms"] = round(statistics.median(js), 1)
    rows["click to figures (JS), max ms"] = round(max(js), 1)
    rows["click to painted map, median ms"] = round(statistics.median(painted), 1)
    rows["click to painted map, max ms"] = round(max(painted), 1)
    rows["external requests"] = len(external)
    print("| measure | value |\n|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {v:,} |" if isinstance(v, int) else f"| {k} | {v} |")


if __name__ == "__main__":
    main()
