"""Tables in a notebook, as the reports show them: headers, values and number formats."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.audit import ALL_DISTRICTS
from coverage.reports._labels import (
    TOTAL_LABEL,
    YES_NO,
    ZH_VALUES,
    Lang,
    check_lang,
    header,
    in_language,
    number_format,
)

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler


#: The Python format of each Excel number format the workbooks use.
_PY_FORMATS = {
    "0.0%": "{:.1%}",
    "0.0": "{:.1f}",
    "0.0000000": "{:.7f}",
    "#,##0.0": "{:,.1f}",
    "#,##0": "{:,.0f}",
}


def _as_words(values: pd.Series, lang: Lang, mapping: dict[str, str]) -> pd.Series:
    """Yes/no for booleans, the language's words for known values, lists joined."""
    yes, no = YES_NO[lang]

    def word(v: object) -> object:
        if isinstance(v, bool | np.bool_):
            return yes if v else no
        if isinstance(v, list | tuple | set | np.ndarray):
            return ", ".join(str(x) for x in v)
        if isinstance(v, str):
            return mapping.get(v, v)
        return v

    return values.map(word)


def display_table(frame: pd.DataFrame, lang: Lang = "zh") -> Styler:
    """A table as the workbook and the summary show it, for a notebook.

    Headers in ``lang`` (出行时间(分钟), or "Travel time (min)"), statuses, kinds and yes/no
    in ``lang``, the reason in ``lang``, shares as percentages, minutes with one decimal,
    people and households with thousands separators, missing values as "–"; geometries
    left out. ``frame`` itself is not changed.

    Parameters
    ----------
    frame
        Any table of the planner (districts, communities, halls, proposals, scenarios).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    pandas.io.formats.style.Styler
        The table, shown formatted by Jupyter (``.data`` holds the relabelled frame).

    Examples
    --------
    >>> table = pd.DataFrame({"district": ["West", "(all)"], "covered_share": [2 / 3, 0.8]})
    >>> shown = display_table(table, lang="en")
    >>> shown.data.columns.tolist(), shown.data.iloc[1, 0]
    (['District', 'Communities covered (%)'], '(all)')
    >>> "66.7%" in shown.to_html(), "80.0%" in shown.to_html()
    (True, True)
    """
    check_lang(lang)
    table = pd.DataFrame(frame)
    geometry = [c for c in table.columns if isinstance(table[c].dtype, gpd.array.GeometryDtype)]
    table = in_language(table.drop(columns=geometry), lang)
    values = ZH_VALUES if lang == "zh" else {}
    out = pd.DataFrame(index=table.index)
    formats: dict[Any, Any] = {}  # header → format (the stubs want a dict of unions)
    for column in table.columns:
        name = str(column)
        series = table[column]
        if name == "district":
            series = series.replace({ALL_DISTRICTS: TOTAL_LABEL[lang]})
        if series.dtype == bool or not pd.api.types.is_numeric_dtype(series):
            series = _as_words(series, lang, values.get(name, {}))
        label = header(name, lang)
        out[label] = series
        fmt = number_format(name)
        if fmt is not None and pd.api.types.is_numeric_dtype(series):
            formats[label] = _PY_FORMATS[fmt]
    return out.style.format(formats, na_rep="–").hide(axis="index")
