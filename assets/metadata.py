"""Small helpers that turn core results into metadata a person can act on."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl

from obrecon_pipeline.events import Action, Side

ACTION_NAMES = {int(a): a.name.lower() for a in Action}
SIDE_NAMES = {int(s): s.name.lower() for s in Side}


def iso(ts_ns: int) -> str:
    """UTC ISO-8601 time with nanoseconds."""
    sec, ns = divmod(int(ts_ns), 1_000_000_000)
    return datetime.fromtimestamp(sec, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns:09d}Z"


def describe_event(events: pl.DataFrame, arrival: int) -> str:
    """One line naming the raw row behind an event: 'row 1234: execute ask 100 @ 580.12 (order 42)'."""
    e = events.row(arrival, named=True)
    price = e["price"] / e["price_scale"]
    size = e["size"] / e["size_scale"]
    order = f" (order {e['order_id']})" if e["order_id"] else ""
    return (
        f"row {e['src_row']}: {ACTION_NAMES.get(e['action'], e['action'])} {SIDE_NAMES.get(e['side'], '')} "
        f"{size:g} @ {price:g}{order} at {iso(e['ts_event'])}"
    )


def markdown_table(frame: pl.DataFrame, limit: int = 10) -> str:
    """The first ``limit`` rows of ``frame`` as a Markdown table."""
    head = frame.head(limit)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row) + " |")
    if frame.height > limit:
        lines.append(f"\n… {frame.height - limit} more rows")
    return "\n".join(lines)
