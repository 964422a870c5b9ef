"""Second, independent path: a pure-Python order map replays the ESH4 records (decoded by
databento-dbn's own record objects) and must give the production replayer's top-10 book at every
F_LAST record, cell for cell."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from obrecon_pipeline.feeds.databento import discover, load
from obrecon_pipeline.replay import replay

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference"))
from mbo_order_map import mbo_records, replay_reference  # noqa: E402
from tests.conftest import RAW

DAY_DIR = RAW / "databento" / "2023-12-25"


def test_top10_identical_at_every_f_last():
    (stream,) = discover(DAY_DIR, "2023-12-25")
    loaded = load(stream)
    result = replay(loaded.events, 10, loaded.options)

    records = mbo_records(stream.files[0], instrument_id=17077)
    assert len(records) == 68_792
    cells, at, book = replay_reference(records, 10)

    assert cells.shape == result.cells.shape == (47_022, 40)
    assert np.array_equal(at, result.row_event)
    mismatched = np.flatnonzero((cells != result.cells).any(axis=1))
    assert mismatched.size == 0, f"first mismatching F_LAST row: {mismatched[:1]}"
    assert (book.unknown_orders, book.negative_sizes) == (0, 0)
    # the reference's final book: 11,217 resting orders
    assert len(book.orders) == 11_217
