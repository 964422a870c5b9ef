"""Model-ready features of a reconstructed book on regular time grids.

**Grid.** For a step Δ (``steps_s``, default 100 ms and 1 s) the grid times are t_k = kΔ
(integer ns, epoch-aligned) for k from ceil(t_first / Δ) to ceil(t_last / Δ), t_first the first
book row's ``ts_event`` and t_last the largest: the first grid time at or after the first row to
the first at or after the last row, so no grid point precedes the book. Grid point k owns the rows
of its interval (t_{k-1}, t_k] (:func:`~obrecon_pipeline.metrics.prices.grid_point`).

**State (previous tick).** The book at t_k is the last row at or before t_k: the last row of the
interval, or, when the interval is empty (a gap in time), the state of t_{k-1} carried forward
unchanged (``n_rows = 0``; ``state_seq`` / ``state_ts_event`` name the row, so its age
t_k - state_ts_event is known). Rows are taken in book order at their running-maximum time
max_{j<=n} ts_event_j: a row stamped earlier than a row before it (some venues' snapshots) is
placed at that row's time, because the book it shows already holds that row's event. (With
non-decreasing stamps, as on LOBSTER, this is plainly the last row with ts_event <= t_k.)
From that row, with the project's own expressions:

* ``mid`` m = (P^a_1 + P^b_1) / 2 (:func:`~obrecon_pipeline.metrics.prices.mid_price`);
* ``micro_price`` M = (P^a_1 q^b_1 + P^b_1 q^a_1) / (q^b_1 + q^a_1), the size-weighted mid that
  Stoikov (2018, *The micro-price: a high-frequency estimator of future prices*, Quantitative
  Finance 18(12)) calls the weighted mid-price; not his Markov-chain micro-price P^micro = M + g(I, S)
  (:func:`~obrecon_pipeline.metrics.microstructure.micro_price`);
* ``spread_k`` s_k = P^a_k - P^b_k and ``spread_bp_k`` 10^4 s_k / m for k in 1, 5, 10 where the
  book has level k (:mod:`~obrecon_pipeline.metrics.spreads`);
* ``imbalance_k`` I_k = (D^b_k - D^a_k) / (D^b_k + D^a_k), D_k = sum_{j<=k} q_j the cumulative
  depth, for k in 1, 5, 10 where the book has level k; null when any of the k cells is empty
  (:func:`~obrecon_pipeline.metrics.microstructure.imbalance`).

**Flow.** ``ofi_m`` (m = 1..min(10, N)): multi-level order-flow imbalance over the interval, the
sum of the event-level contributions e^m_n of the rows n in (t_{k-1}, t_k] (Xu, Gould & Howison
2019, *Multi-level order-flow imbalance in a limit order book*, Market Microstructure and Liquidity
4; e^m_n as :func:`~obrecon_pipeline.metrics.ofi.level_ofi` defines it between consecutive usable
rows; a contribution touching an empty cell is left out; 0 for an interval without contributions).
The first row of the book has no contribution.

**Validity.** ``book_valid`` at t_k is true only if every row that contributed is valid: the rows
of the interval (the last of them is the state) and the state at t_{k-1} (the row the interval's
first OFI contribution and its return start from; none for the first grid point). An empty
interval is as valid as the state it carries. Quantities of one grid point (mid, spreads, ...)
keep the values the book shows and are flagged by ``book_valid``; those spanning several grid
points are null unless every point they span is valid:

* ``log_return`` r_k = ln m_k - ln m_{k-1}, null unless ``book_valid`` at t_k;
* ``realized_vol_W`` RV_k = sqrt(sum_{j=k-W+1..k} r_j^2) over the trailing W grid returns (Andersen,
  Bollerslev, Diebold & Labys 2001, *The distribution of realized exchange rate volatility*, JASA 96),
  null unless all W returns exist (so also for the first W points);
* ``fwd_return_h`` = ln m_{k+h} - ln m_k, the label h grid steps ahead, null when t_{k+h} is past
  the last grid point or any of the points k+1..k+h is invalid (any row up to the horizon).

One pass over the book reads only ``ts_event, seq, book_valid`` and the cells of levels
1..min(10, N), in batches of consecutive rows streamed from any ``LazyFrame`` (``pl.scan_parquet``
of a day's book), each reduced to *segments* (runs of rows sharing their grid point in every
step); the grids are built from the segments, so a day of any length is never held whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from obrecon_pipeline.book_schema import level_names, levels_of
from obrecon_pipeline.metrics.batches import table_slices
from obrecon_pipeline.metrics.microstructure import IMBALANCE_LEVELS, imbalance, micro_price
from obrecon_pipeline.metrics.ofi import MAX_OFI_LEVELS, level_ofi, ofi_levels
from obrecon_pipeline.metrics.prices import grid_point, lazy, mid_price, step_ns, usable
from obrecon_pipeline.metrics.returns import sampling_name
from obrecon_pipeline.metrics.spreads import quoted_spread, spread_bp, spread_levels

FEATURE_SPREAD_LEVELS = (1, 5, 10)
#: book rows per batch of the one pass; memory is a few times a batch (a million rows of a
#: level-10 book are 0.35 GB): 100 k keep a 50 M-row day near 0.8 GB (``benchmarks/features.py``)
BATCH_ROWS = 100_000


@dataclass(frozen=True)
class FeatureSpec:
    """What the features table holds: grid steps (s), realised-volatility windows and label
    horizons (both in grid steps)."""

    steps_s: tuple[float, ...] = (0.1, 1.0)
    rv_windows: tuple[int, ...] = (100,)
    horizons: tuple[int, ...] = (1, 10, 100)

    def __post_init__(self) -> None:
        names = [sampling_name(every) for every in self.steps_s]
        if not names or len(set(names)) != len(names) or min(step_ns(every) for every in self.steps_s) < 1:
            raise ValueError(f"grid steps must be distinct and at least 1 ns, got {list(self.steps_s)}")
        if min(self.rv_windows, default=1) < 1 or min(self.horizons, default=1) < 1:
            raise ValueError(f"windows and horizons are whole grid steps >= 1, "
                             f"got {list(self.rv_windows)} and {list(self.horizons)}")


def feature_columns(levels: int, spec: FeatureSpec = FeatureSpec()) -> list[str]:
    """The columns of :func:`features` for a book with ``levels`` levels, in order."""
    return [
        "sampling", "ts_event", "state_seq", "state_ts_event", "n_rows", "book_valid", "mid", "micro_price",
        *[name for k in spread_levels(levels, FEATURE_SPREAD_LEVELS) for name in (f"spread_{k}", f"spread_bp_{k}")],
        *[f"imbalance_{k}" for k in IMBALANCE_LEVELS if k <= levels],
        *[f"ofi_{m}" for m in range(1, min(levels, MAX_OFI_LEVELS) + 1)],
        "log_return",
        *[f"realized_vol_{w}" for w in spec.rv_windows],
        *[f"fwd_return_{h}" for h in spec.horizons],
    ]


def _state_features(levels: int) -> list[pl.Expr]:
    """The features of one book row (see the module docstring)."""
    return [
        mid_price(),
        micro_price(),
        *[e for k in spread_levels(levels, FEATURE_SPREAD_LEVELS) for e in (quoted_spread(k), spread_bp(k))],
        *[imbalance(k) for k in IMBALANCE_LEVELS if k <= levels],
    ]


def _state_columns(levels: int) -> list[str]:
    """The columns a segment's state carries besides ``state_seq`` and ``state_valid``."""
    return ["state_ts_event", *[e.meta.output_name() for e in _state_features(levels)]]


@dataclass(frozen=True)
class _Carry:
    """What a batch of book rows hands the next: the running-maximum time so far and the cells of
    the last usable row (the partner of the next batch's first OFI contribution)."""

    ts_max: int | None = None
    last_usable: pl.DataFrame | None = None


def _batch_segments(
    batch: pl.DataFrame, carry: _Carry, spec: FeatureSpec, levels: int
) -> tuple[pl.DataFrame, pl.DataFrame, _Carry]:
    """The segments of one batch of consecutive book rows, ``(states, flow, carry for the next
    batch)``, keyed by ``grid_0, grid_1, ...``; a segment cut by a batch boundary appears in both
    batches (:func:`_segments` merges it)."""
    keys = [f"grid_{i}" for i in range(len(spec.steps_s))]
    cells = level_names(ofi_levels(batch))
    running = pl.col("ts_event").cum_max()
    if carry.ts_max is not None:
        running = pl.max_horizontal(running, carry.ts_max)
    rows = (
        batch.lazy()
        # rows at their running-maximum time (see the module docstring)
        .with_columns(pl.col("ts_event").alias("state_ts_event"), running.alias("ts_event"))
        .with_columns(grid_point(every).alias(key) for every, key in zip(spec.steps_s, keys))
    )
    states = rows.with_columns(_state_features(levels)).group_by(keys, maintain_order=True).agg(
        pl.col("seq").last().alias("state_seq"),
        pl.col("book_valid").last().alias("state_valid"),
        *[pl.col(c).last() for c in _state_columns(levels)],
        pl.len().alias("n_rows"),
        pl.col("book_valid").not_().sum().alias("n_invalid"),
    )
    usable_rows = rows.filter(usable()).select(*keys, *cells)
    if carry.last_usable is not None:  # the usable row before the batch: a partner, in no segment
        before = carry.last_usable.lazy().select(*[pl.lit(None, pl.Int64).alias(k) for k in keys], *cells)
        usable_rows = pl.concat([before, usable_rows])
    m_max = ofi_levels(batch)
    flow = (
        usable_rows.with_columns(level_ofi(m) for m in range(1, m_max + 1))
        .filter(pl.col(keys[0]).is_not_null())
        .group_by(keys)
        .agg(pl.col(f"e_{m}").sum().alias(f"ofi_{m}") for m in range(1, m_max + 1))
    )
    states, flow, last = pl.collect_all([states, flow, usable_rows.select(cells).tail(1)])
    ts_max = max((t for t in (carry.ts_max, batch["ts_event"].max()) if t is not None), default=None)
    return states, flow, _Carry(ts_max, last if last.height else carry.last_usable)


def _segments(frame: pl.LazyFrame, spec: FeatureSpec, batch_rows: int) -> pl.DataFrame:
    """The one pass over the book: a segment is a run of rows that share their grid point in every
    step of ``spec`` (keys ``grid_0, grid_1, ...``); per segment its state (last row) with that
    row's features, ``n_rows``, ``n_invalid`` and the OFI sums ``ofi_m``, in time order.

    The book is read in batches of ``batch_rows`` consecutive rows
    (:func:`~obrecon_pipeline.metrics.batches.table_slices`: each slice from the Parquet row
    groups it spans; an empty book is one empty slice, giving empty segments of the right schema),
    so memory is bounded by the batch and the segments whatever the day's length. e^m_n pairs each usable row with the usable row
    before it, as :func:`~obrecon_pipeline.metrics.ofi.event_ofi` does."""
    levels = levels_of(frame)
    keys = [f"grid_{i}" for i in range(len(spec.steps_s))]
    rows = frame.select("ts_event", "seq", "book_valid", *level_names(ofi_levels(frame)))
    carry, states, flows = _Carry(), [], []
    for batch in table_slices(rows, batch_rows):
        part, flow, carry = _batch_segments(batch, carry, spec, levels)
        states.append(part)
        flows.append(flow)
    merged = pl.concat(states).group_by(keys, maintain_order=True).agg(
        *[pl.col(c).last() for c in ("state_seq", "state_valid", *_state_columns(levels))],
        pl.col("n_rows").sum(),
        pl.col("n_invalid").sum(),
    )
    flow = pl.concat(flows).group_by(keys).agg(pl.exclude(keys).sum())
    return merged.join(flow, on=keys, how="left").sort(keys)


def _grid(segments: pl.LazyFrame, key: str, every_s: float, levels: int, spec: FeatureSpec) -> pl.LazyFrame:
    """The features of grid step Δ = ``every_s`` s from the segments, one row per grid point."""
    m_max = min(levels, MAX_OFI_LEVELS)
    state = ["state_seq", "state_valid", *_state_columns(levels)]
    ofi = [f"ofi_{m}" for m in range(1, m_max + 1)]
    points = segments.group_by(key, maintain_order=True).agg(
        *[pl.col(c).last() for c in state], pl.col("n_rows").sum(), pl.col("n_invalid").sum(),
        *[pl.col(c).sum() for c in ofi],
    )
    # no row: an empty grid (int_range(0, 0))
    grid = points.select(
        pl.int_range(pl.col(key).min().fill_null(0), pl.col(key).max().fill_null(-1) + 1, dtype=pl.Int64).alias(key)
    )
    filled = (
        grid.join(points.select(key, "n_rows", "n_invalid", *ofi), on=key, how="left")
        .sort(key)
        .with_columns(
            # a gap carries the state of the last grid point with rows, joined as a whole row
            # (filling column by column would fill a level that is empty in that row)
            pl.when(pl.col("n_rows").is_not_null()).then(pl.col(key)).forward_fill().alias("state_point"),
            pl.col("n_rows").fill_null(0).cast(pl.UInt32),
            pl.col("n_invalid").fill_null(0),
            *[pl.col(c).fill_null(0.0) for c in ofi],
        )
        .join(points.select(pl.col(key).alias("state_point"), *state), on="state_point", how="left")
        .sort(key)
    )
    valid = pl.col("book_valid")
    log_mid = pl.col("mid").log()
    return (
        filled.with_columns(
            (pl.col(key) * step_ns(every_s)).alias("ts_event"),
            ((pl.col("n_invalid") == 0) & pl.col("state_valid").shift(1).fill_null(True)).alias("book_valid"),
        )
        .with_columns(pl.when(valid).then(log_mid.diff()).alias("log_return"))
        .with_columns(
            *[
                (pl.col("log_return") ** 2).rolling_sum(w, min_samples=w).sqrt().alias(f"realized_vol_{w}")
                for w in spec.rv_windows
            ],
            *[
                pl.when(valid.cast(pl.Int8).rolling_min(h).shift(-h) == 1)
                .then(log_mid.shift(-h) - log_mid)
                .alias(f"fwd_return_{h}")
                for h in spec.horizons
            ],
            pl.lit(sampling_name(every_s)).alias("sampling"),
        )
        .select(feature_columns(levels, spec))
    )


def features(
    book: pl.DataFrame | pl.LazyFrame, spec: FeatureSpec = FeatureSpec(), batch_rows: int = BATCH_ROWS
) -> pl.DataFrame:
    """Every grid step of ``spec`` stacked, with a ``sampling`` column ("0.1s", "1s", ...), one row
    per grid point in time order. ``book`` is read once, ``batch_rows`` rows at a time (see
    :func:`_segments`); only the segments and the grids are ever held whole."""
    frame = lazy(book)
    levels = levels_of(frame)
    segments = _segments(frame, spec, batch_rows).lazy()
    return pl.concat(
        [_grid(segments, f"grid_{i}", every, levels, spec) for i, every in enumerate(spec.steps_s)]
    ).collect()
