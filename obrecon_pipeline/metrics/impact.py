"""Price impact: OFI regression, marketable orders walked through the book, square-root law.

* OFI impact regression (Cont, Kukanov & Stoikov 2014, *The price impact of order book events*,
  J. Financial Econometrics 12(1)): ΔP_k = α + β OFI_k + ε_k over fixed intervals k, with
  ΔP_k the change of the previous-tick mid over the interval and OFI_k the level-1 order-flow
  imbalance (:mod:`.ofi`); OLS slope β = cov(ΔP, OFI) / var(OFI), R² = corr(ΔP, OFI)².
* Marketable orders: visible executions of resting orders (:attr:`Action.EXECUTE`, or
  :attr:`Action.FILL` where the feed reports fills apart from the book change; ``side`` is the
  resting order's side; side-less auction fills excluded) that share ``ts_event`` and ``side`` are one incoming order of size
  Q = sum q_i with realised VWAP = sum p_i q_i / Q. Walking the levels of the resting side of the
  reconstructed book *before* the order (the last book row with ``seq`` < the first execution's
  ``arrival``; the book *after* it is the first row with ``seq`` >= the last one's) predicts
  VWAP^pred = sum_j p_j min(q_j, max(Q - D_{j-1}, 0)) / Q, D_j the cumulative depth, when the
  visible book covers Q. The error is 10^4 (VWAP^pred - VWAP) / m in bp of the
  mid before the order.
* Square-root law (Tóth et al. 2011, *Anomalous price impact and the critical nature of liquidity
  in financial markets*, Phys. Rev. X 1; Bouchaud, Farmer & Lillo 2009, *How markets slowly digest
  changes in supply and demand*, in *Handbook of Financial Markets: Dynamics and Evolution*):
  I(Q) = Y Q^δ with the immediate relative mid impact
  I = ε (m_after - m_before) / m_before, ε = +1 for a buy (it hit the ask); fitted by OLS of
  ln I on ln Q over orders with I > 0 (δ ≈ 1/2 in the literature).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from obrecon_pipeline.book_schema import levels_of
from obrecon_pipeline.events import Action, Side
from obrecon_pipeline.metrics.batches import SLICE_ROWS, table_slices
from obrecon_pipeline.metrics.ofi import interval_ofi
from obrecon_pipeline.metrics.prices import lazy, mid_price, usable
from obrecon_pipeline.metrics.returns import DEFAULT_INTERVALS_S, interval_mids, sampling_name


@dataclass(frozen=True)
class OLSFit:
    """y = intercept + slope x by ordinary least squares."""

    slope: float | None
    intercept: float | None
    r2: float | None
    n: int


def ols(frame: pl.LazyFrame, x: str, y: str) -> OLSFit:
    """OLS of ``y`` on ``x`` over rows where both are non-null: slope = cov(x,y)/var(x),
    intercept = ȳ - slope x̄, R² = corr(x,y)²."""
    row = (
        frame.select(x, y)
        .drop_nulls()
        .select(
            pl.len().alias("n"),
            (pl.cov(x, y) / pl.col(x).var()).alias("slope"),
            pl.col(x).mean().alias("mx"),
            pl.col(y).mean().alias("my"),
            (pl.corr(x, y) ** 2).alias("r2"),
        )
        .collect()
        .row(0, named=True)
    )
    n = int(row["n"])
    if n < 3 or row["slope"] is None or row["slope"] != row["slope"]:
        return OLSFit(None, None, None, n)
    return OLSFit(float(row["slope"]), float(row["my"] - row["slope"] * row["mx"]), float(row["r2"]), n)


def ofi_interval_frame(book: pl.DataFrame | pl.LazyFrame, every_s: float) -> pl.LazyFrame:
    """``bucket, delta_mid, ofi_1`` on the full interval grid (intervals without events: OFI 0)."""
    frame = lazy(book)
    # one row per interval, read by the streaming engine (the book's quotes are never held whole)
    mids = interval_mids(frame, every_s).collect(engine="streaming").lazy().with_columns(
        pl.col("mid").diff().alias("delta_mid"))
    ofi = interval_ofi(frame, every_s).select("bucket", "ofi_1")
    return (
        mids.join(ofi, on="bucket", how="left")
        .with_columns(pl.col("ofi_1").fill_null(0.0))
        .select("bucket", "delta_mid", "ofi_1")
    )


def impact_regressions(
    book: pl.DataFrame | pl.LazyFrame, intervals_s: tuple[float, ...] = DEFAULT_INTERVALS_S
) -> pl.DataFrame:
    """One row per interval length: ``sampling, slope, intercept, r2, n`` of ΔP_k = α + β OFI_k."""
    rows = []
    for every in intervals_s:
        fit = ols(ofi_interval_frame(book, every), "ofi_1", "delta_mid")
        rows.append(
            {"sampling": sampling_name(every), "slope": fit.slope, "intercept": fit.intercept, "r2": fit.r2, "n": fit.n}
        )
    return pl.DataFrame(
        rows,
        schema={"sampling": pl.Utf8, "slope": pl.Float64, "intercept": pl.Float64, "r2": pl.Float64, "n": pl.Int64},
    )


def _resting(side_field: str, j: int) -> pl.Expr:
    """Level j of the side the order executed against (bid levels for ``side`` = BID)."""
    return (
        pl.when(pl.col("side") == int(Side.BID))
        .then(pl.col(f"bid_{side_field}_{j}"))
        .otherwise(pl.col(f"ask_{side_field}_{j}"))
    )


def walk_vwap(frame: pl.LazyFrame, levels: int) -> pl.LazyFrame:
    """Add ``predicted_vwap`` and ``beyond_book`` by walking Q = ``size`` through the resting side.

    fill_j = min(D_j, Q) - min(D_{j-1}, Q); once D_{j-1} >= Q deeper (possibly unknown) levels add
    nothing. When an empty or unknown level is reached before Q is filled, the walk stops: the
    prediction is null and ``beyond_book`` is true. One ``with_columns`` step per level keeps the
    expression graph linear in the number of levels.
    """
    q = pl.col("size")
    filled, notional, broken = pl.col("_filled"), pl.col("_notional"), pl.col("_broken")
    frame = frame.with_columns(
        pl.lit(0.0).alias("_filled"), pl.lit(0.0).alias("_notional"), pl.lit(False).alias("_broken")
    )
    for j in range(1, levels + 1):
        price, size = _resting("price", j), _resting("size", j)
        active = ~broken & (filled < q)
        missing = price.is_null() | size.is_null()
        take = active & ~missing
        fill = pl.min_horizontal(filled + size, q) - filled
        frame = frame.with_columns(
            pl.when(take).then(notional + fill * price).otherwise(notional).alias("_notional"),
            pl.when(take).then(filled + fill).otherwise(filled).alias("_filled"),
            (broken | (active & missing)).alias("_broken"),
        )
    complete = filled >= q
    return frame.with_columns(
        pl.when(complete).then(notional / q).otherwise(None).alias("predicted_vwap"),
        (~complete).alias("beyond_book"),
    ).drop("_filled", "_notional", "_broken")


def _between(orders: pl.DataFrame, col: str, lo: int | None, hi: int | None) -> pl.DataFrame:
    """The orders with lo < ``col`` <= hi (an open end where None)."""
    keep = pl.lit(True)
    if lo is not None:
        keep &= pl.col(col) > lo
    if hi is not None:
        keep &= pl.col(col) <= hi
    return orders.filter(keep)


def _walk_book_before(orders: pl.DataFrame, rows: pl.DataFrame, book_cols: list[str], levels: int) -> pl.DataFrame:
    """Each order walked through the last of ``rows`` whose ``seq`` <= its ``seq_before`` (null
    without one): ``usable_before, mid_before, predicted_vwap, beyond_book`` added, the book's
    columns not kept."""
    before = rows.select(
        pl.col("seq").alias("seq_before"),
        pl.col("usable").alias("usable_before"),
        pl.when(pl.col("usable")).then(pl.col("mid")).alias("mid_before"),
        *book_cols,
    )
    return orders.lazy().join_asof(before.lazy(), on="seq_before", strategy="backward").pipe(
        walk_vwap, levels).drop(book_cols).collect()


def _mid_after(orders: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """``_order, mid_after``: the mid of the first of ``rows`` whose ``seq`` >= the order's
    ``last_arrival`` (null without one)."""
    after = rows.select(pl.col("seq").alias("seq_after"),
                        pl.when(pl.col("usable")).then(pl.col("mid")).alias("mid_after"))
    return (orders.sort("last_arrival")
            .join_asof(after, left_on="last_arrival", right_on="seq_after", strategy="forward")
            .select("_order", "mid_after"))


def marketable_orders(
    events: pl.DataFrame | pl.LazyFrame, book: pl.DataFrame | pl.LazyFrame, valid_only: bool = True,
    slice_rows: int = SLICE_ROWS,
) -> pl.DataFrame:
    """One row per marketable order (visible executions sharing ``ts_event`` and ``side``):

    ``ts_event, side, first_arrival, last_arrival, n_fills, size, vwap, mid_before, mid_after,
    predicted_vwap, beyond_book, vwap_error_bp, impact`` (see module docstring). ``side`` is the
    resting side (BID = the incoming order sold). Orders whose book before is not usable (without
    both quotes, or flagged invalid when ``valid_only``) have null predictions.

    The events and the book are read ``slice_rows`` rows at a time
    (:func:`~obrecon_pipeline.metrics.batches.table_slices`; the executions and the orders, one per
    execution at most, are held whole, without the book's columns): the slice whose last ``seq`` is the first at or
    after an order's ``seq_before`` holds its book before, given the last row of the slice before
    it (prepended), and the order is walked there; the slice whose last ``seq`` is the first at or
    after its ``last_arrival`` holds its book after. Orders after the last book row get that row before
    them and no book after, as the whole-day as-of joins give.
    """
    ev = lazy(events)
    frame = lazy(book)
    n = levels_of(frame)
    # side-less fills are an auction's (e.g. CME's opening cross), not an order walking the book
    marketable = pl.col("action").is_in([int(Action.EXECUTE), int(Action.FILL)]) & (pl.col("side") != 0)
    fills = ev.select("ts_event", "side", "action", "arrival", "price", "price_scale", "size", "size_scale")
    # each slice's executions reduced to what the grouping reads: q and p q computed per fill (the
    # same products the grouped sums add up), the scaled integers and the action not kept
    qty = pl.col("size") / pl.col("size_scale")
    orders = (
        pl.concat([part.filter(marketable).select(
            "ts_event", "side", "arrival", qty.alias("qty"),
            ((pl.col("price") / pl.col("price_scale")) * qty).alias("notional"),
        ) for part in table_slices(fills, slice_rows)])
        .lazy()
        .group_by("ts_event", "side")
        .agg(
            pl.col("arrival").min().alias("first_arrival"),
            pl.col("arrival").max().alias("last_arrival"),
            pl.len().alias("n_fills"),
            pl.col("qty").sum().alias("size"),
            (pl.col("notional").sum() / pl.col("qty").sum()).alias("vwap"),
        )
        .with_columns((pl.col("first_arrival") - 1).alias("seq_before"))
        .sort("seq_before")
        .with_row_index("_order")
        .collect()
    )
    book_cols = [c for c in frame.collect_schema().names() if c.startswith(("bid_", "ask_"))]
    rows = frame.select("seq", usable(valid_only).alias("usable"), mid_price(), *book_cols)
    before, after = [], []
    last, carry = None, None  # the previous slice's last seq and last row
    for part in table_slices(rows, slice_rows):
        carry = part.head(0) if carry is None else carry
        if part.height == 0:
            continue
        seq = part["seq"][-1]
        before.append(_walk_book_before(_between(orders, "seq_before", last, seq), pl.concat([carry, part]),
                                        book_cols, n))
        after.append(_mid_after(_between(orders, "last_arrival", last, seq), part))
        last, carry = seq, part.tail(1)
    before.append(_walk_book_before(_between(orders, "seq_before", last, None), carry, book_cols, n))
    after.append(_mid_after(_between(orders, "last_arrival", last, None), carry.head(0)))
    del orders, carry
    # every order is in one ``before`` and one ``after`` frame; ``before`` is in ``_order`` (=
    # ``first_arrival``) order, so the book after is put beside it, not joined and sorted
    walked = pl.concat(before)
    before.clear()
    mids = pl.concat(after).sort("_order")
    after.clear()
    if not walked["_order"].equals(mids["_order"]):
        raise AssertionError("marketable_orders: the orders walked before and after differ")
    return (
        walked.with_columns(mids["mid_after"])
        .lazy()
        .with_columns(
            pl.when(pl.col("usable_before")).then(pl.col("predicted_vwap")).alias("predicted_vwap"),
            (pl.col("usable_before").fill_null(False) & pl.col("beyond_book")).alias("beyond_book"),
        )
        .with_columns(
            (1e4 * (pl.col("predicted_vwap") - pl.col("vwap")) / pl.col("mid_before")).alias("vwap_error_bp"),
            (
                -pl.col("side").cast(pl.Float64) * (pl.col("mid_after") - pl.col("mid_before")) / pl.col("mid_before")
            ).alias("impact"),
        )
        .select(
            "ts_event",
            "side",
            "first_arrival",
            "last_arrival",
            "n_fills",
            "size",
            "vwap",
            "mid_before",
            "mid_after",
            "predicted_vwap",
            "beyond_book",
            "vwap_error_bp",
            "impact",
        )
        .collect()
    )


@dataclass(frozen=True)
class PowerLawFit:
    """I(Q) = prefactor * Q ** exponent."""

    exponent: float | None
    prefactor: float | None
    r2: float | None
    n: int


def square_root_law(orders: pl.DataFrame | pl.LazyFrame) -> PowerLawFit:
    """Fit ln I = ln Y + δ ln Q by OLS over orders with impact I > 0 (see module docstring)."""
    logs = (
        lazy(orders)
        .filter((pl.col("impact") > 0) & (pl.col("size") > 0))
        .select(pl.col("size").log().alias("ln_q"), pl.col("impact").log().alias("ln_i"))
    )
    fit = ols(logs, "ln_q", "ln_i")
    if fit.slope is None:
        return PowerLawFit(None, None, None, fit.n)
    return PowerLawFit(fit.slope, math.exp(fit.intercept), fit.r2, fit.n)


#: the ``impact_regression`` table: one row per fitted model
FIT_SCHEMA: dict[str, pl.DataType] = {"model": pl.Utf8, "sampling": pl.Utf8, "coefficient": pl.Float64,
                                      "constant": pl.Float64, "r2": pl.Float64, "n": pl.Int64}


def impact_fits(book: pl.DataFrame | pl.LazyFrame, orders: pl.DataFrame,
                intervals_s: tuple[float, ...] = DEFAULT_INTERVALS_S) -> pl.DataFrame:
    """The impact models of a partition in one table (:data:`FIT_SCHEMA`): an ``ofi_regression``
    row per interval (coefficient β, constant α of ΔP = α + β OFI) and the ``square_root_law`` row
    over the marketable ``orders`` (sampling ``order``; coefficient δ, constant Y of I = Y Q^δ)."""
    ofi = impact_regressions(book, intervals_s).select(
        pl.lit("ofi_regression").alias("model"), "sampling", pl.col("slope").alias("coefficient"),
        pl.col("intercept").alias("constant"), "r2", "n")
    law = square_root_law(orders)
    root = pl.DataFrame([{"model": "square_root_law", "sampling": "order", "coefficient": law.exponent,
                          "constant": law.prefactor, "r2": law.r2, "n": law.n}], schema=FIT_SCHEMA)
    return pl.concat([ofi.cast(FIT_SCHEMA), root])
