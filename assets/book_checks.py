"""Book-integrity asset checks, per partition: crossed book and the match against the reference.

Both judge what the replay measured as it ran (the partition's ``report`` asset, ``report.json``)
and read only the few rows they show from the Parquet tables. Both put the numbers a person needs in
the metadata: counts, the first offending row with its time and the raw message behind it, and a
small table. Both are blocking with severity ERROR (the circuit breaker, :mod:`assets.breaker`): a
failure keeps the partition's fidelity and feature assets from being computed from the broken book.
"""


import dagster as dg
import polars as pl

from assets.breaker import blocking_check, breaker_result
from assets.metadata import describe_event, iso, markdown_table
from obrecon_pipeline.book_schema import FIELDS
from obrecon_pipeline.integrity.crossed import CONTINUOUS, EPISODE_SCHEMA
from resources import IntegrityThresholds
from resources.warehouse import WarehouseIOManager


def _episode_start(episode: dict, events: pl.LazyFrame) -> dict:
    return {"seq": int(episode["first_seq"]), "time": iso(episode["first_ts"]),
            "message": describe_event(events.slice(int(episode["first_seq"]), 1).collect(), 0)}


@blocking_check(
    "No crossed book during continuous trading (a legitimate pre-open cross is reported, not failed)",
    "events")
def no_crossed_book(context: dg.AssetCheckExecutionContext, book: pl.LazyFrame, report: dict,
                    events: pl.LazyFrame, io_manager: dg.ResourceParam[WarehouseIOManager]) -> dg.AssetCheckResult:
    """Judged from the replay's own classification in ``report.json`` (:mod:`obrecon_pipeline.integrity.crossed`);
    only the rows it names are read from ``events``."""
    metadata: dict = {
        "crossed_rows": report["crossed_rows_classified"],
        "crossed_rows_pre_open": report["crossed_rows_pre_open"],
        "crossed_rows_continuous": report["crossed_rows_continuous"],
        "locked_rows": report["locked_rows"],
        "rows_checked": report["rows"],
    }
    episodes = report["crossed_episode_list"]
    if episodes:
        first = _episode_start(episodes[0], events)
        metadata["first_crossed_seq"], metadata["first_crossed_time"] = first["seq"], first["time"]
        metadata["first_crossed_message"] = first["message"]
        table = pl.DataFrame(episodes, schema=EPISODE_SCHEMA)
        metadata["episodes"] = dg.MetadataValue.md(
            markdown_table(table.drop("first_ts", "last_ts").with_columns(
                pl.Series("start", [iso(t) for t in table["first_ts"]])))
        )
    continuous = [e for e in episodes if e["kind"] == CONTINUOUS]
    first_bad = None
    if continuous:
        first = _episode_start(continuous[0], events)
        metadata["first_continuous_cross_seq"], metadata["first_continuous_cross_time"] = first["seq"], first["time"]
        metadata["first_continuous_cross_message"] = first["message"]
        first_bad = f"seq {first['seq']} after raw {first['message']}"
    n = report["crossed_rows_continuous"]
    return breaker_result(context, io_manager, "no_crossed_book", n == 0, metadata, n, 0, first_bad)


@blocking_check(
    "Cells that match the venue's own book / cells compared, at or above the threshold",
    "reference_book", "events")
def reference_match(
    context: dg.AssetCheckExecutionContext,
    book: pl.LazyFrame,
    report: dict,
    reference_book: pl.LazyFrame,
    events: pl.LazyFrame,
    integrity_thresholds: IntegrityThresholds,
    io_manager: dg.ResourceParam[WarehouseIOManager],
) -> dg.AssetCheckResult:
    """Judged from the replay's chunk-by-chunk match in ``report.json``; the first mismatching row is
    read from the book and the reference for the side-by-side table."""
    threshold = integrity_thresholds.min_match_rate
    match = report["reference"]
    if match is None:
        return dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description="not applicable: this feed ships no reference book",
            metadata={"cells_compared": 0, "threshold": threshold},
        )
    metadata: dict = {
        "match_rate": dg.MetadataValue.float(match["match_rate"]),
        "threshold": dg.MetadataValue.float(threshold),
        "cells_compared": match["cells_compared"],
        "cells_matched": match["cells_matched"],
        "mismatched_rows": match["mismatched_rows"],
        "levels_compared": match["levels_compared"],
    }
    first_bad = None
    if match["first_mismatch_row"] is not None:
        row = match["first_mismatch_row"]
        level = int(match["first_mismatch_column"].rsplit("_", 1)[1])
        columns = [f"{f}_{level}" for f in FIELDS]
        ours = book.slice(row, 1).select("seq", "ts_event", *columns).collect()
        seq = int(ours["seq"][0])
        metadata["first_mismatch_row"] = row
        metadata["first_mismatch_column"] = match["first_mismatch_column"]
        metadata["first_mismatch_time"] = iso(ours["ts_event"][0])
        metadata["first_mismatch_message"] = describe_event(events.slice(seq, 1).collect(), 0)
        side_by_side = pl.concat(
            [
                ours.select(columns).with_columns(pl.lit("reconstructed").alias("book")),
                reference_book.filter(pl.col("seq") == seq).select(columns).collect()
                .with_columns(pl.lit("reference").alias("book")),
            ]
        ).select(["book", *columns])
        metadata["first_mismatch_level"] = dg.MetadataValue.md(markdown_table(side_by_side))
        first_bad = f"book row {row} ({match['first_mismatch_column']}) after raw {metadata['first_mismatch_message']}"
    return breaker_result(context, io_manager, "reference_match", match["match_rate"] >= threshold, metadata,
                          dg.MetadataValue.float(match["match_rate"]), dg.MetadataValue.float(threshold), first_bad)
