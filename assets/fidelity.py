"""Fidelity assets: the microstructure a researcher checks before trusting a book, per partition.

Thin wrappers over :mod:`obrecon_pipeline.metrics` and :mod:`obrecon_pipeline.fidelity`, partitioned
like ``book`` and stored in the same run set (:mod:`resources.warehouse`). Every input arrives as a
``pl.LazyFrame`` over the Parquet files; the per-row tables (spreads, microstructure, returns) are
computed slice by slice (:class:`~obrecon_pipeline.metrics.batches.Batched`, written one Parquet
row group per slice), the others are aggregates (one row per interval, order or partition), so
memory does not grow with the day:

* ``spreads``: quoted spreads at levels 1, 5, 10, 15, 20 (price units, bp of mid), cumulative depth;
* ``order_flow_imbalance``: OFI per interval, levels 1..10, depth-normalised;
* ``returns``: log mid returns in event time and at fixed intervals;
* ``microstructure``: micro-price and imbalance at levels 1, 5, 10;
* ``market_impact`` (marketable orders walked through the book) and ``impact_regression`` (OFI
  price-impact regression per interval and the square-root law fit);
* ``fidelity_report``: one row per partition with every fidelity statistic and its verdict, which
  the checks in :mod:`assets.fidelity_checks` judge.

The metric tables use the rows the replayer vouches for (``book_valid``); the report judges the book
as published (see :func:`obrecon_pipeline.fidelity.evaluate.evaluate`). A failed blocking integrity
check on ``book`` keeps all of them from running for that partition; forced past it (the
``force_downstream`` job), each says so in ``forced_despite_failed_checks`` (:mod:`assets.breaker`).
"""


import dagster as dg
import polars as pl

from assets.breaker import forced_metadata
from assets.metadata import markdown_table
from assets.partitions import STREAM_DAYS, stream_day_id
from obrecon_pipeline.fidelity.evaluate import evaluate, report_row
from obrecon_pipeline.metrics.batches import Batched, per_batch
from obrecon_pipeline.metrics.impact import impact_fits, marketable_orders
from obrecon_pipeline.metrics.microstructure import microstructure as micro_table
from obrecon_pipeline.metrics.ofi import ofi_table
from obrecon_pipeline.metrics.returns import returns_table
from obrecon_pipeline.metrics.spreads import spreads as spread_table
from resources import LandingZone
from resources.fidelity import FidelityThresholds

GROUP = "fidelity"
#: bump when a fidelity table changes for the same book (stored partitions show stale)
CODE_VERSION = "1"


def _intervals(settings: FidelityThresholds) -> tuple[float, ...]:
    return tuple(settings.intervals_s)


@dg.asset(partitions_def=STREAM_DAYS, group_name=GROUP, compute_kind="polars", code_version=CODE_VERSION)
def spreads(context: dg.AssetExecutionContext, book: pl.LazyFrame) -> Batched:
    """Quoted spread at levels 1, 5, 10, 15, 20 (where the book has them) in price units and bp of
    the mid; cumulative depth per side to every level."""
    context.add_output_metadata(forced_metadata(context))
    return per_batch(spread_table, book)


@dg.asset(partitions_def=STREAM_DAYS, group_name=GROUP, compute_kind="polars", code_version=CODE_VERSION)
def order_flow_imbalance(context: dg.AssetExecutionContext, book: pl.LazyFrame, fidelity_thresholds: FidelityThresholds) -> pl.DataFrame:
    """Cont-Kukanov-Stoikov OFI per fixed interval, multi-level OFI for levels 1..10 (Xu, Gould &
    Howison) and OFI normalised by the interval's average depth (Cont, Cucuringu & Zhang)."""
    context.add_output_metadata(forced_metadata(context))
    return ofi_table(book, _intervals(fidelity_thresholds))


@dg.asset(partitions_def=STREAM_DAYS, group_name=GROUP, compute_kind="polars", code_version=CODE_VERSION)
def returns(context: dg.AssetExecutionContext, book: pl.LazyFrame, fidelity_thresholds: FidelityThresholds) -> Batched:
    """Log mid-price returns in event time and at each fixed interval (``sampling`` column)."""
    context.add_output_metadata(forced_metadata(context))
    return returns_table(book, _intervals(fidelity_thresholds))


@dg.asset(partitions_def=STREAM_DAYS, group_name=GROUP, compute_kind="polars", code_version=CODE_VERSION)
def microstructure(context: dg.AssetExecutionContext, book: pl.LazyFrame) -> Batched:
    """Micro-price (size-weighted mid) and book imbalance at levels 1, 5, 10."""
    context.add_output_metadata(forced_metadata(context))
    return per_batch(micro_table, book)


@dg.multi_asset(
    outs={
        "market_impact": dg.AssetOut(
            description="Marketable orders: size, realised VWAP, VWAP predicted by the book before, impact",
            group_name=GROUP,
            code_version=CODE_VERSION,
        ),
        "impact_regression": dg.AssetOut(
            description="OFI price-impact regression per interval and the square-root law fit", group_name=GROUP,
            code_version=CODE_VERSION,
        ),
    },
    ins={"book": dg.AssetIn("book"), "events": dg.AssetIn("events")},
    partitions_def=STREAM_DAYS,
    compute_kind="polars",
)
def market_impact(context: dg.AssetExecutionContext, book: pl.LazyFrame, events: pl.LazyFrame,
                  fidelity_thresholds: FidelityThresholds):
    forced = forced_metadata(context)
    orders = marketable_orders(events, book)
    fits = impact_fits(book, orders, _intervals(fidelity_thresholds))
    law = fits.row(-1, named=True)  # the square-root law
    scored = orders.filter(pl.col("vwap_error_bp").is_not_null())
    yield dg.Output(
        orders,
        "market_impact",
        metadata={
            "orders": orders.height,
            "orders_with_prediction": scored.height,
            "median_abs_vwap_error_bp": dg.MetadataValue.float(float(scored["vwap_error_bp"].abs().median() or 0.0))
            if scored.height
            else dg.MetadataValue.text("no orders with a prediction"),
        } | forced,
    )
    yield dg.Output(
        fits,
        "impact_regression",
        metadata={
            "square_root_exponent": dg.MetadataValue.float(law["coefficient"]) if law["coefficient"] is not None
            else dg.MetadataValue.text(f"too few orders with impact > 0 (n = {law['n']})"),
            "square_root_prefactor": dg.MetadataValue.float(law["constant"]) if law["constant"] is not None
            else dg.MetadataValue.text("n/a"),
            "fits": dg.MetadataValue.md(markdown_table(fits)),
        } | forced,
    )


@dg.asset(
    partitions_def=STREAM_DAYS,
    group_name=GROUP,
    compute_kind="scipy",
    code_version=CODE_VERSION,
    ins={"book": dg.AssetIn("book"), "events": dg.AssetIn("events"), "reference_book": dg.AssetIn("reference_book")},
)
def fidelity_report(
    context: dg.AssetExecutionContext,
    book: pl.LazyFrame,
    events: pl.LazyFrame,
    reference_book: pl.LazyFrame,
    fidelity_thresholds: FidelityThresholds,
    landing_zone: LandingZone,
) -> dg.Output[pl.DataFrame]:
    """One row per partition: the Ljung-Box, Hill and GARCH(1,1) estimates of the rebuilt and the
    reference book, and every fidelity statistic (value, verdict, threshold, n, minimum n, details
    and first divergent rows as JSON)."""
    reference = reference_book if reference_book.select(pl.len()).collect().item() else None
    evaluation = evaluate(book, events, reference, fidelity_thresholds.thresholds())
    row = report_row(evaluation, partition=stream_day_id(context.partition_key, landing_zone.landed(context.partition_key)))
    return dg.Output(
        row,
        metadata={r.name: dg.MetadataValue.text(r.verdict.value) for r in evaluation.results}
        | {"failed": sum(r.verdict.value == "fail" for r in evaluation.results)} | forced_metadata(context),
    )
