"""A synthetic L3 day for throughput benchmarks, generated vectorised (no Python loop per event).

Orders arrive uniformly over a 6.5-hour session around a mid price that follows a random walk;
each rests ``k >= 1`` ticks from the mid at arrival (k geometric, so depth thins away from the
touch) for an exponential lifetime, then is executed (at the touch) or deleted; one in ten is first
partially cancelled. Every cancel, execution and delete refers to a live order by at most its
remaining size, so the stream is valid for a strict L3 replay.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from obrecon_pipeline.events import Action, Flag, conform

SESSION_NS = 23_400 * 1_000_000_000
TICK = 100  # $0.01 at a price scale of 10,000


def synthetic_day(n_events: int = 5_000_000, seed: int = 20120621) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    p_partial = 0.1
    n_orders = int(np.ceil(n_events / (2 + p_partial)))
    t_add = np.sort(rng.integers(0, SESSION_NS, n_orders))
    # mid: a random walk of one tick per ~2 s on average, sampled at each arrival
    steps = rng.choice([-TICK, 0, TICK], size=n_orders, p=[0.0005, 0.999, 0.0005])
    mid = 5_800_000 + np.cumsum(steps)
    side = rng.choice(np.array([1, -1], dtype=np.int8), size=n_orders)
    ticks_away = rng.geometric(0.35, size=n_orders)
    price = mid - side.astype(np.int64) * ticks_away * TICK
    size = rng.integers(1, 10, size=n_orders) * 100
    t_remove = t_add + rng.exponential(3e9, size=n_orders).astype(np.int64) + 1
    order_id = np.arange(1, n_orders + 1, dtype=np.uint64)

    partial = rng.random(n_orders) < p_partial
    cancel_qty = np.where(partial, size // 2, 0)
    remover = np.where((ticks_away == 1) & (rng.random(n_orders) < 0.4), Action.EXECUTE, Action.DELETE)

    pid = np.flatnonzero(partial)
    ts = np.concatenate([t_add, t_add[pid] + (t_remove[pid] - t_add[pid]) // 2, t_remove])
    # ties: an order's add comes before its cancel, which comes before its removal
    phase = np.concatenate([np.zeros(n_orders), np.ones(pid.size), np.full(n_orders, 2)]).astype(np.int8)
    order = np.lexsort((phase, ts))[:n_events]
    frame = pl.DataFrame({
        "ts_event": ts,
        "action": np.concatenate([np.full(n_orders, Action.ADD), np.full(pid.size, Action.CANCEL), remover]).astype(np.int8),
        "side": np.concatenate([side, side[pid], side]),
        "price": np.concatenate([price, price[pid], price]),
        "size": np.concatenate([size, cancel_qty[pid], size - cancel_qty]),
        "order_id": np.concatenate([order_id, order_id[pid], order_id]),
    })[order]
    n = frame.height
    return conform(frame.with_columns(
        pl.Series("arrival", np.arange(n, dtype=np.int64)),
        pl.Series("src_row", np.arange(1, n + 1, dtype=np.int64)),
        pl.lit(int(Flag.END_OF_MESSAGE), dtype=pl.UInt8).alias("flags"),
        pl.lit(10_000, dtype=pl.Int64).alias("price_scale"),
        pl.lit(1, dtype=pl.Int64).alias("size_scale"),
    ))
