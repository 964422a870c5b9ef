"""The Replayer's interface: single events, rescaling, limits, errors, and the whole-day analyses it
now does in its loop (reference match, crossed episodes) against the whole-day functions they
replace (``integrity.reference.match_reference``, ``integrity.crossed.classify_crossed``)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import replay_cases as cases
from obrecon_pipeline.codes import NULL_ID
from obrecon_pipeline.errors import ReplayError
from obrecon_pipeline.events import Action, Flag, Side, conform, scales
from obrecon_pipeline.integrity.crossed import EPISODE_SCHEMA, classify_crossed
from obrecon_pipeline.integrity.reference import match_reference
from obrecon_pipeline.replay import Replayer, event_columns, replay
from obrecon_pipeline.replay._replayer import EPISODE_KEYS
from obrecon_pipeline.streams import ReplayOptions

END = int(Flag.END_OF_MESSAGE)


def one_by_one(case) -> tuple[np.ndarray, Replayer]:
    """Every event of a case through ``apply_one``; the rows it emitted."""
    ref = case.kwargs.get("reference")
    r = cases.replayer_for(case)
    n = case.events.height
    action, side, price, size, order_id, flags, checksum, src_row, ts, update_id = (
        np.full(n, absent, dtype=np.int64) if col is None else col
        for col, absent in zip(event_columns(case.events), (0, 0, 0, 0, 0, 0, NULL_ID, 0, 0, NULL_ID)))
    rows = []
    for i in range(case.events.height):
        if r.apply_one(action[i], side[i], price[i], size[i], order_id[i], flags[i], checksum[i], ts[i],
                       None if ref is None else ref[i], update_id=update_id[i], src_row=src_row[i]):
            rows.append(r.last_row.copy())
    return np.array(rows), r


@pytest.mark.parametrize("make", [
    lambda tmp: cases.lobster("AAPL_2012-06-21_34200000_57600000_message_10.csv.gz"),
    lambda tmp: cases.kraken_checksum_failures_and_resync(tmp),
    lambda tmp: cases.databento(),
], ids=["lobster-reseeded", "kraken-checksum-failures", "databento"])
def test_apply_one_equals_apply(make, tmp_path):
    case = make(tmp_path)
    whole = replay(case.events, case.levels, case.options, **case.kwargs)
    rows, r = one_by_one(case)
    assert np.array_equal(rows, whole.cells)
    assert cases.without_wall_time(r.counters()) == cases.without_wall_time(whole.counters)
    assert r.integrity_failures().equals(whole.integrity)


@pytest.mark.parametrize("strict", [True, False])
def test_an_add_of_a_resting_id_is_a_duplicate_only_on_a_strict_feed_and_the_later_add_wins(strict):
    """ADD 7 (bid 1.00 x 5), ADD 7 again (bid 1.01 x 3), DELETE 7: the second add is a duplicate
    order id (an integrity failure at event 1) when ids are strict; either way both adds are in
    the book and the delete takes the id's latest order (1.01 x 3), leaving 1.00 x 5."""
    r = Replayer(2, ReplayOptions(strict_orders=strict), price_scale=1, size_scale=1,
                 max_failures=10, max_episodes=10)
    rows = []
    for i, (action, price, size) in enumerate([(Action.ADD, 100, 5), (Action.ADD, 101, 3), (Action.DELETE, 101, 3)]):
        assert r.apply_one(action, int(Side.BID), price, size, order_id=7, ts_event=10 + i, src_row=i + 1)
        rows.append(r.last_row[:2].tolist())
    assert rows == [[100, 5], [101, 3], [100, 5]]
    assert r.counters()["integrity_error_kinds"]["duplicate_order_id"] == (1 if strict else 0)
    expected = [{"event": 1, "src_row": 2, "ts_event": 11, "update_id": None, "kind": "duplicate_order_id"}]
    assert r.integrity_failures().to_dicts() == (expected if strict else [])


# ---------------------------------------------------------------------------- in-loop analyses
def test_reference_match_equals_match_reference_including_mismatches():
    case = cases.lobster("LOBSTER_SampleFile_GOOG_2012-06-21_5.zip")
    ref = case.kwargs["reference"].copy()
    ref[1000, 6] += 1  # level 2 ask price of the book after event 1,000
    ref[2000:2003, 1] = 0  # level 1 bid size of three rows
    found = {}
    for reseed in (True, False):
        res = replay(case.events, case.levels, case.options, reference=ref, seed=True, reseed=reseed)
        found[reseed] = match_reference(res.cells, res.row_event, ref).to_dict()
        assert res.counters["reference"] == found[reseed]
    seeded, blind = found[True], found[False]
    assert (seeded["first_mismatch_row"], seeded["first_mismatch_column"], seeded["mismatched_rows"]) == (
        1000, "ask_price_2", 1 + 3)
    assert (seeded["cells_compared"] - seeded["cells_matched"], seeded["unknown_cells"]) == (4, 0)
    # without re-seeds those cells are unknown: not compared, so nothing mismatches
    assert (blind["unknown_cells"], blind["mismatched_rows"], blind["first_mismatch_row"]) == (2_125_272, 0, None)


def book_events(rows: list[tuple[int, int, int, list[int]]]) -> pl.DataFrame:
    """Events whose books are the rows of tests/integrity/test_crossed.py: for each ``(seq, bid, ask,
    trades)`` the book is set to ``bid`` / ``ask`` (one level each) at event ``seq``; the trades
    are TRADE events before it, by arrival."""
    out = []
    for seq, bid, ask, trades in rows:
        while len(out) < seq:
            out.append((Action.TRADE if len(out) in trades else Action.HALT, 0, 0, 0, 0))
        out.append((Action.CLEAR, 0, 0, 0, 0))
        for side, price in ((1, bid), (-1, ask)):
            if price:
                out.append((Action.SET_LEVEL, side, price, 1, 0))
    n = len(out)
    cols = list(zip(*out))
    return conform(pl.DataFrame({
        "ts_event": np.arange(n) * 1_000, "arrival": np.arange(n), "src_row": np.arange(1, n + 1),
        "action": pl.Series(cols[0], dtype=pl.Int8), "side": pl.Series(cols[1], dtype=pl.Int8),
        "price": pl.Series(cols[2], dtype=pl.Int64), "size": pl.Series(cols[3], dtype=pl.Int64),
        "order_id": pl.Series(cols[4], dtype=pl.UInt64),
        "flags": pl.Series([END] * n, dtype=pl.UInt8), "price_scale": [1] * n, "size_scale": [1] * n,
    }))


@pytest.mark.parametrize("trades", [[], [5], [3, 5], [9], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]])
def test_crossed_episodes_online_equal_classify_crossed(trades):
    # crossed, crossed, uncrossed, locked, crossed, crossed at the end (never uncrossed)
    events = book_events([(0, 99, 100, trades), (3, 101, 100, trades), (6, 101, 99, trades), (9, 99, 100, trades),
                          (12, 100, 100, trades), (15, 102, 101, trades), (18, 103, 101, trades)])
    for emit in ("event", "message"):
        res = replay(events, 1, ReplayOptions(emit=emit))
        assert res.counters["crossed_books"] == classify_crossed(res.book, events).as_report()


def test_crossed_episodes_on_esh4_equal_classify_crossed():
    case = cases.databento()
    res = replay(case.events, case.levels, case.options)
    assert res.counters["crossed_books"] == classify_crossed(res.book, case.events).as_report()
    assert list(EPISODE_KEYS) == list(EPISODE_SCHEMA)


def test_limits_keep_the_first_records_and_complete_counts(tmp_path):
    case = cases.okx_lost_update(tmp_path)
    full = replay(case.events, case.levels, case.options)
    r = Replayer(case.levels, case.options, price_scale=scales(case.events)[0], size_scale=scales(case.events)[1],
                 max_failures=3)
    r.apply(case.events)
    assert r.integrity_failures().equals(full.integrity.head(3))
    assert r.counters()["integrity_error_kinds"] == full.counters["integrity_error_kinds"]
    assert full.integrity.height == 56 and full.counters["integrity_error_kinds"]["checksum_mismatch"] == 56
    events = book_events([(0, 101, 100, []), (3, 99, 100, []), (6, 101, 100, []), (9, 99, 100, [])])
    r = Replayer(1, ReplayOptions(), max_episodes=1)
    r.apply(events)
    crossed = r.crossed_books()
    assert crossed["crossed_episodes"] == 2 and len(crossed["crossed_episode_list"]) == 1


def test_rescale_mid_stream_equals_the_finer_scale_from_the_start():
    """OKX BTC-USDT (canonical decimals, so checksums do not depend on the scale): half the stream at
    its scale, then ten times finer prices and sizes; the rows after the rescale are those of the
    whole stream replayed at the finer scale, and every checksum still verifies."""
    case = cases.cryptofeed([cases.OKX], "BTC-USDT", levels=25)
    price_scale, size_scale = scales(case.events)
    finer = case.events.with_columns(pl.col("price") * 10, pl.col("size") * 10, pl.col("price_scale") * 10,
                                     pl.col("size_scale") * 10)
    whole = replay(finer, 25, case.options)
    half = int(np.flatnonzero(case.events["flags"].to_numpy() & END)[50]) + 1
    r = Replayer(25, case.options, price_scale=price_scale, size_scale=size_scale)
    first = r.apply(case.events.head(half)).rows
    r.rescale(10, 10)
    assert r.scales == (price_scale * 10, size_scale * 10)
    block = r.apply(finer.slice(half))
    assert np.array_equal(block.cells, whole.cells[first:])
    assert (r.counters()["checksum_ok"], r.counters()["checksum_failed"]) == (98, 0)
    with pytest.raises(ReplayError, match="overflows"):
        r.rescale(10**18, 1)


def test_bad_arguments_are_replay_errors():
    options = ReplayOptions()
    events = book_events([(0, 99, 100, [])])
    with pytest.raises(ReplayError, match="levels must be >= 1"):
        Replayer(0, options)
    with pytest.raises(ReplayError, match="emit must be"):
        Replayer(1, ReplayOptions(emit="row"))
    r = Replayer(1, options)
    with pytest.raises(ReplayError, match="a reference needs"):
        r.apply(events, np.zeros((events.height, 4), dtype=np.int64))
    r.apply(events)
    with pytest.raises(ReplayError, match=r"chunk covers arrival 0\.\.2, the replayer is at event 3"):
        r.apply(events)
    r = Replayer(1, options, reference_depth=2)
    with pytest.raises(ReplayError, match="reference has shape"):
        r.apply(events, np.zeros((events.height, 4), dtype=np.int64))
    with pytest.raises(ReplayError, match="a reference row must be 8 contiguous int64 cells"):
        r.apply_one(Action.SET_LEVEL, 1, 100, 5, reference_row=np.zeros(8))  # float64
    with pytest.raises(ReplayError, match="seeding needs a reference"):
        replay(events, 1, options, seed=True)


def test_a_live_event_shows_in_last_row():
    r = Replayer(2, ReplayOptions())
    assert r.apply_one(Action.SET_LEVEL, 1, 100, 5)
    assert r.apply_one(Action.SET_LEVEL, -1, 101, 7, flags=0) and r.last_row_valid
    assert r.last_row.tolist()[:4] == [100, 5, 101, 7] and r.events == r.rows == 2
    r = Replayer(2, ReplayOptions(emit="message"))
    assert not r.apply_one(Action.SET_LEVEL, 1, 100, 5, flags=0)  # mid-message: no row yet
    assert r.apply_one(Action.SET_LEVEL, -1, 101, 7, update_id=NULL_ID)
    assert r.rows == 1
