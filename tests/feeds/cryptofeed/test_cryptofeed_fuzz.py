"""Mutated cryptofeed captures (a few venues: websocket-only with checksums, websocket + REST
snapshot, Bitfinex's channel sequence, Upbit's binary frames) give streams that load or a located
InputError, never another exception; no book message disappears unless it is counted: every
message read is applied, a snapshot, or counted (reordered, stale, duplicate, unsynced), and the
messages read plus the lines quarantined cover every line the mutation did not touch."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Flag
from obrecon_pipeline.feeds import get_feed
from tests.conftest import RAW
from tests.feeds.mutations import FUZZ, apply_all, lines_lost, mutations

CAPTURES = {
    "okx": ("2022-05-13", ["OKX.ws.1.0.gz"]),
    "binance": ("2021-10-12", ["BINANCE.ws.1.0.gz", "BINANCE.http.0.0.gz"]),
    "bitfinex": ("2021-04-17", ["BITFINEX.ws.11.0.gz"]),
    "upbit": ("2021-04-17", ["UPBIT.ws.62.0.gz"]),
}
TEXT = {name: gzip.decompress((RAW / "cryptofeed" / day / name).read_bytes())
        for day, names in CAPTURES.values() for name in names}
COUNTED = ("messages_applied", "messages_snapshot", "messages_reordered", "messages_stale",
           "messages_duplicate", "messages_unsynced")


def read_all(folder: Path, day: str) -> tuple[int, set]:
    """Every stream of the folder loaded: the book messages read (with those of symbols that are no
    stream because no snapshot syncs them, counted in ``symbols_without_snapshot``), the
    quarantined lines."""
    feed = get_feed("cryptofeed")
    messages, quarantined, unsynced = 0, set(), {}
    for stream in feed.discover(folder, day):
        loaded = feed.load(stream)
        s = loaded.stats
        assert s["messages"] == sum(s[k] for k in COUNTED), s
        ends = int((loaded.events["flags"].to_numpy() & int(Flag.END_OF_MESSAGE) > 0).sum())
        # rows end a message applied (in order or reordered), a snapshot, or a gap marker
        assert ends <= s["messages_applied"] + s["messages_snapshot"] + s["messages_reordered"] + len(s["gap_list"])
        messages += s["messages"]
        unsynced.update(s.get("symbols_without_snapshot", {}))
        quarantined |= {(f, row) for f, row, _ in loaded.quarantine.iter_rows()}
    return messages + sum(unsynced.values()), quarantined


def write(folder: Path, day: str, names: list[str], texts: dict[str, bytes]) -> None:
    for name in names:
        (folder / name).write_bytes(gzip.compress(texts.get(name, TEXT[name])))


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> dict[str, int]:
    out = {}
    for venue, (day, names) in CAPTURES.items():
        folder = tmp_path_factory.mktemp(venue)
        write(folder, day, names, {})
        out[venue], quarantined = read_all(folder, day)
        assert out[venue] > 0 and not quarantined
    return out


@pytest.mark.parametrize("venue", sorted(CAPTURES))
@settings(FUZZ, max_examples=25)
@given(data=st.data(), changes=mutations(near_start=0.05))
def test_mutated_captures_load_or_give_a_located_error(tmp_path_factory, shipped, venue, data, changes):
    day, names = CAPTURES[venue]
    name = data.draw(st.sampled_from(names), label="file")
    text = apply_all(TEXT[name], changes)
    folder = tmp_path_factory.mktemp("fuzz")
    write(folder, day, names, {name: text})
    try:
        messages, quarantined = read_all(folder, day)
    except InputError as err:
        named = Path(err.path).name
        assert named in names
        # the row is one of the file the error names (a cut REST snapshot is blamed on the websocket
        # capture's first book message that nothing can sync)
        assert err.row is None or 1 <= err.row <= (text if named == name else TEXT[named]).count(b"\n") + 1
    else:
        assert messages + len(quarantined) >= shipped[venue] - lines_lost(TEXT[name], text)


def test_a_receive_time_beyond_int64_is_a_quarantined_line(tmp_path):
    """Found by the fuzz test: digits inserted into a line's receive time overflowed int64 ns and
    ended the load with a polars traceback; the line is now quarantined, located, and counted."""
    day, (name,) = CAPTURES["bitfinex"]
    feed = get_feed("cryptofeed")
    write(tmp_path, day, [name], {})
    stream = feed.discover(tmp_path, day)[0]
    before = feed.load(stream)
    row = int(before.events.filter(pl.col("flags") & int(Flag.SNAPSHOT) == 0)["src_row"][-1])  # an update message
    lines = TEXT[name].split(b"\n")
    ts = lines[row - 1].split(b":", 1)[0]
    lines[row - 1] = b"1" + ts.replace(b".", b"0.", 1) + lines[row - 1][len(ts):]  # ~1.2e12 s: beyond 2262
    write(tmp_path, day, [name], {name: b"\n".join(lines)})
    after = feed.load(stream)
    text = lines[row - 1].split(b":", 1)[0].decode()
    assert after.quarantine.rows() == [(str(tmp_path / name), row, f"receive time {text} s is beyond the 64-bit nanosecond range")]
    assert after.stats["quarantined"] == 1 and after.stats["messages"] == before.stats["messages"] - 1
