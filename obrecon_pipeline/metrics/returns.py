"""Log mid-price returns in event time and at fixed clock intervals.

Event time: r_n = ln m_n - ln m_{n-1} over consecutive usable book rows (Dacorogna et al. 2001,
*An Introduction to High-Frequency Finance*, ch. 3 on business/event time).

Fixed interval Δ: the mid is sampled previous-tick at the end of each interval
[kΔ, (k+1)Δ) (the last usable mid observed in or before it) and r_k = ln m_k - ln m_{k-1}
(Andersen, Bollerslev, Diebold & Labys 2001, *The distribution of realized exchange rate
volatility*, JASA 96, on calendar-time sampling). Intervals with no update repeat the previous
mid, so their return is 0.
"""

from __future__ import annotations

import polars as pl

from obrecon_pipeline.metrics.batches import SLICE_ROWS, Batched, table_slices
from obrecon_pipeline.metrics.prices import bucket, lazy, mid_price, step_ns, usable

DEFAULT_INTERVALS_S = (1.0, 10.0)


def event_returns(book: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """``ts_event, seq, mid, log_return`` for every usable row after the first usable one."""
    return (
        lazy(book)
        .filter(usable())
        .select("ts_event", "seq", mid_price())
        .with_columns(pl.col("mid").log().diff().alias("log_return"))
        .filter(pl.col("log_return").is_not_null())
    )


def interval_mids(book: pl.DataFrame | pl.LazyFrame, every_s: float, valid_only: bool = True) -> pl.LazyFrame:
    """``bucket, ts_end, mid``: the previous-tick mid at the end of every interval of ``every_s``
    seconds from the first to the last usable row, empty intervals carried forward (``valid_only``:
    see :func:`~obrecon_pipeline.metrics.prices.usable`)."""
    step = step_ns(every_s)
    last = (
        lazy(book)
        .filter(usable(valid_only))
        .select(bucket(every_s), mid_price())
        .group_by("bucket")
        .agg(pl.col("mid").last())
    )
    # no usable row: an empty grid (int_range(0, 0))
    grid = last.select(
        pl.int_range(pl.col("bucket").min().fill_null(0), pl.col("bucket").max().fill_null(-1) + 1).alias("bucket")
    )
    return (
        grid.join(last, on="bucket", how="left")
        .sort("bucket")
        .with_columns(pl.col("mid").forward_fill(), ((pl.col("bucket") + 1) * step).alias("ts_end"))
        .select("bucket", "ts_end", "mid")
    )


def interval_returns(book: pl.DataFrame | pl.LazyFrame, every_s: float, valid_only: bool = True) -> pl.LazyFrame:
    """``bucket, ts_end, mid, log_return`` at fixed intervals of ``every_s`` seconds."""
    return (
        interval_mids(book, every_s, valid_only)
        .with_columns(pl.col("mid").log().diff().alias("log_return"))
        .filter(pl.col("log_return").is_not_null())
    )


def returns_table(
    book: pl.DataFrame | pl.LazyFrame, intervals_s: tuple[float, ...] = DEFAULT_INTERVALS_S,
    slice_rows: int = SLICE_ROWS,
) -> Batched:
    """Long table of all return series: ``sampling`` ("event" or e.g. "1s"), ``ts_event`` (row
    time, or interval end), ``mid``, ``log_return``, as a :class:`~.batches.Batched` table: the
    event returns of each book slice of ``slice_rows`` rows (the last usable row of the slice
    before prepended, so the first return of a slice is the whole day's), then each interval
    series (one row per interval, collected by Polars' streaming engine)."""
    return Batched(_returns_frames(lazy(book), intervals_s, slice_rows))


def _returns_frames(frame: pl.LazyFrame, intervals_s: tuple[float, ...], slice_rows: int):
    carry = None
    quotes = frame.select("ts_event", "seq", "book_valid", "bid_price_1", "ask_price_1")
    for part in table_slices(quotes, slice_rows):
        rows = part if carry is None else pl.concat([carry, part])
        yield event_returns(rows).select(pl.lit("event").alias("sampling"), "ts_event", "mid", "log_return").collect()
        last = part.filter(usable()).tail(1)
        carry = last if last.height else carry
    for every in intervals_s:
        yield (interval_returns(frame, every)
               .select(pl.lit(sampling_name(every)).alias("sampling"), pl.col("ts_end").alias("ts_event"), "mid",
                       "log_return")
               .collect(engine="streaming"))


def sampling_name(every_s: float) -> str:
    """``1.0 -> "1s"``, ``0.5 -> "0.5s"``."""
    return f"{every_s:g}s"
