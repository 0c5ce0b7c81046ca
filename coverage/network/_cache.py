"""The on-disk cache of parsed networks and of their routing views."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from coverage._files import atomic_write
from coverage.config import DEFAULT_CONFIG, Config
from coverage.network._routing import Network, build_routing
from coverage.network._table import CACHE_VERSION, EdgeTable, savez

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

    from numpy.typing import NDArray

logger = logging.getLogger(__name__)


def cache_path(
    path: Path,
    config: Config | None = None,
    *,
    country: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Path | None:
    """Where the cached arrays of a network file live (``None`` if caching is off).

    The name carries a hash of the file's absolute path, size and modification time (and of
    the ``country`` whose access defaults were asked for, if one was), so an edited or
    replaced file gets a new cache entry and the old one is no longer used.

    Parameters
    ----------
    path
        The network file.
    config
        ``use_cache`` and ``cache_dir`` are used.
    country
        The ``country`` given to :func:`load_network` (``None``: chosen by location).
    bbox
        The part of the file read (``None``: all of it).

    Returns
    -------
    pathlib.Path or None
        The cache file path.
    """
    cfg = config or DEFAULT_CONFIG
    if not cfg.use_cache:
        return None
    folder = Path(cfg.cache_dir) if cfg.cache_dir else _default_cache_dir()
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{CACHE_VERSION}"
    if country is not None:
        key += f"|country={country.upper()}"
    if bbox is not None:
        key += "|bbox=" + ",".join(f"{v:.7f}" for v in bbox)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return folder / f"{path.name}.{digest}.npz"


def _default_cache_dir() -> Path:
    own = os.environ.get("COVERAGE_PLANNER_CACHE")
    if own:
        return Path(own)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "coverage-planner"


def drop_stale(cached: Path) -> None:
    """Remove older cache entries of the same file name (their source has changed)."""
    stem = cached.name.rsplit(".", 2)[0]
    for old in cached.parent.glob(f"{stem}.*.npz"):
        if old != cached:
            old.unlink(missing_ok=True)


#: Version of the routing-view cache layout; bump when Network's stored arrays change.
ROUTING_VERSION = 2


_ROUTING_ARRAYS = (
    "node_ids",
    "node_xy",
    "seg_u",
    "seg_v",
    "seg_length_m",
    "seg_fwd_s",
    "seg_bwd_s",
    "seg_edge",
    "seg_xy",
    "seg_xy_start",
    "component",
)


def routing_cache_path(table_path: Path, config: Config | None = None) -> Path:
    """Where the routing view of a cached network is stored, for one mode, speed and CRS.

    The name carries a hash of the cached table file (name, size, modification time), the
    mode, its speed and the configured metric CRS, so a changed network or another mode or
    speed gets its own file; the same key is stored inside the file and checked on reading.

    Parameters
    ----------
    table_path
        The network's cached :class:`EdgeTable` (``.npz``, see :meth:`EdgeTable.save`).
    config
        ``mode``, ``speeds_kph`` and ``metric_crs`` are used.

    Returns
    -------
    pathlib.Path
        The routing cache file (next to ``table_path``).
    """
    cfg = config or DEFAULT_CONFIG
    key = _routing_key(table_path, cfg)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return table_path.with_name(f"{table_path.name}.{cfg.mode}.{digest}.routing.npz")


def _routing_key(table_path: Path, cfg: Config) -> str:
    st = table_path.stat()
    return json.dumps(
        {
            "table": [table_path.name, st.st_size, st.st_mtime_ns, CACHE_VERSION],
            "mode": cfg.mode,
            "speed_kph": float(cfg.speed_kph),
            "metric_crs": cfg.metric_crs,
            "version": ROUTING_VERSION,
        },
        sort_keys=True,
    )


def _save_routing(net: Network, path: Path, key: str) -> None:
    """Write the routing view's arrays to one ``.npz`` file (no pickles), atomically."""
    arrays: dict[str, Any] = {k: getattr(net, k) for k in _ROUTING_ARRAYS}
    csr = net.csr
    arrays |= {"csr_data": csr.data, "csr_indices": csr.indices, "csr_indptr": csr.indptr}
    arrays["meta"] = np.asarray(
        json.dumps(
            {
                "key": key,
                "mode": net.mode,
                "speed_kph": net.speed_kph,
                "crs": net.crs,
                "loop_roads": net.loop_roads,
            }
        )
    )
    atomic_write(path, lambda tmp: savez(tmp, arrays))
    for old in path.parent.glob(path.name.rsplit(".", 3)[0] + ".*.routing.npz"):
        if old != path:
            old.unlink(missing_ok=True)


def _load_routing(path: Path, key: str, table_path: Path, source: str) -> Network | None:
    """The routing view stored by :func:`_save_routing`, or ``None`` if it is stale."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("key") != key:
            return None
        kw = {k: z[k] for k in _ROUTING_ARRAYS}
        n = len(kw["node_ids"])
        csr = sp.csr_matrix((z["csr_data"], z["csr_indices"], z["csr_indptr"]), shape=(n, n))
    return Network(
        mode=str(meta["mode"]),
        speed_kph=float(meta["speed_kph"]),
        crs=str(meta["crs"]),
        loop_roads=int(meta["loop_roads"]),
        csr=csr,
        source=source,
        table_path=table_path,
        **kw,
    )


def load_cached_network(
    table_path: Path, *, config: Config | None = None, source: str | None = None
) -> Network:
    """Read a cached network and its routing view (a planner's second run of a network).

    The routing view for the configured mode, speed and metric CRS is read from its cache
    file (:func:`routing_cache_path`) when there is one for this table; otherwise the table
    is read, :func:`build_routing` builds the view, and the view is written to the cache for
    the next run. The edge table itself is then read only when something needs it
    (:attr:`Network.table`, ``G``, ``seg_name``, another mode).

    Parameters
    ----------
    table_path
        The network's cached :class:`EdgeTable` (``.npz``).
    config
        Mode, speeds and metric CRS.
    source
        Description of where the network came from (defaults to ``table_path``).

    Returns
    -------
    Network
        The routing view.
    """
    cfg = config or DEFAULT_CONFIG
    src = source if source is not None else str(table_path)
    key = _routing_key(table_path, cfg)
    path = routing_cache_path(table_path, cfg)
    if path.exists():
        try:
            net = _load_routing(path, key, table_path, src)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring unreadable routing cache %s (%s)", path, exc)
        else:
            if net is not None:
                logger.info("routing view read from cache %s", path)
                return net
    net = build_routing(EdgeTable.load(table_path), config=cfg, source=src)
    try_save_routing(net, table_path, cfg)
    return net


def try_save_routing(net: Network, table_path: Path, cfg: Config) -> None:
    try:
        _save_routing(net, routing_cache_path(table_path, cfg), _routing_key(table_path, cfg))
    except OSError as exc:
        logger.warning("cannot write the routing cache next to %s (%s)", table_path, exc)


def memo_arrays(
    network: Network,
    owner: str,
    key: Hashable,
    build: Callable[[], dict[str, NDArray[Any]]],
    *,
    keep: int | None = None,
) -> dict[str, NDArray[Any]]:
    """Arrays derived from a network, kept on it and, for a cached network, on disk.

    Like :meth:`Network.memo`; in addition, when the network was read from the on-disk
    cache (:func:`load_cached_network`), the arrays are stored next to its table in one
    ``.npz`` file named by a hash of the table file, the mode, speed and CRS, the owner and the
    key, so the next run reads them instead of building them. ``keep`` also bounds the files
    one owner keeps per table (the oldest go first). A network built in memory (a clipped
    district, a graph) keeps them in memory only.

    Parameters
    ----------
    network
        The network.
    owner
        The owning module's name.
    key
        What the arrays are; its ``repr`` must say everything they depend on besides the
        network (e.g. cell size, snap limit, a version number of the method).
    build
        Builds the arrays when they are neither kept nor stored.
    keep
        At most this many keys in memory and files on disk per owner and table.

    Returns
    -------
    dict of str to numpy.ndarray
        The arrays.
    """
    table = network.table_path
    if table is None:
        return network.memo(owner, key, build, keep=keep)
    path = _arrays_path(network, table, owner, key)
    return network.memo(owner, key, lambda: _load_or_build(path, build, keep), keep=keep)


def _arrays_path(network: Network, table: Path, owner: str, key: Hashable) -> Path:
    st = table.stat()
    ident = json.dumps(
        [
            table.name,
            st.st_size,
            st.st_mtime_ns,
            CACHE_VERSION,
            network.mode,
            network.speed_kph,
            network.crs,
            owner,
            repr(key),
        ]
    )
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:16]
    return table.with_name(f"{table.name}.{owner.rsplit('.', 1)[-1]}.{digest}.npz")


def _load_or_build(
    path: Path, build: Callable[[], dict[str, NDArray[Any]]], keep: int | None
) -> dict[str, NDArray[Any]]:
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            logger.warning("ignoring unreadable cache file %s (%s)", path, exc)
    arrays = build()
    try:
        atomic_write(path, lambda tmp: savez(tmp, arrays))
    except OSError as exc:
        logger.warning("cannot write the cache file %s (%s)", path, exc)
        return arrays
    if keep is not None:  # the owner's files for this table, newest first
        stem = path.name.rsplit(".", 2)[0]
        files = sorted(path.parent.glob(f"{stem}.*.npz"), key=lambda p: -p.stat().st_mtime_ns)
        for old in files[keep:]:
            old.unlink(missing_ok=True)
    return arrays
