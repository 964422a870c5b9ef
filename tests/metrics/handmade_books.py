"""Hand-made books in the public book schema for known-answer tests."""

from __future__ import annotations

import polars as pl

from obrecon_pipeline.book_schema import book_schema

T0 = 1_340_285_400_000_000_000  # 2012-06-21 13:30:00 UTC in ns


def book_frame(rows: list[dict], levels: int, ts: list[int] | None = None) -> pl.DataFrame:
    """One book row per dict: keys ``bid``/``ask`` -> list of (price, size) from the best level;
    missing levels are null. ``ts`` defaults to one row per millisecond from :data:`T0`."""
    schema = book_schema(levels)
    data: dict[str, list] = {name: [] for name in schema}
    for i, row in enumerate(rows):
        data["ts_event"].append(ts[i] if ts is not None else T0 + i * 1_000_000)
        data["seq"].append(i)
        data["update_id"].append(None)
        data["book_valid"].append(row.get("valid", True))
        for side in ("bid", "ask"):
            quotes = row.get(side, [])
            for k in range(1, levels + 1):
                price, size = quotes[k - 1] if k <= len(quotes) else (None, None)
                data[f"{side}_price_{k}"].append(price)
                data[f"{side}_size_{k}"].append(size)
    return pl.DataFrame(data, schema=schema)
