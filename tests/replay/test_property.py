"""Property tests: the Cython replayer and the pure-Python model agree after every event.

Random valid event streams (L3 adds, partial cancels, executions, deletes, modifies; L2 level sets
and clears) go through both; every output cell, the re-seed count and the integrity-error count
must be identical. A second property builds a LOBSTER-style windowed feed from a random full book
(keeping only events that touch the best L levels, with the true top-L book as the reference) and
requires the re-seeded replay to reproduce the true book exactly. A third cuts the same streams
into chunks at random boundaries (anywhere, mid-message too) and feeds them to one
:class:`Replayer`: the rows must still be the model's.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obrecon_pipeline.codes import NULL_CELL as NULL, UNKNOWN_CELL as UNKNOWN
from obrecon_pipeline.events import Action, Flag, conform
from obrecon_pipeline.streams import ReplayOptions
from obrecon_pipeline.replay import Replayer, replay
from obrecon_pipeline.replay.pymodel import UNKNOWN as PY_UNKNOWN, PyBook, replay_python

END = int(Flag.END_OF_MESSAGE)


def to_frame(events: list[tuple]) -> pl.DataFrame:
    n = len(events)
    cols = list(zip(*events)) if events else [[]] * 6
    return conform(pl.DataFrame({
        "ts_event": np.arange(n, dtype=np.int64),
        "arrival": np.arange(n, dtype=np.int64),
        "src_row": np.arange(1, n + 1, dtype=np.int64),
        "action": pl.Series(cols[0], dtype=pl.Int8),
        "side": pl.Series(cols[1], dtype=pl.Int8),
        "price": pl.Series(cols[2], dtype=pl.Int64),
        "size": pl.Series(cols[3], dtype=pl.Int64),
        "order_id": pl.Series(cols[4], dtype=pl.UInt64),
        "flags": pl.Series(cols[5], dtype=pl.UInt8),
        "price_scale": pl.Series([100] * n, dtype=pl.Int64),
        "size_scale": pl.Series([1] * n, dtype=pl.Int64),
    }))


def py_cells(rows: list[list], levels: int) -> np.ndarray:
    def cell(v):
        return NULL if v is None else UNKNOWN if v == PY_UNKNOWN else v
    return np.array([[cell(v) for v in row] for row in rows], dtype=np.int64).reshape(len(rows), 4 * levels)


@st.composite
def l3_streams(draw):
    """A valid L3 stream: reductions only ever target live orders, by at most their size."""
    live: dict[int, list] = {}
    next_id = 1
    events = []
    for _ in range(draw(st.integers(1, 120))):
        kind = draw(st.sampled_from(["add", "add", "add", "reduce", "modify", "clear"] if live else ["add"]))
        flags = END if draw(st.integers(0, 4)) else 0
        if kind == "add":
            side = draw(st.sampled_from([1, -1]))
            price = draw(st.integers(90, 99)) if side > 0 else draw(st.integers(101, 110))
            size = draw(st.integers(1, 50))
            live[next_id] = [side, price, size]
            events.append((Action.ADD, side, price, size, next_id, flags))
            next_id += 1
        elif kind == "reduce":
            oid = draw(st.sampled_from(sorted(live)))
            side, price, size = live[oid]
            action = draw(st.sampled_from([Action.CANCEL, Action.EXECUTE, Action.DELETE]))
            qty = size if action == Action.DELETE else draw(st.integers(1, size))
            events.append((action, side, price, qty, oid, flags))
            if qty == size:
                del live[oid]
            else:
                live[oid][2] -= qty
        elif kind == "modify":
            oid = draw(st.sampled_from(sorted(live)))
            side = live[oid][0]
            price = draw(st.integers(90, 99)) if side > 0 else draw(st.integers(101, 110))
            size = draw(st.integers(1, 60))
            live[oid] = [side, price, size]
            events.append((Action.MODIFY, side, price, size, oid, flags))
        else:
            side = draw(st.sampled_from([0, 1, -1]))
            live = {k: v for k, v in live.items() if side != 0 and v[0] != side}
            events.append((Action.CLEAR, side, 0, 0, 0, flags))
    return events


@st.composite
def l2_streams(draw):
    events = []
    for _ in range(draw(st.integers(1, 120))):
        flags = END if draw(st.integers(0, 3)) else 0
        if draw(st.integers(0, 15)) == 0:
            events.append((Action.CLEAR, draw(st.sampled_from([0, 1, -1])), 0, 0, 0, flags))
        else:
            side = draw(st.sampled_from([1, -1]))
            price = draw(st.integers(80, 99)) if side > 0 else draw(st.integers(101, 120))
            events.append((Action.SET_LEVEL, side, price, draw(st.integers(0, 30)), 0, flags))
    return events


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(l3_streams(), st.integers(1, 6), st.sampled_from(["event", "message"]))
def test_l3_streams_match_python_model(events, levels, emit):
    res = replay(to_frame(events), levels, ReplayOptions(emit=emit, strict_orders=True))
    rows, book = replay_python(events, levels, strict_orders=True, emit_every_event=emit == "event")
    assert np.array_equal(res.cells, py_cells(rows, levels))
    assert res.counters["integrity_errors"] == book.integrity_errors == 0


@SETTINGS
@given(l2_streams(), st.integers(1, 8))
def test_l2_streams_match_python_model(events, levels):
    res = replay(to_frame(events), levels, ReplayOptions())
    rows, _ = replay_python(events, levels)
    assert np.array_equal(res.cells, py_cells(rows, levels))


def windowed_feed(rng, n_events: int, window: int):
    """A LOBSTER-style level-L feed cut from a random full L3 stream, with its true top-L book.

    LOBSTER keeps a message when it touches the best L levels of its side before or after it; the
    reference row after each kept message is the true top-L book.
    """
    truth = PyBook()
    live: dict[int, list] = {}
    kept, reference = [], []
    for oid in range(1, n_events + 1):
        if live and rng.random() < 0.5:
            oid = rng.choice(sorted(live))
            if rng.random() < 0.5:  # most removals hit the touch, as executions do
                best = max(live.values(), key=lambda o: o[1] * o[0])
                oid = next(k for k, o in sorted(live.items()) if o[:2] == best[:2])
            side, price, size = live[oid]
            action = rng.choice([Action.CANCEL, Action.EXECUTE, Action.DELETE])
            qty = size if action == Action.DELETE else rng.randint(1, size)
            if qty == size:
                del live[oid]
            else:
                live[oid][2] -= qty
        else:
            side = rng.choice([1, -1])
            # orders cluster near the touch but reach deep, so levels keep emptying and refilling
            depth = int(min(rng.expovariate(0.25), 30.0))
            price = 99 - depth if side > 0 else 101 + depth
            action, qty = Action.ADD, rng.randint(1, 50)
            live[oid] = [side, price, qty]
        before = [p for p, _ in truth.ranked(side)[:window]]
        truth.apply(action, side, price, qty, oid)
        after = [p for p, _ in truth.ranked(side)[:window]]
        if price in before or price in after:
            kept.append((action, side, price, qty, oid, END))
            reference.append(truth.top(window))
    return kept, reference


def check_windowed(kept, reference, window):
    ref = py_cells(reference, window)
    res = replay(to_frame(kept), window, ReplayOptions(window=window), reference=ref, seed=True)
    assert np.array_equal(res.cells, ref)  # the true book, cell for cell
    rows, book = replay_python(kept, window, window=window, reference=reference, seed=True)
    assert np.array_equal(res.cells, py_cells(rows, window))
    assert res.counters["reseeds"] == book.reseeds
    blind = replay(to_frame(kept), window, ReplayOptions(window=window), reference=ref, seed=True, reseed=False)
    known = blind.cells != UNKNOWN
    assert np.array_equal(blind.cells[known], ref[known])  # without re-seeds: nulls, never wrong
    return res.counters["reseeds"], int((~known).sum())


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(2, 300), st.integers(1, 4))
def test_windowed_feed_is_rebuilt_exactly_with_reseeds(rng, n_events, window):
    kept, reference = windowed_feed(rng, n_events, window)
    if kept:
        check_windowed(kept, reference, window)


def test_long_windowed_feed_needs_and_gets_reseeds():
    import random

    kept, reference = windowed_feed(random.Random(20120621), 20_000, 3)
    reseeds, unknown = check_windowed(kept, reference, 3)
    assert len(kept) > 5_000
    assert reseeds > 100 and unknown > 100  # levels really did enter the window from outside


def in_chunks(events: list[tuple], levels: int, options: ReplayOptions, cuts: list[int],
              reference: np.ndarray | None = None, seed: bool = False, reseed: bool = True) -> np.ndarray:
    """The rows of one Replayer fed ``events`` in the chunks between ``cuts``."""
    frame = to_frame(events)
    r = Replayer(levels, options, reference_depth=0 if reference is None else reference.shape[1] // 4,
                 reseed=reseed, price_scale=100)
    if seed:
        r.seed(reference[0])
    bounds = [0, *cuts, len(events)]
    rows = [np.array(r.apply(frame.slice(a, b - a), None if reference is None else reference[a:b]).cells)
            for a, b in zip(bounds, bounds[1:])]
    assert r.events == len(events)
    return np.concatenate(rows)


def cuts_of(data, n: int) -> list[int]:
    return sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=12))) if n > 1 else []


@SETTINGS
@given(l3_streams(), st.integers(1, 6), st.sampled_from(["event", "message"]), st.data())
def test_l3_streams_in_random_chunks_match_python_model(events, levels, emit, data):
    cells = in_chunks(events, levels, ReplayOptions(emit=emit, strict_orders=True), cuts_of(data, len(events)))
    rows, _ = replay_python(events, levels, strict_orders=True, emit_every_event=emit == "event")
    assert np.array_equal(cells, py_cells(rows, levels).reshape(-1, 4 * levels))


@SETTINGS
@given(l2_streams(), st.integers(1, 8), st.sampled_from([0, 3]), st.data())
def test_l2_streams_in_random_chunks_match_python_model(events, levels, window, data):
    cells = in_chunks(events, levels, ReplayOptions(window=window, emit="message"), cuts_of(data, len(events)))
    rows, _ = replay_python(events, levels, window=window, emit_every_event=False)
    assert np.array_equal(cells, py_cells(rows, levels).reshape(-1, 4 * levels))


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(2, 300), st.integers(1, 4), st.booleans(), st.data())
def test_windowed_feed_in_random_chunks_matches_python_model(rng, n_events, window, reseed, data):
    kept, reference = windowed_feed(rng, n_events, window)
    if not kept:
        return
    ref = py_cells(reference, window)
    cells = in_chunks(kept, window, ReplayOptions(window=window), cuts_of(data, len(kept)), reference=ref,
                      seed=True, reseed=reseed)
    rows, _ = replay_python(kept, window, window=window, reference=reference, seed=True, reseed=reseed)
    assert np.array_equal(cells, py_cells(rows, window))


@SETTINGS
@given(l3_streams(), st.integers(1, 6))
def test_ladder_loop_ceiling_rebuilds_the_same_rows_on_l3_adds_and_removals(events, levels):
    """The benchmarks' ceiling (ladder alone, no order map) writes the replayer's rows on a valid
    L3 stream of adds, cancels, executions and deletes."""
    from obrecon_pipeline.replay._book import ladder_loop

    events = [e for e in events if e[0] not in (Action.MODIFY, Action.CLEAR)]
    if not events:
        return
    action, side, price, size = (np.array(c) for c in list(zip(*events))[:4])
    delta = np.where(action == Action.ADD, size, -size).astype(np.int64)
    out = np.empty((len(events), 4 * levels), dtype=np.int64)
    ladder_loop(side.astype(np.int8), price.astype(np.int64), delta, out)
    assert np.array_equal(out, replay(to_frame(events), levels, ReplayOptions()).cells)


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(2, 300), st.integers(1, 4), st.floats(0, 0.9))
def test_a_file_that_starts_mid_day_replays_from_an_empty_book_like_the_model(rng, n_events, window, cut):
    """A LOBSTER file sold without its orderbook file: no seed, so orders resting before the file
    are in no level. Their cancels/executes/deletes are counted as unknown ids and change nothing
    (``unseen_orders_in_book=False``), cell for cell as the Python model does."""
    kept, _ = windowed_feed(rng, n_events, window)
    later = kept[int(cut * len(kept)):]
    if not later:
        return
    options = ReplayOptions(window=window, unseen_orders_in_book=False)
    res = replay(to_frame(later), window, options)
    rows, _ = replay_python(later, window, window=window, unseen_orders_in_book=False)
    assert np.array_equal(res.cells, py_cells(rows, window))
    seen, unseen = set(), 0
    for action, _, _, _, oid, _ in later:
        if action == Action.ADD:
            seen.add(oid)
        elif oid not in seen:
            unseen += 1
    assert res.counters["unknown_order_ids"] == unseen
