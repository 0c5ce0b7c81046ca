"""The summary of an audit as plain data (``summary.json``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pandas as pd

from coverage._licence import ROAD_DATA_ATTRIBUTION

if TYPE_CHECKING:
    from coverage.audit import AuditResult

logger = logging.getLogger(__name__)


def district_summary(result: AuditResult) -> dict[str, Any]:
    """The ``summary.json`` content of an audit (or of one district's part of it).

    Parameters
    ----------
    result
        An audit result.

    Returns
    -------
    dict
        Headline figures, the district rows, the configuration, the network summary and the
        coordinate-system checks of the inputs (``coordinate_check``: each with its
        ``verdict``, ``"doubt"`` when the points fit another system far better).
    """
    cfg = result.config
    halls = result.halls
    adequate = halls["floor_area_adequate"] if "floor_area_adequate" in halls else pd.Series()
    return {
        "districts": result.districts.to_dict(orient="records"),
        "halls": {
            "count": len(halls),
            "on_network": int(halls["on_network"].sum()) if "on_network" in halls else None,
            "with_floor_area": int(adequate.notna().sum()),
            "floor_area_adequate": int((adequate == True).sum()),  # noqa: E712 (NA is not True)
            "illustrative": int(
                halls.get("illustrative", pd.Series(dtype=bool)).eq(other=True).sum()
            ),
        },
        "rules": {
            "urban_threshold_min": cfg.urban_threshold_min,
            "rural_threshold_min": cfg.rural_threshold_min,
            "mode": result.network.get("mode"),
            "speed_kph": result.network.get("speed_kph"),
            "max_snap_m": cfg.max_snap_m,
            "floor_area_m2_per_100_households": cfg.floor_area_m2_per_100_households,
        },
        "network": result.network,
        "coordinate_check": [c.to_dict() for c in result.coordinate_checks],
        "attribution": ROAD_DATA_ATTRIBUTION,
    }
