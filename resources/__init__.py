"""Dagster resources: where the data lives and how tables are stored, chosen by deployment.

``OBRECON_DATA_DIR`` (default ``./data``) is the root: raw files land in
``<root>/raw/<source>/<day>/``; each partition's assets are one committed set under
``<root>/warehouse`` (:mod:`resources.warehouse`), read at the stable paths
``<root>/warehouse/<asset>/<stream>/<day>.parquet`` and ``<root>/reports/<stream-day id>/report.json``;
the catalog of the landing zone is ``<root>/.obrecon/catalog/``.
The feeds read the landing zone and the warehouse commits by renaming a symbolic link, so the root
must be a local or mounted file system on each worker (a shared mount serves a cluster). Tests and
other deployments pass another root to :func:`resources_for`. How runs are stored and executed (PostgreSQL, Celery) is
:mod:`resources.deployment`.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from upath import UPath

from obrecon_pipeline.catalog import Catalog
from obrecon_pipeline.storage.warehouse import PartitionStore
from resources.warehouse import WarehouseIOManager, partition_store, report_link

DEFAULT_DATA_DIR = "data"


def _is_local(path: UPath) -> bool:
    return getattr(path, "protocol", "") in ("", "file", "local")


def data_root() -> UPath:
    """``$OBRECON_DATA_DIR`` (default ``./data``); a local path is made absolute."""
    root = UPath(os.environ.get("OBRECON_DATA_DIR", DEFAULT_DATA_DIR))
    return UPath(Path(root.path).resolve()) if _is_local(root) else root


def _local(root: UPath, part: str) -> Path:
    path = root / part
    if not _is_local(path):
        raise ValueError(f"{path} must be a local or mounted path (the feeds read files; the warehouse commits by rename)")
    return Path(path.path)


class LandingZone(dg.ConfigurableResource):
    """The data root: raw landing zone, warehouse and reports (``root`` is a path or fsspec URL)."""

    root: str

    @property
    def _root(self) -> UPath:
        return UPath(self.root)

    @property
    def raw(self) -> Path:
        """The landing zone, read by the feeds through the file system."""
        return _local(self._root, "raw")

    @property
    def warehouse(self) -> Path:
        """The warehouse (:mod:`obrecon_pipeline.storage.warehouse`): a local or mounted path."""
        return _local(self._root, "warehouse")

    def report_path(self, stream_day: str) -> Path:
        """The stable path of a partition's committed ``report.json``."""
        return report_link(self.warehouse.parent, stream_day)

    def store(self, partition_key: str) -> PartitionStore:
        """The warehouse part of a stream × day partition key."""
        return partition_store(self.warehouse.parent, partition_key)

    def catalog(self) -> Catalog:
        """The catalog of the landing zone, ``<root>/.obrecon/catalog/`` (:mod:`obrecon_pipeline.catalog`):
        its streams and the data version of every stream-day (the content hash of its raw files)."""
        return Catalog(self.raw, self.raw.parent / ".obrecon" / "catalog")


def resources_for(root: Path | UPath | str | None = None) -> dict:
    from resources.alerts import alert_sinks_from_env
    from resources.cross_venue import CrossVenuePairs
    from resources.fidelity import FidelityThresholds

    root = UPath(root) if root is not None else data_root()
    return {
        "io_manager": WarehouseIOManager(root=str(_local(root, "."))),
        "landing_zone": LandingZone(root=str(root)),
        "integrity_thresholds": IntegrityThresholds(),
        "fidelity_thresholds": FidelityThresholds(),
        "alert_sinks": alert_sinks_from_env(),
        "cross_venue_pairs": CrossVenuePairs(),
    }


class IntegrityThresholds(dg.ConfigurableResource):
    """Pass marks for the book-integrity checks."""

    #: cells matching the reference / cells compared; LOBSTER replays match exactly
    min_match_rate: float = 1.0
    #: mid-stream snapshots agreeing with the book rebuilt before them / snapshots judged
    min_snapshot_agreement: float = 1.0
    #: quarantined input records / (quarantined + events) above which the day is blocked
    max_quarantine_rate: float = 0.001
