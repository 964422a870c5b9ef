"""One symbol's book messages with the parsed ones on disk: :class:`SpilledBook`, a
:class:`~.messages.BookMessages` whose memory does not grow with the day.

A reader that parses a day's messages into exact integers and spills them (:class:`SpilledMessages`;
:class:`SpilledColumns` reads one symbol's from a reader's :class:`~obrecon_pipeline.feeds.spill.Spill`:
the Binance reader's, the Coinbase, Kraken and OKX one's, and the Tardis block reader's) hands them
over whole; the few messages it leaves (REST snapshots, a message of another shape) are added through the usual API (:meth:`~.messages.BookMessages.snapshot`,
``diff``, ``quarantine``) at their place among the spilled ones (:meth:`SpilledBook.add_at`).
Message ``i`` of the day (arrival order) is an added message when ``i`` is one of the added
messages' positions ``P`` (sorted), else spilled message ``i - #{p in P: p < i}``.

The sequencer's blocks (:meth:`~.messages.BookMessages.id_blocks`), the gaps and each chunk's
events read only the messages they name (:meth:`SpilledBook._message_frame`,
:meth:`SpilledBook._assembled`: an assembly of just those messages and their levels). The
symbol's scales come before the first event from the reader's summary — the largest mantissa per
number of decimals written, so the scale ``10**d`` is the most decimals and the int64 check is
:func:`~.messages._fits` on those maxima — and the added messages' text levels, scaled once
(:meth:`~.messages.BookMessages._text_levels`). When either check fails (bad input), every
method falls back to the whole day read into memory (:meth:`SpilledBook._merged`), which gives
the located error the whole-day path gives (:attr:`SpilledBook._whole_day`); what needs the whole day (:meth:`~.messages.BookMessages.to_loaded`,
``messages()``, ``levels()``) reads it the same way.
"""

from __future__ import annotations

from functools import cached_property
from typing import Callable, Iterator, Protocol

import numpy as np
import polars as pl

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.l2.messages import (
    LEVEL_SCHEMA, MESSAGE_SCHEMA, SCALED_LEVEL_COLUMNS, TICKER_SCHEMA, BookMessages, Sequenced, _Assembly, _fits,
    _Levels, diff_ends)
from obrecon_pipeline.feeds.l2 import source
from obrecon_pipeline.feeds.spill import Spill


def _level_index(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The indices of the levels of messages whose levels are ``[starts[k], starts[k] + counts[k])``,
    message by message."""
    local = np.cumsum(counts) - counts
    return np.repeat(starts - local, counts) + np.arange(int(counts.sum()), dtype=np.int64)


class _AppliedEnds:
    """The applied messages' last ids and book rows of a day, in sequencer order, the diffs' ones
    kept in a :class:`~obrecon_pipeline.feeds.spill.Spill` (:meth:`append`), and
    :func:`~.messages.diff_ends` of some ids (:meth:`of`). When the ids never decrease (a sequenced
    day: each applied diff's last id at least the one before) every end of an id in ``[a, b]`` lies
    in one run of the spill, found by binary search, and only that run is read; else (ids out of
    order) the whole day's ends are read once and held."""

    def __init__(self):
        self.spill = Spill({"update_id": np.int64, "row": np.int64})
        self.in_order, self._last = True, np.iinfo(np.int64).min
        self._whole: pl.DataFrame | None = None

    def append(self, applied: pl.DataFrame) -> None:
        """Append the applied messages ``applied`` (``snapshot``, ``update_id``, ``row``): their diffs with an id."""
        diffs = applied.filter(~pl.col("snapshot") & pl.col("update_id").is_not_null())
        ids = diffs["update_id"].to_numpy()
        if len(ids):
            self.in_order = self.in_order and ids[0] >= self._last and bool(np.all(ids[1:] >= ids[:-1]))
            self._last = int(ids[-1])
        self.spill.append({"update_id": ids, "row": diffs["row"].to_numpy()})

    def _ends(self, rows: slice) -> pl.DataFrame:
        ids = self.spill.gather("update_id", rows)
        return diff_ends(pl.DataFrame({"snapshot": np.zeros(len(ids), dtype=bool), "update_id": ids,
                                       "row": self.spill.gather("row", rows)}))

    def of(self, ids: pl.Series) -> pl.DataFrame:
        """``update_id -> row`` (:func:`~.messages.diff_ends`) of at least the ids ``ids``."""
        if not self.in_order:
            if self._whole is None:
                self._whole = self._ends(slice(0, self.spill.lengths["row"]))
            return self._whole
        low, high = ids.min(), ids.max()
        if low is None:
            return self._ends(slice(0, 0))
        return self._ends(slice(self.spill.searchsorted("update_id", low, "left"),
                                self.spill.searchsorted("update_id", high, "right")))


class SpilledMessages(Protocol):
    """A reader's spilled messages, all of one symbol, in arrival order."""

    path: str  #: their file
    n: int  #: how many
    #: ``{"price"|"size": {decimals: largest mantissa written with that many decimals}}``
    mantissa_max: dict[str, dict[int, int]]

    def messages(self, rows: np.ndarray) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
        """The messages ``rows``: a :data:`MESSAGE_SCHEMA` frame (``file`` 0), each one's number of
        levels and the index of its first level."""

    def levels(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """The :data:`SCALED_LEVEL_COLUMNS` of the levels ``index`` (and ``src_row``, each level's
        own line, when the reader's levels have one)."""


def raise_mantissa_max(found: dict[str, dict[tuple[int, int], int]], level_sym: np.ndarray,
                       levels: dict[str, np.ndarray]) -> None:
    """Raise ``found[col][(s, d)]`` (``col`` ``"price"``, ``"size"``) to the largest mantissa
    ``levels[col + "_m"]`` written with ``d`` decimals (``levels[col + "_f"]``) in a level of symbol
    ``s`` (``level_sym``: each level's symbol index): a reader's summary of a block of its levels,
    the key ``s * 256 + d`` (decimals being int8)."""
    for col, by_key in found.items():
        mantissa, key = levels[f"{col}_m"], level_sym * 256 + levels[f"{col}_f"]
        for k in np.unique(key).tolist():
            s, d = divmod(k, 256)
            by_key[s, d] = max(by_key.get((s, d), 0), int(mantissa.max(where=key == k, initial=0)))


def mantissa_max_by_symbol(found: dict[str, dict[tuple[int, int], int]],
                           names: list[str]) -> dict[str, dict[str, dict[int, int]]]:
    """:func:`raise_mantissa_max`'s ``found`` as :attr:`SpilledMessages.mantissa_max` of each
    symbol: ``{names[s]: {col: {d: largest mantissa}}}`` (every symbol, decimals ascending)."""
    out = {name: {col: {} for col in found} for name in names}
    for col, by_key in found.items():
        for (s, d), m in sorted(by_key.items()):
            out[names[s]][col][d] = m
    return out


class SpilledColumns:
    """One symbol's parsed messages in a reader's :class:`~obrecon_pipeline.feeds.spill.Spill`, read
    as :class:`SpilledBook` asks (a :class:`SpilledMessages`). The spill holds every symbol's
    messages (columns ``line``, ``ts_recv``, ``count``, ``level_start`` and the reader's own) and
    levels (:data:`SCALED_LEVEL_COLUMNS`, by their index there). The symbol's message ``i`` is the
    spill's row ``i`` when every message is the symbol's, in order (``listed`` None); else the
    row ``rows_<k>[i]`` of the index spill ``listed = (index, k)``, whose ``ts_<k>`` and
    ``line_<k>`` list the same messages' receive times and lines. ``frame(columns)`` makes the
    :data:`MESSAGE_SCHEMA` frame of the gathered columns ``columns`` (``{name: values}``). The
    levels' columns are ``levels`` (``{name given: spill column}``, by default
    :data:`SCALED_LEVEL_COLUMNS` as named; a ``src_row`` among them is each level's own line)."""

    def __init__(self, spill: Spill, path: str, mantissa_max: dict[str, dict[int, int]],
                 listed: tuple[Spill, int] | None, columns: tuple[str, ...],
                 frame: Callable[[dict[str, np.ndarray]], pl.DataFrame], levels: dict[str, str] | None = None):
        self.spill, self.path, self.mantissa_max = spill, path, mantissa_max
        self._gathered, self._frame = columns, frame
        self._levels = levels or {k: k for k in SCALED_LEVEL_COLUMNS}
        #: where ``rows``, ``ts``, ``line`` of the symbol's messages are: ``(spill, column)``
        self._columns = {"rows": None, "ts": (spill, "ts_recv"), "line": (spill, "line")} if listed is None else \
            {c: (listed[0], f"{c}_{listed[1]}") for c in ("rows", "ts", "line")}
        self.n = spill.lengths["count"] if listed is None else listed[0].lengths[f"rows_{listed[1]}"]

    def search(self, column: str, value: int, side: str, lo: int, hi: int) -> int:
        """:meth:`Spill.searchsorted` of the symbol's messages' receive times (``ts``) or lines
        (``line``, sorted within a run of equal receive times) in ``[lo, hi)``."""
        spill, name = self._columns[column]
        return spill.searchsorted(name, value, side, lo, hi)

    def messages(self, rows: np.ndarray) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
        if self._columns["rows"] is not None:
            spill, name = self._columns["rows"]
            rows = spill.gather(name, rows)
        g = {c: self.spill.gather(c, rows) for c in (*self._gathered, "count", "level_start")}
        return self._frame(g), g["count"], g["level_start"]

    def levels(self, index: np.ndarray | slice) -> dict[str, np.ndarray]:
        return {k: self.spill.gather(c, index) for k, c in self._levels.items()}


class SpilledBook(BookMessages):
    """:class:`~.messages.BookMessages` over spilled messages (see the module docstring)."""

    def __init__(self, symbol: str, spilled: SpilledMessages,
                 spilled_tickers: Callable[[int], Iterator[pl.DataFrame]] | None = None, **options):
        super().__init__(symbol, **options)
        self.spilled = spilled
        #: ``spilled_tickers(size)``: the reader's parsed tickers (:data:`TICKER_SCHEMA`), read from
        #: its spill ``size`` at a time when asked (file order)
        self.spilled_tickers = spilled_tickers
        self._files[spilled.path] = 0
        self._added_at: list[int] = []  # the added messages' positions in the day

    def add_at(self, spilled_before: int, add: Callable[[], None]) -> None:
        """Call ``add()`` (which may add messages through the usual API): the messages it adds
        follow the first ``spilled_before`` spilled messages and every message added before."""
        before = self._n_added
        add()
        self._added_at.extend(range(spilled_before + before, spilled_before + self._n_added))

    @property
    def _n_added(self) -> int:
        return BookMessages.n_messages.fget(self)

    @property
    def n_messages(self) -> int:
        return self.spilled.n + self._n_added

    def _added(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The added messages (:data:`MESSAGE_SCHEMA`) and their text levels (:data:`LEVEL_SCHEMA`)."""
        msgs, lv, _ = BookMessages._merged(self)
        return msgs, lv

    def _where(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For day positions ``pos``: whether each is an added message, and its index among the
        added (if so) or the spilled messages."""
        at = np.asarray(self._added_at, dtype=np.int64)
        k = np.searchsorted(at, pos)
        added = np.zeros(len(pos), dtype=bool)
        if len(at):
            added = at[np.minimum(k, len(at) - 1)] == pos
        return added, np.where(added, k, pos - k)

    def snapshot_flags(self) -> np.ndarray:
        """Whether each message is a snapshot, read :data:`.source.BLOCK_MESSAGES` messages at a
        time (spilled snapshots too: a reader may spill them)."""
        n, step = self.n_messages, source.BLOCK_MESSAGES
        flags = np.zeros(n, dtype=bool)
        for lo in range(0, n, step):
            flags[lo:lo + step] = self._message_frame(slice(lo, min(lo + step, n)))["snapshot"].to_numpy()
        return flags

    def first_line(self) -> int | None:
        return int(self._message_frame(slice(0, 1))["src_row"][0]) if self.n_messages else None

    def _message_frame(self, index: np.ndarray | slice) -> pl.DataFrame:
        return self._rows(index)[0]

    def _rows(self, index: np.ndarray | slice):
        """``(frame, added, at, counts, level_start)`` of the messages ``index`` (see
        :meth:`_where`; ``counts`` and ``level_start`` of the spilled ones, in their order)."""
        pos = np.arange(index.start, index.stop, dtype=np.int64) if isinstance(index, slice) else index
        added, at = self._where(np.asarray(pos, dtype=np.int64))
        frame, counts, starts = self.spilled.messages(at[~added])
        if added.any():
            rank = np.cumsum(~added) - 1  # each position's row among the spilled rows, then the added
            rank[added] = len(frame) + np.arange(int(added.sum()))
            frame = pl.concat([frame, self._added()[0].gather(at[added])]).gather(rank)
        return frame, added, at, counts, starts

    @cached_property
    def _scales(self) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, int, int] | None:
        """The added messages' levels scaled (``side``, ``price``, ``size``, ``src_row``), each added
        message's number of levels and first level among them, and the price and size decimals;
        None when the checks fail (bad input: the whole day decides, :meth:`_merged`)."""
        msgs, lv = self._added()
        mm = self.spilled.mantissa_max
        written = {col: max(mm[col], default=0) for col in ("price", "size")}
        try:
            text, decimals = self._text_levels(msgs, lv, written)
        except InputError:
            return None
        for col in ("price", "size"):
            found = np.array(list(mm[col].values()), dtype=np.int64)
            if not _fits(found, np.array(list(mm[col]), dtype=np.int64), decimals[col]):
                return None
        count = np.bincount(text["msg"].to_numpy(), minlength=msgs.height).astype(np.int64)
        store = {c: text[c].to_numpy() for c in ("side", "price", "size", "src_row")}
        return store, count, np.cumsum(count) - count, decimals["price"], decimals["size"]

    def _assembled(self, msg: np.ndarray, levels: bool = True) -> tuple[_Assembly, np.ndarray]:
        """An assembly of just the messages ``msg`` (one entry per row, in their order), their
        spilled levels gathered (``levels``) and the added messages' scaled ones."""
        if self._scales is None:
            return self._whole_day._assembled(msg, levels)
        store, t_count, t_start, price_d, size_d = self._scales
        frame, added, at, counts, starts = self._rows(np.asarray(msg, dtype=np.int64))
        count = np.zeros(len(msg), dtype=np.int64)
        start = np.zeros(len(msg), dtype=np.int64)
        count[~added] = counts
        local = np.cumsum(counts) - counts  # the spilled levels gathered in row order
        n_spilled = int(counts.sum())
        start[~added] = local
        count[added], start[added] = t_count[at[added]], n_spilled + t_start[at[added]]
        if levels and n_spilled:
            scaled = self.spilled.levels(_level_index(starts, counts))
        else:
            scaled = {k: np.zeros(n_spilled if not levels else 0, dtype=dt) for k, dt in SCALED_LEVEL_COLUMNS.items()}
        lv = _Levels(count=count, start=start, scaled=scaled, text=store, price_decimals=price_d, size_decimals=size_d)
        return _Assembly(frame, lv), np.arange(len(msg), dtype=np.int64)

    @cached_property
    def _whole_day(self) -> BookMessages:
        """The whole day read into memory as the whole-day reader builds it (messages in arrival
        order, the added messages' text levels, the spilled levels): a plain book."""
        n = self.n_messages
        frame, added, _, counts, starts = self._rows(slice(0, n))
        _, lv = self._added()
        all_counts = np.zeros(n, dtype=np.int64)
        all_counts[~added] = counts
        positions = pl.Series(np.asarray(self._added_at, dtype=np.int64))
        text = lv.with_columns(msg=positions.gather(lv["msg"])) if lv.height else pl.DataFrame(schema=LEVEL_SCHEMA)
        book = BookMessages(self.symbol, self.sequencing, self.checksum, self.window, self.clear, self.names)
        book._files = dict(self._files)
        book._tables = [(frame.select(list(MESSAGE_SCHEMA)), text.select(list(LEVEL_SCHEMA)),
                         (all_counts, self.spilled.levels(_level_index(starts, counts))))]
        return book

    def _merged(self):
        return self._whole_day._merged()

    def _spilled_tickers(self) -> Iterator[pl.DataFrame]:
        """The reader's parsed tickers (:data:`TICKER_SCHEMA`), :data:`.source.BLOCK_MESSAGES` at a
        time, then those added one by one (if any): the order :meth:`tickers_frame` sorts."""
        for block in self.spilled_tickers(source.BLOCK_MESSAGES):
            yield block.select(list(TICKER_SCHEMA)).cast(TICKER_SCHEMA)
        if self.tickers:
            yield super().tickers_frame()

    def tickers_frame(self) -> pl.DataFrame:
        if self.spilled_tickers is None:
            return super().tickers_frame()
        return pl.concat(list(self._spilled_tickers())).sort(["ts_recv", "src_row"], maintain_order=True)

    def _diff_ends(self) -> _AppliedEnds:
        """The applied messages' last ids and book rows with the sequencer fed block by block
        (:data:`.source.BLOCK_MESSAGES` messages at a time): the order items are numbered as they
        come, and of each block only the applied diffs' last ids are kept, in a spill (the day's
        order and message frame are never built, nor held: a row per applied diff is written)."""
        seq = self.sequencer()
        ends, at = _AppliedEnds(), 0

        def keep(items: np.ndarray) -> None:
            nonlocal at
            slots = np.flatnonzero(items >= 0)
            frame = self._message_frame(items[slots]).select(
                "snapshot", update_id="last").with_columns(row=pl.Series(at + slots, dtype=pl.Int64))
            ends.append(frame)
            at += len(items)

        for ids in self.id_blocks(source.BLOCK_MESSAGES):
            keep(seq.feed(*ids))
        keep(seq.finish())
        return ends

    def ticker_blocks(self) -> Iterator[pl.DataFrame]:
        """:meth:`~.messages.BookMessages.ticker_blocks` read from the reader's spill a block at a
        time (:meth:`_spilled_tickers`), each placed by the applied diffs' ends
        (:meth:`_diff_ends`, found once, when the first block holds a ticker; only the ends of
        the block's ids are read, :meth:`_AppliedEnds.of`)."""
        if self.spilled_tickers is None:
            yield from super().ticker_blocks()
            return
        ends = None
        for block in self._spilled_tickers():
            if ends is None and block.height:
                ends = self._diff_ends()
            yield block.with_columns(row=pl.lit(None, pl.Int64)) if ends is None else \
                block.join(ends.of(block["update_id"]), on="update_id", how="left", maintain_order="left")

    def ticker_rows(self, sequenced: Sequenced | None = None) -> pl.DataFrame:
        """:meth:`~.messages.BookMessages.ticker_rows` from :meth:`ticker_blocks` (the sequencer
        fed block by block)."""
        if sequenced is not None or self.spilled_tickers is None:
            return super().ticker_rows(sequenced)
        return pl.concat(list(self.ticker_blocks())).sort(["ts_recv", "src_row"], maintain_order=True)

    def _level_stores(self) -> _Levels:
        return self._whole_day._level_stores()
