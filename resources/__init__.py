"""Dagster resources: where the data lives and how tables are stored, chosen by deployment.

``OBRECON_DATA_DIR`` (default ``./data``) is the root: raw files land in ``<root>/raw/<source>/<day>/``,
assets are stored under ``<root>/warehouse/<asset>/<partition>.parquet`` and run reports under
``<root>/reports/<partition>/report.json``. Tests and other deployments pass another root to
:func:`resources_for`.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster_polars import PolarsParquetIOManager
from upath import UPath

DEFAULT_DATA_DIR = "data"


def data_root() -> Path:
    return Path(os.environ.get("OBRECON_DATA_DIR", DEFAULT_DATA_DIR)).resolve()


class AtomicParquetIOManager(PolarsParquetIOManager):
    """dagster-polars' Parquet IO manager with atomic local writes.

    A materialization that fails while writing leaves the previous Parquet file intact: the frame
    is written to a temporary file beside the target and renamed over it.
    """

    def write_df_to_path(self, context, df, path):  # type: ignore[override]
        if getattr(path, "protocol", "") not in ("", "file"):
            return super().write_df_to_path(context, df, path)
        from obrecon_pipeline.atomic import atomic_path

        with atomic_path(Path(str(path))) as tmp:
            super().write_df_to_path(context, df, UPath(tmp))


class LandingZone(dg.ConfigurableResource):
    """The data root: raw landing zone, warehouse and reports."""

    root: str

    @property
    def raw(self) -> Path:
        return Path(self.root) / "raw"

    def report_path(self, partition_key: str) -> Path:
        return Path(self.root) / "reports" / partition_key / "report.json"


def resources_for(root: Path | None = None) -> dict:
    from resources.fidelity import FidelityThresholds

    root = root or data_root()
    return {
        "io_manager": AtomicParquetIOManager(base_dir=str(root / "warehouse")),
        "landing_zone": LandingZone(root=str(root)),
        "integrity_thresholds": IntegrityThresholds(),
        "fidelity_thresholds": FidelityThresholds(),
    }


class IntegrityThresholds(dg.ConfigurableResource):
    """Pass marks for the book-integrity checks."""

    #: cells matching the reference / cells compared; LOBSTER replays match exactly
    min_match_rate: float = 1.0
