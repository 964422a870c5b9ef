"""Order-flow imbalance (OFI): event level, per fixed interval, multi-level, depth-normalised.

Event-level OFI (Cont, Kukanov & Stoikov 2014, *The price impact of order book events*,
J. Financial Econometrics 12(1)), between consecutive usable book rows n-1 and n, with best
bid/ask prices P^b, P^a and sizes q^b, q^a:

    e_n = q^b_n 1{P^b_n >= P^b_{n-1}} - q^b_{n-1} 1{P^b_n <= P^b_{n-1}}
        - q^a_n 1{P^a_n <= P^a_{n-1}} + q^a_{n-1} 1{P^a_n >= P^a_{n-1}}

and over an interval [kΔ, (k+1)Δ): OFI_k = sum of e_n over the rows n in it.

Multi-level OFI (Xu, Gould & Howison 2019, *Multi-level order-flow imbalance in a limit order
book*, Market Microstructure and Liquidity 4): the same formula on the prices and sizes of level m,
giving e^m_n and OFI^m_k for m = 1..10 (m = 1 is the CKS OFI). A contribution that involves an
empty or unknown cell is null and is left out of the interval sum.

Depth-normalised OFI (Cont, Cucuringu & Zhang 2023, *Cross-impact of order flow imbalance in
equity markets*, Quantitative Finance 23(10)): ofi^m_k = OFI^m_k / Q^M_k with
Q^M_k = (1/M) sum_{m<=M} mean_{n in k} (q^b_{m,n} + q^a_{m,n}) / 2, the average depth of the first
M levels over the interval.
"""

from __future__ import annotations

import polars as pl

from obrecon_pipeline.book_schema import levels_of
from obrecon_pipeline.metrics.batches import SLICE_ROWS, table_slices
from obrecon_pipeline.metrics.prices import bucket, lazy, step_ns, usable
from obrecon_pipeline.metrics.returns import DEFAULT_INTERVALS_S, sampling_name

MAX_OFI_LEVELS = 10


def _flag(cond: pl.Expr) -> pl.Expr:
    """1.0 / 0.0 indicator that stays null when the comparison involves a null."""
    return cond.cast(pl.Float64)


def level_ofi(m: int) -> pl.Expr:
    """e^m_n from the level-m columns of rows n (current) and n-1 (``shift(1)``)."""
    pb, qb = pl.col(f"bid_price_{m}"), pl.col(f"bid_size_{m}")
    pa, qa = pl.col(f"ask_price_{m}"), pl.col(f"ask_size_{m}")
    pb0, qb0, pa0, qa0 = pb.shift(1), qb.shift(1), pa.shift(1), qa.shift(1)
    return (
        qb * _flag(pb >= pb0)
        - qb0 * _flag(pb <= pb0)
        - qa * _flag(pa <= pa0)
        + qa0 * _flag(pa >= pa0)
    ).alias(f"e_{m}")


def ofi_levels(book: pl.DataFrame | pl.LazyFrame) -> int:
    """M = min(10, N): how many OFI levels a book supports."""
    return min(MAX_OFI_LEVELS, levels_of(lazy(book)))


def event_ofi(book: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """``ts_event, seq, e_1..e_M`` for every usable row after the first (see module docstring).
    The book's rows are in replay order (``seq`` ascending, as every book table is written): they
    are not sorted again, so a scan of a day's book is never held whole for a sort."""
    frame = lazy(book)
    m_max = ofi_levels(frame)
    return (
        frame.filter(usable())
        .set_sorted("seq")
        .select("ts_event", "seq", *[level_ofi(m) for m in range(1, m_max + 1)])
        .slice(1)
    )


def average_depth(m_max: int) -> pl.Expr:
    """Per-row (1/M) sum_{m<=M} (q^b_m + q^a_m) / 2; its mean over an interval is Q^M_k."""
    total = sum((pl.col(f"bid_size_{m}") + pl.col(f"ask_size_{m}")) / 2 for m in range(1, m_max + 1))
    return (total / m_max).alias("depth")


def interval_ofi(book: pl.DataFrame | pl.LazyFrame, every_s: float, batch_rows: int = SLICE_ROWS) -> pl.LazyFrame:
    """Per interval of ``every_s`` s that has usable rows: ``bucket, ts_start, n_events``,
    ``ofi_1..ofi_M`` (OFI^m_k), ``avg_depth`` (Q^M_k) and ``ofi_norm_1..ofi_norm_M``.

    The book's usable rows are read ``batch_rows`` at a time
    (:func:`~obrecon_pipeline.metrics.batches.table_slices`): each batch's e^m_n are computed with the last
    usable row of the batch before prepended (so e_n of its first row is the one the whole day
    gives), and summed per interval; an interval cut by a batch boundary adds its partial sums and
    its depth sum and count (Q^M_k = sum of depth / count)."""
    frame = lazy(book)
    m_max = ofi_levels(frame)
    levels = range(1, m_max + 1)
    columns = ["ts_event", "seq", *[f"{side}_{field}_{m}" for m in levels for side in ("bid", "ask")
                                    for field in ("price", "size")]]
    partials, carry = [], None
    for part in table_slices(frame.select(*columns, "book_valid"), batch_rows):
        rows = part.filter(usable()).select(columns)
        flow = (
            (rows if carry is None else pl.concat([carry, rows]))
            .select("ts_event", *[level_ofi(m) for m in levels])
            .slice(1)
            .with_columns(bucket(every_s))
            .group_by("bucket")
            .agg(pl.len().alias("n_events"), *[pl.col(f"e_{m}").sum().alias(f"ofi_{m}") for m in levels])
        )
        depth = rows.select(bucket(every_s), average_depth(m_max)).group_by("bucket").agg(
            pl.col("depth").sum().alias("depth_sum"), pl.col("depth").count().alias("depth_n"))
        partials.append(flow.join(depth, on="bucket", how="full", coalesce=True))
        if rows.height:
            carry = rows.tail(1)
    step = step_ns(every_s)
    return (
        pl.concat(partials)
        .group_by("bucket")
        .agg(pl.col("n_events").sum().cast(pl.UInt32), *[pl.col(f"ofi_{m}").sum() for m in levels],
             pl.col("depth_sum").sum(), pl.col("depth_n").sum())
        .filter(pl.col("n_events") > 0)
        .sort("bucket")
        .with_columns(pl.when(pl.col("depth_n") > 0).then(pl.col("depth_sum") / pl.col("depth_n")).alias("avg_depth"))
        .with_columns(
            (pl.col("bucket") * step).alias("ts_start"),
            *[(pl.col(f"ofi_{m}") / pl.col("avg_depth")).alias(f"ofi_norm_{m}") for m in levels],
        )
        .select(
            "bucket",
            "ts_start",
            "n_events",
            *[f"ofi_{m}" for m in levels],
            "avg_depth",
            *[f"ofi_norm_{m}" for m in levels],
        )
        .lazy()
    )


def ofi_table(
    book: pl.DataFrame | pl.LazyFrame, intervals_s: tuple[float, ...] = DEFAULT_INTERVALS_S
) -> pl.DataFrame:
    """All interval lengths stacked, with a ``sampling`` column ("1s", "10s", ...)."""
    return pl.concat(
        [
            interval_ofi(book, every).select(pl.lit(sampling_name(every)).alias("sampling"), pl.all())
            for every in intervals_s
        ]
    ).collect()
