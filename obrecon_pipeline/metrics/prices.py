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


def bucket(every_s: float) -> pl.Expr:
    """Fixed-interval index of ``ts_event``: floor(ts / Δ), Δ = ``every_s`` seconds (epoch-aligned)."""
    return (pl.col("ts_event") // int(round(every_s * NS_PER_S))).alias("bucket")
