"""Service-coverage planning for community service halls (社区服务中心).

Network travel times from every community to its nearest hall, audited against the
15-minute (urban) and 20-minute (rural) service circles of Hangzhou's community-governance
plan, with maps, tables and proposals for shared halls (一站多居).

The import name is ``coverage`` (fixed by the project layout); the distribution and the
console command are ``coverage-planner``, because coverage.py owns the name ``coverage``.
"""

from __future__ import annotations

import importlib.metadata as _metadata

from coverage._errors import (
    ConfigError,
    CoordinateSystemWarning,
    CoverageError,
    CoverageWarning,
    CrsError,
    DuplicateIdError,
    InfeasibleAllocationError,
    InputDataError,
    MissingColumnError,
    NetworkError,
    OfflineExportError,
    OfflineMapWarning,
    ScenarioError,
)
from coverage.config import DEFAULT_CONFIG, Config
from coverage.io import read_communities, read_halls
from coverage.network import Network, download_network, load_network
from coverage.samples import load_sample

__all__ = [
    "DEFAULT_CONFIG",
    "AuditResult",
    "Config",
    "ConfigError",
    "CoordinateSystemWarning",
    "CoverageError",
    "CoverageWarning",
    "CrsError",
    "DuplicateIdError",
    "InfeasibleAllocationError",
    "InputDataError",
    "MissingColumnError",
    "Network",
    "NetworkError",
    "OfflineExportError",
    "OfflineMapWarning",
    "ProposalResult",
    "Scenario",
    "ScenarioError",
    "TravelTimeSurface",
    "compare",
    "compare_many",
    "coverage_map",
    "download_network",
    "load_network",
    "load_sample",
    "load_scenario",
    "propose_halls",
    "read_communities",
    "read_halls",
    "run_batch",
    "run_scenario",
    "save_map",
    "travel_time_surface",
    "whatif_map",
    "write_district_reports",
]

#: The notebook verbs and result types that live in heavier modules, by the module they
#: come from; imported on first use (PEP 562), so ``import coverage`` stays light.
_LAZY = {
    "AuditResult": "coverage.audit",
    "ProposalResult": "coverage.siting",
    "Scenario": "coverage.scenarios",
    "compare": "coverage.scenarios",
    "compare_many": "coverage.scenarios",
    "load_scenario": "coverage.scenarios",
    "run_scenario": "coverage.scenarios",
    "TravelTimeSurface": "coverage.isochrones",
    "coverage_map": "coverage.maps",
    "propose_halls": "coverage.siting",
    "run_batch": "coverage.batch",
    "save_map": "coverage.maps",
    "travel_time_surface": "coverage.isochrones",
    "whatif_map": "coverage.whatif",
    "write_district_reports": "coverage.reports",
}


def __getattr__(name: str) -> object:
    """The lazily exported names (see ``_LAZY``)."""
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    msg = f"module 'coverage' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    """Every exported name, the lazy ones included."""
    return sorted({*globals(), *__all__})


try:  # the installed distribution's version (pyproject.toml is its one home)
    __version__ = _metadata.version("coverage-planner")
except _metadata.PackageNotFoundError:  # pragma: no cover (run from a copy, not installed)
    __version__ = "0.0.0+unknown"

# ``audit`` and ``isochrones`` are not exported here: a function of that name would hide the
# module of the same name (``coverage.audit.audit``, ``coverage.isochrones.isochrones``).
