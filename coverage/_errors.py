"""Errors and warnings of the coverage planner, in one place.

Every error the planner raises on purpose is a :class:`CoverageError`. Errors caused by the
user's input also subclass :class:`ValueError`, so ``except ValueError`` works as well (the
r5py convention). Recoverable problems are :class:`CoverageWarning` warnings. All are
exported from the package (``coverage.CoverageError``, ...).
"""

from __future__ import annotations


class CoverageError(Exception):
    """Base class of every error raised on purpose by the planner."""


class InputDataError(CoverageError, ValueError):
    """The user's input (a file, a frame, a configuration) is not usable as it is."""


class MissingColumnError(InputDataError):
    """A required column is missing and none of its accepted spellings was found."""


class CrsError(InputDataError):
    """A coordinate reference system is missing, unknown or inconsistent."""


class DuplicateIdError(InputDataError):
    """Two or more rows share an identifier that must be unique."""


class NetworkError(InputDataError):
    """A network file cannot be read, or holds no usable road network."""


class ConfigError(InputDataError):
    """A configuration file has unknown keys or values of the wrong type."""


class InfeasibleAllocationError(InputDataError):
    """A siting problem has no solution under its constraints (e.g. too little floor area)."""


class OfflineExportError(CoverageError):
    """A map links to an asset that cannot be embedded for offline use."""


class CoverageWarning(UserWarning):
    """A recoverable problem in the input (e.g. a hall far from every road, repeated rows)."""


class CoordinateSystemWarning(CoverageWarning):
    """Points fit the roads far better in another coordinate system than the declared one."""


def list_ids(ids: object, limit: int = 10) -> str:
    """Format offending identifiers for a message: at most ``limit``, then the count.

    Parameters
    ----------
    ids
        An iterable of identifiers (any type; each is shown with ``repr``).
    limit
        How many identifiers to show before summarising the rest.

    Returns
    -------
    str
        For example ``"'K12', 'K40' and 3 more"``.

    Examples
    --------
    >>> list_ids(["a", "b", "c"], limit=2)
    "'a', 'b' and 1 more"
    """
    items = list(ids)  # type: ignore[call-overload]
    shown = ", ".join(repr(_plain(i)) for i in items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun in the right number, for messages.

    Parameters
    ----------
    n
        The count.
    singular
        The noun for one, e.g. ``"point"``, or a phrase whose first word is the noun
        (``"value that is"`` needs ``plural``).
    plural
        The noun for any other count; ``singular + "s"`` by default.

    Returns
    -------
    str
        For example ``"1 point"``, ``"3 points"``, ``"0 points"``.

    Examples
    --------
    >>> counted(1, "point"), counted(3, "point"), counted(2, "geometry", "geometries")
    ('1 point', '3 points', '2 geometries')
    """
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _plain(value: object) -> object:
    """Turn numpy scalars into Python ones so that ``repr`` reads naturally."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value
