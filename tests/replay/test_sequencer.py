"""The Cython sequencer on hand-built id sequences with known answers (Binance's documented rules)."""

import numpy as np
import pytest

from obrecon_pipeline.feeds.l2._sequencer import sequence

N = np.iinfo(np.int64).min
NONE, FIRST, PREV = 0, 1, 2


def run(msgs, link, offset=1, capacity=4):
    """msgs: (is_snapshot, first, last, prev) tuples, None for a missing id."""
    arr = lambda k: np.array([N if m[k] is None else m[k] for m in msgs], dtype=np.int64)  # noqa: E731
    snap = np.array([m[0] for m in msgs], dtype=np.int8)
    order, status, gaps, counters = sequence(snap, arr(1), arr(2), arr(3), link, offset, capacity)
    return order.tolist(), status.tolist(), gaps, counters


def test_spot_sync_drops_u_up_to_last_update_id_and_starts_at_the_straddling_diff():
    # diffs buffered before the REST snapshot (lastUpdateId = 105) arrives
    msgs = [
        (0, 100, 102, None),  # u <= 105: stale
        (0, 103, 105, None),  # u <= 105: stale
        (0, 106, 108, None),  # U <= 106 <= u: first applied (spot: lastUpdateId + 1)
        (1, None, 105, None),  # snapshot
        (0, 109, 110, None),
    ]
    order, status, gaps, c = run(msgs, FIRST, offset=1)
    assert order == [3, 2, 4]
    assert status == [2, 2, 0, 5, 0]
    assert gaps == [] and c == {"gaps": 0, "duplicates": 0, "reordered": 0, "stale": 2, "unsynced": 0}


def test_futures_sync_uses_u_lt_last_update_id_and_pu_continuity():
    msgs = [
        (0, 90, 99, 80),  # u < 100: stale
        (0, 100, 120, 99),  # U <= 100 <= u: first applied (futures: lastUpdateId itself)
        (1, None, 100, None),
        (0, 125, 130, 120),  # pu == previous u
        (0, 131, 140, 129),  # pu 129 != 130: ahead -> held, never linked -> gap at the end
    ]
    order, status, gaps, c = run(msgs, PREV, offset=0)
    assert order == [2, 1, 3, -5]
    assert gaps == [(4, 130, 129)]  # expected pu 130, received pu 129
    assert c["gaps"] == 1 and c["stale"] == 1 and c["unsynced"] == 1  # the held diff never applies


def test_duplicates_are_dropped_and_swapped_neighbours_are_applied_in_order():
    msgs = [(1, None, 10, None), (0, 11, 12, None), (0, 13, 14, None), (0, 13, 14, None),
            (0, 17, 18, None), (0, 15, 16, None), (0, 11, 12, None), (0, 19, 19, None)]
    order, status, gaps, c = run(msgs, FIRST)
    assert order == [0, 1, 2, 5, 4, 7]
    assert status == [5, 0, 0, 3, 1, 0, 3, 0]
    assert c == {"gaps": 0, "duplicates": 2, "reordered": 1, "stale": 0, "unsynced": 0}


def test_a_gap_that_outlives_the_buffer_is_located_and_the_next_snapshot_resyncs():
    msgs = [(1, None, 10, None), (0, 11, 11, None),
            (0, 13, 13, None), (0, 14, 14, None), (0, 15, 15, None),  # 12 never arrives
            (0, 16, 16, None),
            (1, None, 15, None),  # next snapshot: 13..15 stale, 16 straddles 16
            (0, 17, 17, None)]
    order, status, gaps, c = run(msgs, FIRST, capacity=3)
    assert gaps == [(2, 12, 13)]
    assert order == [0, 1, -3, 6, 5, 7]
    assert status == [5, 0, 2, 2, 2, 0, 5, 0]
    assert c["gaps"] == 1 and c["stale"] == 3


def test_without_ids_diffs_before_the_first_snapshot_are_unsynced():
    msgs = [(0, None, None, None), (1, None, None, None), (0, None, None, None), (1, None, None, None)]
    order, status, gaps, c = run(msgs, NONE)
    assert order == [1, 2, 3] and status == [4, 5, 0, 5] and c["unsynced"] == 1


CONTINUE = 1


def test_continue_applies_from_the_id_received_after_a_gap():
    """History files (Bybit, ``Resync.CONTINUE``, no reordering): a break is a gap at once, the
    message after it is applied and the ids chain on from it; a repeat is a duplicate."""
    msgs = [(1, None, 10, None), (0, 11, 11, None), (0, 13, 13, None), (0, 14, 14, None),
            (0, 14, 14, None), (1, None, 20, None), (0, 21, 21, None)]
    order, status, gaps, c = sequence(*_arrays(msgs), FIRST, 1, 1, CONTINUE)
    assert order.tolist() == [0, 1, -3, 2, 3, 5, 6]
    assert status.tolist() == [5, 0, 0, 0, 3, 5, 0]
    assert gaps == [(2, 12, 13)] and c["duplicates"] == 1 and c["unsynced"] == 0


def test_continue_before_the_first_snapshot():
    """A linked diff before any snapshot is a gap of unknown size (expected NULL), applied; an
    unlinked feed's diffs apply as they come (Tardis)."""
    order, status, gaps, c = sequence(*_arrays([(0, 5, 5, None), (0, 6, 6, None), (1, None, 6, None)]),
                                      FIRST, 1, 1, CONTINUE)
    assert order.tolist() == [-1, 0, 1, 2] and gaps == [(0, N, 5)] and c["gaps"] == 1
    order, status, gaps, c = sequence(*_arrays([(0, None, None, None), (1, None, None, None)]), NONE, 1, 8, CONTINUE)
    assert order.tolist() == [0, 1] and status.tolist() == [0, 5] and gaps == []


def _arrays(msgs):
    arr = lambda k: np.array([N if m[k] is None else m[k] for m in msgs], dtype=np.int64)  # noqa: E731
    return np.array([m[0] for m in msgs], dtype=np.int8), arr(1), arr(2), arr(3)


def test_bad_arguments_are_refused():
    z = np.zeros(2, dtype=np.int64)
    with pytest.raises(ValueError, match="link rule"):
        sequence(np.zeros(2, dtype=np.int8), z, z, z, 7, 1, 4)
    with pytest.raises(ValueError, match="one entry per message"):
        sequence(np.zeros(3, dtype=np.int8), z, z, z, 1, 1, 4)
    with pytest.raises(ValueError, match="resync rule"):
        sequence(np.zeros(2, dtype=np.int8), z, z, z, 1, 1, 4, 5)


# ----------------------------------------------------------------------------- property-based
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def disturbed_stream(draw):
    """A snapshot then n linked diffs (random batch sizes), locally shuffled, some re-sent."""
    n = draw(st.integers(1, 40))
    sizes = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    start = draw(st.integers(1, 10**12))
    diffs, u = [], start
    for k in sizes:
        diffs.append((0, u + 1, u + k, u))
        u += k
    # shuffle: each message moves back by at most 2 positions (within a 4-message buffer)
    keys = [i + draw(st.floats(0, 2.5)) for i in range(n)]
    arrived = [d for _, d in sorted(zip(keys, diffs), key=lambda t: t[0])]
    dups = draw(st.lists(st.integers(0, n - 1), max_size=5))
    for j in dups:
        arrived.insert(min(len(arrived), j + 3), diffs[j])
    return [(1, None, start, None)] + arrived, diffs, len(dups)


@settings(max_examples=200, deadline=None)
@given(disturbed_stream(), st.sampled_from([FIRST, PREV]))
def test_local_disorder_and_resends_are_repaired_exactly(case, link):
    msgs, diffs, n_dups = case
    if link == PREV:  # futures: the REST lastUpdateId lies inside the first diff (U <= id <= u)
        msgs = [(1, None, diffs[0][1], None)] + msgs[1:]
    order, status, gaps, c = run(msgs, link, offset=1 if link == FIRST else 0, capacity=4)
    applied = [msgs[i] for i in order[1:]]
    assert order[0] == 0 and applied == diffs  # every diff once, in id order
    assert gaps == [] and c["duplicates"] == n_dups and c["stale"] == c["unsynced"] == 0


@settings(max_examples=100, deadline=None)
@given(disturbed_stream(), st.data())
def test_a_lost_diff_is_always_one_gap_at_its_id(case, data):
    msgs, diffs, _ = case
    if len(diffs) < 2:
        return
    lost = diffs[data.draw(st.integers(0, len(diffs) - 2))]  # not the last: something must follow it
    kept = [m for m in msgs if m != lost]
    order, status, gaps, c = run(kept, FIRST, capacity=4)
    assert len(gaps) == 1 and gaps[0][1] == lost[1]  # expected: the lost diff's first id
    applied = [kept[i] for i in order[1:] if i >= 0]
    assert applied == diffs[: diffs.index(lost)]


# ----------------------------------------------------------------------------- block by block
from obrecon_pipeline.feeds.l2._sequencer import Sequencer  # noqa: E402


def blockwise(arrays, cuts, link, offset, capacity, resync):
    """The day's messages fed to one :class:`Sequencer` in the blocks ``[cuts[k], cuts[k + 1])``:
    ``(order, gaps, counters, status counts)``."""
    s = Sequencer(link, offset, capacity, resync)
    parts = [s.feed(*(a[lo:hi] for a in arrays)) for lo, hi in zip(cuts[:-1], cuts[1:])]
    parts.append(s.finish())
    assert s.messages == cuts[-1]
    return np.concatenate(parts).tolist(), s.gaps, s.counters(), s.status_counts.tolist()


@st.composite
def rough_stream(draw):
    """Snapshots and diffs of a linked (or unlinked) feed with lost, re-sent and swapped
    messages, and the cuts of a block-wise run (empty blocks included)."""
    n = draw(st.integers(0, 60))
    msgs, u = [], draw(st.integers(1, 10**6))
    for _ in range(n):
        kind = draw(st.sampled_from(["diff"] * 6 + ["snapshot", "lost", "resend", "swap", "noid"]))
        k = draw(st.integers(1, 3))
        if kind == "snapshot":
            msgs.append((1, None, u + draw(st.integers(-2, 2)), None))
        elif kind == "noid":
            msgs.append((1, None, None, None) if draw(st.booleans()) else (0, None, None, None))
        elif kind == "resend" and msgs:
            msgs.append(msgs[draw(st.integers(0, len(msgs) - 1))])
        elif kind == "swap" and len(msgs) > 1:
            msgs[-1], msgs[-2] = msgs[-2], msgs[-1]
        else:
            if kind != "lost":
                msgs.append((0, u + 1, u + k, u))
            u += k
    cuts = sorted(draw(st.lists(st.integers(0, len(msgs)), max_size=8)))
    return msgs, [0, *cuts, len(msgs)]


@settings(max_examples=300, deadline=None)
@given(rough_stream(), st.sampled_from([NONE, FIRST, PREV]), st.integers(0, 1), st.integers(1, 4),
       st.sampled_from([0, CONTINUE]))
def test_blocks_of_any_size_sequence_as_the_whole_day(case, link, offset, capacity, resync):
    """Cut anywhere (one message a block, a few, empty blocks, the whole day), the stateful
    sequencer gives the whole day's order, gaps, counters and statuses."""
    msgs, cuts = case
    arrays = _arrays(msgs)
    order, status, gaps, counters = sequence(*arrays, link, offset, capacity, resync)
    counts = np.bincount(status[status >= 0].astype(np.int64), minlength=6).tolist()
    for blocks in (cuts, list(range(len(msgs) + 1)), [0, len(msgs)]):
        assert blockwise(arrays, blocks, link, offset, capacity, resync) == (order.tolist(), gaps, counters, counts)


def test_a_finished_sequencer_takes_no_more_messages():
    s = Sequencer(FIRST, 1, 4)
    z = np.zeros(1, dtype=np.int64)
    s.feed(np.zeros(1, dtype=np.int8), z, z, z)
    assert s.held == 1 and s.finish().tolist() == [] and s.counters()["unsynced"] == 1
    with pytest.raises(ValueError, match="finished"):
        s.feed(np.zeros(1, dtype=np.int8), z, z, z)
    with pytest.raises(ValueError, match="not kept"):
        s.status
    with pytest.raises(ValueError, match="link rule"):
        Sequencer(7, 1, 4)
