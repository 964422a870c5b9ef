"""``report.json`` as :mod:`obrecon_pipeline.report` builds it from a real replay's counters: the
contract keys first and in order, the parser's statistics, the replayer's counters, one
``integrity_<kind>`` per kind with the located failures, the crossed-book and snapshot-drift
summaries, and the stream's identity. On the shipped AAPL level-10 cut (clean, matched against
LOBSTER's own book) and on Binance NKNUSDT with its depth diff 60 dropped (made here)."""

from __future__ import annotations

import gzip
import json
import shutil

from obrecon_pipeline.codes import IntegrityKind
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.pipeline import replay_stream
from obrecon_pipeline.replay import replay
from obrecon_pipeline.report import CONTRACT_KEYS, build_report
from tests.conftest import LOBSTER_DAY, RAW


def _stream(fmt, day_dir, day, name):
    (stream,) = [s for s in get_feed(fmt).discover(day_dir, day) if s.name == name]
    return stream


def test_a_clean_lobster_report():
    stream = _stream("lobster", LOBSTER_DAY, "2012-06-21", "AAPL-L10")
    loaded = get_feed("lobster").load(stream)
    result = replay(loaded.events, 10, loaded.options, reference=loaded.reference, seed=loaded.seed)
    report = build_report("lobster", stream, loaded.stats, 0, result.counters, result.integrity, 10)
    assert tuple(report)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert (report["events"], report["rows"], report["gaps"], report["checksum_ok"]) == (999, 999, 0, 0)
    assert {f"integrity_{k.label}" for k in IntegrityKind} <= set(report)
    assert report["integrity_failure_events"] == 0 and report["integrity_failure_list"] == []
    assert report["snapshot_drift"]["snapshots_compared"] == 0
    assert report["reference"] == {
        "rows_compared": 999, "levels_compared": 10, "cells_compared": 39_960, "cells_matched": 39_960,
        "unknown_cells": 0, "mismatched_rows": 0, "first_mismatch_row": None, "first_mismatch_column": None,
        "match_rate": 1.0}
    assert "crossed_books" not in report and report["crossed_rows_continuous"] == 0
    assert (report["stream"], report["format"], report["levels"], report["quarantined"]) == (
        "lobster/AAPL-L10/2012-06-21", "lobster", 10, 0)
    assert report["files"] == [str(f) for f in stream.files]
    json.dumps(report)  # every value is JSON
    # the same report as the pipeline writes, but for the timings
    timing = ("replay_wall_s", "events_per_s")
    piped = replay_stream("lobster", loaded, 10).report
    assert {k: v for k, v in report.items() if k not in timing} == {k: v for k, v in piped.items() if k not in timing}


def test_a_lost_binance_diff_is_counted_and_located(tmp_path):
    day = RAW / "cryptofeed" / "2021-10-12"
    shutil.copy(day / "BINANCE.http.0.0.gz", tmp_path)
    with gzip.open(day / "BINANCE.ws.1.0.gz", "rt") as fh:
        ws = fh.read().splitlines(keepends=True)
    del ws[[i for i, t in enumerate(ws) if '"nknusdt@depth@100ms"' in t][60]]
    (tmp_path / "BINANCE.ws.1.0").write_text("".join(ws))
    stream = _stream("cryptofeed", tmp_path, "2021-10-12", "BINANCE-NKNUSDT")
    report = replay_stream("cryptofeed", get_feed("cryptofeed").load(stream), 10).report
    assert (report["gaps"], report["resyncs"], report["reference"]) == (1, 0, None)
    # the replayer does not trust the book from the gap on: one failure, located
    assert report["integrity_failure_events"] == report["integrity_venue_bad_book"] == 1
    assert sum(report[f"integrity_{k.label}"] for k in IntegrityKind) == 1
    assert report["integrity_failure_list"] == [
        {"event": 1766, "src_row": 112, "ts_event": 1633998523973000000, "update_id": None, "kind": "venue_bad_book"}]
    assert report["first_integrity_error"] == {"event": 1766, "ts_event": 1633998523973000000, "src_row": 112,
                                               "kind": "venue_bad_book"}
