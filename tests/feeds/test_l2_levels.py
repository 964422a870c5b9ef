"""The L2 levels of a book, parsed by a reader (``add_scaled``: mantissa and decimals) and as text
(a snapshot), in two stores scaled where gathered: known answers at the symbol's scale, and the
text path's located error when a parsed value does not fit at it."""

from dataclasses import dataclass

import numpy as np
import polars as pl
import pytest

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.l2.messages import MESSAGE_SCHEMA, BookMessages, Sequencing


@dataclass
class Rec:
    path: str
    line: int
    ts_ns: int


def scaled_diffs(lines, prices, sizes):
    """Diffs at ``lines``, one level each: ``prices``/``sizes`` as (mantissa, decimals)."""
    n = len(lines)
    messages = pl.DataFrame({"snapshot": [False] * n, "ts_event": lines, "ts_recv": lines, "file": [0] * n,
                             "src_row": lines, "first": lines, "last": lines, "prev": [None] * n,
                             "checksum": [None] * n}, schema=MESSAGE_SCHEMA)
    levels = {"side": np.ones(n, dtype=np.int8),
              "price_m": np.array([m for m, _ in prices], dtype=np.int64),
              "price_f": np.array([f for _, f in prices], dtype=np.int8),
              "size_m": np.array([m for m, _ in sizes], dtype=np.int64),
              "size_f": np.array([f for _, f in sizes], dtype=np.int8)}
    return messages, np.ones(n, dtype=np.int64), levels


def book(prices_before, snapshot_price, prices_after):
    b = BookMessages("X", Sequencing(link="first"))
    b.add_scaled(["cap"], *scaled_diffs([2, 3], prices_before, [(5, 0), (25, 1)]))
    b.snapshot(Rec("rest", 1, 4), [(snapshot_price, "1.5")], [], update_id=4)
    b.add_scaled(["cap"], *scaled_diffs([5], prices_after, [(7, 0)]))
    return b


def test_parsed_and_text_levels_meet_at_the_finest_scale():
    b = book([(123, 2), (45678, 4)], "1.000001", [(9, 0)])
    table, price_dec, size_dec = b.levels()
    assert (price_dec, size_dec) == (6, 1)
    assert table["price"].to_list() == [1_230_000, 4_567_800, 1_000_001, 9_000_000]
    assert table["size"].to_list() == [50, 25, 15, 70]
    assert table["src_row"].to_list() == [2, 3, 1, 5]
    events = b.to_loaded(None).events  # snapshot (CLEAR + its level), then the diff after it
    assert events["price"].to_list() == [0, 1_000_001, 9_000_000]
    assert events["price_scale"].unique().to_list() == [10**6]


def test_a_parsed_value_beyond_int64_at_the_scale_is_the_text_paths_error():
    b = book([(10**14, 0), (1, 0)], "1.00001", [(1, 0)])  # 10**14 at 5 decimals: 10**19
    with pytest.raises(InputError, match="cap"):
        b.levels()
