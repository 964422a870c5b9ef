"""Dagster resources: where the data lives and how tables are stored, chosen by deployment.

``OBRECON_DATA_DIR`` (default ``./data``) is the root, a local path or any fsspec URL (through
:class:`upath.UPath`): raw files land in ``<root>/raw/<source>/<day>/``, assets are stored under
``<root>/warehouse/<asset>/<stream-day id>.parquet``, run reports under
``<root>/reports/<stream-day id>/report.json`` and the catalog of the landing zone in
``<root>/.obrecon/catalog/``. The warehouse and the reports may live on an object
store shared by every worker; the feeds read the landing zone through the file system, so ``raw/``
must be local or mounted on each worker. Tests and other deployments pass another root to
:func:`resources_for`. How runs are stored and executed (PostgreSQL, Celery) is
:mod:`resources.deployment`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
from dagster_polars import PolarsParquetIOManager
from upath import UPath

from obrecon_pipeline.catalog import Catalog

DEFAULT_DATA_DIR = "data"


def _is_local(path: UPath) -> bool:
    return getattr(path, "protocol", "") in ("", "file", "local")


def data_root() -> UPath:
    """``$OBRECON_DATA_DIR`` (default ``./data``); a local path is made absolute."""
    root = UPath(os.environ.get("OBRECON_DATA_DIR", DEFAULT_DATA_DIR))
    return UPath(Path(root.path).resolve()) if _is_local(root) else root


class AtomicParquetIOManager(PolarsParquetIOManager):
    """dagster-polars' Parquet IO manager with atomic local writes.

    A materialization that fails while writing leaves the previous Parquet file intact: the frame
    is written to a temporary file beside the target and renamed over it.
    """

    def write_df_to_path(self, context, df, path):  # type: ignore[override]
        if not _is_local(path):
            return super().write_df_to_path(context, df, path)
        from obrecon_pipeline.atomic import atomic_path

        with atomic_path(Path(path.path)) as tmp:
            super().write_df_to_path(context, df, UPath(tmp))


class LandingZone(dg.ConfigurableResource):
    """The data root: raw landing zone, warehouse and reports (``root`` is a path or fsspec URL)."""

    root: str

    @property
    def _root(self) -> UPath:
        return UPath(self.root)

    @property
    def raw(self) -> Path:
        """The landing zone, read by the feeds through the file system."""
        raw = self._root / "raw"
        if not _is_local(raw):
            raise ValueError(f"the landing zone {raw} must be a local or mounted path (the feeds read files)")
        return Path(raw.path)

    def report_path(self, stream_day: str) -> UPath:
        return self._root / "reports" / stream_day / "report.json"

    def write_report(self, stream_day: str, report: dict) -> None:
        path = self.report_path(stream_day)
        if _is_local(path):
            from obrecon_pipeline.atomic import write_json

            write_json(report, Path(path.path))
        else:
            path.write_text(json.dumps(report, indent=2) + "\n")

    def read_report(self, stream_day: str) -> dict:
        return json.loads(self.report_path(stream_day).read_text())

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
        "io_manager": AtomicParquetIOManager(base_dir=str(root / "warehouse")),
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
