"""Errors and warnings of the coverage planner, in one place.

Every error the planner raises on purpose is a :class:`CoverageError`. Errors caused by the
user's input also subclass :class:`ValueError`, so ``except ValueError`` works as well (the
r5py convention). Recoverable problems are :class:`CoverageWarning` warnings. All are
exported from the package (``coverage.CoverageError``, ...).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from collections.abc import Callable


class CoverageError(Exception):
    """Base class of every error raised on purpose by the planner.

    An error whose message tells the caller to set a parameter is made with
    :meth:`naming`: it keeps the parameters apart from the text, so that a front end with
    other spellings (the command line's ``--max-floor-area-m2``) can say the same thing in
    its own words with :meth:`spelled`.

    Attributes
    ----------
    template
        The message with ``{name}`` where a parameter is named (``None`` for a plain
        message).
    arguments
        The parameters named, as ``{name: example value}`` (Python literals).
    """

    template: str | None = None
    arguments: dict[str, str] | None = None

    @classmethod
    def naming(cls, template: str, **arguments: str) -> Self:
        """An error whose message names parameters the caller can set.

        Parameters
        ----------
        template
            The message; ``{name}`` stands for ``name=<example>``.
        **arguments
            For each parameter named, an example value as a Python literal.

        Returns
        -------
        CoverageError
            An error of this class; ``str(error)`` speaks Python.

        Examples
        --------
        >>> e = InputDataError.naming("give {max_floor_area_m2}", max_floor_area_m2="700")
        >>> str(e), e.spelled(lambda name, value: f"--area {value}")
        ('give max_floor_area_m2=700', 'give --area 700')
        """
        error = cls(_fill(template, arguments, lambda k, v: f"{k}={v}"))
        error.template, error.arguments = template, dict(arguments)
        return error

    def spelled(self, spell: Callable[[str, str], str]) -> str:
        """The message with each parameter named by ``spell(name, example)``.

        Parameters
        ----------
        spell
            How the front end names a parameter with its example value.

        Returns
        -------
        str
            The message; ``str(self)`` when it names no parameter.
        """
        if self.template is None or not self.arguments:
            return str(self)
        return _fill(self.template, self.arguments, spell)


def _fill(template: str, arguments: dict[str, str], spell: Callable[[str, str], str]) -> str:
    """Put ``spell(name, example)`` for each ``{name}`` of ``arguments`` (other text stays)."""
    return re.sub(
        r"\{(\w+)\}",
        lambda m: spell(m[1], arguments[m[1]]) if m[1] in arguments else m[0],
        template,
    )


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


class ScenarioError(InputDataError):
    """A scenario's edits cannot be read or do not fit the baseline (names the edit)."""


class OfflineExportError(CoverageError):
    """A map links to an asset that cannot be embedded for offline use."""


class CoverageWarning(UserWarning):
    """A recoverable problem in the input (e.g. a hall far from every road, repeated rows).

    ``str(warning)`` is English; a warning may also carry its message in other languages
    (``texts``, by language code), which :meth:`text` picks.
    """

    def __init__(self, *args: object, texts: dict[str, str] | None = None) -> None:
        super().__init__(*args)
        self.texts = dict(texts or {})

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``"zh"``, ``"en"``), or in English where it has none.

        Examples
        --------
        >>> w = CoverageWarning("no kind column", texts={"zh": "没有类型列"})
        >>> w.text("zh"), w.text("en")
        ('没有类型列', 'no kind column')
        """
        return self.texts.get(lang, str(self))


class CoordinateSystemWarning(CoverageWarning):
    """Points fit the roads far better in another coordinate system than the declared one."""


class OfflineMapWarning(CoverageWarning):
    """An inline notebook map links to the web: it uses a plugin that cannot be embedded."""


def list_ids(ids: object, limit: int = 10, *, lang: str = "en") -> str:
    """Format offending identifiers for a message: at most ``limit``, then the count.

    Parameters
    ----------
    ids
        An iterable of identifiers (any type; each is shown with ``repr``).
    limit
        How many identifiers to show before summarising the rest.
    lang
        ``"en"`` or ``"zh"``: the words for the rest.

    Returns
    -------
    str
        For example ``"'K12', 'K40' and 3 more"``.

    Examples
    --------
    >>> list_ids(["a", "b", "c"], limit=2)
    "'a', 'b' and 1 more"
    >>> list_ids(["a", "b", "c"], limit=2, lang="zh")
    "'a', 'b' 等另外 1 个"
    """
    items = list(ids)  # type: ignore[call-overload]
    shown = ", ".join(repr(_plain(i)) for i in items[:limit])
    rest = len(items) - limit
    if rest <= 0:
        return shown
    return f"{shown} 等另外 {rest} 个" if lang == "zh" else f"{shown} and {rest} more"


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
