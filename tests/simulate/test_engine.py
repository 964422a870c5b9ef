"""The Cython engine writes the bytes of the pure-Python reference, block by block."""

from __future__ import annotations

import numpy as np
import pytest

from obrecon_pipeline.simulate._csv import BookText, MessageText
from obrecon_pipeline.simulate._engine import MESSAGE_FIELDS, Simulator
from obrecon_pipeline.simulate.params import ModelParams, tables
from obrecon_pipeline.simulate.pymodel import simulate_bytes

DEFAULT = tables(ModelParams(burn_in=2_000))


def engine_bytes(t, levels: int, messages: int, seed: int, rows: int) -> tuple[bytes, bytes]:
    """The engine's files, filled ``rows`` messages at a time."""
    sim = Simulator(t, levels, messages, seed)
    cap = rows + sim.block_slack
    msgs, book = np.empty((cap, MESSAGE_FIELDS), np.int64), np.empty((cap, 4 * levels), np.int64)
    msg_text, book_text = MessageText(cap), BookText(levels, cap)
    out_m, out_b = [], []
    while not sim.done:
        n = sim.fill(msgs, book, rows)
        assert 0 < n < rows + sim.block_slack
        sim.clock.stamp(msgs, n)
        out_m.append(bytes(msg_text.format(msgs, n)))
        out_b.append(bytes(book_text.format(book, n)))
    assert sim.written == messages
    return b"".join(out_m), b"".join(out_b)


@pytest.mark.parametrize("levels", [1, 5, 10])
@pytest.mark.parametrize("seed", [1, 2, 2**64 - 1])
@pytest.mark.parametrize("messages", [30, 3_000])
def test_engine_matches_reference(levels, seed, messages):
    assert engine_bytes(DEFAULT, levels, messages, seed, rows=1_000) == simulate_bytes(DEFAULT, levels, messages, seed)


@pytest.mark.parametrize("params", [
    ModelParams(burn_in=500, depth=5),  # a book narrower than its window
    ModelParams(burn_in=500, theta=2.0, depth=20, hidden=0.0),  # thin book, no hidden executions
    ModelParams(burn_in=500, odd_lots=0.0, partial=0.5, sweep=0.9),  # deep sweeps, many partial cancels
    ModelParams(burn_in=500, price=500, depth=30),  # the grid's lower edge: orders below 1 tick refused
], ids=["narrow", "thin", "sweeps", "grid-edge"])
def test_engine_matches_reference_across_the_model(params):
    t = tables(params)
    assert engine_bytes(t, 10, 5_000, 7, rows=777) == simulate_bytes(t, 10, 5_000, 7)


def test_block_size_does_not_change_the_bytes():
    one = engine_bytes(DEFAULT, 10, 4_000, 3, rows=1)
    assert one == engine_bytes(DEFAULT, 10, 4_000, 3, rows=4_000)


def test_counters():
    sim = Simulator(DEFAULT, 10, 5_000, 11)
    cap = 5_000 + sim.block_slack
    msgs = np.empty((cap, MESSAGE_FIELDS), np.int64)
    assert sim.fill(msgs, np.empty((cap, 40), np.int64), 5_000) == 5_000 and sim.done
    counts = sim.type_counts
    assert sum(counts.values()) == 5_000
    assert all(counts[k] > 0 for k in range(1, 6))
    assert all((msgs[:5_000, 1] == k).sum() == counts[k] for k in range(1, 6))
    assert sim.steps > 5_000  # events beyond the 10 levels are not in the file


def test_refuses_short_blocks():
    sim = Simulator(DEFAULT, 2, 100, 1)
    with pytest.raises(ValueError, match="block arrays need"):
        sim.fill(np.empty((10, MESSAGE_FIELDS), np.int64), np.empty((10, 8), np.int64), 10)
    with pytest.raises(ValueError, match="wrong width"):
        sim.fill(np.empty((10, MESSAGE_FIELDS), np.int64), np.empty((10, 4), np.int64), 10)
