"""Pure-Python reference of the simulator, written independently of the Cython engine.

It defines the simulation step by step (the engine in ``_sim.pyx`` must write the same bytes) and
is the oracle of the tests and the baseline of ``benchmarks/simulate.py``. Slow and plain: sorted
tick lists with :mod:`bisect`, one Python list per price level.

The chain (model and rates: :mod:`obrecon_pipeline.simulate.params`), one event per step:

1. ``r = below(W)`` with ``W = 2*Lambda + 2*mu + 2*eta + theta*N`` (``Lambda`` the last entry of
   ``limit_cum``, ``N`` the resting orders) picks, in this order, a buy limit order, a sell limit
   order (distance ``i`` from ``limit_cum``), a buy or a sell marketable order, a hidden buy or
   sell execution, or the cancellation of resting order number ``(r - base) // theta`` of the
   live list (new orders are appended; a removed order's place is taken by the last one).
2. A limit order draws its size and rests at ``i`` ticks from the opposite best (the last best
   when that side is empty).
3. A marketable order draws its size and ``K``; it is dropped when the opposite side is empty,
   otherwise its limit is the opposite best ``K`` ticks through; it executes against the best
   level's oldest order while its limit allows (one type-4 message per resting order), and its
   remainder rests at its limit (type 1).
4. A hidden execution draws its size and ``j = below(spread)``; on a book with both sides it is
   a type-5 message at ``best bid + j`` (a hidden buy) or ``best ask - j`` (a hidden sell).
5. A cancellation draws ``partial``; a partial one on an order of ``s >= 2`` shares draws the
   cancelled size ``1 + below(s - 1)`` (type 2), anything else deletes the order (type 3).

Every accepted order (in the grid, not dropped) takes the next order id. ``below(n)`` is
``(x * n) >> 64`` of the next xoshiro256** output ``x``; tables are searched with ``bisect``.

Level-L file: a submission is written when its level is among the best L of its side after it,
a cancel, delete or execution when the order's level is among the best L before it, a hidden
execution always (as in LOBSTER's files). Row k of the orderbook file is the book after message
k. The first ``burn_in`` events (and any further ones until both sides hold an order) happen
before 09:30 and are not written.

Clock: the file's ``n`` messages are a Poisson process on [34200, 57600) s conditioned on ``n``
points, i.e. sorted uniforms, drawn in order from a second generator: ``u_k = u_{k-1} +
(1 - u_{k-1}) * (1 - V**(1/(n-k+1)))`` (``V`` uniform in (0, 1]); the messages of one event all
carry the time of its first one. The day ends after exactly ``n`` messages.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort

from obrecon_pipeline.events import Action, Side
from obrecon_pipeline.simulate.params import Tables

MASK = (1 << 64) - 1
SESSION_START_NS = 34_200 * 10**9
SESSION_NS = 23_400 * 10**9
EMPTY_ASK = 9_999_999_999
EMPTY_BID = -9_999_999_999


def splitmix64(state: int) -> tuple[int, int]:
    """``(next state, output)`` of Steele, Lea & Flood's SplitMix64."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


class Xoshiro256:
    """Blackman & Vigna's xoshiro256** (state from four SplitMix64 outputs)."""

    def __init__(self, state: list[int]):
        self.s = state

    def next(self) -> int:
        s0, s1, s2, s3 = self.s
        x = (s1 * 5) & MASK
        result = ((((x << 7) | (x >> 57)) & MASK) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & MASK
        self.s = [s0, s1, s2, s3]
        return result

    def below(self, n: int) -> int:
        return (self.next() * n) >> 64

    def pick(self, cumulative: list[int]) -> int:
        return bisect_right(cumulative, self.below(cumulative[-1]))


def generators(day_seed: int) -> tuple[Xoshiro256, Xoshiro256]:
    """The order-flow and the clock generator of a day: eight SplitMix64 outputs of its seed."""
    state, words = day_seed, []
    for _ in range(8):
        state, out = splitmix64(state)
        words.append(out)
    return Xoshiro256(words[:4]), Xoshiro256(words[4:])


class _Order:
    __slots__ = ("id", "side", "tick", "size")

    def __init__(self, oid: int, side: int, tick: int, size: int):
        self.id, self.side, self.tick, self.size = oid, side, tick, size


class _Side:
    """One side of the book: a FIFO list of orders per tick, the ticks sorted ascending."""

    def __init__(self, side: int, reference: int):
        self.side = side
        self.queues: dict[int, list[_Order]] = {}
        self.ticks: list[int] = []
        self.reference = reference  #: the best tick, or the last one while the side is empty

    def best(self) -> int:
        return self.ticks[-1] if self.side == Side.BID else self.ticks[0]

    def rank(self, tick: int) -> int:
        """1 + the number of levels strictly better than ``tick``."""
        if self.side == Side.BID:
            return len(self.ticks) - bisect_right(self.ticks, tick) + 1
        return bisect_left(self.ticks, tick) + 1

    def top(self, n: int) -> list[int]:
        return self.ticks[::-1][:n] if self.side == Side.BID else self.ticks[:n]

    def add(self, order: _Order) -> None:
        queue = self.queues.get(order.tick)
        if queue is None:
            self.queues[order.tick] = [order]
            insort(self.ticks, order.tick)
        else:
            queue.append(order)
        self.reference = self.best()

    def remove(self, order: _Order) -> None:
        queue = self.queues[order.tick]
        queue.remove(order)
        if not queue:
            del self.queues[order.tick]
            self.ticks.remove(order.tick)
            if self.ticks:
                self.reference = self.best()


class PyMarket:
    """The market of one day: ``run()`` returns the message and orderbook files' bytes."""

    def __init__(self, t: Tables, levels: int, messages: int, day_seed: int):
        self.t = t
        self.levels = levels
        self.n = messages
        self.flow, self.clock = generators(day_seed)
        self.sides = {Side.BID: _Side(Side.BID, t.start_tick - 1), Side.ASK: _Side(Side.ASK, t.start_tick + 1)}
        self.live: list[_Order] = []
        self.position: dict[int, int] = {}  # order id -> index in live
        self.next_id = 1
        self.writing = False
        self.written = 0
        self.u = 0.0
        self.event_time = -1
        self.msg_lines: list[str] = []
        self.book_lines: list[str] = []

    # ------------------------------------------------------------------ output

    def _time(self) -> int:
        v = ((self.clock.next() >> 11) + 1) * 2.0**-53
        self.u = self.u + (1.0 - self.u) * -math.expm1(math.log(v) / (self.n - self.written))
        return SESSION_START_NS + int(self.u * 23400e9)

    def _book_row(self) -> str:
        cells = []
        asks = self.sides[Side.ASK].top(self.levels)
        bids = self.sides[Side.BID].top(self.levels)
        for i in range(self.levels):
            for side, ticks, empty in ((Side.ASK, asks, EMPTY_ASK), (Side.BID, bids, EMPTY_BID)):
                if i < len(ticks):
                    tick = ticks[i]
                    cells += [tick * self.t.tick, sum(o.size for o in self.sides[side].queues[tick])]
                else:
                    cells += [empty, 0]
        return ",".join(map(str, cells))

    def _write(self, kind: int, oid: int, size: int, tick: int, direction: int) -> None:
        """Message ``kind`` (the book already changed by it), if the day is still open."""
        if not self.writing or self.written == self.n:
            return
        t = self._time()
        if self.event_time < 0:
            self.event_time = t
        sec, ns = divmod(self.event_time, 10**9)
        stamp = f"{sec}.{ns:09d}".rstrip("0") if ns else str(sec)
        self.msg_lines.append(f"{stamp},{int(kind)},{oid},{size},{tick * self.t.tick},{int(direction)}")
        self.book_lines.append(self._book_row())
        self.written += 1

    def _visible(self, side: int, tick: int) -> bool:
        return self.sides[side].rank(tick) <= self.levels

    # ------------------------------------------------------------------ book changes

    def _rest(self, side: int, tick: int, size: int, oid: int) -> None:
        order = _Order(oid, side, tick, size)
        self.sides[side].add(order)
        self.position[oid] = len(self.live)
        self.live.append(order)
        if self._visible(side, tick):
            self._write(Action.ADD, oid, size, tick, side)

    def _take(self, order: _Order) -> None:
        """Remove a resting order from the book and the live list."""
        self.sides[order.side].remove(order)
        j = self.position.pop(order.id)
        last = self.live.pop()
        if last is not order:
            self.live[j] = last
            self.position[last.id] = j

    def _reduce(self, order: _Order, size: int, kind: int) -> None:
        """Cancel, delete or execute ``size`` of a resting order."""
        visible = self._visible(order.side, order.tick)
        order.size -= size
        if order.size == 0:
            self._take(order)
        if visible:
            self._write(kind, order.id, size, order.tick, order.side)

    def _in_grid(self, tick: int) -> bool:
        return 1 <= tick < self.t.grid

    def _new_id(self) -> int:
        oid = self.next_id
        self.next_id += 1
        return oid

    # ------------------------------------------------------------------ events

    def _limit(self, side: int, distance: int) -> None:
        size = self.t.sizes[self.flow.pick(self.t.size_cum)]
        tick = self.sides[-side].reference - side * distance
        if self._in_grid(tick):
            self._rest(side, tick, size, self._new_id())

    def _market(self, side: int) -> None:
        size = self.t.sizes[self.flow.pick(self.t.size_cum)]
        through = self.flow.pick(self.t.sweep_cum)
        book = self.sides[-side]
        if not book.ticks:
            return
        limit = book.best() + side * through
        if not self._in_grid(limit):
            return
        oid = self._new_id()
        while size and book.ticks and side * (limit - book.best()) >= 0:
            resting = book.queues[book.best()][0]
            done = min(size, resting.size)
            size -= done
            self._reduce(resting, done, Action.EXECUTE)
        if size:
            self._rest(side, limit, size, oid)

    def _hidden(self, side: int) -> None:
        size = self.t.sizes[self.flow.pick(self.t.size_cum)]
        bids, asks = self.sides[Side.BID], self.sides[Side.ASK]
        spread = asks.best() - bids.best() if bids.ticks and asks.ticks else 1
        j = self.flow.below(spread)
        if bids.ticks and asks.ticks:
            tick = bids.best() + j if side == Side.BID else asks.best() - j
            self._write(Action.HIDDEN_EXECUTE, 0, size, tick, side)

    def _cancel(self, order: _Order) -> None:
        partial = self.flow.next() < self.t.partial
        if partial and order.size >= 2:
            self._reduce(order, 1 + self.flow.below(order.size - 1), Action.CANCEL)
        else:
            self._reduce(order, order.size, Action.DELETE)

    def step(self) -> None:
        t = self.t
        lam = t.limit_cum[-1]
        base = 2 * lam + 2 * t.market + 2 * t.hidden
        r = self.flow.below(base + t.cancel * len(self.live))
        self.event_time = -1
        if r < 2 * lam:
            side = Side.BID if r < lam else Side.ASK
            self._limit(side, bisect_right(t.limit_cum, r if r < lam else r - lam) + 1)
        elif r < 2 * lam + 2 * t.market:
            self._market(Side.BID if r < 2 * lam + t.market else Side.ASK)
        elif r < base:
            self._hidden(Side.BID if r < 2 * lam + 2 * t.market + t.hidden else Side.ASK)
        else:
            self._cancel(self.live[(r - base) // t.cancel])

    def run(self) -> tuple[bytes, bytes]:
        for _ in range(self.t.burn_in):
            self.step()
        while not (self.sides[Side.BID].ticks and self.sides[Side.ASK].ticks):
            self.step()
        self.writing = True
        while self.written < self.n:
            self.step()
        return (
            "".join(line + "\n" for line in self.msg_lines).encode(),
            "".join(line + "\n" for line in self.book_lines).encode(),
        )


def simulate_bytes(t: Tables, levels: int, messages: int, day_seed: int) -> tuple[bytes, bytes]:
    """The message file and the orderbook file of one simulated day."""
    return PyMarket(t, levels, messages, day_seed).run()
