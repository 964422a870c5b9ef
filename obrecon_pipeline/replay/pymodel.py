"""A small pure-Python order book with the replayer's semantics, written independently of it.

It is the oracle for the property tests (random event streams must give identical books after
every event) and the pure-Python baseline in ``benchmarks/replay.py``. It uses dicts keyed by
price and sorts on output: slow and obviously right.

Semantics (the same contract as :mod:`obrecon_pipeline.replay._replayer`):

* L3 actions change the level at the event's own side and price by the event's size (ADD +size;
  CANCEL, EXECUTE, DELETE -size); MODIFY moves the order's whole remaining size from its old
  price to the event's price and size; the order map tracks side, price and remaining size.
* SET_LEVEL sets an aggregate level, CLEAR empties a side (``side`` = BID/ASK) or the book.
* A *window* of L levels means only events touching the best L levels are in the feed: once a
  side holds L levels it is known only down to its L-th level (the frontier), events beyond it
  are ignored, a level that enters from beyond is unknown unless re-seeded from the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from obrecon_pipeline.events import Action, Flag

UNKNOWN = "unknown"  #: marker of a cell the events cannot determine


def _better_or_equal(side: int, price: int, than: int) -> bool:
    return price >= than if side > 0 else price <= than


@dataclass
class PyBook:
    window: int = 0
    strict_orders: bool = False
    unseen_orders_in_book: bool = True
    levels: dict = field(default_factory=lambda: {1: {}, -1: {}})
    bounded: dict = field(default_factory=lambda: {1: False, -1: False})
    frontier: dict = field(default_factory=lambda: {1: 0, -1: 0})
    orders: dict = field(default_factory=dict)
    reseeds: int = 0
    integrity_errors: int = 0

    def ranked(self, side: int) -> list[tuple[int, int]]:
        """(price, size) of a side's known levels, best first."""
        return sorted(self.levels[side].items(), key=lambda kv: -kv[0] * side)

    def _knows(self, side: int, price: int) -> bool:
        return not self.bounded[side] or _better_or_equal(side, price, self.frontier[side])

    def _set(self, side: int, price: int, size: int) -> None:
        """The level at ``price`` holds ``size``: removed at 0, an integrity error below."""
        if size > 0:
            self.levels[side][price] = size
        else:
            self.levels[side].pop(price, None)
            if size < 0:
                self.integrity_errors += 1

    def _change(self, side: int, price: int, delta: int) -> None:
        if self._knows(side, price):
            self._set(side, price, self.levels[side].get(price, 0) + delta)

    def _apply_window(self) -> None:
        for side in (1, -1):
            ranked = self.ranked(side)
            if self.window and len(ranked) >= self.window:
                for price, _ in ranked[self.window:]:
                    del self.levels[side][price]
                self.bounded[side] = True
                self.frontier[side] = ranked[self.window - 1][0]

    def apply(self, action: int, side: int, price: int, size: int, order_id: int) -> None:
        if action == Action.ADD:
            if order_id:
                if order_id in self.orders and self.strict_orders:
                    self.integrity_errors += 1
                self.orders[order_id] = [side, price, size]
            self._change(side, price, size)
        elif action in (Action.CANCEL, Action.EXECUTE, Action.DELETE):
            order = self.orders.get(order_id) if order_id else None
            if order is None:
                if self.strict_orders:
                    self.integrity_errors += 1
            elif action == Action.DELETE or order[2] <= size:
                del self.orders[order_id]
            else:
                order[2] -= size
            if order is not None or self.unseen_orders_in_book:
                self._change(side, price, -size)
        elif action == Action.MODIFY:
            order = self.orders.get(order_id) if order_id else None
            if order is None:
                if self.strict_orders:
                    self.integrity_errors += 1
                self.orders[order_id] = [side, price, size]
                self._change(side, price, size)
            else:
                self._change(order[0], order[1], -order[2])
                self._change(side, price, size)
                if size > 0:
                    self.orders[order_id] = [side, price, size]
                else:
                    del self.orders[order_id]
        elif action == Action.SET_LEVEL:
            self._set(side, price, size)
        elif action == Action.CLEAR:
            for s in (1, -1):
                if side == 0 or side == s:
                    self.levels[s].clear()
                    self.bounded[s] = False
                    self.orders = {k: o for k, o in self.orders.items() if o[0] != s}
        self._apply_window()

    def reseed(self, reference_row: list) -> None:
        """Fill levels a bounded side cannot see from the reference row (bid_px, bid_sz, ask_px, ask_sz per level)."""
        depth = len(reference_row) // 4
        for side, offset in ((1, 0), (-1, 2)):
            while self.bounded[side] and len(self.levels[side]) < depth:
                r = len(self.levels[side])
                price, size = reference_row[4 * r + offset], reference_row[4 * r + offset + 1]
                if price is None:
                    self.bounded[side] = False
                    break
                if _better_or_equal(side, price, self.frontier[side]):
                    break
                self.levels[side][price] = size
                self.frontier[side] = price
                self.reseeds += 1

    def seed(self, reference_row: list) -> None:
        depth = len(reference_row) // 4
        for side, offset in ((1, 0), (-1, 2)):
            self.levels[side] = {}
            self.bounded[side] = False
            for r in range(depth):
                price = reference_row[4 * r + offset]
                if price is None:
                    break
                self.levels[side][price] = reference_row[4 * r + offset + 1]
            else:
                self.bounded[side] = True
                self.frontier[side] = reference_row[4 * (depth - 1) + offset]

    def top(self, n: int) -> list:
        """``[bid_px, bid_sz, ask_px, ask_sz] * n``: None for empty, :data:`UNKNOWN` for unknown."""
        row: list = []
        bids, asks = self.ranked(1), self.ranked(-1)
        for r in range(n):
            for side, ranked in ((1, bids), (-1, asks)):
                if r < len(ranked):
                    row.extend(ranked[r])
                elif self.bounded[side]:
                    row.extend((UNKNOWN, UNKNOWN))
                else:
                    row.extend((None, None))
        return row


def replay_python(events: list[tuple], levels: int, window: int = 0, strict_orders: bool = False,
                  reference: list[list] | None = None, seed: bool = False, reseed: bool = True,
                  emit_every_event: bool = True, unseen_orders_in_book: bool = True) -> tuple[list[list], PyBook]:
    """Replay ``(action, side, price, size, order_id, flags)`` tuples; rows of :meth:`PyBook.top`."""
    book = PyBook(window=window, strict_orders=strict_orders, unseen_orders_in_book=unseen_orders_in_book)
    rows: list[list] = []
    start = 0
    if seed:
        book.seed(reference[0])
        rows.append(book.top(levels))
        start = 1
    for i in range(start, len(events)):
        action, side, price, size, order_id, flags = events[i]
        book.apply(action, side, price, size, order_id)
        if flags & Flag.END_OF_MESSAGE and reference is not None and reseed:
            book.reseed(reference[i])
        if emit_every_event or flags & Flag.END_OF_MESSAGE:
            rows.append(book.top(levels))
    return rows, book
