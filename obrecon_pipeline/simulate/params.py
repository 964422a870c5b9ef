"""The order-flow model's parameters and the exact integer tables both simulators draw from.

Cont, Stoikov & Talreja (2010), "A stochastic model for order book dynamics", Operations Research
58(3), 549-563 (CST) model the book on a price grid as a continuous-time Markov chain:

* a limit buy order arrives ``i`` ticks below the best ask (a limit sell ``i`` ticks above the best
  bid), i = 1..D, at rate ``lambda(i) = k / i**alpha`` (their power-law fit, k = 1.92,
  alpha = 0.52);
* a market order arrives on each side at rate ``mu`` (their estimate, 0.94);
* every resting order is cancelled at rate ``theta`` (CST let it depend on the distance, theta(i);
  here it is one rate for all orders, the zero-intelligence case of Smith, Farmer, Gillemot &
  Krishnamurthy 2003, Quantitative Finance 3(6));

extended with what a LOBSTER file shows and CST's unit orders do not:

* order sizes: an odd lot (1..lot-1 shares, uniform) with probability ``odd_lots``, else ``m`` round
  lots with ``P(m) ~ m**-size_tail`` for m = 1..max_lots (a discrete power-law tail);
* a market order is a marketable limit order ``K`` ticks through the opposite best, with
  ``P(K) ~ sweep**K`` for K = 0..MAX_SWEEP; it walks the book and its remainder rests;
* a cancellation is partial with probability ``partial`` (uniform 1..size-1 shares);
* hidden executions (LOBSTER type 5, no book change) at rate ``hidden`` per side.

The simulators take the embedded jump chain of this chain: the next event is ``e`` with
probability ``rate(e) / total rate``. To make both implementations draw identically, every rate is
an integer weight (rate x 2**20, rounded) and every probability table a cumulative integer table;
see :mod:`obrecon_pipeline.simulate.pymodel` for how the draws are used.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from obrecon_pipeline.errors import ObreconError

RATE_SCALE = 1 << 20  #: integer weight of a rate of 1.0
PROB_SCALE = 1 << 32  #: integer weight of a probability of 1.0 in the size / sweep tables
MAX_SWEEP = 10  #: deepest limit, in ticks through the opposite best, of a marketable order
MIN_GRID = 1 << 12


@dataclass(frozen=True)
class ModelParams:
    """One symbol's model. Prices in LOBSTER units (USD x 10000)."""

    price: int = 1_000_000  #: opening price ($100.00)
    tick: int = 100  #: price grid step ($0.01)
    depth: int = 100  #: D: limit orders arrive 1..D ticks from the opposite best
    lambda_k: float = 1.92  #: k of lambda(i) = k / i**alpha (CST)
    lambda_alpha: float = 0.52  #: alpha of lambda(i) (CST)
    mu: float = 0.94  #: market order rate per side (CST)
    theta: float = 0.4  #: cancellation rate per resting order
    hidden: float = 0.3  #: hidden execution rate per side
    partial: float = 0.05  #: probability that a cancellation is partial
    lot: int = 100  #: round lot, shares
    odd_lots: float = 0.1  #: probability of an odd-lot order
    size_tail: float = 2.2  #: exponent of the round-lot count's power law
    max_lots: int = 50  #: largest order, round lots
    sweep: float = 0.3  #: P(K) ~ sweep**K for a marketable order's limit K ticks through
    burn_in: int = 5_000  #: chain events before 09:30 (their messages are not in the file)

    def __post_init__(self) -> None:
        positive = ("price", "tick", "depth", "lambda_k", "mu", "theta", "lot", "max_lots")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ObreconError(f"model parameter {name} must be positive, got {getattr(self, name)}")
        for name in ("partial", "odd_lots", "sweep"):
            if not 0 <= getattr(self, name) < 1:
                raise ObreconError(f"model parameter {name} must be in [0, 1), got {getattr(self, name)}")
        if self.hidden < 0 or self.burn_in < 0 or self.lambda_alpha < 0 or self.size_tail < 0:
            raise ObreconError("model parameters hidden, burn_in, lambda_alpha and size_tail must be >= 0")
        if self.price % self.tick:
            raise ObreconError(f"price {self.price} is not a multiple of the tick {self.tick}")
        if self.lot < 2 and self.odd_lots > 0:
            raise ObreconError("odd lots need a round lot of at least 2 shares")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _cumulative(weights: list[int]) -> list[int]:
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out


@dataclass(frozen=True)
class Tables:
    """The integer form of :class:`ModelParams` that the simulators draw from.

    Every ``*_cum`` list is cumulative: entry ``j`` is chosen for a uniform integer ``r`` below the
    last entry when ``cum[j-1] <= r < cum[j]``.
    """

    start_tick: int  #: opening price in ticks
    tick: int
    grid: int  #: price grid 1..grid-1 ticks (CST's finite grid): orders outside it are not placed
    limit_cum: list[int]  #: lambda(1..D) x RATE_SCALE, cumulative
    market: int  #: mu x RATE_SCALE
    hidden: int  #: hidden-execution rate x RATE_SCALE
    cancel: int  #: theta x RATE_SCALE (per resting order)
    partial: int  #: P(partial cancel) x 2**64
    sizes: list[int]  #: order sizes ...
    size_cum: list[int]  #: ... and their cumulative weights
    sweep_cum: list[int]  #: K = 0..MAX_SWEEP, cumulative weights
    burn_in: int

    @property
    def max_event_messages(self) -> int:
        """Most messages one chain event can write: a sweep of 1-share orders plus its remainder."""
        return max(self.sizes) + 1


def tables(p: ModelParams) -> Tables:
    grid = MIN_GRID
    start = p.price // p.tick
    while grid < 4 * start + 2 * p.depth:
        grid *= 2
    limit = [round(p.lambda_k * i ** -p.lambda_alpha * RATE_SCALE) for i in range(1, p.depth + 1)]
    odd = list(range(1, p.lot)) if p.odd_lots > 0 else []
    lots = [m ** -p.size_tail for m in range(1, p.max_lots + 1)]
    z = sum(lots)
    size_weights = [round(p.odd_lots / len(odd) * PROB_SCALE) for _ in odd]
    size_weights += [round((1 - p.odd_lots) * w / z * PROB_SCALE) for w in lots]
    sweep = [p.sweep ** k for k in range(MAX_SWEEP + 1)]
    zs = sum(sweep)
    if min(limit[0], round(p.mu * RATE_SCALE), round(p.theta * RATE_SCALE)) == 0:
        raise ObreconError(f"rates below 1/{RATE_SCALE} of a unit are not representable: {p}")
    return Tables(
        start_tick=start,
        tick=p.tick,
        grid=grid,
        limit_cum=_cumulative(limit),
        market=round(p.mu * RATE_SCALE),
        hidden=round(p.hidden * RATE_SCALE),
        cancel=round(p.theta * RATE_SCALE),
        partial=min(round(p.partial * 2**64), 2**64 - 1),
        sizes=odd + [m * p.lot for m in range(1, p.max_lots + 1)],
        size_cum=_cumulative(size_weights),
        sweep_cum=_cumulative([round(w / zs * PROB_SCALE) for w in sweep]),
        burn_in=p.burn_in,
    )
