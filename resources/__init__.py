"""Dagster resources: where the data lives and how tables are stored, chosen by deployment.

``OBRECON_DATA_DIR`` (default ``./data``) is the root: raw files land in
``<root>/raw/<source>/<day>/``; each partition's assets are one committed set under
``<root>/warehouse`` (:mod:`resources.warehouse`), read at the stable paths
``<root>/warehouse/<asset>/<stream>/<day>.parquet`` and ``<root>/reports/<stream-day id>/report.json``;
the catalog of the landing zone is ``<root>/.obrecon/catalog/``.
The root is a local or mounted file system, or an object store named by an fsspec URL
(``s3://bucket/prefix``, :mod:`obrecon_pipeline.storage.objects`): then every machine works in a
local working copy, ``OBRECON_WORK_DIR`` (default ``~/.cache/obrecon/<root's name>``), which
mirrors the landing-zone folders it reads and holds what it downloads and writes before uploading.
Tests and other deployments pass another root to :func:`resources_for`. How runs are stored and
executed (PostgreSQL, Celery) is :mod:`resources.deployment`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import dagster as dg
from upath import UPath

from obrecon_pipeline.catalog import Catalog
from obrecon_pipeline.storage.objects import ObjectPartitionStore, is_object_url
from obrecon_pipeline.storage.warehouse import PartitionStore
from resources.warehouse import WarehouseIOManager, object_root, partition_store, report_link

DEFAULT_DATA_DIR = "data"
WORK_ENV = "OBRECON_WORK_DIR"


def data_root() -> UPath:
    """``$OBRECON_DATA_DIR`` (default ``./data``); a local path is made absolute."""
    root = UPath(os.environ.get("OBRECON_DATA_DIR", DEFAULT_DATA_DIR))
    return root if is_object_url(str(root)) else UPath(Path(root.path).resolve())


def work_dir(root: UPath | str) -> Path:
    """Where this machine works: the root itself when it is local; for an object-store root
    ``$OBRECON_WORK_DIR``, else ``~/.cache/obrecon/<the URL with / and : as _>``."""
    if not is_object_url(str(root)):
        return Path(UPath(root).path)
    if os.environ.get(WORK_ENV):
        return Path(os.environ[WORK_ENV]).resolve()
    return Path.home() / ".cache" / "obrecon" / re.sub(r"[^A-Za-z0-9._-]+", "_", str(root)).strip("_")


class LandingZone(dg.ConfigurableResource):
    """The data root: raw landing zone, warehouse and reports (``root`` a path or an fsspec URL,
    ``work`` this machine's working copy of an object-store root)."""

    root: str
    work: str = ""

    @property
    def raw(self) -> Path:
        """The landing zone the feeds read (on an object-store root, its mirror in the working
        copy: :meth:`landed` and :meth:`catalog` bring it up to date)."""
        return Path(self.work) / "raw" if self.work else Path(self.root) / "raw"

    @property
    def _objects(self):
        """The object-store root (:class:`~obrecon_pipeline.storage.objects.ObjectRoot`), None for a local one."""
        return object_root(self.root, self.work)

    @property
    def local_root(self) -> Path:
        """The root as a local directory (for the DuckDB views); ValueError on an object store."""
        if self.work:
            raise ValueError(f"{self.root} is an object store: DuckDB views are built over a local root only")
        return Path(self.root)

    def landed(self, partition_key: str) -> Path:
        """:attr:`raw` with the day of ``partition_key`` (``GOOG-L10|2012-06-21``) as landed."""
        objects = self._objects
        if objects is not None:
            objects.mirror(day=partition_key.split("|")[1])
        return self.raw

    def landed_name(self, path: str | Path) -> str:
        """How a user finds a raw file read from :attr:`raw`: its path, or on an object-store root
        the URL of the object it mirrors."""
        objects = self._objects
        if objects is None:
            return str(path)
        return objects.url_of(objects.key("raw", *Path(path).relative_to(self.raw).parts))

    def report_path(self, stream_day: str) -> str:
        """The stable path (on an object store, the URL) of a partition's committed ``report.json``."""
        objects = self._objects
        link = report_link(self.root, stream_day, self.work)
        return objects.url_of(link) if objects else link

    def store(self, partition_key: str) -> PartitionStore | ObjectPartitionStore:
        """The warehouse part of a stream × day partition key."""
        return partition_store(self.root, partition_key, self.work)

    def catalog(self) -> Catalog:
        """The catalog of the landing zone, ``<root>/.obrecon/catalog/`` (:mod:`obrecon_pipeline.catalog`):
        its streams and the data version of every stream-day (the content hash of its raw files);
        on an object-store root, of the whole zone mirrored first."""
        objects = self._objects
        if objects is not None:
            objects.mirror()
        return Catalog(self.raw, self.raw.parent / ".obrecon" / "catalog")


def resources_for(root: Path | UPath | str | None = None) -> dict:
    from resources.alerts import alert_sinks_from_env
    from resources.cross_venue import CrossVenuePairs
    from resources.fidelity import FidelityThresholds

    root = UPath(root) if root is not None else data_root()
    work = str(work_dir(root)) if is_object_url(str(root)) else ""
    where = str(root) if work else str(work_dir(root))
    return {
        "io_manager": WarehouseIOManager(root=where, work=work),
        "landing_zone": LandingZone(root=where, work=work),
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
