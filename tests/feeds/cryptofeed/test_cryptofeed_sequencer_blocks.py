"""The stateful sequencer fed block by block (one message a block, a few, the whole day) gives the
whole-day sequencing of the shipped Binance captures, clean and edited to hold reordered,
re-sent and lost diffs (spot ``U``/``u`` and futures ``pu`` links)."""

import numpy as np
import pytest

from cfhelpers import binance_files, lines, stream, write_capture
from obrecon_pipeline.codes import NULL_ID, Link, Resync
from obrecon_pipeline.feeds.cryptofeed import load_messages
from obrecon_pipeline.feeds.l2._sequencer import Sequencer, sequence

CASES = {"BINANCE": "NKNUSDT", "BINANCE_FUTURES": "SUSHIUSDT"}


def depth_lines(ws, symbol):
    return [i for i, t in enumerate(ws) if f'"{symbol.lower()}@depth' in t]


def edited(tmp_path, venue, edit):
    """The venue's shipped capture with ``edit(lines, depth line indices)`` applied."""
    ws_path, rest_path = binance_files(venue)
    ws = lines(ws_path)
    edit(ws, depth_lines(ws, CASES[venue]))
    return [write_capture(tmp_path, ws_path, ws), rest_path]


def swap(ws, d):
    for a in (3, 40):
        (ti, bi), (tj, bj) = ws[d[a]].split(": ", 1), ws[d[a + 1]].split(": ", 1)
        ws[d[a]], ws[d[a + 1]] = f"{ti}: {bj}", f"{tj}: {bi}"


def resend(ws, d):
    ws.insert(d[25] + 1, ws[d[20]])


def lose(ws, d):
    del ws[d[30]]


EDITS = {"clean": lambda ws, d: None, "swap": swap, "resend": resend, "lose": lose}


def id_arrays(book):
    msgs = book.messages()
    ids = [np.ascontiguousarray(msgs[c].fill_null(NULL_ID).to_numpy(), dtype=np.int64)
           for c in ("first", "last", "prev")]
    return [np.ascontiguousarray(msgs["snapshot"].to_numpy(), dtype=np.int8), *ids]


@pytest.mark.parametrize("venue", CASES)
def test_blocks_sequence_the_shipped_captures_as_the_whole_day(tmp_path, venue):
    seen = {"gaps": 0, "duplicates": 0, "reordered": 0, "stale": 0, "unsynced": 0}
    for name, edit in EDITS.items():
        folder = tmp_path / name
        folder.mkdir()
        files = edited(folder, venue, edit)
        book = load_messages(stream(files, CASES[venue]))
        seq = book.sequencing
        rules = (int(Link[seq.link.upper()]), seq.sync_offset, seq.pending, int(Resync[seq.resync.upper()]))
        arrays = id_arrays(book)
        order, status, gaps, counters = sequence(*arrays, *rules)
        counts = np.bincount(status[status >= 0].astype(np.int64), minlength=6)
        n = len(arrays[0])
        for size in (1, 3, 7, n):
            s = Sequencer(*rules)
            parts = [s.feed(*(a[lo:lo + size] for a in arrays)) for lo in range(0, n, size)]
            parts.append(s.finish())
            assert np.concatenate(parts).tolist() == order.tolist(), (name, size)
            assert (s.gaps, s.counters(), s.status_counts.tolist()) == (gaps, counters, counts.tolist()), (name, size)
        for k, v in counters.items():
            seen[k] += v
    assert all(seen.values()), seen  # the edits hold every kind of disorder the sequencer counts
