"""Mutated LOBSTER files (bytes flipped, inserted, deleted, lines duplicated or dropped, truncated)
give a result or a located InputError, never another exception (the Cython parser must never read
past a row either: a crash would end the run)."""

from __future__ import annotations

import gzip
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.lobster import load_files
from tests.conftest import LOBSTER_DAY

NAME = "AAPL_2012-06-21_34200000_57600000_{}_10.csv"
FILES = {kind: gzip.decompress((LOBSTER_DAY / (NAME.format(kind) + ".gz")).read_bytes())
         for kind in ("message", "orderbook")}

mutation = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "duplicate_line", "drop_line", "truncate"]),
    st.floats(0, 1, exclude_max=True),
    st.binary(min_size=1, max_size=3),
)


def mutate(data: bytes, how: str, where: float, junk: bytes) -> bytes:
    at = int(where * len(data))
    if not data:
        return junk if how == "insert" else data
    if how == "flip":
        return data[:at] + bytes([data[at] ^ junk[0]]) + data[at + 1:]
    if how == "insert":
        return data[:at] + junk + data[at:]
    if how == "delete":
        return data[:at] + data[at + len(junk):]
    if how == "truncate":
        return data[:at]
    lines = data.split(b"\n")
    k = int(where * len(lines))
    kept = lines[:k + 1] + lines[k:] if how == "duplicate_line" else lines[:k] + lines[k + 1:]
    return b"\n".join(kept)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["message", "orderbook"]), mutations=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_files_give_a_result_or_a_located_error(tmp_path_factory, kind, mutations):
    folder: Path = tmp_path_factory.mktemp("fuzz")
    files = dict(FILES)
    for how, where, junk in mutations:
        files[kind] = mutate(files[kind], how, where, junk)
    for k, data in files.items():
        (folder / NAME.format(k)).write_bytes(data)
    try:
        loaded = load_files(folder / NAME.format("message"))
    except InputError as err:
        assert err.path.endswith(NAME.format(kind)) or "orderbook file has" in err.reason
        assert err.row is None or 1 <= err.row <= files[kind].count(b"\n") + 2
    else:
        assert loaded.events.height == loaded.reference.shape[0] >= 1
