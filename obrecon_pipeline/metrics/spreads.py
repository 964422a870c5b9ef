"""Quoted spreads at several depths and cumulative depth per side.

For level k of a book with bid prices P^b_k and ask prices P^a_k (k = 1 is the best quote):

* quoted spread at level k: s_k = P^a_k - P^b_k (price units), and in basis points of the mid,
  s_k^{bp} = 10^4 * s_k / m with m = (P^a_1 + P^b_1) / 2;
* cumulative depth to level k: D^b_k = sum_{j<=k} q^b_j, D^a_k = sum_{j<=k} q^a_j.

Spreads beyond the first level are the "k-th level spread" of Cont, Kukanov & Stoikov (2014, *The
price impact of order book events*, J. Financial Econometrics 12(1)) and the depth profile of
Bouchaud, Mézard & Potters (2002, *Statistical properties of stock order books*, Quantitative
Finance 2). A level the book does not have (or whose cell is unknown) gives null.
"""

from __future__ import annotations

import polars as pl

from obrecon_pipeline.book_schema import levels_of
from obrecon_pipeline.metrics.prices import lazy, mid_price

SPREAD_LEVELS = (1, 5, 10, 15, 20)


def spread_levels(levels: int, wanted: tuple[int, ...] = SPREAD_LEVELS) -> list[int]:
    """The spread levels a book with ``levels`` levels has."""
    return [k for k in wanted if k <= levels]


def cumulative_depth(side: str, k: int) -> pl.Expr:
    """D_k = sum_{j<=k} q_j for ``side`` in {"bid", "ask"}; null if any of the k cells is null."""
    total = pl.col(f"{side}_size_1")
    for j in range(2, k + 1):
        total = total + pl.col(f"{side}_size_{j}")  # ``+`` propagates nulls
    return total.alias(f"{side}_depth_{k}")


def quoted_spread(k: int) -> pl.Expr:
    """s_k = P^a_k - P^b_k (price units)."""
    return (pl.col(f"ask_price_{k}") - pl.col(f"bid_price_{k}")).alias(f"spread_{k}")


def spread_bp(k: int) -> pl.Expr:
    """s_k^{bp} = 10^4 s_k / m, m the mid-price."""
    return (1e4 * quoted_spread(k) / mid_price()).alias(f"spread_bp_{k}")


def spreads(book: pl.DataFrame | pl.LazyFrame, wanted: tuple[int, ...] = SPREAD_LEVELS) -> pl.LazyFrame:
    """Per book row: ``ts_event, seq, book_valid, mid``, ``spread_k`` and ``spread_bp_k`` for each
    wanted level k the book has, and ``bid_depth_k``/``ask_depth_k`` for k = 1..N.

    s_k = P^a_k - P^b_k, s_k^{bp} = 10^4 s_k / m, D_k = sum_{j<=k} q_j (see module docstring).
    """
    frame = lazy(book)
    n = levels_of(frame)
    exprs: list[pl.Expr] = [pl.col("ts_event"), pl.col("seq"), pl.col("book_valid"), mid_price()]
    for k in spread_levels(n, wanted):
        exprs += [quoted_spread(k), spread_bp(k)]
    for k in range(1, n + 1):
        exprs.append(cumulative_depth("bid", k))
        exprs.append(cumulative_depth("ask", k))
    return frame.select(exprs)
