"""Snapshot-drift asset check, per partition: did the rebuilt book agree with every mid-stream
snapshot the venue sent, just before the snapshot replaced it?

Free ground truth on feeds without checksums (:mod:`obrecon_pipeline.integrity.drift` states the
rule). The counts come from the partition's ``report.json`` (``snapshot_drift``, written by the
replay in the same run, as for ``feed_integrity``). Severity ERROR, not blocking: a disagreement
means the book was wrong for a stretch before the snapshot repaired it, so the stretch is named
(first row, time, level, side, ours vs theirs, the raw message) and a small table shows both books
around that level. A partition without a judged snapshot is **not judged** (no result: the UI shows
the check skipped, the reason is logged), never a failure.
"""

import dagster as dg
import polars as pl

from assets.metadata import describe_event, iso, markdown_table
from assets.partitions import STREAM_DAYS
from obrecon_pipeline.integrity.drift import SnapshotDrift
from resources import IntegrityThresholds

NAME = "snapshot_drift"
DESCRIPTION = ("Mid-stream venue snapshots that agree with the book rebuilt just before them / snapshots "
               "judged, at or above the threshold")


def _price_size(price, size) -> str:
    """``size @ price`` in full precision (a disagreement may be in the last digit)."""
    return "no level" if price is None else f"{size!r} @ {price!r}"


def side_by_side(book: pl.LazyFrame, first: dict, around: int = 2) -> pl.DataFrame:
    """The disagreeing side of the rebuilt book just before the snapshot (``ours``, row - 1) and of
    the book the snapshot set (``theirs``, its own row), ``around`` levels either side of the first
    disagreeing level."""
    row, side, level = int(first["row"]), first["side"], int(first["level"])
    rows = book.slice(row - 1, 2).collect()
    levels = [k for k in range(max(1, level - around), level + around + 1) if f"{side}_price_{k}" in rows.columns]
    return pl.DataFrame({
        "level": levels,
        "ours_price": [rows[f"{side}_price_{k}"][0] for k in levels],
        "ours_size": [rows[f"{side}_size_{k}"][0] for k in levels],
        "theirs_price": [rows[f"{side}_price_{k}"][1] for k in levels],
        "theirs_size": [rows[f"{side}_size_{k}"][1] for k in levels],
    })


def judge(drift: SnapshotDrift, threshold: float, book: pl.LazyFrame, events: pl.LazyFrame) -> dg.AssetCheckResult:
    """The check's result for a judged partition."""
    metadata: dict = {
        "value": dg.MetadataValue.float(drift.agreement),
        "threshold": dg.MetadataValue.float(threshold),
        "n": drift.compared,
        "snapshots_agree": drift.agree,
        "snapshots_disagree": drift.disagree,
        "snapshots_not_comparable": drift.not_comparable,
        "snapshots_back_to_back": drift.back_to_back,
    }
    first = drift.first
    if first:
        metadata.update({
            "first_disagreement_row": int(first["row"]),
            "first_disagreement_time": iso(first["ts_event"]),
            "first_disagreement_level": int(first["level"]),
            "first_disagreement_side": first["side"],
            "first_disagreement_ours": _price_size(first["ours_price"], first["ours_size"]),
            "first_disagreement_theirs": _price_size(first["theirs_price"], first["theirs_size"]),
            "first_disagreement_message": describe_event(events.slice(int(first["event"]), 1).collect(), 0),
            "first_disagreement_book": dg.MetadataValue.md(markdown_table(side_by_side(book, first))),
        })
    return dg.AssetCheckResult(check_name=NAME, passed=bool(drift.passed(threshold)),
                               severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)


#: the check, on ``book`` (a multi-asset check of one, so that "not judged" can yield no result)
SPEC = dg.AssetCheckSpec(NAME, asset="book", additional_deps=["events", "report"], description=DESCRIPTION,
                         partitions_def=STREAM_DAYS)


@dg.multi_asset_check(specs=[SPEC], ins={"book": dg.AssetIn("book"), "events": dg.AssetIn("events"),
                                          "report": dg.AssetIn("report")}, can_subset=True)
def snapshot_drift(
    context: dg.AssetCheckExecutionContext,
    book: pl.LazyFrame,
    events: pl.LazyFrame,
    report: dict,
    integrity_thresholds: IntegrityThresholds,
):
    """Snapshots judged against the book rebuilt just before them (the replay's ``report``); none
    judged: skipped."""
    drift = SnapshotDrift.from_report(report.get("snapshot_drift"))
    if not drift.judged:
        context.log.info(f"{NAME}: {drift.reason()}: not judged; skipped")
        return
    yield judge(drift, integrity_thresholds.min_snapshot_agreement, book, events)
