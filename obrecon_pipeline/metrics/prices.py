"""Mid-price and the rows of a book a statistic may use.

A row is *usable* when both best quotes exist and, unless a caller asks for the book as published
(``valid_only=False``, used when a rebuilt book is judged against a reference), the replayer
vouches for it (``book_valid``). The mid-price is m = (P^a_1 + P^b_1) / 2.
"""

from __future__ import annotations

import polars as pl

NS_PER_S = 1_000_000_000


def mid_price() -> pl.Expr:
    """m_n = (P^a_{1,n} + P^b_{1,n}) / 2, null when either best quote is missing."""
    return ((pl.col("ask_price_1") + pl.col("bid_price_1")) / 2).alias("mid")


def usable(valid_only: bool = True) -> pl.Expr:
    """Rows with both best quotes present (and ``book_valid`` when ``valid_only``)."""
    quoted = pl.col("bid_price_1").is_not_null() & pl.col("ask_price_1").is_not_null()
    return pl.col("book_valid") & quoted if valid_only else quoted


def lazy(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Accept either frame kind and work lazily."""
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def step_ns(every_s: float) -> int:
    """Δ = ``every_s`` seconds in nanoseconds (the unit of ``ts_event``)."""
    return int(round(every_s * NS_PER_S))


def bucket(every_s: float) -> pl.Expr:
    """Fixed-interval index of ``ts_event``: floor(ts / Δ), Δ = ``every_s`` seconds (epoch-aligned);
    bucket k holds the rows with kΔ <= ts < (k+1)Δ."""
    return (pl.col("ts_event") // step_ns(every_s)).alias("bucket")


def grid_point(every_s: float) -> pl.Expr:
    """Index of the first grid time at or after ``ts_event``: k = ceil(ts / Δ) = floor((ts - 1) / Δ) + 1
    (integer ns, epoch-aligned); grid point k (time kΔ) holds the rows with (k-1)Δ < ts <= kΔ, so
    the last of them is the previous-tick state at kΔ."""
    return ((pl.col("ts_event") - 1) // step_ns(every_s) + 1).alias("grid")
