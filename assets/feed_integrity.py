"""Feed-integrity asset check, per partition: sequence gaps, duplicates, reordering, venue
checksums and quarantined lines, with the first offending row in the metadata.

The counters come from the partition's ``report`` asset (its ``report.json``, built by the same
replay): the feed's sequencer (``gaps``, ``duplicates``, ``reordered``, ``gap_list``), the replayer
(``checksum_ok``, ``checksum_failed``, ``first_checksum_failure``, ``resyncs``, ``invalid_rows``) and
the parser's quarantine. The check fails on a gap, a checksum mismatch or a quarantined line:
each of them leaves part of the book unverified. Duplicates and reordered messages are repaired
by the sequencer and only reported.
"""

import dagster as dg
import polars as pl

from assets.metadata import describe_event, iso
from assets.partitions import STREAM_DAYS

COUNTERS = ("gaps", "duplicates", "reordered", "checksum_ok", "checksum_failed", "resyncs", "quarantined",
            "invalid_rows", "rows")


@dg.asset_check(
    asset="book",
    partitions_def=STREAM_DAYS,
    additional_ins={"report": dg.AssetIn("report"), "events": dg.AssetIn("events")},
    description="No sequence gap, no failed venue checksum, no quarantined input line",
)
def feed_integrity(book: pl.LazyFrame, report: dict, events: pl.LazyFrame) -> dg.AssetCheckResult:
    metadata: dict = {k: int(report.get(k, 0)) for k in COUNTERS}
    gaps = report.get("gap_list") or []
    if gaps:
        first = gaps[0]
        metadata["first_gap_row"] = int(first["row"])
        metadata["first_gap_time"] = iso(first["ts_recv"])
        metadata["first_gap_line"] = f"{first['file']}, row {first['src_row']}"
        metadata["first_gap_ids"] = f"expected {first['expected']}, received {first['received']}"
    failure = report.get("first_checksum_failure")
    if failure:
        metadata["first_checksum_failure_time"] = iso(failure["ts_event"])
        event = int(failure["event"])
        metadata["first_checksum_failure_message"] = describe_event(events.slice(event, 1).collect(), 0)
        metadata["first_checksum_failure_row"] = int(
            book.select(pl.col("seq")).with_row_index().filter(pl.col("seq") == event).select("index").first()
            .collect().item())
    if report.get("quarantined"):
        q = report.get("quarantine_first")
        if q:
            metadata["first_quarantined"] = q
    passed = metadata["gaps"] == 0 and metadata["checksum_failed"] == 0 and metadata["quarantined"] == 0
    return dg.AssetCheckResult(passed=passed, metadata=metadata)
