"""The normalized event table shared by every feed.

One row per book-relevant input event, in arrival order. Prices and sizes are **scaled integers**
(``natural = value / scale``) with the scales stored as constant columns, so every consumer can
recover exact decimals and the replayer never touches a float.

Columns (Polars dtypes):

================ ======= ============================================================
``ts_event``     Int64   event time, ns since the Unix epoch, UTC
``ts_recv``      Int64   local receive time in ns UTC (null when the feed has none)
``arrival``      Int64   0-based arrival order within the stream
``src_row``      Int64   1-based line / record number in the raw file (for error reports)
``action``       Int8    one of :class:`~obrecon_pipeline.codes.Action`
``side``         Int8    ``BID`` (1), ``ASK`` (-1) or ``NONE`` (0)
``price``        Int64   scaled price (``price_scale`` units per 1.0)
``size``         Int64   scaled size (``size_scale`` units per 1.0)
``order_id``     UInt64  order id for L3 feeds (0 when none)
``update_id``    Int64   exchange sequence / update id (null when the feed has none)
``flags``        UInt8   bit set of :class:`~obrecon_pipeline.codes.Flag`
``checksum``     Int64   venue checksum carried by the message (null when none)
``price_scale``  Int64   constant per stream
``size_scale``   Int64   constant per stream
``participant``  String  market participant the venue attributes the event to (LOBSTER's
                         7th message column, a NASDAQ MPID); null when the feed has none
================ ======= ============================================================

``participant`` was added after the first release (a contract extension): every feed's table has
it, :func:`conform` fills it with nulls for feeds that carry no attribution.
"""

from __future__ import annotations

import polars as pl

from obrecon_pipeline.codes import Action, Flag, Side

__all__ = ["Action", "Flag", "Side", "EVENT_SCHEMA", "conform", "scales"]


EVENT_SCHEMA: dict[str, pl.DataType] = {
    "ts_event": pl.Int64,
    "ts_recv": pl.Int64,
    "arrival": pl.Int64,
    "src_row": pl.Int64,
    "action": pl.Int8,
    "side": pl.Int8,
    "price": pl.Int64,
    "size": pl.Int64,
    "order_id": pl.UInt64,
    "update_id": pl.Int64,
    "flags": pl.UInt8,
    "checksum": pl.Int64,
    "price_scale": pl.Int64,
    "size_scale": pl.Int64,
    "participant": pl.String,
}


def conform(df: pl.DataFrame) -> pl.DataFrame:
    """Return ``df`` with exactly :data:`EVENT_SCHEMA`'s columns, order and dtypes.

    Missing optional columns (``ts_recv``, ``update_id``, ``checksum``, ``participant``) are added as
    nulls; anything else missing is a programming error in a feed parser and raises ``KeyError``.
    """
    optional = {"ts_recv", "update_id", "checksum", "participant"}
    exprs = []
    for name, dtype in EVENT_SCHEMA.items():
        if name in df.columns:
            exprs.append(pl.col(name).cast(dtype))
        elif name in optional:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        else:
            raise KeyError(f"normalized events lack column {name!r}")
    return df.select(exprs)


def scales(events: pl.DataFrame) -> tuple[int, int]:
    """``(price_scale, size_scale)`` of a non-empty normalized event table."""
    if events.height == 0:
        raise ValueError("empty event table has no scale")
    return int(events["price_scale"][0]), int(events["size_scale"][0])
