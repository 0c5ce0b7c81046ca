"""Validation helpers shared by the loaders: header aliases, value parsing, problem reports.

The loaders gather every problem they find in a :class:`Problems` object and raise once at
the end, naming the file, the layer or sheet, the column and the rows (osmnx's
``_report_validation``; r5py's error classes).
"""

from __future__ import annotations

import difflib
import inspect
import math
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from coverage._errors import (
    CrsError,
    DuplicateIdError,
    InputDataError,
    MissingColumnError,
    list_ids,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

ProblemKind = Literal["missing", "duplicate", "crs", "value"]

_ERROR_CLASS: dict[str, type[InputDataError]] = {
    "missing": MissingColumnError,
    "duplicate": DuplicateIdError,
    "crs": CrsError,
    "value": InputDataError,
}

# --- headers -----------------------------------------------------------------------------------

# CJK brackets that NFKC leaves alone (lenticular, tortoise-shell), and full-width ones.
_BRACKETS = str.maketrans(
    {"\u3010": "[", "\u3011": "]", "\u3014": "(", "\u3015": ")", "\uff3b": "[", "\uff3d": "]"}
)
_SEPARATORS = re.compile(r"[\s_\-.\u00b7:\uff1a/]+")
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|<[^>]*>")
_UNIT_SUFFIX = re.compile(r"(?:m2|sqm|平方米|平米|km2|万人|人|户|个|度|°)$")


def normalise_header(text: object) -> str:
    """Normalise a header for matching: NFKC, lower case, no spaces or separators.

    NFKC turns full-width brackets into ASCII ones and ``㎡`` into ``m2``.

    Parameters
    ----------
    text
        A header cell (any type; ``None`` gives ``""``).

    Returns
    -------
    str
        The normalised header, e.g. ``"面积(m2)"`` for ``" 面积(㎡) "`` written with
        full-width brackets.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    norm = unicodedata.normalize("NFKC", str(text)).translate(_BRACKETS).lower()
    return _SEPARATORS.sub("", norm)


def header_variants(text: object) -> list[str]:
    """Return the normalised header, then without brackets, then without a unit suffix.

    Parameters
    ----------
    text
        A header cell.

    Returns
    -------
    list of str
        Candidates to look up in an alias table, most specific first: ``"面积(m2)"``,
        ``"面积"``; ``"人口数(人)"``, ``"人口数"``.
    """
    norm = normalise_header(text)
    variants = [norm]
    stripped = _BRACKETED.sub("", norm)
    if stripped and stripped not in variants:
        variants.append(stripped)
    unitless = _UNIT_SUFFIX.sub("", stripped)
    if unitless and unitless not in variants:
        variants.append(unitless)
    return [v for v in variants if v]


def alias_lookup(aliases: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Build a map from each normalised alias (and canonical name) to its canonical name."""
    lookup: dict[str, str] = {}
    for canonical, names in aliases.items():
        for name in (canonical, *names):
            lookup.setdefault(normalise_header(name), canonical)
    return lookup


def recognise(header: object, lookup: Mapping[str, str]) -> str | None:
    """Return the canonical name a header stands for, or ``None``."""
    for variant in header_variants(header):
        if variant in lookup:
            return lookup[variant]
    return None


@dataclass
class ColumnMatch:
    """Result of matching a table's headers to canonical columns.

    Attributes
    ----------
    header_of
        Canonical name -> the header in the file that supplies it.
    ignored
        Headers that also stand for an already matched canonical column (kept as they are).
    """

    header_of: dict[str, str] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)


def _explicit_pair(
    key: str,
    value: str,
    aliases: Mapping[str, Sequence[str]],
    headers: Sequence[str],
    problems: Problems,
) -> tuple[str, str] | None:
    """Resolve one ``columns=`` entry to ``(header, canonical)``, or report why not."""
    header_set = set(headers)
    if value in aliases and key in header_set:
        return key, value
    if key in aliases and value in header_set:
        return value, key
    entry = f"columns={{{key!r}: {value!r}}}"
    if value not in aliases and key not in aliases:
        known = ", ".join(aliases)
        problems.add("value", f"{entry}: {value!r} is not a column name the loader knows ({known})")
    else:
        missing = key if value in aliases else value
        problems.add(
            "missing",
            f"{entry}: there is no header {missing!r} (headers found: {list_ids(headers, 30)})",
        )
    return None


def match_columns(
    headers: Sequence[str],
    aliases: Mapping[str, Sequence[str]],
    explicit: Mapping[str, str] | None,
    problems: Problems,
) -> ColumnMatch:
    """Match headers to canonical columns: explicit mapping first, then aliases in order.

    Parameters
    ----------
    headers
        Headers of the table, in order.
    aliases
        Canonical name -> accepted spellings, the preferred spelling first.
    explicit
        The user's ``columns=`` mapping, ``{header in the file: canonical name}`` (the
        reverse, ``{canonical name: header}``, is accepted too).
    problems
        Where unusable entries of ``explicit`` are reported.

    Returns
    -------
    ColumnMatch
        The matches.
    """
    match = ColumnMatch()
    for key, value in (explicit or {}).items():
        pair = _explicit_pair(key, value, aliases, headers, problems)
        if pair is not None:
            match.header_of[pair[1]] = pair[0]
    taken = set(match.header_of.values())
    # Rank every header by the position of the alias it matches, so that the preferred
    # spelling wins when a file has two (e.g. 常住人口 and 户籍人口).
    ranked = {
        canonical: [normalise_header(n) for n in (canonical, *names)]
        for canonical, names in aliases.items()
    }
    candidates: dict[str, list[tuple[int, int, str]]] = {}
    for position, header in enumerate(headers):
        if header in taken:
            continue
        hit = _rank_header(header, ranked)
        if hit is not None:
            candidates.setdefault(hit[0], []).append((hit[1], position, header))
    for canonical, options in candidates.items():
        options.sort()
        rest = options
        if canonical not in match.header_of:
            match.header_of[canonical] = options[0][2]
            rest = options[1:]
        for _, _, header in rest:
            match.ignored[header] = canonical
    return match


def _rank_header(header: str, ranked: Mapping[str, list[str]]) -> tuple[str, int] | None:
    """Return ``(canonical, rank)`` for a header; a lower rank is a preferred spelling."""
    for variant_rank, variant in enumerate(header_variants(header)):
        for canonical, names in ranked.items():
            if variant in names:
                return canonical, names.index(variant) + 1000 * variant_rank
    return None


def _one_substitution(a: str, b: str) -> bool:
    """Tell whether two non-ASCII headers differ by exactly one character (类形 for 类型).

    Chinese headers are short, so a one-character typo (a homophone typed by pinyin input:
    形/型, 渡/度, 陈/称) scores only 0.5-0.75 on difflib's ratio; the rule catches it.
    """
    if len(a) != len(b) or len(a) < 2 or a.isascii() or b.isascii():  # noqa: PLR2004
        return False
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


def closest_header(
    accepted: Sequence[str], headers: Iterable[str], used: Iterable[str], *, cutoff: float = 0.6
) -> tuple[str, str] | None:
    """Find the unused header closest to one of the accepted spellings.

    Parameters
    ----------
    accepted
        Accepted spellings of one canonical column.
    headers
        Headers of the table.
    used
        Headers already matched to a column (never suggested).
    cutoff
        Smallest :class:`difflib.SequenceMatcher` ratio that counts as close; non-ASCII headers
        that differ from a spelling by one character always count.

    Returns
    -------
    tuple of str or None
        ``(header, spelling)``: the header in the file and the accepted spelling it resembles.

    Examples
    --------
    >>> closest_header(["类型", "type"], ["编号", "类形"], [])
    ('类形', '类型')
    >>> closest_header(["population", "人口"], ["popluation"], [])
    ('popluation', 'population')
    >>> closest_header(["人口"], ["备注"], []) is None
    True
    """
    used_set = set(used)
    norm_to_header = {normalise_header(h): h for h in headers if h not in used_set}
    norm_to_header.pop("", None)
    best: tuple[float, str, str] | None = None
    for name in accepted:
        target = normalise_header(name)
        for norm, header in norm_to_header.items():
            score = difflib.SequenceMatcher(None, target, norm).ratio()
            if _one_substitution(target, norm):
                score = max(score, cutoff)
            if score >= cutoff and (best is None or score > best[0]):
                best = (score, header, name)
    return None if best is None else (best[1], best[2])


def did_you_mean(
    accepted: Sequence[str], headers: Iterable[str], used: Iterable[str]
) -> str | None:
    """Return the unused header closest to one of the accepted spellings, if any is close."""
    hit = closest_header(accepted, headers, used)
    return None if hit is None else hit[0]


# --- values -----------------------------------------------------------------------------------

_NULL_STRINGS = frozenset({"", "nan", "null", "none", "na", "n/a", "#n/a", "-", "--", "—", "无"})
_NUMBER_UNIT = re.compile(r"(?:m2|sqm|平方米|平米|人|户|个|°|度)$")


def is_null(value: object) -> bool:
    """Tell whether a cell is empty: None, NaN, NA, or a blank / null-like string."""
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip().lower()
        if not text or text in _NULL_STRINGS:
            return True
        # the longest null-like string has 4 characters; only full-width forms need NFKC
        if len(text) > 4 or text.isascii():  # noqa: PLR2004
            return False
        return unicodedata.normalize("NFKC", text).strip() in _NULL_STRINGS
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return value is pd.NA or value is pd.NaT


def parse_numbers(values: Sequence[object]) -> tuple[FloatArray, BoolArray, BoolArray]:
    """Parse cells as numbers, tolerating thousands separators and a unit suffix.

    Parameters
    ----------
    values
        Cells: numbers, or strings such as ``"1,234"``, ``"120㎡"``, ``"3521人"`` (full-width
        digits too).

    Returns
    -------
    numbers, null, bad
        Float array (NaN where null or bad), mask of empty cells, mask of cells that are not
        numbers (including infinities and booleans).
    """
    n = len(values)
    out = np.full(n, np.nan)
    null = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    for i, value in enumerate(values):
        if is_null(value):
            null[i] = True
            continue
        number: float | None = None
        if isinstance(value, bool | np.bool_):
            number = None
        elif isinstance(value, int | float | np.integer | np.floating):
            number = float(value)
        elif isinstance(value, str):
            number = _parse_number_text(value)
        if number is None or not math.isfinite(number):
            bad[i] = True
        else:
            out[i] = number
    return out, null, bad


def _parse_number_text(value: str) -> float | None:
    """Parse one string as a number, or return None."""
    try:
        return float(value)  # the common case, fast
    except ValueError:
        pass
    text = unicodedata.normalize("NFKC", value).strip().replace(",", "").replace(" ", "")
    try:
        return float(_NUMBER_UNIT.sub("", text))
    except ValueError:
        return None


_TRUE = frozenset({"true", "t", "yes", "y", "1", "是", "√", "✓"})
_FALSE = frozenset(
    {"false", "f", "no", "n", "0", "否", "\u00d7", "✗"}
)  # \u00d7: multiplication sign


def parse_bools(values: Sequence[object]) -> tuple[BoolArray, BoolArray, BoolArray]:
    """Parse cells as booleans (true/false, yes/no, 1/0, 是/否, check mark / cross).

    Returns
    -------
    flags, null, bad
        Boolean array (False where null or bad), mask of empty cells, mask of bad cells.
    """
    n = len(values)
    out = np.zeros(n, dtype=bool)
    null = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    for i, value in enumerate(values):
        if is_null(value):
            null[i] = True
        elif isinstance(value, bool | np.bool_ | int | np.integer | float | np.floating) and (
            value in (0, 1)
        ):
            out[i] = bool(value)
        else:
            text = normalise_header(value)
            if text in _TRUE:
                out[i] = True
            elif text not in _FALSE:
                bad[i] = True
    return out, null, bad


def clean_text(value: object) -> str | None:
    """Return a cell as stripped text (``1001.0`` -> ``"1001"``), or ``None`` when empty."""
    if is_null(value):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


# --- reporting --------------------------------------------------------------------------------


@dataclass
class Rows:
    """How to name rows in messages.

    Attributes
    ----------
    labels
        What to print for each row: spreadsheet row numbers, feature numbers or index labels.
    noun
        ``"row"``, ``"feature"`` or ``"index"``.
    ids
        Identifier of each row (``None`` where unknown), printed next to the row labels.
    id_name
        Name of the identifier column, e.g. ``"community_id"``.
    """

    labels: Sequence[object]
    noun: str = "row"
    ids: Sequence[str | None] | None = None
    id_name: str = "id"

    def describe(self, mask: npt.ArrayLike) -> str:
        """Describe the rows selected by a boolean mask (or an array of positions)."""
        positions = np.asarray(mask)
        if positions.dtype == bool:
            positions = np.flatnonzero(positions)
        labels = [self.labels[int(i)] for i in positions]
        noun = self.noun if len(labels) == 1 or self.noun == "index" else self.noun + "s"
        text = f"{noun} {list_ids(labels)}"
        if self.ids is not None:
            ids = [self.ids[int(i)] for i in positions if self.ids[int(i)] is not None]
            if ids:
                text += f"; {self.id_name}: {list_ids(ids)}"
        return text


@dataclass
class Problems:
    """Every problem found in one input, raised at once.

    Attributes
    ----------
    label
        Names the input: ``"communities.gpkg[layer=villages]"``.
    items
        ``(kind, message)`` pairs, in the order found.
    """

    label: str
    items: list[tuple[ProblemKind, str]] = field(default_factory=list)

    def add(self, kind: ProblemKind, message: str) -> None:
        """Record a problem; ``kind`` chooses the error class when it is the only kind."""
        self.items.append((kind, message))

    def __bool__(self) -> bool:
        """Return True when at least one problem was recorded."""
        return bool(self.items)

    def raise_if_any(self) -> None:
        """Raise one error listing every problem, if there are any.

        Raises
        ------
        InputDataError
            Or the more specific :class:`MissingColumnError`, :class:`DuplicateIdError` or
            :class:`CrsError` when every problem is of that kind.
        """
        if not self.items:
            return
        kinds = {kind for kind, _ in self.items}
        error = _ERROR_CLASS[kinds.pop()] if len(kinds) == 1 else InputDataError
        if len(self.items) == 1:
            msg = f"{self.label}: {self.items[0][1]}"
        else:
            lines = "\n".join(f"  - {message}" for _, message in self.items)
            msg = f"{self.label}: {len(self.items)} problems found:\n{lines}"
        raise error(msg)


def warn(message: str | Warning, category: type[Warning] = UserWarning) -> None:
    """Warn with the stack level of the first caller outside this package.

    ``message`` may be a warning instance (its class is then the category).
    """
    package_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep  # noqa: PTH100, PTH120
    frame = inspect.currentframe()
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(  # noqa: PTH100
        package_dir
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def _fold(text: str) -> str:
    """Text for comparing names: NFC, trimmed, case-folded (Latin letters ignore case)."""
    return unicodedata.normalize("NFC", text).strip().casefold()


def match_names(wanted: Sequence[object], known: Sequence[object], *, what: str) -> list[str]:
    """The full names meant by names given in full or by their beginning.

    A name matches a known one that equals it, else, ignoring case (for Latin letters), the
    known name it is an unambiguous prefix of: ``示意片区A`` means
    ``示意片区A (illustrative zone A)``, ``tries`` means ``Triesen`` (``Triesen`` itself is
    not ambiguous with ``Triesenberg``: an exact match wins).

    Parameters
    ----------
    wanted
        The names given, in the caller's order.
    known
        The names that exist.
    what
        What the names are, for the message (``"district"``).

    Returns
    -------
    list[str]
        The full names, in the order given, each once.

    Raises
    ------
    InputDataError
        If a name matches nothing (the known names are listed) or begins several names
        (those are listed); every such name is reported at once.

    Examples
    --------
    >>> match_names(["tries", "Triesen"], ["Triesen", "Triesenberg", "Vaduz"], what="district")
    Traceback (most recent call last):
    ...
    coverage._errors.InputDataError: district 'tries' is ambiguous: 'Triesen', 'Triesenberg'
    >>> match_names(["vad", "Triesen"], ["Triesen", "Triesenberg", "Vaduz"], what="district")
    ['Vaduz', 'Triesen']
    """
    names = list(dict.fromkeys(str(k) for k in known))
    folded = [_fold(n) for n in names]
    out: list[str] = []
    unknown: list[str] = []
    problems: list[str] = []
    for given in (str(w) for w in wanted):
        key = _fold(given)
        hits = [n for n in names if n == given] or [
            n for n, f in zip(names, folded, strict=True) if f == key
        ]
        hits = hits or [n for n, f in zip(names, folded, strict=True) if key and f.startswith(key)]
        if len(hits) == 1:
            out.append(hits[0])
        elif hits:
            problems.append(f"{what} {given!r} is ambiguous: {list_ids(hits)}")
        else:
            unknown.append(given)
    if unknown:
        problems.insert(0, f"unknown {what} {list_ids(unknown)}; known: {list_ids(names, 30)}")
    if problems:
        raise InputDataError("; ".join(problems))
    return list(dict.fromkeys(out))
