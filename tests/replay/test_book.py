"""The ladder and the order map of ``replay/_book.pxd``, operation by operation (through the thin
wrappers of ``replay/_book.pyx``), and the ladder-only loop the benchmarks use as a ceiling.

Ladder keys are ascending with the best level last: ``key = price`` for bids, ``-price`` for asks.
Order-map homes are Fibonacci hashes, ``((id * 11400714819323198485) mod 2**64 >> 17) & (cap-1)``;
the colliding ids below were found with that formula (e.g. 880, 2516 and 3633 all start at slot 5
of a 1,024-slot map).
"""

from __future__ import annotations

import numpy as np
import pytest

from obrecon_pipeline.codes import NULL_CELL
from obrecon_pipeline.replay._book import PyLadder, PyOrderMap, ladder_loop

GOLDEN = 11400714819323198485


def home(oid: int, cap: int = 1024) -> int:
    return ((oid * GOLDEN) % 2**64 >> 17) & (cap - 1)


def ladder(*levels: tuple[int, int]) -> PyLadder:
    lad = PyLadder()
    for key, size in levels:
        assert lad.add(key, size) == (False, 0, size)
    return lad


# ------------------------------------------------------------------------------------------ ladder
def test_levels_are_kept_sorted_with_the_best_last():
    lad = ladder((100, 5), (102, 7), (101, 3), (99, 1))
    assert lad.keys == [99, 100, 101, 102] and lad.sizes == [1, 5, 3, 7]


def test_search_at_the_touch_and_deep():
    lad = ladder(*((k, 1) for k in range(0, 200, 2)))  # 100 levels: 0, 2, ..., 198
    assert lad.search(198) == 99 and lad.search(190) == 95  # linear scan from the touch
    assert lad.search(200) == -(100) - 1  # better than the best: appended at the end
    assert lad.search(197) == -(99) - 1  # between the two best levels
    assert lad.search(10) == 5 and lad.search(0) == 0  # bisection, deep in the book
    assert lad.search(11) == -(6) - 1 and lad.search(-1) == -1


def test_growth_keeps_every_level():
    lad = PyLadder()
    assert lad.capacity == 64 and lad.base == 32  # an empty side sits in the middle of its buffer
    for k in range(200):
        lad.insert_at(0, -k, k + 1)  # each insert is the new worst level: it takes a free slot below
    # the front filled at 32, 80 and 168 levels; each time the buffer doubled (the levels would
    # fill more than half of it) and the levels were centred: 64 -> 128 -> 256 -> 512 slots,
    # base (512 - 168) // 2 = 172 after the last, then 32 more inserts
    assert lad.capacity == 512 and lad.count == 200 and lad.base == 140
    assert lad.keys == list(range(-199, 1)) and lad.sizes == list(range(200, 0, -1))


def test_inserts_and_removals_move_the_shorter_run_of_levels():
    lad = ladder(*((k, 1) for k in range(10)))  # keys 0..9 added best-first-last: the top moved up
    base = lad.base
    lad.insert_at(2, 15, 1)  # 2 levels below, 8 above: the two below move down a slot
    assert lad.base == base - 1 and lad.keys[:4] == [0, 1, 15, 2]
    lad.remove_at(2)  # 2 below, 8 above: the two below move up a slot
    assert lad.base == base and lad.keys == list(range(10))
    lad.remove_at(8)  # 8 below, 1 above: the one above moves down, the base stays
    assert lad.base == base and lad.keys == [0, 1, 2, 3, 4, 5, 6, 7, 9]
    lad.truncate(5)  # dropping the 4 worst levels moves nothing
    assert lad.base == base + 4 and lad.keys == [4, 5, 6, 7, 9] and lad.frontier == 4


def test_moves_of_every_length_keep_the_other_levels():
    """Inserting and removing at every index of a 13-level ladder moves 0..6 levels each way:
    the in-line copies (up to 4 levels, both directions) and the memmove beyond them."""
    keys = list(range(0, 130, 10))
    for pos in range(len(keys) + 1):
        lad = ladder(*((k, k + 1) for k in keys))
        new = keys[pos - 1] + 5 if pos else -5  # between its neighbours
        lad.insert_at(pos, new, 7)
        expected = keys[:pos] + [new] + keys[pos:]
        assert lad.keys == expected and lad.sizes == [7 if k == new else k + 1 for k in expected]
    for pos in range(len(keys)):
        lad = ladder(*((k, k + 1) for k in keys))
        lad.remove_at(pos)
        expected = keys[:pos] + keys[pos + 1:]
        assert lad.keys == expected and lad.sizes == [k + 1 for k in expected]


def test_a_full_end_recentres_the_levels_without_growing():
    lad = PyLadder()
    for k in range(33):  # the first level takes the slot below the middle; each better one goes above
        lad.add(k, 1)
    assert (lad.base, lad.count, lad.capacity) == (31, 33, 64)  # the top end is full
    lad.truncate(8)  # the 25 worst levels dropped: the base moves up, nothing else
    assert (lad.base, lad.count) == (56, 8)
    lad.add(33, 1)  # no slot above: the 8 levels are centred ((64 - 8) // 2 = 28), then appended
    assert (lad.base, lad.count, lad.capacity) == (28, 9, 64) and lad.keys == list(range(25, 34))


def test_the_row_notes_say_which_ranks_changed():
    lad = ladder((100, 5), (101, 2), (102, 7))  # ranks: 102 -> 0, 101 -> 1, 100 -> 2
    row = np.zeros(16, dtype=np.int64)
    assert lad.stale == 0
    lad.refresh(row, 1)
    assert lad.stale is None and lad.resized is None
    assert row[0::4].tolist() == [102, 101, 100, NULL_CELL] and row[1::4].tolist() == [7, 2, 5, NULL_CELL]
    lad.add(101, 3)  # a size alone: one cell
    assert lad.resized == 1 and lad.stale is None
    lad.add(101, -1)  # the same level again: still one cell
    assert lad.resized == 1 and lad.stale is None
    lad.add(100, 1)  # another level's size: both folded into the stale ranks from 1 on
    assert lad.stale == 1
    lad.refresh(row, 1)
    assert row[1::4].tolist() == [7, 4, 6, NULL_CELL]
    lad.add(103, 1)  # a new best level: every rank moved
    assert lad.stale == 0
    lad.refresh(row, 1)
    lad.add(99, 1)  # a new level at rank 4
    assert lad.stale == 4
    lad.truncate(4)  # the window drops it again and bounds the side: cells from rank 4 on
    assert lad.stale == 4 and lad.bounded
    lad.refresh(row, 1)
    assert row[0::4].tolist() == [103, 102, 101, 100]


def test_refreshing_a_row_image_equals_writing_it_whole():
    """Random operations on both sides, the row image refreshed after each against both sides
    written whole: equal cell for cell (a window, re-seeding from below, clears and bounds)."""
    rng = np.random.default_rng(7)
    levels = 5
    sides = {1: PyLadder(), -1: PyLadder()}
    image = np.full(4 * levels, -1, dtype=np.int64)
    whole = np.empty_like(image)
    for step in range(20_000):
        side = 1 if rng.random() < 0.5 else -1
        lad = sides[side]
        op = rng.random()
        key = int(rng.integers(0, 12))
        if op < 0.55:
            lad.add(key, int(rng.integers(-3, 4)))
        elif op < 0.7:
            lad.set(key, int(rng.integers(0, 4)))
        elif op < 0.8:
            lad.truncate(int(rng.integers(2, 8)))
        elif op < 0.9 and lad.count:
            lad.insert_at(0, lad.keys[0] - 1, 1)  # a new worst level (a re-seed)
        elif op < 0.905:
            lad.clear()
        unknown = sum(sides[s].refresh(image, s, 0 if s > 0 else 2) for s in (1, -1))
        assert unknown == sum(sides[s].write(whole, s, 0 if s > 0 else 2) for s in (1, -1))
        assert image.tolist() == whole.tolist(), step


def test_add_reports_the_level_before_and_after():
    lad = ladder((100, 5))
    assert lad.add(100, 3) == (False, 5, 8)
    assert lad.add(100, -8) == (False, 8, 0) and lad.keys == []  # emptied level removed
    assert lad.add(100, 0) == (False, 0, 0) and lad.keys == []  # nothing to add: no level
    lad = ladder((100, 5))
    assert lad.add(100, -6) == (True, 5, -1) and lad.keys == []  # below zero: broken, removed
    assert lad.add(101, -1) == (True, 0, -1) and lad.keys == []


def test_set_level_replaces_removes_and_refuses_negative_sizes():
    lad = ladder((100, 5), (101, 2))
    assert lad.set(100, 9) == (False, 5) and lad.sizes == [9, 2]
    assert lad.set(101, 0) == (False, 2) and lad.keys == [100]
    assert lad.set(99, 4) == (False, 0) and lad.keys == [99, 100]
    assert lad.set(100, -1) == (True, 9) and lad.keys == [99]


def test_insert_and_remove_at_positions():
    lad = ladder((10, 1), (30, 3))
    lad.insert_at(1, 20, 2)
    assert lad.keys == [10, 20, 30]
    lad.remove_at(0)
    assert lad.keys == [20, 30] and lad.sizes == [2, 3]
    with pytest.raises(IndexError):
        lad.remove_at(2)


def test_window_bounds_the_side_at_its_worst_kept_level():
    lad = ladder((100, 1), (101, 1))
    lad.truncate(3)  # fewer levels than the window: everything is still known
    assert not lad.bounded and lad.knows(50)
    lad.add(99, 1)
    lad.truncate(3)  # the window is full: its worst level is the frontier
    assert lad.bounded and lad.frontier == 99 and lad.keys == [99, 100, 101]
    assert lad.knows(99) and lad.knows(150) and not lad.knows(98)
    lad.add(102, 1)
    lad.truncate(3)  # a better level pushes the worst one out of the window
    assert lad.keys == [100, 101, 102] and lad.frontier == 100 and not lad.knows(99)
    lad.clear()
    assert lad.count == 0 and not lad.bounded and lad.knows(1)


# --------------------------------------------------------------------------------------- order map
def test_insert_find_overwrite():
    m = PyOrderMap()
    m.insert(7, 1, 100, 5)
    m.insert(8, -1, 101, 2)
    assert m.find(7) == (1, 100, 5) and m.find(8) == (-1, 101, 2) and m.find(9) is None
    m.insert(7, 1, 99, 4)  # same id: overwritten, not added
    assert m.find(7) == (1, 99, 4) and m.count == 2
    with pytest.raises(ValueError):
        m.insert(0, 1, 1, 1)


def test_colliding_ids_probe_linearly_and_deletion_shifts_back():
    m = PyOrderMap()
    a, b, c = 880, 2516, 3633
    assert home(a) == home(b) == home(c) == m.home(a) == 5
    for oid in (a, b, c):
        m.insert(oid, 1, 100, oid)
    assert m.slot_ids()[5:9] == [a, b, c, 0]
    assert m.remove(a) and not m.remove(a)
    assert m.slot_ids()[5:9] == [b, c, 0, 0]  # shifted back: no tombstone, chain intact
    assert m.find(b) == (1, 100, b) and m.find(c) == (1, 100, c) and m.count == 2


def test_backward_shift_leaves_an_entry_that_sits_at_home():
    m = PyOrderMap()
    a, c = 880, 2516  # home 5
    d = 282  # home 6
    assert (home(a), home(c), home(d)) == (5, 5, 6)
    for oid in (a, d, c):  # slots: 5 a, 6 d (home), 7 c (displaced from 5)
        m.insert(oid, -1, 1, 1)
    assert m.slot_ids()[5:8] == [a, d, c]
    m.remove(a)
    # d sits at its home 6 and stays; c may move into the hole at 5
    assert m.slot_ids()[5:8] == [c, d, 0]
    assert m.find(c) is not None and m.find(d) is not None


def test_probe_chains_wrap_around_the_end():
    m = PyOrderMap()
    a, b = 1117, 2234  # home 1023, the last slot
    z = 519  # home 0
    for oid in (a, b, z):
        m.insert(oid, 1, 1, 1)
    ids = m.slot_ids()
    assert (ids[1023], ids[0], ids[1]) == (a, b, z)  # b wrapped to 0, z pushed to 1
    m.remove(a)
    ids = m.slot_ids()
    assert (ids[1023], ids[0], ids[1]) == (b, z, 0)
    assert m.find(b) is not None and m.find(z) is not None


def test_growth_rehashes_at_half_load():
    m = PyOrderMap()
    for oid in range(1, 513):
        m.insert(oid, 1, oid, 1)
    assert m.capacity == 1024 and m.count == 512
    m.insert(513, 1, 513, 1)
    assert m.capacity == 2048 and m.count == 513
    assert all(m.find(oid) == (1, oid, 1) for oid in range(1, 514))


def test_clear_side_rehashes_the_survivors():
    m = PyOrderMap()
    a, b, c = 880, 2516, 3633  # one chain from slot 5: bid, ask, bid
    m.insert(a, 1, 100, 1)
    m.insert(b, -1, 101, 1)
    m.insert(c, 1, 99, 1)
    m.clear_side(1)
    assert m.count == 1 and m.find(a) is None and m.find(c) is None
    assert m.find(b) == (-1, 101, 1) and m.slot_ids()[5] == b  # back at its home
    m.clear_side(0)
    assert m.count == 0 and m.find(b) is None and not any(m.slot_ids())


# ------------------------------------------------------------------------------------- ladder loop
def test_ladder_loop_writes_the_top_levels_after_every_event():
    side = np.array([1, -1, 1, 1, -1], dtype=np.int8)
    price = np.array([100, 102, 101, 100, 102], dtype=np.int64)
    delta = np.array([5, 3, 2, -5, -3], dtype=np.int64)
    out = np.zeros((5, 8), dtype=np.int64)
    ladder_loop(side, price, delta, out)
    N = NULL_CELL
    assert out.tolist() == [
        [100, 5, N, N, N, N, N, N],
        [100, 5, 102, 3, N, N, N, N],
        [101, 2, 102, 3, 100, 5, N, N],
        [101, 2, 102, 3, N, N, N, N],
        [101, 2, N, N, N, N, N, N],
    ]
