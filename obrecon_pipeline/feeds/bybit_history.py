"""``--format bybit``: Bybit order-book history files (``<day>_<SYMBOL>_ob<depth>.data[.zip]``).

Each line is one websocket message of the ``orderbook.<depth>.<SYMBOL>`` topic::

    {"topic", "type": "snapshot"|"delta", "ts": ms, "cts": ms,
     "data": {"s": SYMBOL, "b": [[price, size], ...], "a": [...], "u": update id, "seq": cross seq}}

A snapshot replaces the book: one ``CLEAR`` (side NONE) then a ``SET_LEVEL`` per level, all flagged
``SNAPSHOT``. A delta sets each listed level's aggregate size (``"0"`` deletes it). The last event
of every message carries ``END_OF_MESSAGE`` and the message's ``u`` is every event's
``update_id``.

Update-id continuity (Bybit, "Orderbook" websocket docs): a delta must carry ``u = u_prev + 1``,
``u_prev`` being the previous message's ``u``. A delta repeating ``u_prev`` is a duplicate: dropped
and counted. Any other break (or a delta before the first snapshot) is a gap: counted, located
(book row, file line, time, expected and received ``u``) in :attr:`Ob500.gaps` and the stream's
``stats["gap_list"]``, and the first event at or after it is flagged ``BAD_BOOK``; the replayer
keeps the book invalid until the next snapshot. ``ts_event`` is the message's ``ts`` (ms -> ns).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag, Side, conform, l2_event_columns
from obrecon_pipeline.feeds import Feed, held_in, register
from obrecon_pipeline.feeds._io import read_bytes, zip_members
from obrecon_pipeline.feeds.decimals import scaled_integers
from obrecon_pipeline.streams import Held, LoadedStream, ReplayOptions, Stream

SOURCE = "bybit"
#: Bybit's own name ``2024-12-01_XRPUSDT_ob500.data.zip`` or a renamed ``xrpusdt-ob500.data.zip``
_FILE_NAME = re.compile(r"^(?:\d{4}-\d{2}-\d{2}_)?([A-Za-z0-9]+)[_-]ob(\d+)\.data(?:\.zip|\.gz)?$")

_SCHEMA = {
    "topic": pl.String,
    "type": pl.String,
    "ts": pl.Int64,
    "cts": pl.Int64,
    "data": pl.Struct(
        {
            "s": pl.String,
            "b": pl.List(pl.List(pl.String)),
            "a": pl.List(pl.List(pl.String)),
            "u": pl.Int64,
            "seq": pl.Int64,
        }
    ),
}

#: the cryptofeed format's gap record (``obrecon_pipeline.feeds.l2.messages.GAP_SCHEMA``):
#: ``row`` is the book row (``emit="message"``) of the first message after the gap; the history file
#: has no local receive time, so ``ts_recv`` holds the message's ``ts`` like ``ts_event``
GAP_SCHEMA = {
    "row": pl.Int64,
    "file": pl.String,
    "src_row": pl.Int64,
    "ts_event": pl.Int64,
    "ts_recv": pl.Int64,
    "expected": pl.Int64,
    "received": pl.Int64,
}


@dataclass
class Ob500:
    """A parsed history file: normalized events plus the update-id integrity findings."""

    symbol: str
    depth: int
    messages: int  #: lines in the file
    snapshots: int
    deltas: int  #: delta messages applied (duplicates excluded)
    duplicates: int  #: deltas repeating the previous ``u`` (dropped)
    gaps: pl.DataFrame  #: one row per break: :data:`GAP_SCHEMA`
    events: pl.DataFrame


def _record_problem(obj: object) -> str | None:
    """Why one decoded line is not an order-book message (None when it is)."""
    if not isinstance(obj, dict):
        return "line is not a JSON object"
    if obj.get("type") not in ("snapshot", "delta"):
        return f"type {obj.get('type')!r} is neither 'snapshot' nor 'delta'"
    if not isinstance(obj.get("ts"), int):
        return f"ts {obj.get('ts')!r} is not an integer"
    data = obj.get("data")
    if not isinstance(data, dict):
        return "data is not a JSON object"
    if not isinstance(data.get("s"), str):
        return "data.s (symbol) missing"
    if not isinstance(data.get("u"), int):
        return f"data.u {data.get('u')!r} is not an integer"
    for side in ("b", "a"):
        levels = data.get(side, [])
        if not isinstance(levels, list):
            return f"data.{side} is not a list"
        for level in levels:
            if not (isinstance(level, list) and len(level) == 2 and all(isinstance(x, str) for x in level)):
                return f"data.{side} level {level!r} is not [price, size] strings"
    return None


def _locate_bad_line(path: Path, raw: bytes, detail: str) -> InputError:
    """Decode line by line to name the first bad line (only run once the fast path failed)."""
    for row, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            return InputError(path, row, "empty line")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            return InputError(path, row, f"malformed JSON: {exc.msg} at column {exc.colno}")
        problem = _record_problem(obj)
        if problem:
            return InputError(path, row, problem)
    return InputError(path, None, f"unreadable order-book file: {detail}")


def _read_messages(path: Path) -> pl.DataFrame:
    if path.suffix == ".zip":
        members = zip_members(path)
        if len(members) != 1:
            raise InputError(path, None, f"the zip archive must hold one history file, holds {members}")
        raw = read_bytes(path, members[0])
    else:
        raw = read_bytes(path)
    if not raw.strip():
        raise InputError(path, None, "empty file")
    try:
        frame = pl.read_ndjson(io.BytesIO(raw), schema=_SCHEMA)
    except pl.exceptions.PolarsError as exc:
        raise _locate_bad_line(path, raw, str(exc).splitlines()[0]) from None
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    frame = frame.unnest("data").with_row_index("src_row", offset=1).with_columns(pl.col("src_row").cast(pl.Int64))
    incomplete = frame.filter(
        pl.col("type").is_null()
        | ~pl.col("type").is_in(["snapshot", "delta"])
        | pl.col("ts").is_null()
        | pl.col("u").is_null()
        | pl.col("s").is_null()
    )
    if frame.height != lines or incomplete.height:
        # polars skips blank lines and fills missing keys with null: name the line exactly
        raise _locate_bad_line(path, raw, "missing fields")
    symbols = frame["s"].unique()
    if symbols.len() != 1:
        raise InputError(path, None, f"one symbol per file expected, found {sorted(symbols.to_list())}")
    return frame


def _levels(frame: pl.DataFrame, column: str, side: Side, part: int) -> pl.DataFrame:
    """One row per ``[price, size]`` pair of ``column`` (``b``/``a``), keeping message order."""
    return (
        frame.select("msg", "src_row", pl.col(column).alias("level"))
        .with_columns(pos=pl.int_ranges(pl.col("level").list.len()))
        .explode("level", "pos", empty_as_null=False)
        .drop_nulls("level")
        .with_columns(
            ok=pl.col("level").list.len() == 2,
            price_text=pl.col("level").list.get(0, null_on_oob=True),
            size_text=pl.col("level").list.get(1, null_on_oob=True),
            side=pl.lit(int(side), dtype=pl.Int8),
            part=pl.lit(part, dtype=pl.Int8),
        )
    )


def parse_ob500(path: str | Path) -> Ob500:
    """Parse one Bybit history file into normalized events and its update-id integrity record."""
    path = Path(path)
    frame = _read_messages(path)
    snapshot = pl.col("type") == "snapshot"
    frame = frame.with_columns(
        duplicate=(~snapshot & (pl.col("u") == pl.col("u").shift(1))).fill_null(False)
    )
    kept = frame.filter(~pl.col("duplicate")).with_row_index("msg").with_columns(
        expected=pl.col("u").shift(1) + 1
    )
    kept = kept.with_columns(
        gap=~snapshot & (pl.col("expected").is_null() | (pl.col("u") != pl.col("expected")))
    ).with_columns(gaps_so_far=pl.col("gap").cast(pl.Int64).cum_sum())
    gaps = kept.filter("gap").select(
        pl.lit(str(path)).alias("file"),
        "src_row",
        (pl.col("ts") * 1_000_000).alias("ts_event"),
        (pl.col("ts") * 1_000_000).alias("ts_recv"),
        "expected",
        pl.col("u").alias("received"),
    )

    levels = pl.concat([_levels(kept, "b", Side.BID, 1), _levels(kept, "a", Side.ASK, 2)])
    malformed = levels.filter(~pl.col("ok"))
    if malformed.height:
        raise InputError(path, malformed["src_row"][0], f"level {malformed['level'][0].to_list()} is not [price, size]")
    prices, price_dec = scaled_integers(levels["price_text"], path=path, rows=levels["src_row"], what="price")
    sizes, size_dec = scaled_integers(levels["size_text"], path=path, rows=levels["src_row"], what="size")
    negative = levels.filter(sizes < 0)
    if negative.height:
        raise InputError(path, negative["src_row"][0], f"negative size {negative['size_text'][0]!r}")
    set_levels = levels.select(
        "msg", "part", "pos", "side", pl.lit(int(Action.SET_LEVEL), dtype=pl.Int8).alias("action")
    ).with_columns(price=prices, size=sizes)
    clears = kept.filter(snapshot).select(
        "msg",
        pl.lit(0, dtype=pl.Int8).alias("part"),
        pl.lit(0, dtype=pl.Int64).alias("pos"),
        pl.lit(int(Side.NONE), dtype=pl.Int8).alias("side"),
        pl.lit(int(Action.CLEAR), dtype=pl.Int8).alias("action"),
        pl.lit(0, dtype=pl.Int64).alias("price"),
        pl.lit(0, dtype=pl.Int64).alias("size"),
    )
    messages = kept.select(
        "msg", "src_row", "u", "gaps_so_far", pl.col("ts") * 1_000_000, is_snapshot=snapshot
    )
    events = (
        pl.concat([clears, set_levels.with_columns(pl.col("pos").cast(pl.Int64))])
        .sort("msg", "part", "pos", maintain_order=True)
        .join(messages, on="msg", how="left", maintain_order="left")
        .with_columns(
            last=pl.col("msg") != pl.col("msg").shift(-1, fill_value=-1),
            # a gap at message m flags the first event of the first message >= m that has events
            bad=pl.col("gaps_so_far") > pl.col("gaps_so_far").shift(1, fill_value=0),
        )
        .select(
            pl.col("ts").alias("ts_event"),
            pl.col("u").alias("update_id"),
            (
                pl.when("last").then(int(Flag.END_OF_MESSAGE)).otherwise(0)
                | pl.when("is_snapshot").then(int(Flag.SNAPSHOT)).otherwise(0)
                | pl.when("bad").then(int(Flag.BAD_BOOK)).otherwise(0)
            ).alias("flags"),
            *l2_event_columns(price_dec, size_dec),
        )
    )
    # book row of a gap: the messages with events before it (one row per message, emit="message")
    with_events = np.unique(events["src_row"].to_numpy())
    row = np.searchsorted(with_events, gaps["src_row"].to_numpy())
    gaps = gaps.with_columns(row=pl.Series(row, dtype=pl.Int64)).select(list(GAP_SCHEMA))
    topic = frame["topic"][0] or ""
    depth = re.search(r"orderbook\.(\d+)\.", topic)
    return Ob500(
        symbol=frame["s"][0],
        depth=int(depth.group(1)) if depth else 0,
        messages=frame.height,
        snapshots=int(kept.select(snapshot.sum()).item()),
        deltas=int(kept.select((~snapshot).sum()).item()),
        duplicates=int(frame["duplicate"].sum()),
        gaps=gaps.cast(GAP_SCHEMA),
        events=conform(events),
    )


def _stream(path: Path, day: str | None) -> Stream:
    """The stream of one history file; ``day`` None: the file name's date, else its first ``ts``."""
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise InputError(path, None, "not a Bybit history file name (<day>_<SYMBOL>_ob<depth>.data[.zip])")
    symbol, depth = match.group(1).upper(), match.group(2)
    if day is None:
        dated = re.match(r"^(\d{4}-\d{2}-\d{2})_", path.name)
        day = dated.group(1) if dated else str(
            np.datetime64(int(_read_messages(path)["ts"][0]), "ms").astype("datetime64[D]")
        )
    return Stream(SOURCE, f"{symbol}-ob{depth}", day, (path,), symbol)


def holds(path: Path, day: str) -> list[Held]:
    """The stream of a history file in a ``raw/bybit/<day>/`` folder, from its name alone."""
    if not _FILE_NAME.match(path.name):
        return []
    stream = _stream(path, day)
    return [Held(stream.name, stream.symbol)]


def assemble(day: str, holdings: dict[Path, list[Held]]) -> list[Stream]:
    return [Stream(SOURCE, h.name, day, (path,), h.symbol) for path, held in holdings.items() for h in held]


def discover(day_dir: Path, day: str) -> list[Stream]:
    """One stream (``<SYMBOL>-ob<depth>``) per history file in a ``raw/bybit/<day>/`` folder."""
    return assemble(day, held_in(day_dir, day, holds))


def from_files(paths: list[Path]) -> list[Stream]:
    """One stream per history file named on the command line."""
    return [_stream(Path(p), None) for p in paths]


def load(stream: Stream) -> LoadedStream:
    book = parse_ob500(stream.files[0])
    stats = {"messages": book.messages, "gaps": book.gaps.height, "duplicates": book.duplicates}
    if book.gaps.height:  # located as the cryptofeed format does
        stats.update({f"first_gap_{k}": v for k, v in book.gaps.row(0, named=True).items()})
    stats["gap_list"] = book.gaps.to_dicts()
    return LoadedStream(stream, book.events, ReplayOptions(window=book.depth, emit="message"), stats=stats)


FEED = register(Feed(SOURCE, discover, load, from_files, holds=holds, assemble=assemble))
