"""Book-integrity asset checks, per partition: crossed book and the match against the reference.

Both put the numbers a person needs in the metadata: counts, the first offending row with its time
and the raw message behind it, and a small table. Both are blocking with severity ERROR (the
circuit breaker, :mod:`assets.breaker`): a failure keeps the partition's fidelity and feature
assets from being computed from the broken book.
"""


import dagster as dg
import polars as pl

from assets.breaker import breaker_result
from assets.metadata import describe_event, iso, markdown_table
from assets.partitions import STREAM_DAYS
from obrecon_pipeline.book_schema import FIELDS, to_cells
from obrecon_pipeline.events import scales
from obrecon_pipeline.integrity.crossed import CONTINUOUS, classify_crossed
from obrecon_pipeline.integrity.reference import match_reference
from resources import IntegrityThresholds


@dg.asset_check(
    asset="book",
    partitions_def=STREAM_DAYS,
    additional_ins={"events": dg.AssetIn("events")},
    description="No crossed book during continuous trading (a legitimate pre-open cross is reported, not failed)",
    blocking=True,
)
def no_crossed_book(context: dg.AssetCheckExecutionContext, book: pl.DataFrame, events: pl.DataFrame) -> dg.AssetCheckResult:
    crossed = classify_crossed(book, events)
    summary = crossed.as_report()
    continuous = crossed.rows.filter(pl.col("kind") == CONTINUOUS)
    metadata: dict = {
        "crossed_rows": summary["crossed_rows_classified"],
        "crossed_rows_pre_open": summary["crossed_rows_pre_open"],
        "crossed_rows_continuous": summary["crossed_rows_continuous"],
        "locked_rows": summary["locked_rows"],
        "rows_checked": book.height,
    }
    if crossed.rows.height:
        first = crossed.rows.row(0, named=True)
        metadata["first_crossed_seq"] = int(first["seq"])
        metadata["first_crossed_time"] = iso(first["ts_event"])
        metadata["first_crossed_message"] = describe_event(events, int(first["seq"]))
        metadata["episodes"] = dg.MetadataValue.md(
            markdown_table(crossed.episodes.drop("first_ts", "last_ts").with_columns(
                pl.Series("start", [iso(t) for t in crossed.episodes["first_ts"]])))
        )
    if continuous.height:
        first = continuous.row(0, named=True)
        metadata["first_continuous_cross_seq"] = int(first["seq"])
        metadata["first_continuous_cross_time"] = iso(first["ts_event"])
        metadata["first_continuous_cross_message"] = describe_event(events, int(first["seq"]))
    first_bad = None
    if continuous.height:
        first_bad = f"seq {metadata['first_continuous_cross_seq']} after raw {metadata['first_continuous_cross_message']}"
    return breaker_result(context, "no_crossed_book", continuous.height == 0, metadata, continuous.height, 0, first_bad)


@dg.asset_check(
    asset="book",
    partitions_def=STREAM_DAYS,
    additional_ins={"reference_book": dg.AssetIn("reference_book"), "events": dg.AssetIn("events")},
    description="Cells that match the venue's own book / cells compared, at or above the threshold",
    blocking=True,
)
def reference_match(
    context: dg.AssetCheckExecutionContext,
    book: pl.DataFrame,
    reference_book: pl.DataFrame,
    events: pl.DataFrame,
    integrity_thresholds: IntegrityThresholds,
) -> dg.AssetCheckResult:
    threshold = integrity_thresholds.min_match_rate
    if reference_book.height == 0:
        return dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description="not applicable: this feed ships no reference book",
            metadata={"cells_compared": 0, "threshold": threshold},
        )
    price_scale, size_scale = scales(events)
    ours = to_cells(book, price_scale, size_scale)
    theirs = to_cells(reference_book.sort("seq"), price_scale, size_scale)
    match = match_reference(ours, book["seq"].to_numpy(), theirs)
    metadata: dict = {
        "match_rate": dg.MetadataValue.float(match.match_rate),
        "threshold": dg.MetadataValue.float(threshold),
        "cells_compared": match.cells_compared,
        "cells_matched": match.cells_matched,
        "mismatched_rows": match.mismatched_rows,
        "levels_compared": match.levels_compared,
    }
    first_bad = None
    if match.first_mismatch_row is not None:
        row = match.first_mismatch_row
        seq = int(book["seq"][row])
        metadata["first_mismatch_row"] = row
        metadata["first_mismatch_column"] = match.first_mismatch_column
        metadata["first_mismatch_time"] = iso(book["ts_event"][row])
        metadata["first_mismatch_message"] = describe_event(events, seq)
        level = int(match.first_mismatch_column.rsplit("_", 1)[1])
        columns = [f"{f}_{level}" for f in FIELDS]
        side_by_side = pl.concat(
            [
                book[row].select(columns).with_columns(pl.lit("reconstructed").alias("book")),
                reference_book.filter(pl.col("seq") == seq).select(columns).with_columns(pl.lit("reference").alias("book")),
            ]
        ).select(["book", *columns])
        metadata["first_mismatch_level"] = dg.MetadataValue.md(markdown_table(side_by_side))
        first_bad = f"book row {row} ({match.first_mismatch_column}) after raw {metadata['first_mismatch_message']}"
    return breaker_result(context, "reference_match", match.match_rate >= threshold, metadata,
                          dg.MetadataValue.float(match.match_rate), dg.MetadataValue.float(threshold), first_bad)
