"""Re-make the README's pictures from a real run: ``python docs/make_screenshots.py``.

Runs the default audit (the bundled central-Hangzhou sample, blank basemap so that nothing
is fetched from the internet) into a temporary folder, opens the run's ``summary.html`` and
one district's ``map.html`` in headless Chromium (Debian's ``/usr/bin/chromium`` through
playwright; ``--chromium PATH`` for another) and stores small PNGs (1000 px wide, 128-colour
palette, optimised) in ``docs/img/``. Re-run it whenever the pages change.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

from PIL import Image

from coverage.cli import main as coverage_planner

IMG = Path(__file__).resolve().parent / "img"
WIDTH = 1000
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _small_png(png: bytes, out: Path, colours: int = 128) -> int:
    """Store a screenshot as a palette PNG; returns its size in bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(
        colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    small.save(out, format="png", optimize=True)
    return out.stat().st_size


def _shoot(chromium: str, run: Path) -> dict[str, bytes]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    district = min(p for p in run.iterdir() if p.is_dir())  # the first district's folder
    shots: dict[str, bytes] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 1420})
        page.route(  # nothing from the internet: the pages are self-contained
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
        )
        page.goto((run / "summary.html").as_uri())
        page.wait_for_load_state("load")
        shots["summary.png"] = page.screenshot()
        page.set_viewport_size({"width": WIDTH, "height": 680})
        page.goto((district / "map.html").as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(1500)  # Leaflet draws after load
        shots["district-map.png"] = page.screenshot()
        browser.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    """Audit the default sample, take the screenshots, store them; the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="browser executable")
    parser.add_argument("--out", type=Path, default=IMG, help="folder of the pictures")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        code = coverage_planner(["audit", "--out", tmp, "--basemap", "blank", "--no-progress"])
        if code != 0:
            return code
        run = next(p for p in Path(tmp).iterdir() if p.is_dir())
        shots = _shoot(args.chromium, run)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, png in shots.items():
        size = _small_png(png, args.out / name)
        print(f"{args.out / name}: {size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
