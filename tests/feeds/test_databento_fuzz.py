"""Mutated DBN files (bytes flipped, inserted, deleted, truncated) give streams that load or a
located InputError, never another exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.databento import discover, load
from obrecon_pipeline.feeds.dbn import read_body
from tests.conftest import RAW

ESH4 = RAW / "databento" / "2023-12-25" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
BODY = read_body(ESH4)[:400_000]  # the metadata and the first 7,100 records

mutation = st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate"]),
                     st.one_of(st.floats(0, 0.002, exclude_max=True), st.floats(0, 1, exclude_max=True)),
                     st.binary(min_size=1, max_size=3))


def mutate(data: bytes, how: str, where: float, junk: bytes) -> bytes:
    at = int(where * len(data))
    if not data:
        return junk if how == "insert" else data
    if how == "flip":
        return data[:at] + bytes([data[at] ^ (junk[0] or 1)]) + data[at + 1:]
    if how == "insert":
        return data[:at] + junk + data[at:]
    if how == "delete":
        return data[:at] + data[at + len(junk):]
    return data[:at]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_files_load_or_give_a_located_error(tmp_path_factory, mutations):
    folder: Path = tmp_path_factory.mktemp("fuzz")
    data = BODY
    for how, where, junk in mutations:
        data = mutate(data, how, where, junk)
    path = folder / "x.mbo.dbn"
    path.write_bytes(data)
    for stream in discover(folder, "2023-12-25"):
        try:
            loaded = load(stream)
        except InputError as err:
            assert err.path == str(path)
        else:
            assert loaded.events.height + loaded.stats["unlisted_instrument_records"] <= len(data) // 56
