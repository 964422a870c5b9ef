"""``--format databento``: Databento market-by-order (MBO) files, ``.dbn`` or ``.dbn.zst``.

Record -> normalized event (https://databento.com/docs/schemas-and-data-formats/mbo):

======== ================ ==================================================================
action   event            book effect (in the replayer's order map)
======== ================ ==================================================================
``A``    ``ADD``          new order (order_id, side, price, size)
``C``    ``CANCEL``       ``size`` is the quantity cancelled ("fully or partially cancels an
                          order"); the order map removes the order when nothing is left
``M``    ``MODIFY``       the order's new price and size; the level aggregate moves with it (a
                          price change or size increase loses queue priority, which the top-N
                          level aggregates do not show)
``R``    ``CLEAR``        the instrument's whole book (side NONE)
``T``    ``TRADE``        aggressor's trade print (side = aggressor): never applied to the book
``F``    ``FILL``         fill of a resting order (side = resting order): never applied; the
                          order's reduction arrives as its own ``C`` or ``M`` record
``N``    ``HALT``         "no action" record that can still carry flags: no book change
======== ================ ==================================================================

Flags: ``F_LAST`` -> ``END_OF_MESSAGE`` (the book is only examined after it), ``F_SNAPSHOT``
(0x20) -> ``SNAPSHOT``, ``F_MAYBE_BAD_BOOK`` (an unrecoverable gap in the channel) ->
``BAD_BOOK``. ``F_BAD_TS_RECV`` only says ``ts_recv`` is inaccurate (every snapshot record has
it): it is counted, not a book failure. A live record whose ``sequence`` goes backwards is
flagged ``BAD_BOOK`` as well (see :mod:`obrecon_pipeline.feeds.channel_sequence`), so the replayer
marks the book invalid until the next clear + snapshot.

Prices stay in DBN's 1e-9 fixed point (``price_scale = 10**9``), sizes are contracts
(``size_scale = 1``); ``sequence`` -> ``update_id``. Each ``instrument_id`` in a file is its own
stream, named by the raw symbol from the file's symbology mappings when present.
"""

from __future__ import annotations

from pathlib import Path

import databento_dbn
import numpy as np
import polars as pl

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag, Side, conform
from obrecon_pipeline.feeds import Feed, register
from obrecon_pipeline.streams import LoadedStream, ReplayOptions, Stream
from obrecon_pipeline.feeds.dbn import DbnFile, read_dbn
from obrecon_pipeline.feeds.channel_sequence import regression_mask, sequence_report

SOURCE = "databento"
PRICE_SCALE = databento_dbn.FIXED_PRICE_SCALE  # 1e9 units per 1.0
SIZE_SCALE = 1
SUFFIXES = (".dbn", ".dbn.zst")
UNDEF_TIMESTAMP = np.uint64(databento_dbn.UNDEF_TIMESTAMP)


def _lookup(pairs: dict[bytes, int], dtype: type) -> np.ndarray:
    table = np.zeros(256, dtype=dtype)
    for char, code in pairs.items():
        table[char[0]] = code
    return table


_ACTION = _lookup(
    {
        b"A": Action.ADD,
        b"C": Action.CANCEL,
        b"M": Action.MODIFY,
        b"R": Action.CLEAR,
        b"T": Action.TRADE,
        b"F": Action.FILL,
        b"N": Action.HALT,
    },
    np.int8,
)
_SIDE = _lookup({b"B": Side.BID, b"A": Side.ASK, b"N": Side.NONE}, np.int8)


def _flags(raw: np.ndarray) -> np.ndarray:
    """DBN flag bits -> :class:`Flag` bits."""
    out = np.where(raw & databento_dbn.F_LAST, np.uint8(Flag.END_OF_MESSAGE), np.uint8(0))
    out |= np.where(raw & databento_dbn.F_SNAPSHOT, np.uint8(Flag.SNAPSHOT), np.uint8(0))
    out |= np.where(raw & databento_dbn.F_MAYBE_BAD_BOOK, np.uint8(Flag.BAD_BOOK), np.uint8(0))
    return out.astype(np.uint8)


def _timestamps(ns: np.ndarray) -> pl.Series:
    """uint64 ns -> Int64, ``UNDEF_TIMESTAMP`` -> null."""
    return pl.Series(ns.astype(np.int64)).set(pl.Series(ns == UNDEF_TIMESTAMP), None)


def normalize(records: np.ndarray, src_rows: np.ndarray) -> pl.DataFrame:
    """One instrument's MBO records (structured array, file order) -> the normalized event table.

    ``src_rows`` are the records' 1-based positions in their file.
    """
    action = _ACTION[records["action"].view(np.uint8)]
    price = records["price"].copy()
    # a clear (and a "none" record) carries UNDEF_PRICE: the price means nothing there
    price[(action == Action.CLEAR) | (action == Action.HALT)] = 0
    update_id = records["sequence"].astype(np.int64)
    n = records.shape[0]
    frame = pl.DataFrame(
        {
            "ts_event": _timestamps(records["ts_event"]),
            "ts_recv": _timestamps(records["ts_recv"]),
            "arrival": np.arange(n, dtype=np.int64),
            "src_row": src_rows.astype(np.int64),
            "action": action,
            "side": _SIDE[records["side"].view(np.uint8)],
            "price": price,
            "size": records["size"].astype(np.int64),
            "order_id": records["order_id"],
            "update_id": update_id,
            "flags": _flags(records["flags"]),
            "price_scale": np.full(n, PRICE_SCALE, dtype=np.int64),
            "size_scale": np.full(n, SIZE_SCALE, dtype=np.int64),
        }
    )
    events = conform(frame)
    regressed = regression_mask(events)
    return events.with_columns(
        pl.when(regressed).then(pl.col("flags") | Flag.BAD_BOOK).otherwise(pl.col("flags")).cast(pl.UInt8)
    )


def _is_dbn(path: Path) -> bool:
    return path.is_file() and path.name.endswith(SUFFIXES)


def _stream_names(dbn: DbnFile) -> dict[int, str]:
    """instrument_id -> stream name for every instrument with records in the file."""
    symbols = dbn.instrument_symbols()
    ids = [int(i) for i in np.unique(dbn.records["instrument_id"])]
    names = {i: symbols.get(i, str(i)) for i in ids}
    taken = list(names.values())
    # one raw symbol can map to two instrument ids over a multi-day file (a roll): keep both apart
    return {i: (name if taken.count(name) == 1 else f"{name}-{i}") for i, name in names.items()}


def _streams(paths: list[Path], day: str | None) -> list[Stream]:
    """One stream per instrument over ``paths`` (a stream's files in the order given).

    ``day`` None: the UTC date the file's metadata starts at. A file that cannot be decoded still
    becomes a stream (named after the file) so that its :class:`InputError` surfaces when the
    stream is loaded, not silently here.
    """
    by_name: dict[tuple[str, str], list[Path]] = {}
    for path in paths:
        try:
            dbn = read_dbn(path)
        except InputError:
            by_name.setdefault((path.name.split(".")[0], day or "unknown"), []).append(path)
            continue
        stream_day = day or str(np.datetime64(dbn.metadata.start, "ns").astype("datetime64[D]"))
        for name in _stream_names(dbn).values():
            by_name.setdefault((name, stream_day), []).append(path)
    return [
        Stream(SOURCE, name, stream_day, tuple(files), symbol=name)
        for (name, stream_day), files in sorted(by_name.items())
    ]


def discover(day_dir: Path, day: str) -> list[Stream]:
    """Streams in a landing-zone day folder: one per instrument of its ``.dbn``/``.dbn.zst`` files."""
    folder = Path(day_dir)
    if not folder.is_dir():
        return []
    return _streams(sorted(p for p in folder.iterdir() if _is_dbn(p)), day)


def from_files(paths: list[Path]) -> list[Stream]:
    """Streams in DBN files named on the command line."""
    return _streams([Path(p) for p in paths], None)


def load_records(stream: Stream) -> tuple[np.ndarray, np.ndarray]:
    """The stream's records (files in order) and their 1-based record numbers in their file."""
    parts, rows = [], []
    for path in stream.files:
        dbn = read_dbn(path)
        wanted = [i for i, name in _stream_names(dbn).items() if name == stream.name]
        if not wanted:
            raise InputError(path, None, f"no records of instrument {stream.name!r} in the file")
        keep = np.flatnonzero(dbn.records["instrument_id"] == wanted[0])
        parts.append(dbn.records[keep])
        rows.append(keep + 1)
    return np.concatenate(parts), np.concatenate(rows)


def load(stream: Stream) -> LoadedStream:
    """Parse a stream; ``stats`` carries the sequence analysis and the record-flag counts."""
    records, src_rows = load_records(stream)
    events = normalize(records, src_rows)
    sequence = sequence_report(events)
    raw_flags = records["flags"]
    stats = {
        "records": int(records.shape[0]),
        "snapshot_records": int(np.count_nonzero(raw_flags & databento_dbn.F_SNAPSHOT)),
        "bad_ts_recv_records": int(np.count_nonzero(raw_flags & databento_dbn.F_BAD_TS_RECV)),
        "venue_maybe_bad_book": int(np.count_nonzero(raw_flags & databento_dbn.F_MAYBE_BAD_BOOK)),
        **sequence.as_report(),
        "sequence_regression_list": sequence.regression_rows.to_dicts(),
    }
    return LoadedStream(
        stream=stream,
        events=events,
        options=ReplayOptions(emit="message", strict_orders=True),
        stats=stats,
    )


FEED = register(Feed(SOURCE, discover, load, from_files))
