"""What must hold in every simulated file: time, an uncrossed book, level-L windowing, and orders
that are referenced only while alive and by at most what they have left."""

from __future__ import annotations

import numpy as np
import pytest

from obrecon_pipeline.simulate import ModelParams, simulate_day

EMPTY_ASK, EMPTY_BID = 9_999_999_999, -9_999_999_999


def read_day(r):
    msgs = [line.split(",") for line in r.message_file.read_text().splitlines()]
    sec = [t.split(".") for t, *_ in msgs]
    ns = np.array([int(s[0]) * 10**9 + int((s[1] if len(s) > 1 else "").ljust(9, "0")) for s in sec])
    fields = np.array([[int(x) for x in m[1:]] for m in msgs], dtype=np.int64)
    book = np.loadtxt(r.orderbook_file, delimiter=",", dtype=np.int64, ndmin=2)
    return ns, fields, book


def top(book_row, side: int, levels: int) -> list[int]:
    """Prices of one side's occupied levels in an orderbook row, best first."""
    col = 2 if side == 1 else 0
    return [int(p) for p in book_row[col::4][:levels] if p not in (EMPTY_ASK, EMPTY_BID)]


@pytest.mark.parametrize("levels", [5, 10])
def test_time_book_and_window(tmp_path, levels):
    r = simulate_day(tmp_path, "SIM", "2024-01-02", events=3_000, levels=levels, seed=9,
                     params=ModelParams(burn_in=2_000))
    ns, fields, book = read_day(r)
    assert len(ns) == len(book) == 3_000 and book.shape[1] == 4 * levels
    assert np.all(np.diff(ns) >= 0)
    assert 34_200 * 10**9 <= ns[0] and ns[-1] <= 57_600 * 10**9
    ask1, bid1 = book[:, 0], book[:, 2]
    assert ask1[0] != EMPTY_ASK and bid1[0] != EMPTY_BID  # the day starts from a resting book
    both = (ask1 != EMPTY_ASK) & (bid1 != EMPTY_BID)
    assert np.all(ask1[both] > bid1[both])  # never crossed, never locked
    for k in range(1, len(fields)):
        kind, _, _, price, side = fields[k]
        before, after = book[k - 1], book[k]
        if kind == 1:  # a submission lands within the best L of its side
            assert price in top(after, side, levels)
        elif kind in (2, 3):  # a cancel or delete hits an order resting within the best L
            assert price in top(before, side, levels)
        elif kind == 4:  # an execution takes the resting side's best level
            assert price == top(before, side, 1)[0]
        else:  # a hidden execution inside the spread leaves the book alone
            assert top(before, 1, 1)[0] <= price <= top(before, -1, 1)[0]
            assert np.array_equal(before, after)


def test_orders_live_until_gone(tmp_path):
    """A window wider than the book (every event is in the file): each order is submitted, reduced
    by at most what it has left, and never referenced again once gone; only orders resting before
    09:30 appear without a submission, and their ids precede every submitted one."""
    r = simulate_day(tmp_path, "SIM", "2024-01-02", events=3_000, levels=300, seed=4,
                     params=ModelParams(burn_in=2_000, depth=20, theta=1.0))
    _, fields, book = read_day(r)
    assert np.all(book[:, 4 * 299] == EMPTY_ASK) and np.all(book[:, 4 * 299 + 2] == EMPTY_BID)  # level 300 unused
    live: dict[int, list[int]] = {}  # id -> [side, price, remaining]
    gone, preopen = set(), set()
    submitted = []
    for kind, oid, size, price, side in fields:
        if kind == 5:
            assert oid == 0
            continue
        assert oid not in gone
        if kind == 1:
            assert oid not in live and oid not in preopen
            live[oid] = [side, price, size]
            submitted.append(oid)
            continue
        if oid not in live:
            preopen.add(oid)
            continue
        o = live[oid]
        assert (side, price) == (o[0], o[1])  # type-4 direction: the resting order's side
        assert 0 < size <= o[2]
        if kind == 3:
            assert size == o[2]
        o[2] -= size
        if o[2] == 0:
            gone.add(oid)
            del live[oid]
    assert submitted == sorted(submitted) and len(set(submitted)) == len(submitted)  # unique, increasing
    assert preopen and max(preopen) < min(submitted)
    assert {kind for kind, *_ in fields} == {1, 2, 3, 4, 5}
