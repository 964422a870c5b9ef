"""Mutated DBN files (bytes flipped, inserted, deleted, truncated; the metadata aimed at as often as
the records) give streams that load or a located InputError, never another exception. When every
stream of a file loads, each of its records is an event of one stream or a counted quarantine."""

from __future__ import annotations

import struct
from pathlib import Path

from hypothesis import event, given, settings

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.databento import discover, load
from obrecon_pipeline.feeds.dbn import MBO_DTYPE, read_body
from tests.conftest import RAW
from tests.feeds.mutations import FUZZ, apply_all, mutations

ESH4 = RAW / "databento" / "2023-12-25" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
_WHOLE = read_body(ESH4)
#: the metadata and the first 7,100 records (a whole number of records: the cut is not a mutation)
BODY = _WHOLE[: 8 + struct.unpack_from("<I", _WHOLE, 4)[0] + 7_100 * MBO_DTYPE.itemsize]


@settings(FUZZ, max_examples=100)
@given(changes=mutations(lines=False, near_start=0.002))
def test_mutated_files_load_or_give_a_located_error(tmp_path_factory, changes):
    folder: Path = tmp_path_factory.mktemp("fuzz")
    data = apply_all(BODY, changes)
    path = folder / "x.mbo.dbn"
    path.write_bytes(data)
    try:
        loaded = [load(stream) for stream in discover(folder, "2023-12-25")]
    except InputError as err:
        event("refused")
        assert err.path == str(path)
    else:
        event("loaded")
        assert loaded
        (meta_len,) = struct.unpack_from("<I", data, 4)  # as the reader took it: the file loaded
        records = (len(data) - 8 - meta_len) // MBO_DTYPE.itemsize
        events = sum(one.events.height for one in loaded)
        assert events + loaded[0].stats["unlisted_instrument_records"] == records
