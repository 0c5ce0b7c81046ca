"""The what-if map: switch halls and candidate sites on and off in the browser, offline.

:func:`whatif_data` snaps the communities and the sites once and orders every community's
reachable sites by travel time; :func:`whatif_map` writes one self-contained HTML page that
carries those rows and recomputes the audit's district table and hall loads on each click.

Package layout: ``_data`` (the rows and the reference figures), ``_page`` (the HTML page and
the scenario TOML it copies), ``page.js`` and ``page.css`` (the page's own script and style).
"""

from coverage.whatif._data import WhatIfData, proposal_candidates, whatif_data
from coverage.whatif._page import scenario_toml, whatif_map

__all__ = [
    "WhatIfData",
    "proposal_candidates",
    "scenario_toml",
    "whatif_data",
    "whatif_map",
]
