"""Order-flow imbalance on a hand-made sequence, against values computed by hand from the
definition of Cont, Kukanov & Stoikov (2014) and its level-m version (Xu, Gould & Howison
2019):

    e_n = q^b_n 1{P^b_n >= P^b_{n-1}} - q^b_{n-1} 1{P^b_n <= P^b_{n-1}}
        - q^a_n 1{P^a_n <= P^a_{n-1}} + q^a_{n-1} 1{P^a_n >= P^a_{n-1}}
"""

from __future__ import annotations

import pytest

from handmade_books import T0, book_frame
from obrecon_pipeline.metrics.ofi import event_ofi, interval_ofi, ofi_table

S = 1_000_000_000
ROWS = [
    # 0: start
    {"bid": [(100.0, 10.0), (99.0, 5.0)], "ask": [(101.0, 8.0), (102.0, 4.0)]},
    # 1: bid queue grows 10 -> 15 at the same price
    {"bid": [(100.0, 15.0), (99.0, 5.0)], "ask": [(101.0, 8.0), (102.0, 4.0)]},
    # 2: a new best bid 100.5 x 3; the old best becomes level 2
    {"bid": [(100.5, 3.0), (100.0, 15.0)], "ask": [(101.0, 8.0), (102.0, 4.0)]},
    # 3: a new best ask 100.8 x 2; the old best ask becomes level 2
    {"bid": [(100.5, 3.0), (100.0, 15.0)], "ask": [(100.8, 2.0), (101.0, 8.0)]},
    # 4: the best bid is cancelled: back to 100 x 15 / 99 x 5
    {"bid": [(100.0, 15.0), (99.0, 5.0)], "ask": [(100.8, 2.0), (101.0, 8.0)]},
    # 5: the best ask is lifted: back to 101 x 8 / 102 x 4
    {"bid": [(100.0, 15.0), (99.0, 5.0)], "ask": [(101.0, 8.0), (102.0, 4.0)]},
]
TS = [T0, T0 + 100_000_000, T0 + 200_000_000, T0 + S, T0 + S + 1, T0 + S + 2]
BOOK = book_frame(ROWS, levels=2, ts=TS)

# by hand, level 1:  row1: 15 - 10 = 5; row2: +3 (bid up); row3: -2 (ask down);
# row4: -3 (bid down, -q^b_{n-1}); row5: +2 (ask up, +q^a_{n-1})
E1 = [5.0, 3.0, -2.0, -3.0, 2.0]
# level 2: row1: 0; row2: bid 99 -> 100 x 15: +15; row3: ask 102 -> 101 x 8: -8;
# row4: bid 100 -> 99: -15; row5: ask 101 -> 102: +8
E2 = [0.0, 15.0, -8.0, -15.0, 8.0]


def test_event_level_ofi_equals_the_hand_computed_values():
    out = event_ofi(BOOK).collect()
    assert out["seq"].to_list() == [1, 2, 3, 4, 5]
    assert out["e_1"].to_list() == E1
    assert out["e_2"].to_list() == E2


def test_interval_ofi_sums_events_and_normalises_by_average_depth():
    out = interval_ofi(BOOK, 1.0).collect()
    assert out["bucket"].to_list() == [T0 // S, T0 // S + 1]
    assert out["ts_start"].to_list() == [T0, T0 + S]
    assert out["n_events"].to_list() == [2, 3]
    assert out["ofi_1"].to_list() == [5.0 + 3.0, -2.0 - 3.0 + 2.0]
    assert out["ofi_2"].to_list() == [0.0 + 15.0, -8.0 - 15.0 + 8.0]
    # Q^M per row = (1/2) sum_m (q^b_m + q^a_m) / 2: rows 0..2 -> 6.75, 8, 7.5; rows 3..5 -> 7, 7.5, 8
    assert out["avg_depth"].to_list() == pytest.approx([(6.75 + 8.0 + 7.5) / 3, 7.5], rel=1e-15)
    assert out["ofi_norm_1"].to_list() == pytest.approx([8.0 / (22.25 / 3), -3.0 / 7.5], rel=1e-15)
    assert out["ofi_norm_2"].to_list() == pytest.approx([15.0 / (22.25 / 3), -15.0 / 7.5], rel=1e-15)


@pytest.mark.parametrize("batch_rows", [1, 2, 4])
def test_interval_ofi_read_in_batches_equals_the_whole_book(batch_rows):
    """Batch boundaries inside an interval (rows 0..2 | 3..5 at 1 s) and between a row and the one
    before it change nothing: the last usable row of a batch is carried into the next."""
    whole = interval_ofi(BOOK, 1.0).collect()
    assert interval_ofi(BOOK, 1.0, batch_rows=batch_rows).collect().equals(whole)
    assert whole["ofi_1"].to_list() == [5.0 + 3.0, -2.0 - 3.0 + 2.0]


def test_ofi_table_stacks_interval_lengths():
    out = ofi_table(BOOK, (1.0, 10.0))
    ten = out.filter(out["sampling"] == "10s")
    assert out["sampling"].unique().sort().to_list() == ["10s", "1s"]
    assert ten["ofi_1"].to_list() == [sum(E1)]
    assert ten["n_events"].to_list() == [5]


def test_an_empty_level_leaves_its_contribution_out():
    rows = [dict(r) for r in ROWS[:3]]
    rows[1] = {"bid": [(100.0, 15.0)], "ask": [(101.0, 8.0), (102.0, 4.0)]}  # no bid level 2 in row 1
    out = event_ofi(book_frame(rows, levels=2)).collect()
    assert out["e_1"].to_list() == [5.0, 3.0]
    assert out["e_2"].to_list() == [None, None]  # both rows that touch the empty cell
    assert interval_ofi(book_frame(rows, levels=2), 10.0).collect()["ofi_2"].to_list() == [0.0]


def test_flagged_rows_are_skipped():
    rows = [dict(r) for r in ROWS]
    rows[2] = dict(ROWS[2], valid=False)
    out = event_ofi(book_frame(rows, levels=2, ts=TS)).collect()
    # row 3 is compared with row 1: bid 100.5 x 3 > 100: +3, ask 100.8 < 101: -2
    assert out["seq"].to_list() == [1, 3, 4, 5]
    assert out["e_1"].to_list() == [5.0, 3.0 - 2.0, -3.0, 2.0]
