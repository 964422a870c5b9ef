"""Mutated LOBSTER files (bytes flipped, inserted, deleted, lines duplicated or dropped, truncated)
give a result or a located InputError, never another exception (the Cython parser must never read
past a row either: a crash would end the run). A result has one event per message line and one
orderbook row per event: the parser refuses any row it cannot read, so nothing is dropped."""

from __future__ import annotations

import gzip
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.lobster import load_files
from tests.conftest import LOBSTER_DAY
from tests.feeds.mutations import FUZZ, apply_all, mutations

NAME = "AAPL_2012-06-21_34200000_57600000_{}_10.csv"
FILES = {kind: gzip.decompress((LOBSTER_DAY / (NAME.format(kind) + ".gz")).read_bytes())
         for kind in ("message", "orderbook")}


@settings(FUZZ, max_examples=100)
@given(kind=st.sampled_from(["message", "orderbook"]), changes=mutations())
def test_mutated_files_give_a_result_or_a_located_error(tmp_path_factory, kind, changes):
    folder: Path = tmp_path_factory.mktemp("fuzz")
    files = dict(FILES)
    files[kind] = apply_all(files[kind], changes)
    for k, data in files.items():
        (folder / NAME.format(k)).write_bytes(data)
    try:
        loaded = load_files(folder / NAME.format("message"))
    except InputError as err:
        event("refused")
        assert err.path.endswith(NAME.format(kind)) or "orderbook file has" in err.reason
        assert err.row is None or 1 <= err.row <= files[kind].count(b"\n") + 2
    else:
        event("loaded")
        lines = files["message"].rstrip(b"\n").count(b"\n") + 1
        assert loaded.events.height == loaded.reference.shape[0] == lines
