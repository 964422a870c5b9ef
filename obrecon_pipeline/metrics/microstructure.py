"""Micro-price (size-weighted mid) and order-book imbalance.

* Weighted mid / micro-price (Stoikov 2018, *The micro-price: a high-frequency estimator of future
  prices*, Quantitative Finance 18(12), where it is the "weighted mid-price"):
  M = (P^a_1 q^b_1 + P^b_1 q^a_1) / (q^b_1 + q^a_1).
* Book pressure / imbalance over the first k levels (Cartea, Jaimungal & Penalva 2015,
  *Algorithmic and High-Frequency Trading*, Cambridge University Press; Gould & Bonart 2016, *Queue imbalance as a
  one-tick-ahead price predictor in a limit order book*, Market Microstructure and Liquidity 2):
  I_k = (D^b_k - D^a_k) / (D^b_k + D^a_k) with D_k the cumulative depth to level k, in [-1, 1].
"""

from __future__ import annotations

import polars as pl

from obrecon_pipeline.book_schema import levels_of
from obrecon_pipeline.metrics.prices import lazy, mid_price
from obrecon_pipeline.metrics.spreads import cumulative_depth

IMBALANCE_LEVELS = (1, 5, 10)


def micro_price() -> pl.Expr:
    """M = (P^a_1 q^b_1 + P^b_1 q^a_1) / (q^b_1 + q^a_1)."""
    pa, pb = pl.col("ask_price_1"), pl.col("bid_price_1")
    qa, qb = pl.col("ask_size_1"), pl.col("bid_size_1")
    return ((pa * qb + pb * qa) / (qb + qa)).alias("micro_price")


def imbalance(k: int) -> pl.Expr:
    """I_k = (D^b_k - D^a_k) / (D^b_k + D^a_k)."""
    db, da = cumulative_depth("bid", k), cumulative_depth("ask", k)
    return ((db - da) / (db + da)).alias(f"imbalance_{k}")


def microstructure(
    book: pl.DataFrame | pl.LazyFrame, levels: tuple[int, ...] = IMBALANCE_LEVELS
) -> pl.LazyFrame:
    """``ts_event, seq, book_valid, mid, micro_price, imbalance_k`` for each k <= N."""
    frame = lazy(book)
    n = levels_of(frame)
    return frame.select(
        "ts_event",
        "seq",
        "book_valid",
        mid_price(),
        micro_price(),
        *[imbalance(k) for k in levels if k <= n],
    )
