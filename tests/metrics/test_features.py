"""Model features on regular time grids: hand-made books where every value is worked out by hand
below (exact values), and the real GOOG level-10 day against the project's other metric tables.

Grid point k of step Δ is the time kΔ; it owns the rows with (k-1)Δ < ts <= kΔ, its state is the
last of them (or the carried state in a gap), ``ofi_m`` sums the level-m contributions

    e_n = q^b_n 1{P^b_n >= P^b_{n-1}} - q^b_{n-1} 1{P^b_n <= P^b_{n-1}}
        - q^a_n 1{P^a_n <= P^a_{n-1}} + q^a_{n-1} 1{P^a_n >= P^a_{n-1}}

of its rows (n-1 the previous usable row), and it is valid when its rows and the previous state are.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from handmade_books import T0, book_frame
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.metrics.features import FeatureSpec, feature_columns, features
from obrecon_pipeline.metrics.microstructure import microstructure
from obrecon_pipeline.metrics.ofi import event_ofi
from obrecon_pipeline.metrics.spreads import spreads
from obrecon_pipeline.pipeline import replay_stream
from tests.conftest import RAW

S = 1_000_000_000
LOBSTER_DAY = RAW / "lobster" / "2012-06-21"


def at(*seconds: float) -> list[int]:
    """Row times, seconds after T0 (a whole second, so on every grid)."""
    return [T0 + round(s * S) for s in seconds]


BASE_BID = [(100.0, 20.0), (99.0, 5.0)]
# a two-level book: rows 4 and 5 are flagged invalid; nothing happens in (2 s, 3 s] nor in (3 s, 4 s)
ROWS = [
    {"bid": [(100.0, 10.0), (99.0, 5.0)], "ask": [(101.0, 10.0), (102.0, 5.0)]},  # 0.2 s
    {"bid": BASE_BID, "ask": [(101.0, 10.0), (102.0, 5.0)]},  # 0.7 s: bid queue 10 -> 20
    {"bid": BASE_BID, "ask": [(102.0, 5.0), (103.0, 5.0)]},  # 1.5 s: best ask lifted
    {"bid": BASE_BID, "ask": [(102.0, 5.0)]},  # 4.0 s, on the grid: ask level 2 empty
    {"bid": [(90.0, 1.0)], "ask": [(110.0, 1.0)], "valid": False},  # 4.5 s
    {"bid": [(95.0, 1.0)], "ask": [(105.0, 1.0)], "valid": False},  # 5.3 s
    {"bid": BASE_BID, "ask": [(102.0, 5.0), (103.0, 5.0)]},  # 6.2 s: valid again
    {"bid": [(101.0, 4.0), (100.0, 20.0)], "ask": [(102.0, 5.0), (103.0, 5.0)]},  # 7.1 s: new best bid
    {"bid": [(101.0, 4.0), (100.0, 20.0)], "ask": [(102.0, 1.0), (103.0, 5.0)]},  # 9.0 s: ask 5 -> 1
]
BOOK = book_frame(ROWS, levels=2, ts=at(0.2, 0.7, 1.5, 4.0, 4.5, 5.3, 6.2, 7.1, 9.0))
SPEC = FeatureSpec(steps_s=(1.0,), rv_windows=(2,), horizons=(1, 2))

# by hand, per 1 s grid point k = 1..9 (ceil(0.2) .. ceil(9.0))
STATE_SEQ = [1, 2, 2, 3, 4, 5, 6, 7, 8]  # k = 3 is a gap: row 2 carried
N_ROWS = [2, 1, 0, 1, 1, 1, 1, 1, 1]  # row 3 at exactly 4.0 s belongs to k = 4
# k = 5, 6 hold invalid rows; k = 7's rows are valid but the state it starts from (row 5) is not
VALID = [True, True, True, True, False, False, False, True, True]
MID = [100.5, 101.0, 101.0, 101.0, 100.0, 100.0, 101.0, 101.5, 101.5]  # invalid points as the book shows them
# level 1: row 1 +20-10 = 10; row 2 ask up: +q^a_{n-1} = 10; row 3: 0; rows 4, 5 unusable; row 6 against
# row 3 (last usable): 0; row 7 bid up: +4; row 8 ask 5 -> 1 at 102: -1 + 5 = 4
OFI_1 = [10.0, 10.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0, 4.0]
# level 2: row 2 ask 102 -> 103: +5; rows 3 and 6 touch the empty ask level 2 (left out); row 7 bid
# 99 x 5 -> 100 x 20: +20
OFI_2 = [0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 20.0, 0.0]
R2 = math.log(101.0) - math.log(100.5)
R8 = math.log(101.5) - math.log(101.0)
LOG_RETURN = [None, R2, 0.0, 0.0, None, None, None, R8, 0.0]


@pytest.fixture(scope="module")
def grid() -> pl.DataFrame:
    return features(BOOK, SPEC)


def test_grid_runs_from_the_first_to_the_last_row_with_previous_tick_states(grid):
    assert grid.columns == feature_columns(2, SPEC)
    assert grid["sampling"].unique().to_list() == ["1s"]
    assert grid["ts_event"].to_list() == [T0 + k * S for k in range(1, 10)]
    assert grid["state_seq"].to_list() == STATE_SEQ
    assert grid["n_rows"].to_list() == N_ROWS
    assert grid["state_ts_event"][2] == T0 + 1_500_000_000  # the gap's state is 1.5 s old at 3 s
    assert grid["mid"].to_list() == MID


def test_state_features_at_each_grid_point(grid):
    first, fourth = grid.row(0, named=True), grid.row(3, named=True)
    # bid 100 x 20, ask 101 x 10: M = (101 * 20 + 100 * 10) / 30, I_1 = (20 - 10) / 30
    assert first["micro_price"] == (101.0 * 20 + 100.0 * 10) / 30
    assert (first["spread_1"], first["spread_bp_1"]) == (1.0, 1e4 * 1.0 / 100.5)
    assert first["imbalance_1"] == 10.0 / 30
    # bid 100 x 20, ask 102 x 5
    assert (fourth["spread_1"], fourth["spread_bp_1"]) == (2.0, 1e4 * 2.0 / 101.0)
    assert fourth["imbalance_1"] == 15.0 / 25
    assert fourth["micro_price"] == (102.0 * 20 + 100.0 * 5) / 25


def test_levels_beyond_the_books_depth_have_no_columns(grid):
    assert not {"spread_5", "spread_10", "imbalance_5", "imbalance_10", "ofi_3"} & set(grid.columns)


def test_multi_level_ofi_sums_the_contributions_of_each_interval(grid):
    assert grid["ofi_1"].to_list() == OFI_1
    assert grid["ofi_2"].to_list() == OFI_2


def test_invalid_stretch_flags_every_point_that_touches_it(grid):
    assert grid["book_valid"].to_list() == VALID


def test_returns_volatility_and_labels_stop_at_invalid_points_and_the_end(grid):
    assert grid["log_return"].to_list() == LOG_RETURN
    # sqrt(r_{k-1}^2 + r_k^2), null unless both returns exist
    assert grid["realized_vol_2"].to_list() == [None, None, abs(R2), 0.0, None, None, None, None, abs(R8)]
    # ln m_{k+h} - ln m_k, null past the last point or when a point up to k + h is invalid
    assert grid["fwd_return_1"].to_list() == [R2, 0.0, 0.0, None, None, None, R8, 0.0, None]
    assert grid["fwd_return_2"].to_list() == [R2, 0.0, None, None, None, None, R8, None, None]


def test_default_grids_are_stacked_in_one_table():
    out = features(BOOK)
    # 100 ms: ceil(0.2 / 0.1) = 2 .. ceil(9.0 / 0.1) = 90
    assert out.group_by("sampling", maintain_order=True).len().rows() == [("0.1s", 89), ("1s", 9)]
    assert out.columns[-4:] == ["realized_vol_100", "fwd_return_1", "fwd_return_10", "fwd_return_100"]
    tenth = out.filter(pl.col("sampling") == "0.1s")
    # the 100 ms flow adds up to the 1 s flow; the 1 s states are the 100 ms states at whole seconds
    assert tenth["ofi_1"].sum() == sum(OFI_1) and tenth["n_rows"].sum() == BOOK.height
    whole = tenth.filter(pl.col("ts_event") % S == 0)
    assert whole["state_seq"].to_list() == STATE_SEQ
    # but validity is per interval: at 7 s the 100 ms point holds no row and starts from row 6
    # (valid), while the 1 s point starts from row 5 (invalid)
    assert whole["book_valid"].to_list() == VALID[:6] + [True] + VALID[7:]


def test_each_grid_of_a_stacked_table_equals_that_grid_alone():
    # 0.3 s and 1 s grids do not nest: every row still lands in the right point of both
    both = features(BOOK, FeatureSpec(steps_s=(0.3, 1.0)))
    for step, name in ((0.3, "0.3s"), (1.0, "1s")):
        alone = features(BOOK, FeatureSpec(steps_s=(step,)))
        assert both.filter(pl.col("sampling") == name).equals(alone)


ONE_SIDED = book_frame(
    [
        {"bid": [(100.0, 10.0)], "ask": [(101.0, 10.0)]},  # 0.5 s
        {"bid": [(100.0, 12.0)]},  # 1.5 s: no ask (valid, not usable)
        {"bid": [(100.0, 15.0)], "ask": [(101.0, 10.0)]},  # 2.5 s
    ],
    levels=1,
    ts=at(0.5, 1.5, 2.5),
)
QUOTES = {"bid": [(100.0, 1.0)], "ask": [(101.0, 1.0)]}
# row 2 is stamped 0.9 s but follows a row stamped 1.4 s: it belongs to the point at 2 s
RESTAMPED = book_frame([QUOTES] * 4, levels=1, ts=at(0.2, 1.4, 0.9, 2.5))


def test_a_one_sided_row_has_no_quotes_and_the_flow_bridges_it():
    out = features(ONE_SIDED, FeatureSpec(steps_s=(1.0,)))
    assert out["mid"].to_list() == [100.5, None, 100.5]
    assert out["micro_price"][1] is None and out["spread_1"][1] is None and out["imbalance_1"][1] is None
    # row 2 against row 0, the last usable row: 15 - 10 = 5 (as event_ofi pairs them)
    assert out["ofi_1"].to_list() == [0.0, 0.0, 5.0]
    assert out["book_valid"].to_list() == [True, True, True]
    assert out["log_return"].to_list() == [None, None, None]  # no mid at 2 s


def test_a_row_stamped_before_the_one_before_it_stays_behind_that_row():
    out = features(RESTAMPED, FeatureSpec(steps_s=(1.0,)))
    assert out["state_seq"].to_list() == [0, 2, 3]
    assert out["n_rows"].to_list() == [1, 2, 1]
    assert out["state_ts_event"][1] == T0 + 900_000_000


def test_only_the_first_ten_levels_count_in_a_deeper_book():
    # twelve levels; levels 11 and 12 carry huge queues that must not move imbalance_10
    sizes = [2.0] * 10 + [1000.0, 1000.0]
    row = {"bid": [(100.0 - k, sizes[k]) for k in range(12)], "ask": [(101.0 + k, sizes[k] / 2) for k in range(12)]}
    out = features(book_frame([row, row], levels=12), FeatureSpec(steps_s=(1.0,)))
    assert [c for c in out.columns if c.startswith("ofi_")] == [f"ofi_{m}" for m in range(1, 11)]
    first = out.row(0, named=True)
    assert (first["spread_5"], first["spread_10"]) == (9.0, 19.0)  # (101 + 4) - (100 - 4), (101 + 9) - (100 - 9)
    assert first["imbalance_5"] == first["imbalance_10"] == 10.0 / 30.0  # D^b_k = 2k, D^a_k = k: k / 3k
    assert first["ofi_10"] == 0.0  # the same book twice: no flow


@pytest.mark.parametrize("book", [BOOK, ONE_SIDED, RESTAMPED], ids=["book", "one_sided", "restamped"])
def test_batches_of_any_size_give_the_same_table(book):
    # every batch boundary: segments cut in two, OFI partners and running times carried across
    spec = FeatureSpec(steps_s=(0.3, 1.0), rv_windows=(2,), horizons=(1, 2))
    whole = features(book, spec)
    for rows in range(1, book.height):
        assert features(book, spec, batch_rows=rows).equals(whole), rows


def test_an_empty_book_has_an_empty_grid():
    out = features(book_frame([], levels=2))
    assert out.height == 0 and out.columns == feature_columns(2)


@pytest.mark.parametrize(
    "spec", [dict(steps_s=()), dict(steps_s=(1.0, 1.0)), dict(steps_s=(1e-10,)), dict(horizons=(0,)), dict(rv_windows=(0,))]
)
def test_a_spec_without_a_meaning_is_refused(spec):
    with pytest.raises(ValueError):
        FeatureSpec(**spec)


# --- the real GOOG level-10 day -----------------------------------------------------------------


@pytest.fixture(scope="module")
def goog(tmp_path_factory):
    """The replayed GOOG level-10 book as Parquet, and its features read back lazily from it."""
    feed = get_feed("lobster")
    (stream,) = [s for s in feed.discover(LOBSTER_DAY, LOBSTER_DAY.name) if s.name == "GOOG-L10"]
    book = replay_stream("lobster", feed.load(stream), 10).result.book
    path = tmp_path_factory.mktemp("goog") / "book.parquet"
    book.write_parquet(path)
    return book, features(pl.scan_parquet(path))


def test_goog_grid_sizes(goog):
    book, out = goog
    # messages from 09:30:00.015105074 to 15:59:59.871751084 (T0 = 09:30 EDT): grid points
    # 09:30:00.1 .. 15:59:59.9 (ceil(342000.15) .. ceil(575998.72): 233,999) and
    # 09:30:01 .. 16:00:00 (ceil(34200.015) .. ceil(57599.87): 23,400)
    assert (book["ts_event"][0] - T0, book["ts_event"][-1] - T0) == (15_105_074, 23_399_871_751_084)
    assert out.group_by("sampling", maintain_order=True).len().rows() == [("0.1s", 233_999), ("1s", 23_400)]
    assert out["book_valid"].all()  # LOBSTER's book is never flagged
    for name in ("0.1s", "1s"):
        grid = out.filter(pl.col("sampling") == name)
        assert grid["n_rows"].sum() == book.height == 147_916  # every row in exactly one interval


def test_goog_states_agree_with_the_spreads_and_microstructure_tables(goog):
    book, out = goog
    state = spreads(book).join(microstructure(book).drop("ts_event", "book_valid", "mid"), on="seq").collect()
    cols = ["mid", "micro_price", "spread_1", "spread_bp_1", "spread_5", "spread_bp_5", "spread_10", "spread_bp_10",
            "imbalance_1", "imbalance_5", "imbalance_10"]
    for name in ("0.1s", "1s"):
        grid = out.filter(pl.col("sampling") == name)
        joined = grid.select("state_seq", *cols).join(state.select("seq", *cols), left_on="state_seq", right_on="seq",
                                                      suffix="_ref")
        assert joined.height == grid.height
        for c in cols:
            assert joined[c].equals(joined[f"{c}_ref"]), (name, c)


def test_goog_flow_is_the_event_ofi_summed_per_interval(goog):
    book, out = goog
    events = event_ofi(book).collect()
    ts = events["ts_event"].to_numpy()
    for step, name in ((S // 10, "0.1s"), (S, "1s")):
        grid = out.filter(pl.col("sampling") == name)
        k = (ts - 1) // step + 1  # the grid time at or after each row
        index = (k - grid["ts_event"][0] // step).astype(np.int64)
        for m in (1, 5, 10):
            expected = np.bincount(index, weights=events[f"e_{m}"].fill_null(0.0).to_numpy(), minlength=grid.height)
            assert np.array_equal(grid[f"ofi_{m}"].to_numpy(), expected), (name, m)


def test_goog_realised_volatility_and_labels_from_the_grid_mids(goog):
    _, out = goog
    grid = out.filter(pl.col("sampling") == "1s")
    log_mid = grid["mid"].log().to_numpy()
    r = np.diff(log_mid)
    # RV_100 at point k: sqrt of the sum of the 100 squared returns ending at k (r[k-1] ends at k)
    for k in (100, 5_000, 23_399):
        assert grid["realized_vol_100"][k] == pytest.approx(math.sqrt(np.sum(r[k - 100:k] ** 2)), rel=1e-12)
    assert grid["realized_vol_100"].null_count() == 100  # the first 100 points lack a full window
    for h in (1, 10, 100):
        assert grid[f"fwd_return_{h}"].null_count() == h  # only the last h points run past the end
        assert np.array_equal(grid[f"fwd_return_{h}"].to_numpy()[:-h], log_mid[h:] - log_mid[:-h])
