"""Mutated Bybit order-book history files (the shipped zip's member mutated and zipped again, or
the zip archive's own bytes mutated) load or give a located InputError, never another exception;
a file that loads has every line as a message, and every message not dropped as a counted
duplicate ends a book row."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Flag
from obrecon_pipeline.feeds import get_feed
from tests.conftest import RAW
from tests.feeds.mutations import FUZZ, apply_all, mutations

ZIP = RAW / "bybit" / "2024-12-01" / "xrpusdt-ob500.data.zip"
with zipfile.ZipFile(ZIP) as _z:
    (MEMBER,) = _z.namelist()
    DATA = _z.read(MEMBER)


def zipped(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(MEMBER, data)
    return out.getvalue()


@settings(FUZZ, max_examples=100)
@given(archive=st.booleans(), changes=mutations(near_start=0.02))
def test_mutated_history_files_load_or_give_a_located_error(tmp_path_factory, archive, changes):
    folder: Path = tmp_path_factory.mktemp("fuzz")
    path = folder / ZIP.name
    data = apply_all(DATA, [] if archive else changes)
    path.write_bytes(apply_all(ZIP.read_bytes(), changes) if archive else zipped(data))
    feed = get_feed("bybit")
    try:
        (stream,) = feed.discover(folder, "2024-12-01")
        loaded = feed.load(stream)
    except InputError as err:
        assert err.path == str(path)
        assert err.row is None or 1 <= err.row <= data.count(b"\n") + 1
    else:
        s = loaded.stats
        if not archive:  # every line is a message (a line that is not one is refused)
            assert s["messages"] == len([line for line in data.split(b"\n") if line.strip()])
        ends = int((loaded.events["flags"].to_numpy() & int(Flag.END_OF_MESSAGE) > 0).sum())
        assert ends == s["messages"] - s["duplicates"]
