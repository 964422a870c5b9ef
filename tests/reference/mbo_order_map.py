"""A minimal pure-Python Databento MBO order map: the independent check of the Databento path.

It shares no code with the production path: records come from ``databento_dbn.DBNDecoder`` (one
Python object per record, not the NumPy view of :mod:`obrecon_pipeline.feeds.dbn`), the book is a
dict of orders plus per-side ``{price: aggregate size}`` dicts with bisect-sorted price lists, and
the rules are Databento's as documented (https://databento.com/docs/examples/order-book/order-tracking):

* ``A`` adds an order; ``C`` removes ``size`` from the order (at the order's own price and side,
  as held in the map) and drops it when nothing is left; ``M`` moves the order to its new price and
  size (an unknown id is added); ``R`` empties the book; ``T``, ``F`` and ``N`` change nothing.
* The book is read only after a record with ``F_LAST``: one output row per such record, the top
  ``levels`` of each side in the replayer's cell layout (bid price, bid size, ask price, ask size
  per level; prices in 1e-9 units, :data:`NULL` for an empty level).

Deliberately simple and slow (a Python loop per record); tests and benchmarks only.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from pathlib import Path

import databento_dbn
import numpy as np

NULL = np.iinfo(np.int64).min


class Side:
    """One side: aggregate size per price plus the prices in ascending order."""

    def __init__(self) -> None:
        self.size: dict[int, int] = {}
        self.prices: list[int] = []

    def change(self, price: int, delta: int) -> int:
        """Add ``delta`` at ``price``; returns the new aggregate (<= 0 removes the level)."""
        if price in self.size:
            new = self.size[price] + delta
        else:
            new = delta
            if new > 0:
                insort(self.prices, price)
        if new > 0:
            self.size[price] = new
        elif price in self.size:
            del self.size[price]
            del self.prices[bisect_left(self.prices, price)]
        return new


class OrderMapBook:
    def __init__(self) -> None:
        self.orders: dict[int, list] = {}  # order_id -> [side char, price, size]
        self.sides = {"B": Side(), "A": Side()}
        self.unknown_orders = 0
        self.negative_sizes = 0

    def apply(self, action: str, side: str, price: int, size: int, order_id: int) -> None:
        if action == "A":
            self.orders[order_id] = [side, price, size]
            self.sides[side].change(price, size)
        elif action == "C":
            order = self.orders.get(order_id)
            if order is None:
                self.unknown_orders += 1
                return
            if self.sides[order[0]].change(order[1], -size) < 0:
                self.negative_sizes += 1
            order[2] -= size
            if order[2] <= 0:
                if order[2] < 0:
                    self.negative_sizes += 1
                del self.orders[order_id]
        elif action == "M":
            order = self.orders.get(order_id)
            if order is None:
                self.unknown_orders += 1
                order = self.orders[order_id] = [side, price, 0]
            else:
                self.sides[order[0]].change(order[1], -order[2])
            order[:] = [side, price, size]
            self.sides[side].change(price, size)
            if size == 0:
                del self.orders[order_id]
        elif action == "R":
            self.orders.clear()
            self.sides = {"B": Side(), "A": Side()}

    def top(self, levels: int) -> list[int]:
        """One row in the cell layout: per level bid price, bid size, ask price, ask size."""
        bids, asks = self.sides["B"], self.sides["A"]
        best_bids = bids.prices[::-1][:levels]
        best_asks = asks.prices[:levels]
        row = []
        for i in range(levels):
            if i < len(best_bids):
                row += [best_bids[i], bids.size[best_bids[i]]]
            else:
                row += [NULL, NULL]
            if i < len(best_asks):
                row += [best_asks[i], asks.size[best_asks[i]]]
            else:
                row += [NULL, NULL]
        return row


def mbo_records(path: str | Path, instrument_id: int | None = None) -> list:
    """Every MBO record of a ``.dbn.zst`` file as databento-dbn Python objects."""
    decoder = databento_dbn.DBNDecoder(compression=databento_dbn.Compression.ZSTD)
    decoder.write(Path(path).read_bytes())
    records = [r for r in decoder.decode() if isinstance(r, databento_dbn.MBOMsg)]
    if instrument_id is not None:
        records = [r for r in records if r.instrument_id == instrument_id]
    return records


def replay_reference(records: list, levels: int) -> tuple[np.ndarray, np.ndarray, OrderMapBook]:
    """Top-``levels`` book after every ``F_LAST`` record: ``(int64[rows, 4*levels], record index
    of each row, final book)``."""
    book = OrderMapBook()
    rows: list[list[int]] = []
    at: list[int] = []
    last = databento_dbn.F_LAST
    for i, r in enumerate(records):
        book.apply(str(r.action), str(r.side), r.price, r.size, r.order_id)
        if r.flags & last:
            rows.append(book.top(levels))
            at.append(i)
    cells = np.array(rows, dtype=np.int64).reshape(len(rows), 4 * levels)
    return cells, np.array(at, dtype=np.int64), book
