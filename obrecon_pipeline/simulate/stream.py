"""A day from the simulator to its two files, on both cores.

The simulator fills binary blocks (main thread, no GIL); one thread stamps the times, formats
and writes the message file, another formats and writes the orderbook file, each in block order,
so the bytes do not depend on the scheduling. Three blocks rotate: while the writers work on blocks k and k-1, the simulator fills
block k+1. Memory is these blocks and their text buffers, whatever the day's length.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from obrecon_pipeline.simulate._csv import BookText, MessageText
from obrecon_pipeline.simulate._engine import MESSAGE_FIELDS, Clock, Simulator
from obrecon_pipeline.simulate.output import StagedFile

BLOCK_BYTES = 8 << 20  #: binary orderbook rows per block: about 8 MiB
SLOTS = 3


def block_rows(levels: int) -> int:
    return max(1024, BLOCK_BYTES // (32 * levels))


def _write(out: StagedFile, text: MessageText | BookText, block: np.ndarray, rows: int) -> None:
    plain = text.format(block, rows)
    out.write(plain, text.packed if out.gzip else None)


def _write_messages(out: StagedFile, clock: Clock, text: MessageText, block: np.ndarray, rows: int) -> None:
    clock.stamp(block, rows)
    _write(out, text, block, rows)


def run(sim: Simulator, messages: StagedFile, orderbook: StagedFile) -> None:
    """Simulate the rest of the day into ``messages`` and ``orderbook`` (both plain or both gzip)."""
    levels = sim.levels
    rows = block_rows(levels)
    cap = rows + sim.block_slack
    blocks = [(np.empty((cap, MESSAGE_FIELDS), np.int64), np.empty((cap, 4 * levels), np.int64)) for _ in range(SLOTS)]
    message_text, book_text = MessageText(cap, messages.gzip), BookText(levels, cap, orderbook.gzip)
    pending: list[tuple[Future, ...]] = [()] * SLOTS
    with ThreadPoolExecutor(1, "simulate-messages") as mpool, ThreadPoolExecutor(1, "simulate-orderbook") as bpool:
        k = 0
        while not sim.done:
            for f in pending[k]:
                f.result()
            msgs, book = blocks[k]
            n = sim.fill(msgs, book, rows)
            pending[k] = (mpool.submit(_write_messages, messages, sim.clock, message_text, msgs, n),
                          bpool.submit(_write, orderbook, book_text, book, n))
            k = (k + 1) % SLOTS
        for futures in pending:
            for f in futures:
                f.result()
    for out, text in ((messages, message_text), (orderbook, book_text)):
        out.finish(text.finish() if out.gzip else b"")
