"""Rows of a Tardis ``incremental_book_L2`` table (string columns as read) checked, typed and
numbered into the L2 path's messages: what the whole-day reader (:func:`.tardis.read_book_messages`)
and the block reader (:mod:`.tardis_blocks`) share, so that both make the same messages.

A message is a run of consecutive rows (of the stream's symbol): a snapshot is a run of
``is_snapshot`` rows, a live update a run of live rows with one ``timestamp`` (Tardis docs,
"incremental_book_L2"; see :mod:`.tardis`). Row ``r`` starts a message when ``snap[r] !=
snap[r - 1]``, or when it is live and ``ts[r] != ts[r - 1]``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Side
from obrecon_pipeline.feeds.l2.messages import Sequencing

INCREMENTAL_COLUMNS = ("exchange", "symbol", "timestamp", "local_timestamp", "is_snapshot", "side", "price", "amount")
#: Tardis rows carry no update ids; a file has no snapshot to request, so rows before the first
#: snapshot apply as they come
SEQUENCING = Sequencing(link="none", resync="continue")


def fields_table(path: Path, lines: pl.Series, header: list[str], first_row: int) -> pl.DataFrame:
    """Data lines split at commas into the header's string columns plus ``src_row`` (the 1-based
    file line; ``lines[0]`` is line ``first_row``). Every line must have as many fields as the header."""
    fields = lines.str.split(",")
    counts = fields.list.len()
    wrong = (counts != len(header)).arg_true()
    if wrong.len():
        k = int(wrong[0])
        raise InputError(path, k + first_row, f"expected {len(header)} comma-separated fields, found {int(counts[k])}")
    return pl.DataFrame({name: fields.list.get(j) for j, name in enumerate(header)}).with_columns(
        src_row=pl.int_range(first_row, pl.len() + first_row, dtype=pl.Int64)
    )


def integers(path: Path, table: pl.DataFrame, column: str) -> pl.Series:
    """A string column as Int64; the first value that is not an integer is an error at its row."""
    values = table[column].cast(pl.Int64, strict=False)
    bad = values.is_null().arg_true()
    if bad.len():
        k = int(bad[0])
        raise InputError(path, int(table["src_row"][k]), f"{column} {table[column][k]!r} is not an integer")
    return values


def one_of(path: Path, table: pl.DataFrame, column: str, allowed: tuple[str, ...]) -> None:
    """Every value of a string column is one of ``allowed``; the first that is not is an error at its row."""
    bad = (~table[column].is_in(allowed)).arg_true()
    if bad.len():
        k = int(bad[0])
        raise InputError(
            path, int(table["src_row"][k]), f"{column} {table[column][k]!r} is not one of {', '.join(allowed)}"
        )


def exchange_of(path: Path, table: pl.DataFrame, exchange: str) -> None:
    """Every row is of the stream's ``exchange``; the first that is not is an error at its row."""
    wrong = (table["exchange"] != exchange).arg_true()
    if wrong.len():
        k = int(wrong[0])
        raise InputError(path, int(table["src_row"][k]),
                         f"exchange {table['exchange'][k]!r} is not the stream's exchange {exchange!r}")


def typed_rows(path: Path, table: pl.DataFrame) -> pl.DataFrame:
    """One symbol's rows checked and typed: ``src_row``, ``price`` and ``amount`` (text, scaled
    later), ``ts`` and ``local_ts`` (ns; Tardis writes µs), ``snap`` and ``side`` (:class:`Side`)."""
    one_of(path, table, "is_snapshot", ("true", "false"))
    one_of(path, table, "side", ("bid", "ask"))
    return table.select(
        "src_row", "price", "amount",
        ts=integers(path, table, "timestamp") * 1000,
        local_ts=integers(path, table, "local_timestamp") * 1000,
        snap=pl.col("is_snapshot") == "true",
        side=pl.when(pl.col("side") == "bid").then(int(Side.BID)).otherwise(int(Side.ASK)).cast(pl.Int8),
    )


def numbered(rows: pl.DataFrame) -> pl.DataFrame:
    """:func:`typed_rows` with ``msg``, each row's message (0 the first row's; see the module docstring)."""
    return rows.with_columns(
        msg=(
            (pl.col("snap") != pl.col("snap").shift(1))
            | (~pl.col("snap") & (pl.col("ts") != pl.col("ts").shift(1)))
        ).fill_null(True).cum_sum().cast(pl.Int64) - 1
    )


def message_table(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per message of :func:`numbered` rows (whole messages): ``snapshot``, ``ts_event`` and
    ``ts_recv`` (the latest of its rows), ``src_row`` (its first row's), ``misdated`` (its rows
    dated apart from that time) and ``count`` (its rows)."""
    return rows.group_by("msg", maintain_order=True).agg(
        snapshot=pl.col("snap").first(), ts_event=pl.col("ts").max(), ts_recv=pl.col("local_ts").max(),
        src_row=pl.col("src_row").first(),
        misdated=(pl.col("ts") != pl.col("ts").max()).sum(),
        count=pl.len(),
    )
