"""The snapshot-drift verdict (:mod:`obrecon_pipeline.integrity.drift`) on the counters the replayer
reports for shipped captures: bitFlyer FX_BTC_JPY 1 of 5 snapshots agree, Huobi spot and a
LOBSTER day have none judged."""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import from_files, load
from obrecon_pipeline.integrity.drift import SnapshotDrift
from obrecon_pipeline.replay import replay
from tests.conftest import RAW


def _drift(ws, symbol: str) -> SnapshotDrift:
    (stream,) = [s for s in from_files([ws]) if s.symbol == symbol]
    loaded = load(stream)
    return SnapshotDrift.from_report(replay(loaded.events, 10, loaded.options).counters["snapshot_drift"])


def test_bitflyer_agreement_is_one_in_five():
    drift = _drift(RAW / "cryptofeed" / "2021-12-12" / "BITFLYER.ws.1.0.gz", "FX_BTC_JPY")
    assert (drift.compared, drift.agree, drift.disagree, drift.agreement) == (5, 1, 4, 0.2)
    assert (drift.passed(1.0), drift.passed(0.2), drift.reason()) == (False, True, "")
    assert (drift.first["row"], drift.first["level"], drift.first["side"]) == (36, 2, "bid")


def test_streams_without_a_judged_snapshot_are_not_judged():
    drift = _drift(RAW / "cryptofeed" / "2021-04-17" / "HUOBI.ws.44.0.gz", "trioeth")
    assert (drift.judged, drift.agreement, drift.passed(1.0)) == (False, None, None)
    assert drift.reason() == "no snapshot comparable with the rebuilt book (25 at another update id, 0 right after a snapshot)"
    assert SnapshotDrift.from_report(None).reason() == "no mid-stream snapshot"
