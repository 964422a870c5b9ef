"""The ``features`` asset: model-ready features of a partition's book on regular time grids.

A thin wrapper over :func:`obrecon_pipeline.metrics.features.features` (the columns, the grid and
the validity rules are documented there): the book arrives as a ``pl.LazyFrame`` and is read once
in bounded batches, so only the grid (one row per grid point and step) is ever held whole. Grid
steps, realised-volatility windows and label horizons are run config (:class:`FeaturesConfig`).
Forced past a failed blocking check on ``book``, it says so in ``forced_despite_failed_checks``
(:mod:`assets.breaker`).
"""

import dagster as dg
import polars as pl

from assets.breaker import forced_metadata
from assets.metadata import markdown_table
from assets.partitions import STREAM_DAYS
from obrecon_pipeline.metrics.features import FeatureSpec
from obrecon_pipeline.metrics.features import features as feature_table

GROUP = "features"
#: bump when the features table changes for the same book (stored partitions show stale)
CODE_VERSION = "1"
_D = FeatureSpec()


class FeaturesConfig(dg.Config):
    steps_s: list[float] = list(_D.steps_s)  #: grid steps in seconds, one ``sampling`` each
    rv_windows: list[int] = list(_D.rv_windows)  #: realised-volatility windows, in grid steps
    horizons: list[int] = list(_D.horizons)  #: forward-return label horizons, in grid steps

    def spec(self) -> FeatureSpec:
        return FeatureSpec(tuple(self.steps_s), tuple(self.rv_windows), tuple(self.horizons))


@dg.asset(partitions_def=STREAM_DAYS, group_name=GROUP, compute_kind="polars", code_version=CODE_VERSION)
def features(context: dg.AssetExecutionContext, config: FeaturesConfig, book: pl.LazyFrame) -> dg.Output[pl.DataFrame]:
    """Per grid point (default 100 ms and 1 s): previous-tick mid, micro-price, spreads, imbalance
    at levels 1/5/10, multi-level OFI over the interval, realised volatility, forward-return labels
    and ``book_valid`` (false wherever a contributing book row was invalid)."""
    try:
        spec = config.spec()
    except ValueError as exc:
        raise dg.Failure(description=f"features config: {exc}") from None
    table = feature_table(book, spec)
    summary = table.group_by("sampling", maintain_order=True).agg(
        pl.len().alias("grid_points"), pl.col("book_valid").sum().alias("valid_points")
    )
    return dg.Output(
        table,
        metadata={
            "rows": table.height,
            "valid_rows": int(table["book_valid"].sum()),
            "samplings": dg.MetadataValue.md(markdown_table(summary)),
        } | forced_metadata(context),
    )
