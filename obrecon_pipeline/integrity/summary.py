"""The integrity part of ``report.json`` for any replayed stream: located failures and crossed books.

Failures come from the replayer (:attr:`ReplayResult.integrity`: negative size, unknown or
duplicate order id, a ``BAD_BOOK`` flag). A ``BAD_BOOK`` flag that a parser set because the
event's sequence number went backwards (:func:`~obrecon_pipeline.feeds.channel_sequence.regression_mask`)
is reported as ``sequence_regression``; any other ``BAD_BOOK`` flag is the venue's own
(``venue_bad_book``). Every failure keeps ``book_valid`` false until the next clear + snapshot.
"""

from __future__ import annotations

import polars as pl

from obrecon_pipeline.codes import IntegrityKind
from obrecon_pipeline.feeds.channel_sequence import regression_mask
from obrecon_pipeline.integrity.crossed import CrossedBooks, classify_crossed
from obrecon_pipeline.replay import ReplayResult

#: the ``integrity_<kind>`` counters of report.json
REPORTED_KINDS = tuple(kind.label for kind in IntegrityKind)



def located_failures(events: pl.DataFrame, result: ReplayResult) -> pl.DataFrame:
    """One row per failing event: event, src_row, ts_event, update_id, kind."""
    table = result.integrity
    if table is None or table.height == 0:
        return pl.DataFrame(
            schema={"event": pl.Int64, "src_row": pl.Int64, "ts_event": pl.Int64, "update_id": pl.Int64, "kind": pl.String}
        )
    regressed = regression_mask(events).gather(table["event"])
    return table.with_columns(
        pl.when((pl.col("kind") == "venue_bad_book") & regressed)
        .then(pl.lit("sequence_regression"))
        .otherwise(pl.col("kind"))
        .alias("kind")
    )


def integrity_report(events: pl.DataFrame, result: ReplayResult) -> tuple[dict, CrossedBooks]:
    """report.json extension keys, and the crossed-book classification behind them."""
    failures = located_failures(events, result)
    crossed = classify_crossed(result.book, events)
    report = {
        "integrity_failure_events": failures.height,
        **{f"integrity_{kind}": failures.filter(pl.col("kind") == kind).height for kind in REPORTED_KINDS},
        "integrity_failure_list": failures.to_dicts(),
        **crossed.as_report(),
    }
    return report, crossed
