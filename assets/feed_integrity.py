"""Feed-integrity asset checks, per partition: sequence gaps, duplicates, reordering, venue
checksums, top-of-book tickers (``feed_integrity``) and the share of quarantined input
(``quarantine_rate``), with the first offending row in the metadata.

The counters come from the partition's ``report`` asset (its ``report.json``, built by the same
replay): the feed's sequencer (``gaps``, ``duplicates``, ``reordered``, ``gap_list``), the replayer
(``checksum_ok``, ``checksum_failed``, ``first_checksum_failure``, ``resyncs``, ``invalid_rows``) and
the parser's quarantine, and the venue's top-of-book tickers against the rebuilt book
(``ticker_reference``: Binance ``bookTicker`` at the diff it belongs to).

``feed_integrity`` fails on a sequence gap the feed never resynced from (no valid book row between
the gap and the next gap or the end of the day: the rest of the book is unverified), on a failed
venue checksum and on a ticker that disagrees with the rebuilt top of book. A gap followed by a
snapshot that restored the book is counted (``resynced_gaps``) and passes: the stretch in between
is flagged ``book_valid = false`` row by row. Duplicates and reordered messages are repaired by the
sequencer and only reported.

``quarantine_rate`` fails when quarantined input records / (quarantined + events) exceeds
``integrity_thresholds.max_quarantine_rate``. Both are blocking with severity ERROR
(:mod:`assets.breaker`).
"""

import dagster as dg
import numpy as np
import polars as pl

from assets.breaker import blocking_check, breaker_result
from assets.metadata import describe_event, iso
from resources import IntegrityThresholds
from resources.warehouse import WarehouseIOManager

COUNTERS = ("gaps", "duplicates", "reordered", "checksum_ok", "checksum_failed", "resyncs", "quarantined",
            "invalid_rows", "rows")


def unresynced(gap_rows: list[int], book_valid: np.ndarray) -> list[bool]:
    """For each gap (its book row, ascending): True when no book row after it and before the next
    gap (or the end) is valid, i.e. the feed never resynced from it."""
    n = len(book_valid)
    # next_valid[i]: the first valid row at or after i (n if none)
    idx = np.where(book_valid, np.arange(n), n)
    next_valid = np.append(np.minimum.accumulate(idx[::-1])[::-1], n)
    ends = [*gap_rows[1:], n]
    return [int(next_valid[min(r + 1, n)]) >= end for r, end in zip(gap_rows, ends)]


@blocking_check(
    "No sequence gap without a resync, no failed venue checksum, no top-of-book ticker that disagrees",
    "events")
def feed_integrity(context: dg.AssetCheckExecutionContext, book: pl.LazyFrame, report: dict,
                   events: pl.LazyFrame, io_manager: dg.ResourceParam[WarehouseIOManager]) -> dg.AssetCheckResult:
    metadata: dict = {k: int(report.get(k, 0)) for k in COUNTERS}
    gaps = report.get("gap_list") or []
    open_gaps = []
    if gaps:  # only then is the day's book_valid read (its temporaries are 1.2 GB at 50 M rows)
        valid = book.select("book_valid").collect()["book_valid"].to_numpy()
        open_gaps = [g for g, bad in zip(gaps, unresynced([int(g["row"]) for g in gaps], valid)) if bad]
    metadata["unresynced_gaps"] = len(open_gaps)
    metadata["resynced_gaps"] = len(gaps) - len(open_gaps)
    first_bad = None
    if gaps:
        first = gaps[0]
        metadata["first_gap_row"] = int(first["row"])
        metadata["first_gap_time"] = iso(first["ts_recv"])
        metadata["first_gap_line"] = f"{first['file']}, row {first['src_row']}"
        metadata["first_gap_ids"] = f"expected {first['expected']}, received {first['received']}"
    if open_gaps:
        first = open_gaps[0]
        first_bad = (f"book row {first['row']}: gap, expected {first['expected']}, received {first['received']} "
                     f"({first['file']}, row {first['src_row']}, {iso(first['ts_recv'])})")
    failure = report.get("first_checksum_failure")
    if failure:
        metadata["first_checksum_failure_time"] = iso(failure["ts_event"])
        event = int(failure["event"])
        metadata["first_checksum_failure_message"] = describe_event(events.slice(event, 1).collect(), 0)
        metadata["first_checksum_failure_row"] = int(
            book.select(pl.col("seq")).with_row_index().filter(pl.col("seq") == event).select("index").first()
            .collect().item())
        if first_bad is None:
            first_bad = (f"book row {metadata['first_checksum_failure_row']}: checksum mismatch after raw "
                         f"{metadata['first_checksum_failure_message']}")
    tickers = report.get("ticker_reference")
    if tickers is not None:
        metadata["tickers_compared"], metadata["tickers_disagreeing"] = tickers["compared"], tickers["disagree"]
        first = tickers["first_disagreement"]
        if first:
            metadata["first_ticker_disagreement_line"] = f"{first['file']}, row {first['src_row']}"
            metadata["first_ticker_disagreement_time"] = iso(first["ts_recv"])
            metadata["first_ticker_disagreement_row"] = int(first["row"])
            metadata["first_ticker_disagreement"] = dg.MetadataValue.json({"ours": first["ours"], "theirs": first["theirs"]})
            if first_bad is None:
                first_bad = (f"book row {first['row']}: bookTicker at {first['file']}, row {first['src_row']} "
                             f"disagrees with the rebuilt top of book")
    if report.get("quarantined") and report.get("quarantine_first"):
        metadata["first_quarantined"] = report["quarantine_first"]
    faults = metadata["unresynced_gaps"] + metadata["checksum_failed"] + metadata.get("tickers_disagreeing", 0)
    return breaker_result(context, io_manager, "feed_integrity", faults == 0, metadata, faults, 0, first_bad)


@blocking_check("Quarantined input records / (quarantined + events) at or below the threshold")
def quarantine_rate(
    context: dg.AssetCheckExecutionContext, report: dict, integrity_thresholds: IntegrityThresholds,
    io_manager: dg.ResourceParam[WarehouseIOManager],
) -> dg.AssetCheckResult:
    quarantined, events = int(report.get("quarantined", 0)), int(report.get("events", 0))
    rate = quarantined / (quarantined + events) if quarantined + events else 0.0
    threshold = integrity_thresholds.max_quarantine_rate
    metadata = {"quarantined": quarantined, "events": events}
    first = report.get("quarantine_first") if quarantined else None
    return breaker_result(context, io_manager, "quarantine_rate", rate <= threshold, metadata, dg.MetadataValue.float(rate),
                          dg.MetadataValue.float(threshold), first)
