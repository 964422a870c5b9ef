"""``--format bybit``: Bybit order-book history files (``<day>_<SYMBOL>_ob<depth>.data[.zip]``).

Each line is one websocket message of the ``orderbook.<depth>.<SYMBOL>`` topic::

    {"topic", "type": "snapshot"|"delta", "ts": ms, "cts": ms,
     "data": {"s": SYMBOL, "b": [[price, size], ...], "a": [...], "u": update id, "seq": cross seq}}

This module only reads the file (vectorised in Polars) into the one L2 path's
:class:`~obrecon_pipeline.feeds.l2.messages.BookMessages`: a snapshot replaces the book (``CLEAR``
+ one ``SET_LEVEL`` per level, ``SNAPSHOT``), a delta sets each listed level's aggregate size
(``"0"`` deletes it), the message's ``u`` is every event's ``update_id`` and ``ts_event`` is its
``ts`` (ms -> ns).

Update-id continuity (Bybit, "Orderbook" websocket docs) is :data:`SEQUENCING` in the shared
sequencer: a delta must carry ``u = u_prev + 1``. A delta at or below the last applied ``u`` is a
duplicate: dropped and counted. Any other break (or a delta before the first snapshot) is a gap:
counted, located (book row, file line, time, expected and received ``u``) in :attr:`BybitHistory.gaps`
and the stream's ``stats["gap_list"]``, and the first event after it is flagged ``BAD_BOOK``; the
replayer keeps the book invalid until the next snapshot.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from obrecon_pipeline.codes import MessageStatus
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Side
from obrecon_pipeline.feeds import Feed, held_in, register
from obrecon_pipeline.feeds._io import read_bytes, zip_members
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing
from obrecon_pipeline.feeds.l2.source import source_opener
from obrecon_pipeline.streams import Held, LoadedStream, Stream

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

#: how Bybit's ``u`` chains: a delta follows with ``u = u_prev + 1``; no reordering (a break is a gap
#: at once), and no snapshot can be requested, so the deltas after a gap are applied from the ``u``
#: received (the book invalid until the next snapshot)
SEQUENCING = Sequencing(link="first", sync_offset=1, pending=1, resync="continue")


@dataclass
class BybitHistory:
    """A parsed history file: normalized events plus the update-id integrity findings."""

    symbol: str
    depth: int
    messages: int  #: lines in the file
    snapshots: int
    deltas: int  #: delta messages applied (duplicates excluded)
    duplicates: int  #: deltas repeating an applied ``u`` (dropped)
    gaps: pl.DataFrame  #: one row per break: :data:`~obrecon_pipeline.feeds.l2.messages.GAP_SCHEMA`
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


def read_book_messages(path: str | Path) -> tuple[BookMessages, int]:
    """One history file as the L2 path's :class:`BookMessages` (and the depth of its topic)."""
    path = Path(path)
    frame = _read_messages(path).with_row_index("msg").with_columns(pl.col("msg").cast(pl.Int64))
    levels = pl.concat([_levels(frame, "b", Side.BID, 1), _levels(frame, "a", Side.ASK, 2)]).sort(
        "msg", "part", "pos", maintain_order=True)
    malformed = levels.filter(~pl.col("ok"))
    if malformed.height:
        raise InputError(path, malformed["src_row"][0], f"level {malformed['level'][0].to_list()} is not [price, size]")
    topic = frame["topic"][0] or ""
    depth = re.search(r"orderbook\.(\d+)\.", topic)
    depth = int(depth.group(1)) if depth else 0
    book = BookMessages(frame["s"][0], SEQUENCING, window=depth)
    # the history file has no local receive time: ts_recv stays null (gap records use ts)
    messages = frame.select(
        snapshot=pl.col("type") == "snapshot", ts_event=pl.col("ts") * 1_000_000,
        ts_recv=pl.lit(None, pl.Int64), file=pl.lit(0, pl.Int64), src_row="src_row", first="u", last="u",
        prev=pl.lit(None, pl.Int64), checksum=pl.lit(None, pl.Int64),
    )
    book.add_tables([str(path)], messages, levels.select("msg", "side", "price_text", "size_text"))
    return book, depth


def parse_history(path: str | Path) -> BybitHistory:
    """Parse one Bybit history file into normalized events and its update-id integrity record."""
    book, depth = read_book_messages(path)
    events, sq = book.events()
    applied = np.isin(sq.status, (MessageStatus.APPLIED, MessageStatus.REORDERED))
    return BybitHistory(
        symbol=book.symbol,
        depth=depth,
        messages=book.n_messages,
        snapshots=int((sq.status == MessageStatus.SNAPSHOT).sum()),
        deltas=int(applied.sum()),
        duplicates=sq.counters["duplicates"],
        gaps=sq.gaps,
        events=events,
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


def stream_messages(stream: Stream) -> BookMessages:
    """A stream's book messages (the one L2 path's input)."""
    return read_book_messages(stream.files[0])[0]


def load(stream: Stream) -> LoadedStream:
    return stream_messages(stream).to_loaded(stream)


FEED = register(Feed(SOURCE, discover, load, from_files, open=source_opener(stream_messages), holds=holds,
                     assemble=assemble))
