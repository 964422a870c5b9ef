"""Feed-integrity asset check, per partition: sequence gaps, duplicates, reordering, venue
checksums, top-of-book tickers and quarantined lines, with the first offending row in the metadata.

The counters come from the partition's ``report.json`` (written by ``reconstruct`` in the same
run): the feed's sequencer (``gaps``, ``duplicates``, ``reordered``, ``gap_list``), the replayer
(``checksum_ok``, ``checksum_failed``, ``first_checksum_failure``, ``resyncs``, ``invalid_rows``) and
the parser's quarantine, and the venue's top-of-book tickers against the rebuilt book
(``ticker_reference``: Binance ``bookTicker`` at the diff it belongs to). The check fails on a gap,
a checksum mismatch, a ticker that disagrees or a quarantined line: each of them leaves part of the
book unverified or shows it wrong. Duplicates and reordered messages are repaired
by the sequencer and only reported.
"""

import dagster as dg
import polars as pl

from assets.metadata import describe_event, iso
from assets.partitions import STREAM_DAYS, stream_day_id
from resources import LandingZone

COUNTERS = ("gaps", "duplicates", "reordered", "checksum_ok", "checksum_failed", "resyncs", "quarantined",
            "invalid_rows", "rows")


@dg.asset_check(
    asset="book",
    partitions_def=STREAM_DAYS,
    additional_ins={"events": dg.AssetIn("events")},
    description="No sequence gap, no failed venue checksum, no quarantined input line",
)
def feed_integrity(
    context: dg.AssetCheckExecutionContext, book: pl.DataFrame, events: pl.DataFrame, landing_zone: LandingZone
) -> dg.AssetCheckResult:
    report = landing_zone.read_report(stream_day_id(context.partition_key, landing_zone.raw))
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
        metadata["first_checksum_failure_message"] = describe_event(events, int(failure["event"]))
        metadata["first_checksum_failure_row"] = int((book["seq"] == int(failure["event"])).arg_max())
    tickers = report.get("ticker_reference")
    if tickers is not None:
        metadata["tickers_compared"], metadata["tickers_disagreeing"] = tickers["compared"], tickers["disagree"]
        first = tickers["first_disagreement"]
        if first:
            metadata["first_ticker_disagreement_line"] = f"{first['file']}, row {first['src_row']}"
            metadata["first_ticker_disagreement_time"] = iso(first["ts_recv"])
            metadata["first_ticker_disagreement_row"] = int(first["row"])
            metadata["first_ticker_disagreement"] = dg.MetadataValue.json({"ours": first["ours"], "theirs": first["theirs"]})
    if report.get("quarantined"):
        q = report.get("quarantine_first")
        if q:
            metadata["first_quarantined"] = q
    passed = (metadata["gaps"] == 0 and metadata["checksum_failed"] == 0 and metadata["quarantined"] == 0
              and metadata.get("tickers_disagreeing", 0) == 0)
    return dg.AssetCheckResult(passed=passed, metadata=metadata)
