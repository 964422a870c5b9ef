"""``report.json``: the counters of one replayed stream (a public contract; keys are only added).

Contract keys (0 where not applicable to the feed): ``events``, ``rows``, ``unknown_cells``,
``reseeds``, ``crossed_rows``, ``gaps``, ``duplicates``, ``reordered``, ``checksum_ok``,
``checksum_failed``, ``resyncs``, ``replay_wall_s``, ``events_per_s``.

Extensions: ``stream``, ``format``, ``files``, ``levels``, ``quarantined``, ``reference`` (the
cell-by-cell match against the feed's aligned reference book, None without one), everything the
parser counted (the source's ``stats()``: gaps, duplicates, time regressions, ...) and everything
the replayer counted (:meth:`obrecon_pipeline.replay.Replayer.counters`: ``locked_rows``,
``integrity_errors``, ``first_integrity_error``, ...), the located integrity failures
(``integrity_failure_events``, ``integrity_<kind>`` per :class:`~obrecon_pipeline.codes.IntegrityKind`,
``integrity_failure_list`` — the first ones, the counts complete), the crossed-book classification
(``crossed_rows_pre_open``, ``crossed_rows_continuous``, ``crossed_episode_list``, ...) and
``snapshot_drift`` (mid-stream snapshots against the book rebuilt just before them) and, for feeds
with top-of-book tickers (Binance ``bookTicker``), ``ticker_reference``
(:mod:`obrecon_pipeline.integrity.tickers`).
"""

from __future__ import annotations

import polars as pl

from obrecon_pipeline.codes import IntegrityKind
from obrecon_pipeline.streams import Stream

CONTRACT_KEYS = (
    "events", "rows", "unknown_cells", "reseeds", "crossed_rows", "gaps", "duplicates",
    "reordered", "checksum_ok", "checksum_failed", "resyncs", "replay_wall_s", "events_per_s",
)


def integrity_summary(counters: dict, failures: pl.DataFrame) -> dict:
    """The integrity keys of the report from the replayer's counters and located failures."""
    by_kind = counters["integrity_error_kinds"]
    return {
        "integrity_failure_events": sum(by_kind.values()),
        **{f"integrity_{kind.label}": by_kind[kind.label] for kind in IntegrityKind},
        "integrity_failure_list": failures.to_dicts(),
        **counters["crossed_books"],
        "snapshot_drift": counters["snapshot_drift"],
    }


def build_report(fmt: str, stream: Stream, stats: dict, quarantined: int, counters: dict,
                 failures: pl.DataFrame, levels: int) -> dict:
    """The whole report of a stream: contract keys first, then the extensions."""
    report: dict = {key: 0 for key in CONTRACT_KEYS}
    report.update(stats)
    report.update({k: v for k, v in counters.items() if k not in ("reference", "crossed_books", "snapshot_drift")})
    report.update(integrity_summary(counters, failures))
    report["stream"] = stream.partition_key
    report["format"] = fmt
    report["files"] = [str(f) for f in stream.files]
    report["levels"] = levels
    report["quarantined"] = quarantined
    report["reference"] = counters["reference"]
    return report
