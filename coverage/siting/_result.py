"""The result of a siting run (:class:`ProposalResult`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage.config import DEFAULT_CONFIG, Config

if TYPE_CHECKING:
    import geopandas as gpd
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

logger = logging.getLogger(__name__)

#: Upper edges of the hall-size bands of :meth:`ProposalResult.size_distribution`, m² of
#: floor area needed (the cap ``config.max_new_hall_m2`` is added as an edge).
HALL_SIZE_BANDS_M2: tuple[float, ...] = (200.0, 400.0, 600.0, 800.0, 1200.0, 2000.0)


@dataclass
class ProposalResult:
    """Result of :func:`propose_halls` / :func:`propose_halls_from_cost_matrix`.

    Attributes
    ----------
    model
        ``"lscp"``, ``"mclp"`` or ``"capacitated"``.
    proposals
        One row per proposed new hall, in ``order`` (the order of newly covered population):
        ``site_id``, ``order`` (1 = most newly covered population), ``new_population_covered``
        and ``new_communities_covered`` (marginal, given the existing halls and the sites
        before it), ``members`` (community ids of its shared-hall group), ``n_members``,
        ``population``, ``households``, ``max_travel_time_min`` (minutes),
        ``floor_area_needed_m2`` (m², households / 100 × the floor-area standard), and for
        the capacitated model ``capacity_households``; geometry in EPSG:4326 (empty for the
        cost-matrix door).
    groups
        Shared-hall groups (一站多居): one row per proposed hall, then per existing hall that
        keeps at least one community: ``hall_id``, ``kind`` (``"proposed"``/``"existing"``),
        ``members``, ``n_members``, ``population``, ``households``, ``max_travel_time_min``,
        ``floor_area_needed_m2``.
    uncoverable
        Communities no candidate reaches within their threshold and no existing hall covers:
        ``community_id``, ``threshold_min``, ``nearest_candidate_min`` (minutes, ``nan`` if
        none is known), ``data_problem`` (on a map-data island, left out of the siting: see
        :attr:`data_problems`), ``reason``.
    communities
        One row per input community, in input order: ``community_id``, ``threshold_min``,
        ``population``, ``households``, ``covered_before``, ``covered_after``, ``status``,
        ``assigned_hall_id``, ``assigned_kind``, ``travel_time_min``.
    scenario
        Before/after: ``halls`` (new halls), ``communities``, ``covered``, ``covered_share``,
        ``population``, ``population_covered``, ``population_covered_share``,
        ``uncoverable``.
    solver
        ``method`` (``"cbc"``, ``"highs"`` or ``"greedy"``: what produced the answer),
        ``status``, ``objective``, ``bound``, ``mip_gap`` (relative), ``optimal``,
        ``seconds`` (solver wall time), ``build_seconds``, ``time_limit_s``, sizes of the
        reduced model, and notes (e.g. why greedy was used).
    config
        The configuration used.
    """

    model: str
    proposals: gpd.GeoDataFrame
    groups: pd.DataFrame
    uncoverable: pd.DataFrame
    communities: pd.DataFrame
    scenario: pd.DataFrame
    solver: dict[str, Any]
    config: Config = field(default_factory=lambda: DEFAULT_CONFIG)

    @property
    def data_problems(self) -> pd.DataFrame:
        """Uncoverable communities that are a map-data problem, not demand.

        Their only road within the snap limit is a fragment cut off from almost all of the
        network (:func:`coverage.engine.fragment_segments`): no hall is proposed for them
        unless ``include_islands=True``; the reason says what to fix.
        """
        return self.uncoverable[self.uncoverable["data_problem"].to_numpy(dtype=bool)]

    @property
    def site_ids(self) -> list[Any]:
        """Identifiers of the proposed sites, in ``order``."""
        return list(self.proposals["site_id"])

    def size_distribution(self) -> pd.DataFrame:
        """How large the proposed halls are: counts per band of floor area needed (m²).

        Returns
        -------
        pandas.DataFrame
            One row per band (edges :data:`HALL_SIZE_BANDS_M2` and the cap
            ``config.max_new_hall_m2``): ``low_m2`` (exclusive, 0 for the first),
            ``high_m2`` (inclusive, ``inf`` for the last), ``halls``, ``above_cap``.

        Examples
        --------
        >>> import numpy as np
        >>> from coverage.siting import propose_halls_from_cost_matrix
        >>> r = propose_halls_from_cost_matrix(np.array([[5.0]]), [30000], 15)
        >>> sizes = r.size_distribution()
        >>> sizes.loc[sizes["halls"] > 0, ["low_m2", "high_m2", "above_cap"]].to_dict("records")
        [{'low_m2': 2000.0, 'high_m2': inf, 'above_cap': True}]
        """
        cap = float(self.config.max_new_hall_m2)
        high = np.array(sorted({*HALL_SIZE_BANDS_M2, cap, np.inf}))
        low = np.concatenate([[0.0], high[:-1]])
        area = self.proposals["floor_area_needed_m2"].to_numpy(dtype=float)
        band = np.searchsorted(high, area, side="left")
        return pd.DataFrame(
            {
                "low_m2": low,
                "high_m2": high,
                "halls": np.bincount(band, minlength=len(high))[: len(high)],
                "above_cap": low >= cap,
            }
        )

    def __repr__(self) -> str:
        """Short text form: model, sites, coverage after, solver."""
        covered = int(self.scenario["covered"].to_numpy()[-1])
        total = int(self.scenario["communities"].to_numpy()[-1])
        s = self.solver
        gap = s.get("mip_gap")
        gap_txt = "n/a" if gap is None or not np.isfinite(gap) else f"{gap:.2%}"
        return (
            f"ProposalResult({self.model}: {len(self.proposals)} new halls, "
            f"{covered}/{total} communities covered, "
            f"{len(self.uncoverable)} uncoverable; {s.get('method')} {s.get('status')!r}, "
            f"gap {gap_txt}, {s.get('seconds', 0.0):.2f} s)"
        )
